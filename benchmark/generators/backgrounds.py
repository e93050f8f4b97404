"""Normal-tissue backgrounds that are *synthesised*, not copied: a spectral texture model per density.

The learned lesion baselines (``cgan``, ``ddpm``) need normal tissue to put their lesions in. Using
the training images themselves makes every synthetic image a near-copy of a patient's image (the
memorisation audit flags them, rightly). :class:`SpectralBackgrounds` instead learns, per breast
density, two population statistics of the training *normal* images and draws new tissue from them:

* the radially averaged power spectrum of the (Hann-windowed, mean-removed) breast region —
  mammographic texture is close to isotropic power-law noise (Burgess 1999; Heine 1999), so a
  Gaussian random field with this spectrum reproduces its correlation structure;
* each normal image's intensity quantile function inside the breast — a synthetic background's
  grey levels follow the average of five randomly chosen ones (the field is mapped onto it rank
  by rank), so brightness and contrast match the density without reusing one image's histogram.

Where the training images show the breast edge, a parametric silhouette is drawn (a gently curved
skin line for windows, a half ellipse against the chest wall for whole breasts; area fraction drawn
from the training images' fractions). No pixel of any training image is stored: the fitted state is
a radial spectrum, quantile tables and area fractions per density (plus the lesion sizes the
insertion needs).

Example:
    >>> import numpy as np
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> bg = SpectralBackgrounds.from_view(make_tiny_train_view(n=16, size=32, seed=0))
    >>> img = bg.pick("B", "CC", np.random.default_rng(0))
    >>> img.shape, img.dtype.name, bool(0 <= img.min() <= img.max() <= 1)
    ((32, 32), 'float32', True)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from mammobench.generators.insertion import CONTEXT, tissue_centers
from mammobench.generators.layouts import (BREAST_THRESHOLD, jitter_row, layout_rows, muscle_quantiles, quantile_map,
                                           render_layout)
from mammobench.protocols import TrainView

N_QUANTILES = 65
MIX = 5  # training histograms averaged per synthetic background
FULL_FIELD = 0.97  # mean breast fraction above which backgrounds are drawn without a silhouette
WINDOW_FRACTION = 0.6  # mean breast fraction above which images are windows inside the breast (patch tasks)
PURE_TISSUE = 0.995  # windows at least this much breast give the texture statistics when there are enough


def lesion_sides(view: TrainView) -> dict[str, list[float]]:
    """Every finding's box side (max of width, height) per lesion type, in pixels."""
    sides: dict[str, list[float]] = {}
    for fs in view.findings:
        for f in fs:
            x0, y0, x1, y1 = f["box"]
            sides.setdefault(str(f["lesion_type"]), []).append(float(max(x1 - x0, y1 - y0)))
    return sides


def lesion_centres(view: TrainView) -> list[list[float]]:
    """Every finding's box centre as (y, x) fractions of the image: where lesions are in training."""
    h, w = view.image_size
    return [[(f["box"][1] + f["box"][3]) / 2 / h, (f["box"][0] + f["box"][2]) / 2 / w]
            for fs in view.findings for f in fs]


def place_lesion(background: np.ndarray, side: float, centres: list[list[float]],
                 rng: np.random.Generator, jitter: float = 0.04, tries: int = 20) -> tuple[float, float]:
    """A (y, x) insertion point: a training lesion position (± ``jitter``) that lies on breast tissue.

    Lesions then appear where real ones do (in a patch task: near the window centre; in whole
    images: in the glandular region, never on air), instead of anywhere above the tissue threshold
    (which included the pectoral muscle). Falls back to a random tissue pixel.
    """
    h, w = background.shape
    for _ in range(tries if centres else 0):
        cy, cx = centres[int(rng.integers(len(centres)))]
        y = float(np.clip((cy + rng.normal(0, jitter)) * h, 0, h - 1))
        x = float(np.clip((cx + rng.normal(0, jitter)) * w, 0, w - 1))
        if background[int(y), int(x)] > BREAST_THRESHOLD:
            return y, x
    pts = tissue_centers(background, side)
    y, x = pts[rng.integers(len(pts))]
    return float(y), float(x)


