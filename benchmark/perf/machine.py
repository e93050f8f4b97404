"""What a perf result was measured on: machine, load, library versions, code version, peak memory.

Figures from two machines (or one machine under different load) are not comparable; this record
travels with every perf JSON so :mod:`mammobench.perf.compare` can say so.

Example:
    >>> info = machine_info()
    >>> info["cpu_count"] >= 1 and "torch" in info["versions"]
    True
"""
from __future__ import annotations

import os
import platform
import resource
import sys
from typing import Any

from mammobench.environment import git_sha, package_versions
from mammobench.workers import usable_cpus

IDLE_LOAD_PER_CPU = 0.5  # a 1-min load average below half a process per usable CPU counts as idle


def load_average() -> list[float] | None:
    """1-, 5- and 15-minute load averages (None where the OS has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere; '' if unknown).

    Example:
        >>> isinstance(cpu_model(), str)
        True
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine_info() -> dict[str, Any]:
    """CPU model and count, torch threads, device, platform, versions, git sha and the current load average."""
    import torch

    from mammobench.torchutil import resolve_device

    device = resolve_device("auto").type
    usable = usable_cpus()
    return {"hostname": platform.node(), "platform": platform.platform(), "processor": platform.processor(),
            "cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "usable_cpus": usable,
            "torch_threads": torch.get_num_threads(),
            "device": device, "cuda_device": torch.cuda.get_device_name(0) if device == "cuda" else None,
            "memory_gb": _total_memory_gb(), "versions": {"python": platform.python_version(), **package_versions()},
            "git_sha": git_sha(), "python_executable": sys.executable, "load_average": load_average()}


def _total_memory_gb() -> float | None:
    try:
        import psutil

        return round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover
        return None


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory (MiB) of this process, of its largest finished child, and current RSS.

    ``ru_maxrss`` is in KiB on Linux and bytes on macOS.

    Example:
        >>> peak_memory_mb()["self_peak_rss_mb"] > 0
        True
    """
    scale = 1 / 2**20 if sys.platform == "darwin" else 1 / 1024
    out = {"self_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, 1),
           "children_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale, 1)}
    try:
        import psutil

        out["current_rss_mb"] = round(psutil.Process().memory_info().rss / 2**20, 1)
    except ImportError:  # pragma: no cover
        pass
    return out


def load_condition(result: dict) -> str:
    """``"idle"`` or ``"under load"`` from the load average at the start and end of the run.

    Idle means both 1-minute load averages were below :data:`IDLE_LOAD_PER_CPU` × usable CPUs plus
    the one process the perf run itself keeps busy at the end.

    Example:
        >>> load_condition({"machine": {"usable_cpus": 2, "load_average": [0.3, 0.2, 0.2]},
        ...                 "load_average_end": [1.1, 0.5, 0.3]})
        'idle'
    """
    machine = result.get("machine") or {}
    cpus = machine.get("usable_cpus") or machine.get("cpu_count") or 1
    start, end = machine.get("load_average"), result.get("load_average_end")
    if not start:
        return "unknown load"
    limit = IDLE_LOAD_PER_CPU * cpus
    idle = start[0] < limit and (not end or end[0] < limit + 1.0)
    return "idle" if idle else "under load"
