"""``mammobench reproduce``: comparison and exit status on hand-made records, refusal of bad sources, one real re-run.

The comparison tests use fixed numbers far from their tolerance (margins stated per test), so no
statistical decision sits near a threshold. The end-to-end test re-runs a real smoke run (slow).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mammobench import cli
from mammobench.commands import reproduce as reproduce_cmd
from mammobench.errors import IntegrityError
from mammobench.pipeline import reproduce as reproduce_mod
from mammobench.pipeline.reproduce import Outcome, Source, reproduce
from mammobench.pipeline.reproduce_compare import compare_records, compare_verdicts
from mammobench.report.provenance import sign_run
from tests.helpers.run_fixture import fake_run_copy

SPREAD = {("metrics", "value"): {"": 0.02}, ("comparisons", "estimate"): {"": 0.02}}
N_SEEDS = 4  # tolerance = 3 * 0.02 / sqrt(4) = 0.03


def _result(auc: float = 0.80, delta: float = 0.05, significant: bool = True) -> dict:
    return {"metrics": [{"metric": "auc", "split": "test", "arm": "a", "value": auc, "n": 100, "n_pos": 20}],
            "comparisons": [{"metric": "auc", "arm": "a", "control": "none", "method": "paired_bootstrap",
                             "estimate": delta, "significant": significant}]}


def _outcome(original: dict, reproduced: dict, calls=({"a": "helps"}, {"a": "helps"})) -> Outcome:
    source = Source(Path("orig"), "run", original, {}, None)
    rows = compare_records(original, reproduced, spread=SPREAD, n_seeds=N_SEEDS)
    return Outcome(source, Path("re"), rows, compare_verdicts(original, reproduced, calls), [], "original", N_SEEDS)


def _exit_status(monkeypatch, outcome: Outcome) -> int:
    monkeypatch.setattr(reproduce_mod, "reproduce", lambda *a, **k: outcome)
    return reproduce_cmd.main(["orig"])


def test_equal_records_exit_zero_and_print_the_table(monkeypatch, capsys):
    assert _exit_status(monkeypatch, _outcome(_result(), _result(auc=0.81))) == 0  # |diff| 0.01 < 0.03
    out = capsys.readouterr().out
    assert "original" in out and "reproduced" in out and "difference" in out and "within" in out
    assert "every verdict is the same" in out and "REPRODUCED:" in out


def test_number_outside_tolerance_exits_one(monkeypatch, capsys):
    outcome = _outcome(_result(), _result(auc=0.90))  # |diff| 0.10 > 3.3 x tolerance 0.03
    assert [r["field"] for r in outcome.rows if not r["within"]] == ["value"]
    assert _exit_status(monkeypatch, outcome) == 1
    assert "NOT REPRODUCED" in capsys.readouterr().out


def test_count_must_be_exact():
    changed = _result()
    changed["metrics"][0]["n"] = 101
    rows = compare_records(_result(), changed, spread=SPREAD, n_seeds=N_SEEDS)
    assert [(r["field"], r["within"]) for r in rows if not r["within"]] == [("n", False)]


def test_verdict_flip_exits_one_even_when_numbers_agree(monkeypatch, capsys):
    outcome = _outcome(_result(), _result(significant=False))
    assert all(r["within"] for r in outcome.rows)
    assert _exit_status(monkeypatch, outcome) == 1
    assert "verdict differs" in capsys.readouterr().out


def test_arm_call_flip_exits_one(monkeypatch):
    outcome = _outcome(_result(), _result(), calls=({"a": "helps"}, {"a": "no clear effect"}))
    assert _exit_status(monkeypatch, outcome) == 1


def test_missing_record_is_not_within():
    rows = compare_records(_result(), {"metrics": [], "comparisons": _result()["comparisons"]},
                           spread=SPREAD, n_seeds=N_SEEDS)
    assert {r["field"] for r in rows if not r["within"]} == {"value", "n", "n_pos"}


@pytest.fixture()
def signed_run(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMMOBENCH_SIGNING_KEY", str(tmp_path / "keys" / "k.pem"))
    monkeypatch.setenv("MAMMOBENCH_TRUSTED_KEYS", str(tmp_path / "trusted_keys.yaml"))
    run = fake_run_copy(tmp_path)
    sign_run(run)
    return run


def test_tampered_manifest_is_refused(signed_run, tmp_path, capsys):
    manifest = json.loads((signed_run / "manifest.json").read_text())
    name = sorted(manifest["files"])[0]
    manifest["files"][name]["sha256"] = "0" * 64
    (signed_run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match="signed manifest"):
        reproduce(signed_run, out=tmp_path / "re", force=False)
    assert cli.main(["reproduce", str(signed_run), "--out", str(tmp_path / "re")]) == 2
    err = capsys.readouterr().err
    assert "not reproduced" in err and "--force" in err
    assert not (tmp_path / "re").exists()  # refused before anything ran


def test_changed_file_and_other_code_version_are_refused(signed_run, tmp_path):
    with (signed_run / "predictions.csv").open("a") as f:
        f.write("\n")
    with pytest.raises(IntegrityError) as err:
        reproduce(signed_run, out=tmp_path / "re")
    # the fake run records version 0.1.0 and a made-up commit: the code version differs too
    assert "predictions.csv" in str(err.value) and "code version differs" in str(err.value)


def test_untouched_fake_run_is_refused_only_for_its_code_version(signed_run, tmp_path):
    problems = reproduce_mod.load_source(signed_run).problems
    assert problems and all(p.startswith("code version differs") for p in problems)


@pytest.mark.slow
def test_smoke_run_reproduces_with_every_verdict_the_same(tmp_path):
    """A real smoke run, then ``mammobench reproduce`` of it: exit 0, every verdict the same (~2 x 100 s)."""
    env = dict(os.environ, MAMMOBENCH_CACHE=str(tmp_path / "cache"), PYTHONHASHSEED="0",
               MAMMOBENCH_SIGNING_KEY=str(tmp_path / "keys" / "k.pem"),
               MAMMOBENCH_TRUSTED_KEYS=str(tmp_path / "trusted_keys.yaml"))
    mb = [sys.executable, "-m", "mammobench.cli"]
    done = subprocess.run([*mb, "run", "vc_lesion", "--profile", "smoke", "--out", str(tmp_path / "runs")],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    # --force: a test checkout may be dirty (uncommitted changes), which is a code-version problem
    done = subprocess.run([*mb, "reproduce", str(tmp_path / "runs" / "vc_lesion-smoke"), "--force",
                           "--out", str(tmp_path / "re")], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-3000:]}"
    assert "every verdict is the same" in done.stdout and "REPRODUCED:" in done.stdout
    summary = json.loads((tmp_path / "re" / "vc_lesion-smoke.reproduce.json").read_text())
    assert summary["ok"] and summary["n_outside"] == 0 and not summary["verdicts_differ"]
