"""Patch preprocessing: one fixed-field-of-view window per mammogram (lesion-centred or tissue-sampled).

Whole mammograms shrunk to the sizes a CPU can train on (64–128 px) make a 10 mm mass a few pixels
wide; the CBIS-DDSM-style answer is **patch classification**: a window of ``field_mm`` millimetres
(at the image's own pixel spacing) around the finding, resized to ``size``. The same function makes
the patches of real images (image cache) and of simulated ones (``physics`` generator), so both live
in one domain.

Rules (deterministic for an image id):

* intensities are normalised exactly as in :func:`mammobench.data.preprocess.preprocess_image`
  (flip to the left, breast percentiles 0.5–99.5 → [0, 1], background 0);
* an image with findings: the window is centred on one finding's box (chosen by the key), shifted by a
  uniform jitter of ±``jitter`` × field in x and y, so the lesion is not always at the exact centre;
* an image without findings: the centre is drawn uniformly from the breast's core (at least
  ``field / 3`` inside the skin line, or the deepest part of a small breast), like lesion centres,
  which sit 10–15 mm or more inside the skin. (Weighting by intensity, to mimic the glandular prior
  of lesion sites, was tried and rejected: it draws the bright pectoral muscle, and "muscle in the
  window" then predicts *normal*.);
* the window may extend beyond the image: the outside is 0 (background), as in the whole-image pad.

The returned :class:`~mammobench.data.preprocess.ImageTransform` maps boxes and masks like the
whole-image one does.

Example:
    >>> import numpy as np
    >>> raw = np.zeros((200, 160), np.float32); raw[20:180, 0:120] = 1000.0; raw[90:110, 50:70] = 1500.0
    >>> patch, tf = preprocess_patch(raw, laterality="L", size=32, field_px=64, boxes=[[50, 90, 70, 110]],
    ...                              key="img-1", jitter=0.0)
    >>> patch.shape, tf.apply_boxes(np.array([[50, 90, 70, 110]])).round(1).tolist()
    ((32, 32), [[11.0, 11.0, 21.0, 21.0]])
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
from scipy import ndimage

from mammobench.data.preprocess import (ImageTransform, _as_size, _decide_flip, breast_mask, normalise_in_breast,
                                        paste_resized)
from mammobench.errors import DataError

_COARSE = 256  # centre sampling runs on a grid of at most this many pixels per side


def patch_rng(key: str) -> np.random.Generator:
    """The per-image random stream of the patch rules (a hash of the image id; no global state)."""
    digest = hashlib.sha256(f"mammobench-patch:{key}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def field_pixels(field_mm: float, pixel_spacing_mm: float, *, where: str = "") -> float:
    """Window side in pixels for a field of view in mm at a pixel spacing.

    Raises:
        DataError: the spacing is unknown (NaN) or not positive.

    Example:
        >>> field_pixels(60.0, 0.9375)
        64.0
    """
    if not (isinstance(pixel_spacing_mm, (int, float)) and math.isfinite(pixel_spacing_mm) and pixel_spacing_mm > 0):
        raise DataError(f"{where + ': ' if where else ''}patch preprocessing needs the pixel spacing, but the image "
                        f"has none ({pixel_spacing_mm!r}); add PixelSpacing/ImagerPixelSpacing or pixel_spacing_mm "
                        "to the manifest, or use whole-image preprocessing (patch_mm: null)")
    return float(field_mm) / float(pixel_spacing_mm)


def _normalised(arr: np.ndarray, laterality: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Flip to the left, normalise inside the breast to [0, 1], zero the background."""
    mask = breast_mask(arr)
    flipped = _decide_flip(mask, laterality)
    if flipped:
        arr, mask = arr[:, ::-1], mask[:, ::-1]
    return normalise_in_breast(arr, mask), mask, flipped


