"""Typed settings: profiles.yaml, the resolution order, RunSpec and the analysis plan built from them."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mammobench.errors import ConfigError
from mammobench.evaluation.plan import AnalysisPlan
from mammobench.pipeline.config import ProfileOverrides, task_from_dict
from mammobench.pipeline.profiles import PROFILES_FILE, load_profiles, parse_overrides, resolve_settings
from mammobench.pipeline.spec import Execution, RunSpec, analysis_plan, plan_run
from mammobench.pipeline.suites import find_task

LOCAL = Execution(executor="local", device="cpu")


def test_profiles_are_yaml_beside_the_suites_and_complete():
    assert PROFILES_FILE.parent == Path(find_task("vc_lesion").source).parents[1]
    profiles = load_profiles()
    assert list(profiles) == ["smoke", "quick", "full"]
    assert all(isinstance(p, ProfileOverrides) and p.n_patients and p.audit is not None for p in profiles.values())
    assert profiles["smoke"].given()["seeds"] == [0, 1] and profiles["full"].arms is None


@pytest.mark.parametrize("text,needle", [
    ("smoke: {}\nquick: {}\n", "exactly the profiles"),
    ("smoke: {epochs: 1}\nquick: {}\nfull: {}\n", "profile 'smoke' must set"),
    ("smoke: {epochz: 1}\nquick: {}\nfull: {}\n", "unknown key 'smoke.epochz'"),
    ("smoke: {seeds: [-1]}\nquick: {}\nfull: {}\n", "smoke.seeds"),
])
def test_a_broken_profiles_file_is_refused_naming_the_key(tmp_path, text, needle):
    path = tmp_path / "profiles.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle) as info:
        load_profiles(path)
    assert str(path) in str(info.value)


def test_resolution_order_profile_then_task_then_command_line():
    task = find_task("vc_lesion")
    profiles = load_profiles()
    quick = resolve_settings(task, "quick")
    assert quick.n_patients == 800 and quick.epochs == 8  # task overrides of the quick profile
    assert quick.batch_size == profiles["quick"].batch_size  # profile value, no override
    assert quick.arms == tuple(task.augmentation.arms) and quick.ratios == (0.5,)  # profile null -> task
    cli = resolve_settings(task, "quick", parse_overrides(["epochs=2", "arms=[none, physics]"]))
    assert cli.epochs == 2 and cli.arms == ("none", "physics") and cli.n_patients == 800
    assert dataclasses.asdict(cli)["seeds"] == (0, 1, 2)
    assert cli.to_dict()["seeds"] == [0, 1, 2] and "profile" not in cli.to_dict()


def test_plan_run_builds_one_spec_and_the_frozen_plan():
    spec = plan_run(find_task("vc_lesion"), "smoke", out="somewhere", generators=["physics"], execution=LOCAL,
                    overrides={"seeds": [4, 5]})
    assert isinstance(spec, RunSpec) and spec.run_dir == Path("somewhere/vc_lesion-smoke")
    assert spec.execution == dataclasses.replace(LOCAL, workers=1, threads=1) and spec.weights is None
    plan = analysis_plan(spec, train_prevalence=0.25)
    assert isinstance(plan, AnalysisPlan)
    assert plan.n_boot == spec.settings.n_boot == 200 and plan.min_group_size == 5 and plan.prevalence == 0.25
    assert plan.subgroups == tuple(spec.task.subgroups.attributes) and plan.control_arm == "none"
    assert AnalysisPlan.from_mapping(plan.to_dict()) == plan  # the JSON form round-trips exactly


def test_task_prevalence_wins_over_the_training_split():
    task = find_task("vc_lesion")
    data = task.to_dict()
    data["metrics"]["prevalence"] = 0.007
    spec = plan_run(task_from_dict(data, source=task.source), "smoke", execution=LOCAL)
    assert analysis_plan(spec, 0.4).prevalence == 0.007


def test_execution_options_use_the_same_checker():
    assert Execution.from_options(workers=2, threads=1).workers == 2
    for options, needle in (({"workers": 0}, "--workers"), ({"executor": "gpu"}, "valid choices"),
                            ({"resume": "yes"}, "--resume"), ({"wrokers": 2}, "did you mean 'workers'")):
        with pytest.raises(ConfigError, match=needle):
            Execution.from_options(**options)


def test_analysis_plan_is_validated_in_one_place_for_every_reader(tmp_path):
    """The same AnalysisPlan rules refuse a bad plan in the plan file writer and in the evaluator."""
    from mammobench.errors import StatisticsError
    from mammobench.evaluation import evaluate_run
    from mammobench.evaluation.fixtures import make_predictions
    from mammobench.report.plan import write_analysis_plan

    with pytest.raises(ConfigError, match="multiplicity") as writer:
        write_analysis_plan(tmp_path, {"multiplicity": "hochberg"})
    with pytest.raises(StatisticsError, match="multiplicity") as evaluator:
        evaluate_run(make_predictions(n_patients=40, seeds=(0,), seed=1), {"multiplicity": "hochberg"})
    assert str(writer.value).split(": ", 1)[1] == str(evaluator.value).split(": ", 1)[1]


def test_acceptance_criteria_go_from_the_task_into_the_frozen_plan():
    task = find_task("vc_lesion")
    data = task.to_dict()
    data["analysis"]["acceptance_criteria"] = [{"metric": "auc", "statistic": "ci_low", "op": ">=", "threshold": 0.7,
                                                "arm": "none"}]
    spec = plan_run(task_from_dict(data, source=task.source), "smoke", execution=LOCAL)
    assert analysis_plan(spec, 0.3).to_dict()["acceptance_criteria"] == data["analysis"]["acceptance_criteria"]
    data["analysis"]["acceptance_criteria"] = [{"metric": "auc", "op": ">", "threshold": 0.7}]
    with pytest.raises(ConfigError, match="analysis.acceptance_criteria"):
        task_from_dict(data, source=task.source)


def test_the_default_job_trains_a_gan_and_a_diffusion_arm_and_smoke_keeps_the_fast_arms():
    """Issue #20: `make run` (the quick suite) answers the question for a GAN and a diffusion model."""
    from mammobench.pipeline.suites import load_suites

    suite = load_suites()["quick"]
    assert suite.profile == "quick"
    for name in suite.tasks:
        arms = list(resolve_settings(find_task(name), "quick").arms)
        assert arms == ["none", "classic", "physics", "cgan", "ddpm"], name
    assert list(resolve_settings(find_task("vc_lesion"), "smoke").arms) == ["none", "classic", "physics"]