def draw_lesion_side(sides: dict[str, list[float]], lesion_type: str, rng: np.random.Generator,
                     image_side: int) -> float:
    """A lesion size drawn from the training boxes of this type (else of any type), clipped to fit."""
    pool = sides.get(lesion_type) or [s for v in sides.values() for s in v]
    side = float(rng.choice(pool)) if pool else image_side / 10
    return float(np.clip(side, 4.0, image_side / CONTEXT - 1))


@lru_cache(maxsize=8)
def _radial_bins(h: int, w: int) -> np.ndarray:
    """Integer radial frequency bin of every FFT coefficient (isotropic spectrum); cached, read-only."""
    fy, fx = np.meshgrid(np.fft.fftfreq(h) * h, np.fft.fftfreq(w) * w, indexing="ij")
    bins = np.rint(np.hypot(fy * max(h, w) / h, fx * max(h, w) / w)).astype(np.int64)
    bins.setflags(write=False)
    return bins


def _texture(images: np.ndarray) -> dict:
    """Radial power spectrum and per-image intensity quantile functions of the breast region.

    The spectrum is measured on the Hann-windowed, mean-removed breast region (air set to the mean),
    radially averaged — the window removes the FFT's wrap-around edges and the radial average the
    axis-aligned lines that breast borders and the pectoral muscle leave; both otherwise come back
    as streaks in the synthesised tissue. Images with fewer than 16 breast pixels are skipped.
    """
    h, w = images.shape[1:]
    bins = _radial_bins(h, w)
    hann = np.outer(np.hanning(h), np.hanning(w))
    power = np.zeros(int(bins.max()) + 1)
    counts = np.bincount(bins.ravel(), minlength=len(power))
    quantiles = []
    for img in images:
        mask = img > BREAST_THRESHOLD
        if mask.sum() < 16:
            continue
        tissue = img[mask]
        quantiles.append(np.quantile(tissue, np.linspace(0, 1, N_QUANTILES)))
        field = (np.where(mask, img, tissue.mean()) - tissue.mean()) * hann
        power += np.bincount(bins.ravel(), weights=(np.abs(np.fft.fft2(field)) ** 2).ravel(), minlength=len(power))
    radial = power / np.maximum(counts, 1) / max(len(quantiles), 1)
    radial[0] = 0.0  # the mean is set by the quantiles
    return {"radial_power": radial.astype(np.float64),
            "quantiles": (np.stack(quantiles) if quantiles else np.full((1, N_QUANTILES), 0.5)).astype(np.float32)}


