"""Provenance: signed manifest, verify reports changed/missing/added files, plan freezing."""
from __future__ import annotations

import os

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


# --- trust is a list, not a folder (issue #22.2) -------------------------------------------------------------

def _forge(run, tmp_path, monkeypatch) -> str:
    """Edit a number and re-sign with a self-made key, as a forger would; return the forger's fingerprint."""
    result = run / "result.json"
    result.write_text(result.read_text().replace('"profile": "smoke"', '"profile": "full"'))
    monkeypatch.setenv("MAMMOBENCH_SIGNING_KEY", str(tmp_path / "forger.pem"))
    sign_run(run)
    fingerprint = verify_run(run).key_fingerprint
    monkeypatch.setenv("MAMMOBENCH_SIGNING_KEY", str(tmp_path / "keys" / "k.pem"))  # back to the user's own key
    return fingerprint


@pytest.fixture()
def no_user_trust(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMMOBENCH_TRUSTED_KEYS", str(tmp_path / "trusted_keys.yaml"))  # absent file: empty list
    return tmp_path / "trusted_keys.yaml"


def test_self_signed_forgery_is_not_verified(signed_run, tmp_path, monkeypatch, capsys, no_user_trust):
    fingerprint = _forge(signed_run, tmp_path, monkeypatch)
    report = verify_run(signed_run)
    assert report.intact and report.signature_valid and not report.trusted and not report.ok
    empty = tmp_path / "lb"
    empty.mkdir()
    assert verify_cmd.main([str(signed_run), "--leaderboard", str(empty)]) == verify_cmd.EXIT_UNTRUSTED
    out = capsys.readouterr().out
    assert f"signed by an unknown key {fingerprint}" in out and "verified:" not in out
    assert "integrity: ok" in out and "signature: valid" in out and "trust: NOT TRUSTED" in out
    assert verify_cmd.main([str(signed_run), "--leaderboard", str(empty), "--allow-untrusted"]) == 0
    assert "NOT VERIFIED: signed by an unknown key" in capsys.readouterr().out
    assert verify_cmd.main([str(signed_run), "--leaderboard", str(empty), "--trust", fingerprint]) == 0
    assert f"trust: trusted key {fingerprint} (--trust)" in capsys.readouterr().out
    no_user_trust.write_text(f"trusted_keys:\n  - fingerprint: {fingerprint}\n    owner: a colleague\n")
    assert verify_cmd.main([str(signed_run), "--leaderboard", str(empty)]) == 0
    assert "(a colleague)" in capsys.readouterr().out


def test_own_key_is_trusted_and_project_list_counts(signed_run, tmp_path, capsys, no_user_trust):
    report = verify_run(signed_run)
    assert report.ok and report.trusted_by.startswith("your own signing key")
    lb = tmp_path / "lb"
    lb.mkdir()
    (lb / "display.yaml").write_text(f"trusted_keys: [{report.key_fingerprint}]\n")
    assert verify_run(signed_run, ()).trusted is False  # an explicit empty list trusts nothing
    from mammobench.report.trust import user_trust

    trust = user_trust(include_own=False, project_display=lb / "display.yaml")
    assert verify_run(signed_run, trust).trusted_by.endswith("display.yaml")


@pytest.mark.parametrize("value", ["abc", "AB" * 31, "zz" * 32, "ab" * 32 + "00"])
def test_abbreviated_or_malformed_fingerprint_is_an_error(signed_run, value):
    with pytest.raises(ConfigError, match="not a full key fingerprint"):
        verify_cmd.main([str(signed_run), "--trust", value])


# --- links and special files: reported, never followed or read ----------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("make, expect", [
    (lambda d: os.symlink("/dev/zero", d / "zero.bin"), "zero.bin: symbolic link (not followed)"),
    (lambda d: os.symlink("/etc/passwd", d / "passwd"), "passwd: symbolic link (not followed)"),
    (lambda d: os.symlink(d / "nowhere", d / "dangling"), "dangling: symbolic link (not followed)"),
    (lambda d: os.symlink("/etc", d / "etc"), "etc: symbolic link (not followed)"),
    (lambda d: os.mkfifo(d / "pipe"), "pipe: FIFO (not read)"),
], ids=["dev-zero", "outside-file", "dangling", "outside-folder", "fifo"])
def test_links_and_special_files_are_reported_not_read(signed_run, capsys, make, expect):
    make(signed_run)
    report = verify_run(signed_run)
    assert not report.ok and report.unsafe == [expect] and report.signature_valid
    assert verify_cmd.main([str(signed_run)]) == 1
    out = capsys.readouterr().out
    assert f"unsafe: {expect}" in out and "FAILED" in out


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["manifest.json", "manifest.sig", "signing_key.pub"])
def test_provenance_file_replaced_by_a_link_fails_cleanly(signed_run, capsys, name):
    (signed_run / name).unlink()
    os.symlink("/dev/zero", signed_run / name)
    report = verify_run(signed_run)
    assert not report.ok and not report.signature_valid
    assert verify_cmd.main([str(signed_run)]) == 1
    assert "symbolic link" in capsys.readouterr().out


def test_symlinked_run_folder_verifies_and_dangling_one_fails(signed_run, tmp_path, capsys):
    link = tmp_path / "link_to_run"
    os.symlink(signed_run, link)
    assert verify_run(link).ok and verify_cmd.main([str(link)]) == 0
    dangling = tmp_path / "dangling_run"
    os.symlink(tmp_path / "gone", dangling)
    assert verify_cmd.main([str(dangling)]) == 1
    assert "not a folder (or a dangling link)" in capsys.readouterr().out


def test_signing_refuses_links(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMMOBENCH_SIGNING_KEY", str(tmp_path / "k.pem"))
    run = fake_run_copy(tmp_path)
    os.symlink("/etc/passwd", run / "passwd")
    with pytest.raises(IntegrityError, match="passwd: symbolic link"):
        sign_run(run)
