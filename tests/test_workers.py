"""Default worker counts (mammobench.workers): usable cores, the stage's ceiling, ``MAMMOBENCH_WORKERS``; a
count the user gives is never capped; ``--executor auto`` runs in this process when one worker is all it gets."""
from __future__ import annotations

import os

import pytest

from mammobench.errors import ConfigError
from mammobench.pipeline.executors import resolve_executor
from mammobench.workers import WORKERS_ENV, default_workers, usable_cpus


@pytest.fixture
def cores(monkeypatch):
    """Pretend this process may run on ``n`` cores (of a larger machine)."""
    monkeypatch.setattr(os, "cpu_count", lambda: 64)

    def set_cores(n: int) -> None:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(n)))
    return set_cores


def test_usable_cores_are_the_affinity_not_the_machine(cores):
    cores(3)
    assert usable_cpus() == 3


def test_default_is_usable_cores_at_most_the_limit_and_the_cap(cores, monkeypatch):
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    cores(2)
    assert default_workers() == 2 and default_workers(limit=1) == 1
    cores(16)
    assert default_workers() == 4 and default_workers(limit=8) == 8
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert default_workers() == 3 and default_workers(limit=2) == 2
    cores(1)
    assert default_workers() == 1


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_cap_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv(WORKERS_ENV, value)
    with pytest.raises(ConfigError, match=f"{WORKERS_ENV}=.*positive integer"):
        default_workers()


def test_auto_executor_follows_the_default_and_explicit_counts_are_kept(cores, monkeypatch):
    cores(8)
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    assert resolve_executor("auto", None, "cpu") == ("process", 4)
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert resolve_executor("auto", None, "cpu") == ("local", 1)  # a pool of one would only add a process
    assert resolve_executor("auto", 3, "cpu") == ("process", 3)  # --workers 3 is the user's
    assert resolve_executor("process", None, "cpu") == ("process", 1)
    assert resolve_executor("process", 2, "cpu") == ("process", 2)
