"""Simulator throughput measurement (used by ``mammobench perf`` and docs/simulator.md).

Example:
    >>> r = throughput(n_images=2, size=64, workers=1)
    >>> r["n_images"], r["images_per_s"] > 0
    (2, True)
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time

import numpy as np

from mammobench.errors import ConfigError


def _render(args: tuple) -> tuple[float, float]:
    """Render one case; (wall seconds, CPU seconds of this process) spent on it."""
    from mammobench.simulator.phantom import simulate_image

    spec, size, seed = args
    start, cpu = time.perf_counter(), time.process_time()
    simulate_image(spec, size=size, seed=seed)
    return time.perf_counter() - start, time.process_time() - cpu


def limit_threads() -> None:
    """Pin BLAS/OpenMP pools to one thread (one process per core is faster for this workload)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        pass


def throughput(n_images: int = 200, size: int = 256, workers: int = 2, seed: int = 0) -> dict:
    """Render ``n_images`` random cases and report images per second (wall clock, all workers).

    ``cpu_images_per_s`` is what the workers reach when each has a core to itself: ``workers`` ÷
    the mean CPU seconds one image takes. It hardly moves when other jobs share the machine, so it
    is the figure compared with the target (50 images/s at 256² with 2 workers); ``images_per_s``
    is the wall-clock figure of this run, which does.

    Returns:
        dict with ``images_per_s``, ``images_per_min``, ``cpu_images_per_s``, ``ms_per_image_per_worker``
        (wall), ``cpu_ms_per_image``, ``n_images``, ``size``, ``workers``, ``seconds``.
    """
    from mammobench.simulator.spec import sample_case

    if n_images < 1 or workers < 1:
        raise ConfigError(f"throughput: n_images={n_images} and workers={workers} must be ≥ 1")
    rng = np.random.default_rng(seed)
    jobs = [(sample_case(rng), size, seed * 1_000_003 + i) for i in range(n_images)]
    start = time.perf_counter()
    if workers == 1:
        per_image = [_render(job) for job in jobs]
    else:
        from mammobench.lifetime import WorkerInit

        with mp.get_context("spawn").Pool(workers, initializer=WorkerInit(limit_threads)) as pool:
            pool.map(_render, jobs[:workers])  # warm-up: imports in every worker, not timed
            start = time.perf_counter()
            per_image = pool.map(_render, jobs, chunksize=max(1, n_images // (8 * workers)))
    seconds = time.perf_counter() - start
    wall, cpu = (float(np.mean(v)) for v in zip(*per_image))
    return {"images_per_s": n_images / seconds, "images_per_min": 60.0 * n_images / seconds,
            "cpu_images_per_s": workers / cpu, "ms_per_image_per_worker": 1000.0 * wall,
            "cpu_ms_per_image": 1000.0 * cpu, "n_images": n_images, "size": size, "workers": workers,
            "seconds": seconds}
