"""How many worker processes MammoBench starts when the user does not say.

Three stages can fan out over spawned processes: the virtual-cohort simulator, the image-cache decoder and the
grid's cells (``--executor auto``). Each spawned worker first imports its libraries (a cell worker imports torch
and timm: about 4 CPU-seconds), so a pool pays only when the cores it gets are free. The default is one worker
per core this process may run on (its CPU affinity, which a container or ``taskset`` narrows; not the machine's
core count), at most 4. ``MAMMOBENCH_WORKERS=N`` caps that default: set it where the cores are already busy
(a batch scheduler's slot, a CI job running other work beside MammoBench, the test suite's pytest-xdist
workers: tests/conftest.py sets 1). A count the user gives (``--workers``, ``make_cohort(workers=…)``) is
never capped.

Example:
    >>> usable_cpus() >= 1
    True
    >>> default_workers(limit=1)
    1
"""
from __future__ import annotations

import os

from mammobench.errors import ConfigError

__all__ = ["WORKERS_ENV", "default_workers", "usable_cpus"]

#: environment variable capping the default worker count (a positive integer)
WORKERS_ENV = "MAMMOBENCH_WORKERS"


def usable_cpus() -> int:
    """The cores this process may run on: its CPU affinity on Linux, else the machine's core count.

    Example:
        >>> usable_cpus() <= (os.cpu_count() or 1)
        True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_workers(limit: int = 4) -> int:
    """Worker processes for a pool the user did not size: usable cores, at most ``limit`` and ``$MAMMOBENCH_WORKERS``.

    Args:
        limit: the stage's own ceiling (4: more simulator, decoding or cell workers than that gained little on
            the machines measured, and each holds its own copy of the inputs in memory).

    Raises:
        ConfigError: ``MAMMOBENCH_WORKERS`` is set but is not a positive integer.

    Example:
        >>> 1 <= default_workers() <= 4
        True
    """
    count = min(int(limit), usable_cpus())
    cap = os.environ.get(WORKERS_ENV, "").strip()
    if cap:
        if not cap.isdigit() or int(cap) < 1:
            raise ConfigError(f"{WORKERS_ENV}={cap!r}: must be a positive integer (the most worker processes a "
                              "stage starts by default), or unset")
        count = min(count, int(cap))
    return max(1, count)
