"""Lesion models with exact ground truth (section 6): mass, calcification cluster, architectural
distortion, asymmetry.

Each model works in a local window around its centre (the full-image version was the
prototype's hotspot) and returns a :class:`Lesion` holding full-size maps — tumour thickness,
calcification thickness and its attenuation, an additive glandular-fraction change, a pull-in
warp — plus the exact mask. Sub-pixel objects (calcifications, spicules, distortion strands) are
deposited as *integrated* thickness (volume / pixel area), so contrast scales correctly with
resolution: at 256² (0.94 mm pixels) fine calcifications and spicules are faint, as they are in
reality at that resolution.

Example:
    >>> import numpy as np
    >>> canvas = Canvas(size=64, pixel_mm=1.0, tissue=np.full((64, 64), 40.0, np.float32))
    >>> les = make_mass(np.random.default_rng(0), canvas, (32.0, 32.0), 12.0, "oval", "circumscribed")
    >>> bool(les.mask[32, 32]), bool(les.mask.sum() > 50)
    (True, True)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

MU_HYDROXYAPATITE = 1.86   # mm⁻¹, spectrum-effective behind 4.5 cm (W/Rh 28 kVp; section 8)
MU_OXALATE = 0.759
HARMONIC_AMPLITUDE = {"round": 0.03, "oval": 0.08, "lobulated": 0.15, "irregular": 0.3, "spiculated": 0.2}


@dataclass
class Canvas:
    """What a lesion model needs to know about the image: grid and non-skin tissue thickness."""

    size: int
    pixel_mm: float
    tissue: np.ndarray   # T − s (mm)


@dataclass
class Lesion:
    """Full-size maps and ground truth of one inserted lesion."""

    mask: np.ndarray
    t_mass: np.ndarray | None = None
    t_calc: np.ndarray | None = None
    mu_calc: float = 0.0
    delta_g: np.ndarray | None = None
    strands: np.ndarray | None = None        # glandular-equivalent thickness of distortion strands (mm)
    warp: tuple[np.ndarray, np.ndarray] | None = None   # source coordinates (rows, cols) for g
    info: dict = field(default_factory=dict)


def _window(canvas: Canvas, centre: tuple[float, float], half_mm: float):
    half = int(np.ceil(half_mm / canvas.pixel_mm)) + 1
    cx, cy = int(round(centre[0])), int(round(centre[1]))
    x0, x1 = max(cx - half, 0), min(cx + half + 1, canvas.size)
    y0, y1 = max(cy - half, 0), min(cy + half + 1, canvas.size)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = (xs + 0.5 - centre[0]) * canvas.pixel_mm, (ys + 0.5 - centre[1]) * canvas.pixel_mm
    return (slice(y0, y1), slice(x0, x1)), dx, dy


def _full(canvas: Canvas, win, local: np.ndarray, dtype=np.float32) -> np.ndarray:
    out = np.zeros((canvas.size, canvas.size), dtype=dtype)
    out[win] = local
    return out


def _deposit_polylines(canvas: Canvas, polylines: list[tuple[np.ndarray, float]], out: np.ndarray) -> None:
    """Integrated thickness deposition of thin curves (bilinear splat of volume / pixel area).

    ``polylines`` holds ``(points_mm [k, 2], volume_per_mm)`` pairs; each segment is sampled at
    ≥ 3 points per pixel. All segments of all curves are sampled at once and splatted in one
    ``np.add.at``, in the order the former per-segment loop used (segment by segment, each corner's
    points in turn), so the float32 sums in ``out`` are the same to the last bit.
    """
    if not polylines:
        return
    segments = [np.diff(points, axis=0) for points, _ in polylines]
    start = np.concatenate([points[:-1] for points, _ in polylines])
    seg = np.concatenate(segments)
    volume = np.concatenate([np.full(len(d), vol) for d, (_, vol) in zip(segments, polylines)])
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    counts = np.maximum(np.ceil(lengths / (canvas.pixel_mm / 3.0)).astype(np.int64), 1)
    owner = np.repeat(np.arange(len(counts)), counts)              # segment of each sample
    k = np.arange(owner.size) - (np.cumsum(counts) - counts)[owner]
    ts = (k + 0.5) / counts[owner]
    pts = start[owner] + ts[:, None] * seg[owner]
    values = volume[owner] * lengths[owner] / counts[owner] / canvas.pixel_mm ** 2
    yi, xi, w = _corners(out.shape[0], pts / canvas.pixel_mm - 0.5, values)
    order = np.argsort((owner * 4)[None, :] + np.arange(4)[:, None], axis=None, kind="stable")
    np.add.at(out, (yi.ravel()[order], xi.ravel()[order]), w.ravel()[order])


def _corners(n: int, xy_px: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear splat targets: rows, columns and weighted values, shape [4 corners, points]."""
    x, y = xy_px[:, 0], xy_px[:, 1]
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    offsets = ((0, 0), (1, 0), (0, 1), (1, 1))
    weights = ((1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy)
    xi = np.stack([np.clip(x0 + ox, 0, n - 1) for ox, _ in offsets])
    yi = np.stack([np.clip(y0 + oy, 0, n - 1) for _, oy in offsets])
    return yi, xi, np.stack([values * w for w in weights])


def splat(out: np.ndarray, xy_px: np.ndarray, values: np.ndarray) -> None:
    """Add ``values`` at sub-pixel positions ``xy_px`` (x, y; pixel centres at integers), bilinear.

    Example:
        >>> out = np.zeros((4, 4), np.float32)
        >>> splat(out, np.array([[1.5, 1.0]]), np.array([2.0]))
        >>> out[1, 1:3].tolist()
        [1.0, 1.0]
    """
    yi, xi, w = _corners(out.shape[0], xy_px, values)
    np.add.at(out, (yi.ravel(), xi.ravel()), w.ravel())


def _radius_function(rng, shape: str, margin: str, theta: np.ndarray, radius: float) -> np.ndarray:
    q = rng.uniform(0.9, 1.0) if shape == "round" else rng.uniform(0.6, 0.85)
    psi = rng.uniform(0, np.pi)
    ell = 1.0 / np.sqrt(np.cos(theta - psi) ** 2 + (np.sin(theta - psi) / q) ** 2)
    amp = HARMONIC_AMPLITUDE.get(shape, 0.1) * (rng.uniform(0.8, 1.2) if shape != "irregular" else rng.uniform(0.83, 1.17))
    pert = sum((amp / k) * rng.standard_normal() * np.cos(k * theta + rng.uniform(0, 2 * np.pi)) for k in range(2, 7))
    if margin == "microlobulated":
        pert = pert + sum(0.02 * rng.standard_normal() * np.cos(k * theta + rng.uniform(0, 2 * np.pi)) for k in range(8, 17))
    return radius * ell * (1.0 + pert)


def _spicules(rng, canvas: Canvas, centre_px, radius: float) -> np.ndarray:
    out = np.zeros((canvas.size, canvas.size), dtype=np.float32)
    centre_mm = (np.asarray(centre_px) + 0.5) * canvas.pixel_mm
    polylines = []
    for _ in range(int(rng.integers(10, 41))):
        ang, length = rng.uniform(0, 2 * np.pi), rng.uniform(0.8, 2.5) * radius
        width = rng.uniform(0.3, 0.8)
        bend = rng.normal(0, 0.15)
        s = np.linspace(0.0, 1.0, 6)
        angs = ang + bend * s
        pts = centre_mm + np.stack([np.cos(angs), np.sin(angs)], 1) * (0.9 * radius + s * length)[:, None]
        polylines.append((pts, np.pi / 4 * width ** 2 * 0.5))  # tapering ≈ half the volume
    _deposit_polylines(canvas, polylines, out)
    return out


def make_mass(rng: np.random.Generator, canvas: Canvas, centre_px: tuple[float, float], diameter_mm: float,
              shape: str, margin: str) -> Lesion:
    """Mass: ellipsoid-like body with a harmonic radial function, optional blur margin and spicules."""
    radius = diameter_mm / 2.0
    win, dx, dy = _window(canvas, centre_px, radius * (3.6 if shape == "spiculated" else 1.6) + 4.0)
    rho, theta = np.hypot(dx, dy), np.arctan2(dy, dx)
    r_theta = np.maximum(_radius_function(rng, shape, margin, theta, radius), 0.3 * radius)
    depth = rng.uniform(0.8, 1.0) * radius
    t_local = 2.0 * depth * np.sqrt(np.clip(1.0 - (rho / r_theta) ** 2, 0.0, None))
    inside = (rho <= r_theta).astype(np.float32)
    if margin in ("obscured", "indistinct"):
        sigma = rng.uniform(0.5, 2.0) / canvas.pixel_mm
        t_local = ndimage.gaussian_filter(t_local, sigma)
        inside = ndimage.gaussian_filter(inside, sigma)
    t_mass = np.minimum(_full(canvas, win, t_local), canvas.tissue)
    mask = _full(canvas, win, inside) >= 0.5
    if shape == "spiculated":
        spic = np.minimum(_spicules(rng, canvas, centre_px, radius), canvas.tissue)
        t_mass = np.maximum(t_mass, spic)
        mask |= spic > 0.05
    mask[canvas.tissue <= 0] = False
    return Lesion(mask=mask, t_mass=t_mass.astype(np.float32),
                  info={"shape": shape, "margin": margin, "peak_thickness_mm": float(t_mass.max())})


def _calc_positions(rng, morphology: str, extent_mm: float, n: int) -> np.ndarray:
    if morphology == "fine_linear":
        angle = rng.uniform(0, np.pi)
        s = rng.uniform(-0.5, 0.5, n) * extent_mm
        off = rng.normal(0, 0.6, n)
        return np.stack([s * np.cos(angle) - off * np.sin(angle), s * np.sin(angle) + off * np.cos(angle)], 1)
    return np.clip(rng.normal(0, extent_mm / 4.0, (n, 2)), -extent_mm / 2, extent_mm / 2)


_CALC_SIZE_MM = {  # (diameter range, material)
    "pleomorphic": ((0.3, 0.8), MU_HYDROXYAPATITE), "fine_linear": ((0.2, 0.4), MU_HYDROXYAPATITE),
    "amorphous": ((0.1, 0.3), MU_HYDROXYAPATITE), "punctate": ((0.3, 0.5), MU_OXALATE),
    "coarse": ((0.5, 2.0), MU_OXALATE), "round": ((0.5, 1.0), MU_OXALATE),
}


def make_calcification_cluster(rng: np.random.Generator, canvas: Canvas, centre_px: tuple[float, float],
                               extent_mm: float, morphology: str) -> Lesion:
    """Cluster of 5–20 calcifications deposited as integrated thickness; box = all calcs + 1 mm."""
    n = int(rng.integers(5, 21))
    (dlo, dhi), mu = _CALC_SIZE_MM[morphology]
    diam = rng.uniform(dlo, dhi, n)
    volume = np.pi / 6.0 * diam ** 3
    if morphology == "fine_linear":  # rods 0.3–1 mm long
        volume = np.pi / 4.0 * diam ** 2 * rng.uniform(0.3, 1.0, n)
    pos_px = np.asarray(centre_px) + _calc_positions(rng, morphology, extent_mm, n) / canvas.pixel_mm
    t_calc = np.zeros((canvas.size, canvas.size), dtype=np.float32)
    splat(t_calc, pos_px, volume / canvas.pixel_mm ** 2)
    t_calc[canvas.tissue <= 0] = 0.0
    margin = (1.0 + diam.max() / 2.0) / canvas.pixel_mm
    mask = np.zeros_like(t_calc, dtype=bool)
    x0, y0 = np.floor(pos_px.min(0) - margin).astype(int)
    x1, y1 = np.ceil(pos_px.max(0) + margin).astype(int)
    mask[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1] = True
    mask &= canvas.tissue > 0
    return Lesion(mask=mask, t_calc=t_calc, mu_calc=mu,
                  info={"n_calcifications": n, "morphology": morphology, "max_diameter_mm": float(diam.max())})


def make_distortion(rng: np.random.Generator, canvas: Canvas, centre_px: tuple[float, float], extent_mm: float) -> Lesion:
    """Architectural distortion: radial pull-in warp of the tissue plus 10–30 radiating strands."""
    n = canvas.size
    grid = np.arange(n, dtype=np.float32)
    dx, dy = grid[None, :] - centre_px[0], grid[:, None] - centre_px[1]   # a row and a column, broadcast below
    s_px = rng.uniform(5.0, 12.0) / canvas.pixel_mm
    pull = rng.uniform(0.2, 0.4) * np.exp(-(dx * dx + dy * dy) / (2 * s_px * s_px))
    warp = (centre_px[1] + dy * (1 + pull), centre_px[0] + dx * (1 + pull))
    strands = np.zeros((n, n), dtype=np.float32)
    centre_mm = (np.asarray(centre_px) + 0.5) * canvas.pixel_mm
    polylines = []
    for _ in range(int(rng.integers(10, 31))):
        ang, length = rng.uniform(0, 2 * np.pi), rng.uniform(0.25, 0.5) * extent_mm
        start = rng.uniform(0.5, 2.0)
        pts = centre_mm + np.outer([start, length], [np.cos(ang), np.sin(ang)])
        # a strand is a thin sheet seen edge-on: width 0.2–0.5 mm × depth 2–5 mm per mm of length
        polylines.append((pts, rng.uniform(0.2, 0.5) * rng.uniform(2.0, 5.0)))
    _deposit_polylines(canvas, polylines, strands)
    strands = np.minimum(strands, canvas.tissue)
    mask = ndimage.binary_dilation(strands > 0.05) & (canvas.tissue > 0)
    return Lesion(mask=mask, strands=strands, warp=warp, info={"n_strands": len(polylines), "pull_sigma_mm": s_px * canvas.pixel_mm})


def make_asymmetry(rng: np.random.Generator, canvas: Canvas, centre_px: tuple[float, float], extent_mm: float,
                   smooth_noise: np.ndarray) -> Lesion:
    """Focal asymmetry: Δg 0.2–0.4 over an irregular blob (concave borders, no mass margin)."""
    win, dx, dy = _window(canvas, centre_px, extent_mm * 0.8 + 4.0)
    rho = np.hypot(dx, dy) / (extent_mm / 2.0)
    blob = (rho + 0.35 * smooth_noise[win] < 1.0).astype(np.float32)
    soft = ndimage.gaussian_filter(blob, 2.0 / canvas.pixel_mm)
    delta = rng.uniform(0.2, 0.4)
    full = _full(canvas, win, soft)
    mask = (full >= 0.5) & (canvas.tissue > 0)
    return Lesion(mask=mask, delta_g=(delta * full).astype(np.float32), info={"delta_g": delta})
