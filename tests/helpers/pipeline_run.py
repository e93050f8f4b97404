"""Real runs of ``mammobench run`` (a subprocess of the console script) for tests that need a pipeline's report.

Each call runs the CLI once per (profile, output folder) with its own cache folder
(``MAMMOBENCH_CACHE``), offline and with a fixed hash seed, and returns the run folder.
:func:`shared_run` makes a run once per test session for every pytest-xdist worker.

Example:
    >>> run_cli_profile.__name__
    'run_cli_profile'
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable


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


def run_metrics(run_dir: Path):
    """The numbers of a run's result.json (metrics + comparisons) as a sorted frame, for run-to-run comparison."""
    import pandas as pd

    from mammobench.results import load_result

    result = load_result(run_dir)
    cols = ["metric", "split", "arm", "attribute", "group", "value", "ci_low", "ci_high", "n", "n_pos"]
    frame = pd.DataFrame(result["metrics"]).reindex(columns=cols)
    return frame.astype(str).sort_values(cols).reset_index(drop=True)


def run_cli_profile(profile: str, out: Path, cache: Path, timeout: int = 1800) -> Path:
    """Run ``mammobench run --profile <profile> --out <out>`` and return ``out/vc_lesion-<profile>``."""
    run_profile(profile, out, cache, timeout=timeout)
    return Path(out) / f"vc_lesion-{profile}"


def shared_run(out: Path, make: Callable[[Path], subprocess.CompletedProcess]) -> subprocess.CompletedProcess:
    """``make(out)`` once per test session, under a file lock beside ``out``; later callers reuse its output.

    The first pytest-xdist worker that asks makes the run, the others wait for the lock and read the
    record of the finished run (its command, stdout and stderr).

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "runs"
        >>> ok = lambda o: subprocess.CompletedProcess(["x"], 0, "made", "")
        >>> shared_run(out, ok).stdout, shared_run(out, lambda o: None).stdout
        ('made', 'made')
    """
    from filelock import FileLock

    record = Path(str(out) + ".json")
    with FileLock(str(out) + ".lock"):
        if not record.is_file():
            done = make(out)
            record.write_text(json.dumps({"args": [str(a) for a in done.args], "stdout": done.stdout,
                                          "stderr": done.stderr}))
    saved = json.loads(record.read_text())
    return subprocess.CompletedProcess(saved["args"], 0, saved["stdout"], saved["stderr"])


#: what a run folder holds once its cells have been computed: left out by :func:`copy_before_cells`
AFTER_CELLS = ("cells", "predictions.csv", "result.json", "report.html", "report.json", "report.md", "figures",
               "manifest.json", "manifest.sig", ".lock")


def copy_before_cells(run_dir: Path, parent: Path) -> Path:
    """A copy of a finished run folder as it was when its cells stage began, as ``parent/<run folder name>``.

    Data, frozen analysis plan, synthetic sets, samples and audits are kept, so ``mammobench run`` with the same
    settings and ``--out parent`` resumes it at its cells (skipping the generators and audits, which are the
    same for every executor); the cells, results, report and signature are left out and made again.

    Example:
        >>> import tempfile
        >>> src = Path(tempfile.mkdtemp()) / "vc_lesion-smoke"
        >>> (src / "cells" / "a").mkdir(parents=True); (src / "data").mkdir()
        >>> _ = (src / "analysis_plan.json").write_text("{}"); _ = (src / "result.json").write_text("{}")
        >>> sorted(p.name for p in copy_before_cells(src, Path(tempfile.mkdtemp())).iterdir())
        ['analysis_plan.json', 'data']
    """
    import shutil

    dest = Path(parent) / Path(run_dir).name
    shutil.copytree(run_dir, dest, ignore=lambda folder, names: [n for n in names if Path(folder) == Path(run_dir)
                                                                 and n in AFTER_CELLS])
    return dest
