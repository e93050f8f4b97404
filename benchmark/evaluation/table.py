"""Validate ``predictions.csv`` (Contract 4) and align it into a cases × arms × seeds score cube.

NaN policy: a NaN/inf ``y_score`` raises :class:`~mammobench.errors.StatisticsError` naming the
(split, arm, seed, image_id) of the first offending rows — a silent drop would unpair the arms.
Arm label: the ``arm`` column, suffixed ``@<ratio>`` when one arm name appears with several ratios.
Every (arm, seed) must score the same test cases; otherwise pairing is impossible and it raises.

Example:
    >>> df = pd.DataFrame({"image_id": ["i1", "i2"] * 2, "patient_id": ["p1", "p2"] * 2, "split": "test",
    ...                    "arm": ["real"] * 2 + ["aug"] * 2, "generator": "g", "ratio": 0.0, "seed": 0,
    ...                    "y_true": [0, 1] * 2, "y_score": [0.2, 0.7, 0.3, 0.9]})
    >>> cube = align_split(df, "test")
    >>> cube.arms, cube.scores["aug"].shape
    (['aug', 'real'], (1, 2))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mammobench.errors import StatisticsError

REQUIRED = ["image_id", "patient_id", "split", "arm", "generator", "ratio", "seed", "y_true", "y_score"]
SUBGROUP_COLUMNS = ["density", "age_band", "lesion_type", "vendor", "site", "view"]


@dataclass
class ScoreCube:
    """Aligned cases of one split: ``cases`` (one row per image) and ``scores[arm] -> [n_seeds, n_cases]``."""

    cases: pd.DataFrame
    scores: dict[str, np.ndarray]
    seeds: dict[str, list[int]]

    @property
    def arms(self) -> list[str]:
        """Arm labels, sorted."""
        return sorted(self.scores)

    @property
    def y(self) -> np.ndarray:
        """Labels as bool."""
        return self.cases["y_true"].to_numpy().astype(bool)


def validate_predictions(predictions: pd.DataFrame) -> pd.DataFrame:
    """Check columns, labels and scores; return a copy with an ``arm_label`` column.

    Raises:
        StatisticsError: on missing columns, non-0/1 labels, NaN/inf scores (rows named).
    """
    missing = [c for c in REQUIRED if c not in predictions.columns]
    if missing:
        raise StatisticsError(f"predictions lack column(s) {missing}; Contract 4 needs {REQUIRED}")
    df = predictions.copy()
    for col in ("ratio", "seed"):
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any():
            bad_rows = df.loc[values.isna(), ["split", "arm", col, "image_id"]].head(5).to_dict("records")
            raise StatisticsError(f"predictions column {col!r} must be numeric; offending rows {bad_rows}")
        df[col] = values.astype(int) if col == "seed" else values.astype(float)
    for col in ("image_id", "patient_id", "arm", "split"):
        if df[col].isna().any():
            bad_rows = df.loc[df[col].isna(), ["split", "arm", "seed", "image_id"]].head(5).to_dict("records")
            raise StatisticsError(f"predictions column {col!r} has empty values; offending rows {bad_rows}")
    score = pd.to_numeric(df["y_score"], errors="coerce")
    bad = ~np.isfinite(score.to_numpy(float))
    if bad.any():
        rows = df.loc[bad, ["split", "arm", "seed", "image_id"]].head(5).to_dict("records")
        raise StatisticsError(f"{int(bad.sum())} prediction(s) have a NaN/inf y_score, e.g. {rows}; fix the "
                              f"cell that produced them (re-run it) — dropping rows would unpair the arms")
    labels = pd.to_numeric(df["y_true"], errors="coerce")
    if not labels.isin([0, 1]).all():
        rows = df.loc[~labels.isin([0, 1]), ["arm", "seed", "image_id", "y_true"]].head(5).to_dict("records")
        raise StatisticsError(f"y_true must be 0/1; offending rows {rows}")
    df["y_score"], df["y_true"] = score.astype(float), labels.astype(int)
    ratios = df.groupby("arm")["ratio"].nunique()
    multi = set(ratios[ratios > 1].index)
    df["arm_label"] = [f"{a}@{r:g}" if a in multi else str(a) for a, r in zip(df["arm"], df["ratio"].astype(float))]
    return df


def align_split(predictions: pd.DataFrame, split: str) -> ScoreCube:
    """Align one split's rows into a :class:`ScoreCube` (cases ordered by image_id).

    Raises:
        StatisticsError: when the split is empty or arms/seeds score different cases.
    """
    df = predictions if "arm_label" in predictions.columns else validate_predictions(predictions)
    df = df[df["split"] == split]
    if df.empty:
        raise StatisticsError(f"predictions hold no rows with split == {split!r}")
    sub_cols = [c for c in SUBGROUP_COLUMNS if c in df.columns]
    cases = (df.drop_duplicates("image_id")[["image_id", "patient_id", "y_true", *sub_cols]]
             .sort_values("image_id").reset_index(drop=True))
    ids = cases["image_id"].to_numpy()
    scores: dict[str, np.ndarray] = {}
    seeds: dict[str, list[int]] = {}
    for arm, part in df.groupby("arm_label"):
        arm_seeds = sorted(part["seed"].unique().tolist())
        rows = []
        for seed in arm_seeds:
            cell = part[part["seed"] == seed].drop_duplicates("image_id").set_index("image_id")
            if len(cell) != len(ids) or not cell.index.isin(ids).all():
                raise StatisticsError(f"split {split!r}: arm {arm!r} seed {seed} scores {len(cell)} cases, "
                                      f"expected the same {len(ids)} cases as every other cell; re-run that cell")
            rows.append(cell.loc[ids, "y_score"].to_numpy(float))
        scores[str(arm)], seeds[str(arm)] = np.vstack(rows), [int(s) for s in arm_seeds]
    return ScoreCube(cases=cases, scores=scores, seeds=seeds)


def val_thresholds(val: ScoreCube, target_specificity: float) -> dict[str, dict[int, float]]:
    """Per arm and seed, the threshold τ reaching ``target_specificity`` on validation negatives (B-1.5).

    Raises:
        StatisticsError: when the validation split has no negatives.
    """
    from mammobench.stats.metrics import threshold_at_specificity

    out: dict[str, dict[int, float]] = {}
    for arm in val.arms:
        out[arm] = {seed: threshold_at_specificity(val.y, row, target_specificity)
                    for seed, row in zip(val.seeds[arm], val.scores[arm])}
    return out
