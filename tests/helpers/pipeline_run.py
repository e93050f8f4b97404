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


def cli_env(cache: Path, extra_path: Path | None = None) -> dict[str, str]:
    """The environment of a test's CLI run: its own cache folder, fixed hash seed, offline."""
    env = dict(os.environ, MAMMOBENCH_CACHE=str(cache), PYTHONHASHSEED="0", MAMMOBENCH_OFFLINE="1")
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
    return env


def run_profile(profile: str, out: Path, cache: Path, *extra: str, extra_path: Path | None = None,
                timeout: int = 900) -> subprocess.CompletedProcess:
    """``mammobench run --profile <profile> --out <out> <extra…>``; fails the test with the run's output on error."""
    cmd = [sys.executable, "-m", "mammobench.cli", "run", "--profile", profile, "--out", str(out), *extra]
    done = subprocess.run(cmd, env=cli_env(cache, extra_path), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return done


def run_smoke(out: Path, cache: Path, *extra: str, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    """:func:`run_profile` at the smoke profile."""
    return run_profile("smoke", out, cache, *extra, extra_path=extra_path)


def run_cli_profile(profile: str, out: Path, cache: Path, timeout: int = 1800) -> Path:
    """Run ``mammobench run --profile <profile> --out <out>`` and return ``out/vc_lesion-<profile>``."""
    run_profile(profile, out, cache, timeout=timeout)
    return Path(out) / f"vc_lesion-{profile}"
