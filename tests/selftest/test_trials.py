"""Trial verdicts read from result records, the null-FPR summary (vs statsmodels) and the CLI table."""
from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint

from mammobench.commands.selftest import format_table, main
from mammobench.errors import ConfigError
from mammobench.results import mark_primary
from mammobench.selftest.null_fpr import clopper_pearson, summarise_null_fpr
from mammobench.selftest.trials import TRIALS, primary_comparisons, select_trials, trial_record

DELONG, BOOT = "paired DeLong (seed-averaged scores)", "paired patient bootstrap (seed-averaged metric)"
FAMILY = {DELONG: "delong_conditional", BOOT: "patient_bootstrap"}


def comp(arm, attribute, group, estimate, significant, method=DELONG, metric="auc", p=0.01):
    return {"arm": arm, "metric": metric, "method": method, "family": FAMILY[method], "attribute": attribute, "group": group,
            "estimate": estimate, "ci_low": estimate - 0.05, "ci_high": estimate + 0.05, "p_value": p,
            "p_adjusted": p if significant else 0.5, "significant": significant, "n": 100, "n_pos": 30}


def gap(arm, delta):
    return {"arm": arm, "metric": "auc", "attribute": "density", "kind": "gap", "value": 0.1,
            "delta_vs_control": delta, "delta_ci_low": delta - 0.05, "delta_ci_high": delta + 0.05}


def result(comparisons=(), fairness=(), audits=(), primary="auc"):
    """A result whose comparisons are marked primary by the evaluator's rule (results.mark_primary)."""
    return {"comparisons": mark_primary(list(comparisons), primary), "fairness": list(fairness), "audits": list(audits)}


def test_helpful_needs_a_dense_gain_and_a_narrower_gap():
    arm = "planted_helpful"
    comps = [comp(arm, "density", "C", 0.08, True), comp(arm, "density", "A", 0.0, False)]
    assert trial_record(TRIALS["helpful"], result(comps, [gap(arm, -0.05)]), "auc")["agree"]
    assert TRIALS["helpful"].observe(result(comps, [gap(arm, +0.02)]), "auc")[0] == "gain, gap not narrower"
    no_gain = [comp(arm, "density", "C", 0.08, False), comp(arm, "density", "A", 0.1, True)]
    assert TRIALS["helpful"].observe(result(no_gain, [gap(arm, -0.05)]), "auc")[0] == "no significant gain"


def test_harmful_reads_the_overall_delong_family_only():
    arm = "planted_harmful"
    loss = [comp(arm, None, None, -0.1, True), comp(arm, None, None, +0.1, True, method=BOOT)]
    assert TRIALS["harmful"].observe(result(loss), "auc")[0] == "loss"
    gain = [comp(arm, None, None, +0.1, True)]
    assert TRIALS["harmful"].observe(result(gain), "auc")[0] == "gain"
    assert TRIALS["harmful"].observe(result([comp(arm, "density", "C", -0.2, True)]), "auc")[0] == \
        "no significant effect"


def test_null_fires_on_any_significant_primary_comparison():
    arm = "planted_null"
    quiet = [comp(arm, None, None, 0.01, False), comp(arm, "density", "B", -0.02, False)]
    rec = trial_record(TRIALS["null"], result(quiet), "auc")
    assert rec["agree"] and rec["evidence"]["n_comparisons"] == 2
    loud = quiet + [comp(arm, "age_band", "<50", 0.09, True)]
    assert not trial_record(TRIALS["null"], result(loud), "auc")["agree"]
    assert TRIALS["null"].observe(result([]), "auc")[0] == "no comparisons"


def test_primary_family_falls_back_to_bootstrap_for_other_metrics():
    comps = [comp("a", None, None, 0.1, True, method=BOOT, metric="sensitivity"),
             comp("a", None, None, 0.1, True, method=DELONG, metric="auc")]
    assert [c["method"] for c in primary_comparisons(result(comps, primary="sensitivity"), "a", "sensitivity")] == [BOOT]
    assert [c["method"] for c in primary_comparisons(result(comps), "a", "auc")] == [DELONG]


