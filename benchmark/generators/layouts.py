"""Window layouts for synthesised backgrounds: image border and pectoral muscle, learned as numbers.

A 60 mm window of a real mammogram is rarely all breast tissue. In the virtual cohort's training
normals about half the windows run past the image border on the chest-wall side (a straight black
strip, median 17 of 64 px), and about a quarter of them show the pectoral muscle (a bright, smooth
wedge, almost only in MLO views); lesion windows, centred on their finding, show both less often.
A texture model alone draws every window as pure tissue, and an oracle trained on real windows
reads that as "not a normal window" — so the learned baselines' normal rows were called lesions.

:func:`layout_rows` measures, per training window, *geometric summary numbers* — the border
strip widths on each side, the pectoral muscle's share of the breast area and its direction, the air
share beyond the border (skin line); :func:`muscle_quantiles` pools the muscle's grey levels. The
background model keeps these tables per (label group, view); a synthetic background draws one row
(a joint draw keeps the numbers' correlations), moves it a little (:func:`jitter_row`) and renders it
(:func:`render_layout`): zeros for the strip, a half-plane wedge with the muscle's
grey levels, the curved skin line of :mod:`mammobench.generators.backgrounds`. No pixel of a
training image is kept; the label group (``normal`` / ``lesion``) is a condition, so a generator
asked for a lesion window draws a lesion window's layout.

Example:
    >>> import numpy as np
    >>> x = np.zeros((2, 16, 16), np.float32); x[:, :, 4:] = 0.4; x[1, :6, 4:10] = 0.95
    >>> rows = layout_rows(x)
    >>> rows[:, :2].tolist(), bool(rows[1, PECTORAL] > 0)
    ([[4.0, 0.0], [4.0, 0.0]], True)
"""
from __future__ import annotations

from typing import Callable

import numpy as np

BREAST_THRESHOLD = 0.02  # pixels above this are breast (the simulator and the DICOM pipeline leave air at 0)
MUSCLE_LEVEL = 0.8  # the pectoral muscle is the brightest structure of a normalised window
MIN_MUSCLE_SHARE = 0.08  # of the breast area: smaller bright areas are dense tissue, not muscle
N_QUANTILES = 33
STRIP_JITTER, SHARE_JITTER, ANGLE_JITTER = 0.05, 0.2, 0.2  # see jitter_row
# columns of a layout row
LEFT, RIGHT, TOP, BOTTOM, PECTORAL, ANGLE, SKIN_AIR = range(7)


def _edge_runs(zero: np.ndarray) -> np.ndarray:
    """Leading all-zero columns from the left/right and rows from the top/bottom, ``[n, 4]``."""
    def run(b: np.ndarray) -> np.ndarray:
        n = np.argmin(b, axis=1).astype(np.float64)
        n[b.all(axis=1)] = b.shape[1]
        return n
    cols, rows = zero.all(axis=1), zero.all(axis=2)
    return np.stack([run(cols), run(cols[:, ::-1]), run(rows), run(rows[:, ::-1])], axis=1)


def _strip_mask(h: int, w: int, strips: np.ndarray) -> np.ndarray:
    """The border strips (left, right, top, bottom widths in px) as a boolean ``[h, w]`` mask."""
    left, right, top, bottom = (int(v) for v in strips[:4])
    mask = np.zeros((h, w), bool)
    mask[:, :left] = mask[:, w - right:] = True
    mask[:top] = mask[h - bottom:] = True
    return mask


