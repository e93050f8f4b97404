"""Manifest vocabulary, generator cards and the result schema."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from mammobench.cards import GeneratorCard
from mammobench.errors import ConfigError, DataError, LeakageError, SchemaError
from mammobench.data.manifest import (MANIFEST_COLUMNS, age_band, empty_manifest, harmonise_density,
                                     parse_findings, validate_manifest)
from mammobench.protocols import Generator, GeneratorTags, SyntheticBatch, TrainView
from mammobench.results import minimal_result, validate_result

import numpy as np


@pytest.mark.parametrize("age,band", [(39, "<50"), (50, "50-59"), (59.9, "50-59"), (60, "60-69"),
                                      (75, "70+"), (math.nan, "unknown"), (None, "unknown")])
def test_age_band(age, band):
    assert age_band(age) == band


@pytest.mark.parametrize("raw,out", [("DENSITY C", "C"), (4, "D"), (2.0, "B"), ("0%-25%", "A"),
                                     ("b", "B"), ("7", ""), (None, ""), (math.nan, "")])
def test_harmonise_density(raw, out):
    assert harmonise_density(raw) == out


def _row(**kw):
    base = dict(dataset="d", patient_id="p1", exam_id="e1", image_id="i1", image_path="x.dcm", view="CC",
                laterality="L", split="train", label="normal", lesion_type="none", density="A", age=50.0,
                age_band="50-59", vendor="v", site="s", findings="[]", pixel_spacing_mm=0.1,
                density_raw="1", birads_raw="1")
    base.update(kw)
    return base


def test_validate_manifest_ok_and_errors():
    df = pd.DataFrame([_row(), _row(image_id="i2", view="MLO")])
    assert list(validate_manifest(df).columns[: len(MANIFEST_COLUMNS)]) == list(MANIFEST_COLUMNS)
    with pytest.raises(DataError, match="column 'view' row 1 has 'ML'"):
        validate_manifest(pd.DataFrame([_row(), _row(image_id="i2", view="ML")]))
    with pytest.raises(DataError, match="missing column"):
        validate_manifest(pd.DataFrame([_row()]).drop(columns=["density"]))
    with pytest.raises(DataError, match="more than once"):
        validate_manifest(pd.DataFrame([_row(), _row()]))
    assert list(empty_manifest().columns) == list(MANIFEST_COLUMNS)


def test_parse_findings():
    assert parse_findings("") == []
    assert parse_findings('[{"box": [1, 2, 3, 4]}]')[0]["box"] == [1, 2, 3, 4]
    with pytest.raises(DataError, match="not valid JSON"):
        parse_findings("[{")


def test_card_validation_teaches():
    ok = dict(name="g", version="1", kind="gan", licence="MIT", intended_use="research")
    assert GeneratorCard.from_dict(ok).kind == "gan"
    with pytest.raises(ConfigError, match="unknown key.*'nmae'.*valid keys"):
        GeneratorCard.from_dict({**ok, "nmae": "x"})
    with pytest.raises(ConfigError, match="kind 'vae'"):
        GeneratorCard.from_dict({**ok, "kind": "vae"})
    with pytest.raises(ConfigError, match="missing required"):
        GeneratorCard.from_dict({"name": "g"})
    assert GeneratorCard.from_dict({**ok, "conditioning": ["density"]}).to_dict()["conditioning"] == ["density"]


def test_train_view_refuses_test_rows():
    df = pd.DataFrame([_row(), _row(image_id="i2", split="test")])
    with pytest.raises(LeakageError, match="test"):
        TrainView(df, np.zeros((2, 4, 4), np.float32))
    tv = TrainView(df.iloc[:1], np.zeros((1, 4, 4), np.float32))
    assert tv.image_size == (4, 4) and tv.patient_ids == {"p1"}
    with pytest.raises(ValueError):
        tv.images[0, 0, 0] = 1.0


def test_protocol_is_structural():
    class G:
        card = None
        tags = GeneratorTags()

        def fit(self, data, *, seed):
            return self

        def sample(self, n, *, conditions=None, seed):
            return SyntheticBatch(np.zeros((n, 1, 2, 2), np.float32), pd.DataFrame(index=range(n)))

    assert isinstance(G(), Generator)
    assert not isinstance(object(), Generator)


def test_result_schema():
    r = minimal_result("x")
    assert validate_result(r) is r
    bad = dict(r)
    del bad["metrics"]
    with pytest.raises(SchemaError, match="missing key 'metrics'"):
        validate_result(bad)
    with pytest.raises(SchemaError, match="schema_version"):
        validate_result({**r, "schema_version": "0.9"})
    with pytest.raises(SchemaError, match="metrics\\[0\\] lacks"):
        validate_result({**r, "metrics": [{"metric": "auroc"}]})
    with pytest.raises(SchemaError, match="status"):
        validate_result({**r, "audits": [{"generator": "g", "audit": "a", "check": "c", "status": "ok",
                                          "message": ""}]})


def test_train_view_manifest_findings_are_in_image_pixels():
    df = pd.DataFrame([_row(findings='[{"box": [100, 100, 200, 200], "lesion_type": "mass"}]')])
    cached = [[{"box": [1.0, 1.0, 2.0, 2.0], "lesion_type": "mass"}]]
    tv = TrainView(df, np.zeros((1, 4, 4), np.float32), cached)
    assert parse_findings(tv.manifest["findings"].iloc[0])[0]["box"] == [1.0, 1.0, 2.0, 2.0]


def test_schema_1_0_results_are_upgraded_when_read(tmp_path):
    """1.0 files had no family/primary fields: load_result derives them once (from the method text) and
    never rewrites the file, so signed runs and leaderboard bundles stay valid."""
    import json

    from mammobench.results import load_result

    old = minimal_result("old")
    old["schema_version"] = "1.0"
    old["task"] = {"primary_metric": "auc"}
    methods = ["paired patient bootstrap (seed-averaged metric)", "paired DeLong (seed-averaged scores)",
               "OR-Hillis RRRC (training seeds as random readers, patient jackknife)"]
    old["comparisons"] = [{"metric": "auc", "arm": "a", "control": "none", "attribute": None, "group": None,
                           "estimate": 0.01, "ci_low": -0.1, "ci_high": 0.1, "p_value": 0.5, "p_adjusted": 0.5,
                           "method": m} for m in methods]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    before = path.read_bytes()
    new = load_result(path)
    assert new["schema_version"] == "1.2" and new["upgraded_from"] == "1.0"
    assert [c["family"] for c in new["comparisons"]] == ["patient_bootstrap", "delong_conditional", "seeds_as_readers"]
    assert [c["primary"] for c in new["comparisons"]] == [False, False, True]
    assert path.read_bytes() == before
    assert [(c["threshold"], c["borderline"]) for c in new["comparisons"]] == [(None, None)] * 3  # not recorded
    with pytest.raises(SchemaError, match="reads \\['1.0', '1.1', '1.2'\\]"):
        path.write_text(json.dumps({**old, "schema_version": "2.0"}), encoding="utf-8")
        load_result(path)
    with pytest.raises(SchemaError, match="family"):
        validate_result({**minimal_result("x"), "comparisons": [{**new["comparisons"][0], "family": "vibes"}]})


def test_schema_1_2_comparisons_need_their_margin(tmp_path):
    """1.2 comparison records carry threshold + borderline; 1.1 files are read with both null."""
    import json

    from mammobench.results import load_result

    rec = {"metric": "auc", "arm": "a", "control": "none", "attribute": None, "group": None, "estimate": 0.01,
           "ci_low": -0.1, "ci_high": 0.1, "p_value": 0.04, "p_adjusted": 0.04, "method": "m",
           "family": "delong_conditional", "primary": True}
    ok = {**minimal_result("x"), "comparisons": [{**rec, "threshold": 0.05, "borderline": True}]}
    assert validate_result(ok)["comparisons"][0]["borderline"] is True
    with pytest.raises(SchemaError, match="lacks \\['threshold', 'borderline'\\]"):
        validate_result({**minimal_result("x"), "comparisons": [rec]})
    with pytest.raises(SchemaError, match="borderline .* must be true, false or null"):
        validate_result({**minimal_result("x"), "comparisons": [{**rec, "threshold": 0.05, "borderline": "maybe"}]})
    with pytest.raises(SchemaError, match="alpha in \\(0, 1\\)"):
        validate_result({**minimal_result("x"), "comparisons": [{**rec, "threshold": 5, "borderline": False}]})
    path = tmp_path / "result.json"
    path.write_text(json.dumps({**minimal_result("old"), "schema_version": "1.1", "comparisons": [rec]}))
    new = load_result(path)
    assert new["upgraded_from"] == "1.1" and new["comparisons"][0]["borderline"] is None
