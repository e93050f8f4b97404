"""Breast outline, pectoral muscle, compressed-thickness map and skin path (sections 3–4).

Everything is built for a *left* breast with the chest wall at image column 0 (x grows toward the
nipple, y grows downward); laterality is applied at the very end by mirroring. Lengths are mm.

* CC: a tilted ellipse arc cut by the chest wall (the Piras et al. parametric CC model, with the
  semi-axes drawn from their published statistics and scaled by the breast-size factor);
* MLO: the same body tilted nipple-down (φ ≈ 0.35 rad), joined to an axillary tail along the chest
  wall, and a pectoralis region ``x ≤ pw·(1 − y/ph)^κ`` at the top left;
* thickness: constant T0 in the compressed region, a semicircular fall-off of radius T0/2 near the
  skin line; skin path grows tangentially at the edge (the bright skin line).

Example:
    >>> import numpy as np
    >>> geo = build_geometry(np.random.default_rng(0), view="MLO", size=64, fov_mm=240.0,
    ...                      thickness_mm=50.0, breast_scale=1.0)
    >>> bool(geo.muscle.any()), geo.breast.dtype
    (True, dtype('bool'))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from mammobench.simulator.filters import gaussian_blur

SKIN_MM = 1.45
MUSCLE_GAP_REACH_MM = 30.0  # muscle distances are exact up to here (lesion margins reach 25 mm)


@dataclass
class Geometry:
    """Per-pixel geometry of one view (left-breast orientation)."""

    breast: np.ndarray      # bool [N, N], inside the skin line (muscle included)
    muscle: np.ndarray      # bool [N, N], pectoralis (MLO only)
    dist_mm: np.ndarray     # float32 distance to the skin line (chest wall / cut edges excluded)
    thickness: np.ndarray   # float32 T(x, y) in mm (0 outside)
    skin: np.ndarray        # float32 skin path s(x, y) in mm
    depth: np.ndarray       # float32 normalised depth along the nipple axis: 0 chest wall, 1 nipple
    lateral: np.ndarray     # float32 signed distance from the nipple axis in mm
    nipple_xy: tuple[float, float]
    thickness_mm: float
    pixel_mm: float
    params: dict
    muscle_gap_px: np.ndarray | None = None  # float32 px to the pectoral muscle (≤ 30 mm exact, inf beyond); None without muscle


def _ellipse(xx, yy, cx, cy, a, b, phi):
    """Inside-mask and rotated coordinates (u, v); ``xx`` a row [1, N], ``yy`` a column [N, 1].

    The products with cos φ and sin φ are taken on the 1-D coordinates and broadcast in the sums,
    so each full-size map costs one pass (same values as on a meshgrid, far fewer operations).
    """
    dx, dy = xx - cx, yy - cy
    u = dx * np.cos(phi) + dy * np.sin(phi)
    v = -dx * np.sin(phi) + dy * np.cos(phi)
    r2 = np.divide(u, a)
    r2 *= r2                      # (u/a)² as x·x, which is what ** 2 computes
    rv = np.divide(v, b)
    rv *= rv
    r2 += rv
    return r2 <= 1.0, u, v


def _outline_params(rng: np.random.Generator, view: str, fov: float, scale: float) -> dict:
    a = fov * float(np.clip(0.52 * np.exp(rng.normal(0, 0.25)), 0.42, 0.66)) * scale
    b = fov * float(np.clip(rng.normal(0.40, 0.05), 0.32, 0.46)) * min(scale, 1.05)
    k = float(rng.uniform(0.0, 0.15))
    if view == "CC":
        phi = float(rng.normal(0.0, 0.1))
        cy = fov * float(rng.normal(0.5, 0.03))
    else:
        phi = float(np.clip(rng.normal(0.35, 0.12), 0.1, 0.6))
        cy = fov * float(rng.normal(0.55, 0.03))
    a = min(a, (0.9 * fov) / (1.0 - k + 1e-6))
    return {"a": a, "b": b, "cx": -k * a, "cy": cy, "phi": phi, "k": k,
            "pw": fov * float(rng.uniform(0.15, 0.35)) * scale, "ph": fov * float(rng.uniform(0.45, 0.85)),
            "kappa": float(rng.uniform(0.8, 1.2))}


def _outline(xx, yy, prm: dict, view: str, pixel: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    body, u, v = _ellipse(xx, yy, prm["cx"], prm["cy"], prm["a"], prm["b"], prm["phi"])
    shape = body.astype(np.float32)
    if view == "MLO":  # axillary tail along the chest wall up to the top edge
        tail, _, _ = _ellipse(xx, yy, prm["cx"], prm["cy"] - 0.45 * prm["b"], 0.8 * prm["a"], 1.1 * prm["b"], -0.25)
        shape = np.maximum(shape, tail.astype(np.float32))
    shape = gaussian_blur(shape, max((9.0 if view == "MLO" else 4.0) / pixel, 0.5))
    breast = (shape >= 0.5) & (xx >= 0)   # xx is a row: broadcast to [N, N]
    return breast, u, v


def _distance_to_skin(breast: np.ndarray, view: str, pixel: float) -> np.ndarray:
    """Distance (mm) to the skin line; the chest wall (left edge) and MLO top edge are not skin."""
    pad = 16
    padded = np.pad(breast, pad, mode="constant")
    padded[:, :pad] = padded[:, pad:pad + 1]                 # breast continues behind the chest wall
    if view == "MLO":
        padded[:pad, :] = padded[pad:pad + 1, :]             # and above the top edge (axilla)
    padded[:pad, :pad] = padded[pad, pad]
    return _edt_of_region(padded, pixel, (slice(pad, -pad), slice(pad, -pad)))


def _edt_of_region(region: np.ndarray, scale: float, crop: tuple[slice, slice]) -> np.ndarray:
    """``(ndimage.distance_transform_edt(region) * scale)[crop]`` as float32, on the bounding box.

    The transform runs on the region's bounding box + 1 pixel. Exact: every pixel outside the box
    is background (distance 0), and a one-pixel background ring around the box holds each region
    pixel's nearest background pixel or one at most as far. Only the box's part inside ``crop`` is
    scaled and stored (no full-size float64 intermediates).
    """
    rows_out = range(region.shape[0])[crop[0]]
    cols_out = range(region.shape[1])[crop[1]]
    out = np.zeros((len(rows_out), len(cols_out)), dtype=np.float32)
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    if len(rows):
        y0, y1 = max(rows[0] - 1, 0), min(rows[-1] + 2, region.shape[0])
        x0, x1 = max(cols[0] - 1, 0), min(cols[-1] + 2, region.shape[1])
        dist = ndimage.distance_transform_edt(region[y0:y1, x0:x1])
        ya, yb = max(y0, rows_out.start), min(y1, rows_out.stop)   # the box ∩ the crop, in region coordinates
        xa, xb = max(x0, cols_out.start), min(x1, cols_out.stop)
        if ya < yb and xa < xb:
            out[ya - rows_out.start:yb - rows_out.start, xa - cols_out.start:xb - cols_out.start] = \
                dist[ya - y0:yb - y0, xa - x0:xb - x0] * scale
    return out


def muscle_gap(muscle: np.ndarray, pixel: float, reach_mm: float = MUSCLE_GAP_REACH_MM) -> np.ndarray | None:
    """Distance (px) from every pixel to the pectoral muscle, exact up to ``reach_mm``; ``inf`` beyond.

    The simulator only asks whether a pixel is within a few mm (retromuscular fat, 2–5 mm) or
    within a lesion's placement margin (≤ 25 mm) of the muscle, so the transform is computed on
    the muscle's bounding box grown by ``reach_mm`` (3× fewer pixels than the image at 256²).

    Example:
        >>> m = np.zeros((64, 64), bool); m[:10, :5] = True
        >>> gap = muscle_gap(m, pixel=1.0, reach_mm=20.0)
        >>> float(gap[0, 7]), bool(np.isinf(gap[63, 63]))
        (3.0, True)
    """
    if not muscle.any():
        return None
    reach = int(np.ceil(reach_mm / pixel)) + 1
    rows, cols = np.flatnonzero(muscle.any(axis=1)), np.flatnonzero(muscle.any(axis=0))
    ys = slice(max(rows[0] - reach, 0), min(rows[-1] + reach + 1, muscle.shape[0]))
    xs = slice(max(cols[0] - reach, 0), min(cols[-1] + reach + 1, muscle.shape[1]))
    out = np.full(muscle.shape, np.inf, dtype=np.float32)
    out[ys, xs] = ndimage.distance_transform_edt(~muscle[ys, xs])
    return out


def thickness_and_skin(dist_mm: np.ndarray, t0: float, skin_mm: float = SKIN_MM) -> tuple[np.ndarray, np.ndarray]:
    """Compressed thickness T(d) and skin path s(d) from the distance to the skin line (section 4).

    Example:
        >>> t, s = thickness_and_skin(np.array([0.0, 5.0, 100.0], dtype=np.float32), 50.0)
        >>> float(t[-1]), round(float(s[-1]), 2)
        (50.0, 2.9)
    """
    r = t0 / 2.0
    inside = dist_mm > 0
    gap2 = np.subtract(r, np.minimum(dist_mm, r))
    gap2 *= gap2                                    # (r − d)², computed once (x·x, as ** 2 does)

    def chord(radius2: float) -> np.ndarray:        # 2·sqrt(max(R² − (r − d)², 0)), in place
        out = np.subtract(radius2, gap2)
        np.maximum(out, 0.0, out=out)
        np.sqrt(out, out=out)
        out *= 2.0
        return out

    thick = np.where(inside, chord(r * r), 0.0)
    skin = np.where(inside, thick - chord((r - skin_mm) ** 2), 0.0)
    return thick.astype(np.float32, copy=False), skin.astype(np.float32, copy=False)


def build_geometry(rng: np.random.Generator, *, view: str, size: int, fov_mm: float,
                   thickness_mm: float, breast_scale: float) -> Geometry:
    """Sample an outline for ``view`` and derive all per-pixel geometry maps.

    Example:
        >>> g = build_geometry(np.random.default_rng(1), view="CC", size=64, fov_mm=240.0,
        ...                    thickness_mm=45.0, breast_scale=0.9)
        >>> float(g.thickness.max()) <= 45.0
        True
    """
    pixel = fov_mm / size
    coords = (np.arange(size, dtype=np.float32) + 0.5) * pixel
    xx, yy = coords[None, :], coords[:, None]   # broadcast like a meshgrid; per-row/column factors stay 1-D
    prm = _outline_params(rng, view, fov_mm, breast_scale)
    breast, u, v = _outline(xx, yy, prm, view, pixel)
    if view == "MLO":
        muscle = (yy < prm["ph"]) & (xx <= prm["pw"] * np.clip(1 - yy / prm["ph"], 0, 1) ** prm["kappa"]) & breast
    else:
        muscle = np.zeros_like(breast)
    dist = _distance_to_skin(breast, view, pixel)
    thick, skin = thickness_and_skin(dist, thickness_mm)
    reach = prm["a"] * (1.0 + prm["k"])  # chest wall (u = −k·a) → nipple (u = a)
    depth = np.clip((u + prm["k"] * prm["a"]) / reach, 0.0, 1.0)
    nipple = (prm["cx"] + prm["a"] * np.cos(prm["phi"]), prm["cy"] + prm["a"] * np.sin(prm["phi"]))
    gap = muscle_gap(muscle, pixel)
    return Geometry(breast=breast, muscle=muscle, dist_mm=dist, thickness=thick, skin=skin,
                    depth=depth.astype(np.float32), lateral=v.astype(np.float32),
                    nipple_xy=(nipple[0] / pixel, nipple[1] / pixel), thickness_mm=thickness_mm,
                    pixel_mm=pixel, params=prm, muscle_gap_px=gap)
