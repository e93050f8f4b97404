"""The image-cache benchmark (``mammobench perf --only cache``) builds its cache in parallel and reports
consistent fields. How much faster cache reads are is a perf figure, not a test assertion."""
from __future__ import annotations

import pytest

from mammobench.perf.cache_bench import benchmark_cache


def test_cache_benchmark_builds_in_parallel_and_reports_rates(tmp_path):
    figures = benchmark_cache(tmp_path, n_images=12, source_size=128, cache_size=32, workers=2, epochs=1)
    assert figures["n_images"] == 12 and figures["workers"] == 2 and figures["cache_size"] == 32
    assert figures["decode_images_per_s"] > 0 and figures["cache_images_per_s"] > 0
    assert figures["speedup"] == pytest.approx(figures["cache_images_per_s"] / figures["decode_images_per_s"],
                                               rel=0.01)
    assert len(list((tmp_path / "cache_32").glob("*"))) > 0
