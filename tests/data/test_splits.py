"""Patient-level splits: deterministic, no overlap, official test kept, stable under additions; manifest hash."""
from __future__ import annotations

import pandas as pd
import pytest

from mammobench.data.splits import assign_splits, check_no_patient_overlap, manifest_sha256
from mammobench.errors import DataError, LeakageError


def _manifest(n_patients: int = 400, official_test: int = 0) -> pd.DataFrame:
    rows = []
    for p in range(n_patients):
        for k in range(4):
            rows.append({"patient_id": f"p{p}", "image_id": f"p{p}_{k}",
                         "split": "test" if p < official_test else ""})
    return pd.DataFrame(rows)


def test_deterministic_and_patient_level():
    a = assign_splits(_manifest(), seed=3)
    b = assign_splits(_manifest().sample(frac=1, random_state=0), seed=3).sort_index()
    pd.testing.assert_series_equal(a["split"], b["split"])
    check_no_patient_overlap(a)
    frac = a.drop_duplicates("patient_id")["split"].value_counts(normalize=True)
    assert frac["test"] == pytest.approx(0.2, abs=0.06) and frac["val"] == pytest.approx(0.15, abs=0.06)
    assert not assign_splits(_manifest(), seed=4)["split"].equals(a["split"])


def test_adding_patients_does_not_move_existing_ones():
    small = assign_splits(_manifest(100), seed=0)
    big = assign_splits(_manifest(300), seed=0)
    merged = small.merge(big, on="image_id", suffixes=("_s", "_b"))
    assert (merged["split_s"] == merged["split_b"]).all()


def test_official_test_kept_and_val_from_training():
    out = assign_splits(_manifest(400, official_test=80), seed=1, val_fraction=0.15)
    per_patient = out.drop_duplicates("patient_id").set_index("patient_id")["split"]
    assert (per_patient[[f"p{i}" for i in range(80)]] == "test").all()
    assert (per_patient[[f"p{i}" for i in range(80, 400)]] != "test").all()
    assert per_patient.eq("val").mean() == pytest.approx(0.15, abs=0.05)


def test_overlap_detected_and_bad_inputs():
    with pytest.raises(LeakageError, match="p1"):
        check_no_patient_overlap(pd.DataFrame({"patient_id": ["p1", "p1"], "split": ["train", "test"]}))
    with pytest.raises(DataError):
        assign_splits(_manifest(5), seed=0, val_fraction=0.6, test_fraction=0.5)
    with pytest.raises(DataError, match="empty patient_id"):
        assign_splits(pd.DataFrame({"patient_id": ["", "a"], "split": ""}), seed=0)


def test_manifest_hash_is_order_independent_and_content_sensitive():
    m = assign_splits(_manifest(20), seed=0)
    assert manifest_sha256(m) == manifest_sha256(m.iloc[::-1])
    assert manifest_sha256(m) == manifest_sha256(m[list(reversed(m.columns))])
    changed = m.copy()
    changed.loc[0, "split"] = "train" if m.loc[0, "split"] != "train" else "val"
    assert manifest_sha256(changed) != manifest_sha256(m)


def test_patient_in_both_official_splits_keeps_the_test_part():
    """CBIS-DDSM lists some patients in a training CSV and a test CSV: the training rows are named for rejection."""
    from mammobench.data.splits import split_conflicts

    m = pd.DataFrame({"patient_id": ["p1", "p1", "p2"], "image_id": ["a", "b", "c"], "split": ["train", "test", "train"]})
    assert split_conflicts(m)["image_id"].tolist() == ["a"]
    with pytest.raises(LeakageError, match="p1"):
        assign_splits(m, seed=0)
    out = assign_splits(m.drop(index=split_conflicts(m).index), seed=0, val_fraction=0.0)
    assert out["split"].tolist() == ["test", "train"]


def test_user_split_is_never_overwritten_and_val_is_carved_from_train_only():
    from mammobench.data.splits import split_summary

    m = _manifest(200)
    m["split"] = ["test" if int(p[1:]) < 40 else "train" for p in m["patient_id"]]
    out = assign_splits(m, seed=0, val_fraction=0.15)
    assert (out.loc[m["split"] == "test", "split"] == "test").all()  # given test kept
    assert set(out.loc[m["split"] == "train", "split"]) == {"train", "val"}  # val only from given train
    summary = split_summary(m, out, seed=0)
    assert summary["parts"]["val"]["origin"] == "carved from training patients"
    assert summary["parts"]["test"]["origin"] == summary["parts"]["train"]["origin"] == "given"
    given_val = m.assign(split=["val" if int(p[1:]) < 20 else "train" for p in m["patient_id"]])
    kept = assign_splits(given_val, seed=0)
    assert kept["split"].tolist() == given_val["split"].tolist()  # a fully given split comes back unchanged
