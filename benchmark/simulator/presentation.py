"""Vendor-style "for presentation" processing (section 9), parameters from :mod:`vendors`.

log-transform → thickness equalisation ``L += k·μ_a·(T0 − T)`` → unsharp masking restricted to the
breast (normalised convolution, so air does not bleed in) → windowing to breast percentiles
1–99.5 → gamma LUT. Output: float32 in [0, 1], bright = dense (MONOCHROME2 orientation), air 0.

Example:
    >>> import numpy as np
    >>> from mammobench.simulator.imaging import RawImage
    >>> raw = RawImage(np.full((8, 8), 100.0, np.float32), np.full((8, 8), 1000.0, np.float32), {})
    >>> m = np.ones((8, 8), bool)
    >>> out = present(raw, m, np.full((8, 8), 50.0, np.float32), 50.0, 7.5,
    ...               {"equalisation": 0.8, "unsharp_gain": 0.5, "unsharp_sigma_mm": 4.0, "gamma": 1.0})
    >>> out.dtype, float(out.max()) <= 1.0
    (dtype('float32'), True)
"""
from __future__ import annotations

import numpy as np

from mammobench.simulator.filters import gaussian_blur
from mammobench.simulator.imaging import MU

FAT_FLOOR = 0.12  # darkest breast value: fat is dark grey, air black


def _masked_blur(image: np.ndarray, mask: np.ndarray, sigma_px: float) -> np.ndarray:
    """Normalised convolution: blur of the masked image ÷ blur of the mask (both in one FFT pass)."""
    m = mask.astype(np.float32)
    num, den = gaussian_blur(np.stack([image * m, m]), sigma_px)
    return np.where(den > 1e-3, num / np.maximum(den, 1e-3), image)


def present(raw, breast: np.ndarray, thickness: np.ndarray, thickness_mm: float, pixel_mm: float,
            params: dict) -> np.ndarray:
    """Apply one site's processing chain to a raw image; returns float32 [H, W] in [0, 1]."""
    log = -np.log(np.maximum(raw.counts, 1.0) / np.maximum(raw.air_counts, 1.0))
    log = np.where(breast, log + params["equalisation"] * MU["adipose"] * (thickness_mm - thickness), 0.0)
    sigma_px = params["unsharp_sigma_mm"] / pixel_mm
    out = np.zeros(log.shape, dtype=np.float32)
    if not breast.any():   # no breast: all air (0)
        return out
    inside = (log + params["unsharp_gain"] * (log - _masked_blur(log, breast, sigma_px)))[breast]
    lo, hi = np.percentile(inside, [1.0, 99.5])
    scaled = np.clip((inside - lo) / max(hi - lo, 1e-6), 0.0, 1.0)   # the LUT only on breast pixels
    out[breast] = FAT_FLOOR + (1.0 - FAT_FLOOR) * scaled ** params["gamma"]
    return out


def to_stored(image: np.ndarray, bits_stored: int, photometric: str) -> np.ndarray:
    """Quantise a [0, 1] presentation image to ``bits_stored`` unsigned integers (uint16).

    MONOCHROME1 stores the inverted image (air bright), as those vendors do.

    Example:
        >>> to_stored(np.array([[0.0, 1.0]], np.float32), 12, "MONOCHROME1").tolist()
        [[4095, 0]]
    """
    top = (1 << bits_stored) - 1
    stored = np.round(np.clip(image, 0.0, 1.0) * top).astype(np.uint16)
    if photometric == "MONOCHROME1":
        stored = (top - stored).astype(np.uint16)
    return stored
