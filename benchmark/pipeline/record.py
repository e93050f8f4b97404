"""Provenance of a run and the assembly of ``result.json`` (schema in :mod:`mammobench.results`).

The code version and environment come from :mod:`mammobench.environment` (the one collector).

Example:
    >>> timer = StageTimer()
    >>> with timer.stage("fit"):
    ...     pass
    >>> list(timer.timings)
    ['fit']
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from mammobench.environment import code_version, environment
from mammobench.io import sha256_file

logger = logging.getLogger(__name__)


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished, reaped child processes.

    A stage's CPU time is the budget proxy on a shared machine: wall time depends on who else runs,
    CPU time much less. Worker pools count once they have been shut down (their children reaped).
    """
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class StageTimer:
    """Times named stages (wall and CPU seconds) and logs their start and end
    (``stage: message`` / ``stage: done in 1.2s (CPU 2.3s)``).

    ``timings`` holds wall seconds per stage (result.json ``timings``), ``cpu_timings`` the CPU seconds
    of this process and its reaped children (result.json ``cpu_timings``).

    The CLI's log format prefixes every line with the elapsed time (:mod:`mammobench.progress`).
    """

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.cpu_timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, message: str = "") -> Iterator[None]:
        logger.info(f"{name}: {message or 'start'}")
        t0, c0 = time.perf_counter(), cpu_seconds()
        yield
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t0, 3)
        self.cpu_timings[name] = round(self.cpu_timings.get(name, 0.0) + cpu_seconds() - c0, 3)
        logger.info(f"{name}: done in {self.timings[name]:.1f}s (CPU {self.cpu_timings[name]:.1f}s)")


def cohort_record(task_adapter: str, root: Path, manifest, flow: list, splits: dict) -> dict[str, Any]:
    """The ``cohort`` block of result.json."""
    from mammobench.data.splits import manifest_sha256

    cohort_json = root / "cohort.json"
    return {"adapter": task_adapter, "root": str(root), "manifest_sha256": manifest_sha256(manifest),
            "cohort_sha256": sha256_file(cohort_json) if cohort_json.is_file() else "",
            "n_images": int(len(manifest)), "n_patients": int(manifest["patient_id"].nunique()),
            "flow": flow, "splits": splits}


def build_result(spec, *, config_sha: str, seeds: list[int], arms: list[dict], cohort: dict, plan_sha: str,
                 evaluation: dict, audits: list[dict], timings: dict, predictions: dict) -> dict[str, Any]:
    """Assemble a result mapping of the current schema for a :class:`~mammobench.pipeline.spec.RunSpec`
    (validated by the caller through ``write_result``)."""
    from mammobench.results import minimal_result

    task = spec.task
    result = minimal_result(spec.run_dir.name)
    result.update({
        "simulated": task.dataset.adapter == "virtual_cohort",
        "benchmark": code_version(),
        "task": {"name": task.task, "version": task.version, "config_sha256": config_sha, "kind": "image_label",
                 "positive": list(task.target.positive), "description": task.description,
                 "primary_metric": task.metrics.primary},
        "cohort": cohort,
        "analysis_plan": {"sha256": plan_sha, "path": "analysis_plan.json", "written_before_test_read": True},
        "profile": spec.profile, "profile_settings": spec.settings.to_dict(), "seeds": list(seeds), "arms": arms,
        "environment": environment(spec.execution.device), "audits": audits, "timings": timings,
        "predictions": predictions,
    })
    for key in ("metrics", "comparisons", "fairness", "interactions"):
        result[key] = list(evaluation.get(key, []))
    if "detection" in evaluation:  # lesion detection: hit rule, FPI points, validation thresholds
        result["task"]["kind"] = "lesion_detection"
        result["detection"] = evaluation["detection"]
    return result
