"""Issue #22.4: one validation for every setting wherever it is written.

Each hostile or careless value of the probe is tried where a user can write it — a top-level task key,
a ``profiles:`` override, ``mammobench run --set`` — and must be refused by the same rule (the same
"expected …" text) with the file or flag and the key named. Cross-field problems (a label in both
target lists, unusable detector weights, images the machine cannot hold) must fail in ``mammobench
validate`` and at the start of ``mammobench run``, before any file is written.
"""
from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
import yaml

from mammobench.cli import main
from mammobench.errors import ConfigError
from mammobench.pipeline.config import task_from_dict
from mammobench.pipeline.profiles import parse_overrides, resolve_settings

REPO = Path(__file__).resolve().parents[2]
TASK = yaml.safe_load((REPO / "tasks" / "vc_lesion" / "task.yaml").read_text(encoding="utf-8"))

#: (profile key, hostile value, the task key it overrides or None for profile-only keys)
HOSTILE = [
    ("seeds", [-1], ("seeds",)),
    ("seeds", [2**70], ("seeds",)),
    ("seeds", [0, 0], ("seeds",)),
    ("n_patients", 1e9, None),
    ("n_patients", 10**9, None),
    ("cohort_size", 100000, None),
    ("arms", [["none"]], ("augmentation", "arms")),
    ("ratios", [0], ("augmentation", "ratios")),
    ("ratios", [float("nan")], ("augmentation", "ratios")),
    ("epochs", 0, ("detector", "epochs")),
    ("batch_size", True, ("detector", "batch_size")),
    ("image_size", 10**6, ("preprocessing", "image_size")),
    ("n_boot", 10, ("analysis", "n_boot")),
    ("min_group_size", -3, ("subgroups", "min_group_size")),
    ("encoder_epochs", "six", None),
    ("audit", {"n_boot": "lots"}, None),
    ("audit", {"no_such_threshold": 1}, None),
]


def _expected(err: ConfigError) -> str:
    """The rule's own words ("expected …"), which must be the same wherever the value is written."""
    text = str(err)
    return text[text.index("expected"):] if "expected" in text else text.split(": ", 2)[-1]


def _task_with(path: tuple[str, ...], value) -> dict:
    data = copy.deepcopy(TASK)
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return data


@pytest.mark.parametrize("key,value,task_key", HOSTILE, ids=[f"{k}={v!r}"[:40] for k, v, _ in HOSTILE])
def test_same_rule_in_profiles_on_the_command_line_and_at_top_level(key, value, task_key):
    data = _task_with(("profiles", "quick", key), value)
    with pytest.raises(ConfigError) as in_profile:
        task_from_dict(data, source="tasks/vc_lesion/task.yaml")
    assert f"profiles.quick.{key}" in str(in_profile.value) and "tasks/vc_lesion/task.yaml" in str(in_profile.value)
    with pytest.raises(ConfigError) as on_cli:
        parse_overrides([f"{key}={yaml.safe_dump(value, default_flow_style=True).strip()}"])
    assert "--set" in str(on_cli.value) and key in str(on_cli.value)
    assert _expected(on_cli.value) == _expected(in_profile.value)
    if task_key is not None:
        with pytest.raises(ConfigError) as at_top:
            task_from_dict(_task_with(task_key, value), source="tasks/vc_lesion/task.yaml")
        assert ".".join(task_key) in str(at_top.value)
        assert _expected(at_top.value) == _expected(in_profile.value)


def test_seed_bounds_are_numpy_and_torch_bounds():
    """2**32 - 1 is the largest seed both numpy's legacy RandomState and every torch backend accept."""
    top = task_from_dict(_task_with(("seeds",), [0, 2**32 - 1]), source="t.yaml")
    assert top.seeds == [0, 2**32 - 1]
    with pytest.raises(ConfigError, match="seeds"):
        task_from_dict(_task_with(("seeds",), [2**32]), source="t.yaml")
    for key in (("splits", "seed"), ("augmentation", "sample_seed"), ("analysis", "seed")):
        with pytest.raises(ConfigError, match=".".join(key)):
            task_from_dict(_task_with(key, -1), source="t.yaml")
    with pytest.raises(ConfigError, match="dataset.cohort.seed"):
        task_from_dict(_task_with(("dataset", "cohort", "seed"), 2**70), source="t.yaml")


def test_label_in_both_target_lists():
    data = _task_with(("target", "negative"), ["normal", "malignant"])
    with pytest.raises(ConfigError, match=r"label\(s\) \['malignant'\] are in both target.positive and target.negative"):
        task_from_dict(data, source="t.yaml")
    with pytest.raises(ConfigError, match="leaves no negative label"):
        task_from_dict(_task_with(("target", "positive"), ["normal", "benign", "malignant"]) | {"target": {
            "positive": ["normal", "benign", "malignant"]}}, source="t.yaml")


def test_control_arm_must_be_among_every_profiles_arms():
    with pytest.raises(ConfigError, match="profiles.full.arms"):
        task_from_dict(_task_with(("profiles", "full", "arms"), ["classic", "physics"]), source="t.yaml")
    task = task_from_dict(TASK, source=str(REPO / "tasks" / "vc_lesion" / "task.yaml"))
    with pytest.raises(ConfigError, match="control_arm 'none' is not one of the arms"):
        resolve_settings(task, "smoke", {"arms": ["classic"]})


