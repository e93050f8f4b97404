"""``physics``: the phantom simulator as a knowledge-based generator.

Each synthetic image is a freshly simulated mammogram (:mod:`mammobench.simulator`) for the
requested density, lesion type, pathology, view and age band, with domain randomisation: vendor
processing, lesion parameters and acquisition come from the calibrated case sampler, plus extra
gamma and noise jitter. Images go through the harness's one preprocessing function
(:func:`mammobench.data.preprocess.preprocess_image`, or :func:`mammobench.data.patches.preprocess_patch`
when the training view holds patches — same field of view, same centring rules, rendered at the
resolution that gives the view's pixel size), so they live in the same domain as the cached real
images; boxes are mapped with the same transform. Fitting learns nothing from pixels: it
records the output resolution and the training condition mix (used when conditions are not given).
Every image has its own random stream (drawn from ``seed``), so a batch is rendered in several
processes when it is large (:func:`sample_workers`) and is the same whatever the number of processes.
A batch starts in this process and moves the rest to a pool only after :data:`SERIAL_BUDGET_S` of
rendering: a spawned worker costs about that in imports, so a batch of small images (the conformance
suite's 32-px fixture: ≈ 6 ms an image) never pays for one.

Example:
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> gen = PhysicsGenerator().fit(make_tiny_train_view(n=8, size=32), seed=0)
    >>> batch = gen.sample(2, seed=0)
    >>> batch.images.shape
    (2, 1, 32, 32)
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time

import numpy as np
import pandas as pd

from mammobench.generators.base import GeneratorMixin
from mammobench.generators.conditions import labels_frame, resolve_conditions
from mammobench.protocols import CONDITION_COLUMNS, GeneratorTags, SyntheticBatch, TrainView
from mammobench.resources import resource_path

AGE_RANGES = {"<50": (40, 49), "50-59": (50, 59), "60-69": (60, 69), "70+": (70, 79), "unknown": (40, 79), "": (40, 79)}
SIM_LESION_TYPES = ("mass", "calcification", "architectural_distortion", "asymmetry")
#: seconds of rendering in the calling process before the rest of a batch goes to a pool (about what a spawned
#: worker's imports cost; 516 fixture images at 32 px: 2.9 s in one process, 9.3 s with a pool of two)
SERIAL_BUDGET_S = 2.0


class PhysicsGenerator(GeneratorMixin):
    """Simulate, preprocess like real data, label exactly."""

    tags = GeneratorTags(requires_fit=True, conditional_on=CONDITION_COLUMNS, produces_boxes=True)
    card_path = resource_path(__package__, "card.yaml")

    def __init__(self, sim_size: int | None = None, gamma_jitter: float = 0.1, noise_std: float = 0.005,
                 population: str = "bcsc"):
        self.sim_size = sim_size
        self.gamma_jitter = gamma_jitter
        self.noise_std = noise_std
        self.population = population

    @classmethod
    def tiny_config(cls) -> dict:
        return {"sim_size": 64}

    def fit(self, data: TrainView, *, seed: int) -> "PhysicsGenerator":
        self.record_training_data(data)
        self.image_size_ = list(data.image_size)
        self.patch_ = getattr(data, "patch", None)
        self.conditions_ = {c: data.manifest[c].fillna("").astype(str).tolist() for c in CONDITION_COLUMNS}
        return self

    def _render_params(self) -> dict:
        return {"image_size": list(self.image_size_), "patch": getattr(self, "patch_", None), "sim_size": self.sim_size,
                "gamma_jitter": self.gamma_jitter, "noise_std": self.noise_std, "population": self.population}

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        rng = np.random.default_rng(seed)
        rows = resolve_conditions(n, conditions, pd.DataFrame(self.conditions_), rng)
        seeds = rng.integers(2**63, size=n)  # one stream per image: the same batch whatever the process count
        params = self._render_params()
        jobs = [(params, rows.iloc[i].to_dict(), int(seeds[i])) for i in range(n)]
        done = _render_jobs(jobs, sample_workers(n))
        h, w = self.image_size_
        images = np.zeros((n, 1, h, w), np.float32)
        findings = []
        for i, (image, fs, truth) in enumerate(done):
            images[i, 0] = image
            findings.append(fs)
            for key, value in truth.items():
                rows.loc[i, key] = value
        return SyntheticBatch(images, labels_frame(rows, findings), {"generator": "physics", "seed": seed})


def _render_jobs(jobs: list, workers: int) -> list:
    """Every job rendered, in order: in this process until :data:`SERIAL_BUDGET_S` has passed (at least one job
    when the budget is positive), the rest in a pool of ``workers`` processes when the time it would save at
    the rate seen so far exceeds what starting the pool costs (:data:`SERIAL_BUDGET_S`)."""
    done: list = []
    if workers > 1 and SERIAL_BUDGET_S > 0 and jobs:
        start = time.perf_counter()
        while len(done) < len(jobs):
            done.append(_render_job(jobs[len(done)]))
            if time.perf_counter() - start >= SERIAL_BUDGET_S:
                break
        left = len(jobs) - len(done)
        saved = (time.perf_counter() - start) / len(done) * left * (1 - 1 / workers)
        if saved <= SERIAL_BUDGET_S:
            workers = 1
    rest = jobs[len(done):]
    if workers == 1 or not rest:
        return done + [_render_job(job) for job in rest]
    from mammobench.lifetime import WorkerInit, stop_pool
    from mammobench.simulator.throughput import limit_threads

    pool = mp.get_context("spawn").Pool(workers, initializer=WorkerInit(limit_threads))
    try:
        done += pool.map(_render_job, rest, chunksize=max(1, len(rest) // (4 * workers)))
    except BaseException:  # Ctrl-C or an error: stop the workers now
        stop_pool(pool)
        raise
    pool.close()
    pool.join()
    return done


def sample_workers(n: int, *, min_per_worker: int = 64, max_workers: int = 4) -> int:
    """Processes for rendering ``n`` images: one per available core (at most ``max_workers``), at least
    ``min_per_worker`` images each (a process costs seconds of imports), 1 inside a daemonic pool worker.

    Example:
        >>> sample_workers(10)
        1
    """
    if mp.current_process().daemon:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, max_workers, n // min_per_worker))


def _render_job(job: tuple[dict, dict, int]) -> tuple[np.ndarray, list[dict], dict]:
    params, row, seed = job
    return _simulate_row(params, pd.Series(row), np.random.default_rng(seed))


def _simulate_row(params: dict, row: pd.Series, rng: np.random.Generator) -> tuple[np.ndarray, list[dict], dict]:
    """One simulated, preprocessed image for a condition row: (image, findings, the conditions it has)."""
    from mammobench.generators.simulated import render_case
    from mammobench.simulator import sample_case

    lesion = str(row["lesion_type"])
    lesion = lesion if lesion in SIM_LESION_TYPES + ("none",) else str(rng.choice(SIM_LESION_TYPES))
    label = str(row["label"]) if lesion != "none" else "normal"
    pathology = label if label in ("benign", "malignant") else ("normal" if lesion == "none" else "malignant")
    lo, hi = AGE_RANGES.get(str(row["age_band"]), (40, 79))
    spec = sample_case(rng, age=int(rng.integers(lo, hi + 1)), density=str(row["density"]) or None,
                       lesion_type=lesion, pathology=pathology,
                       view=str(row["view"]) if row["view"] in ("CC", "MLO") else None,
                       laterality=str(rng.choice(["L", "R"])), population=params["population"])
    image, findings = render_case(spec, image_size=tuple(params["image_size"]), patch=params["patch"], rng=rng,
                                  sim_size=params["sim_size"])
    jitter, noise = params["gamma_jitter"], params["noise_std"]
    image = np.clip(image, 0, 1) ** np.exp(rng.uniform(-jitter, jitter))
    image = np.clip(image + rng.normal(0, noise, image.shape) * (image > 0), 0, 1)
    truth = {"label": pathology, "lesion_type": lesion, "density": spec.density, "view": spec.view}
    return image.astype(np.float32), findings, truth