def quantile_map(values: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """``values`` mapped rank by rank onto a quantile function (same shape): keeps their order, takes its grey levels.

    Example:
        >>> quantile_map(np.array([[3.0, 1.0], [2.0, 0.0]]), np.array([0.0, 1.0])).tolist()
        [[0.875, 0.375], [0.625, 0.125]]
    """
    ranks = (np.argsort(np.argsort(values, axis=None)) + 0.5) / values.size
    return np.interp(ranks, np.linspace(0, 1, len(quantiles)), quantiles).reshape(values.shape)


def layout_rows(images: np.ndarray) -> np.ndarray:
    """One layout row per image: border strips (px), muscle share and angle, air share beyond the strips.

    The muscle is the bright (> ``MUSCLE_LEVEL``) part of the breast when it covers at least
    ``MIN_MUSCLE_SHARE`` of it; its angle is the direction (radians) from the breast's centroid to
    the muscle's. ``SKIN_AIR`` is the image share of air that the border strips do not explain.

    Example:
        >>> x = np.full((1, 8, 8), 0.4, np.float32); x[0, :, :3] = 0.0
        >>> layout_rows(x)[0].tolist()
        [3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    x = np.asarray(images, np.float32)
    n, h, w = x.shape
    runs = _edge_runs(x == 0)
    breast = x > BREAST_THRESHOLD
    bright = breast & (x > MUSCLE_LEVEL)
    share = bright.sum(axis=(1, 2)) / np.maximum(breast.sum(axis=(1, 2)), 1)
    yy, xx = np.mgrid[0:h, 0:w]
    angle = np.zeros(n)
    for i in np.flatnonzero(share >= MIN_MUSCLE_SHARE):
        b, m = breast[i], bright[i]
        angle[i] = np.arctan2(yy[m].mean() - yy[b].mean(), xx[m].mean() - xx[b].mean())
    strip = np.stack([_strip_mask(h, w, r) for r in runs]) if n else np.zeros((0, h, w), bool)
    skin_air = ((~breast) & ~strip).mean(axis=(1, 2))
    muscle = np.where(share >= MIN_MUSCLE_SHARE, share, 0.0)
    return np.column_stack([runs, muscle, angle, skin_air]).astype(np.float64)


def muscle_quantiles(images: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Grey-level quantile function of the muscle pixels of the windows that show one (pooled).

    Example:
        >>> x = np.full((1, 8, 8), 0.4, np.float32); x[0, :4, :4] = 0.9
        >>> q = muscle_quantiles(x, layout_rows(x)); len(q), round(float(q[0]), 2)
        (33, 0.9)
    """
    shown = rows[:, PECTORAL] > 0
    if not shown.any():
        return np.linspace(MUSCLE_LEVEL, 1.0, N_QUANTILES)
    pixels = np.concatenate([img[img > MUSCLE_LEVEL] for img in np.asarray(images)[shown]])
    return np.quantile(pixels, np.linspace(0, 1, N_QUANTILES))


def jitter_row(row: np.ndarray, rng: np.random.Generator, side: int) -> np.ndarray:
    """A layout row near a drawn training row (a kernel-density draw, not the training window's exact numbers).

    Strip widths move by a rounded N(0, ``STRIP_JITTER``·side) px (a strip stays a strip), shares by a
    factor exp(N(0, ``SHARE_JITTER``)), the muscle's direction by N(0, ``ANGLE_JITTER``) radians. Drawing
    the exact numbers of one training window reproduced its outline: the pixel-space copy detector
    then found synthetic windows as close to a training window as held-out windows almost never are.

    Example:
        >>> row = np.array([17.0, 0, 0, 0, 0.3, 1.0, 0.0])
        >>> out = jitter_row(row, np.random.default_rng(0), 64)
        >>> bool(out[LEFT] > 0 and out[RIGHT] == 0 and 0 < out[PECTORAL] < 1)
        True
    """
    out = np.asarray(row, np.float64).copy()
    for k in (LEFT, RIGHT, TOP, BOTTOM):
        if out[k] > 0:
            out[k] = float(np.clip(np.rint(out[k] + rng.normal(0, STRIP_JITTER * side)), 1, side - 2))
    if out[PECTORAL] > 0:
        out[PECTORAL] = float(np.clip(out[PECTORAL] * np.exp(rng.normal(0, SHARE_JITTER)), 0.02, 0.95))
        out[ANGLE] += rng.normal(0, ANGLE_JITTER)
    if out[SKIN_AIR] > 0:
        out[SKIN_AIR] = float(np.clip(out[SKIN_AIR] * np.exp(rng.normal(0, SHARE_JITTER)), 0.0, 0.9))
    return out


def _half_plane(region: np.ndarray, angle: float, share: float) -> np.ndarray:
    """The part of ``region`` furthest along ``angle`` that covers ``share`` of it (a straight-edged wedge)."""
    h, w = region.shape
    yy, xx = np.mgrid[0:h, 0:w]
    along = np.cos(angle) * xx + np.sin(angle) * yy
    if not region.any():
        return region.copy()
    cut = np.quantile(along[region], 1.0 - share)
    return region & (along >= cut)


def render_layout(tissue: np.ndarray, row: np.ndarray, muscle_q: np.ndarray, rng: np.random.Generator,
                  skin: Callable[[float], np.ndarray] | None = None) -> np.ndarray:
    """Apply one layout row to a tissue field: skin line (``skin(fraction)`` gives a breast mask), muscle, strips.

    Example:
        >>> tissue = np.full((16, 16), 0.4, np.float32)
        >>> row = np.array([4.0, 0, 0, 0, 0.25, np.pi, 0.0])
        >>> img = render_layout(tissue, row, np.linspace(0.85, 1.0, 33), np.random.default_rng(0))
        >>> bool((img[:, :4] == 0).all() and img.max() >= 0.85)
        True
    """
    h, w = tissue.shape
    out = tissue.astype(np.float32, copy=True)
    if skin is not None and row[SKIN_AIR] > 0.01:
        out[~skin(1.0 - float(row[SKIN_AIR]))] = 0.0
    strip = _strip_mask(h, w, row)
    if row[PECTORAL] > 0:
        region = (~strip) & (out > BREAST_THRESHOLD)
        wedge = _half_plane(region, float(row[ANGLE]), float(row[PECTORAL]))
        if wedge.any():
            yy, xx = np.mgrid[0:h, 0:w]
            # smooth: brighter towards the chest wall, a little low-frequency variation
            drive = -(np.cos(row[ANGLE]) * xx + np.sin(row[ANGLE]) * yy) / max(h, w) \
                + 0.15 * rng.standard_normal() * np.sin(2 * np.pi * (xx / w + rng.random()))
            out[wedge] = quantile_map(drive[wedge], muscle_q)
    out[strip] = 0.0
    return np.clip(out, 0.0, 1.0)


__all__ = ["BREAST_THRESHOLD", "LEFT", "PECTORAL", "SKIN_AIR", "jitter_row", "layout_rows", "muscle_quantiles",
           "quantile_map", "render_layout"]
