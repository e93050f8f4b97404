"""Ingest never loses a case: bad files and bad codes go to the rejects table with a reason; cohort flow."""
from __future__ import annotations

import pandas as pd
import pytest

from mammobench.data.cache import build_cache
from mammobench.data.ingest import load_dataset
import tests.helpers.data_replicas as rep


@pytest.fixture()
def broken_vindr(tmp_path):
    rep.make_vindr(tmp_path, syntaxes=("native", "rle"))
    images = tmp_path / "images"
    trunc = images / "s1" / "s1RCC.dicom"
    trunc.write_bytes(trunc.read_bytes()[:4000])                                         # truncated DICOM
    rep.write_dicom(images / "s1" / "s1RMLO.dicom", rep.phantom(0), with_pixels=False)   # no pixel data
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


def test_cohort_flow_accounts_for_every_image(broken_vindr):
    flow = load_dataset("vindr", broken_vindr).flow
    assert flow[0]["stage"] == "source records" and flow[0]["n_images"] == 8
    assert flow[-1]["stage"] == "included" and flow[-1]["n_images"] == 3
    assert sum(step["excluded"] for step in flow) == 5
    for prev, step in zip(flow, flow[1:-1]):
        assert prev["n_images"] - step["excluded"] == step["n_images"]


def test_cache_of_the_good_cases_builds(broken_vindr, tmp_path):
    res = load_dataset("vindr", broken_vindr)
    cache = build_cache(res.manifest, broken_vindr, tmp_path / "cache", size=32, workers=1, progress=False)
    assert len(cache.index) == 3 and cache.rejects.empty


def test_verify_exists_defers_dicom_problems_to_the_cache(broken_vindr, tmp_path):
    res = load_dataset("vindr", broken_vindr, verify="exists")
    assert len(res.manifest) == 6  # truncated / no pixels / not DICOM pass the existence check
    cache = build_cache(res.manifest, broken_vindr, tmp_path / "cache", size=32, workers=1, progress=False)
    assert sorted(cache.rejects["image_id"]) == ["s1RCC", "s1RMLO", "s2LCC"]
    assert len(cache.index) == 3


def test_for_processing_images_are_rejected(tmp_path):
    import pydicom

    rep.make_vindr(tmp_path, syntaxes=("native",))
    path = tmp_path / "images" / "s1" / "s1LCC.dicom"
    ds = pydicom.dcmread(path)
    ds.PresentationIntentType = "FOR PROCESSING"
    ds.save_as(path)
    res = load_dataset("vindr", tmp_path)
    assert "FOR PROCESSING" in res.rejects.set_index("image_id").loc["s1LCC", "reason"]
    assert len(res.manifest) == 7
