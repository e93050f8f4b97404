"""Full labelled images from lesion patches: pick a normal background, place, blend, box.

Shared by the learned lesion generators (``cgan``, ``ddpm``): they only have to turn condition
rows (and, for inpainting, the background context under each window) into patches. Backgrounds
come from :func:`background_source`: synthesised tissue (:class:`SpectralBackgrounds`, the default
of both baselines) or real training normals (:class:`BackgroundBank`; every image is then derived
from a patient's image, which the memorisation audit reports).

Example:
    >>> import numpy as np, pandas as pd
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> view = make_tiny_train_view(n=16, size=32, seed=0)
    >>> bank = BackgroundBank.from_view(view, max_images=8)
    >>> rows = pd.DataFrame({"label": ["benign", "normal"], "lesion_type": ["mass", "none"],
    ...                      "density": ["B", "C"], "age_band": ["50-59"] * 2, "view": ["CC"] * 2})
    >>> make = lambda rows, context: np.clip(context + 0.3, 0, 1)
    >>> images, findings = compose_images(rows, bank, make, patch_size=16, rng=np.random.default_rng(0))
    >>> images.shape, [len(f) for f in findings]
    ((2, 1, 32, 32), [1, 0])
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from mammobench.errors import ConfigError
from mammobench.generators.backgrounds import (SpectralBackgrounds, draw_lesion_side, lesion_centres, lesion_sides,
                                              place_lesion)
from mammobench.generators.insertion import CONTEXT, crop_window, insert_patch
from mammobench.protocols import TrainView

PatchFn = Callable[[pd.DataFrame, np.ndarray], np.ndarray]


@dataclass
class BackgroundBank:
    """Normal training images (uint16) with their density/view, and lesion sizes per type."""

    images: np.ndarray
    density: list[str]
    view: list[str]
    lesion_sides: dict[str, list[float]]
    lesion_centres: list = field(default_factory=list)

    @classmethod
    def from_view(cls, view: TrainView, *, max_images: int = 256, seed: int = 0) -> "BackgroundBank":
        """Keep up to ``max_images`` normal images (a seeded subset) and every finding's size."""
        m = view.manifest
        normal = np.flatnonzero((m["label"].astype(str) == "normal").to_numpy())
        if len(normal) == 0:
            normal = np.arange(len(m))
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.permutation(normal)[:max_images])
        imgs = np.round(np.asarray(view.images)[keep] * 65535).astype(np.uint16)
        return cls(imgs, [str(m["density"].iloc[i]) for i in keep], [str(m["view"].iloc[i]) for i in keep],
                   lesion_sides(view), lesion_centres(view))

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(int(v) for v in self.images.shape[1:])

    def to_state(self) -> dict:
        return {"kind": "training", "images": self.images, "density": self.density, "view": self.view,
                "lesion_sides": self.lesion_sides, "lesion_centres": [list(c) for c in self.lesion_centres]}

    @classmethod
    def from_state(cls, state: dict) -> "BackgroundBank":
        return cls(np.asarray(state["images"]), list(state["density"]), list(state["view"]),
                   {k: list(v) for k, v in state["lesion_sides"].items()},
                   [list(c) for c in state.get("lesion_centres", [])])

    def pick(self, density: str, view: str, rng: np.random.Generator, label: str | None = None) -> np.ndarray:
        """A matching background (density and view, else density, else any), float32 in [0, 1].

        ``label`` is accepted for interface parity with the synthetic backgrounds (the bank holds normals only).
        """
        d, v = np.array(self.density), np.array(self.view)
        for mask in ((d == density) & (v == view), d == density, np.ones(len(d), bool)):
            hits = np.flatnonzero(mask)
            if len(hits):
                return self.images[int(rng.choice(hits))].astype(np.float32) / 65535.0
        raise ValueError("empty background bank")

    def lesion_side(self, lesion_type: str, rng: np.random.Generator, image_side: int) -> float:
        """A lesion size drawn from the training boxes of this type (else of any type)."""
        return draw_lesion_side(self.lesion_sides, lesion_type, rng, image_side)


BACKGROUND_SOURCES = ("synthetic", "training")


