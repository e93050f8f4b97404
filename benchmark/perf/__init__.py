"""``mammobench perf``: the performance suite (throughput, speed ratios vs baselines, peak memory).

Modules: :mod:`~mammobench.perf.suite` (the benchmarks and their figures), :mod:`~mammobench.perf.runner`
(run them, JSON schema, table), :mod:`~mammobench.perf.compare` (two results side by side),
:mod:`~mammobench.perf.machine` (machine info, load, peak memory), and the measurements written here:
:mod:`~mammobench.perf.training_bench`, :mod:`~mammobench.perf.generator_bench`, :mod:`~mammobench.perf.e2e`,
:mod:`~mammobench.perf.stats_bench`, :mod:`~mammobench.perf.cache_bench`. The simulator's throughput lives with
the simulator (``mammobench.simulator.throughput``).

Example:
    >>> from mammobench.perf import BENCHMARKS
    >>> "detector_training" in BENCHMARKS
    True
"""
from __future__ import annotations

from mammobench.perf.suite import BENCHMARKS

__all__ = ["BENCHMARKS"]
