"""Tiny seeded image sets for the audit tests (learnable density, lesion type and label).

Each image is a breast-shaped half ellipse on the left whose fibroglandular texture fraction grows
with density A→D; malignant images carry a bright mass blob, benign ones a cluster of
calcification dots. Patients own two images each.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

from mammobench.protocols import HoldoutView, SyntheticBatch, TrainView
from tests.helpers.seeds import data_seed

DENSITY_LEVEL = {"A": 0.15, "B": 0.35, "C": 0.6, "D": 0.85}


def draw_image(rng: np.random.Generator, size: int, density: str, lesion_type: str) -> np.ndarray:
    """One synthetic mammogram-like image in [0, 1]."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    breast = ((xx / 0.8) ** 2 + ((yy - 0.5) / 0.45) ** 2) < 1.0
    tissue = gaussian_filter(rng.normal(size=(size, size)), sigma=size / 16)
    tissue = (tissue - tissue.min()) / (np.ptp(tissue) + 1e-9)
    level = DENSITY_LEVEL[density]
    dense = tissue > (1 - level)
    img = np.where(breast, 0.25 + 0.45 * dense + 0.1 * tissue, 0.0)
    cy, cx = rng.uniform(0.35, 0.65) * size, rng.uniform(0.15, 0.45) * size
    if lesion_type == "mass":
        img += 0.35 * np.exp(-((yy * size - cy) ** 2 + (xx * size - cx) ** 2) / (2 * (size / 12) ** 2))
    elif lesion_type == "calcification":
        for _ in range(6):
            y, x = int(cy + rng.normal(0, size / 20)), int(cx + rng.normal(0, size / 20))
            img[max(0, y - 1):y + 1, max(0, x - 1):x + 1] = 1.0
    img = img + rng.normal(0, 0.02, size=img.shape)
    return np.clip(img, 0, 1).astype(np.float32)


def make_manifest(n_patients: int, *, seed: int, split: str = "train", prefix: str = "p",
                  density_p: tuple[float, ...] = (0.25, 0.25, 0.25, 0.25)) -> pd.DataFrame:
    """Manifest rows: 2 images per patient, density per patient, lesion per image (seed + test offset)."""
    rng = np.random.default_rng(data_seed(seed))
    rows = []
    for p in range(n_patients):
        density = str(rng.choice(list("ABCD"), p=density_p))
        age = float(rng.uniform(40, 80))
        for k, view in enumerate(("CC", "MLO")):
            lesion = str(rng.choice(["none", "mass", "calcification"], p=[0.4, 0.3, 0.3]))
            label = {"none": "normal", "mass": "malignant", "calcification": "benign"}[lesion]
            rows.append({"dataset": "tiny", "patient_id": f"{prefix}{p:04d}", "exam_id": f"{prefix}{p:04d}",
                         "image_id": f"{prefix}{p:04d}_{k}", "image_path": "", "view": view, "laterality": "L",
                         "split": split, "label": label, "lesion_type": lesion, "density": density, "age": age,
                         "age_band": "<50" if age < 50 else "50-59" if age < 60 else "60-69" if age < 70 else "70+",
                         "vendor": "sim", "site": "s1", "findings": "[]"})
    return pd.DataFrame(rows)


def render(manifest: pd.DataFrame, *, size: int, seed: int) -> np.ndarray:
    """Images for the manifest rows (seed + test offset)."""
    rng = np.random.default_rng(data_seed(seed))
    return np.stack([draw_image(rng, size, r.density, r.lesion_type) for r in manifest.itertuples()])


def make_view(n_patients: int = 40, *, size: int = 32, seed: int = 0, split: str = "train", prefix: str = "p",
              density_p: tuple[float, ...] = (0.25, 0.25, 0.25, 0.25)) -> TrainView:
    """A TrainView (the split check is bypassed for val/test-like views via split='train' rows)."""
    manifest = make_manifest(n_patients, seed=seed, split=split, prefix=prefix, density_p=density_p)
    images = render(manifest, size=size, seed=seed + 1)
    if split != "train":
        return HoldoutView(manifest, images)
    return TrainView(manifest, images, manifest_hash=f"tiny-{data_seed(seed)}-{n_patients}-{size}")


def batch_from(manifest: pd.DataFrame, images: np.ndarray) -> SyntheticBatch:
    """A SyntheticBatch with the manifest's condition columns as labels."""
    labels = manifest[["label", "lesion_type", "density", "age_band", "view"]].reset_index(drop=True).copy()
    labels["findings"] = [[] for _ in range(len(labels))]
    return SyntheticBatch(images=images[:, None].astype(np.float32), labels=labels)