def background_source(view: TrainView, kind: str, *, max_images: int = 256,
                      seed: int = 0) -> "BackgroundBank | SpectralBackgrounds":
    """Where lesions are inserted: ``synthetic`` tissue (default; no patient pixels) or ``training`` normals.

    Raises:
        ConfigError: an unknown ``kind``.
    """
    if kind == "synthetic":
        return SpectralBackgrounds.from_view(view)
    if kind == "training":
        return BackgroundBank.from_view(view, max_images=max_images, seed=seed)
    raise ConfigError(f"background={kind!r}: expected one of {BACKGROUND_SOURCES}")


def background_from_state(state: dict) -> "BackgroundBank | SpectralBackgrounds":
    """Rebuild a fitted background source from its saved state (either kind)."""
    if state.get("kind") == "spectral":
        return SpectralBackgrounds.from_state(state)
    return BackgroundBank.from_state(state)


def compose_images(rows: pd.DataFrame, bank: "BackgroundBank | SpectralBackgrounds", make_patches: PatchFn, *,
                   patch_size: int, rng: np.random.Generator,
                   inpainted: bool = False) -> tuple[np.ndarray, list[list[dict]]]:
    """Images ``[n, 1, H, W]`` and findings for resolved condition rows.

    Normal rows get a background from ``bank`` (randomly up-down flipped); lesion rows get one generated
    patch each, blended where training lesions are (:func:`~mammobench.generators.backgrounds.place_lesion`),
    with the exact box of the inserted lesion. ``inpainted``: the patches were generated over the
    context windows they were given, so the lesion is what they add to that context.
    """
    n = len(rows)
    h, w = bank.image_shape
    images = np.zeros((n, 1, h, w), np.float32)
    findings: list[list[dict]] = [[] for _ in range(n)]
    placements = []
    for i in range(n):
        bg = bank.pick(str(rows["density"].iloc[i]), str(rows["view"].iloc[i]), rng, label=str(rows["label"].iloc[i]))
        images[i, 0] = bg[::-1] if rng.random() < 0.5 else bg
        if str(rows["lesion_type"].iloc[i]) != "none":
            side = CONTEXT * bank.lesion_side(str(rows["lesion_type"].iloc[i]), rng, h)
            placements.append((i, place_lesion(images[i, 0], side, bank.lesion_centres, rng), side))
    if placements:
        idx = [p[0] for p in placements]
        context = np.stack([crop_window(images[i, 0], c, s, patch_size) for i, c, s in placements])
        patches = np.asarray(make_patches(rows.iloc[idx].reset_index(drop=True), context), np.float32)
        for k, (i, center, side) in enumerate(placements):
            images[i, 0], box = insert_patch(images[i, 0], patches[k], center=center, side=side,
                                             reference=context[k] if inpainted else None)
            label = str(rows["label"].iloc[i])
            findings[i] = [{"box": box, "lesion_type": str(rows["lesion_type"].iloc[i]),
                            "pathology": label if label in ("benign", "malignant") else "malignant"}]
    return images, findings





PATCH_CONDITIONS: tuple[str, ...] = ("lesion_type", "label", "density")


@dataclass
class ConditionCodes:
    """Integer codes for the patch conditions (lesion type, pathology label, density).

    Index 0 of every vocabulary is the "unknown / dropped" token used for classifier-free guidance
    and for values never seen in training.
    """

    vocab: dict[str, list[str]]

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> "ConditionCodes":
        return cls({c: ["?"] + sorted(set(table[c].astype(str))) for c in PATCH_CONDITIONS})

    def sizes(self) -> list[int]:
        return [len(self.vocab[c]) for c in PATCH_CONDITIONS]

    def encode(self, table: pd.DataFrame) -> np.ndarray:
        """``[n, 3]`` int64 codes (0 for unseen values)."""
        cols = []
        for c in PATCH_CONDITIONS:
            index = {v: i for i, v in enumerate(self.vocab[c])}
            cols.append([index.get(str(v), 0) for v in table[c]])
        return np.array(cols, dtype=np.int64).T.reshape(len(table), len(PATCH_CONDITIONS))


__all__ = ["BACKGROUND_SOURCES", "BackgroundBank", "ConditionCodes", "PATCH_CONDITIONS", "background_from_state",
           "background_source", "compose_images"]
