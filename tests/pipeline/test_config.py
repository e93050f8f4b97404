"""Task/suite config validation, profiles, arms and conditioning policies."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mammobench.errors import ConfigError
from mammobench.pipeline.arms import arm_name, draw_conditions, plan_arms, synthetic_count
from mammobench.pipeline.config import load_task, task_from_dict
from mammobench.pipeline.profiles import resolve_settings
from mammobench.pipeline.suites import BUILTIN_TASKS, find_task, list_tasks, load_suites, resolve


def test_builtin_tasks_and_template_validate():
    assert "vc_lesion" in list_tasks()
    cfg = load_task(BUILTIN_TASKS / "vc_lesion" / "task.yaml")
    assert cfg.augmentation.arms[0] == "none" and cfg.metrics.primary == "auc"
    assert load_task(BUILTIN_TASKS / "_template" / "task.yaml").task == "my_task"
    suites = load_suites()
    assert {"quick", "smoke"} <= set(suites)
    tasks, profile = resolve(None)
    assert [t.task for t in tasks] == ["vc_lesion"] and profile == "quick"


@pytest.mark.parametrize("patch, needle", [
    ({"seedz": [0]}, "unknown key 'seedz' (did you mean 'seeds'?)"),
    ({"detector": {"epochs": "ten"}}, "detector.epochs: expected int"),
    ({"detector": {"epochs": 0}}, "detector.epochs: 0 is not allowed"),
    ({"augmentation": {"conditioning": "balance_densty"}}, "valid choices: ['match_train'"),
    ({"augmentation": {"ratios": [-1]}}, "augmentation.ratios"),
    ({"metrics": {"primary": "accuracy"}}, "valid choices"),
    ({"analysis": {"control_arm": "classic"}, "augmentation": {"arms": ["none", "physics"]}}, "control_arm"),
    ({"subgroups": {"attributes": ["race"]}}, "subgroups.attributes"),
    ({"detector": {"lr_schedule": "cosin"}}, "valid choices: ['cosine', 'constant']"),
    ({"profiles": {"smoke": {"epochz": 1}}}, "unknown key 'profiles.smoke.epochz' (did you mean 'epochs'?)"),
    ({"seeds": [True]}, "seeds"),
    ({"dataset": ["virtual_cohort"]}, "expected a mapping"),
])
def test_config_errors_teach(patch, needle):
    data = {"task": "demo", "version": 1, **patch}
    with pytest.raises(ConfigError) as err:
        task_from_dict(data, source="tasks/demo/task.yaml")
    assert "tasks/demo/task.yaml" in str(err.value) and needle in str(err.value)


def test_load_task_names_file_and_folder(tmp_path: Path):
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "task.yaml").write_text(yaml.safe_dump({"task": "demo", "version": 1}))
    with pytest.raises(ConfigError, match="must match its folder name"):
        load_task(folder)
    (folder / "task.yaml").write_text("task: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_task(folder)
    with pytest.raises(ConfigError, match="Did you mean 'vc_lesion'"):
        find_task("vc_lesoin")


def test_profiles_and_overrides():
    task = find_task("vc_lesion")
    assert resolve_settings(task, "smoke").epochs == 1
    assert resolve_settings(task, "quick").epochs == 8  # the task's override of the quick profile
    assert resolve_settings(task, "quick", {"epochs": 7}).epochs == 7  # the command line wins
    assert resolve_settings(task, "full").arms == ("none", "classic", "physics", "cgan", "ddpm")
    with pytest.raises(ConfigError, match="valid profiles"):
        resolve_settings(task, "huge")


def test_plan_arms_and_names():
    arms = plan_arms(["none", "classic"], [0.5, 1.0], ["pkg.mod:MyGen"])
    assert [(a.arm, a.ratio) for a in arms] == [("none", 0.0), ("classic", 0.5), ("classic_r1", 1.0),
                                                  ("MyGen_r0.5", 0.5), ("MyGen_r1", 1.0)][:1] + [
        (a.arm, a.ratio) for a in arms[1:]]
    assert [a.arm for a in arms] == ["none", "classic_r0.5", "classic_r1", "MyGen_r0.5", "MyGen_r1"]
    assert [a.arm for a in plan_arms(["none", "physics"], [0.5])] == ["none", "physics"]
    assert arm_name("pkg.mod:MyGen") == "MyGen"
    assert synthetic_count(0.5, 101) == 50


def test_balance_density_fills_deficit():
    train = pd.DataFrame({"density": ["A"] * 50 + ["B"] * 40 + ["C"] * 8 + ["D"] * 2})
    cond = draw_conditions("balance_density", 60, train, np.random.default_rng(0))
    mix = pd.concat([train["density"], cond["density"]]).value_counts()
    assert len(cond) == 60 and set(cond["density"]) <= {"C", "D", "B"}
    assert mix["D"] > 2 * 2 and mix["C"] > 8 * 2  # dense classes filled
    assert draw_conditions("unconditional", 5, train, np.random.default_rng(0)) is None
    same = draw_conditions("balance_density", 60, train, np.random.default_rng(0))
    assert same.equals(cond)
    with pytest.raises(ConfigError, match="valid choices"):
        draw_conditions("balance_race", 5, train, np.random.default_rng(0))
