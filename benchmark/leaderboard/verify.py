"""Verify one leaderboard bundle: hashes, signatures, schema, and declared training data vs test set.

:func:`verify_bundle` never raises for a bad bundle; it returns ``(None, reason)`` so the build can
list every rejected bundle with its reason.

Example:
    >>> verify_bundle("leaderboard/results/none@0/none")[1]  # doctest: +ELLIPSIS
    '...bundle.json...'
"""
from __future__ import annotations

from pathlib import Path

from mammobench.errors import SchemaError
from mammobench.io import read_json, sha256_file
from mammobench.leaderboard.bundle import BUNDLE_FILE, BUNDLE_KEY, BUNDLE_SIG, REPORT_FILES, training_data_problem
from mammobench.report.provenance import check_signature, compare_files
from mammobench.results import upgrade_result, validate_result

REQUIRED_FILES = ("result.json", "report.json", "run_manifest.json", "run_manifest.sig", "generator_card.json")


def _file_problems(path: Path, bundle: dict) -> str:
    actual = {p.name: {"sha256": sha256_file(p)} for p in sorted(path.iterdir())
              if p.is_file() and p.name not in (BUNDLE_FILE, BUNDLE_SIG, BUNDLE_KEY)}
    expected = {k: {"sha256": v} for k, v in bundle.get("files", {}).items()}
    changed, missing, added = compare_files(expected, actual)
    parts = [f"changed: {', '.join(changed)}" if changed else "", f"missing: {', '.join(missing)}" if missing else "",
             f"added: {', '.join(added)}" if added else ""]
    absent = [f for f in REQUIRED_FILES if f not in expected]
    if absent:
        parts.append(f"bundle lacks {absent}")
    return "; ".join(p for p in parts if p)


def _signature_problems(path: Path, bundle: dict, trusted: tuple[str, ...]) -> str:
    body = (path / BUNDLE_FILE).read_bytes()
    ok, reason, fingerprint = check_signature(body, path / BUNDLE_SIG, path / BUNDLE_KEY)
    if not ok:
        return f"bundle signature invalid: {reason}"
    if bundle.get("key_fingerprint") != fingerprint:
        return "bundle signing key does not match the fingerprint in bundle.json"
    if trusted and fingerprint not in trusted:
        return f"bundle signed by untrusted key {fingerprint[:16]}… (display.yaml trusted_keys)"
    run_ok, run_reason, _ = check_signature((path / "run_manifest.json").read_bytes(), path / "run_manifest.sig",
                                            path / BUNDLE_KEY)
    return "" if run_ok else f"run manifest signature invalid: {run_reason}"


def _tie_problems(path: Path, bundle: dict, result: dict) -> str:
    manifest = read_json(path / "run_manifest.json")
    signed = (manifest.get("files") or {}).get("result.json", {}).get("sha256")
    if signed != bundle.get("run_result_sha256"):
        return "result.json hash differs from the one in the signed run manifest"
    if not bundle.get("redactions") and sha256_file(path / "result.json") != signed:
        return "result.json is not the signed run's result.json"
    for name in REPORT_FILES:
        rec = (manifest.get("files") or {}).get(name)
        if (path / name).is_file() and rec and sha256_file(path / name) != rec["sha256"]:
            return f"{name} is not the signed run's {name}"
    expected = (f"{bundle.get('generator')}@{bundle.get('version')}", str(bundle.get("task")))
    if (path.parent.name, path.name) != expected:
        return f"bundle folder {path.parent.name}/{path.name} does not match {expected[0]}/{expected[1]}"
    if result["task"].get("name") != bundle.get("task"):
        return f"result task {result['task'].get('name')!r} differs from bundle task {bundle.get('task')!r}"
    return ""


def verify_bundle(path: str | Path, trusted: tuple[str, ...] = ()) -> tuple[dict | None, str]:
    """``({"bundle", "result", "report", "card", "path"}, "")`` for a valid bundle, else ``(None, reason)``."""
    path = Path(path)
    try:
        bundle = read_json(path / BUNDLE_FILE)
        problem = "; ".join(p for p in (_signature_problems(path, bundle, trusted), _file_problems(path, bundle)) if p)
        if problem:
            return None, problem
        result = validate_result(upgrade_result(read_json(path / "result.json")), source=f"{path.name}/result.json")
        card = read_json(path / "generator_card.json")
        problem = _tie_problems(path, bundle, result) or training_data_problem(card, result)
        if problem:
            return None, problem
        return {"bundle": bundle, "result": result, "report": read_json(path / "report.json"), "card": card,
                "path": path}, ""
    except (SchemaError, OSError, AttributeError, TypeError, KeyError) as err:
        return None, f"unreadable bundle: {err}"
