"""Planted generators: deliberately good or bad generators whose verdicts are known in advance.

They exist for ``mammobench selftest`` (issue 10) only: each one plants one property that a
check of the harness must catch (or must not flag). All are card kind ``planted`` and registered
as ``planted_<name>`` (see :func:`mammobench.baselines.planted.register`).

=====================  ====================================================  ==========================
generator              what it returns                                       known answer
=====================  ====================================================  ==========================
planted_helpful        new simulated dense (C/D) images, correct labels      gain in dense groups
planted_harmful        training images with flipped labels (and boxes:       significant loss
                       none on former lesions, one on former normals)
planted_null           exact duplicates of training cases (no replacement;   no significant effect
                       at ratio 1 every case once, as the self-test asks)
planted_memoriser      training images + tiny noise                          memorisation fails
planted_leaker         copies of the view it is fitted on (test, on purpose) leakage fails
planted_biased         density-A training images only, honestly labelled     bias flags density
planted_off_condition  random training images labelled as requested          adherence fails
planted_off_location   lesion images drawn right, boxes moved off the lesion  check_boxes_on_lesion fails
=====================  ====================================================  ==========================

Example:
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> gen = PlantedHarmful().fit(make_tiny_train_view(n=8, size=32), seed=0)
    >>> batch = gen.sample(4, seed=1)
    >>> batch.images.shape, gen.card.kind
    ((4, 1, 32, 32), 'planted')
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pandas as pd

from mammobench.cards import GeneratorCard
from mammobench.generators.base import GeneratorMixin
from mammobench.generators.conditions import labels_frame, resolve_conditions, validate_conditions
from mammobench.protocols import CONDITION_COLUMNS, GeneratorTags, SyntheticBatch, TrainView
from mammobench.resources import resource_path
from mammobench.yamlio import load_yaml

CARDS_PATH = resource_path(__package__, "cards.yaml")
DENSE = ("C", "D")


class PlantedGenerator(GeneratorMixin):
    """Shared state of the copy-based planted generators: the training images and their truth."""

    planted_name: ClassVar[str] = ""
    tags = GeneratorTags(requires_fit=True, conditional_on=(), produces_boxes=True)

    def __init__(self, noise: float = 0.0):
        self.noise = noise

    @classmethod
    def tiny_config(cls) -> dict:
        return {}

    @property
    def card(self) -> GeneratorCard:
        """The planted card from ``cards.yaml`` plus parameters and training-data hashes."""
        cards = load_yaml(CARDS_PATH, what="planted generator cards")
        base = GeneratorCard.from_dict(cards[self.planted_name], source=f"{CARDS_PATH}:{self.planted_name}")
        return dataclasses.replace(
            base, hyperparameters=dict(self.get_params()),
            training_manifest_sha256=getattr(self, "training_manifest_sha256_", ""),
            training_patients_sha256=getattr(self, "training_patients_sha256_", ""))

    def fit(self, data: TrainView, *, seed: int) -> "PlantedGenerator":
        self.record_training_data(data)
        m = data.manifest
        self.images_ = np.round(np.asarray(data.images) * 65535).astype(np.uint16)
        self.conditions_ = {c: m[c].fillna("").astype(str).tolist() for c in CONDITION_COLUMNS}
        self.findings_ = [[dict(f) for f in fs] for fs in data.findings]
        self.training_patients_ = sorted(data.patient_ids)
        return self

    @property
    def train_conditions(self) -> pd.DataFrame:
        return pd.DataFrame(self.conditions_)

    def _copies(self, sources: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        images = self.images_[sources].astype(np.float32)[:, None] / 65535.0
        if self.noise > 0:
            images = images + rng.normal(0.0, self.noise, images.shape).astype(np.float32)
        return np.clip(images, 0.0, 1.0).astype(np.float32)

    def _truth(self, sources: np.ndarray) -> pd.DataFrame:
        return self.train_conditions.iloc[sources].reset_index(drop=True)

    def _batch(self, sources: np.ndarray, labels: pd.DataFrame, findings: list, rng, seed: int) -> SyntheticBatch:
        return SyntheticBatch(self._copies(sources, rng), labels_frame(labels, findings),
                              {"generator": self.planted_name, "seed": seed})

    def _honest(self, n: int, conditions: pd.DataFrame | None, seed: int, pool: pd.DataFrame) -> SyntheticBatch:
        """Copies of ``pool`` rows that match the requested conditions, with their true labels."""
        rng = np.random.default_rng(seed)
        rows = resolve_conditions(n, conditions, pool, rng)
        sources = pool.index.to_numpy()[rows["source_row"].to_numpy(int)] if n else np.zeros(0, int)
        return self._batch(sources, self._truth(sources), [self.findings_[i] for i in sources], rng, seed)


class PlantedNull(PlantedGenerator):
    """Exact duplicates of training cases with their true labels (conditions ignored).

    Cases are drawn *without* replacement (each training case at most once per pass over the
    training set), so the duplicates reweight the training set as little as duplicates can: drawn
    with replacement, some cases came back three or four times and the detector over-fitted them.
    At ratio 1 (the self-test's null arm) every training case comes back exactly once — the same
    cases at the same weights; at 0.5 a random half weighed double, a small real loss.
    """

    planted_name = "planted_null"
    card_path = CARDS_PATH

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        validate_conditions(n, conditions)
        rng = np.random.default_rng(seed)
        passes = -(-n // max(len(self.images_), 1))
        sources = np.concatenate([rng.permutation(len(self.images_)) for _ in range(passes)])[:n]
        return self._batch(sources, self._truth(sources), [self.findings_[i] for i in sources], rng, seed)


class PlantedHarmful(PlantedGenerator):
    """Training images with flipped labels: lesions become ``normal``, normals become ``malignant``.

    Boxes follow the flipped labels, as a box-producing generator's must (``check_labels_consistent``): a
    former lesion image loses its boxes; a former normal image gets one ``mass`` box of a training lesion's
    size at a random place in its tissue (:func:`random_tissue_box`), drawn from a stream of its own, so the
    images and labels are exactly those drawn without boxes. A classifier sees the flipped labels; a lesion
    detector is taught that lesions are background and normal tissue is a lesion.
    """

    planted_name = "planted_harmful"
    card_path = CARDS_PATH

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        validate_conditions(n, conditions)
        rng = np.random.default_rng(seed)
        sources = rng.integers(0, len(self.images_), n)
        labels = self._truth(sources)
        normal = labels["label"].to_numpy() == "normal"
        labels["label"] = np.where(normal, "malignant", "normal")
        labels["lesion_type"] = np.where(normal, "mass", "none")
        box_rng = np.random.default_rng([int(seed), 1])  # its own stream: images and labels do not depend on it
        sizes = [(b[2] - b[0], b[3] - b[1]) for fs in self.findings_ for f in fs
                 if (b := f.get("box")) is not None] or [(max(2, self.images_.shape[-1] // 10),) * 2]
        findings = [[{"box": random_tissue_box(self.images_[s], sizes[int(box_rng.integers(len(sizes)))], box_rng),
                      "lesion_type": "mass", "pathology": "malignant"}] if was_normal else []
                    for s, was_normal in zip(sources, normal)]
        return self._batch(sources, labels, findings, rng, seed)


def random_tissue_box(image: np.ndarray, size: tuple[float, float], rng: np.random.Generator) -> list[float]:
    """A ``size`` box centred on a random tissue pixel of ``image`` (uint16 or [0, 1]; tissue: not
    :func:`~mammobench.generators.box_checks.air_mask`).

    Example:
        >>> img = np.zeros((32, 32), np.uint16); img[:, :16] = 30000
        >>> x0, y0, x1, y1 = random_tissue_box(img, (4, 4), np.random.default_rng(0))
        >>> x1 - x0, y1 - y0, x0 < 16
        (4.0, 4.0, True)
    """
    from mammobench.generators.box_checks import air_mask

    img = np.asarray(image, np.float32)
    img = img / 65535.0 if img.max() > 1.0 else img
    h, w = img.shape
    ys, xs = np.nonzero(~air_mask(img))
    if len(ys) == 0:
        ys, xs = np.array([h // 2]), np.array([w // 2])
    k = int(rng.integers(len(ys)))
    bw, bh = (float(min(max(v, 1.0), d)) for v, d in zip(size, (w, h)))
    x0 = float(np.clip(round(xs[k] - bw / 2), 0, w - bw))
    y0 = float(np.clip(round(ys[k] - bh / 2), 0, h - bh))
    return [x0, y0, x0 + bw, y0 + bh]


class PlantedMemoriser(PlantedGenerator):
    """Near-copies (Gaussian noise σ = ``noise``) of training images matching the requested conditions."""

    planted_name = "planted_memoriser"
    card_path = CARDS_PATH
    tags = GeneratorTags(requires_fit=True, conditional_on=CONDITION_COLUMNS, produces_boxes=True)

    def __init__(self, noise: float = 0.004):
        super().__init__(noise)

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        return self._honest(n, conditions, seed, self.train_conditions)


class PlantedLeaker(PlantedMemoriser):
    """Copies of the images it was fitted on; ``training_patients_`` lists the patients it saw.

    The self-test fits it on a view built from the *test* split on purpose (a generator that
    cheats); the leakage audit must catch the overlap from those patient ids.
    """

    planted_name = "planted_leaker"


class PlantedBiased(PlantedGenerator):
    """Density-A training images only (light noise), honestly labelled, whatever is requested."""

    planted_name = "planted_biased"
    card_path = CARDS_PATH

    def __init__(self, noise: float = 0.01, density: str = "A"):
        super().__init__(noise)
        self.density = density

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        validate_conditions(n, conditions)
        pool = self.train_conditions
        pool = pool[pool["density"] == self.density]
        if n and pool.empty:
            pool = self.train_conditions  # no such density in training: nothing to be biased towards
        return self._honest(n, None, seed, pool)


class PlantedOffCondition(PlantedGenerator):
    """Random training-mix images whose labels claim the requested conditions (which it ignores)."""

    planted_name = "planted_off_condition"
    card_path = CARDS_PATH
    tags = GeneratorTags(requires_fit=True, conditional_on=CONDITION_COLUMNS, produces_boxes=False)

    def __init__(self, noise: float = 0.01):
        super().__init__(noise)

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        rng = np.random.default_rng(seed)
        claimed = resolve_conditions(n, conditions, self.train_conditions, rng)
        sources = rng.integers(0, len(self.images_), n)
        return self._batch(sources, claimed, [[] for _ in range(n)], rng, seed)


def off_location(box: list[float], h: int, w: int) -> list[float]:
    """``box`` reflected through the image centre (same size, still on the image); when the reflection still
    overlaps the original (a lesion near the centre) it is moved one box height further down (or up).

    Example:
        >>> off_location([4, 6, 10, 12], 32, 32), off_location([14, 14, 18, 18], 32, 32)
        ([22, 20, 28, 26], [14, 19, 18, 23])
    """
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    nx0, ny0 = w - x1, h - y1
    if nx0 < x1 and nx0 + bw > x0 and ny0 < y1 and ny0 + bh > y0:
        ny0 = y1 + 1 if y1 + 1 + bh <= h else max(0, y0 - bh - 1)
    return [nx0, ny0, nx0 + bw, ny0 + bh]


class PlantedOffLocation(PlantedGenerator):
    """Training images matching the requested conditions (light noise), honestly labelled, whose lesion boxes
    are moved away from the drawn lesion (:func:`off_location`): the images are right, the boxes are not.

    ``check_boxes_on_lesion`` (the conformance suite) must fail it; a detector trained on it learns the
    wrong places.
    """

    planted_name = "planted_off_location"
    card_path = CARDS_PATH
    tags = GeneratorTags(requires_fit=True, conditional_on=CONDITION_COLUMNS, produces_boxes=True)

    def __init__(self, noise: float = 0.01):
        super().__init__(noise)

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        batch = self._honest(n, conditions, seed, self.train_conditions)
        h, w = batch.images.shape[2:]
        moved = [[{**f, "box": off_location(list(f["box"]), h, w)} if f.get("box") is not None else dict(f)
                  for f in fs] for fs in batch.labels["findings"]]
        batch.labels["findings"] = pd.Series(moved, index=batch.labels.index, dtype=object)
        return batch
