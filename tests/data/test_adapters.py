"""Each adapter on a tiny replica of its release as downloaded: exact included/rejected/label counts, then quirks."""
from __future__ import annotations

import json
import math
from collections import Counter

import pandas as pd
import pytest

from mammobench.data.ingest import load_dataset
from mammobench.data.manifest import validate_manifest
from mammobench.errors import ConfigError, DataError, RegistryError
import tests.helpers.data_replicas as rep
import tests.helpers.data_replicas_misc as misc
import tests.helpers.data_replicas_tcia as tcia

REPLICAS = {
    "vindr": rep.make_vindr, "rsna": rep.make_rsna, "embed": rep.make_embed, "cbis_ddsm": tcia.make_cbis,
    "cmmd": tcia.make_cmmd, "inbreast": misc.make_inbreast, "csaw_cc": misc.make_csaw,
}


def _by_id(result) -> dict:
    validate_manifest(result.manifest)
    return {r["image_id"]: r for r in result.manifest.to_dict("records")}


def _reasons(result) -> dict:
    return dict(zip(result.rejects["image_id"].astype(str), result.rejects["reason"]))


def _check_counts(res, exp: dict) -> None:
    rejected = res.rejects.loc[res.rejects["stage"] != "unlisted"]
    assert len(res.manifest) == exp["n_included"], res.rejects[["stage", "reason"]].to_string()
    assert len(rejected) == exp["n_rejected"], rejected[["stage", "reason"]].to_string()
    assert dict(Counter(res.manifest["label"])) == exp["labels"]
    assert dict(Counter(rejected["stage"])) == exp["stages"]
    assert (res.rejects["stage"] == "unlisted").sum() == exp.get("n_unlisted", 0)
    assert "unknown" not in set(res.manifest["label"])  # never a silent unknown label


@pytest.mark.parametrize("name", sorted(REPLICAS))
def test_release_as_downloaded_exact_counts(tmp_path, name):
    """Pointed at the download's top folder (one level above the root): exact counts, no silent unknowns."""
    exp = REPLICAS[name](tmp_path)
    res = load_dataset(name, tmp_path)
    assert res.root == str(exp["root"])
    _check_counts(res, exp)
    flow = {s["stage"]: s for s in res.flow}
    assert flow["metadata rows"]["n_rows"] == exp["n_included"] + exp["n_rejected"]
    assert flow["included"]["n_images"] == exp["n_included"]
    if "files" in exp["stages"]:
        assert flow["metadata rows without an image file"]["n_images"] == exp["stages"]["files"]


@pytest.mark.parametrize("name", ["vindr", "rsna", "embed", "inbreast", "csaw_cc"])
def test_root_found_when_pointed_one_level_too_low(tmp_path, name):
    exp = REPLICAS[name](tmp_path)
    low = next(p for p in sorted(exp["root"].iterdir()) if p.is_dir())
    assert load_dataset(name, low, verify="none").root == str(exp["root"])


def test_vindr_labels_boxes_and_defects(tmp_path):
    exp = rep.make_vindr(tmp_path)
    res = load_dataset("vindr", tmp_path)
    rows, reasons = _by_id(res), _reasons(res)
    lesion = rows["s1LCC"]
    assert (lesion["lesion_type"], lesion["label"], lesion["density"], lesion["split"]) == ("mass", "malignant", "C", "train")
    findings = json.loads(lesion["findings"])
    assert len(findings) == 2 and findings[0]["box"] == exp["box"]  # the duplicate finding line counted once
    assert findings[1]["category"] == "Suspicious Calcification, Mass"
    assert rows["s1RCC"]["label"] == "normal"  # duplicate row: the first copy is kept
    assert "duplicate row for image_id 's1RCC' (identical to the first)" in reasons["s1RCC"]
    assert rows["s2LCC"]["laterality"] == "L" and "taken from the DICOM header" in res.notes["note"].iloc[-1]
    assert "FOR PROCESSING" in reasons["s2LMLO"] and "file not found" in reasons["s2RMLO"]
    assert "laterality 'R' in the table but ImageLaterality 'L'" in reasons["s1RMLO"]
    assert rows["s2RCC"]["age"] == 62.0 and lesion["age"] == 61.0 and lesion["vendor"] == "Siemens"


def test_virtual_cohort_joins_truth(tmp_path):
    rep.make_virtual_cohort(tmp_path)
    rows = _by_id(load_dataset("virtual_cohort", tmp_path))
    lesion = rows["s1LCC"]
    assert (lesion["label"], lesion["patient_id"], lesion["age"], lesion["site"]) == ("malignant", "patient-s1", 47.0, "site0")
    assert json.loads(lesion["findings"])[0]["mask_path"] == "masks/s1LCC_0.png"
    assert rows["s2LCC"]["age_band"] == "60-69" and rows["s2LCC"]["density"] == "A"


