"""The one preprocessing function shared by the image cache and full-image generators.

Input: raw float pixels already in MONOCHROME2 orientation (bright = dense), NaN allowed for padding.
Steps: laterality normalisation (every breast on the LEFT of the image), breast-region crop
(threshold + largest connected component, so labels and padding are ignored), robust intensity
normalisation to ``[0, 1]`` inside the breast, aspect-preserving resize and pad to ``(H, W)``.
:class:`ImageTransform` records the geometry so boxes and masks can follow the pixels.

Example:
    >>> import numpy as np
    >>> raw = np.zeros((60, 40), np.float32); raw[10:50, 25:40] = 1000.0   # breast on the right
    >>> img, tf = preprocess_image(raw, laterality="R", size=32)
    >>> img.shape, tf.flipped
    ((32, 32), True)
    >>> tf.apply_boxes(np.array([[30.0, 20.0, 35.0, 30.0]])).round(1).tolist()
    [[3.8, 8.4, 7.6, 16.0]]
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from mammobench.errors import DataError

#: bump when the output of :func:`preprocess_image` changes (part of the cache key)
PREPROCESS_VERSION = "2"  # 2: breast mask threshold just above background (was Otsu: kept only the pectoral)
_LABEL_DOWNSAMPLE_TARGET = 512
_SIDE_MARGIN = 0.08  # centroid must be this far (fraction of width) from the centre to override laterality


@dataclass(frozen=True)
class ImageTransform:
    """Geometry of one preprocessing call: original grid → output pixels.

    Order of operations: horizontal flip (if ``flipped``) → crop ``crop_xyxy`` (in flipped
    coordinates) → scale by ``scale`` → shift by ``(offset_x, offset_y)``.
    """

    in_height: int
    in_width: int
    flipped: bool
    crop_xyxy: tuple[int, int, int, int]
    scale: float
    offset_x: float
    offset_y: float
    out_height: int
    out_width: int

    def apply_points(self, xy: np.ndarray) -> np.ndarray:
        """Map ``[n, 2]`` (x, y) points of the original grid to output pixels (continuous coordinates)."""
        pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2).copy()
        if self.flipped:
            pts[:, 0] = self.in_width - pts[:, 0]
        pts[:, 0] = (pts[:, 0] - self.crop_xyxy[0]) * self.scale + self.offset_x
        pts[:, 1] = (pts[:, 1] - self.crop_xyxy[1]) * self.scale + self.offset_y
        return pts

    def apply_boxes(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """Map ``[n, 4]`` boxes ``x0, y0, x1, y1`` (original pixels) to output pixels, clipped to the image.

        Example:
            >>> tf = ImageTransform(10, 10, True, (0, 0, 10, 10), 2.0, 0.0, 0.0, 20, 20)
            >>> tf.apply_boxes(np.array([[1, 2, 3, 4]])).tolist()
            [[14.0, 4.0, 18.0, 8.0]]
        """
        boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
        p0 = self.apply_points(boxes[:, :2])
        p1 = self.apply_points(boxes[:, 2:])
        out = np.concatenate([np.minimum(p0, p1), np.maximum(p0, p1)], axis=1)
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, self.out_width)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, self.out_height)
        return out

    def apply_mask(self, mask: np.ndarray) -> np.ndarray:
        """Map a mask on the original grid to a ``bool [H, W]`` mask on the output grid (nearest)."""
        mask = np.asarray(mask)
        if mask.shape != (self.in_height, self.in_width):
            raise DataError(f"mask shape {mask.shape} does not match the image ({self.in_height}, {self.in_width})")
        return _geometry(mask.astype(np.float32), self, Image.Resampling.NEAREST) > 0.5

    def to_dict(self) -> dict:
        """JSON-friendly form (stored in the cache index)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ImageTransform":
        """Inverse of :meth:`to_dict` (accepts the JSON form, where the crop is a list)."""
        return cls(**{**data, "crop_xyxy": tuple(int(v) for v in data["crop_xyxy"])})


