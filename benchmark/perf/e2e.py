"""End-to-end wall time of a suite run, by stage, read from the runs' ``result.json`` ``timings``.

Either an existing run folder is read (``--run-dir``), or ``mammobench run --profile <profile>`` is
started in a child process writing into a scratch folder, and its result files are read. The child's
peak memory shows up in :func:`benchmark.perf.machine.peak_memory_mb` (``children_peak_rss_mb``).

Example:
    >>> # bench_e2e(profile="smoke", workdir="/tmp/e2e")["stages"]
    >>> # {'cohort': 12.1, 'cache': 3.4, 'generators': 20.5, 'cells': 40.2, ...}
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from benchmark.errors import ConfigError, MammoBenchError


def stage_timings(run_dirs: list[Path]) -> dict[str, float]:
    """Sum of each stage's seconds over the ``result.json`` of the given run folders.

    Raises:
        ConfigError: a folder has no ``result.json`` (a run that has not finished).

    Example:
        >>> stage_timings([])
        {}
    """
    from benchmark.results import load_result

    total: dict[str, float] = {}
    for run_dir in run_dirs:
        path = Path(run_dir) / "result.json"
        if not path.is_file():
            raise ConfigError(f"--run-dir {run_dir}: no result.json there; give a finished run folder "
                              "(runs/<run_id>) or drop --run-dir to time a smoke run")
        for stage, seconds in (load_result(path).get("timings") or {}).items():
            total[stage] = round(total.get(stage, 0.0) + float(seconds), 3)
    return total


def run_suite(profile: str, workdir: Path, timeout_s: float) -> tuple[float, list[Path]]:
    """Run ``mammobench run --profile PROFILE`` in a child process; return wall seconds and run folders.

    Raises:
        MammoBenchError: the run failed or timed out (the message holds the tail of its output).
    """
    cmd = [sys.executable, "-m", "benchmark.cli", "run", "--profile", profile, "--out", str(workdir / "runs"),
           "--cohort", str(workdir / "cohort")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired as err:
        raise MammoBenchError(f"e2e: `{' '.join(cmd[2:])}` did not finish in {timeout_s:.0f}s") from err
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
        raise MammoBenchError(f"e2e: `{' '.join(cmd[2:])}` exited {proc.returncode}: " + " | ".join(tail))
    runs = sorted(p.parent for p in (workdir / "runs").glob("*/result.json"))
    return wall, runs


def bench_e2e(*, profile: str = "smoke", run_dir: str | os.PathLike | None = None,
              workdir: str | os.PathLike | None = None, timeout_s: float = 1800.0) -> dict:
    """Stage timings of a finished run (``run_dir``) or of a fresh ``profile`` run in ``workdir``.

    Returns:
        ``stages`` {stage: seconds}, ``stage_total_s``, ``wall_s`` (None for an existing run),
        ``runs`` (folders read) and ``profile``.
    """
    if run_dir is not None:
        root = Path(run_dir)
        runs = [root] if (root / "result.json").is_file() else sorted(p.parent for p in root.glob("*/result.json"))
        if not runs:
            raise ConfigError(f"--run-dir {root}: no result.json in it or in its sub-folders; "
                              "give a finished run folder")
        wall, profile = None, "existing run"
    else:
        if workdir is None:
            raise ConfigError("bench_e2e: give run_dir or a scratch workdir")
        wall, runs = run_suite(profile, Path(workdir), timeout_s)
    stages = stage_timings(runs)
    return {"profile": profile, "runs": [str(r) for r in runs], "stages": stages,
            "stage_total_s": round(sum(stages.values()), 3), "wall_s": None if wall is None else round(wall, 2)}
