"""Provenance: signed manifest, verify reports changed/missing/added files, plan freezing."""
from __future__ import annotations

import pytest

from mammobench.commands import verify as verify_cmd
from mammobench.errors import ConfigError, IntegrityError
from mammobench.io import read_json
from mammobench.report.plan import check_analysis_plan, write_analysis_plan
from mammobench.report.provenance import sign_run, verify_run
from tests.helpers.run_fixture import PLAN, fake_run_copy


@pytest.fixture()
def signed_run(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMMOBENCH_SIGNING_KEY", str(tmp_path / "keys" / "k.pem"))
    run = fake_run_copy(tmp_path)
    sign_run(run)
    return run


def test_untouched_run_verifies(signed_run, capsys):
    assert verify_run(signed_run).ok
    assert verify_cmd.main([str(signed_run)]) == 0
    assert "verified" in capsys.readouterr().out
    files = read_json(signed_run / "manifest.json")["files"]
    assert "result.json" in files and "samples/ddpm.npz" in files and "predictions.csv" in files


def _flip_one_byte(path, offset):
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("rel", ["result.json", "predictions.csv", "samples/ddpm.npz", "audits/ddpm.json",
                                 "analysis_plan.json", "audits/ddpm_nn_pairs.npz"])
def test_one_byte_change_fails_and_names_file(signed_run, capsys, rel):
    _flip_one_byte(signed_run / rel, 57)
    report = verify_run(signed_run)
    assert not report.ok and report.changed == [rel] and report.signature_valid
    assert verify_cmd.main([str(signed_run)]) == 1
    assert f"changed: {rel}" in capsys.readouterr().out


def test_every_artefact_is_covered(signed_run):
    for rel in read_json(signed_run / "manifest.json")["files"]:
        backup = (signed_run / rel).read_bytes()
        _flip_one_byte(signed_run / rel, len(backup) // 2)
        assert verify_run(signed_run).changed == [rel]
        (signed_run / rel).write_bytes(backup)
    assert verify_run(signed_run).ok


def test_missing_and_added_files(signed_run, capsys):
    (signed_run / "audits" / "ddpm.json").unlink()
    (signed_run / "figures").mkdir()
    (signed_run / "figures" / "extra.png").write_bytes(b"x")
    report = verify_run(signed_run)
    assert report.missing == ["audits/ddpm.json"] and report.added == ["figures/extra.png"]
    assert verify_cmd.main([str(signed_run)]) == 1
    out = capsys.readouterr().out
    assert "missing: audits/ddpm.json" in out and "added: figures/extra.png" in out


def test_manifest_or_signature_tampering(signed_run, tmp_path, monkeypatch):
    manifest = signed_run / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"seeds": [\n    0', '"seeds": [\n    9'))
    report = verify_run(signed_run)
    assert not report.ok and not report.signature_valid and "manifest" in report.reason


def test_resigning_with_another_key_is_caught_by_trust(signed_run, tmp_path, monkeypatch):
    first = verify_run(signed_run).key_fingerprint
    monkeypatch.setenv("MAMMOBENCH_SIGNING_KEY", str(tmp_path / "other.pem"))
    sign_run(signed_run)
    assert verify_run(signed_run).ok
    assert not verify_run(signed_run, (first,)).ok


def test_unsigned_run(tmp_path):
    run = fake_run_copy(tmp_path)
    report = verify_run(run)
    assert not report.ok and "manifest.json not found" in report.reason


def test_plan_frozen_and_hashed(tmp_path):
    sha = write_analysis_plan(tmp_path, PLAN)
    assert write_analysis_plan(tmp_path, dict(PLAN)) == sha  # resume: same plan, same hash
    assert check_analysis_plan(tmp_path, sha)
    with pytest.raises(IntegrityError, match="different frozen analysis plan"):
        write_analysis_plan(tmp_path, {**PLAN, "alpha": 0.1})
    (tmp_path / "analysis_plan.json").write_text((tmp_path / "analysis_plan.json").read_text() + " ")
    assert not check_analysis_plan(tmp_path, sha)


@pytest.mark.parametrize("bad, match", [({"alpha": 1.5}, "alpha"), ({"multiplicity": "magic"}, "multiplicity"),
                                        ({"subgroups": "density"}, "subgroups")])
def test_plan_rejects_bad_values(tmp_path, bad, match):
    with pytest.raises(ConfigError, match=match):
        write_analysis_plan(tmp_path, {**PLAN, **bad})
    assert not (tmp_path / "analysis_plan.json").exists()
