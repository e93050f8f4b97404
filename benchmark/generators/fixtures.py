"""Tiny seeded training views for tests: lesion blobs on textured breast-like backgrounds.

In the spirit of MONAI's ``create_test_image_2d``: fast (milliseconds), deterministic for a seed,
and independent of the phantom simulator. Masses are bright round (benign) or spiculated
(malignant) blobs; calcifications are clusters of tiny bright dots; density sets the tissue
brightness and texture. Boxes are exact (computed from what was drawn).

Example:
    >>> view = make_tiny_train_view(n=16, size=32, seed=0)
    >>> view.images.shape, view.images.dtype.name
    ((16, 32, 32), 'float32')
    >>> sorted(set(view.manifest["lesion_type"]))
    ['calcification', 'mass', 'none']
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from mammobench.data.manifest import MANIFEST_COLUMNS, age_band
from mammobench.io import sha256_bytes
from mammobench.protocols import TrainView

DENSITY_LEVEL = {"A": 0.22, "B": 0.32, "C": 0.42, "D": 0.52}
_KINDS = ("none", "mass", "none", "calcification")


def _background(rng: np.random.Generator, size: int, density: str) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] / size
    breast = ((xx / 0.85) ** 2 + ((yy - 0.5) / 0.48) ** 2) < 1.0
    texture = ndimage.gaussian_filter(rng.normal(size=(size, size)), sigma=size / 16)
    texture /= texture.std() + 1e-8
    tissue = DENSITY_LEVEL[density] + 0.06 * texture + 0.08 * (1 - xx)
    return np.where(breast, tissue, 0.02).astype(np.float32)


def _draw_mass(img: np.ndarray, rng: np.random.Generator, malignant: bool) -> list[float]:
    size = img.shape[0]
    r = rng.uniform(0.08, 0.13) * size
    cy, cx = rng.uniform(0.3, 0.7) * size, rng.uniform(0.2, 0.5) * size
    yy, xx = np.mgrid[0:size, 0:size]
    ang = np.arctan2(yy - cy, xx - cx)
    radius = r * (1 + (0.35 * np.abs(np.sin(4 * ang + rng.uniform(0, 6))) if malignant else 0))
    dist = np.hypot(yy - cy, xx - cx)
    blob = np.clip((radius - dist) / 1.5 + 0.5, 0, 1)
    img += 0.3 * blob.astype(np.float32)
    ys, xs = np.nonzero(blob > 0.5)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def _draw_calcifications(img: np.ndarray, rng: np.random.Generator, malignant: bool) -> list[float]:
    size = img.shape[0]
    cy, cx = rng.uniform(0.3, 0.7) * size, rng.uniform(0.2, 0.5) * size
    spread = (0.09 if malignant else 0.06) * size
    k = int(rng.integers(5, 9))
    pts = np.clip(np.round(rng.normal([cy, cx], spread, size=(k, 2))), 1, size - 2).astype(int)
    for y, x in pts:
        img[y, x] += 0.45
    ys, xs = pts[:, 0], pts[:, 1]
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def _case(rng: np.random.Generator, i: int, size: int) -> tuple[np.ndarray, dict, list[dict]]:
    density = "ABCD"[i % 4]
    kind = _KINDS[(i // 4) % 4] if i % 3 else _KINDS[(i // 3) % 4]
    malignant = bool(rng.integers(2))
    img = _background(rng, size, density)
    findings = []
    if kind != "none":
        draw = _draw_mass if kind == "mass" else _draw_calcifications
        findings = [{"box": draw(img, rng, malignant), "lesion_type": kind,
                     "pathology": "malignant" if malignant else "benign"}]
    img = np.clip(img + rng.normal(0, 0.01, img.shape), 0, 1).astype(np.float32)
    age = float(rng.integers(40, 80))
    label = "normal" if kind == "none" else ("malignant" if malignant else "benign")
    row = {"dataset": "tiny", "patient_id": f"P{i // 2:04d}", "exam_id": f"E{i // 2:04d}",
           "image_id": f"I{i:05d}", "image_path": "", "view": "CC" if i % 2 else "MLO", "laterality": "L",
           "split": "train", "label": label, "lesion_type": kind, "density": density, "age": age,
           "age_band": age_band(age), "vendor": "tiny", "site": "tiny", "findings": json.dumps(findings),
           "pixel_spacing_mm": 0.1, "density_raw": density, "birads_raw": ""}
    return img, row, findings


def make_tiny_train_view(n: int = 32, size: int = 32, seed: int = 0) -> TrainView:
    """A deterministic ``TrainView`` of ``n`` images (``size``×``size``) with exact lesion boxes.

    About half the images are normal, a quarter carry a mass, a quarter a calcification cluster;
    density cycles A–D; pathology is benign/malignant at random.
    """
    rng = np.random.default_rng(seed)
    cases = [_case(rng, i, size) for i in range(n)]
    images = np.stack([c[0] for c in cases]).astype(np.float32)
    manifest = pd.DataFrame([c[1] for c in cases], columns=list(MANIFEST_COLUMNS))
    digest = sha256_bytes(manifest.to_csv(index=False).encode())
    return TrainView(manifest, images, [c[2] for c in cases], manifest_hash=digest)


def write_tiny_folder_submission(out_dir: str | Path, *, n: int = 12, size: int = 32, seed: int = 0) -> Path:
    """Write a valid folder submission (``manifest.csv`` + ``card.yaml`` + 16-bit PNGs) for tests."""
    from PIL import Image

    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    view = make_tiny_train_view(n=n, size=size, seed=seed)
    rows = []
    for i, row in view.manifest.iterrows():
        name = f"images/s{i:04d}.png"
        Image.fromarray(np.round(view.images[i] * 65535).astype(np.uint16)).save(out / name)
        rows.append({"file": name, "label": row["label"], "lesion_type": row["lesion_type"],
                     "density": row["density"], "age_band": row["age_band"], "view": row["view"],
                     "findings": row["findings"]})
    pd.DataFrame(rows).to_csv(out / "manifest.csv", index=False)
    (out / "card.yaml").write_text(
        "name: tiny_folder\nversion: '1.0'\nkind: folder\nlicence: CC-BY-4.0\n"
        "intended_use: conformance tests\nconditioning: [label, lesion_type, density]\n", encoding="utf-8")
    return out


__all__ = ["DENSITY_LEVEL", "make_tiny_train_view", "write_tiny_folder_submission"]
