"""Patient-level, deterministic, hashed train/val/test splits that never overwrite a given split.

A patient's split depends only on ``sha256(seed, patient_id)``, so adding or removing other patients
never moves a patient between splits, and the same seed always gives the same split.

Rules (the same for ``data inspect``, ``data prepare`` and ``mammobench run``):

* a split **given** by the dataset (an official ``train``/``test`` split) or by the user (a ``split``
  column) is kept as given — never overwritten;
* a patient listed in both an official training and an official test part (CBIS-DDSM lists a few) keeps
  the test part: :func:`split_conflicts` names their training rows and the ingest rejects them (stage
  ``split``), so the test set stays exactly the official one and no patient is in two parts;
* when no row is ``val``, a validation part is **carved out of training patients only** (hash below the
  rescaled fraction) and reported as such (:func:`split_summary`);
* patients without any given split are assigned by hash: to test (``test_fraction``, only when no test
  part is given), val and train.

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


def _given(manifest: pd.DataFrame) -> pd.Series:
    """Per patient: the split given in the table ('' when none); LeakageError when a patient has two."""
    split = manifest["split"].fillna("").astype(str) if "split" in manifest else pd.Series("", manifest.index)
    per = split.groupby(manifest["patient_id"].astype(str)).agg(lambda v: sorted(set(v) - {""}))
    two = per[per.map(len) > 1]
    if len(two):
        raise LeakageError(f"patient {two.index[0]!r} is given splits {two.iloc[0]} ({len(two)} patient(s)); "
                           "remove the conflicting rows first (mammobench.data.splits.split_conflicts; load_dataset "
                           "does this and lists them as rejects)")
    return per.map(lambda v: v[0] if v else "")


def split_conflicts(manifest: pd.DataFrame) -> pd.DataFrame:
    """Rows of patients given a test split that are themselves given train/val (to be rejected, test kept).

    Example:
        >>> m = pd.DataFrame({"patient_id": ["a", "a", "b"], "image_id": ["1", "2", "3"], "split": ["train", "test", "train"]})
        >>> split_conflicts(m)["image_id"].tolist()
        ['1']
    """
    if "split" not in manifest or manifest.empty:
        return manifest.iloc[0:0]
    split = manifest["split"].fillna("").astype(str)
    test_patients = set(manifest.loc[split == "test", "patient_id"].astype(str))
    return manifest.loc[manifest["patient_id"].astype(str).isin(test_patients) & split.isin(["train", "val"])]


def assign_splits(manifest: pd.DataFrame, *, seed: int, val_fraction: float = 0.15,
                  test_fraction: float = 0.2) -> pd.DataFrame:
    """Return a copy of ``manifest`` with ``split`` ∈ {train, val, test} for every row (see module rules).

    Args:
        manifest: needs ``patient_id``; a non-empty ``split`` is a given split and is kept.
        seed: split seed (part of the hash).
        val_fraction: fraction of *all* patients that go to val, taken from training patients only
            (used only when no row is given ``val``).
        test_fraction: fraction of patients for test, used only when no row is given ``test``.

    Raises:
        DataError: bad fractions or missing/empty patient ids. LeakageError: a patient given two splits.

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
    given = _given(manifest)
    u = pd.Series({p: _unit_hash(seed, p) for p in given.index}, dtype=float)
    split = given.copy()
    if not given.ne("").any():  # nothing given: test | val | train on the unit interval
        split[u < test_fraction] = "test"
        split[(u >= test_fraction) & (u < test_fraction + val_fraction)] = "val"
    else:
        if not given.eq("test").any():
            split[given.eq("") & (u < test_fraction)] = "test"
        if not given.eq("val").any():  # carve val out of training patients only, rescaled to that pool
            pool = split.isin(["train", ""])
            frac = min(0.95, val_fraction / max(pool.mean(), 1e-9)) if pool.any() else 0.0
            split[pool & (u < frac)] = "val"
    split[split == ""] = "train"
    out = manifest.copy()
    out["split"] = pids.map(split).to_numpy()
    return out


def split_summary(before: pd.DataFrame, after: pd.DataFrame, *, seed: int | None) -> dict:
    """Where each part comes from: given (official/user) vs carved from training vs assigned by hash.

    Example:
        >>> b = pd.DataFrame({"patient_id": ["a", "b"], "split": ["train", "test"]})
        >>> split_summary(b, b, seed=0)["parts"]["test"]["origin"]
        'given'
    """
    given = before["split"].fillna("").astype(str) if "split" in before else pd.Series("", before.index)
    given_parts = sorted(set(given) - {""})
    parts = {}
    for name in ("train", "val", "test"):
        rows = after.loc[after["split"] == name]
        if rows.empty:
            continue
        was = given.loc[rows.index] if len(given) else pd.Series(dtype=str)
        origin = "given" if (was == name).all() else ("carved from training patients" if name == "val" and
                                                      (was == "train").any() else "assigned by hash")
        parts[name] = {"n_patients": int(rows["patient_id"].nunique()), "n_images": int(len(rows)), "origin": origin}
    return {"given_parts": given_parts, "seed": seed, "parts": parts}


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
