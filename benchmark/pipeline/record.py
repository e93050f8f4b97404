"""Provenance of a run and the assembly of ``result.json`` (schema in :mod:`mammobench.results`).

Example:
    >>> env = environment("cpu")
    >>> sorted(k for k in env if k in ("python", "torch", "device"))
    ['device', 'python', 'torch']
"""
from __future__ import annotations

import os
import platform
import subprocess
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator

from mammobench import __version__
from mammobench.io import sha256_file

PACKAGES = ("torch", "timm", "numpy", "pandas", "scipy", "scikit-learn", "statsmodels", "fairlearn", "pydicom",
            "ray")


def git_sha() -> str:
    """The checkout's commit (``''`` outside a git checkout), with ``-dirty`` when files changed."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{sha}-dirty" if sha and dirty else sha


def environment(device: str) -> dict[str, Any]:
    """Python, platform, package versions, device and CPU count."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    env = {"python": platform.python_version(), "platform": platform.platform(), "device": device,
           "cpu_count": os.cpu_count() or 1, "packages": versions,
           "torch": versions.get("torch", ""), "timm": versions.get("timm", "")}
    if device == "cuda":
        import torch

        env["gpu"] = torch.cuda.get_device_name(0)
    return env


class StageTimer:
    """Times named stages and prints progress lines (``[12.3s] stage: message``) to a log function."""

    def __init__(self, log: Callable[[str], None]):
        self.log = log
        self.start = time.perf_counter()
        self.timings: dict[str, float] = {}

    def say(self, message: str) -> None:
        self.log(f"[{time.perf_counter() - self.start:6.1f}s] {message}")

    @contextmanager
    def stage(self, name: str, message: str = "") -> Iterator[None]:
        self.say(f"{name}: {message or 'start'}")
        t0 = time.perf_counter()
        yield
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t0, 3)
        self.say(f"{name}: done in {self.timings[name]:.1f}s")


def cohort_record(task_adapter: str, root: Path, manifest, flow: list, splits: dict) -> dict[str, Any]:
    """The ``cohort`` block of result.json."""
    from mammobench.data.splits import manifest_sha256

    cohort_json = root / "cohort.json"
    return {"adapter": task_adapter, "root": str(root), "manifest_sha256": manifest_sha256(manifest),
            "cohort_sha256": sha256_file(cohort_json) if cohort_json.is_file() else "",
            "n_images": int(len(manifest)), "n_patients": int(manifest["patient_id"].nunique()),
            "flow": flow, "splits": splits}


def build_result(*, run_id: str, task, config_sha: str, profile: str, seeds: list[int], arms: list[dict],
                 cohort: dict, plan_sha: str, evaluation: dict, audits: list[dict], timings: dict,
                 predictions: dict, device: str, settings: dict) -> dict[str, Any]:
    """Assemble a schema-1.0 result mapping (validated by the caller through ``write_result``)."""
    from mammobench.results import minimal_result

    result = minimal_result(run_id)
    result.update({
        "simulated": task.dataset.adapter == "virtual_cohort",
        "benchmark": {"version": __version__, "git_sha": git_sha()},
        "task": {"name": task.task, "version": task.version, "config_sha256": config_sha, "kind": "image_label",
                 "positive": list(task.target.positive), "description": task.description,
                 "primary_metric": task.metrics.primary},
        "cohort": cohort,
        "analysis_plan": {"sha256": plan_sha, "path": "analysis_plan.json", "written_before_test_read": True},
        "profile": profile, "profile_settings": settings, "seeds": list(seeds), "arms": arms,
        "environment": environment(device), "audits": audits, "timings": timings, "predictions": predictions,
    })
    for key in ("metrics", "comparisons", "fairness", "interactions"):
        result[key] = list(evaluation.get(key, []))
    if "detection" in evaluation:  # lesion detection: hit rule, FPI points, validation thresholds
        result["task"]["kind"] = "lesion_detection"
        result["detection"] = evaluation["detection"]
    return result