def _tissue_centre(mask: np.ndarray, side: float, rng: np.random.Generator) -> tuple[float, float]:
    """A window centre drawn uniformly from the breast's core (at least ``side / 3`` inside the skin line)."""
    step = max(1, int(math.ceil(max(mask.shape) / _COARSE)))
    inside = mask[::step, ::step]
    if not inside.any():
        return mask.shape[1] / 2.0, mask.shape[0] / 2.0
    depth = ndimage.distance_transform_edt(inside)
    core = depth >= min(side / (3.0 * step), float(depth.max()))
    ys, xs = np.nonzero(core)
    k = int(rng.integers(len(xs)))
    return (xs[k] + rng.uniform()) * step, (ys[k] + rng.uniform()) * step


def patch_centre(mask: np.ndarray, boxes: list, *, side: float, key: str, jitter: float) -> tuple[float, float]:
    """The window centre (x, y) in flipped-image pixels: a finding's box centre + jitter, or sampled tissue."""
    rng = patch_rng(key)
    if boxes:
        x0, y0, x1, y1 = boxes[int(rng.integers(len(boxes)))]
        dx, dy = rng.uniform(-jitter, jitter, size=2) * side
        return (x0 + x1) / 2.0 + dx, (y0 + y1) / 2.0 + dy
    return _tissue_centre(mask, side, rng)


def preprocess_patch(pixels: np.ndarray, *, laterality: str, size: int | tuple[int, int], field_px: float,
                     boxes: list | None = None, key: str, jitter: float = 0.25) -> tuple[np.ndarray, ImageTransform]:
    """Cut one normalised ``field_px`` × ``field_px`` window and resize it to ``size``.

    Args:
        pixels: ``[H, W]`` raw pixels, MONOCHROME2 orientation (bright = dense).
        laterality: ``'L'`` or ``'R'``.
        size: output size ``N`` or ``(H, W)`` (a square window is resized to it).
        field_px: window side in input pixels (see :func:`field_pixels`).
        boxes: findings' boxes ``x0, y0, x1, y1`` in the ORIGINAL (unflipped) pixel grid; empty for normals.
        key: the image's identity (seeds the jitter / tissue sampling).
        jitter: maximum centre shift as a fraction of the field.

    Returns:
        ``(patch, transform)``; ``transform.apply_boxes`` maps original boxes to patch pixels.

    Raises:
        DataError: not a 2-D image, or a non-positive field.
    """
    arr = np.asarray(pixels, dtype=np.float32)
    if arr.ndim != 2 or arr.size == 0:
        raise DataError(f"preprocess_patch needs a non-empty 2-D array, got shape {arr.shape}")
    if not field_px > 1:
        raise DataError(f"preprocess_patch: field_px must exceed 1 pixel, got {field_px!r}")
    out_h, out_w = _as_size(size)
    norm, mask, flipped = _normalised(arr, laterality)
    width = arr.shape[1]
    flipped_boxes = [[width - b[2], b[1], width - b[0], b[3]] if flipped else list(b) for b in (boxes or [])]
    cx, cy = patch_centre(mask, flipped_boxes, side=field_px, key=key, jitter=jitter)
    half = field_px / 2.0
    wx0, wy0 = int(round(cx - half)), int(round(cy - half))
    side = max(2, int(round(field_px)))
    crop = (max(wx0, 0), max(wy0, 0), min(wx0 + side, arr.shape[1]), min(wy0 + side, arr.shape[0]))
    if crop[2] <= crop[0] or crop[3] <= crop[1]:  # window entirely outside: fall back to the image centre
        wx0, wy0 = (arr.shape[1] - side) // 2, (arr.shape[0] - side) // 2
        crop = (max(wx0, 0), max(wy0, 0), min(wx0 + side, arr.shape[1]), min(wy0 + side, arr.shape[0]))
    scale = min(out_w, out_h) / side
    tf = ImageTransform(arr.shape[0], arr.shape[1], flipped, crop, float(scale), (crop[0] - wx0) * scale,
                        (crop[1] - wy0) * scale, out_h, out_w)
    patch = paste_resized(norm[crop[1]:crop[3], crop[0]:crop[2]], tf)
    return np.clip(patch, 0.0, 1.0).astype(np.float32), tf
