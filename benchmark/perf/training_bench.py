"""Detector training speed inside the harness against the bare model on the same tensors.

The harness figure times :func:`mammobench.training.train.train_detector` — the function every grid
cell calls — on an in-memory dataset, including what it does besides the optimiser steps (model
build, seeding, per-epoch validation scoring, best-checkpoint copy). The baseline is the plain
PyTorch loop a user would write: the same recipe-built model, the same batch order, ``AdamW`` with
the same hyper-parameters, ``BCEWithLogitsLoss`` with the same ``pos_weight``, the same thread
count, and nothing else. ``ratio = harness images/s ÷ bare images/s`` (target ≥ 0.95).

Three harness figures are given: with a validation split of ``val_fraction`` of the training size
(what a cell really does: on CPU with a core to spare, epoch k is scored on a second thread while epoch
k + 1 trains, :mod:`mammobench.training.background_validation`), the same with every epoch scored in turn
(``TrainConfig(background_validation=False)``: what a cell does on a machine without a spare core), and
with a two-image validation split (the loop's own overhead).
Both loops are warmed up once on one batch first (imports such as scikit-learn's AUC, first-call
kernel set-up), then each configuration is timed ``repeats`` times, alternating. A ratio is the median over
rounds of that round's bare ÷ harness seconds (:func:`paired_ratios`), which damps the noise of a shared
machine; the images/s figures are each configuration's fastest run. The process CPU time of each run is
recorded too (``cpu_ratio``, ``loop_cpu_ratio``): with one torch thread it measures the work done and is far
less sensitive to other processes competing for the cores than the wall-clock ratio.

Example:
    >>> r = bench_detector_training(n_train=16, image_size=32, batch_size=8, epochs=1, repeats=1)
    >>> sorted(k for k in r if k.endswith("images_per_s"))  # doctest: +NORMALIZE_WHITESPACE
    ['bare_images_per_s', 'harness_channels_last_images_per_s', 'harness_images_per_s', 'harness_in_turn_images_per_s',
     'harness_loop_images_per_s']
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

import numpy as np
import torch
from torch import nn


def _data(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, size, size), dtype=np.float32)
    y = (np.arange(n) % 3 == 0).astype(np.float32)
    return x, y


def bare_training_seconds(x: np.ndarray, y: np.ndarray, *, arch: str, seed: int, config) -> float:
    """Seconds of the bare forward/backward/step loop with the harness's model, batches and optimiser.

    Example:
        >>> from mammobench.training.train import TrainConfig
        >>> x, y = _data(8, 32, 0)
        >>> bare_training_seconds(x, y, arch="test_resnet", seed=0, config=TrainConfig(epochs=1, batch_size=4)) > 0
        True
    """
    from mammobench.registry import DETECTORS
    import mammobench.training  # noqa: F401  (registers the built-in recipes)

    torch.manual_seed(seed)
    torch.set_num_threads(max(1, config.threads))
    model = DETECTORS.get(config.recipe)().build(arch=arch, weights=config.weights)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    n_pos = float(y.sum())
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([(len(y) - n_pos) / max(n_pos, 1.0)]))
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    return bare_loop_seconds(model, opt, len(y), lambda b: loss_fn(model(tx[b]), ty[b]), seed=seed, config=config)


def bare_loop_seconds(model: nn.Module, opt: torch.optim.Optimizer, n: int,
                      batch_loss: Callable[[torch.Tensor], torch.Tensor], *, seed: int, config) -> float:
    """Wall seconds of the plain loop both bare baselines time: shuffle, forward/backward, AdamW step.

    ``batch_loss(indices)`` computes the loss of one mini-batch of the ``n`` tensors already in memory.

    Example:
        >>> from mammobench.training.train import TrainConfig
        >>> net = nn.Linear(2, 1); opt = torch.optim.AdamW(net.parameters())
        >>> x = torch.zeros(6, 2)
        >>> bare_loop_seconds(net, opt, 6, lambda b: net(x[b]).sum(), seed=0,
        ...                   config=TrainConfig(epochs=1, batch_size=4)) > 0
        True
    """
    rng = np.random.default_rng(seed)
    model.train()
    start = time.perf_counter()
    for _ in range(config.epochs):
        order = torch.from_numpy(rng.permutation(n))
        for i in range(0, n, config.batch_size):
            loss = batch_loss(order[i:i + config.batch_size])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def harness_training_seconds(x: np.ndarray, y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray, *,
                             arch: str, seed: int, config) -> float:
    """Wall seconds of one :func:`train_detector` call (everything a grid cell's training does)."""
    from mammobench.training.train import train_detector

    start = time.perf_counter()
    train_detector(x, y, val_x, val_y, arch=arch, seed=seed, config=config)
    return time.perf_counter() - start


def time_alternating(runs: dict, repeats: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and process-CPU seconds of each run, ``repeats`` rounds, the runs alternating within a round.

    Each run is a callable returning its own wall seconds (so set-up outside its clock is not counted).

    Example:
        >>> wall, cpu = time_alternating({"a": lambda: 0.5, "b": lambda: 0.25}, 2)
        >>> wall
        {'a': [0.5, 0.5], 'b': [0.25, 0.25]}
    """
    wall: dict[str, list[float]] = {k: [] for k in runs}
    cpu: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(max(1, repeats)):
        for name, fn in runs.items():
            c0 = time.process_time()
            wall[name].append(fn())
            cpu[name].append(time.process_time() - c0)
    return wall, cpu


def paired_ratios(seconds: dict[str, list[float]], baseline: str = "bare") -> dict[str, float]:
    """Speed of each run relative to ``baseline``: the median over rounds of ``baseline ÷ run`` seconds.

    Each round times every run back to back (:func:`time_alternating`), so a round's two runs met about
    the same load; the median over rounds then drops a round that a burst of other work hit. Taking the
    fastest time of each run separately, as before, let one lucky bare run and one unlucky harness run
    (minutes apart) set the ratio: the recorded harness ratio went from 0.95 to 0.87 between two idle runs.

    Example:
        >>> r = paired_ratios({"bare": [1.0, 2.0, 1.0], "harness": [1.1, 2.2, 3.0]})
        >>> round(r["harness"], 3), r["bare"]
        (0.909, 1.0)
    """
    base = seconds[baseline]
    return {name: float(np.median([b / t for b, t in zip(base, times)])) for name, times in seconds.items()}


def bench_detector_training(*, n_train: int = 256, image_size: int = 96, batch_size: int = 64, epochs: int = 4,
                            arch: str = "test_resnet", threads: int = 1, val_fraction: float = 0.25,
                            repeats: int = 2, seed: int = 0) -> dict:
    """Training images/s inside the harness and of the bare loop; their ratio (target ≥ 0.95).

    Args:
        n_train: training images (random pixels; speed does not depend on content).
        image_size: square image side in pixels.
        batch_size, epochs, arch, threads: the :class:`TrainConfig` both loops use (CPU).
        val_fraction: validation images per training image in the realistic harness figure.
        repeats: timed rounds of every configuration (the ratios are medians over rounds).
        seed: data, initialisation and batch order.

    Returns:
        ``harness_images_per_s``, ``harness_in_turn_images_per_s`` (every epoch scored in turn),
        ``harness_loop_images_per_s``, ``harness_channels_last_images_per_s``
        (``TrainConfig(channels_last=True)``, with validation), ``bare_images_per_s``, ``ratio``,
        ``in_turn_ratio``, ``in_turn_cpu_ratio``, ``loop_ratio``, ``channels_last_ratio``, ``cpu_ratio``,
        ``loop_cpu_ratio``,
        ``channels_last_cpu_ratio`` (bare ÷ harness CPU seconds), per-run ``seconds`` /
        ``cpu_seconds`` and the settings. The bare loop is always the plain NCHW loop.
    """
    from mammobench.training.train import TrainConfig

    config = TrainConfig(epochs=epochs, batch_size=batch_size, device="cpu", threads=threads)
    x, y = _data(n_train, image_size, seed)
    n_val = max(2, int(round(n_train * val_fraction)))
    val_x, val_y = _data(n_val, image_size, seed + 1)
    warm = replace(config, epochs=1)
    bare_training_seconds(x[:batch_size], y[:batch_size], arch=arch, seed=seed, config=warm)  # warm-ups
    for cl in (False, True):
        harness_training_seconds(x[:batch_size], y[:batch_size], val_x[:2], val_y[:2], arch=arch, seed=seed,
                                 config=replace(warm, channels_last=cl))
    runs = {"bare": lambda: bare_training_seconds(x, y, arch=arch, seed=seed, config=config),
            "harness": lambda: harness_training_seconds(x, y, val_x, val_y, arch=arch, seed=seed, config=config),
            "in_turn": lambda: harness_training_seconds(x, y, val_x, val_y, arch=arch, seed=seed,
                                                        config=replace(config, background_validation=False)),
            "loop": lambda: harness_training_seconds(x, y, val_x[:2], val_y[:2], arch=arch, seed=seed,
                                                     config=config),
            "channels_last": lambda: harness_training_seconds(x, y, val_x, val_y, arch=arch, seed=seed,
                                                              config=replace(config, channels_last=True))}
    wall, cpu = time_alternating(runs, repeats)
    rates = {name: n_train * epochs / min(times) for name, times in wall.items()}
    ratio, cpu_ratio = paired_ratios(wall), paired_ratios(cpu)
    return {"arch": arch, "n_train": n_train, "n_val": n_val, "image_size": image_size, "batch_size": batch_size,
            "epochs": epochs, "threads": threads, "repeats": repeats,
            "bare_images_per_s": rates["bare"], "harness_images_per_s": rates["harness"],
            "harness_loop_images_per_s": rates["loop"], "harness_channels_last_images_per_s": rates["channels_last"],
            "harness_in_turn_images_per_s": rates["in_turn"],
            "ratio": ratio["harness"], "loop_ratio": ratio["loop"], "channels_last_ratio": ratio["channels_last"],
            "in_turn_ratio": ratio["in_turn"], "in_turn_cpu_ratio": cpu_ratio["in_turn"],
            "cpu_ratio": cpu_ratio["harness"], "loop_cpu_ratio": cpu_ratio["loop"],
            "channels_last_cpu_ratio": cpu_ratio["channels_last"], "seconds": wall, "cpu_seconds": cpu}