def _outline(images: np.ndarray) -> dict:
    """Breast fraction of every image and the share (of images with breast) whose chest wall is on the left."""
    masks = images > BREAST_THRESHOLD
    w = images.shape[2]
    shown = masks.sum(axis=(1, 2)) >= 16
    cols = masks.mean(axis=1)
    left = cols[:, : w // 2].sum(axis=1) >= cols[:, w // 2:].sum(axis=1)
    return {"fractions": masks.mean(axis=(1, 2)).astype(np.float32),
            "left_share": float((left & shown).sum()) / max(int(shown.sum()), 1)}


def _texture_stats(images: np.ndarray, tissue_images: np.ndarray | None = None) -> dict:
    """Texture (from ``tissue_images`` — windows that are all breast — when given) and outline of ``images``."""
    return {**_texture(images if tissue_images is None else tissue_images), **_outline(images)}


def _silhouette(h: int, w: int, fraction: float, left: bool, rng: np.random.Generator, *,
                window: bool) -> np.ndarray:
    """A breast mask covering about ``fraction`` of the image.

    Windows inside the breast (``window``: patch tasks, whose images are mostly breast) get a gently
    curved skin line — a disk of radius 1–2 image sides entering from a random side; whole-breast
    images get a half ellipse against the chest wall.
    """
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    if window:
        radius = rng.uniform(1.0, 2.0) * max(h, w)
        angle = rng.uniform(0, 2 * np.pi)
        uy, ux = np.sin(angle), np.cos(angle)
        lo, hi = -radius, radius + 2 * max(h, w)
        for _ in range(30):  # bisection on the centre's distance so the covered share is `fraction`
            mid = (lo + hi) / 2
            cy, cx = h / 2 - uy * mid, w / 2 - ux * mid
            share = float((np.hypot(yy - cy, xx - cx) <= radius).mean())
            lo, hi = (mid, hi) if share > fraction else (lo, mid)
        cy, cx = h / 2 - uy * lo, w / 2 - ux * lo
        return np.hypot(yy - cy, xx - cx) <= radius
    b = h / 2 * rng.uniform(0.85, 1.0)
    a = float(np.clip(2 * fraction * h * w / (np.pi * b), 2.0, 1.6 * w))
    dist = xx if left else w - xx
    return ((dist / a) ** 2 + ((yy - h / 2) / b) ** 2) <= 1.0


@dataclass
class SpectralBackgrounds:
    """Synthetic normal tissue per density (power spectrum + intensity quantiles of training normals).

    Same interface as :class:`mammobench.generators.compose.BackgroundBank` (``image_shape``,
    ``pick``, ``lesion_side``), so :func:`~mammobench.generators.compose.compose_images` takes either.
    """

    image_shape: tuple[int, int]
    stats: dict[str, dict]
    lesion_sides: dict[str, list[float]]
    lesion_centres: list = field(default_factory=list)
    layouts: dict = field(default_factory=dict)  # "normal|CC" -> layout rows (layouts.layout_rows), "muscle" -> quantiles

    @classmethod
    def from_view(cls, view: TrainView, *, min_images: int = 4) -> "SpectralBackgrounds":
        """Fit per density on the view's normal images (densities with fewer than ``min_images`` pool all)."""
        m = view.manifest
        images = np.asarray(view.images, np.float32)
        normal = (m["label"].astype(str) == "normal").to_numpy()
        if not normal.any():
            normal = np.ones(len(m), bool)
        density = m["density"].astype(str).to_numpy()
        inside = (images > BREAST_THRESHOLD).mean(axis=(1, 2))
        pure = normal & (inside >= PURE_TISSUE)
        stats = {"*": _texture_stats(images[normal], images[pure] if pure.sum() >= min_images else None)}
        for d in sorted(set(density[normal])):
            rows = normal & (density == d)
            if rows.sum() >= min_images:
                tissue_rows = rows & pure
                stats[d] = _texture_stats(images[rows],
                                          images[tissue_rows] if tissue_rows.sum() >= min_images else None)
        return cls(tuple(int(v) for v in images.shape[1:]), stats, lesion_sides(view), lesion_centres(view),
                   _layouts(images, m, min_images) if float(stats["*"]["fractions"].mean()) >= WINDOW_FRACTION else {})

    def to_state(self) -> dict:
        return {"kind": "spectral", "image_shape": list(self.image_shape), "lesion_sides": self.lesion_sides,
                "lesion_centres": [list(c) for c in self.lesion_centres],
                "layouts": {k: np.asarray(v) for k, v in self.layouts.items()},
                "stats": {d: {k: (np.asarray(v) if not isinstance(v, float) else v) for k, v in s.items()}
                          for d, s in self.stats.items()}}

    @classmethod
    def from_state(cls, state: dict) -> "SpectralBackgrounds":
        return cls(tuple(state["image_shape"]), dict(state["stats"]),
                   {k: list(v) for k, v in state["lesion_sides"].items()},
                   [list(c) for c in state.get("lesion_centres", [])],
                   {k: np.asarray(v) for k, v in state.get("layouts", {}).items()})

    def pick(self, density: str, view: str, rng: np.random.Generator, label: str | None = None) -> np.ndarray:
        """A new background for ``density`` (pooled statistics for an unseen density), float32 in [0, 1].

        The grey levels follow the average of ``MIX`` randomly chosen training images' quantile
        functions (a new histogram each time, never one image's). Windows (patch tasks) then get the
        layout of a training window of the same label group (``normal`` unless ``label`` names a
        lesion) and ``view`` — border strip, pectoral muscle, skin line (:mod:`~mammobench.generators.layouts`);
        whole breasts get a half-ellipse silhouette.
        """
        s = self.stats.get(str(density), self.stats["*"])
        h, w = self.image_shape
        radial = np.asarray(s["radial_power"])
        amplitude = np.sqrt(radial[np.minimum(_radial_bins(h, w), len(radial) - 1)])
        field = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((h, w))) * amplitude))
        table = np.asarray(s["quantiles"])
        tissue = quantile_map(field, table[rng.choice(len(table), size=min(MIX, len(table)), replace=False)].mean(axis=0))
        if self.layouts:
            rows = _layout_table(self.layouts, label, view)
            skin = lambda share: _silhouette(h, w, share, rng.random() < float(s["left_share"]), rng,  # noqa: E731
                                             window=True)
            row = jitter_row(rows[int(rng.integers(len(rows)))], rng, min(h, w))
            return render_layout(tissue, row, np.asarray(self.layouts["muscle"]), rng, skin)
        fractions = np.asarray(s["fractions"])
        fraction = float(rng.choice(fractions)) if len(fractions) else 1.0
        typical = float(fractions.mean()) if len(fractions) else 1.0
        if typical >= FULL_FIELD or fraction >= 0.999:
            return np.clip(tissue, 0, 1).astype(np.float32)
        mask = _silhouette(h, w, fraction, rng.random() < float(s["left_share"]), rng, window=typical >= WINDOW_FRACTION)
        return np.clip(np.where(mask, tissue, 0.0), 0, 1).astype(np.float32)

    def lesion_side(self, lesion_type: str, rng: np.random.Generator, image_side: int) -> float:
        return draw_lesion_side(self.lesion_sides, lesion_type, rng, image_side)


