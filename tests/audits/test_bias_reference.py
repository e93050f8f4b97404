"""Bias audit reference: a balancing arm is judged against what it was asked for, not the test mix."""
from __future__ import annotations

import pandas as pd

from mammobench.audits.bias import bias_audit
from mammobench.audits.run import DEFAULT_CONFIG
from mammobench.pipeline.arms import requested_shares

TRAIN = pd.DataFrame({"density": ["A"] * 30 + ["B"] * 60 + ["C"] * 8 + ["D"] * 2})
TARGET = pd.DataFrame({"density": ["A", "B", "C", "D"] * 25})
REQUEST = pd.DataFrame({"density": ["C"] * 20 + ["D"] * 30})


def _status(synthetic_densities, **kw):
    recs = bias_audit("g", synthetic_labels=pd.DataFrame({"density": synthetic_densities}), train_manifest=TRAIN,
                      target=TARGET, config={**DEFAULT_CONFIG, "n_boot": 20}, **kw)
    return {r["check"]: r for r in recs}["density_distribution"]


def test_honouring_a_balancing_request_passes_and_moves_training_toward_target():
    rec = _status(list(REQUEST["density"]), requested=requested_shares(REQUEST))
    assert rec["status"] == "pass", rec["message"]
    ev = rec["evidence"]
    assert ev["reference"] == "requested" and ev["tv_augmented_vs_target"] < ev["tv_train_vs_target"]
    assert "closer to" in rec["message"]


def test_only_fatty_images_fail_against_the_request_and_against_the_target():
    fatty = ["A"] * 50
    assert _status(fatty, requested=requested_shares(REQUEST))["status"] == "fail"
    assert _status(fatty)["status"] == "fail"


def test_unrequested_attribute_falls_back_to_the_target():
    rec = _status(["A", "B", "C", "D"] * 10, requested={"label": {"normal": 1.0}})
    assert rec["evidence"]["reference"] == "target" and rec["status"] == "pass"
