"""Lesion-detector (``timm_centernet``) training speed in the harness against the bare loop, and inference speed.

The detection twin of :mod:`mammobench.perf.training_bench` (its alternating best-of-N timer is reused).
The harness figure times :func:`mammobench.training.detection_train.train_lesion_detector` — what every
detection cell calls — on an in-memory dataset: model build, seeding, per-batch random training crops
and heatmap targets, the learning-rate schedule, validation on the schedule of the task
(``detection.validate_every`` of ``vc_lesion_detect``: marks on every validation image, scored by wAFROC,
after every k-th epoch and the last) and the best-checkpoint copy; ``epochs`` defaults to k, so the timed
run validates once per k epochs, as a quick-profile cell does. The bare loop is what a user would write with the
same model: the recipe-built network in the same memory format (``channels_last``), the same batches,
``AdamW`` with the same settings, :func:`~mammobench.training.detection_targets.detection_loss`, and
targets cropped and rendered **once before timing** (so the harness's per-batch crops and target
rendering count as its overhead). ``ratio = harness images/s ÷ bare images/s`` (target ≥ 0.9). The same
call validating after every epoch (``every_epoch_ratio``) is reported beside it.

Inference: :func:`~mammobench.training.detection_train.predict_marks` on whole images (forward pass,
heatmap peak decoding, marks as Python records), images per second, best of ``repeats``.

Example:
    >>> r = bench_lesion_detector(n_train=8, image_size=32, crop=16, batch_size=4, epochs=1, repeats=1)
    >>> sorted(k for k in r if k.endswith("images_per_s"))
    ['bare_images_per_s', 'harness_every_epoch_images_per_s', 'harness_images_per_s', 'harness_loop_images_per_s', 'inference_images_per_s']
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from mammobench.perf.training_bench import bare_loop_seconds, paired_ratios, time_alternating

RECIPE = "timm_centernet"
SCHEDULE_TASK = "vc_lesion_detect"  # the task whose validation schedule the harness figure uses


def task_validate_every(task: str = SCHEDULE_TASK) -> int:
    """The task's ``detection.validate_every`` (epochs between checkpoint validations).

    Example:
        >>> task_validate_every() >= 1
        True
    """
    from mammobench.pipeline.suites import find_task

    return int(find_task(task).detection.validate_every)


def detection_data(n: int, size: int, seed: int) -> tuple[np.ndarray, list[list[list[float]]]]:
    """Random images ``[n, 1, size, size]`` and boxes: every third image has one lesion box, the rest none.

    Example:
        >>> x, boxes = detection_data(6, 32, 0)
        >>> x.shape, [len(b) for b in boxes]
        ((6, 1, 32, 32), [1, 0, 0, 1, 0, 0])
    """
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, size, size), dtype=np.float32)
    boxes = []
    for i in range(n):
        if i % 3:
            boxes.append([])
            continue
        half = float(rng.uniform(2, max(3.0, size / 8)))
        cx, cy = rng.uniform(half, size - half, 2)
        boxes.append([[cx - half, cy - half, cx + half, cy + half]])
    return x, boxes


def _model(arch: str, config):
    from mammobench.registry import DETECTORS
    import mammobench.training  # noqa: F401  (registers the built-in recipes)

    model = DETECTORS.get(config.recipe)().build(arch=arch, weights=config.weights)
    return model.to("cpu", memory_format=torch.channels_last)


def bare_detection_seconds(x: np.ndarray, boxes: list, *, arch: str, seed: int, config, crop: int | None) -> float:
    """Seconds of the bare forward/loss/backward/step loop (targets prepared before the clock starts).

    Example:
        >>> from mammobench.training.train import TrainConfig
        >>> x, b = detection_data(8, 32, 0)
        >>> cfg = TrainConfig(epochs=1, batch_size=4, recipe="timm_centernet")
        >>> bare_detection_seconds(x, b, arch="test_resnet", seed=0, config=cfg, crop=16) > 0
        True
    """
    from mammobench.training.detection_targets import detection_loss
    from mammobench.training.detection_train import _TargetBatches

    torch.manual_seed(seed)
    torch.set_num_threads(max(1, config.threads))
    model = _model(arch, config)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    whole = _TargetBatches(x, boxes, [np.arange(len(x))], model.stride, crop, (seed, 0))[0]  # crop + render once
    tx, targets = whole[0].contiguous(memory_format=torch.channels_last), whole[1]
    return bare_loop_seconds(model, opt, len(x),
                             lambda b: detection_loss(model(tx[b]), {k: v[b] for k, v in targets.items()}),
                             seed=seed, config=config)


def harness_detection_seconds(x: np.ndarray, boxes: list, val_x: np.ndarray, val_boxes: list, *, arch: str,
                              seed: int, config, crop: int | None, validate_every: int = 1) -> float:
    """Wall seconds of one :func:`train_lesion_detector` call (everything a detection cell's training does)."""
    from mammobench.training.detection_train import DetectionOptions, train_lesion_detector

    start = time.perf_counter()
    train_lesion_detector(x, boxes, val_x, val_boxes, arch=arch, seed=seed, config=config,
                          options=DetectionOptions(train_crop=crop, validate_every=validate_every))
    return time.perf_counter() - start


def inference_seconds(x: np.ndarray, *, arch: str, config, repeats: int, max_marks: int = 10) -> float:
    """Fastest of ``repeats`` :func:`predict_marks` passes over ``x`` (a freshly built model; speed only)."""
    from mammobench.training.detection_train import predict_marks

    torch.set_num_threads(max(1, config.threads))
    model = _model(arch, config)
    predict_marks(model, x[:2], max_marks=max_marks)  # warm-up
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        predict_marks(model, x, max_marks=max_marks, batch_size=config.batch_size)
        times.append(time.perf_counter() - start)
    return min(times)


def bench_lesion_detector(*, n_train: int = 256, image_size: int = 96, crop: int | None = 48, batch_size: int = 64,
                          epochs: int | None = None, arch: str = "test_resnet", threads: int = 1,
                          val_fraction: float = 0.27, n_infer: int | None = None, validate_every: int | None = None,
                          repeats: int = 2, seed: int = 0) -> dict:
    """Detector training images/s in the harness and of the bare loop, their ratio, and inference images/s.

    Args:
        n_train: training images (random pixels and boxes; speed does not depend on content).
        image_size: square image side; crop: training-crop side (``None`` = whole images), as the task's
            ``detection.train_crop`` (the quick profile: 96-px images, 48-px crops).
        batch_size, arch, threads: the :class:`TrainConfig` both loops use (CPU).
        epochs: training epochs (default: ``validate_every``, so the harness validates once, after the last).
        val_fraction: validation images per training image (vc_lesion_detect: 0.15 / 0.55 ≈ 0.27).
        n_infer: whole images for the inference figure (default: ``n_train``).
        validate_every: the harness figure's validation schedule (epochs k, 2k, … and the last; default: the
            ``detection.validate_every`` of :data:`SCHEDULE_TASK`); ``every_epoch`` validates every epoch.
        repeats: timed rounds, alternating (ratios: medians of paired rounds; images/s: fastest run).
        seed: data, initialisation, batch order.

    Returns:
        ``harness_images_per_s`` (the task's validation schedule), ``harness_every_epoch_images_per_s``
        (validation after every epoch), ``harness_loop_images_per_s`` (3-image validation),
        ``bare_images_per_s``, ``ratio``, ``every_epoch_ratio``, ``loop_ratio``, ``cpu_ratio``,
        ``every_epoch_cpu_ratio``, ``loop_cpu_ratio`` (bare ÷ harness process CPU seconds),
        ``inference_images_per_s``, per-run ``seconds`` / ``cpu_seconds``, settings.
    """
    from mammobench.training.train import TrainConfig

    validate_every = task_validate_every() if validate_every is None else int(validate_every)
    epochs = validate_every if epochs is None else int(epochs)
    if crop is not None and not 0 < crop <= image_size:
        raise ValueError(f"crop {crop}: must lie in 1..image_size ({image_size}) or be None")
    config = TrainConfig(epochs=epochs, batch_size=batch_size, device="cpu", threads=threads, recipe=RECIPE)
    x, boxes = detection_data(n_train, image_size, seed)
    n_val = max(3, int(round(n_train * val_fraction)))
    val_x, val_boxes = detection_data(n_val, image_size, seed + 1)
    warm = replace(config, epochs=1)
    bare_detection_seconds(x[:batch_size], boxes[:batch_size], arch=arch, seed=seed, config=warm, crop=crop)
    harness_detection_seconds(x[:batch_size], boxes[:batch_size], val_x[:3], val_boxes[:3], arch=arch, seed=seed,
                              config=warm, crop=crop)
    runs = {"bare": lambda: bare_detection_seconds(x, boxes, arch=arch, seed=seed, config=config, crop=crop),
            "harness": lambda: harness_detection_seconds(x, boxes, val_x, val_boxes, arch=arch, seed=seed,
                                                         config=config, crop=crop, validate_every=validate_every),
            "every_epoch": lambda: harness_detection_seconds(x, boxes, val_x, val_boxes, arch=arch, seed=seed,
                                                             config=config, crop=crop),
            "loop": lambda: harness_detection_seconds(x, boxes, val_x[:3], val_boxes[:3], arch=arch, seed=seed,
                                                      config=config, crop=crop)}
    wall, cpu = time_alternating(runs, repeats)
    rates = {name: n_train * epochs / min(times) for name, times in wall.items()}
    ratio, cpu_ratio = paired_ratios(wall), paired_ratios(cpu)
    infer_x = detection_data(n_infer or n_train, image_size, seed + 2)[0]
    infer_s = inference_seconds(infer_x, arch=arch, config=config, repeats=repeats)
    return {"arch": arch, "n_train": n_train, "n_val": n_val, "image_size": image_size, "crop": crop,
            "batch_size": batch_size, "epochs": epochs, "threads": threads, "repeats": repeats,
            "bare_images_per_s": rates["bare"], "harness_images_per_s": rates["harness"],
            "harness_loop_images_per_s": rates["loop"], "ratio": ratio["harness"],
            "harness_every_epoch_images_per_s": rates["every_epoch"], "validate_every": validate_every,
            "every_epoch_ratio": ratio["every_epoch"], "every_epoch_cpu_ratio": cpu_ratio["every_epoch"],
            "loop_ratio": ratio["loop"], "cpu_ratio": cpu_ratio["harness"], "loop_cpu_ratio": cpu_ratio["loop"],
            "n_infer": len(infer_x),
            "inference_images_per_s": len(infer_x) / infer_s, "seconds": wall, "cpu_seconds": cpu}


__all__ = ["bare_detection_seconds", "bench_lesion_detector", "detection_data", "harness_detection_seconds",
           "inference_seconds", "task_validate_every"]
