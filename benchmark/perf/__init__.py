"""``mammobench perf``: the performance suite (throughput, speed ratios vs baselines, peak memory).

Modules: :mod:`~benchmark.perf.suite` (the benchmarks and their figures), :mod:`~benchmark.perf.runner`
(run them, JSON schema, table), :mod:`~benchmark.perf.compare` (two results side by side),
:mod:`~benchmark.perf.machine` (machine info, load, peak memory), and the measurements written here:
:mod:`~benchmark.perf.training_bench`, :mod:`~benchmark.perf.generator_bench`, :mod:`~benchmark.perf.e2e`,
:mod:`~benchmark.perf.stats_bench`. Other measurements live with what they measure
(``benchmark.simulator.throughput``, ``benchmark.data.cache_bench``).

Example:
    >>> from benchmark.perf import BENCHMARKS
    >>> "detector_training" in BENCHMARKS
    True
"""
from __future__ import annotations

from benchmark.perf.suite import BENCHMARKS

__all__ = ["BENCHMARKS"]
