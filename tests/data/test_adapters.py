"""Each adapter on a tiny on-disk replica of its dataset's native layout produces the right manifest."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from mammobench.data.ingest import load_dataset
from mammobench.data.manifest import validate_manifest
from mammobench.errors import ConfigError, DataError, RegistryError
import tests.helpers.data_replicas as rep


def _by_id(result) -> dict:
    validate_manifest(result.manifest)
    return {r["image_id"]: r for r in result.manifest.to_dict("records")}


def _reasons(result) -> dict:
    return dict(zip(result.rejects["image_id"].astype(str), result.rejects["reason"]))


def test_vindr(tmp_path):
    rep.make_vindr(tmp_path)
    res = load_dataset("vindr", tmp_path)
    rows = _by_id(res)
    assert len(rows) == 8 and res.rejects.empty
    lesion = rows["s1LCC"]
    assert (lesion["lesion_type"], lesion["label"], lesion["density"], lesion["split"]) == ("mass", "malignant", "C", "train")
    assert lesion["label_source"] == "birads_proxy" and lesion["birads_raw"] == "BI-RADS 4"
    findings = json.loads(lesion["findings"])
    assert findings[0]["box"] == [17.0, 37.0, 23.0, 43.0]
    assert findings[1]["category"] == "Suspicious Calcification, Mass"  # list-valued string parsed
    assert rows["s2RMLO"]["split"] == "test" and rows["s2RMLO"]["label"] == "normal"
    assert lesion["age"] == 61.0 and lesion["vendor"] == "Siemens"


def test_virtual_cohort_joins_truth(tmp_path):
    rep.make_virtual_cohort(tmp_path)
    rows = _by_id(load_dataset("virtual_cohort", tmp_path))
    lesion = rows["s1LCC"]
    assert (lesion["label"], lesion["patient_id"], lesion["age"], lesion["site"]) == ("malignant", "patient-s1", 47.0, "site0")
    assert json.loads(lesion["findings"])[0]["mask_path"] == "masks/s1LCC_0.png"
    assert rows["s2LCC"]["age_band"] == "60-69" and rows["s2LCC"]["density"] == "A"


def test_cbis_ddsm_quirks(tmp_path):
    exp = rep.make_cbis(tmp_path)
    res = load_dataset("cbis_ddsm", tmp_path)
    rows = _by_id(res)
    mass = rows["Mass-Training_P_00001_LEFT_CC"]
    f = json.loads(mass["findings"])[0]
    assert f["mask_path"] == exp["mask_path"]  # swapped ROI/crop resolved by image size
    assert (f["lesion_type"], f["pathology"], mass["label"]) == ("architectural_distortion", "malignant", "malignant")
    assert mass["image_path"].endswith("1-1.dcm") and mass["density"] == "C" and mass["split"] == "train"
    calc = rows["Calc-Test_P_00003_LEFT_MLO"]  # 'breast density' with a space; 0 = unknown
    assert (calc["density"], calc["lesion_type"], calc["label"], calc["split"]) == ("", "calcification", "benign", "test")
    assert "unknown density code '7'" in _reasons(res)["Mass-Training_P_00002_RIGHT_MLO"]
    assert math.isnan(mass["age"])


def test_cbis_box_derived_from_mask_in_cache(tmp_path):
    from mammobench.data.cache import build_cache

    rep.make_cbis(tmp_path)
    res = load_dataset("cbis_ddsm", tmp_path)
    cache = build_cache(res.manifest, tmp_path, tmp_path / "cache", size=48, workers=1, progress=False)
    box = cache.findings("Mass-Training_P_00001_LEFT_CC")[0]["box"]
    img = cache.images(["Mass-Training_P_00001_LEFT_CC"])[0]
    assert box is not None and img[int((box[1] + box[3]) / 2), int((box[0] + box[2]) / 2)] > 0.8


def test_rsna(tmp_path):
    rep.make_rsna(tmp_path)
    res = load_dataset("rsna", tmp_path)
    rows = _by_id(res)
    assert rows["220375232"]["label"] == "malignant" and rows["220375232"]["lesion_type"] == "unknown"
    assert rows["270344397"]["label"] == "benign" and rows["270344397"]["view"] == "other"
    assert rows["462822612"]["label"] == "normal" and rows["462822612"]["density"] == ""
    assert rows["462822612"]["vendor"] == "machine_29" and rows["462822612"]["site"] == "site_2"
    assert json.loads(rows["220375232"]["findings"]) == []
    assert "unknown density code 'Z'" in _reasons(res)["111"]


def test_cmmd_views_from_dicom_tags(tmp_path):
    rep.make_cmmd(tmp_path)
    res = load_dataset("cmmd", tmp_path)
    m = res.manifest.set_index("patient_id")
    d1 = m.loc["D1-0001"]
    assert sorted(d1["view"]) == ["CC", "MLO"] and set(d1["label"]) == {"benign"}
    d2 = res.manifest[res.manifest["patient_id"] == "D2-0002"].set_index("laterality")
    assert d2.loc["R", "label"] == "malignant" and d2.loc["R", "lesion_type"] == "mass" and d2.loc["R", "view"] == "MLO"
    assert d2.loc["L", "label"] == "unknown"  # breast without a clinical row: never guessed
    assert d2.loc["R", "age"] == 57.0


def test_inbreast_semicolon_and_ml_token(tmp_path):
    rep.make_inbreast(tmp_path)
    res = load_dataset("inbreast", tmp_path)
    rows = _by_id(res)
    a = rows["20586908"]
    assert (a["view"], a["density"], a["lesion_type"], a["label"]) == ("CC", "B", "mass", "malignant")  # BI-RADS 4c proxy
    assert a["patient_id"] == "6c613a14b80a8591" and a["image_path"].endswith("_MG_L_CC_ANON.dcm")
    assert json.loads(a["findings"])[0]["box"] == [17.5, 37.0, 24.0, 44.0]
    assert rows["20586934"]["view"] == "MLO" and rows["20586934"]["label"] == "normal"
    assert rows["22678622"]["label"] == "benign" and rows["22678622"]["density"] == ""
    assert "unknown ACR density code '9'" in _reasons(res)["22678646"]


def test_embed_y_first_rois_and_exclusions(tmp_path):
    rep.make_embed(tmp_path)
    res = load_dataset("embed", tmp_path)
    rows = _by_id(res)
    left = rows["1.2.0"]
    assert json.loads(left["findings"])[0]["box"] == [17.0, 37.0, 23.0, 43.0]  # y-first → x-first
    assert (left["label"], left["lesion_type"], left["density"], left["age"]) == ("malignant", "mass", "C", 58.0)
    assert left["race_ethnicity"] == "African American or Black"
    assert rows["1.2.1"]["label"] == "normal" and rows["1.2.1"]["image_path"] == "cohort_1/e1/a1/1.2.1.dcm"  # asses B
    reasons = _reasons(res)
    assert "not 2D" in reasons["1.2.2"] and "male" in reasons["1.2.3"] and "spot_mag" in reasons["1.2.4"]


def test_csaw_cc_percent_density_and_binned_age(tmp_path):
    rep.make_csaw(tmp_path)
    res = load_dataset("csaw_cc", tmp_path)
    rows = _by_id(res)
    a, b = rows["00001_20990909_L_CC_1"], rows["00001_20990909_R_CC_2"]
    assert (a["label"], a["density"], b["label"], b["density"]) == ("malignant", "A", "normal", "C")
    assert math.isnan(a["age"]) and a["age_band"] == "unknown" and a["age_raw"] == "1"
    assert "not a number" in _reasons(res)["00002_20990909_L_MLO_3"]


def test_generic_manifest_adapter(tmp_path):
    rep.make_hospital_export(tmp_path)
    res = load_dataset("manifest", tmp_path)
    rows = _by_id(res)
    h1 = rows["img/h1_l.dcm"]
    assert (h1["dataset"], h1["laterality"], h1["label"], h1["lesion_type"], h1["density"], h1["age"]) == \
        ("hospital_x", "L", "malignant", "mass", "C", 54.0)
    assert json.loads(h1["findings"])[0]["box"] == [20.0, 10.0, 40.0, 30.0]
    assert rows["img/h1_r.dcm"]["lesion_type"] == "none" and rows["img/h1_r.dcm"]["site"] == "Hospital X"
    reasons = _reasons(res)
    assert "unknown density code 'q'" in reasons["img/h2_l.dcm"]
    assert "'SINISTER'" in reasons["img/h3_l.dcm"] and "values.laterality" in reasons["img/h3_l.dcm"]


def test_generic_mapping_errors(tmp_path):
    rep.make_hospital_export(tmp_path)
    (tmp_path / "bad.yaml").write_text("table: export.csv\ncolumns: {patient_id: PatID}\ncolumnz: {}\n")
    with pytest.raises(ConfigError, match="columnz"):
        load_dataset("manifest", tmp_path, mapping=tmp_path / "bad.yaml")
    (tmp_path / "bad2.yaml").write_text("table: export.csv\ncolumns: {patient_id: Nope, image_path: File, laterality: Side}\n")
    with pytest.raises(DataError, match="Nope"):
        load_dataset("manifest", tmp_path, mapping=tmp_path / "bad2.yaml")


def test_missing_tables_and_unknown_adapter(tmp_path):
    for name in ("vindr", "cbis_ddsm", "rsna", "cmmd", "inbreast", "embed", "csaw_cc", "virtual_cohort"):
        with pytest.raises(DataError, match="not found"):
            load_dataset(name, tmp_path)
    with pytest.raises(RegistryError, match="Did you mean 'vindr'"):
        load_dataset("vindir", tmp_path)


def test_real_virtual_cohort_reads_back_exactly(tmp_path):
    """The cohort maker's output (Contract 1) read through the adapter and cached: truth preserved, breast left."""
    import numpy as np

    from mammobench.cohort.writer import make_cohort
    from mammobench.data.cache import build_cache

    root = make_cohort(tmp_path / "vc", n_patients=3, seed=6, size=64, workers=1)  # seed 6 has a MONOCHROME1 vendor
    res = load_dataset("virtual_cohort", root)
    assert res.rejects.empty and len(res.manifest) == 12
    truth = pd.read_csv(root / "synth_truth.csv", dtype=str, keep_default_na=False).set_index("image_id")
    m = res.manifest.set_index("image_id")
    assert (m["patient_id"] == truth.loc[m.index, "patient_id"]).all()
    assert (m["density"] == truth.loc[m.index, "density"]).all()
    assert (m["age"] == truth.loc[m.index, "age"].astype(float)).all()
    photometric = {pydicom_photometric(root / p) for p in m["image_path"]}
    cache = build_cache(res.manifest, root, tmp_path / "cache", size=48, workers=1, progress=False)
    images = cache.images(m.index)
    left, right = images[:, :, :12].mean(axis=(1, 2)), images[:, :, -12:].mean(axis=(1, 2))
    assert photometric == {"MONOCHROME1", "MONOCHROME2"}
    assert (left > right).all()  # every breast against the left edge, whatever the vendor
    assert np.isfinite(images).all() and images.max() <= 1.0


def pydicom_photometric(path) -> str:
    import pydicom

    return str(pydicom.dcmread(path, stop_before_pixels=True).PhotometricInterpretation)
