"""End-to-end self-test at the smoke profile: planted generators through the real pipeline.

Part of the default suite (CI): about 1 minute on 2 cores. It runs the audit trials (the
comparison trials need the quick profile's statistical power). At smoke the domain-encoder oracle is
trained for 2 epochs, so the adherence audit can establish a *deficit* but not always one beyond its
fail margin: the power design table (``selftest/design.py``) says smoke cannot power
``off_condition``, so its row is ``underpowered`` and names ``quick`` — whatever it observed — and
does not fail the command. The other audit trials are powered at smoke with wide margins (exact
copies; a counted patient overlap; density TV ≈ 0.6–0.7 against a 0.3 fail line) and must agree.
"""
from __future__ import annotations

import json

import pytest

from mammobench.commands.selftest import main
from mammobench.selftest.runner import run_selftest

AUDIT_TRIALS = ["memoriser", "leaker", "biased", "off_condition"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    from mammobench.pipeline.spec import Execution

    out = tmp_path_factory.mktemp("selftest")  # in-process cells: no pool to spawn for the run's 2 control cells
    return out, run_selftest("smoke", out=out, trials=AUDIT_TRIALS, execution=Execution(executor="local"))


def test_audit_trials_agree_at_smoke(smoke_run):
    _, records = smoke_run
    by_trial = {r["trial"]: r for r in records}
    for name in AUDIT_TRIALS:
        if name == "off_condition":
            assert by_trial[name]["status"] == "underpowered" and "use --profile quick" in by_trial[name]["power"]
            assert by_trial[name]["observed"] in ("flagged", "warned", "quiet"), by_trial[name]["evidence"]
        else:
            rec = by_trial[name]
            assert rec["agree"] and rec["status"] == "pass", (name, rec["observed"], rec["evidence"])


def test_selftest_lands_in_result_report_and_signature(smoke_run):
    out, records = smoke_run
    run_dir = next(p for p in out.iterdir() if (p / "result.json").is_file())
    result = json.loads((run_dir / "result.json").read_text())
    assert [r["trial"] for r in result["selftest"]] == [r["trial"] for r in records]
    assert "Self-test: known-answer trials" in (run_dir / "report.html").read_text()
    from mammobench.report.provenance import verify_run

    report = verify_run(run_dir)
    assert report.ok, report.lines()


def test_cli_exit_code_and_table(smoke_run, capsys, caplog):
    out, _ = smoke_run  # resumes the same run folder: cells, audits and synthetic sets are reused
    run_dir = next(p for p in out.iterdir() if (p / "result.json").is_file())
    files = [run_dir / "audits" / f"planted_{t}.json" for t in AUDIT_TRIALS]
    written = [p.stat().st_mtime_ns for p in files]
    caplog.set_level("INFO", logger="mammobench")
    code = main(["--profile", "smoke", "--out", str(out), "--trials", ",".join(AUDIT_TRIALS)])
    text = capsys.readouterr().out
    assert [p.stat().st_mtime_ns for p in files] == written  # each finished audit trial is reused, not recomputed
    assert f"audit trial(s) {', '.join(AUDIT_TRIALS)} reused" in caplog.text
    assert code == 0, text  # the underpowered off_condition row does not count as a disagreement
    assert all(f"planted_{t}" in text for t in AUDIT_TRIALS)
    row = next(line for line in text.splitlines() if line.startswith("planted_off_condition"))
    assert "underpowered" in row and "use --profile quick" in row
