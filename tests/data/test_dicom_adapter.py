"""The ``dicom`` adapter on a PACS-style export: detection without extensions, labels joins, rejects, no labels."""
from __future__ import annotations

from collections import Counter

import pytest

from mammobench.data.ingest import load_dataset
from mammobench.errors import ConfigError, DataError
from tests.helpers.pacs_export import LABEL_MAP, write_pacs_export

KEY = "AccessionNumber,Side=ImageLaterality"


def _load(root, **kw):
    options = {"labels": "labels.csv", "key_column": KEY, "label_column": "Outcome", "label_map": LABEL_MAP}
    return load_dataset("dicom", root, **{**options, **kw})


@pytest.mark.parametrize("verify", ["header", "exists"])
def test_export_with_defects_exact_counts(tmp_path, verify):
    exp = write_pacs_export(tmp_path, images=16, defects=True)
    (tmp_path / "mapping.yaml").write_text(
        "labels: labels.csv\nkey: {AccessionNumber: AccessionNumber, Side: ImageLaterality}\nlabel: Outcome\n"
        "values: {label: {'0': normal, '1': malignant, B: benign}}\ncolumns: {patient_id: MRN, density: ACR}\n")
    res = load_dataset("dicom", tmp_path, mapping=tmp_path / "mapping.yaml", verify=verify)
    if verify == "exists":  # the truncated file's header is intact: only the pixel-data check (header) finds it
        exp["stages"].pop("dicom")
        exp["n_included"], exp["labels"]["malignant"] = exp["n_included"] + 1, exp["labels"]["malignant"] + 1
    assert len(res.manifest) == exp["n_included"], res.rejects[["stage", "reason"]].to_string()
    assert dict(Counter(res.manifest["label"])) == exp["labels"]
    stages = dict(Counter(res.rejects["stage"]))
    assert stages == exp["stages"], res.rejects[["stage", "reason"]].to_string()
    reasons = " | ".join(res.rejects["reason"])
    for text in ("SYNTHETIC", "Modality is 'US'", "Modality is 'SR'", "FOR PROCESSING", "secondary capture",
                 "duplicate row", "no row in labels.csv for AccessionNumber 'ACC_NOLABELS'",
                 "patient 'PAT0099' in the table but PatientID 'PAT0097'", "ACC_NO_IMAGE"):
        assert text in reasons, text
    m = res.manifest.set_index("image_path")
    first = m.loc["DICOM/PAT0001/ST01/SE01/IM00001"]  # no extension, found by the DICM preamble
    assert (first["patient_id"], first["laterality"], first["view"], first["age"], first["density"]) == \
        ("PAT0001", "L", "CC", 40.0, "A")
    assert first["exam_id"] == "ACC0000001" and first["vendor"] == "HOLOGIC, Inc."
    assert any("not DICOM" in w for w in res.warnings)  # README.txt skipped and said so


def test_command_line_options_and_xlsx_labels(tmp_path):
    write_pacs_export(tmp_path, images=8, labels="xlsx")
    res = _load(tmp_path, labels="labels.xlsx")
    assert len(res.manifest) == 8 and res.rejects.empty and res.labelled
    assert set(res.manifest["label"]) <= {"normal", "benign", "malignant"}


def test_without_labels_ingests_for_audits_and_refuses_a_task(tmp_path):
    write_pacs_export(tmp_path, images=8)
    res = load_dataset("dicom", tmp_path)
    assert len(res.manifest) == 8 and set(res.manifest["label"]) == {"unknown"} and not res.labelled
    with pytest.raises(DataError, match="needs a label per image"):
        load_dataset("dicom", tmp_path, require_labels=True)


def test_unmapped_label_value_is_a_reject_naming_the_value(tmp_path):
    write_pacs_export(tmp_path, images=12)
    res = _load(tmp_path, label_map="0=normal,1=malignant")  # 'B' not mapped
    assert len(res.manifest) == 10
    assert res.rejects["reason"].str.contains("label 'B' in column 'Outcome'").sum() == 2


def test_bad_options_are_clear(tmp_path):
    write_pacs_export(tmp_path, images=4)
    with pytest.raises(ConfigError, match="needs the key column"):
        load_dataset("dicom", tmp_path, labels="labels.csv")
    with pytest.raises(ConfigError, match="not among"):
        _load(tmp_path, key_column="AccessionNumber=Accession")
    with pytest.raises(DataError, match="lacks column"):
        _load(tmp_path, label_column="Result")


def test_throughput_script_writes_the_requested_number_of_files(tmp_path):
    from tests.helpers.pacs_export import main

    assert main([str(tmp_path), "--images", "12", "--size", "64"]) == 0
    assert len(list((tmp_path / "DICOM").rglob("IM*"))) == 12
