"""Verify one leaderboard bundle: signature, trust, files, schema, ties to the run, training data, numbers.

:func:`verify_bundle` never raises for a bad bundle; it returns a :class:`BundleCheck` whose
``reason`` says why a bundle is rejected and whose ``fingerprint`` names the key that signed it, so
the build can list every rejected bundle. The order of the checks: the bundle signature; trust (the
key's full fingerprint must be in the trust list; an empty list trusts nothing); the run manifest's
signature by the same key; the files (hashes, nothing added or missing, no links or special files);
the result schema; the ties between bundle, result and the signed run manifest; the generator's
declared training data; and the numbers (:mod:`mammobench.leaderboard.crosscheck`).

Example:
    >>> verify_bundle("leaderboard/results/none@0/none", TrustList()).reason  # doctest: +ELLIPSIS
    '...bundle.json...'
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mammobench.errors import IntegrityError, SchemaError
from mammobench.leaderboard.bundle import BUNDLE_FILE, BUNDLE_KEY, BUNDLE_SIG, REPORT_FILES, training_data_problem
from mammobench.leaderboard.crosscheck import result_problems
from mammobench.report.artefacts import read_regular_file, scan_folder
from mammobench.report.provenance import check_signature, compare_files
from mammobench.report.trust import TrustList
from mammobench.results import upgrade_result, validate_result

REQUIRED_FILES = ("result.json", "report.json", "run_manifest.json", "run_manifest.sig", "generator_card.json")
NO_TRUSTED_KEYS = ("no trusted keys: leaderboard/display.yaml trusted_keys is empty, so no bundle can be accepted; "
                   "add the fingerprint of a key you trust by a pull request (docs/leaderboard.md)")


@dataclass
class BundleCheck:
    """A verified bundle's parts (``entry``) or the reason it is rejected, and the signing key's fingerprint."""

    path: Path
    entry: dict | None
    reason: str
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return self.entry is not None


def _json(path: Path) -> dict:
    try:
        return json.loads(read_regular_file(path).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise SchemaError(f"{path.name}: not valid JSON ({err})") from err


def _file_problems(path: Path, bundle: dict) -> str:
    scan = scan_folder(path, skip=(BUNDLE_FILE, BUNDLE_SIG, BUNDLE_KEY))
    actual = {rel: rec for rel, rec in scan.files.items()}
    expected = {k: {"sha256": v} for k, v in bundle.get("files", {}).items()}
    changed, missing, added = compare_files(expected, actual)
    parts = [f"changed: {', '.join(changed)}" if changed else "", f"missing: {', '.join(missing)}" if missing else "",
             f"added: {', '.join(added)}" if added else "", f"unsafe: {'; '.join(scan.problems)}" if scan.problems else ""]
    absent = [f for f in REQUIRED_FILES if f not in expected]
    if absent:
        parts.append(f"bundle lacks {absent}")
    return "; ".join(p for p in parts if p)


def _signature(path: Path, body: bytes, bundle: dict) -> tuple[str, str]:
    """(problem, fingerprint) of the bundle signature."""
    ok, reason, fingerprint = check_signature(body, path / BUNDLE_SIG, path / BUNDLE_KEY)
    if not ok:
        return f"bundle signature invalid: {reason}", fingerprint
    if bundle.get("key_fingerprint") != fingerprint:
        return "bundle signing key does not match the fingerprint in bundle.json", fingerprint
    return "", fingerprint


def _trust_problem(fingerprint: str, trust: TrustList) -> str:
    if not trust:
        return NO_TRUSTED_KEYS
    if trust.source(fingerprint) is None:
        return (f"signed by an unknown key {fingerprint}; a key is trusted by a pull request adding its fingerprint "
                "to leaderboard/display.yaml trusted_keys")
    return ""


def _tie_problems(path: Path, bundle: dict, result: dict) -> str:
    manifest = _json(path / "run_manifest.json")
    signed = (manifest.get("files") or {}).get("result.json", {}).get("sha256")
    if signed != bundle.get("run_result_sha256"):
        return "result.json hash differs from the one in the signed run manifest"
    if not bundle.get("redactions") and bundle["files"].get("result.json") != signed:
        return "result.json is not the signed run's result.json"
    for name in REPORT_FILES:
        rec = (manifest.get("files") or {}).get(name)
        if name in bundle["files"] and rec and bundle["files"][name] != rec["sha256"]:
            return f"{name} is not the signed run's {name}"
    expected = (f"{bundle.get('generator')}@{bundle.get('version')}", str(bundle.get("task")))
    if (path.parent.name, path.name) != expected:
        return f"bundle folder {path.parent.name}/{path.name} does not match {expected[0]}/{expected[1]}"
    if result["task"].get("name") != bundle.get("task"):
        return f"result task {result['task'].get('name')!r} differs from bundle task {bundle.get('task')!r}"
    if result.get("run_id") != manifest.get("run_id") or bundle.get("run_id") != result.get("run_id"):
        return "run_id differs between bundle.json, result.json and the signed run manifest"
    return ""


def _content(path: Path, bundle: dict) -> tuple[dict | None, str]:
    result = validate_result(upgrade_result(_json(path / "result.json")), source=f"{path.name}/result.json")
    card, report = _json(path / "generator_card.json"), _json(path / "report.json")
    if card.get("name") != bundle.get("generator") or str(card.get("version")) != str(bundle.get("version")):
        return None, "generator_card.json names another generator or version than bundle.json"
    problem = _tie_problems(path, bundle, result) or training_data_problem(card, result)
    if problem:
        return None, problem
    numbers = result_problems(result, card, (report.get("plan") or {}).get("plan") or {})
    if numbers:
        return None, "numbers do not hang together: " + "; ".join(numbers)
    return {"bundle": bundle, "result": result, "report": report, "card": card, "path": path}, ""


def verify_bundle(path: str | Path, trust: TrustList) -> BundleCheck:
    """Check a bundle folder against a trust list; see the module docstring for the checks."""
    path = Path(path)
    fingerprint = ""
    try:
        body = read_regular_file(path / BUNDLE_FILE)
        bundle = json.loads(body.decode("utf-8"))
        if not isinstance(bundle, dict) or not isinstance(bundle.get("files"), dict):
            raise SchemaError("bundle.json: not a bundle description")
        problem, fingerprint = _signature(path, body, bundle)
        problem = problem or _trust_problem(fingerprint, trust)
        if not problem:
            run_ok, run_reason, _ = check_signature(read_regular_file(path / "run_manifest.json"),
                                                    path / "run_manifest.sig", path / BUNDLE_KEY)
            problem = "" if run_ok else f"run manifest signature invalid: {run_reason}"
        problem = "; ".join(p for p in (problem, _file_problems(path, bundle)) if p)
        if problem:
            return BundleCheck(path, None, problem, fingerprint)
        entry, problem = _content(path, bundle)
        return BundleCheck(path, entry, problem, fingerprint)
    except (SchemaError, IntegrityError, OSError, UnicodeDecodeError, ValueError, AttributeError, TypeError,
            KeyError, RecursionError) as err:
        return BundleCheck(path, None, f"unreadable bundle: {err}", fingerprint)
