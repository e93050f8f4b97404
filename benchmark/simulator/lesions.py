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


def _deposit_polyline(canvas: Canvas, points_mm: np.ndarray, volume_per_mm: float, out: np.ndarray) -> None:
    """Integrated thickness deposition of a thin curve (bilinear splat of volume / pixel area)."""
    seg = np.diff(points_mm, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    step = canvas.pixel_mm / 3.0
    for (p, d, length) in zip(points_mm[:-1], seg, lengths):
        n = max(int(np.ceil(length / step)), 1)
        ts = (np.arange(n) + 0.5) / n
        pts = p[None, :] + ts[:, None] * d[None, :]
        splat(out, pts / canvas.pixel_mm - 0.5, np.full(n, volume_per_mm * length / n / canvas.pixel_mm ** 2))


def splat(out: np.ndarray, xy_px: np.ndarray, values: np.ndarray) -> None:
    """Add ``values`` at sub-pixel positions ``xy_px`` (x, y; pixel centres at integers), bilinear."""
    x, y = xy_px[:, 0], xy_px[:, 1]
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    n = out.shape[0]
    for ox, oy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi, yi = np.clip(x0 + ox, 0, n - 1), np.clip(y0 + oy, 0, n - 1)
        np.add.at(out, (yi, xi), values * w)


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
    for _ in range(int(rng.integers(10, 41))):
        ang, length = rng.uniform(0, 2 * np.pi), rng.uniform(0.8, 2.5) * radius
        width = rng.uniform(0.3, 0.8)
        bend = rng.normal(0, 0.15)
        s = np.linspace(0.0, 1.0, 6)
        angs = ang + bend * s
        pts = centre_mm + np.stack([np.cos(angs), np.sin(angs)], 1) * (0.9 * radius + s * length)[:, None]
        _deposit_polyline(canvas, pts, np.pi / 4 * width ** 2 * 0.5, out)  # tapering ≈ half the volume
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
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    dx, dy = xx - centre_px[0], yy - centre_px[1]
    s_px = rng.uniform(5.0, 12.0) / canvas.pixel_mm
    pull = rng.uniform(0.2, 0.4) * np.exp(-(dx * dx + dy * dy) / (2 * s_px * s_px))
    warp = (centre_px[1] + dy * (1 + pull), centre_px[0] + dx * (1 + pull))
    strands = np.zeros((n, n), dtype=np.float32)
    centre_mm = (np.asarray(centre_px) + 0.5) * canvas.pixel_mm
    ends = []
    for _ in range(int(rng.integers(10, 31))):
        ang, length = rng.uniform(0, 2 * np.pi), rng.uniform(0.25, 0.5) * extent_mm
        start = rng.uniform(0.5, 2.0)
        pts = centre_mm + np.outer([start, length], [np.cos(ang), np.sin(ang)])
        ends.append(pts[-1])
        # a strand is a thin sheet seen edge-on: width 0.2–0.5 mm × depth 2–5 mm per mm of length
        _deposit_polyline(canvas, pts, rng.uniform(0.2, 0.5) * rng.uniform(2.0, 5.0), strands)
    strands = np.minimum(strands, canvas.tissue)
    mask = ndimage.binary_dilation(strands > 0.05) & (canvas.tissue > 0)
    return Lesion(mask=mask, strands=strands, warp=warp, info={"n_strands": len(ends), "pull_sigma_mm": s_px * canvas.pixel_mm})


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
