"""End-to-end wall time of a suite run, by stage, read from the runs' ``result.json`` ``timings``.

Either an existing run folder is read (``--run-dir``), or ``mammobench run --profile <profile>`` is
started in a child process writing into a scratch folder, and its result files are read. The peak
resident memory of the child's whole process tree is sampled while it runs (``peak_rss_mb``). The
``timings`` stop at ``result.json`` (report rendering and signing come after it), so ``wall_s`` of
a fresh run is larger than the sum of the stages.

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

from mammobench.errors import ConfigError, MammoBenchError


def stage_timings(run_dirs: list[Path]) -> dict[str, float]:
    """Sum of each stage's seconds over the ``result.json`` of the given run folders.

    Raises:
        ConfigError: a folder has no ``result.json`` (a run that has not finished).

    Example:
        >>> stage_timings([])
        {}
    """
    from mammobench.results import load_result

    total: dict[str, float] = {}
    for run_dir in run_dirs:
        path = Path(run_dir) / "result.json"
        if not path.is_file():
            raise ConfigError(f"--run-dir {run_dir}: no result.json there; give a finished run folder "
                              "(runs/<run_id>) or drop --run-dir to time a smoke run")
        for stage, seconds in (load_result(path).get("timings") or {}).items():
            total[stage] = round(total.get(stage, 0.0) + float(seconds), 3)
    return total


def _tree_rss_mb(proc) -> float:
    """Resident memory (MiB) of a psutil process and all its descendants (0 when it has exited)."""
    import psutil

    total = 0
    try:
        for p in [proc, *proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        return 0.0
    return total / 2**20


def run_suite(profile: str, workdir: Path, timeout_s: float) -> tuple[float, list[Path], float]:
    """Run ``mammobench run --profile PROFILE`` in a child process.

    Returns:
        wall seconds, the run folders, and the peak resident memory (MiB) of the child's process
        tree, sampled every 0.2 s.

    Raises:
        MammoBenchError: the run failed or timed out (the message holds the tail of its output).
    """
    import psutil

    cmd = [sys.executable, "-m", "mammobench.cli", "run", "--profile", profile, "--out", str(workdir / "runs"),
           "--cohort", str(workdir / "cohort")]
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"e2e-{profile}.log"
    t0, peak = time.perf_counter(), 0.0
    with open(log, "w", encoding="utf-8") as out:
        proc = psutil.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        while proc.poll() is None:
            peak = max(peak, _tree_rss_mb(proc))
            if time.perf_counter() - t0 > timeout_s:
                proc.kill()
                proc.wait()
                raise MammoBenchError(f"e2e: `{' '.join(cmd[2:])}` did not finish in {timeout_s:.0f}s (log: {log})")
            time.sleep(0.2)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        raise MammoBenchError(f"e2e: `{' '.join(cmd[2:])}` exited {proc.returncode}: " + " | ".join(tail))
    return wall, sorted(p.parent for p in (workdir / "runs").glob("*/result.json")), round(peak, 1)


def bench_e2e(*, profile: str = "smoke", run_dir: str | os.PathLike | None = None,
              workdir: str | os.PathLike | None = None, timeout_s: float = 1800.0) -> dict:
    """Stage timings of a finished run (``run_dir``) or of a fresh ``profile`` run in ``workdir``.

    Returns:
        ``stages`` {stage: seconds}, ``stage_total_s``, ``wall_s`` and ``peak_rss_mb`` (process-tree
        peak of the child run; both None for an existing run), ``runs`` (folders read), ``profile``.
    """
    if run_dir is not None:
        root = Path(run_dir)
        runs = [root] if (root / "result.json").is_file() else sorted(p.parent for p in root.glob("*/result.json"))
        if not runs:
            raise ConfigError(f"--run-dir {root}: no result.json in it or in its sub-folders; "
                              "give a finished run folder")
        wall, profile, peak = None, "existing run", None
    else:
        if workdir is None:
            raise ConfigError("bench_e2e: give run_dir or a scratch workdir")
        wall, runs, peak = run_suite(profile, Path(workdir), timeout_s)
    stages = stage_timings(runs)
    return {"profile": profile, "runs": [str(r) for r in runs], "stages": stages,
            "stage_total_s": round(sum(stages.values()), 3), "wall_s": None if wall is None else round(wall, 2),
            "peak_rss_mb": peak}
