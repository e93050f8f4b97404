"""``mammobench data adapters | inspect | prepare | export-synthetic`` end to end on replicas."""
from __future__ import annotations

import json

import pandas as pd

from mammobench.cli import main
from mammobench.data.cache import ImageCache
import tests.helpers.data_replicas as rep


def test_adapters_lists_every_builtin_with_its_layout_page(capsys):
    assert main(["data", "adapters"]) == 0
    out = capsys.readouterr().out
    for name in ("vindr", "cbis_ddsm", "rsna", "cmmd", "inbreast", "embed", "csaw_cc", "manifest", "virtual_cohort",
                 "dicom"):
        assert name in out
    assert "tasks/dicom_folder/README.md" in out


def test_inspect_and_prepare_show_the_same_splits(tmp_path, capsys):
    rep.make_vindr(tmp_path / "d")
    assert main(["data", "inspect", str(tmp_path / "d"), "--adapter", "vindr", "--json", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert "cohort flow" in out and "rejected: 5 (per reason)" in out and "[files] file not found" in out
    assert "given by the dataset or the user: test, train" in out
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["splits"]["parts"]["test"]["origin"] == "given"
    args = ["data", "prepare", str(tmp_path / "d"), "--adapter", "vindr", "--out", str(tmp_path / "o"),
            "--size", "32", "--workers", "1", "--quiet"]
    assert main(args) == 0
    prepared = json.loads((tmp_path / "o" / "flow.json").read_text())
    assert prepared["splits"] == summary["splits"]  # inspect and prepare agree
    manifest = pd.read_csv(tmp_path / "o" / "manifest.csv", dtype=str, keep_default_na=False)
    official = {"s1LCC": "train", "s2RCC": "test", "s2LCC": "test"}
    for image_id, part in official.items():  # the official split is never overwritten (val only from train)
        got = manifest.set_index("image_id").loc[image_id, "split"]
        assert got == part or (part == "train" and got == "val")
    cache = ImageCache.open(tmp_path / "o" / "cache")
    assert len(cache.index) == 5 and (tmp_path / "o" / "ingest_notes.csv").is_file()
    assert main(args) == 0  # re-run reuses the finished cache
    assert "5 images at 32×32" in capsys.readouterr().out


def test_dicom_folder_from_the_command_line(tmp_path, capsys):
    from tests.helpers.pacs_export import LABEL_MAP, write_pacs_export

    write_pacs_export(tmp_path / "pacs", images=8)
    assert main(["data", "inspect", str(tmp_path / "pacs"), "--adapter", "dicom", "--labels", "labels.csv",
                 "--key-column", "AccessionNumber,Side=ImageLaterality", "--label-column", "Outcome",
                 "--label-map", LABEL_MAP]) == 0
    out = capsys.readouterr().out
    assert "included" in out and "rejected: 0" in out and "label: normal=8" in out


def test_export_synthetic_writes_marked_dicoms_that_ingest_refuses(tmp_path, capsys):
    import numpy as np

    from mammobench.data.dicom_marker import is_synthetic
    from mammobench.data.dicom import read_dicom
    from mammobench.errors import DicomError

    npz = tmp_path / "physics__r0.5.npz"
    np.savez(npz, images=np.random.default_rng(0).random((3, 16, 12)).astype(np.float32), y=np.zeros(3),
             cond_density=np.array(["A", "B", "C"]), cond_label=np.array(["normal"] * 3))
    (tmp_path / "physics__r0.5.json").write_text(json.dumps({"generator": "physics", "generator_card": {"version": "1.2"}}))
    assert main(["data", "export-synthetic", str(npz), "--out", str(tmp_path / "dcm"), "--seed", "5"]) == 0
    files = sorted((tmp_path / "dcm").glob("*.dcm"))
    assert len(files) == 3 and all(is_synthetic(f) for f in files)
    listing = pd.read_csv(tmp_path / "dcm" / "synthetic_manifest.csv", dtype=str)
    assert listing["density"].tolist() == ["A", "B", "C"]
    try:
        read_dicom(files[0])
        raise AssertionError("read_dicom accepted a synthetic-marked file")
    except DicomError as err:
        assert "SYNTHETIC" in str(err)
    assert read_dicom(files[0], acquired_only=False).pixels.shape == (16, 12)


def test_unknown_adapter_is_a_clean_error(tmp_path, capsys):
    assert main(["data", "inspect", str(tmp_path), "--adapter", "vindir"]) == 2
    assert "Did you mean 'vindr'" in capsys.readouterr().err
