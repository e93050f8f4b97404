"""Classic augmentation: up-down flips, small affine, intensity/gamma and elastic deformation.

Each synthetic image is a transformed training image; the geometry is torchvision's
``transforms.v2.functional`` (``affine``, ``elastic``, ``vertical_flip``) with parameters drawn from the
generator's seeded numpy RNG, so a seed gives the same images everywhere. Requested conditions are
honoured by choosing source images that match them (see
:func:`mammobench.generators.conditions.resolve_conditions`); the labels are the source image's true
labels. Boxes are transformed exactly: each box is rasterised as a ``tv_tensors.Mask``, sent through the
very transforms applied to the image (nearest-neighbour for masks), and re-boxed. Left-right flips are
not used because the preprocessed images put every breast on the left.

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
import torch
from scipy import ndimage
from torchvision import tv_tensors
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F

from mammobench.generators.base import GeneratorMixin
from mammobench.generators.conditions import labels_frame, resolve_conditions
from mammobench.protocols import CONDITION_COLUMNS, GeneratorTags, SyntheticBatch, TrainView
from mammobench.resources import resource_path


def draw_transform(shape: tuple[int, int], rng: np.random.Generator, *, flip: bool, rotate_deg: float,
                   scale: float, shift: float, elastic_alpha: float, elastic_sigma: float) -> dict:
    """Seeded parameters of one augmentation: affine (angle °, translate px, scale), elastic displacement, flip.

    The elastic displacement is smoothed uniform noise (SD of the field ≈ ``elastic_alpha`` pixels before
    smoothing), in torchvision's normalised grid units (one pixel = 2 / size).

    Example:
        >>> t = draw_transform((8, 6), np.random.default_rng(0), flip=True, rotate_deg=8, scale=0.1, shift=0.05,
        ...                    elastic_alpha=1.5, elastic_sigma=2.0)
        >>> sorted(t), tuple(t["displacement"].shape)
        (['angle', 'displacement', 'flip', 'scale', 'translate'], (1, 8, 6, 2))
    """
    h, w = shape
    params = {"angle": float(rng.uniform(-rotate_deg, rotate_deg)), "scale": float(1 + rng.uniform(-scale, scale)),
              "translate": [float(v) for v in rng.uniform(-shift, shift, 2) * (w, h)]}
    field = np.zeros((h, w, 2), np.float32)
    if elastic_alpha > 0:
        for axis, size in ((0, w), (1, h)):  # torchvision's grid order is (x, y)
            noise = ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), elastic_sigma)
            field[..., axis] = elastic_alpha * noise * 2 / size
    params["displacement"] = torch.from_numpy(field)[None]
    params["flip"] = bool(flip and rng.random() < 0.5)
    return params


def apply_transform(inpt: torch.Tensor, t: dict) -> torch.Tensor:
    """torchvision's affine, then elastic, then the up-down flip; images bilinear, ``tv_tensors.Mask`` nearest."""
    out = F.affine(inpt, angle=t["angle"], translate=t["translate"], scale=t["scale"], shear=[0.0, 0.0],
                   interpolation=InterpolationMode.BILINEAR, fill=0.0)
    out = F.elastic(out, t["displacement"], interpolation=InterpolationMode.BILINEAR, fill=0.0)
    return F.vertical_flip(out) if t["flip"] else out


def warp_box(box: list[float], t: dict, shape: tuple[int, int]) -> list[float] | None:
    """Warp an (x0, y0, x1, y1) box: rasterise it as a mask, transform the mask, re-box; None when it leaves."""
    mask = torch.zeros((1, *shape), dtype=torch.uint8)
    x0, y0, x1, y1 = box
    mask[0, int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))] = 1
    ys, xs = np.nonzero(apply_transform(tv_tensors.Mask(mask), t)[0].numpy())
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
        for _ in range(4):  # redraw when a finding would leave the image
            t = draw_transform(image.shape, rng, **params)
            boxes = [warp_box(f["box"], t, image.shape) for f in findings]
            if all(b is not None for b in boxes):
                out = apply_transform(tv_tensors.Image(torch.from_numpy(image)[None]), t)[0].numpy()
                break
        else:
            out, boxes = image, [f["box"] for f in findings]
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
