"""Leaderboard trust and cross-checks: unknown keys and an empty trust list reject bundles; numbers that do not
hang together are rejected even under a trusted key; `verify BUNDLE`; the control's reference row (issue #22.2, #20.4)."""
from __future__ import annotations

import json

import pytest

from mammobench.commands import leaderboard as leaderboard_cmd
from mammobench.commands import submit as submit_cmd
from mammobench.commands import verify as verify_cmd
from mammobench.errors import IntegrityError
from mammobench.leaderboard.build import build_leaderboard
from mammobench.leaderboard.bundle import submit
from mammobench.report.provenance import sign_run
from tests.helpers.leaderboard import key_fingerprint, signed_rendered_run, write_display


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    root = tmp_path_factory.mktemp("keys")
    return {"own": root / "own.pem", "forger": root / "forger.pem"}


@pytest.fixture()
def own_key(keys, monkeypatch, tmp_path):
    monkeypatch.setenv("MAMMOBENCH_SIGNING_KEY", str(keys["own"]))
    monkeypatch.setenv("MAMMOBENCH_TRUSTED_KEYS", str(tmp_path / "no_user_trust.yaml"))
    return key_fingerprint(keys["own"])


@pytest.fixture(scope="module")
def run_template(tmp_path_factory, keys):
    mp = pytest.MonkeyPatch()
    mp.setenv("MAMMOBENCH_SIGNING_KEY", str(keys["own"]))
    run = signed_rendered_run(tmp_path_factory.mktemp("run"))
    mp.undo()
    return run


@pytest.fixture()
def run(tmp_path, run_template, own_key):
    import shutil

    dest = tmp_path / "run"
    shutil.copytree(run_template, dest)
    return dest


def test_empty_trust_list_rejects_every_bundle(run, tmp_path, own_key, capsys):
    write_display(tmp_path / "lb", [])
    submit(run, tmp_path / "lb")
    report = build_leaderboard(tmp_path / "lb")
    assert report.rows == [] and "no trusted keys" in report.rejected[0][1]
    assert leaderboard_cmd.main(["build", "--dir", str(tmp_path / "lb")]) == 1
    out = capsys.readouterr().out
    assert "trusted_keys is empty, so no bundle can be accepted" in out and own_key in out
    assert "lists no trusted keys" in (tmp_path / "lb" / "README.md").read_text()


def test_forged_bundle_by_unknown_key_is_rejected_with_its_fingerprint(run, tmp_path, keys, own_key, capsys):
    write_display(tmp_path / "lb", [own_key])
    result = run / "result.json"
    result.write_text(result.read_text().replace('"simulated": true', '"simulated": false'))
    sign_run(run, keys["forger"])
    forger = key_fingerprint(keys["forger"])
    submit(run, tmp_path / "lb", key_path=keys["forger"], allow_untrusted=True)
    report = build_leaderboard(tmp_path / "lb")
    assert report.rows == [] and report.rejected[0][2] == forger
    assert report.rejected[0][1].startswith(f"signed by an unknown key {forger}")
    for page in ("README.md", "index.html"):
        assert forger in (tmp_path / "lb" / page).read_text()
    bundle = tmp_path / "lb" / "results" / "ddpm@0.3.0" / "vc_malignancy"
    assert verify_cmd.main([str(bundle), "--leaderboard", str(tmp_path / "lb")]) == verify_cmd.EXIT_UNTRUSTED
    assert f"signed by an unknown key {forger}" in capsys.readouterr().out
    assert verify_cmd.main([str(bundle), "--trust", forger]) == 0


def test_submit_refuses_a_run_signed_by_an_unknown_key(run, tmp_path, keys, own_key):
    sign_run(run, keys["forger"])
    with pytest.raises(IntegrityError, match=f"signed by an unknown key {key_fingerprint(keys['forger'])}"):
        submit(run, tmp_path / "lb")
    assert submit_cmd.main([str(run), "--leaderboard", str(tmp_path / "lb"), "--trust",
                            key_fingerprint(keys["forger"])]) == 0


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _overall(data, arm="ddpm_r1"):
    return next(c for c in data["comparisons"] if c["arm"] == arm and c["attribute"] is None)


def _density(data):
    return next(m for m in data["metrics"] if m["arm"] == "real_only" and m["attribute"] == "density"
                and m["split"] == "test")


CORRUPTIONS = {
    "estimate outside its CI": (lambda d: _overall(d).update(estimate=_overall(d)["ci_high"] + 0.2),
                                "outside its CI"),
    "p adjusted below p": (lambda d: _overall(d).update(p_value=0.5, p_adjusted=0.01), "impossible"),
    "significance contradicts p": (lambda d: _overall(d).update(p_adjusted=0.9, p_value=0.5, significant=True),
                                   "significant=True but adjusted p 0.9"),
    "density groups do not add up": (lambda d: _density(d).update(n=_density(d)["n"] + 7), "the density groups hold"),
    "unknown group": (lambda d: _density(d).update(group="E"), "not in the vocabulary"),
    "unknown arm": (lambda d: _overall(d).update(arm="ghost"), "arm 'ghost' is not one of the run's arms"),
    "synthetic count off": (lambda d: d["arms"][1].update(n_synthetic=5), "5 synthetic images for ratio"),
    "counts impossible": (lambda d: _overall(d).update(n_pos=_overall(d)["n"] + 1), "impossible counts"),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_inconsistent_numbers_rejected_even_under_a_trusted_key(run, tmp_path, own_key, name):
    change, expect = CORRUPTIONS[name]
    _edit(run / "result.json", change)
    sign_run(run)
    write_display(tmp_path / "lb", [own_key])
    submit(run, tmp_path / "lb")
    report = build_leaderboard(tmp_path / "lb")
    assert report.rows == [] and "numbers do not hang together" in report.rejected[0][1]
    assert expect in report.rejected[0][1]


def test_control_bundle_is_the_reference_row(run, tmp_path, own_key):
    write_display(tmp_path / "lb", [own_key])
    submit(run, tmp_path / "lb", generator="ddpm")
    path = submit(run, tmp_path / "lb", generator="none")
    assert path.relative_to(tmp_path / "lb").as_posix() == "results/none@1.0/vc_malignancy"
    report = build_leaderboard(tmp_path / "lb")
    assert report.rejected == [] and sorted(r["generator"] for r in report.rows) == ["ddpm", "none"]
    control = next(r for r in report.rows if r["generator"] == "none")
    assert control["delta_text"] == "0 (control)" and control["arm"] == "real_only"
    assert control["value_text"] != "–"
