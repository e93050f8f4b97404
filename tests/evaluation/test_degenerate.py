"""The evaluation layer on degenerate inputs: warnings, and CIs that say they cannot be estimated."""
from __future__ import annotations

import logging

import numpy as np

from mammobench.evaluation import evaluate_run
from mammobench.evaluation.degenerate import bootstrap_ci
from mammobench.evaluation.fixtures import make_predictions


def test_bootstrap_ci_notes():
    assert bootstrap_ci(np.full(50, np.nan), 0.05)[1].startswith("not estimable: no bootstrap replicate")
    (low, high), note = bootstrap_ci(np.r_[np.full(50, 0.7), np.nan], 0.05)
    assert np.isnan(low) and np.isnan(high) and "every bootstrap replicate equals 0.7" in note


def test_constant_scores_and_small_groups_warn_and_give_no_zero_width_ci(caplog):
    preds = make_predictions(n_patients=160, seeds=(0,))
    flat = (preds["arm"] == "augmented") & (preds["split"] == "test")
    preds.loc[flat, "y_score"] = 0.5  # a broken arm: every test score equal
    with caplog.at_level(logging.WARNING, logger="mammobench.evaluation.degenerate"):
        out = evaluate_run(preds, {"n_boot": 50, "subgroups": ["density", "vendor"], "min_group_size": 10})
    text = caplog.text
    assert "arm 'augmented' seed 0: every test score is the same" in text
    assert "subgroup(s) with fewer than 10 positives or negatives" in text
    auc = [r for r in out["metrics"] if r["metric"] == "auc" and r["arm"] == "augmented" and r["seed"] is None
           and r["status"] == "ok"]
    assert auc and all(r["value"] == 0.5 and np.isnan(r["ci_low"]) and "constant scores" in r["ci_note"] for r in auc)
    healthy = [r for r in out["metrics"] if r["metric"] == "auc" and r["arm"] == "real_only" and r["seed"] is None
               and r["status"] == "ok"]
    assert all(r["ci_low"] < r["value"] < r["ci_high"] and "ci_note" not in r for r in healthy)
    zero_width = [r for r in out["metrics"] + out["comparisons"] if r["ci_low"] == r["ci_high"]]
    assert zero_width == []


def test_fairness_records_flag_groups_without_positives():
    preds = make_predictions(n_patients=200, seeds=(0,))
    d = preds["density"] == "d"
    preds.loc[d, "y_true"] = 0
    preds.loc[d, "lesion_type"] = "none"
    out = evaluate_run(preds, {"n_boot": 30, "subgroups": ["density"], "min_group_size": 1})
    density = [r for r in out["fairness"] if r["attribute"] == "density"]
    assert density and all(r["groups_excluded"] == ["d"] for r in density)
    assert all(r["groups_excluded_reason"] == {"d": "undefined (no positives)"} for r in density)
