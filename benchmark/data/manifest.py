"""The canonical manifest: one row per image, the same columns for every dataset.

Every adapter (real datasets and the built-in virtual cohort) emits a ``pandas.DataFrame`` with
:data:`MANIFEST_COLUMNS`. Values use the controlled vocabularies below; anything an adapter cannot
map becomes ``unknown`` / NaN (never a guess), with the raw value kept in ``*_raw`` columns.

Column meanings:

=================  =========================================================================
patient_id         pseudonymous patient key (the unit of splitting and of bootstrap clusters)
exam_id            study / exam key
image_id           unique image key within the dataset
image_path         path relative to the dataset root ('' when there is no file)
view               CC | MLO | other
laterality         L | R
split              train | val | test ('' = not yet assigned; splits.py assigns)
label              normal | benign | malignant | unknown (image level, worst finding)
lesion_type        none | mass | calcification | architectural_distortion | asymmetry | other | unknown
density            A | B | C | D | '' (unknown)
age                age in years (float, NaN when unknown)
age_band           from :func:`age_band` ('unknown' when age is NaN)
vendor             manufacturer (free text, '' unknown)
site               acquisition site / institution ('' unknown)
findings           JSON list of {"box": [x0, y0, x1, y1], "lesion_type": ..., "pathology": ...,
                   "mask_path": ...}; boxes in pixels of the original image grid, x first
pixel_spacing_mm   float, NaN when unknown
density_raw        the dataset's own density value, as text
birads_raw         the dataset's own BI-RADS value, as text
=================  =========================================================================

Example:
    >>> age_band(54.0)
    '50-59'
    >>> harmonise_density("3")
    'C'
"""
from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from mammobench.errors import DataError

MANIFEST_COLUMNS: tuple[str, ...] = (
    "dataset", "patient_id", "exam_id", "image_id", "image_path", "view", "laterality", "split",
    "label", "lesion_type", "density", "age", "age_band", "vendor", "site", "findings",
    "pixel_spacing_mm", "density_raw", "birads_raw",
)
VIEWS = ("CC", "MLO", "other")
LATERALITIES = ("L", "R")
SPLITS = ("train", "val", "test", "")
LABELS = ("normal", "benign", "malignant", "unknown")
LESION_TYPES = ("none", "mass", "calcification", "architectural_distortion", "asymmetry", "other", "unknown")
DENSITIES = ("A", "B", "C", "D", "")
AGE_BANDS = ("<50", "50-59", "60-69", "70+", "unknown")

_DENSITY_MAP = {
    "1": "A", "2": "B", "3": "C", "4": "D", "a": "A", "b": "B", "c": "C", "d": "D",
    "density a": "A", "density b": "B", "density c": "C", "density d": "D",
    "0%-25%": "A", "26%-50%": "B", "51%-75%": "C", "76%-100%": "D",
    "fatty": "A", "almost entirely fatty": "A", "scattered": "B",
    "scattered fibroglandular": "B", "heterogeneously dense": "C", "extremely dense": "D",
}


def age_band(age: float | None) -> str:
    """Map an age in years to the benchmark's age band (``'unknown'`` for NaN/None)."""
    if age is None or (isinstance(age, float) and math.isnan(age)):
        return "unknown"
    if age < 50:
        return "<50"
    if age < 60:
        return "50-59"
    if age < 70:
        return "60-69"
    return "70+"


def harmonise_density(raw: Any) -> str:
    """Map a raw density value (1–4, 'DENSITY C', 'A', '51%-75%', 3.0 …) to A–D, '' if unknown."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return ""
    text = str(raw).strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    return _DENSITY_MAP.get(text, "")


def empty_manifest() -> pd.DataFrame:
    """An empty manifest with the canonical columns."""
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("age", "pixel_spacing_mm") else "object")
                         for c in MANIFEST_COLUMNS})


def parse_findings(text: Any) -> list[dict]:
    """Parse the ``findings`` JSON column ('' or NaN → [])."""
    if text is None or (isinstance(text, float) and math.isnan(text)) or text == "":
        return []
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError as err:
        raise DataError(f"findings column is not valid JSON: {text!r} ({err})") from err
    if not isinstance(value, list):
        raise DataError(f"findings column must be a JSON list, got {text!r}")
    return value


def validate_manifest(df: pd.DataFrame, *, source: str = "manifest") -> pd.DataFrame:
    """Check columns and vocabularies; return the manifest with canonical column order.

    Raises:
        DataError: naming the missing column or the first bad value and its row.
    """
    missing = [c for c in MANIFEST_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; a manifest needs {list(MANIFEST_COLUMNS)}")
    checks = {"view": VIEWS, "laterality": LATERALITIES, "split": SPLITS, "label": LABELS,
              "lesion_type": LESION_TYPES, "density": DENSITIES, "age_band": AGE_BANDS}
    for col, allowed in checks.items():
        bad = ~df[col].fillna("").astype(str).isin(allowed)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise DataError(f"{source}: column '{col}' row {row} has {df[col].iloc[row]!r}; "
                            f"allowed values: {list(allowed)}")
    if df["image_id"].duplicated().any():
        dup = df.loc[df["image_id"].duplicated(), "image_id"].iloc[0]
        raise DataError(f"{source}: image_id {dup!r} appears more than once; image ids must be unique")
    return df.loc[:, list(MANIFEST_COLUMNS) + [c for c in df.columns if c not in MANIFEST_COLUMNS]]
