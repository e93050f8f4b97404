"""Leaderboard result bundles: ``submit(run_dir, leaderboard_dir)`` packages a signed, verified run.

A bundle lives in ``leaderboard/results/<generator>@<version>/<task>/`` and holds:

* ``result.json`` — the run's result with patient identifiers redacted (see report.evidence.scrub);
* ``report.json``, ``report.md``, ``report.html`` — the run's rendered report;
* ``run_manifest.json`` + ``run_manifest.sig`` — the run's own signed manifest (ties the bundle to the run);
* ``generator_card.json`` — the submitted generator's card as recorded in the run;
* ``bundle.json`` — schema, generator, version, task, SHA-256 of every bundle file, the run's
  result.json hash and the number of redactions; ``bundle.sig`` its Ed25519 signature;
  ``signing_key.pub`` the public key.

Example:
    >>> path = submit("runs/quick-2026-01-01", "leaderboard")  # doctest: +SKIP
    >>> path.parts[-2:]  # doctest: +SKIP
    ('ddpm@0.3.0', 'vc_malignancy')
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from mammobench.errors import IntegrityError, LeakageError, SchemaError
from mammobench.io import atomic_write_bytes, atomic_write_json, read_json, sha256_bytes, sha256_file, to_json_text
from mammobench.report.evidence import identifiers_of, read_predictions, scrub
from mammobench.report.provenance import MANIFEST, SIGNATURE, load_or_create_key, public_pem, verify_run
from mammobench.results import load_result

BUNDLE_SCHEMA = "1.0"
BUNDLE_FILE, BUNDLE_SIG, BUNDLE_KEY = "bundle.json", "bundle.sig", "signing_key.pub"
REPORT_FILES = ("report.json", "report.md", "report.html")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def training_data_problem(card: dict, result: dict) -> str:
    """Reject a generator whose declared training data includes the task's test set (or the whole dataset)."""
    dataset = str(result["cohort"].get("adapter") or "")
    task = str(result["task"].get("name") or "")
    for entry in card.get("training_data") or []:
        name, _, split = str(entry).partition(":")
        if name in (dataset, task) and split in ("", "test", "*", "all"):
            return (f"generator card declares training data '{entry}', which includes the test split of "
                    f"'{dataset or task}' used by this task")
    names = {card.get("name")} | {a["arm"] for a in result["arms"] if a.get("generator") == card.get("name")}
    leaks = [a for a in result["audits"] if a["audit"] == "leakage" and a["status"] == "fail"
             and a["generator"] in names]
    if leaks:
        return f"leakage audit failed: {leaks[0]['check']}: {leaks[0]['message']}"
    return ""


def submitted_arm(result: dict, generator: str | None = None) -> dict:
    """The arm whose generator is submitted (the one using synthetic data, or the one named).

    Raises:
        SchemaError: no synthetic arm, or several generators and none named.
    """
    arms = [a for a in result["arms"] if (a.get("n_synthetic") or 0) > 0 and a.get("generator_card")]
    names = sorted({a["generator"] for a in arms})
    if generator is not None:
        arms = [a for a in arms if a["generator"] == generator]
        if not arms:
            raise SchemaError(f"result.json: no synthetic arm uses generator '{generator}'; generators: {names}")
    elif len(names) != 1:
        raise SchemaError(f"result.json: expected one submitted generator, found {names or 'none'}; "
                          "name it with --generator")
    return arms[0]


def bundle_path(leaderboard_dir: str | Path, card: dict, task: str) -> Path:
    """``results/<generator>@<version>/<task>`` with every part checked to be a safe folder name."""
    for label, value in (("generator name", card.get("name")), ("generator version", card.get("version")),
                         ("task name", task)):
        if not isinstance(value, str) or not SAFE_NAME.match(value):
            raise SchemaError(f"{label} {value!r} cannot name a leaderboard folder (letters, digits, . _ + - only)")
    return Path(leaderboard_dir) / "results" / f"{card['name']}@{card['version']}" / task


def _copy_inputs(run_dir: Path, dest: Path, result: dict, card: dict) -> int:
    pattern_ids = identifiers_of(read_predictions(run_dir, result))
    clean = scrub(result, pattern_ids)
    redactions = to_json_text(clean).count("[redacted]") - to_json_text(result).count("[redacted]")
    atomic_write_json(dest / "result.json", clean)
    atomic_write_json(dest / "generator_card.json", card)
    for name in REPORT_FILES:
        if (run_dir / name).is_file():
            atomic_write_bytes(dest / name, (run_dir / name).read_bytes())
    atomic_write_bytes(dest / "run_manifest.json", (run_dir / MANIFEST).read_bytes())
    atomic_write_bytes(dest / "run_manifest.sig", (run_dir / SIGNATURE).read_bytes())
    return redactions


def submit(run_dir: str | Path, leaderboard_dir: str | Path, *, generator: str | None = None,
           key_path: str | Path | None = None) -> Path:
    """Verify a signed run and package it as a signed leaderboard bundle; return the bundle folder.

    Raises:
        IntegrityError: the run is unsigned, tampered with, or has no rendered report.
        LeakageError: the generator's card declares the task's test data, or its leakage audit failed
            (the rule the leaderboard build applies, checked before anything is written).
        SchemaError: invalid result.json or no/ambiguous submitted generator.
    """
    run_dir = Path(run_dir)
    check = verify_run(run_dir)
    if not check.ok:
        raise IntegrityError(f"{run_dir}: run does not verify ({'; '.join(check.lines()) or check.reason}); "
                             "only an intact signed run can be submitted")
    if not (run_dir / "report.json").is_file():
        raise IntegrityError(f"{run_dir}: no report.json; run `mammobench report {run_dir}` first")
    result = load_result(run_dir / "result.json")
    card = submitted_arm(result, generator)["generator_card"]
    problem = training_data_problem(card, result)
    if problem:
        raise LeakageError(f"{run_dir}: {problem}; a generator that saw the test data cannot be submitted")
    dest = bundle_path(leaderboard_dir, card, result["task"].get("name", ""))
    if dest.exists():
        shutil.rmtree(dest)  # a re-submission of the same generator version and task replaces the bundle
    dest.mkdir(parents=True)
    redactions = _copy_inputs(run_dir, dest, result, card)
    key = load_or_create_key(key_path)
    files = {p.name: sha256_file(p) for p in sorted(dest.iterdir()) if p.is_file()}
    body = to_json_text({"bundle_schema": BUNDLE_SCHEMA, "generator": card["name"], "version": card["version"],
                         "task": result["task"].get("name"), "run_id": result["run_id"],
                         "run_result_sha256": sha256_file(run_dir / "result.json"), "redactions": redactions,
                         "key_fingerprint": sha256_bytes(public_pem(key)), "files": files}).encode("utf-8")
    atomic_write_bytes(dest / BUNDLE_FILE, body)
    atomic_write_bytes(dest / BUNDLE_SIG, key.sign(body).hex().encode("ascii") + b"\n")
    atomic_write_bytes(dest / BUNDLE_KEY, public_pem(key))
    return dest
