"""Fuzzing evaluation and statistics with degenerate groups: empty, single-class, tiny, NaN/inf scores.

``evaluate_run`` must either raise :class:`~mammobench.errors.StatisticsError` (documented cases:
NaN/inf scores, unpaired cells, unknown control arm / plan keys, no validation rows) or return
records whose ``status`` says ``undefined`` / ``insufficient_n`` for groups where a metric cannot
be computed — never a bare numpy/sklearn error, never a NaN value labelled ``ok``.
The ``mammobench.stats`` metrics must raise StatisticsError on single-class / NaN input.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, strategies as st

from mammobench.errors import MammoBenchError, StatisticsError
from mammobench.evaluation import evaluate_run
from mammobench.stats import metrics as M
from mammobench.stats.delong import delong_ci, paired_delong_test
from mammobench.stats.fairness import auc_by_group, equalized_odds_difference
from tests.helpers.fuzz_budget import ci

STATUSES = {"ok", "undefined", "insufficient_n"}
SUBGROUPS = ["density", "age_band", "lesion_type", "vendor", "site", "view"]
scores = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0, 0.5, math.nan, math.inf, -math.inf, 1e308, -1.0]))


@st.composite
def prediction_tables(draw, max_patients: int = 12):
    """A small Contract-4 table with arbitrary labels (often single-class), groups and scores."""
    n = draw(st.integers(0, max_patients))
    arms = draw(st.sampled_from([("real_only",), ("real_only", "augmented")]))
    seeds = draw(st.sampled_from([(0,), (0, 1)]))
    rows = []
    allow_bad = draw(st.integers(0, 4)) == 0
    for i in range(n):
        split = draw(st.sampled_from(["val", "test"]))
        y = draw(st.integers(0, 1))
        groups = {c: draw(st.sampled_from(["a", "b"])) for c in SUBGROUPS}
        groups["lesion_type"] = draw(st.sampled_from(["mass", "calcification"])) if y else "none"
        for arm in arms:
            for seed in seeds:
                s = draw(scores if allow_bad else st.floats(0, 1))
                rows.append({"image_id": f"I{i}", "patient_id": f"P{i // 2}", "split": split, "arm": arm,
                             "generator": "none", "ratio": 0.0 if arm == "real_only" else 1.0, "seed": seed,
                             "y_true": y, "y_score": s, **groups})
    if draw(st.integers(0, 4)) == 0 and rows:  # drop a row: unpaired cell
        rows.pop(draw(st.integers(0, len(rows) - 1)))
    return pd.DataFrame(rows, columns=["image_id", "patient_id", "split", "arm", "generator", "ratio", "seed",
                                       "y_true", "y_score", *SUBGROUPS])


def _evaluate_case(table: pd.DataFrame, min_group_size: int, subgroups: list[str]) -> None:
    plan = {"n_boot": 20, "subgroups": subgroups, "min_group_size": min_group_size, "seed": 0}
    try:
        out = evaluate_run(table, plan)
    except StatisticsError as err:
        assert str(err).strip(), "empty error message"
        event(f"StatisticsError: {str(err)[:40]}")
        return
    event("evaluated; statuses " + ",".join(sorted({r["status"] for r in out["metrics"]})))
    for rec in out["metrics"]:
        assert rec["status"] in STATUSES, rec
        value = rec["value"]
        if rec["status"] == "ok" and rec["metric"] in ("auc", "sensitivity", "specificity"):
            assert value is not None and math.isfinite(value), rec
    for rec in out["comparisons"]:
        assert rec.get("status", "ok") in STATUSES, rec


@ci(25)
@given(table=prediction_tables(), min_group_size=st.integers(1, 5),
       subgroups=st.lists(st.sampled_from(SUBGROUPS), max_size=3, unique=True))
def test_evaluate_run_degenerate_groups(table, min_group_size, subgroups):
    _evaluate_case(table, min_group_size, subgroups)


def test_evaluate_run_nan_score_is_statistics_error():
    from mammobench.evaluation.fixtures import make_predictions

    df = make_predictions(n_patients=30, seeds=(0,))
    df.loc[df.index[3], "y_score"] = math.nan
    with pytest.raises(StatisticsError, match="NaN/inf y_score"):
        evaluate_run(df, {"n_boot": 10})


def test_evaluate_run_single_class_test_split_is_undefined():
    from mammobench.evaluation.fixtures import make_predictions

    df = make_predictions(n_patients=40, seeds=(0,))
    df.loc[df["split"] == "test", "y_true"] = 0
    df.loc[df["split"] == "test", "lesion_type"] = "none"
    try:
        out = evaluate_run(df, {"n_boot": 10, "subgroups": ["density"]})
    except StatisticsError as err:
        assert "class" in str(err) or "positive" in str(err), err
        return
    auc = [r for r in out["metrics"] if r["metric"] == "auc" and r["attribute"] == "overall"]
    assert auc and all(r["status"] == "undefined" for r in auc)


# ---------------------------------------------------------------- stats primitives
labels = st.lists(st.integers(0, 1), min_size=0, max_size=20)


def _stats_case(y, s, g) -> None:
    n = len(y)
    s = (s * (n // max(1, len(s)) + 1))[:n]
    g = (g * (n // max(1, len(g)) + 1))[:n]
    pred = [int(v > 0.5) if math.isfinite(v) else 0 for v in s]
    calls = [lambda: M.roc_auc(y, s), lambda: M.sensitivity_at_specificity(y, s, 0.9),
             lambda: M.threshold_at_specificity(y, s, 0.9), lambda: M.sensitivity(y, pred),
             lambda: M.specificity(y, pred), lambda: M.balanced_accuracy(y, pred), lambda: M.ece(y, s),
             lambda: M.calibration_slope_intercept(y, s), lambda: M.ppv_npv_at_prevalence(y, pred, 0.01),
             lambda: delong_ci(y, s), lambda: paired_delong_test(y, s, s[::-1]),
             lambda: auc_by_group(y, s, g), lambda: equalized_odds_difference(y, pred, g)]
    single_class = len(set(y)) < 2
    for call in calls:
        try:
            out = call()
        except MammoBenchError:
            continue
        flat = list(out.values()) if isinstance(out, dict) else list(out) if isinstance(out, tuple) else [out]
        assert not (single_class and call is calls[0]), f"AUC of a single-class sample returned {out}"
        del flat


@ci(40)
@given(y=labels, s=st.lists(scores, min_size=1, max_size=20), g=st.lists(st.sampled_from(["a", "b", "c"]),
                                                                        min_size=1, max_size=20))
def test_stats_metrics_degenerate_inputs(y, s, g):
    _stats_case(y, s, g)


# ---------------------------------------------------------------- long campaign (-m fuzz)
@pytest.mark.fuzz
@given(table=prediction_tables(max_patients=24), min_group_size=st.integers(1, 5),
       subgroups=st.lists(st.sampled_from(SUBGROUPS), max_size=3, unique=True))
def test_evaluate_run_long(table, min_group_size, subgroups):
    _evaluate_case(table, min_group_size, subgroups)


@pytest.mark.fuzz
@given(y=labels, s=st.lists(scores, min_size=1, max_size=20), g=st.lists(st.sampled_from(["a", "b", "c"]),
                                                                        min_size=1, max_size=20))
def test_stats_metrics_long(y, s, g):
    _stats_case(y, s, g)
