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

import copy
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mammobench.errors import ConfigError
from mammobench.torchutil import resolve_device
from mammobench.training.detection_model import decode_marks
from mammobench.training.detection_targets import detection_loss, render_targets
from mammobench.training.train import (TrainConfig, TrainResult, _amp, _batches, epoch_size, lr_scheduler,
                                       optimizer_step, set_determinism)

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
        images, boxes = np.asarray(self.x[rows], dtype=np.float32), [self.boxes[r] for r in rows]
        if self.crop:
            rng = np.random.default_rng([*self.seed, i])  # same crops in any worker, any process
            cropped = [_crop(img, b, *crop_window(b, img.shape[1:], self.crop, self.stride, rng), self.crop)
                       for img, b in zip(images, boxes)]
            images, boxes = np.stack([c[0] for c in cropped]), [c[1] for c in cropped]
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


@torch.inference_mode()
def predict_marks(model: torch.nn.Module, x: np.ndarray, *, device: str = "cpu", max_marks: int = 10,
                  batch_size: int = 64) -> list[list[dict]]:
    """Marks of each image ``[N, 1, H, W]`` (``x, y, x0, y0, x1, y1, score``), highest score first."""
    model.eval()
    dtype, _ = _amp(device, True)
    out: list[list[dict]] = []
    for i in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[i:i + batch_size])).to(device)
        xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=device, dtype=dtype, enabled=dtype is not None):
            raw = model(xb)
        out += decode_marks(raw, stride=model.stride, max_marks=max_marks)
    return out


def validation_wafroc(marks: list[list[dict]], boxes: Boxes, options: DetectionOptions) -> float:
    """wAFROC of ``marks`` against the lesion ``boxes`` of the same images (NaN without normals or lesions)."""
    from mammobench.stats.froc import match_image
    from mammobench.stats.wafroc import wafroc

    normal_fp, lesion_scores, weights = [], [], []
    for image_marks, image_boxes in zip(marks, boxes):
        mark_boxes = np.array([[m["x0"], m["y0"], m["x1"], m["y1"]] for m in image_marks]).reshape(-1, 4)
        scores = np.array([m["score"] for m in image_marks])
        if not image_boxes:
            normal_fp.append(scores.max() if scores.size else -np.inf)
            continue
        ls, _ = match_image(mark_boxes, scores, np.array(image_boxes), criterion=options.criterion,
                            iou_threshold=options.iou_threshold)
        lesion_scores += ls.tolist()
        weights += [1.0 / len(image_boxes)] * len(image_boxes)
    if not normal_fp or not lesion_scores:
        return float("nan")
    return wafroc(normal_fp, lesion_scores, weights)


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
    best, best_fom, best_epoch, curve = None, -np.inf, 0, []
    start = time.perf_counter()
    for epoch in range(config.epochs):
        data = _TargetBatches(train_x, train_boxes, _batches(len(train_x), config.batch_size, rng, per_epoch), model.stride,
                              crop, (seed, epoch))
        loss = _epoch(model, opt, _loader(data, device, config.workers), device, dtype, scaler, sched)
        if (epoch + 1) % options.validate_every and epoch + 1 < config.epochs:
            curve.append({"epoch": epoch + 1, "train_loss": loss, "val_wafroc": None})  # not a candidate
            continue
        fom = validation_wafroc(predict_marks(model, val_x, device=device, max_marks=options.max_marks), val_boxes, options)
        curve.append({"epoch": epoch + 1, "train_loss": loss, "val_wafroc": fom})
        if best is None or (fom == fom and fom > best_fom):
            best, best_fom, best_epoch = copy.deepcopy(model.state_dict()), fom, epoch + 1
    model.load_state_dict(best)
    seconds = time.perf_counter() - start
    return TrainResult(model=model, device=device, best_epoch=best_epoch, curve=curve, seconds=seconds,
                       images_per_second=per_epoch * config.epochs / max(seconds, 1e-9))


__all__ = ["DetectionOptions", "predict_marks", "train_lesion_detector", "validation_wafroc"]