def _as_size(size: int | tuple[int, int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if int(h) < 4 or int(w) < 4:
        raise DataError(f"preprocess size must be at least 4×4 pixels, got {size!r}")
    return int(h), int(w)


_BACKGROUND_FRACTION = 0.05


def breast_mask(pixels: np.ndarray) -> np.ndarray:
    """Boolean mask of the largest bright connected region (the breast) on a coarse grid.

    Returns a mask of the same shape as ``pixels``; all-False when the image is blank.
    """
    step = max(1, max(pixels.shape) // _LABEL_DOWNSAMPLE_TARGET)
    small = pixels[::step, ::step]
    vals = small[np.isfinite(small)]
    if vals.size == 0:
        return np.zeros(pixels.shape, bool)
    lo, hi = float(np.percentile(vals, 1)), float(np.percentile(vals, 99.5))
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return np.zeros(pixels.shape, bool)
    # just above the background: a histogram split (Otsu) lands between fatty tissue and the bright
    # pectoral muscle / dense tissue, and the 'largest component' then is the muscle alone
    thr = lo + _BACKGROUND_FRACTION * (hi - lo)
    fg = np.nan_to_num(small, nan=lo) > thr
    fg = ndimage.binary_opening(fg, structure=np.ones((3, 3)))
    labels, n = ndimage.label(fg)
    if n == 0:
        return np.zeros(pixels.shape, bool)
    sizes = ndimage.sum_labels(fg, labels, index=np.arange(1, n + 1))
    keep = ndimage.binary_fill_holes(labels == (int(np.argmax(sizes)) + 1))
    keep = ndimage.binary_dilation(keep, iterations=1)
    full = np.repeat(np.repeat(keep, step, axis=0), step, axis=1)
    return full[: pixels.shape[0], : pixels.shape[1]]


def _decide_flip(mask: np.ndarray, laterality: str) -> bool:
    """Flip when the breast sits on the right; laterality decides when the image is ambiguous."""
    width = mask.shape[1]
    cols = mask.sum(axis=0)
    if cols.sum() > 0:
        centroid = float((cols * np.arange(width)).sum() / cols.sum())
        offset = centroid / width - 0.5
        if abs(offset) > _SIDE_MARGIN:
            return offset > 0
    return str(laterality).upper().startswith("R")


def _robust_range(region: np.ndarray, inside: np.ndarray) -> tuple[float, float]:
    """0.5th / 99.5th percentiles of the breast pixels (on a strided sample of at most ~1M pixels)."""
    step = max(1, int(np.sqrt(region.size / 1_000_000)))
    sample, keep = region[::step, ::step], inside[::step, ::step]
    vals = sample[keep & np.isfinite(sample)] if keep.any() else sample[np.isfinite(sample)]
    if vals.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(vals, [0.5, 99.5])
    return float(lo), float(hi)


def normalise_in_breast(pixels: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Map the breast's 0.5–99.5 percentile range to [0, 1] (clipped) and set the background to 0.

    Shared by the whole-image and the patch preprocessing, so both see the same intensities.

    Example:
        >>> normalise_in_breast(np.array([[0.0, 10.0, 20.0]]), np.array([[False, True, True]])).round(2).tolist()
        [[0.0, 0.0, 1.0]]
    """
    lo, hi = _robust_range(pixels, inside)
    norm = np.clip((np.nan_to_num(pixels, nan=lo) - lo) * (1.0 / max(hi - lo, 1e-6)), 0.0, 1.0).astype(np.float32)
    if inside.any():
        norm[~inside] = 0.0
    return norm


def _geometry(img: np.ndarray, tf: ImageTransform, resample: Image.Resampling) -> np.ndarray:
    if tf.flipped:
        img = img[:, ::-1]
    x0, y0, x1, y1 = tf.crop_xyxy
    return paste_resized(img[y0:y1, x0:x1], tf, resample)


def paste_resized(region: np.ndarray, tf: ImageTransform,
                  resample: Image.Resampling = Image.Resampling.BILINEAR) -> np.ndarray:
    """The one resize-and-pad: scale an already flipped + cropped ``region`` by ``tf.scale`` and paste it
    at ``tf``'s offset into a zero ``[out_height, out_width]`` canvas (clipped at the canvas edge).

    Used for whole images, patches and masks alike, so an image and its mask always land on the same pixels.

    Example:
        >>> tf = ImageTransform(2, 2, False, (0, 0, 2, 2), 2.0, 0.0, 1.0, 6, 4)
        >>> paste_resized(np.ones((2, 2), np.float32), tf, Image.Resampling.NEAREST).sum(axis=1).tolist()
        [0.0, 4.0, 4.0, 4.0, 4.0, 0.0]
    """
    out = np.zeros((tf.out_height, tf.out_width), np.float32)
    ox, oy = int(round(tf.offset_x)), int(round(tf.offset_y))
    if ox >= tf.out_width or oy >= tf.out_height:
        return out
    new_w = max(1, min(tf.out_width - ox, int(round(region.shape[1] * tf.scale))))
    new_h = max(1, min(tf.out_height - oy, int(round(region.shape[0] * tf.scale))))
    image = Image.fromarray(np.ascontiguousarray(region, dtype=np.float32), mode="F")
    out[oy:oy + new_h, ox:ox + new_w] = np.asarray(image.resize((new_w, new_h), resample=resample))
    return out


def preprocess_image(pixels: np.ndarray, *, laterality: str,
                     size: int | tuple[int, int]) -> tuple[np.ndarray, ImageTransform]:
    """Flip, crop, normalise and resize one mammogram.

    Args:
        pixels: ``[H, W]`` raw pixels, MONOCHROME2 orientation (bright = dense); NaN = padding.
        laterality: ``'L'`` or ``'R'`` (used when the image itself is ambiguous about the side).
        size: output size ``N`` or ``(H, W)``.

    Returns:
        ``(image, transform)``: float32 ``[H, W]`` in ``[0, 1]`` with the breast against the left edge,
        and the :class:`ImageTransform` to map boxes/masks.

    Raises:
        DataError: when ``pixels`` is not a non-empty 2-D array.

    Example:
        >>> img, tf = preprocess_image(np.ones((8, 8)) * np.arange(8), laterality="L", size=(4, 4))
        >>> float(img.min()) >= 0.0 and float(img.max()) <= 1.0
        True
    """
    arr = np.asarray(pixels, dtype=np.float32)
    if arr.ndim != 2 or arr.size == 0:
        raise DataError(f"preprocess_image needs a non-empty 2-D array, got shape {arr.shape}")
    out_h, out_w = _as_size(size)
    mask = breast_mask(arr)
    flipped = _decide_flip(mask, laterality)
    if flipped:
        arr, mask = arr[:, ::-1], mask[:, ::-1]
    if mask.any():
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        crop = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    else:
        crop = (0, 0, arr.shape[1], arr.shape[0])
    cw, ch = crop[2] - crop[0], crop[3] - crop[1]
    scale = min(out_w / cw, out_h / ch)
    offset_y = float((out_h - min(out_h, int(round(ch * scale)))) // 2)
    tf = ImageTransform(arr.shape[0], arr.shape[1], flipped, crop, float(scale), 0.0, offset_y, out_h, out_w)
    inside = mask[crop[1]:crop[3], crop[0]:crop[2]]
    region = arr[crop[1]:crop[3], crop[0]:crop[2]]
    image = paste_resized(normalise_in_breast(region, inside), tf)
    return np.clip(image, 0.0, 1.0).astype(np.float32), tf
