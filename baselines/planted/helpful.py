"""The planted helpful generator: new, correctly labelled dense-breast images from the simulator.

The virtual cohort under-represents dense breasts (C/D) in training. This generator fills that gap
with fresh cases from the same phantom simulator that made the cohort (:func:`sample_case` +
:func:`simulate_image`), conditioned on density C or D, preprocessed like the training view (whole
breast or one patch, :func:`mammobench.generators.simulated.render_case`); labels and boxes are the
simulator's truth.
Its known answer: a significant gain in the dense subgroups and a smaller density fairness gap.

Example:
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> gen = PlantedHelpful(sim_size=64).fit(make_tiny_train_view(n=8, size=32), seed=0)
    >>> batch = gen.sample(2, seed=0)
    >>> batch.images.shape, set(batch.labels["density"]) <= {"C", "D"}
    ((2, 1, 32, 32), True)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mammobench.baselines.planted.generators import CARDS_PATH, DENSE, PlantedGenerator
from mammobench.data.manifest import age_band
from mammobench.generators.conditions import labels_frame, resolve_conditions, validate_conditions
from mammobench.protocols import CONDITION_COLUMNS, GeneratorTags, SyntheticBatch, TrainView
from mammobench.generators.simulated import render_case
from mammobench.simulator import sample_case
from mammobench.simulator.calibration import LESION_TYPES as SIM_LESION_TYPES


class PlantedHelpful(PlantedGenerator):
    """Simulated dense-breast (C/D) cases with the simulator's exact labels.

    Args:
        sim_size: simulation size in pixels (the cohort's size); ``None`` = 256 above 64-px
            training images, else 128 (the quick and smoke cohort sizes).
    """

    planted_name = "planted_helpful"
    card_path = CARDS_PATH
    tags = GeneratorTags(requires_fit=True, conditional_on=("label", "lesion_type", "density"),
                         produces_boxes=True, deterministic_given_seed=True)

    def __init__(self, sim_size: int | None = None):
        self.sim_size = sim_size

    def fit(self, data: TrainView, *, seed: int) -> "PlantedHelpful":
        self.record_training_data(data)
        m = data.manifest
        self.image_size_ = list(data.image_size)
        self.patch_ = getattr(data, "patch", None)
        self.conditions_ = {c: m[c].fillna("").astype(str).tolist() for c in CONDITION_COLUMNS}
        self.training_patients_ = sorted(data.patient_ids)
        return self

    def _dense_requests(self, n: int, conditions: pd.DataFrame | None, rng: np.random.Generator) -> pd.DataFrame:
        """Requested rows with density forced to C/D; label/lesion mix of the training split."""
        given = validate_conditions(n, conditions)
        wanted = pd.DataFrame(index=range(n)) if given is None else given.copy()
        dens = wanted["density"] if "density" in wanted else pd.Series([""] * n)
        wanted["density"] = [d if d in DENSE else DENSE[int(rng.integers(2))] for d in dens.astype(str)]
        pool = pd.DataFrame(self.conditions_)
        keep = [c for c in ("density", "label", "lesion_type") if c in wanted]
        return resolve_conditions(n, wanted.loc[:, keep], pool, rng)

    def _one(self, row: pd.Series, rng: np.random.Generator) -> tuple[np.ndarray, dict, list[dict]]:
        lesion = row["lesion_type"] if row["label"] != "normal" else "none"
        if lesion != "none" and lesion not in SIM_LESION_TYPES:
            lesion = "mass"
        pathology = row["label"] if lesion != "none" else None
        spec = sample_case(rng, density=row["density"], lesion_type=lesion, pathology=pathology,
                           view=row["view"] if row["view"] in ("CC", "MLO") else None)
        image, findings = render_case(spec, image_size=tuple(self.image_size_), patch=getattr(self, "patch_", None),
                                      rng=rng, sim_size=self.sim_size)
        label = spec.pathology if findings else "normal"
        truth = {"label": label, "lesion_type": spec.lesion_type if findings else "none", "density": spec.density,
                 "age_band": age_band(spec.age), "view": spec.view}
        return image, truth, findings

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        rng = np.random.default_rng(seed)
        rows = self._dense_requests(n, conditions, rng)
        h, w = self.image_size_
        images = np.zeros((n, 1, h, w), np.float32)
        truths, findings = [], []
        for i in range(n):
            images[i, 0], truth, fs = self._one(rows.iloc[i], rng)
            truths.append(truth)
            findings.append(fs)
        labels = pd.DataFrame(truths, columns=list(CONDITION_COLUMNS))
        return SyntheticBatch(np.clip(images, 0, 1), labels_frame(labels, findings),
                              {"generator": self.planted_name, "seed": seed})
