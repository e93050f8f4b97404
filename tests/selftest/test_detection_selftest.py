"""The lesion-detection self-test (``mammobench selftest --task vc_lesion_detect``): trials, design and plumbing.

The end-to-end run is the smoke profile with the conformance trial (``off_location``) and the harmful trial:
at smoke (2 seeds × 2 epochs at 64 px) the comparison rows are ``underpowered`` by design — their decisions
are measured at quick (docs/selftest.md, "Detection self-test") — so only the plumbing and the check trial's
decision are asserted here. The check's margin: boxes moved off their lesions on whole simulated mammograms
rank 0.02–0.06 (most land beyond the skin line, rank 0) against the fail line 0.5; the tiny fixture view's
0.16–0.25 (tests/generators/test_box_checks.py).
"""
from __future__ import annotations

import json

import pytest

from mammobench.errors import ConfigError
from mammobench.selftest.detection_trials import DETECTION_TRIALS, observe_dense_gain
from mammobench.selftest.trial_sets import select_trials, trials_for


def _cmp(group, estimate, p_adj, significant, metric="lesion_sensitivity", attribute="density",
         family="patient_bootstrap", arm="planted_dense_lesions", primary=False):
    return {"arm": arm, "metric": metric, "family": family, "attribute": attribute, "group": group,
            "estimate": estimate, "p_adjusted": p_adj, "significant": significant, "primary": primary,
            "ci_low": estimate - 0.05, "ci_high": estimate + 0.05}


def test_dense_gain_reads_only_dense_sensitivity_groups():
    dense_gain = {"comparisons": [_cmp("D", 0.12, 0.01, True), _cmp("A", -0.2, 0.001, True)]}
    assert observe_dense_gain(dense_gain, "wafroc")[0] == "gain"
    only_fatty = {"comparisons": [_cmp("A", 0.2, 0.001, True), _cmp("C", 0.05, 0.3, False)]}
    verdict, evidence = observe_dense_gain(only_fatty, "wafroc")
    assert verdict == "no significant gain" and [c["group"] for c in evidence["dense_groups"]] == ["C"]
    dense_loss = {"comparisons": [_cmp("C", -0.1, 0.02, True)]}
    assert observe_dense_gain(dense_loss, "wafroc")[0] == "loss"
    other_metric = {"comparisons": [_cmp("D", 0.3, 0.001, True, metric="false_marks_per_image")]}
    assert observe_dense_gain(other_metric, "wafroc")[0] == "no significant gain"


def test_detect_harmful_reads_the_primary_wafroc():
    rec = _cmp(None, -0.08, 0.001, True, metric="wafroc", attribute=None, family="seeds_as_readers",
               arm="planted_harmful", primary=True)
    observe = DETECTION_TRIALS["detect_harmful"].observe
    assert observe({"comparisons": [rec]}, "wafroc")[0] == "loss"
    assert observe({"comparisons": [{**rec, "significant": False}]}, "wafroc")[0] == \
        "no significant effect"


def test_trial_sets_per_task():
    assert list(trials_for("vc_lesion_detect")) == list(DETECTION_TRIALS)
    assert "helpful" in trials_for("vc_lesion")
    assert [t.name for t in select_trials(["off_location"], "vc_lesion_detect")] == ["off_location"]
    with pytest.raises(ConfigError, match="unknown trial"):
        select_trials(["helpful"], "vc_lesion_detect")
    with pytest.raises(ConfigError, match="self-test runs on"):
        trials_for("vindr_detect")


def test_detection_selftest_task_follows_its_design():
    from mammobench.pipeline.suites import find_task
    from mammobench.selftest.runner import DETECTION_DESIGN, DETECTION_TRAIN_DENSITY_WEIGHTS, selftest_task

    task = selftest_task("vc_lesion_detect", profile="quick")
    design = DETECTION_DESIGN["quick"]
    assert task.augmentation.arms == ["none"] and task.subgroups.attributes == ["density"]
    assert task.detector.step_budget == "real" and task.detector.recipe == "timm_centernet"
    cohort = task.dataset.cohort
    assert cohort["train_density_weights"] == DETECTION_TRAIN_DENSITY_WEIGHTS  # no dense breasts in training
    assert find_task("vc_lesion_detect").dataset.cohort["train_density_weights"]["D"] > 0  # the task's own keeps some
    assert cohort["test_fraction"] == pytest.approx(design["test_patients"] /
                                                    (design["train_patients"] + design["test_patients"]))
    assert "train_lesion_type_weights" not in cohort  # the classifier's missing-type design is not applied
    quick = task.to_dict()["profiles"]["quick"]
    assert quick["seeds"] == design["seeds"] and quick["epochs"] == design["epochs"]


def test_check_trial_record_fails_boxes_off_the_lesion():
    from mammobench.baselines.planted import register
    from mammobench.generators.fixtures import make_tiny_train_view
    from mammobench.selftest.runner import _check_record

    register()
    rec = _check_record(DETECTION_TRIALS["off_location"], make_tiny_train_view(n=32, size=32, seed=0))
    assert rec["status"] == "fail" and rec["audit"] == "conformance"
    assert rec["value"] <= 0.35 < rec["threshold"] == 0.5, rec  # measured 0.16-0.25 on this view


@pytest.fixture(scope="module")
def smoke_detection_run(tmp_path_factory):
    from mammobench.pipeline.spec import Execution
    from mammobench.selftest.runner import run_selftest

    out = tmp_path_factory.mktemp("selftest_detect")
    records = run_selftest("smoke", out=out, trials=["detect_harmful", "off_location"], task_name="vc_lesion_detect",
                           execution=Execution(executor="local"))
    return out, records


def test_smoke_detection_selftest_runs_and_flags_off_location(smoke_detection_run):
    out, records = smoke_detection_run
    by_trial = {r["trial"]: r for r in records}
    assert set(by_trial) == {"detect_harmful", "off_location"}
    off = by_trial["off_location"]
    assert off["agree"] and off["status"] == "pass", off["evidence"]
    assert off["evidence"]["checks"][0]["value"] < 0.35  # measured 0.02-0.06 on whole images
    harmful = by_trial["detect_harmful"]
    assert harmful["status"] == "underpowered" and "use --profile quick" in harmful["power"]
    run_dir = next(p for p in out.iterdir() if (p / "result.json").is_file())
    result = json.loads((run_dir / "result.json").read_text())
    assert result["task"]["name"] == "vc_lesion_detect" and [r["trial"] for r in result["selftest"]] == \
        [r["trial"] for r in records]
    assert any(r["audit"] == "conformance" and r["generator"] == "planted_off_location" for r in result["audits"])
    assert "Self-test: known-answer trials" in (run_dir / "report.html").read_text()
    from mammobench.report.provenance import verify_run

    assert verify_run(run_dir).ok


def test_cli_task_option(capsys):
    from mammobench.commands.selftest import main

    assert main(["--task", "vc_lesion_detect", "--trials", "helpful"]) == 2
    assert "unknown trial" in capsys.readouterr().err