@pytest.mark.parametrize("layout", ["nbia", "classic"])
def test_cbis_ddsm_layouts_and_quirks(tmp_path, layout):
    exp = tcia.make_cbis(tmp_path, layout=layout)
    res = load_dataset("cbis_ddsm", tmp_path)
    _check_counts(res, exp)
    rows, reasons = _by_id(res), _reasons(res)
    mass = rows["Mass-Training_P_00001_LEFT_CC"]
    f = json.loads(mass["findings"])
    assert len(f) == 1 and f[0]["mask_path"] == exp["mask_path"]  # exact duplicate line counted once; swap resolved
    assert (f[0]["lesion_type"], mass["label"], mass["density"], mass["split"]) == \
        ("architectural_distortion", "malignant", "C", "train")
    assert any("duplicate finding row" in n for n in res.notes["note"])
    calc = rows["Calc-Test_P_00003_LEFT_MLO"]
    assert (calc["density"], calc["lesion_type"], calc["label"], calc["split"]) == ("", "calcification", "benign", "test")
    assert "unknown density code '7'" in reasons["Mass-Training_P_00002_RIGHT_MLO"]
    assert "also in the official test part" in reasons["Mass-Training_P_00007_LEFT_CC"]
    assert rows["Calc-Test_P_00007_RIGHT_CC"]["split"] == "test" and math.isnan(mass["age"])


def test_cbis_box_derived_from_mask_in_cache(tmp_path):
    from mammobench.data.cache import build_cache

    tcia.make_cbis(tmp_path)
    res = load_dataset("cbis_ddsm", tmp_path)
    cache = build_cache(res.manifest, res.root, tmp_path / "cache", size=48, workers=1, progress=False)
    box = cache.findings("Mass-Training_P_00001_LEFT_CC")[0]["box"]
    img = cache.images(["Mass-Training_P_00001_LEFT_CC"])[0]
    assert box is not None and img[int((box[1] + box[3]) / 2), int((box[0] + box[2]) / 2)] > 0.8


def test_rsna_labels_and_defects(tmp_path):
    rep.make_rsna(tmp_path)
    res = load_dataset("rsna", tmp_path)
    rows, reasons = _by_id(res), _reasons(res)
    assert rows["220375232"]["label"] == "malignant" and rows["220375232"]["lesion_type"] == "unknown"
    assert rows["270344397"]["label"] == "benign" and rows["270344397"]["view"] == "other"
    assert rows["462822612"]["vendor"] == "machine_29" and rows["462822612"]["site"] == "site_2"
    assert rows["555"]["laterality"] == "L"  # blank in train.csv, filled from ImageLaterality
    assert "unknown density code 'Z'" in reasons["111"] and "ImageLaterality 'R'" in reasons["444"]
    assert "image file train_images/10099/999.dcm has no metadata row" in set(res.rejects["reason"])


@pytest.mark.parametrize("sheet", ["xlsx", "csv"])
def test_cmmd_nbia_layout_patient_from_header(tmp_path, sheet):
    exp = tcia.make_cmmd(tmp_path, sheet=sheet)
    res = load_dataset("cmmd", tmp_path)
    _check_counts(res, exp)
    m = res.manifest
    assert set(m["patient_id"]) == {"D1-0001", "D2-0002"}  # never 'manifest-…'
    assert sorted(m.loc[m["patient_id"] == "D1-0001", "view"]) == ["CC", "MLO"]
    d2 = m.loc[m["patient_id"] == "D2-0002"].iloc[0]
    assert (d2["laterality"], d2["label"], d2["lesion_type"], d2["age"]) == ("R", "malignant", "mass", 57.0)
    reasons = " | ".join(res.rejects["reason"])
    assert "breast D2-0002 L has no row in CMMD_clinicaldata_revision" in reasons
    assert "patient 'D1-0003' has no row" in reasons and "PatientID 'D1-0005'" in reasons


def test_cmmd_flat_study_folders_use_the_header_patient(tmp_path):
    root = tmp_path / "CMMD"
    rep.image(root / "1.3.6.1.4.1.9590.100" / "1-1.dcm", 0, laterality="L", view=None, view_code="399162004",
              patient_id="D1-0001")
    pd.DataFrame([["D1-0001", "L", 44, 1, "mass", "Benign", ""]], columns=tcia.CMMD_COLUMNS).to_excel(
        tmp_path / "CMMD_clinicaldata_revision.xlsx", index=False)
    res = load_dataset("cmmd", tmp_path)
    assert res.manifest["patient_id"].tolist() == ["D1-0001"] and res.manifest["label"].tolist() == ["benign"]


@pytest.mark.parametrize("table", ["xls", "csv"])
def test_inbreast_xls_and_csv_export(tmp_path, table):
    exp = misc.make_inbreast(tmp_path, table=table)
    res = load_dataset("inbreast", tmp_path)
    _check_counts(res, exp)
    rows, reasons = _by_id(res), _reasons(res)
    a = rows["20586908"]
    assert (a["view"], a["density"], a["lesion_type"], a["label"]) == ("CC", "B", "mass", "malignant")
    assert a["patient_id"] == "6c613a14b80a0000" and json.loads(a["findings"])[0]["box"] == [17.5, 37.0, 24.0, 44.0]
    assert rows["20586934"]["view"] == "MLO" and rows["22678622"]["density"] == ""
    assert rows["24055274"]["laterality"] == "L" and rows["24055274"]["age"] == 62.0  # blank → header; 062Y
    assert rows["22678622"]["lesion_type"] == ("mass" if table == "xls" else "unknown")  # the sheet's 'Mass ' column
    assert "unknown ACR density code '9'" in reasons["22678646"] and "ImageLaterality 'R'" in reasons["24055355"]


