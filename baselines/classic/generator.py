"""Classic augmentation: up-down flips, small affine, intensity/gamma and elastic deformation.

Each synthetic image is a transformed training image. Requested conditions are honoured by
choosing source images that match them (see :func:`mammobench.generators.conditions.resolve_conditions`);
the labels are the source image's true labels. Boxes are transformed exactly: each box is
rasterised as a mask, warped with the very coordinate map applied to the image, and re-boxed.
Left-right flips are not used because the preprocessed images put every breast on the left.

Example:
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> gen = ClassicAugmentation().fit(make_tiny_train_view(n=8, size=32), seed=0)
    >>> batch = gen.sample(4, seed=1)
    >>> batch.images.shape, batch.images.dtype.name
    ((4, 1, 32, 32), 'float32')
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from mammobench.generators.base import GeneratorMixin
from mammobench.generators.conditions import labels_frame, resolve_conditions
from mammobench.protocols import CONDITION_COLUMNS, GeneratorTags, SyntheticBatch, TrainView
from mammobench.resources import resource_path


def coordinate_map(shape: tuple[int, int], rng: np.random.Generator, *, flip: bool, rotate_deg: float,
                   scale: float, shift: float, elastic_alpha: float, elastic_sigma: float) -> np.ndarray:
    """Input coordinates ``[2, H, W]`` sampled for each output pixel (affine ∘ elastic)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    theta = np.deg2rad(rng.uniform(-rotate_deg, rotate_deg))
    s = 1 + rng.uniform(-scale, scale)
    ty, tx = rng.uniform(-shift, shift, 2) * (h, w)
    dy, dx = yy - cy - ty, xx - cx - tx
    src_y = (np.cos(theta) * dy - np.sin(theta) * dx) / s + cy
    src_x = (np.sin(theta) * dy + np.cos(theta) * dx) / s + cx
    if elastic_alpha > 0:
        for grid in (src_y, src_x):
            grid += elastic_alpha * ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), elastic_sigma)
    if flip and rng.random() < 0.5:
        src_y, src_x = src_y[::-1], src_x[::-1]
    return np.stack([src_y, src_x])


def warp_box(box: list[float], coords: np.ndarray) -> list[float] | None:
    """Warp an (x0, y0, x1, y1) box through ``coords``; None when it leaves the image."""
    h, w = coords.shape[1:]
    mask = np.zeros((h, w), np.float32)
    x0, y0, x1, y1 = box
    mask[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))] = 1
    warped = ndimage.map_coordinates(mask, coords, order=0, mode="constant", cval=0)
    ys, xs = np.nonzero(warped > 0.5)
    if len(ys) == 0:
        return None
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


class ClassicAugmentation(GeneratorMixin):
    """Transforms real training images; conditions are met by choosing matching sources."""

    tags = GeneratorTags(requires_fit=True, conditional_on=CONDITION_COLUMNS, produces_boxes=True)
    card_path = resource_path(__package__, "card.yaml")

    def __init__(self, flip: bool = True, rotate_deg: float = 8.0, scale: float = 0.08, shift: float = 0.04,
                 gamma: float = 0.2, contrast: float = 0.1, elastic_alpha: float = 1.5,
                 elastic_sigma: float = 4.0):
        self.flip = flip
        self.rotate_deg = rotate_deg
        self.scale = scale
        self.shift = shift
        self.gamma = gamma
        self.contrast = contrast
        self.elastic_alpha = elastic_alpha
        self.elastic_sigma = elastic_sigma

    @classmethod
    def tiny_config(cls) -> dict:
        return {}

    def fit(self, data: TrainView, *, seed: int) -> "ClassicAugmentation":
        self.record_training_data(data)
        m = data.manifest
        self.images_ = np.round(np.asarray(data.images) * 65535).astype(np.uint16)
        self.conditions_ = {c: m[c].fillna("").astype(str).tolist() for c in CONDITION_COLUMNS}
        self.findings_ = [[dict(f) for f in fs] for fs in data.findings]
        return self

    def _augment(self, image: np.ndarray, findings: list[dict], rng: np.random.Generator):
        params = {k: getattr(self, k) for k in ("flip", "rotate_deg", "scale", "shift", "elastic_alpha",
                                                 "elastic_sigma")}
        for _ in range(4):
            coords = coordinate_map(image.shape, rng, **params)
            boxes = [warp_box(f["box"], coords) for f in findings]
            if all(b is not None for b in boxes):
                break
        else:
            coords, boxes = np.stack(np.mgrid[0:image.shape[0], 0:image.shape[1]]).astype(float), [f["box"] for f in findings]
        out = ndimage.map_coordinates(image, coords, order=1, mode="constant", cval=0.0)
        gamma = np.exp(rng.uniform(-self.gamma, self.gamma))
        out = np.clip(out, 0, 1) ** gamma * (1 + rng.uniform(-self.contrast, self.contrast))
        new = [{**f, "box": [round(v, 2) for v in b]} for f, b in zip(findings, boxes)]
        return np.clip(out, 0, 1).astype(np.float32), new

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        rng = np.random.default_rng(seed)
        train = pd.DataFrame(self.conditions_)
        rows = resolve_conditions(n, conditions, train, rng)
        h, w = self.images_.shape[1:]
        images = np.zeros((n, 1, h, w), np.float32)
        findings = []
        for i, src in enumerate(rows["source_row"].astype(int)):
            images[i, 0], fs = self._augment(self.images_[src].astype(np.float32) / 65535.0,
                                             self.findings_[src], rng)
            findings.append(fs)
            for c in CONDITION_COLUMNS:  # labels are the source image's truth
                rows.loc[i, c] = train[c].iloc[src]
        return SyntheticBatch(images, labels_frame(rows, findings), {"generator": "classic", "seed": seed})
