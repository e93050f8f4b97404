"""Seeded synthetic ``predictions`` tables with a known subgroup gap (for tests and the null experiment).

Scores are ``sigmoid(case_difficulty + separation·y + arm_effect·y + seed_noise)``: the case term is
shared by every arm and seed (so arms are correlated as real models are), the separation is smaller
in density ``d`` by ``density_gap`` (a known subgroup gap), and ``arm_effects`` shifts the positives
of named arms (0 everywhere = identically distributed arms, the null).

Example:
    >>> df = make_predictions(n_patients=40, seeds=(0,), seed=1)
    >>> sorted(df["split"].unique()), sorted(df["arm"].unique())
    (['test', 'val'], ['augmented', 'real_only'])
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DENSITIES = ("a", "b", "c", "d")


def _patients(n_patients: int, rng: np.random.Generator, prevalence: float) -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": [f"P{i:05d}" for i in range(n_patients)],
        "positive": rng.random(n_patients) < prevalence,
        "density": rng.choice(DENSITIES, n_patients, p=[0.1, 0.4, 0.4, 0.1]),
        "age_band": rng.choice(["<50", "50-59", "60-69", ">=70"], n_patients),
        "vendor": rng.choice(["GE", "Hologic"], n_patients),
        "site": rng.choice(["site1", "site2"], n_patients),
        "split": np.where(rng.random(n_patients) < 0.3, "val", "test"),
    })


def _images(patients: pd.DataFrame, images_per_patient: int, rng: np.random.Generator) -> pd.DataFrame:
    rows = patients.loc[patients.index.repeat(images_per_patient)].reset_index(drop=True)
    k = np.tile(np.arange(images_per_patient), len(patients))
    rows["image_id"] = rows["patient_id"] + "_" + k.astype(str)
    rows["view"] = np.where(k % 2 == 0, "CC", "MLO")
    # a positive patient has the lesion on its first image only
    rows["y_true"] = (rows["positive"] & (k == 0)).astype(int)
    rows["lesion_type"] = np.where(rows["y_true"] == 1, rng.choice(["mass", "calcification"], len(rows)), "none")
    rows["difficulty"] = rng.normal(size=len(rows))
    return rows


def make_predictions(n_patients: int = 300, *, arms: tuple[str, ...] = ("real_only", "augmented"),
                     seeds: tuple[int, ...] = (0, 1, 2), arm_effects: dict[str, float] | None = None,
                     separation: float = 1.5, density_gap: float = 0.8, seed_noise: float = 0.3,
                     images_per_patient: int = 1, prevalence: float = 0.3, seed: int = 0) -> pd.DataFrame:
    """Build a Contract-4 predictions table (val + test, every arm × seed scores every case).

    Args:
        n_patients: patients (split ~30 % val / 70 % test at patient level).
        arms: arm names; the first is meant as the control.
        seeds: training seeds (same for every arm).
        arm_effects: extra separation per arm name (default 0: identically distributed arms).
        separation: logit shift of positives (overall discriminability).
        density_gap: how much smaller the separation is in density ``d``.
        seed_noise: SD of per-(arm, seed, case) noise.
        images_per_patient: images per patient (clustered data when > 1).
        prevalence: fraction of positive patients.
        seed: RNG seed.
    """
    rng = np.random.default_rng(seed)
    cases = _images(_patients(n_patients, rng, prevalence), images_per_patient, rng)
    sep = separation - density_gap * (cases["density"].to_numpy() == "d")
    frames = []
    for arm in arms:
        effect = (arm_effects or {}).get(arm, 0.0)
        for s in seeds:
            noise = rng.normal(scale=seed_noise, size=len(cases))
            logit = cases["difficulty"].to_numpy() + (sep + effect) * cases["y_true"].to_numpy() - 1.0 + noise
            frame = cases.drop(columns=["positive", "difficulty"]).copy()
            frame["arm"], frame["generator"], frame["seed"] = arm, ("none" if arm == arms[0] else "fixture"), s
            frame["ratio"] = 0.0 if arm == arms[0] else 1.0
            frame["y_score"] = 1.0 / (1.0 + np.exp(-logit))
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)
