"""The planted helpful generators: new, correctly labelled cases of what the training split lacks.

Both fill a gap of the training split with fresh cases from the same phantom simulator that made the
cohort (:func:`sample_case` + :func:`simulate_image`), preprocessed like the training view (whole
breast or one patch, :func:`mammobench.generators.simulated.render_case`); labels and boxes are the
simulator's truth.

* ``planted_helpful`` (:class:`PlantedHelpful`): the **dense breasts** the virtual cohort
  under-represents — the requested label and lesion mix, density forced to C or D.
* ``planted_missing_type`` (:class:`PlantedMissingType`): the **lesion types absent from the
  training split** (read when it is fitted; the self-test's comparison cohort leaves asymmetries
  out) — the requested label mix (else the training split's), every lesion of a missing type,
  density and view as requested.

Their known answer: a significant gain in the subgroup they supply.

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
from mammobench.errors import ConfigError
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

    def _requests(self, n: int, conditions: pd.DataFrame | None, rng: np.random.Generator) -> pd.DataFrame:
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
        rows = self._requests(n, conditions, rng)
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


class PlantedMissingType(PlantedHelpful):
    """Simulated lesions of the type(s) the training split lacks, with the simulator's exact labels.

    Example:
        >>> from mammobench.generators.fixtures import make_tiny_train_view
        >>> gen = PlantedMissingType(sim_size=64).fit(make_tiny_train_view(n=8, size=32), seed=0)
        >>> gen.missing_lesion_types_   # the tiny view's lesions are all masses
        ['calcification', 'architectural_distortion', 'asymmetry']
        >>> sorted(set(gen.sample(8, seed=1).labels["lesion_type"]) - set(gen.missing_lesion_types_))
        ['none']
    """

    planted_name = "planted_missing_type"

    def fit(self, data: TrainView, *, seed: int) -> "PlantedMissingType":
        """Record the training split and the lesion types absent from it.

        Raises:
            ConfigError: the training split has no lesion, or has every lesion type (nothing to supply).
        """
        super().fit(data, seed=seed)
        m = data.manifest
        present = set(m.loc[m["label"].astype(str) != "normal", "lesion_type"].astype(str))
        missing = [t for t in SIM_LESION_TYPES if t not in present]
        if not present or not missing:
            raise ConfigError(f"{self.planted_name}: the training split has "
                              f"{'no lesion' if not present else 'every lesion type'} "
                              f"({', '.join(sorted(present)) or 'none'}); it supplies a lesion type the training "
                              "split lacks — use a cohort with dataset.cohort.train_lesion_type_weights "
                              "setting one type to 0 (as the self-test's comparison cohort does)")
        self.missing_lesion_types_ = missing
        return self

    def _requests(self, n: int, conditions: pd.DataFrame | None, rng: np.random.Generator) -> pd.DataFrame:
        """Requested rows (label mix of the request, else of training) whose lesions are of the missing type(s).

        Normals stay normal: a supply of lesions only would make "looks synthetic" a cue for "has a
        lesion", which the detector learns at the real positives' expense (a pilot lost 0.07 AUC).
        """
        given = validate_conditions(n, conditions)
        pool = pd.DataFrame(self.conditions_)
        rows = resolve_conditions(n, None if given is None else given.loc[:, [c for c in ("density", "view", "label")
                                                                              if c in given]], pool, rng)
        kinds = self.missing_lesion_types_
        lesion = rows["label"].astype(str) != "normal"
        rows.loc[lesion, "lesion_type"] = [kinds[int(rng.integers(len(kinds)))] for _ in range(int(lesion.sum()))]
        rows.loc[~lesion, "lesion_type"] = "none"
        return rows


class PlantedDenseLesions(PlantedHelpful):
    """Simulated dense-breast (C/D) **lesion** cases with the simulator's exact labels and boxes.

    The lesion detector's helpful generator (the detection self-test, ``selftest.detection_trials``): its
    training part has no dense breasts, and lesion boxes are what a detector learns from, so every supplied
    image carries a lesion — label and lesion type drawn from the training split's lesion cases — in
    a dense breast. (For the image classifier a lesions-only supply taught "looks synthetic" as a lesion
    cue; a detector must find *where* the lesion is, which a global cue does not give.)

    Example:
        >>> from mammobench.generators.fixtures import make_tiny_train_view
        >>> batch = PlantedDenseLesions(sim_size=64).fit(make_tiny_train_view(n=8, size=32), seed=0).sample(3, seed=0)
        >>> sorted(set(batch.labels["label"]) - {"benign", "malignant"}), set(batch.labels["density"]) <= {"C", "D"}
        ([], True)
    """

    planted_name = "planted_dense_lesions"

    def _requests(self, n: int, conditions: pd.DataFrame | None, rng: np.random.Generator) -> pd.DataFrame:
        """The dense requests of :class:`PlantedHelpful`, each with the label and type of a training lesion."""
        rows = super()._requests(n, conditions, rng)
        pool = pd.DataFrame(self.conditions_)
        lesions = pool[pool["label"] != "normal"]
        if lesions.empty:
            raise ConfigError(f"{self.planted_name}: the training split has no lesion case to take labels from")
        pick = lesions.iloc[rng.integers(0, len(lesions), n)] if n else lesions.iloc[:0]
        rows = rows.copy()
        rows["label"] = pick["label"].to_numpy()
        rows["lesion_type"] = pick["lesion_type"].to_numpy()
        return rows

