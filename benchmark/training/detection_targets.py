"""Training targets and loss of the heatmap detector (CenterNet, Zhou et al. 2019, "Objects as Points").

:func:`render_targets` draws, for a batch of images and their lesion boxes (input pixels), the
output-grid targets: a Gaussian peak of height 1 at each lesion's centre cell (σ from the box size,
so a large asymmetry is a broad peak and a calcification cluster a narrow one; overlapping peaks
take the maximum), and at each centre cell the box size (log w, log h in cells) and the sub-cell
offset of the centre. :func:`detection_loss` is the penalty-reduced pixel-wise focal loss on the
heatmap (α = 2, β = 4) plus L1 losses on size and offset at the centre cells, normalised by the number
of lesions in the batch (at least 1, so lesion-free batches still teach "no peak here").

Example:
    >>> import torch
    >>> t = render_targets([[[8.0, 8.0, 16.0, 16.0]], []], out_size=(8, 8), stride=4)
    >>> t["heat"].shape, float(t["heat"][0, 0, 3, 3]), int(t["mask"].sum())
    (torch.Size([2, 1, 8, 8]), 1.0, 1)
    >>> out = torch.zeros(2, 5, 8, 8)
    >>> round(float(detection_loss(out, t)), 3) > 0
    True
"""
from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

SIZE_WEIGHT = 0.1     # CenterNet's λ_size
OFFSET_WEIGHT = 1.0   # CenterNet's λ_off
MIN_SIGMA = 0.5       # output cells


def _sigma(width: float, height: float) -> float:
    """Gaussian σ (cells) of a lesion of the given box size (cells): a sixth of the box diagonal."""
    return max(MIN_SIGMA, float(np.hypot(width, height)) / 6.0)


def render_targets(boxes: list[list[list[float]]], *, out_size: tuple[int, int], stride: int) -> dict[str, torch.Tensor]:
    """Targets for a batch: ``heat [N,1,h,w]``, ``size``/``offset`` ``[N,2,h,w]``, ``mask [N,1,h,w]``.

    Args:
        boxes: per image, a list of ``[x0, y0, x1, y1]`` boxes in input pixels (empty for a normal image).
        out_size: ``(h, w)`` of the output grid.
        stride: input pixels per output cell.
    """
    h, w = out_size
    n = len(boxes)
    heat = np.zeros((n, 1, h, w), np.float32)
    size = np.zeros((n, 2, h, w), np.float32)
    offset = np.zeros((n, 2, h, w), np.float32)
    mask = np.zeros((n, 1, h, w), np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for i, image_boxes in enumerate(boxes):
        for x0, y0, x1, y1 in image_boxes:
            bw, bh = max(x1 - x0, 1.0) / stride, max(y1 - y0, 1.0) / stride
            cx, cy = (x0 + x1) / 2 / stride, (y0 + y1) / 2 / stride
            col, row = int(np.clip(np.floor(cx), 0, w - 1)), int(np.clip(np.floor(cy), 0, h - 1))
            sig = _sigma(bw, bh)
            peak = np.exp(-((xs - col) ** 2 + (ys - row) ** 2) / (2 * sig * sig))
            np.maximum(heat[i, 0], peak, out=heat[i, 0])
            size[i, :, row, col] = np.log(bw), np.log(bh)
            offset[i, :, row, col] = cx - col - 0.5, cy - row - 0.5
            mask[i, 0, row, col] = 1.0
    return {k: torch.from_numpy(v) for k, v in (("heat", heat), ("size", size), ("offset", offset), ("mask", mask))}


def focal_heatmap_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """Sum of CenterNet's penalty-reduced focal loss over all cells (float32, numerically stable)."""
    logits = logits.float()
    prob = torch.sigmoid(logits)
    log_p, log_not_p = F.logsigmoid(logits), F.logsigmoid(-logits)
    centre = target.eq(1.0).float()
    pos = centre * (1 - prob) ** alpha * log_p
    neg = (1 - centre) * (1 - target) ** beta * prob ** alpha * log_not_p
    return -(pos + neg).sum()


def detection_loss(out: torch.Tensor, targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """Focal heatmap loss + λ_size·L1(size) + λ_off·L1(offset) at centre cells, per lesion.

    Args:
        out: network output ``[N, 5, h, w]`` (heatmap logit, log w, log h, offset x, offset y).
        targets: :func:`render_targets` output on the same device.
    """
    mask = targets["mask"]
    n_lesions = mask.sum().clamp(min=1.0)
    heat = focal_heatmap_loss(out[:, :1], targets["heat"])
    size = (F.l1_loss(out[:, 1:3].float(), targets["size"], reduction="none") * mask).sum()
    offset = (F.l1_loss(out[:, 3:5].float(), targets["offset"], reduction="none") * mask).sum()
    return (heat + SIZE_WEIGHT * size + OFFSET_WEIGHT * offset) / n_lesions


__all__ = ["detection_loss", "focal_heatmap_loss", "render_targets"]
