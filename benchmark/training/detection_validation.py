"""The lesion detector's per-epoch validation, prepared once and scored without a loop per image or mark.

:func:`~mammobench.training.detection_train.train_lesion_detector` validates after every epoch (or every
``validate_every``-th): marks on every validation image, scored by wAFROC under the task's hit rule. This
module makes that cheap without changing a bit of it:

* :class:`ValidationSet` turns the validation images into tensors (batches in the model's input layout)
  and their lesion boxes into one table **once**, not every epoch;
* :func:`forward_fields` runs the model under ``inference_mode`` and keeps the marks as one array
  (:func:`~mammobench.training.detection_model.decode_fields`) instead of a dict per mark;
* :func:`score_fields` scores every (lesion, mark) pair of all images at once with the hit rule
  :func:`mammobench.stats.froc.hits` that :func:`~mammobench.stats.froc.match_image` applies per image
  (centre inside the box, or IoU ≥ threshold; a lesion takes its best hitting mark, −∞ when missed; a normal image its highest mark) and passes the
  same numbers, in the same order, to :func:`mammobench.stats.wafroc.wafroc`.

``tests/training/test_fast_validation.py`` checks the figure of merit, the marks, the chosen epoch and
the trained weights against the per-image reference loop, bit for bit.

Example:
    >>> import numpy as np
    >>> fields = np.array([[[10, 10, 8, 8, 12, 12, 0.9]], [[50, 50, 48, 48, 52, 52, 0.3]]])
    >>> score_fields(fields, lesion_table([[[5, 5, 15, 15]], []]))   # the lesion outranks the normal's mark
    1.0
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import torch

from mammobench.errors import ConfigError
from mammobench.stats.froc import hits
from mammobench.torchutil import amp_dtype
from mammobench.training.detection_model import MARK_FIELDS, decode_fields

CRITERIA = ("centre", "iou")
_BOX = [MARK_FIELDS.index(c) for c in ("x0", "y0", "x1", "y1")]
_SCORE = MARK_FIELDS.index("score")


@dataclass(frozen=True)
class LesionTable:
    """The lesions of a set of images, flattened in image order then box order.

    ``image`` [L] image index of each lesion, ``boxes`` [L, 4] float64 ``x0, y0, x1, y1``, ``weight`` [L]
    (1 / lesions on its image), ``normal`` the indices of the images without a lesion, ``n_images``.
    """

    image: np.ndarray
    boxes: np.ndarray
    weight: np.ndarray
    normal: np.ndarray
    n_images: int


def lesion_table(boxes: list) -> LesionTable:
    """Flatten per-image lesion boxes (``[]`` = normal image) into a :class:`LesionTable`.

    Raises:
        ConfigError: a box that is not four numbers.

    Example:
        >>> t = lesion_table([[[0, 0, 4, 4], [8, 8, 9, 9]], [], [[1, 1, 2, 2]]])
        >>> t.image.tolist(), t.weight.tolist(), t.normal.tolist()
        ([0, 0, 2], [0.5, 0.5, 1.0], [1])
    """
    image, flat, weight = [], [], []
    for i, image_boxes in enumerate(boxes):
        for box in image_boxes:
            if np.size(box) != 4:
                raise ConfigError(f"validation image {i}: lesion box {box!r} is not [x0, y0, x1, y1]")
            flat.append(np.asarray(box, dtype=float).ravel())
        n = len(image_boxes)
        image += [i] * n
        weight += [1.0 / n] * n if n else []
    return LesionTable(image=np.asarray(image, dtype=np.intp), boxes=np.asarray(flat, dtype=float).reshape(-1, 4),
                       weight=np.asarray(weight, dtype=float),
                       normal=np.asarray([i for i, b in enumerate(boxes) if not len(b)], dtype=np.intp),
                       n_images=len(boxes))


def score_fields(fields: np.ndarray, table: LesionTable, *, criterion: str = "centre",
                 iou_threshold: float = 0.1) -> float:
    """wAFROC of marks ``fields [N, K, 7]`` (columns ``MARK_FIELDS``) against ``table``'s lesions.

    NaN when the images hold no normal image or no lesion (as the per-image reference).

    Raises:
        ConfigError: an unknown criterion, or ``fields`` not one row of marks per image of ``table``.

    Example:
        >>> f = np.array([[[3, 3, 1, 1, 5, 5, 0.2]], [[9, 9, 8, 8, 10, 10, 0.7]]])
        >>> score_fields(f, lesion_table([[[0, 0, 4, 4]], []]))   # the normal's mark outranks the lesion
        0.0
    """
    from mammobench.stats.wafroc import wafroc

    if criterion not in CRITERIA:
        raise ConfigError(f"hit criterion {criterion!r} unknown; use 'centre' or 'iou'")
    fields = np.asarray(fields, dtype=float)
    if fields.ndim != 3 or fields.shape[0] != table.n_images or fields.shape[2] != len(MARK_FIELDS):
        raise ConfigError(f"marks of shape {fields.shape}: expected [{table.n_images}, K, {len(MARK_FIELDS)}]")
    if not table.normal.size or not table.image.size:
        return float("nan")
    scores = fields[..., _SCORE]
    no_mark = np.full(table.image.size, -np.inf)
    if fields.shape[1] == 0:
        return wafroc(np.full(table.normal.size, -np.inf), no_mark, table.weight)
    marks = fields[table.image]                                    # [L, K, 7]: each lesion's image's marks
    hit = hits(marks[..., _BOX], table.boxes[:, None, :], criterion, iou_threshold)  # [L, K]
    lesion_scores = np.where(hit, marks[..., _SCORE], -np.inf).max(axis=1)
    return wafroc(scores[table.normal].max(axis=1), lesion_scores, table.weight)


@torch.inference_mode()
def forward_fields(model: torch.nn.Module, batches: Iterable[torch.Tensor], *, device: str = "cpu",
                   max_marks: int = 10) -> torch.Tensor:
    """Marks ``[N, k, 7]`` (float32, CPU) of image batches ``[n, 1, H, W]``: eval mode, ``inference_mode``,
    ``channels_last`` input, autocast on CUDA as in training.

    Example:
        >>> from mammobench.training.detection_model import HeatmapDetector
        >>> net = HeatmapDetector().build(arch="test_resnet")
        >>> forward_fields(net, [torch.zeros(2, 1, 32, 32)], max_marks=4).shape
        torch.Size([2, 4, 7])
    """
    model.eval()
    dtype = amp_dtype(device, True)
    out = []
    for xb in batches:
        xb = xb.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=torch.device(device).type, dtype=dtype, enabled=dtype is not None):
            raw = model(xb)
        out.append(decode_fields(raw, stride=model.stride, max_marks=max_marks).cpu())
    return torch.cat(out) if out else torch.zeros(0, min(int(max_marks), 1), len(MARK_FIELDS))


def image_batches(x: np.ndarray, batch_size: int) -> list[torch.Tensor]:
    """``x [N, 1, H, W]`` as float32 CPU tensors of ``batch_size`` images in ``channels_last`` (made once).

    Example:
        >>> [tuple(b.shape) for b in image_batches(np.zeros((5, 1, 8, 8), np.float32), 2)]
        [(2, 1, 8, 8), (2, 1, 8, 8), (1, 1, 8, 8)]
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size {batch_size}: must be ≥ 1")
    out = []
    for i in range(0, len(x), batch_size):
        part = np.ascontiguousarray(x[i:i + batch_size], dtype=np.float32)
        part = part if part.flags.writeable else part.copy()  # a read-only cache: torch wants its own memory
        out.append(torch.from_numpy(part).contiguous(memory_format=torch.channels_last))
    return out


class ValidationSet:
    """Validation images and lesions prepared once; :meth:`fom` scores a model on them.

    Example:
        >>> from mammobench.training.detection_model import HeatmapDetector
        >>> v = ValidationSet(np.zeros((3, 1, 32, 32), np.float32), [[[4, 4, 12, 12]], [], []])
        >>> 0.0 <= v.fom(HeatmapDetector().build(arch="test_resnet")) <= 1.0
        True
    """

    def __init__(self, x: np.ndarray, boxes: list, *, batch_size: int = 64):
        self.batches = image_batches(x, batch_size)
        self.table = lesion_table(boxes)

    def fom(self, model: torch.nn.Module, *, device: str = "cpu", max_marks: int = 10, criterion: str = "centre",
            iou_threshold: float = 0.1) -> float:
        """The validation wAFROC of ``model`` (NaN without normal images or lesions)."""
        fields = forward_fields(model, self.batches, device=device, max_marks=max_marks)
        return score_fields(fields.double().numpy(), self.table, criterion=criterion, iou_threshold=iou_threshold)


__all__ = ["CRITERIA", "LesionTable", "ValidationSet", "forward_fields", "image_batches", "lesion_table",
           "score_fields"]
