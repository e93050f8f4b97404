"""Real runs of ``mammobench run`` (a subprocess of the console script) for tests that need a pipeline's report.

Each call runs the CLI once per (profile, output folder) with its own cache folder
(``MAMMOBENCH_CACHE``), offline and with a fixed hash seed, and returns the run folder.

Example:
    >>> run_cli_profile.__name__
    'run_cli_profile'
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli_profile(profile: str, out: Path, cache: Path, timeout: int = 1800) -> Path:
    """Run ``mammobench run --profile <profile> --out <out>`` and return ``out/vc_lesion-<profile>``."""
    env = dict(os.environ, MAMMOBENCH_CACHE=str(cache), PYTHONHASHSEED="0", MAMMOBENCH_OFFLINE="1")
    cmd = [sys.executable, "-m", "mammobench.cli", "run", "--profile", profile, "--out", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return Path(out) / f"vc_lesion-{profile}"
