"""Virtual cohort writer: determinism, DICOM tags, layout, composition, splits."""
from __future__ import annotations

import collections

import numpy as np
import pandas as pd
import pydicom
import pytest

from mammobench.cohort import CohortComposition, make_cohort, plan_patients
from mammobench.cohort.writer import CSV_NAMES
from mammobench.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return make_cohort(tmp_path_factory.mktemp("vc") / "a", n_patients=8, seed=3, size=64, workers=1)


def test_layout_and_dicom_tags(cohort):
    breast = pd.read_csv(cohort / "breast-level_annotations.csv")
    truth = pd.read_csv(cohort / "synth_truth.csv").set_index("image_id")
    assert len(breast) == 32 and breast.groupby("study_id").size().eq(4).all()
    for _, row in breast.iterrows():
        ds = pydicom.dcmread(cohort / "images" / row.study_id / f"{row.image_id}.dcm")
        t = truth.loc[row.image_id]
        assert ds.Modality == "MG" and ds.BitsAllocated == 16 and ds.PixelRepresentation == 0
        assert ds.PatientAge == f"{int(t.age):03d}Y" and len(ds.PatientAge) == 4
        assert ds.ImageLaterality == row.laterality and ds.ViewPosition == row.view_position
        assert ds.Manufacturer == t.vendor and ds.InstitutionName == t.site
        assert float(ds.PixelSpacing[0]) == pytest.approx(240.0 / 64, rel=1e-5)
        assert ds.PhotometricInterpretation == t.photometric and ds.BitsStored == t.bits_stored
        assert ds.pixel_array.shape == (64, 64) and ds.pixel_array.max() < 2 ** ds.BitsStored
        assert ds.PatientID == t.patient_id and "Virtual" in str(ds.PatientName)
        assert row.breast_density == f"DENSITY {t.density}"


def test_findings_masks_and_one_lesion_per_patient(cohort):
    findings = pd.read_csv(cohort / "finding_annotations.csv")
    truth = pd.read_csv(cohort / "synth_truth.csv")
    lesions = truth[truth.lesion_type != "none"]
    assert lesions.groupby("patient_id").laterality.nunique().le(1).all()
    assert lesions.groupby("patient_id").size().eq(2).all()  # both views of the lesion breast
    boxed = findings.dropna(subset=["xmin"])
    assert set(boxed.image_id) == set(lesions.image_id)
    assert ((boxed.xmin < boxed.xmax) & (boxed.ymin < boxed.ymax) & (boxed.xmax <= 64)).all()
    for image_id in lesions.image_id:
        assert (cohort / "masks" / f"{image_id}_0.png").exists()
    assert (findings[findings.xmin.isna()].finding_categories == "['No Finding']").all()


def test_deterministic_and_worker_independent(cohort, tmp_path):
    again = make_cohort(tmp_path / "b", n_patients=8, seed=3, size=64, workers=2)
    for name in CSV_NAMES:
        assert (cohort / name).read_bytes() == (again / name).read_bytes()
    some = pd.read_csv(cohort / "breast-level_annotations.csv").iloc[5]
    rel = f"images/{some.study_id}/{some.image_id}.dcm"
    assert np.array_equal(pydicom.dcmread(cohort / rel).pixel_array, pydicom.dcmread(again / rel).pixel_array)
    other = make_cohort(tmp_path / "c", n_patients=8, seed=4, size=64, workers=1)
    assert (other / CSV_NAMES[2]).read_bytes() != (cohort / CSV_NAMES[2]).read_bytes()


def test_reuse_and_conflict(cohort):
    assert make_cohort(cohort, n_patients=8, seed=3, size=64, workers=1) == cohort
    with pytest.raises(DataError, match="different virtual cohort"):
        make_cohort(cohort, n_patients=9, seed=3, size=64, workers=1)


def test_composition_under_represents_dense_training_and_balances_test():
    plans = plan_patients(2000, seed=0, composition=CohortComposition())
    train = collections.Counter(p.density for p in plans if p.split == "training")
    test = collections.Counter(p.density for p in plans if p.split == "test")
    assert max(test.values()) - min(test.values()) <= 1 and sum(test.values()) == 600
    n_train = sum(train.values())
    assert train["D"] / n_train < 0.03 < 0.2 < test["D"] / 600
    ids = {p.split: set() for p in plans}
    for p in plans:
        ids[p.split].add(p.index)
    assert not ids["training"] & ids["test"] and len(ids["training"]) + len(ids["test"]) == 2000
    young = plan_patients(300, seed=1, composition=CohortComposition(train_min_age=60))
    assert min(p.age for p in young if p.split == "training") >= 60


def test_bad_composition_raises():
    with pytest.raises(ConfigError, match="test_fraction"):
        CohortComposition(test_fraction=1.5)
    with pytest.raises(ConfigError, match="train_density_weights"):
        CohortComposition(train_density_weights={"A": 1.0})


def test_lesion_type_weights_leave_a_type_out_of_training_only():
    """Weight 0 removes calcifications from training; the test part stays balanced; default plans unchanged."""
    left_out = plan_patients(1200, seed=3, composition=CohortComposition(
        train_lesion_type_weights={"calcification": 0.0}))
    train = collections.Counter(p.lesion_type for p in left_out if p.split == "training")
    test = collections.Counter(p.lesion_type for p in left_out if p.split == "test" and p.lesion_type != "none")
    assert train["calcification"] == 0 and train["mass"] > 0 and train["asymmetry"] > 0
    assert test["calcification"] > 0 and max(test.values()) - min(test.values()) <= 4
    # the lesion share of training is unchanged (the other types take the calcifications' place)
    share = sum(v for k, v in train.items() if k != "none") / sum(train.values())
    assert 0.4 < share < 0.6
    # weights of 1 (or none given) draw the same plan as the default composition
    ones = {k: 1.0 for k in ("mass", "calcification", "architectural_distortion", "asymmetry")}
    assert plan_patients(300, seed=4, composition=CohortComposition(train_lesion_type_weights=ones)) == \
        plan_patients(300, seed=4, composition=CohortComposition())


@pytest.mark.parametrize("weights", [{"calcification": -1.0}, {"cyst": 1.0}, {
    "mass": 0, "calcification": 0, "architectural_distortion": 0, "asymmetry": 0}])
def test_bad_lesion_type_weights_raise(weights):
    with pytest.raises(ConfigError, match="train_lesion_type_weights"):
        CohortComposition(train_lesion_type_weights=weights)


def test_cohort_cli_lesion_weights_parse_and_refuse_bad_input():
    from mammobench.commands.cohort import _composition, _parser

    args = _parser().parse_args(["make", "--n-patients", "4", "--out", "x", "--train-lesion-weight", "asymmetry=0"])
    assert _composition(args).train_lesion_type_weights == {"asymmetry": 0.0}
    assert _composition(_parser().parse_args(["make", "--n-patients", "4", "--out", "x"])).train_lesion_type_weights is None
    for bad, match in (("asymmetry", "TYPE=WEIGHT"), ("cyst=0", "train_lesion_type_weights")):
        args = _parser().parse_args(["make", "--n-patients", "4", "--out", "x", "--train-lesion-weight", bad])
        with pytest.raises(ConfigError, match=match):
            _composition(args)
