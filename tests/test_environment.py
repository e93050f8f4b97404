"""One environment / git-SHA collector: result.json, the signed manifest and perf record the same commit."""
from __future__ import annotations

import subprocess

from mammobench import environment as envmod
from mammobench.environment import code_version, environment, git_sha, package_versions, source_checkout
from mammobench.io import read_json
from mammobench.perf.machine import machine_info
from mammobench.report.provenance import sign_run
from tests.helpers.run_fixture import fake_run_copy


def test_checkout_commit_matches_git():
    root = source_checkout()
    if root is None:  # running against an installed wheel: no checkout, no commit
        assert git_sha() == ""
        return
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert git_sha().removesuffix("-dirty") == head


def test_result_manifest_and_perf_record_one_commit(tmp_path, monkeypatch):
    monkeypatch.setenv("MAMMOBENCH_SIGNING_KEY", str(tmp_path / "keys" / "k.pem"))
    # a checkout with local changes, as the one collector sees it; every record must show exactly this
    monkeypatch.setattr(envmod, "source_checkout", lambda: tmp_path)
    monkeypatch.setattr(envmod, "_git", lambda root, *args: "f" * 40 if args[0] == "rev-parse" else " M x.py")
    git_sha.cache_clear()
    run = fake_run_copy(tmp_path)
    try:
        sign_run(run)
        signer, code, perf = read_json(run / "manifest.json")["signer"], code_version(), machine_info()
    finally:
        git_sha.cache_clear()
    assert signer["git_sha"] == code["git_sha"] == perf["git_sha"] == "f" * 40 + "-dirty"
    assert signer["packages"] == environment("cpu")["packages"] == package_versions()
    assert {"numpy", "torch", "mammobench"} <= set(signer["packages"])