def test_bad_virtual_cohort_options_fail_before_the_cohort_is_made():
    with pytest.raises(ConfigError, match=r"dataset.cohort: unknown key\(s\) \['n_patient'\]"):
        task_from_dict(_task_with(("dataset", "cohort", "n_patient"), 10), source="t.yaml")
    with pytest.raises(ConfigError, match="dataset.cohort"):
        task_from_dict(_task_with(("dataset", "cohort", "train_density_weights"), {"A": 1}), source="t.yaml")


# ---------------------------------------------------------------- validate and run on task files
def _write_task(root: Path, **edits) -> Path:
    data = copy.deepcopy(TASK)
    for dotted, value in edits.items():
        node = data
        *parents, last = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    folder = root / "vc_lesion"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return folder / "task.yaml"


class _Payload:
    """A pickle that would run code when unpickled without ``weights_only``."""

    def __reduce__(self):
        return (Path.touch, (Path(_Payload.target),))


def _weights_files(tmp_path: Path) -> dict[str, Path]:
    import torch

    tmp_path.mkdir(parents=True, exist_ok=True)
    files = {"passwd": Path("/etc/passwd"), "list": tmp_path / "list.pt", "pickle": tmp_path / "evil.pt",
             "folder": tmp_path, "missing": tmp_path / "nope.pt", "text": tmp_path / "notes.pth"}
    torch.save([1, 2, 3], files["list"])
    _Payload.target = str(tmp_path / "pwned")
    files["pickle"].write_bytes(pickle.dumps({"w": _Payload()}, protocol=2))
    files["text"].write_text("not weights", encoding="utf-8")
    return files


@pytest.mark.parametrize("kind", ["passwd", "list", "pickle", "folder", "missing", "text"])
def test_weights_that_are_not_a_state_dict_fail_in_validate_and_at_run_start(tmp_path, capsys, kind):
    weights = _weights_files(tmp_path / "w")[kind] if kind != "folder" else tmp_path
    path = _write_task(tmp_path / "tasks", detector__weights=str(weights))
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert out.startswith("error") and "detector.weights" in out and str(path) in out and "Traceback" not in out
    out_dir = tmp_path / "runs"
    assert main(["run", str(path), "--profile", "smoke", "--out", str(out_dir)]) == 2
    err = capsys.readouterr().err
    assert "detector.weights" in err and not out_dir.exists()  # refused before anything is written
    assert not (tmp_path / "w" / "pwned").exists(), "unpickling ran code"


def test_a_real_state_dict_passes_and_is_resolved_against_the_task_folder(tmp_path, capsys):
    import torch

    from mammobench.pipeline.config import load_task
    from mammobench.pipeline.preflight import resolve_weights

    path = _write_task(tmp_path / "tasks", detector__weights="weights/model.pt")
    (path.parent / "weights").mkdir()
    torch.save(torch.nn.Linear(2, 1).state_dict(), path.parent / "weights" / "model.pt")
    assert main(["validate", str(path), "--profile", "smoke"]) == 0, capsys.readouterr().out
    assert resolve_weights(load_task(path)) == str((path.parent / "weights" / "model.pt").resolve())


def test_sizes_the_machine_cannot_hold_are_refused_with_the_estimate(tmp_path, capsys, monkeypatch):
    from mammobench.pipeline import preflight

    path = _write_task(tmp_path / "tasks", profiles__smoke={"n_patients": 200000, "image_size": 4096})
    assert main(["validate", str(path), "--profile", "smoke"]) == 2
    out = capsys.readouterr().out
    need = 200000 * 4 * 4096**2 * 4 * 1.5  # images × side² × float32 × (1 + ratio 0.5), one worker
    assert preflight.format_bytes(need) in out and "800,000 images at 4096×4096" in out and "this machine has" in out
    # a size that fits a machine with >= 4 GiB but not a 1 GiB one: the check reads the machine's memory
    small = _write_task(tmp_path / "small", profiles__smoke={"image_size": 2048})  # 3.75 GiB
    assert main(["validate", str(small), "--profile", "smoke"]) == 0
    monkeypatch.setattr(preflight, "machine_memory", lambda: 2**30)
    assert main(["validate", str(small), "--profile", "smoke"]) == 2
    assert "1.0 GiB" in capsys.readouterr().out
    assert main(["run", str(small), "--profile", "smoke", "--executor", "local", "--out", str(tmp_path / "r")]) == 2
    assert "needs about" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_command_line_overrides_and_options_fail_at_run_start(tmp_path, capsys):
    out = tmp_path / "runs"
    for argv, needle in ((["--set", "seeds=[-1]"], "--set: seeds"), (["--set", "epochz=1"], "did you mean 'epochs'"),
                         (["--set", "n_patients=1e9"], "n_patients: expected integer"),
                         (["--set", "ratios=[0]"], "a ratio of 0 is not an arm"), (["--workers", "0"], "--workers"),
                         (["--threads", "-2"], "--threads"), (["--set", "epochs"], "expected KEY=VALUE"),
                         (["--set", "seeds=&a [*a]"], "alias")):
        assert main(["run", "--profile", "smoke", "--out", str(out), *argv]) == 2, argv
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err, (argv, err)
    assert not out.exists()


@pytest.mark.parametrize("content", [b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, b"\xff\xfe\x00t\x00a",
                                     b"task: [\x80\x81]", b"a: &x [1]\nb: *x\n", b"[" * 5000])
def test_validate_on_binary_or_hostile_files_is_one_line_no_traceback(tmp_path, capsys, content):
    path = tmp_path / "task.yaml"
    path.write_bytes(content)
    assert main(["validate", str(path), str(tmp_path / "other.bin")]) == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and all(line.startswith("error") for line in out) and str(path) in out[0]
    assert "Traceback" not in "\n".join(out)