def _group(label: object) -> str:
    """Layout group of a label: ``lesion`` for benign/malignant, else ``normal``."""
    return "lesion" if str(label) in ("benign", "malignant") else "normal"


def _layouts(images: np.ndarray, manifest, min_images: int) -> dict:
    """Layout rows per "group|view", per group ("group|*") and pooled ("*"), plus the muscle's quantiles."""
    rows = layout_rows(images)
    group = manifest["label"].map(_group).to_numpy()
    views = manifest["view"].fillna("").astype(str).to_numpy() if "view" in manifest else np.full(len(rows), "")
    out = {"*": rows, "muscle": muscle_quantiles(images, rows)}
    for g in sorted(set(group)):
        if (group == g).sum() >= min_images:
            out[f"{g}|*"] = rows[group == g]
        for v in sorted(set(views[group == g])):
            sel = (group == g) & (views == v)
            if sel.sum() >= min_images:
                out[f"{g}|{v}"] = rows[sel]
    return out


def _layout_table(layouts: dict, label: str | None, view: str) -> np.ndarray:
    """The most specific layout rows for (label group, view): group and view, else group, else all."""
    g = _group(label)
    for key in (f"{g}|{view}", f"{g}|*"):
        if key in layouts and len(layouts[key]):
            return np.asarray(layouts[key])
    return np.asarray(layouts["*"])


__all__ = ["SpectralBackgrounds", "draw_lesion_side", "lesion_centres", "lesion_sides", "place_lesion"]
