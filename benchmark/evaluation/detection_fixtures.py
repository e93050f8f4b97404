"""Seeded synthetic detection runs (predictions, marks, lesions) with a known effect, for tests.

Images and patients come from :mod:`mammobench.evaluation.fixtures` (one lesion image per positive
patient). Every lesion image carries 1–2 lesion boxes in a 64-px image. Each (arm, seed) detector puts
``marks_per_image`` marks on every image: on a lesion image, one mark at each lesion centre whose score is
``sigmoid(difficulty + separation + arm effect + noise − 1)`` (weaker in density ``d``), the remaining
marks at random places with ``sigmoid(difficulty + noise − 1.5)``; the image score is its highest mark.
So ``arm_effects`` shifts lesion-level and image-level performance alike, and 0 everywhere is the null.

Example:
    >>> preds, marks, lesions = make_detection_run(n_patients=20, seeds=(0,))
    >>> sorted(marks.columns)[:4], int(marks.groupby(["arm", "image_id"]).size().max())
    (['arm', 'generator', 'image_id', 'patient_id'], 4)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mammobench.evaluation.fixtures import _images, _patients

SIZE = 64


def _lesions(cases: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for image_id, kind in cases.loc[cases["y_true"] == 1, ["image_id", "lesion_type"]].itertuples(index=False):
        for k in range(int(rng.integers(1, 3))):
            cx, cy, half = rng.uniform(10, SIZE - 10), rng.uniform(10, SIZE - 10), rng.uniform(2, 6)
            rows.append({"image_id": image_id, "lesion": k, "x0": cx - half, "y0": cy - half, "x1": cx + half,
                         "y1": cy + half, "lesion_type": kind})
    return pd.DataFrame(rows, columns=["image_id", "lesion", "x0", "y0", "x1", "y1", "lesion_type"])


def _marks(cases: pd.DataFrame, lesions: pd.DataFrame, strength: np.ndarray, rng: np.random.Generator,
           marks_per_image: int) -> pd.DataFrame:
    by_image = lesions.groupby("image_id").indices
    rows = []
    for i, image_id in enumerate(cases["image_id"]):
        centres = [((lesions.at[j, "x0"] + lesions.at[j, "x1"]) / 2, (lesions.at[j, "y0"] + lesions.at[j, "y1"]) / 2)
                   for j in by_image.get(image_id, [])]
        logits = [strength[i] + rng.normal(scale=0.5) for _ in centres]
        while len(centres) < marks_per_image:
            centres.append((rng.uniform(0, SIZE), rng.uniform(0, SIZE)))
            logits.append(cases["difficulty"].iat[i] - 1.5 + rng.normal(scale=0.8))
        for rank, ((x, y), logit) in enumerate(sorted(zip(centres, logits), key=lambda t: -t[1])):
            rows.append({"image_id": image_id, "rank": rank, "x": x, "y": y, "x0": x - 3, "y0": y - 3, "x1": x + 3,
                         "y1": y + 3, "score": 1.0 / (1.0 + np.exp(-logit))})
    return pd.DataFrame(rows)


def make_detection_run(n_patients: int = 200, *, arms: tuple[str, ...] = ("none", "augmented"),
                       seeds: tuple[int, ...] = (0, 1, 2), arm_effects: dict[str, float] | None = None,
                       separation: float = 2.0, density_gap: float = 1.0, marks_per_image: int = 4,
                       images_per_patient: int = 2, prevalence: float = 0.5, seed: int = 0
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(predictions, marks, lesions)`` of a run whose first arm is the control ``none``."""
    rng = np.random.default_rng(seed)
    cases = _images(_patients(n_patients, rng, prevalence), images_per_patient, rng)
    lesions = _lesions(cases, rng)
    sep = separation - density_gap * (cases["density"].to_numpy() == "d")
    preds, marks = [], []
    for arm in arms:
        effect = (arm_effects or {}).get(arm, 0.0)
        for s in seeds:
            strength = cases["difficulty"].to_numpy() + sep + effect - 1.0
            m = _marks(cases, lesions, strength, rng, marks_per_image)
            tags = {"arm": arm, "generator": "none" if arm == arms[0] else "fixture", "seed": s,
                    "ratio": 0.0 if arm == arms[0] else 1.0}
            info = cases[["image_id", "patient_id", "split"]]
            marks.append(m.merge(info, on="image_id").assign(**tags))
            frame = cases.drop(columns=["positive", "difficulty"]).assign(**tags)
            frame["y_score"] = frame["image_id"].map(m.groupby("image_id")["score"].max())
            preds.append(frame)
    return pd.concat(preds, ignore_index=True), pd.concat(marks, ignore_index=True), lesions


__all__ = ["make_detection_run"]
