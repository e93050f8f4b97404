"""evaluate_run: record keys, min-group-size policy, NaN policy, known effect and subgroup gap."""
from __future__ import annotations

import numpy as np
import pytest

from mammobench.errors import StatisticsError
from mammobench.evaluation import evaluate_run
from mammobench.evaluation.fixtures import make_predictions
from mammobench.results import COMPARISON_KEYS, METRIC_KEYS

PLAN = {"n_boot": 200, "subgroups": ["density", "lesion_type"], "intersections": [["density", "vendor"]],
        "min_group_size": 10, "seed": 0}


@pytest.fixture(scope="module")
def result():
    df = make_predictions(n_patients=500, seeds=(0, 1, 2), arm_effects={"augmented": 0.6}, density_gap=1.2, seed=3)
    return evaluate_run(df, PLAN)


def test_record_keys_and_policy(result):
    assert all(set(METRIC_KEYS) <= set(r) for r in result["metrics"])
    assert all(set(COMPARISON_KEYS) <= set(r) for r in result["comparisons"])
    statuses = {r["status"] for r in result["metrics"]}
    assert "ok" in statuses and "insufficient_n" in statuses  # small intersections reported, not dropped
    small = [r for r in result["metrics"] if r["status"] == "insufficient_n"]
    assert all(np.isnan(r["ci_low"]) for r in small)
    assert result["operating_point"]["chosen_on"] == "val"


def test_known_effect_detected_and_gap_visible(result):
    # margin (#17.1): overall Δ AUC +0.072 (3 seeds, 500 patients); Holm p_adj 5e-15 (DeLong), 4e-20 (seeds as
    # readers), bootstrap 0 of 200 replicates ≤ 0 — z(p) ≥ 7.8 against z(α) = 1.96: nowhere near the threshold
    overall = [c for c in result["comparisons"] if c["metric"] == "auc" and c["attribute"] is None]
    assert overall and all(c["estimate"] > 0 and c["significant"] and not c["borderline"] for c in overall)
    auc = {(r["arm"], r["group"]): r["value"] for r in result["metrics"]
           if r["metric"] == "auc" and r["attribute"] == "density" and r["seed"] is None}
    assert auc[("real_only", "d")] < auc[("real_only", "b")]
    fair = [f for f in result["fairness"] if f["metric"] == "auc" and f["kind"] == "gap"]
    assert fair and all(f["ci_low"] <= f["value"] <= f["ci_high"] for f in fair)
    assert {i["attribute"] for i in result["interactions"]} >= {"density", "lesion_type"}


def test_lesion_type_group_is_type_positives_plus_all_negatives(result):
    recs = [r for r in result["metrics"] if r["attribute"] == "lesion_type" and r["metric"] == "auc"]
    overall = next(r for r in result["metrics"] if r["attribute"] is None and r["metric"] == "auc")
    for r in recs:
        assert r["n"] - r["n_pos"] == overall["n"] - overall["n_pos"]


def test_nan_scores_raise_naming_rows():
    df = make_predictions(n_patients=60, seeds=(0,), seed=1)
    df.loc[5, "y_score"] = np.nan
    with pytest.raises(StatisticsError, match=str(df.loc[5, "image_id"])):
        evaluate_run(df, {"n_boot": 10})


def test_unpaired_cells_and_bad_plan_raise():
    df = make_predictions(n_patients=60, seeds=(0,), seed=1)
    with pytest.raises(StatisticsError, match="control_arm"):
        evaluate_run(df, {"n_boot": 10, "control_arm": "nope"})
    with pytest.raises(StatisticsError, match="unknown key"):
        evaluate_run(df, {"n_boots": 10})
    drop = df.index[(df["arm"] == "augmented") & (df["split"] == "test")][0]
    with pytest.raises(StatisticsError, match="same"):
        evaluate_run(df.drop(index=drop), {"n_boot": 10})


def test_every_comparison_names_its_family_and_one_family_is_primary(result):
    """The primary test is a field of the record (schema 1.1), set by the evaluator, not found in the method text."""
    from mammobench.evaluation.primary import primary_comparisons

    families = {c["family"] for c in result["comparisons"]}
    assert families == {"patient_bootstrap", "delong_conditional", "seeds_as_readers"}
    primary = primary_comparisons(result, "augmented", "auc")
    # 3 seeds: the seeds-as-readers test counts training randomness, so it is the primary family (B-1.4)
    assert primary and {c["family"] for c in primary} == {"seeds_as_readers"} and all(c["metric"] == "auc" for c in primary)
    assert all(not c["primary"] for c in result["comparisons"] if c["family"] != "seeds_as_readers")
    # one multiplicity family per (arm, family): the Holm family size is the number of records in it
    sizes = {(c["arm"], c["family"], c["family_size"]) for c in result["comparisons"]}
    counts = {(a, f): sum(1 for c in result["comparisons"] if (c["arm"], c["family"]) == (a, f)) for a, f, _ in sizes}
    assert all(counts[(a, f)] == n for a, f, n in sizes)


def test_one_seed_makes_delong_primary_and_other_metrics_bootstrap():
    from mammobench.evaluation.primary import primary_comparisons

    df = make_predictions(n_patients=120, seeds=(0,), seed=2)
    out = evaluate_run(df, {"n_boot": 50, "subgroups": ["density"]})
    assert {c["family"] for c in primary_comparisons(out, "augmented", "auc")} == {"delong_conditional"}
    out = evaluate_run(df, {"n_boot": 50, "subgroups": ["density"], "primary_metric": "sensitivity"})
    primary = primary_comparisons(out, "augmented", "sensitivity")
    assert primary and {c["family"] for c in primary} == {"patient_bootstrap"}
    assert not primary_comparisons(out, "augmented", "auc")