@pytest.mark.parametrize("prefix", ["/mnt/NAS2/mammo/anon/", "./images/", "images/"])
def test_embed_bucket_layout_and_path_prefixes(tmp_path, prefix):
    exp = rep.make_embed(tmp_path, prefix=prefix)
    res = load_dataset("embed", tmp_path)
    _check_counts(res, exp)
    rows, reasons = _by_id(res), _reasons(res)
    left = rows["1.2.0"]
    assert json.loads(left["findings"])[0]["box"] == [17.0, 37.0, 23.0, 43.0]  # y-first → x-first
    assert (left["label"], left["lesion_type"], left["density"], left["age"]) == ("malignant", "mass", "C", 58.0)
    assert left["image_path"] == "images/cohort_1/e1/a1/1.2.0.dcm" and left["race_ethnicity"] == "African American or Black"
    assert "not 2D" in reasons["1.2.2"] and "male" in reasons["1.2.3"] and "spot_mag" in reasons["1.2.4"]
    assert "label cannot be established" in reasons["1.2.9"]


def test_csaw_cc_percent_density_binned_age_and_masks(tmp_path):
    misc.make_csaw(tmp_path)
    res = load_dataset("csaw_cc", tmp_path)
    rows, reasons = _by_id(res), _reasons(res)
    a, b = rows["00001_20990909_L_CC_1"], rows["00001_20990909_R_CC_2"]
    assert (a["label"], a["density"], b["label"], b["density"]) == ("malignant", "A", "normal", "C")
    assert math.isnan(a["age"]) and a["age_band"] == "unknown" and a["age_raw"] == "1"
    assert json.loads(a["findings"])[0]["mask_path"] == "anon_annotations_nonhidden/00001_20990909_L_CC_1_mask.png"
    assert "not a number" in reasons["00002_20990909_L_MLO_3"]
    assert "which breast has the cancer cannot be established" in reasons["00005_20990909_R_MLO_8"]


def test_generic_manifest_adapter(tmp_path):
    exp = misc.make_hospital_export(tmp_path, defects=True)
    res = load_dataset("manifest", tmp_path)
    _check_counts(res, exp)
    rows, reasons = _by_id(res), _reasons(res)
    h1 = rows["img/h1_l.dcm"]
    assert (h1["dataset"], h1["laterality"], h1["label"], h1["lesion_type"], h1["density"], h1["age"]) == \
        ("hospital_x", "L", "malignant", "mass", "C", 54.0)
    assert json.loads(h1["findings"])[0]["box"] == [20.0, 10.0, 40.0, 30.0]
    assert rows["img/h1_r.dcm"]["lesion_type"] == "none" and rows["img/h1_r.dcm"]["site"] == "Hospital X"
    assert "unknown density code 'q'" in reasons["img/h2_l.dcm"]
    assert "'SINISTER'" in reasons["img/h3_l.dcm"] and "values.laterality" in reasons["img/h3_l.dcm"]


def test_generic_mapping_errors(tmp_path):
    misc.make_hospital_export(tmp_path)
    (tmp_path / "bad.yaml").write_text("table: export.csv\ncolumns: {patient_id: PatID}\ncolumnz: {}\n")
    with pytest.raises(ConfigError, match="columnz"):
        load_dataset("manifest", tmp_path, mapping=tmp_path / "bad.yaml")
    (tmp_path / "bad2.yaml").write_text("table: export.csv\ncolumns: {patient_id: Nope, image_path: File, laterality: Side}\n")
    with pytest.raises(DataError, match="Nope"):
        load_dataset("manifest", tmp_path, mapping=tmp_path / "bad2.yaml")


def test_missing_tables_name_an_existing_readme_and_the_fix(tmp_path):
    from pathlib import Path

    from mammobench.data.ingest import get_adapter

    repo = Path(__file__).resolve().parents[2]
    for name in ("vindr", "cbis_ddsm", "rsna", "cmmd", "inbreast", "embed", "csaw_cc", "virtual_cohort", "manifest"):
        with pytest.raises((DataError, ConfigError)) as err:
            load_dataset(name, tmp_path)
        readme = get_adapter(name).readme
        assert (repo / readme).is_file(), readme
        assert readme in str(err.value) and f"--adapter {name}" in str(err.value), str(err.value)
    with pytest.raises(RegistryError, match="Did you mean 'vindr'"):
        load_dataset("vindir", tmp_path)
    with pytest.raises(ConfigError, match="does not take option"):
        load_dataset("vindr", tmp_path, labelz="x.csv")
