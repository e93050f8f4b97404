"""Seeded training and inference of the lesion detector (the ``timm_centernet`` recipe).

:func:`train_lesion_detector` is the detection twin of :func:`mammobench.training.train.train_detector`
and shares its device selection, determinism, mixed precision and learning-rate schedule: the same seed
gives the same weights in any process on CPU; on CUDA it uses bf16 autocast (or fp16 with a GradScaler)
and a pinned-memory loader whose workers render the heatmap targets. Every image trains: lesion images
teach where the peaks are, normal images teach that there are none. The checkpoint is the epoch with
the best **validation** wAFROC under the task's hit rule (never test). :func:`predict_marks` returns
the marks of each image, highest score first.

Example:
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> v = make_tiny_train_view(n=16, size=32)
    >>> x, boxes = v.images[:, None], [[f["box"] for f in fs] for fs in v.findings]
    >>> res = train_lesion_detector(x, boxes, x, boxes, arch="test_resnet", seed=0,
    ...                             config=TrainConfig(epochs=1, batch_size=8, recipe="timm_centernet"))
    >>> len(predict_marks(res.model, x[:2], device=res.device, max_marks=3)[0])
    3
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mammobench.errors import ConfigError
from mammobench.torchutil import resolve_device
from mammobench.training.detection_model import MARK_FIELDS
from mammobench.training.detection_targets import detection_loss, render_targets
from mammobench.training.detection_validation import (CRITERIA, ValidationSet, forward_fields, image_batches, lesion_table,
                                                      score_fields)
from mammobench.training.train import (TrainConfig, TrainResult, _amp, _batches, epoch_size, lr_scheduler,
                                       optimizer_step, set_determinism, snapshot_state)

Boxes = list[list[list[float]]]


@dataclass(frozen=True)
class DetectionOptions:
    """Detection settings of a cell: how a mark is scored against a lesion box (``centre`` inside, or
    ``iou`` ≥ threshold), how many marks an image may carry, the optional training-crop side, and how
    often the checkpoint is validated (every ``validate_every``-th epoch and always the last one)."""

    criterion: str = "centre"
    iou_threshold: float = 0.1
    max_marks: int = 10
    train_crop: int | None = None  # train on random crops of this side (inference always sees whole images)
    validate_every: int = 1        # 1: every epoch (the default); k: epochs k, 2k, … and the last

    def __post_init__(self):
        if not isinstance(self.validate_every, int) or isinstance(self.validate_every, bool) or self.validate_every < 1:
            raise ConfigError(f"detection.validate_every {self.validate_every!r}: must be a whole number ≥ 1 "
                              "(1 = validate after every epoch)")
        if self.criterion not in CRITERIA:
            raise ConfigError(f"detection.hit_criterion {self.criterion!r}: use one of {', '.join(CRITERIA)}")


def crop_window(boxes: list[list[float]], shape: tuple[int, int], side: int, stride: int,
                rng: np.random.Generator) -> tuple[int, int]:
    """Top-left corner of a ``side``-square training crop (multiple of ``stride``) inside an image of ``shape``.

    An image with lesions gets a window that contains the centre of one of them (chosen at random), so
    every lesion image keeps teaching where a lesion is; a normal image gets a window anywhere.

    Example:
        >>> crop_window([[40, 40, 50, 50]], (96, 96), 48, 4, np.random.default_rng(0))
        (40, 28)
    """
    h, w = shape
    high_y, high_x = (h - side) // stride, (w - side) // stride
    if not boxes:
        return int(rng.integers(0, high_y + 1)) * stride, int(rng.integers(0, high_x + 1)) * stride
    x0, y0, x1, y1 = boxes[int(rng.integers(len(boxes)))]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

    def corner(c: float, high: int) -> int:
        lo, hi = max(0, int(np.ceil((c - side + 1) / stride))), min(high, int(np.floor(c / stride)))
        return int(rng.integers(lo, hi + 1)) * stride if hi >= lo else int(np.clip(round((c - side / 2) / stride), 0, high)) * stride

    return corner(cy, high_y), corner(cx, high_x)


def _crop(x: np.ndarray, boxes: list[list[float]], top: int, left: int, side: int) -> tuple[np.ndarray, list]:
    """The crop and its boxes, shifted; a lesion whose centre falls outside the crop is not a target."""
    kept = []
    for x0, y0, x1, y1 in boxes:
        cx, cy = (x0 + x1) / 2 - left, (y0 + y1) / 2 - top
        if 0 <= cx < side and 0 <= cy < side:
            kept.append([x0 - left, y0 - top, x1 - left, y1 - top])
    return x[:, top:top + side, left:left + side], kept


class _TargetBatches(torch.utils.data.Dataset):
    """Index batches → (images or random crops, rendered targets); used by the CUDA loader's workers too."""

    def __init__(self, x: np.ndarray, boxes: Boxes, idx: list[np.ndarray], stride: int, crop: int | None,
                 seed: tuple[int, int]):
        self.x, self.boxes, self.idx, self.stride, self.crop, self.seed = x, boxes, idx, stride, crop, seed

    def __len__(self) -> int:
        return len(self.idx)

    def __getitem__(self, i: int):
        rows = np.sort(self.idx[i])
        boxes = [self.boxes[r] for r in rows]
        if self.crop:  # slice each crop straight out of the (possibly memory-mapped) images: no whole-image copy
            rng = np.random.default_rng([*self.seed, i])  # same crops in any worker, any process
            shape, side = self.x.shape[2:], self.crop
            cropped = [_crop(self.x[r], b, *crop_window(b, shape, side, self.stride, rng), side)
                       for r, b in zip(rows, boxes)]
            images, boxes = np.stack([c[0] for c in cropped]).astype(np.float32, copy=False), [c[1] for c in cropped]
        else:
            images = np.asarray(self.x[rows], dtype=np.float32)
        out_size = (images.shape[2] // self.stride, images.shape[3] // self.stride)
        targets = render_targets(boxes, out_size=out_size, stride=self.stride)
        return torch.from_numpy(np.ascontiguousarray(images)), targets


def _loader(data: _TargetBatches, device: str, workers: int):
    if device != "cuda":
        return (data[i] for i in range(len(data)))
    from torch.utils.data import DataLoader

    return DataLoader(data, batch_size=None, shuffle=False, num_workers=workers, pin_memory=True,
                      prefetch_factor=4 if workers else None)


def _epoch(model, opt, batches, device: str, dtype: Any, scaler, sched) -> float:
    model.train()
    total, count = 0.0, 0
    for xb, targets in batches:
        xb = xb.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        targets = {k: v.to(device, non_blocking=True) for k, v in targets.items()}
        with torch.autocast(device_type=device, dtype=dtype, enabled=dtype is not None):
            out = model(xb)
        loss = detection_loss(out, targets)
        optimizer_step(opt, loss, scaler)
        sched.step()
        total += float(loss.detach()) * len(xb)
        count += len(xb)
    return total / max(count, 1)


VALIDATION_BATCH = 64  # images per validation forward pass (as predict_marks' default: same kernels, same marks)


def predict_marks(model: torch.nn.Module, x: np.ndarray, *, device: str = "cpu", max_marks: int = 10,
                  batch_size: int = 64) -> list[list[dict]]:
    """Marks of each image ``[N, 1, H, W]`` (``x, y, x0, y0, x1, y1, score``), highest score first.

    Example:
        >>> from mammobench.training.detection_model import HeatmapDetector
        >>> marks = predict_marks(HeatmapDetector().build(arch="test_resnet"), np.zeros((2, 1, 32, 32), np.float32),
        ...                       max_marks=2)
        >>> len(marks), len(marks[0]), sorted(marks[0][0]) == sorted(MARK_FIELDS)
        (2, 2, True)
    """
    fields = forward_fields(model, image_batches(x, batch_size), device=device, max_marks=max_marks)
    return [[dict(zip(MARK_FIELDS, mark)) for mark in image] for image in fields.tolist()]


def validation_wafroc(marks: list[list[dict]], boxes: Boxes, options: DetectionOptions) -> float:
    """wAFROC of ``marks`` against the lesion ``boxes`` of the same images (NaN without normals or lesions).

    Images may carry different numbers of marks (an image without marks scores −∞).

    Example:
        >>> m = [[{"x0": 0, "y0": 0, "x1": 4, "y1": 4, "score": 0.8}], [{"x0": 9, "y0": 9, "x1": 10, "y1": 10, "score": 0.5}]]
        >>> validation_wafroc(m, [[[1, 1, 3, 3]], []], DetectionOptions())
        1.0
    """
    if len(marks) != len(boxes):
        raise ConfigError(f"{len(marks)} mark lists for {len(boxes)} images")
    k = max((len(m) for m in marks), default=0)
    fields = np.full((len(marks), k, len(MARK_FIELDS)), np.nan)
    fields[..., MARK_FIELDS.index("score")] = -np.inf  # padding: a mark that hits nothing and outranks nothing
    for i, image_marks in enumerate(marks):
        for j, mark in enumerate(image_marks):
            fields[i, j] = [mark.get(c, np.nan) for c in MARK_FIELDS]
    return score_fields(fields, lesion_table(boxes), criterion=options.criterion, iou_threshold=options.iou_threshold)


def _validate(model: torch.nn.Module, val: ValidationSet, device: str, options: DetectionOptions) -> float:
    """The validation wAFROC of one epoch's model (its marks on every validation image)."""
    return val.fom(model, device=device, max_marks=options.max_marks, criterion=options.criterion,
                   iou_threshold=options.iou_threshold)


def _check_inputs(x: np.ndarray, boxes: Boxes, what: str) -> None:
    if x.ndim != 4 or x.shape[1] != 1 or len(x) != len(boxes):
        raise ConfigError(f"{what}: images must be [N, 1, H, W] with one box list per image; got {x.shape} "
                          f"and {len(boxes)} box lists")


def train_lesion_detector(train_x: np.ndarray, train_boxes: Boxes, val_x: np.ndarray, val_boxes: Boxes, *,
                          arch: str, seed: int, config: TrainConfig = TrainConfig(recipe="timm_centernet"),
                          options: DetectionOptions = DetectionOptions()) -> TrainResult:
    """Train the heatmap detector; keep the validated epoch with the best validation wAFROC (ties: the earlier).

    Validation never changes the training trajectory (no random draw, no gradient, BatchNorm in eval
    mode), so ``options.validate_every > 1`` only narrows the candidate checkpoints to epochs k, 2k, …
    and the last; each candidate's weights are bit-identical to those of the every-epoch schedule.

    Args:
        train_x, val_x: float32 images ``[N, 1, H, W]`` in [0, 1].
        train_boxes, val_boxes: per image, its lesion boxes ``[x0, y0, x1, y1]`` in pixels (``[]`` = normal).
        arch: timm backbone name; seed: the only source of randomness; config: hyper-parameters and device.
        options: the hit options and mark budget used to score validation marks.
    """
    from mammobench.registry import DETECTORS
    import mammobench.training  # noqa: F401  (registers the built-in recipes)

    _check_inputs(train_x, train_boxes, "training set")
    _check_inputs(val_x, val_boxes, "validation set")
    device = str(resolve_device(config.device))
    set_determinism(seed, device, config.threads)
    model = DETECTORS.get(config.recipe)().build(arch=arch, weights=config.weights)
    model = model.to(device, memory_format=torch.channels_last)  # NHWC: ~1.4-1.7x faster convolutions on CPU
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    dtype, scaler = _amp(device, config.amp)
    crop = options.train_crop if options.train_crop and options.train_crop < min(train_x.shape[2:]) else None
    rng = np.random.default_rng(seed)
    per_epoch = epoch_size(len(train_x), config.epoch_images)
    sched = lr_scheduler(opt, config.lr_schedule, config.epochs * -(-per_epoch // config.batch_size))
    val = ValidationSet(val_x, val_boxes, batch_size=VALIDATION_BATCH)  # tensors and lesion table made once
    best, best_fom, best_epoch, curve = None, -np.inf, 0, []
    start = time.perf_counter()
    for epoch in range(config.epochs):
        data = _TargetBatches(train_x, train_boxes, _batches(len(train_x), config.batch_size, rng, per_epoch),
                              model.stride, crop, (seed, epoch))
        loss = _epoch(model, opt, _loader(data, device, config.workers), device, dtype, scaler, sched)
        last = epoch + 1 == config.epochs
        if (epoch + 1) % options.validate_every and not last:
            curve.append({"epoch": epoch + 1, "train_loss": loss, "val_wafroc": None})  # not a candidate
            continue
        fom = _validate(model, val, device, options)
        curve.append({"epoch": epoch + 1, "train_loss": loss, "val_wafroc": fom})
        if best_epoch == 0 or (fom == fom and fom > best_fom):
            # the last epoch's weights are the model's own: copy only an earlier best
            best, best_fom, best_epoch = (None if last else snapshot_state(model)), fom, epoch + 1
    if best is not None:
        model.load_state_dict(best)
    seconds = time.perf_counter() - start
    return TrainResult(model=model, device=device, best_epoch=best_epoch, curve=curve, seconds=seconds,
                       images_per_second=per_epoch * config.epochs / max(seconds, 1e-9))


__all__ = ["DetectionOptions", "predict_marks", "train_lesion_detector", "validation_wafroc"]
