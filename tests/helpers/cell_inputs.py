"""Tiny cell inputs (Contract 6 ``data/``) for executor and cell tests: a bright blob on noise marks positives.

Example:
    >>> import tempfile, pathlib
    >>> run = make_run_inputs(pathlib.Path(tempfile.mkdtemp()) / "r", n=8, size=16)
    >>> sorted(p.name for p in (run / "data").iterdir())
    ['cases.csv', 'images.npy']
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.pipeline.stages import CASE_COLUMNS


def make_run_inputs(run_dir: Path, *, n: int = 48, size: int = 24, seed: int = 0) -> Path:
    """Tiny cell inputs: bright blob on noise for positives; three splits, two patients per image pair."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(int)
    images = rng.normal(0.3, 0.05, (n, size, size)).astype(np.float32)
    yy, xx = np.mgrid[:size, :size]
    for i in np.flatnonzero(y):
        cy, cx = rng.integers(6, size - 6, 2)
        images[i] += 0.4 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0)
    split = np.array(["train"] * (n // 2) + ["val"] * (n // 4) + ["test"] * (n - n // 2 - n // 4))
    cases = pd.DataFrame({"row": np.arange(n), "image_id": [f"img{i:03d}" for i in range(n)],
                          "patient_id": [f"p{i // 2:03d}" for i in range(n)], "split": split,
                          "label": np.where(y == 1, "malignant", "normal"), "y_true": y,
                          "density": rng.choice(list("ABCD"), n), "age_band": "50-59",
                          "lesion_type": np.where(y == 1, "mass", "none"), "vendor": "v", "site": "s",
                          "view": "CC"})
    (run_dir / "data").mkdir(parents=True, exist_ok=True)
    cases.loc[:, list(CASE_COLUMNS)].to_csv(run_dir / "data" / "cases.csv", index=False)
    np.save(run_dir / "data" / "images.npy", np.clip(images, 0, 1))
    return run_dir