@pytest.mark.parametrize("trial,audit,check,status,verdict", [
    ("memoriser", "memorisation", "copy_detection_pixel", "fail", "flagged"),
    ("memoriser", "memorisation", "copy_detection_pixel", "warn", "warned"),  # a warn where a fail is expected is not silence
    ("leaker", "leakage", "patient_overlap", "fail", "flagged"),
    ("leaker", "leakage", "card_training_data", "fail", "not run"),  # the trial reads the patient-id check
    ("biased", "bias", "density_distribution", "warn", "flagged"),
    ("biased", "bias", "age_band_distribution", "fail", "not run"),
    ("off_condition", "adherence", "density_agreement", "fail", "flagged"),
])
def test_audit_trials_read_the_right_check(trial, audit, check, status, verdict):
    gen = TRIALS[trial].generator
    recs = [{"generator": gen, "audit": audit, "check": check, "status": status, "value": 0.5, "message": "m"},
            {"generator": "other", "audit": audit, "check": check, "status": "fail"}]
    assert TRIALS[trial].observe(result(audits=recs), "auc")[0] == verdict
    assert TRIALS[trial].observe(result(audits=recs[1:]), "auc")[0] == "not run"


def test_select_trials_rejects_unknown_names():
    assert [t.name for t in select_trials(None)] == list(TRIALS)
    with pytest.raises(ConfigError, match="valid: helpful"):
        select_trials(["helpfull"])
    assert main(["--trials", "nope", "--profile", "smoke"]) == 2


@pytest.mark.parametrize("k,n", [(0, 20), (1, 20), (3, 20), (20, 20)])
def test_clopper_pearson_matches_statsmodels(k, n):
    assert clopper_pearson(k, n) == pytest.approx(proportion_confint(k, n, alpha=0.05, method="beta"), abs=1e-9)


def test_null_fpr_judged_against_nominal_within_its_ci():
    ok = summarise_null_fpr([False] * 18 + [True] * 2, alpha=0.05)  # 2/20: CI low 0.012 ≤ 0.05
    assert ok["agree"] and ok["evidence"]["k"] == 2
    bad = summarise_null_fpr([False] * 14 + [True] * 6, alpha=0.05)  # 6/20: CI low 0.119 > 0.05
    assert not bad["agree"]
    assert not summarise_null_fpr([], alpha=0.05)["agree"]


def test_table_lists_every_row_and_marks_disagreement():
    rows = [trial_record(TRIALS["null"], result([comp("planted_null", None, None, 0.0, False)]), "auc"),
            trial_record(TRIALS["leaker"], result(), "auc")]
    text = format_table(rows)
    assert "planted_null" in text and "planted_leaker" in text and "NO" in text and "not run" in text


def test_selftest_plan_is_fixed_before_any_cell_runs(tmp_path):
    """Comparison trials: a cohort whose training part lacks dense breasts, and the pre-specified
    family (overall + density); audit trials: the task's own cohort. A user's --cohort folder gets
    one sub-folder per cohort so the two never overwrite each other."""
    from mammobench.pipeline.suites import find_task
    from mammobench.pipeline.profiles import resolve_settings
    from mammobench.selftest.runner import (COMPARISON_TEST_FRACTION, COMPARISON_TRAIN_DENSITY, MIN_TRAIN_PATIENTS,
                                           selftest_task, trial_cohort_dir)

    task = find_task("vc_lesion")
    comparison, audit = selftest_task(comparison=True), selftest_task(comparison=False)
    assert comparison.dataset.cohort["train_density_weights"] == COMPARISON_TRAIN_DENSITY
    assert COMPARISON_TRAIN_DENSITY["C"] == COMPARISON_TRAIN_DENSITY["D"] == 0
    assert comparison.dataset.cohort["test_fraction"] == COMPARISON_TEST_FRACTION
    for profile in ("smoke", "quick"):  # the training part keeps its size; the test part grows
        n_task = resolve_settings(task, profile).n_patients
        n_cmp = resolve_settings(comparison, profile).n_patients
        want = max(n_task * 0.7, MIN_TRAIN_PATIENTS)
        assert abs(n_cmp * (1 - COMPARISON_TEST_FRACTION) - want) <= 1
    assert selftest_task(comparison=True, seeds=[7, 8]).profiles["quick"].seeds == [7, 8]
    assert audit.dataset.cohort == task.dataset.cohort
    for t in (comparison, audit):
        assert t.subgroups.attributes == ["density"] and t.subgroups.intersections == []
        assert t.augmentation.arms == ["none"]
    assert trial_cohort_dir(None, True) is None
    assert trial_cohort_dir(tmp_path, True) != trial_cohort_dir(tmp_path, False)
