"""Ingest never loses a case: bad files and bad codes go to the rejects table with a reason; cohort flow."""
from __future__ import annotations

import pandas as pd
import pytest

from mammobench.data.cache import build_cache
from mammobench.data.ingest import load_dataset
import tests.helpers.data_replicas as rep


@pytest.fixture()
def broken_vindr(tmp_path):
    rep.make_vindr(tmp_path, defects=False, nested=False)
    images = tmp_path / "images"
    trunc = images / "s1" / "s1RCC.dicom"
    trunc.write_bytes(trunc.read_bytes()[:4000])                                         # truncated DICOM
    rep.write_dicom(images / "s1" / "s1RMLO.dicom", rep.phantom(0), laterality="R", view="MLO",
                    with_pixels=False)                                                   # no pixel data
    (images / "s2" / "s2LCC.dicom").write_text("this is a text file, not DICOM\n")       # not DICOM
    (images / "s2" / "s2LMLO.dicom").unlink()                                            # missing file
    table = pd.read_csv(tmp_path / "breast-level_annotations.csv", dtype=str, keep_default_na=False)
    table.loc[table["image_id"] == "s2RCC", "breast_density"] = "DENSITY E"              # unknown density code
    table.to_csv(tmp_path / "breast-level_annotations.csv", index=False)
    return tmp_path


EXPECTED = {"s1RCC": ("dicom", "truncated"), "s1RMLO": ("dicom", "no pixel data"),
            "s2LCC": ("dicom", "not a DICOM file"), "s2LMLO": ("files", "file not found"),
            "s2RCC": ("labels", "unknown density code 'DENSITY E'")}


def test_bad_cases_are_listed_with_reasons_and_good_ones_kept(broken_vindr):
    res = load_dataset("vindr", broken_vindr, split_seed=0)
    assert sorted(res.manifest["image_id"]) == ["s1LCC", "s1LMLO", "s2RMLO"]
    rejects = res.rejects.set_index("image_id")
    assert sorted(rejects.index) == sorted(EXPECTED)
    for image_id, (stage, reason) in EXPECTED.items():
        assert rejects.loc[image_id, "stage"] == stage
        assert reason in rejects.loc[image_id, "reason"], rejects.loc[image_id, "reason"]
    assert (rejects["path"] != "").all()
    assert len(res.manifest) + len(res.rejects) == 8  # nothing silently dropped
    assert any("5 of 8 metadata rows" in w for w in res.warnings)  # more than a few percent: a warning


def test_cohort_flow_accounts_for_every_image(broken_vindr):
    flow = load_dataset("vindr", broken_vindr).flow
    assert flow[0]["stage"] == "metadata rows" and flow[0]["n_images"] == 8
    steps = flow[: [s["stage"] for s in flow].index("included") + 1]
    assert steps[-1]["n_images"] == 3 and sum(step["excluded"] for step in steps) == 5
    for prev, step in zip(steps, steps[1:-1]):
        assert prev["n_images"] - step["excluded"] == step["n_images"]
    assert flow[-1] == {"stage": "metadata rows without an image file", "n_rows": 1, "n_patients": None,
                        "n_exams": None, "n_images": 1, "excluded": 0, "reason": "counted in the files stage"}


def test_cache_of_the_good_cases_builds(broken_vindr, tmp_path):
    res = load_dataset("vindr", broken_vindr)
    cache = build_cache(res.manifest, broken_vindr, tmp_path / "cache", size=32, workers=1, progress=False)
    assert len(cache.index) == 3 and cache.rejects.empty


def test_verify_exists_reads_headers_and_defers_pixel_problems_to_the_cache(broken_vindr, tmp_path):
    res = load_dataset("vindr", broken_vindr, verify="exists")
    assert len(res.manifest) == 5  # truncated / no pixels pass the header read; the text file does not
    assert "not a DICOM file" in res.rejects.set_index("image_id").loc["s2LCC", "reason"]
    cache = build_cache(res.manifest, broken_vindr, tmp_path / "cache", size=32, workers=1, progress=False)
    assert sorted(cache.rejects["image_id"]) == ["s1RCC", "s1RMLO"]
    assert len(cache.index) == 3


@pytest.mark.parametrize("verify", ["header", "exists"])
def test_not_acquired_images_are_rejected_whatever_verify_says(tmp_path, verify):
    """FOR PROCESSING, non-MG, secondary capture and synthetic-marked images never enter a real cohort."""
    import pydicom

    from mammobench.data.dicom_marker import write_synthetic_dicom

    rep.make_vindr(tmp_path, defects=False, nested=False)
    changes = {"s1LCC": ("PresentationIntentType", "FOR PROCESSING"), "s1LMLO": ("Modality", "US"),
               "s1RCC": ("SOPClassUID", "1.2.840.10008.5.1.4.1.1.7")}
    for image_id, (keyword, value) in changes.items():
        path = tmp_path / "images" / "s1" / f"{image_id}.dicom"
        ds = pydicom.dcmread(path)
        setattr(ds, keyword, value)
        ds.save_as(path)
    write_synthetic_dicom(tmp_path / "images" / "s1" / "s1RMLO.dicom", rep.phantom(3) / 4095.0, generator="ddpm",
                          version="0.3.0", seed=3)
    res = load_dataset("vindr", tmp_path, verify=verify)
    reasons = res.rejects.set_index("image_id")["reason"]
    assert sorted(reasons.index) == ["s1LCC", "s1LMLO", "s1RCC", "s1RMLO"]
    assert "FOR PROCESSING" in reasons["s1LCC"] and "Modality is 'US'" in reasons["s1LMLO"]
    assert "secondary capture" in reasons["s1RCC"] and "SYNTHETIC" in reasons["s1RMLO"]
    assert set(res.rejects["stage"]) == {"acquisition"} and len(res.manifest) == 4


def test_verify_none_warns_that_acquisition_checks_are_skipped(tmp_path):
    rep.make_vindr(tmp_path, defects=False, nested=False)
    res = load_dataset("vindr", tmp_path, verify="none")
    assert any("--verify none" in w and "NOT checked" in w for w in res.warnings)
