"""Training and sampling speed of the learned baseline generators (``cgan``, ``ddpm``).

Training images/s counts the patches the generator's optimiser sees (``steps × batch_size``)
over the training loop's own clock (the ``seconds`` the generator records in ``history_``), so
patch extraction and the background bank are excluded; ``fit_seconds`` is the whole ``fit``.
Sampling images/s is ``n_sample`` full images from ``sample`` (patch generation, DDIM/RePaint for
``ddpm``, blending) over wall time. The training data is the seeded tiny TrainView fixture.

Example:
    >>> r = bench_generator("cgan", n_train=16, image_size=32, n_sample=2, overrides={"steps": 2})
    >>> r["train_images_per_s"] > 0 and r["sample_images_per_s"] > 0
    True
"""
from __future__ import annotations

import time
from typing import Any

#: per-generator settings of the default perf run: the conformance ``tiny_config`` scaled up a little
DEFAULT_OVERRIDES: dict[str, dict[str, Any]] = {
    "cgan": {"patch_size": 32, "width": 16, "z_dim": 32, "steps": 60, "batch_size": 32},
    "ddpm": {"patch_size": 32, "width": 16, "timesteps": 200, "steps": 60, "batch_size": 32, "sample_steps": 10},
}


def bench_generator(name: str, *, n_train: int = 64, image_size: int = 64, n_sample: int = 16, threads: int = 1,
                    overrides: dict[str, Any] | None = None, seed: int = 0) -> dict:
    """Fit generator ``name`` on a tiny TrainView, then sample; return images/s of both.

    Args:
        name: a registered generator with a ``tiny_config()`` classmethod (``cgan``, ``ddpm``).
        n_train, image_size: size of the training view.
        n_sample: images drawn by ``sample``.
        threads: torch CPU threads during the benchmark.
        overrides: constructor parameters on top of ``tiny_config()``.
        seed: fit and sample seed.

    Returns:
        ``train_images_per_s``, ``sample_images_per_s``, ``fit_seconds``, ``sample_seconds``, ``params``.
    """
    from mammobench.generators import generator_class
    from mammobench.generators.fixtures import make_tiny_train_view
    from mammobench.torchutil import torch_threads

    cls = generator_class(name)
    params = {**cls.tiny_config(), "device": "cpu", **(overrides or {})}
    view = make_tiny_train_view(n=n_train, size=image_size, seed=seed)
    gen = cls(**params)
    with torch_threads(threads):
        t0 = time.perf_counter()
        gen.fit(view, seed=seed)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        batch = gen.sample(n_sample, seed=seed)
        sample_s = time.perf_counter() - t0
    loop_s = float(gen.history_["seconds"][-1]) if gen.history_.get("seconds") else fit_s
    trained = params["steps"] * params["batch_size"]
    return {"generator": name, "params": params, "n_train": n_train, "image_size": image_size, "threads": threads,
            "train_images_per_s": trained / max(loop_s, 1e-9), "train_loop_seconds": loop_s, "fit_seconds": fit_s,
            "sample_images_per_s": len(batch) / max(sample_s, 1e-9), "sample_seconds": sample_s,
            "n_sample": len(batch)}
