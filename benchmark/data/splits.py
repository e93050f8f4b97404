"""Patient-level, deterministic, hashed train/val/test splits.

A patient's split depends only on ``sha256(seed, patient_id)``, so adding or removing other patients
never moves a patient between splits, and the same seed always gives the same split. An official
test split (rows whose ``split`` is already ``test``) is kept; ``val`` is carved out of the training
patients.

Example:
    >>> import pandas as pd
    >>> m = pd.DataFrame({"patient_id": [f"p{i}" for i in range(100)], "split": ""})
    >>> s = assign_splits(m, seed=0)
    >>> sorted(s["split"].unique())
    ['test', 'train', 'val']
    >>> check_no_patient_overlap(s)
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from mammobench.data.manifest import MANIFEST_COLUMNS
from mammobench.errors import DataError, LeakageError


def _unit_hash(seed: int, patient_id: str) -> float:
    digest = hashlib.sha256(f"mammobench-split:{int(seed)}:{patient_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def _official_split(manifest: pd.DataFrame) -> pd.Series:
    """Per-patient official split ('test' wins if any image of the patient is official test)."""
    split = manifest["split"].fillna("").astype(str) if "split" in manifest else pd.Series("", manifest.index)
    return split.eq("test").groupby(manifest["patient_id"].astype(str)).any()


def assign_splits(manifest: pd.DataFrame, *, seed: int, val_fraction: float = 0.15,
                  test_fraction: float = 0.2) -> pd.DataFrame:
    """Return a copy of ``manifest`` with ``split`` ∈ {train, val, test} assigned per patient.

    Args:
        manifest: needs ``patient_id``; an existing ``split == 'test'`` marks the official test set.
        seed: split seed (part of the hash).
        val_fraction: fraction of *all* patients that go to val (taken from training patients).
        test_fraction: fraction of patients for test, used only when there is no official test split.

    Raises:
        DataError: bad fractions or missing/empty patient ids.

    Example:
        >>> m = pd.DataFrame({"patient_id": ["a", "a", "b"], "split": ["", "", "test"]})
        >>> assign_splits(m, seed=1, val_fraction=0.0)["split"].tolist()
        ['train', 'train', 'test']
    """
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise DataError(f"split fractions val={val_fraction}, test={test_fraction} must be in [0, 1) "
                        "and sum to less than 1")
    if "patient_id" not in manifest:
        raise DataError("assign_splits: manifest has no 'patient_id' column")
    pids = manifest["patient_id"].astype(str)
    if (pids.str.strip() == "").any() or manifest["patient_id"].isna().any():
        raise DataError("assign_splits: some rows have an empty patient_id; every image needs a patient")
    official = _official_split(manifest)
    has_official = bool(official.any())
    u = pd.Series({p: _unit_hash(seed, p) for p in official.index}, dtype=float)
    split = pd.Series("train", index=official.index, dtype=object)
    if has_official:
        split[official] = "test"
        # val is a fraction of all patients taken from the training pool, rescaled to that pool
        pool = ~official
        frac = min(0.95, val_fraction / max(pool.mean(), 1e-9)) if pool.any() else 0.0
        split[pool & (u < frac)] = "val"
    else:
        split[u < test_fraction] = "test"
        split[(u >= test_fraction) & (u < test_fraction + val_fraction)] = "val"
    out = manifest.copy()
    out["split"] = pids.map(split).to_numpy()
    return out


def check_no_patient_overlap(df: pd.DataFrame) -> None:
    """Raise :class:`LeakageError` if any patient appears in more than one split.

    Example:
        >>> check_no_patient_overlap(pd.DataFrame({"patient_id": ["a", "a"], "split": ["train", "train"]}))
    """
    n_splits = df.groupby(df["patient_id"].astype(str))["split"].nunique()
    bad = n_splits[n_splits > 1]
    if len(bad):
        pid = bad.index[0]
        where = sorted(df.loc[df["patient_id"].astype(str) == pid, "split"].unique())
        raise LeakageError(f"patient {pid!r} appears in splits {where} ({len(bad)} patient(s) overlap); "
                           "splits must be patient-level — re-run assign_splits")


def canonical_csv_bytes(df: pd.DataFrame) -> bytes:
    """Canonical CSV form used for hashing: canonical columns first, rows sorted by image_id."""
    cols = [c for c in MANIFEST_COLUMNS if c in df.columns] + sorted(c for c in df.columns if c not in MANIFEST_COLUMNS)
    frame = df.loc[:, cols]
    if "image_id" in frame:
        frame = frame.sort_values("image_id", kind="mergesort")
    frame = frame.replace({np.nan: None})
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.6g").encode("utf-8")


def manifest_sha256(df: pd.DataFrame) -> str:
    """SHA-256 of the manifest's canonical CSV bytes (row/column order independent).

    Example:
        >>> a = pd.DataFrame({"image_id": ["1", "2"], "age": [50.0, 60.0]})
        >>> manifest_sha256(a) == manifest_sha256(a.iloc[::-1])
        True
    """
    return hashlib.sha256(canonical_csv_bytes(df)).hexdigest()
