"""Trial verdicts read from result records, the null-FPR summary (vs statsmodels) and the CLI table."""
from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint

from mammobench.commands.selftest import format_table, main
from mammobench.errors import ConfigError
from mammobench.results import mark_primary
from mammobench.selftest.null_fpr import clopper_pearson, summarise_null_fpr
from mammobench.selftest.trial_sets import select_trials
from mammobench.selftest.trials import MISSING_LESION_TYPES, TRIALS, primary_comparisons, trial_record

DELONG, BOOT = "paired DeLong (seed-averaged scores)", "paired patient bootstrap (seed-averaged metric)"
FAMILY = {DELONG: "delong_conditional", BOOT: "patient_bootstrap"}


def comp(arm, attribute, group, estimate, significant, method=DELONG, metric="auc", p=0.01):
    return {"arm": arm, "metric": metric, "method": method, "family": FAMILY[method], "attribute": attribute, "group": group,
            "estimate": estimate, "ci_low": estimate - 0.05, "ci_high": estimate + 0.05, "p_value": p,
            "p_adjusted": p if significant else 0.5, "significant": significant, "n": 100, "n_pos": 30}


def gap(arm, delta, attribute="lesion_type"):
    return {"arm": arm, "metric": "auc", "attribute": attribute, "kind": "gap", "value": 0.1,
            "delta_vs_control": delta, "delta_ci_low": delta - 0.05, "delta_ci_high": delta + 0.05}


def result(comparisons=(), fairness=(), audits=(), primary="auc"):
    """A result whose comparisons are marked primary by the evaluator's rule (results.mark_primary)."""
    return {"comparisons": mark_primary(list(comparisons), primary), "fairness": list(fairness), "audits": list(audits)}


def test_helpful_needs_a_gain_overall_or_in_the_missing_lesion_type_and_reports_the_gap():
    arm = "planted_missing_type"
    assert TRIALS["helpful"].generator == arm and MISSING_LESION_TYPES == ("asymmetry",)
    comps = [comp(arm, "lesion_type", "asymmetry", 0.08, True), comp(arm, "lesion_type", "mass", 0.0, False)]
    rec = trial_record(TRIALS["helpful"], result(comps, [gap(arm, +0.02), gap(arm, -0.3, "density")]), "auc")
    assert rec["agree"] and rec["evidence"]["lesion_type_gap_delta_vs_control"] == 0.02  # the gap is evidence only
    overall = [comp(arm, None, None, 0.03, True), comp(arm, "lesion_type", "asymmetry", 0.02, False)]
    assert TRIALS["helpful"].observe(result(overall, [gap(arm, -0.01)]), "auc")[0] == "gain"
    no_gain = [comp(arm, "lesion_type", "asymmetry", 0.08, False), comp(arm, "lesion_type", "mass", 0.1, True),
               comp(arm, "density", "D", 0.1, True), comp(arm, None, None, -0.05, True)]
    # a gain only in a type training had, or in a density group, and a loss overall: not the planted gain
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
    """The design's cohort (a training part without the missing lesion type, a large test part), ratio (the
    null's own: every training case once), equal step budget, epochs and seeds; the pre-specified family
    (overall + lesion type). The audit trials share this cohort. A user's --cohort folder gets a sub-folder so
    the self-test's cohort never overwrites the task's own."""
    from mammobench.baselines.planted import register
    from mammobench.pipeline.arms import plan_arms
    from mammobench.pipeline.suites import find_task
    from mammobench.pipeline.profiles import resolve_settings
    from mammobench.pipeline.spec import Execution, plan_run
    from mammobench.selftest.runner import (COMPARISON_DESIGN, COMPARISON_RATIO, COMPARISON_TRAIN_LESION_TYPES,
                                           comparison_ratios, comparison_seeds, selftest_task, trial_cohort_dir)

    task = find_task("vc_lesion")
    assert COMPARISON_TRAIN_LESION_TYPES == {"asymmetry": 0.0}
    for profile in ("smoke", "quick", "full"):
        design, comparison = COMPARISON_DESIGN[profile], selftest_task(profile=profile)
        settings = resolve_settings(comparison, profile)
        n = design["train_patients"] + design["test_patients"]
        assert comparison.dataset.cohort["train_lesion_type_weights"] == COMPARISON_TRAIN_LESION_TYPES
        assert comparison.dataset.cohort["train_density_weights"] == task.dataset.cohort["train_density_weights"]
        assert settings.n_patients == n and comparison.dataset.cohort["test_fraction"] == design["test_patients"] / n
        assert comparison.splits.val_fraction * n == pytest.approx(design["val_share"] * design["train_patients"])
        assert settings.ratios == (COMPARISON_RATIO,) and comparison.detector.step_budget == "real"
        assert comparison.detector.channels_last
        assert list(settings.seeds) == comparison_seeds(profile)
    assert len(comparison_seeds("quick")) == 6 and resolve_settings(selftest_task(profile="full"), "full").image_size == 64
    with pytest.raises(ConfigError, match="comparison design"):
        selftest_task(profile="nope")
    assert selftest_task(seeds=[7, 8]).profiles["quick"].seeds == [7, 8]
    assert comparison.subgroups.attributes == ["lesion_type"]
    assert comparison.subgroups.intersections == [] and comparison.augmentation.arms == ["none"]
    assert trial_cohort_dir(None) is None and trial_cohort_dir(tmp_path) == str(tmp_path / "selftest")
    register()
    generators = ["planted_missing_type", "planted_harmful", "planted_null"]
    spec = plan_run(selftest_task(profile="smoke"), "smoke", out=tmp_path, generators=generators,
                    generator_ratios=comparison_ratios(generators), audits=False, report=False,
                    execution=Execution(executor="local", device="cpu"))
    arms = plan_arms(list(spec.settings.arms), list(spec.settings.ratios), spec.generators, dict(spec.generator_ratios))
    assert {a.arm: a.ratio for a in arms} == {"none": 0.0, "planted_missing_type": COMPARISON_RATIO,
                                             "planted_harmful": COMPARISON_RATIO, "planted_null": 1.0}
    assert not spec.audits and not spec.report
    with pytest.raises(ConfigError, match="generator ratios"):
        plan_run(selftest_task(profile="smoke"), "smoke", out=tmp_path, generator_ratios={"planted_null": 0},
                 execution=Execution(executor="local", device="cpu"))
