"""Leaderboard result bundles: ``submit(run_dir, leaderboard_dir)`` packages a signed, verified run.

A bundle lives in ``leaderboard/results/<generator>@<version>/<task>/`` and holds:

* ``result.json`` — the run's result with patient identifiers redacted (see report.evidence.scrub);
* ``report.json``, ``report.md``, ``report.html`` — the run's rendered report;
* ``run_manifest.json`` — the run's signed manifest (ties the bundle to the run's files), and
  ``run_manifest.sig`` — the submitter's signature of those exact bytes (the submitter vouches for
  the run; the run's own signer is recorded as ``run_key_fingerprint``);
* ``generator_card.json`` — the submitted generator's card as recorded in the run (the control
  ``none`` has its registered card);
* ``bundle.json`` — schema, generator, version, task, SHA-256 of every bundle file, the run's
  result.json hash, the number of redactions and both key fingerprints; ``bundle.sig`` its Ed25519
  signature; ``signing_key.pub`` the submitter's public key.

The run must be intact, validly signed and signed by a trusted key (your own, or one in your trust
list); the bundle is signed with your key (``--key``, ``MAMMOBENCH_SIGNING_KEY`` or
``~/.config/mammobench/signing_key.pem``). The leaderboard ranks it once that key's fingerprint is in
``leaderboard/display.yaml`` ``trusted_keys`` (docs/leaderboard.md).

Example:
    >>> path = submit("runs/vc_lesion-quick", "leaderboard", generator="ddpm")  # doctest: +SKIP
    >>> path.parts[-2:]  # doctest: +SKIP
    ('ddpm@0.3.0', 'vc_lesion')
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from mammobench.errors import IntegrityError, LeakageError, SchemaError
from mammobench.io import atomic_write_bytes, atomic_write_json, read_json, sha256_file, to_json_text
from mammobench.report.artefacts import read_regular_file
from mammobench.report.evidence import identifiers_of, read_predictions, scrub
from mammobench.report.provenance import MANIFEST, fingerprint_of, load_or_create_key, public_pem, verify_run
from mammobench.report.trust import HOW_TO_TRUST, TrustList, user_trust
from mammobench.results import load_result

BUNDLE_SCHEMA = "1.1"  # 1.1: run_manifest.sig by the submitter, run_key_fingerprint
BUNDLE_FILE, BUNDLE_SIG, BUNDLE_KEY = "bundle.json", "bundle.sig", "signing_key.pub"
REPORT_FILES = ("report.json", "report.md", "report.html")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def control_card(result: dict) -> dict:
    """The card of the control generator (``none``): the arm's recorded card, else the registered one."""
    arm = next((a for a in result["arms"] if (a.get("n_synthetic") or 0) == 0), None)
    if arm is None:
        raise SchemaError("result.json: no control arm (an arm without synthetic images)")
    if arm.get("generator_card"):
        return arm["generator_card"]
    from mammobench.generators import get_generator

    return get_generator(arm["generator"]).card.to_dict()


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

    Naming the control's generator (``none``) submits the control arm itself, a reference row.

    Raises:
        SchemaError: no synthetic arm, or several generators and none named.
    """
    control = [a for a in result["arms"] if (a.get("n_synthetic") or 0) == 0]
    if generator is not None and any(a["generator"] == generator for a in control):
        arm = next(a for a in control if a["generator"] == generator)
        return {**arm, "generator_card": control_card(result)}
    arms = [a for a in result["arms"] if (a.get("n_synthetic") or 0) > 0 and a.get("generator_card")]
    names = sorted({a["generator"] for a in arms})
    if generator is not None:
        arms = [a for a in arms if a["generator"] == generator]
        if not arms:
            raise SchemaError(f"result.json: no arm uses generator '{generator}'; generators: "
                              f"{names + sorted({a['generator'] for a in control})}")
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


def _copy_inputs(run_dir: Path, dest: Path, result: dict, card: dict, key) -> int:
    pattern_ids = identifiers_of(read_predictions(run_dir, result))
    clean = scrub(result, pattern_ids)
    redactions = to_json_text(clean).count("[redacted]") - to_json_text(result).count("[redacted]")
    atomic_write_json(dest / "result.json", clean)
    atomic_write_json(dest / "generator_card.json", card)
    for name in REPORT_FILES:
        if (run_dir / name).is_file():
            atomic_write_bytes(dest / name, read_regular_file(run_dir / name, 1 << 30))
    manifest = read_regular_file(run_dir / MANIFEST)
    atomic_write_bytes(dest / "run_manifest.json", manifest)
    atomic_write_bytes(dest / "run_manifest.sig", key.sign(manifest).hex().encode("ascii") + b"\n")
    return redactions


def _check_run(run_dir: Path, trust: TrustList, allow_untrusted: bool) -> str:
    """The run's signer fingerprint once it is intact and validly signed (and trusted unless allowed)."""
    check = verify_run(run_dir, trust)
    if not (check.intact and check.signature_valid):
        raise IntegrityError(f"{run_dir}: run does not verify ({'; '.join(check.lines()) or check.reason}); "
                             "only an intact signed run can be submitted")
    if not check.trusted and not allow_untrusted:
        raise IntegrityError(f"{run_dir}: signed by an unknown key {check.key_fingerprint}; submit only runs you "
                             f"made or trust ({HOW_TO_TRUST}), or pass --allow-untrusted")
    if not (run_dir / "report.json").is_file():
        raise IntegrityError(f"{run_dir}: no report.json; run `mammobench report {run_dir}` first")
    return check.key_fingerprint


def submit(run_dir: str | Path, leaderboard_dir: str | Path, *, generator: str | None = None,
           key_path: str | Path | None = None, trust: TrustList | None = None,
           allow_untrusted: bool = False) -> Path:
    """Verify a signed run and package it as a bundle signed with the submitter's key; return the bundle folder.

    Args:
        run_dir: a finished, signed run folder.
        leaderboard_dir: the leaderboard folder (bundles go under ``results/``).
        generator: the generator to submit (``none`` submits the control arm as a reference row).
        key_path: the submitter's private key (default: ``MAMMOBENCH_SIGNING_KEY`` or the user's key).
        trust: the trust list for the run's signer (default: the user's list and own key).
        allow_untrusted: accept a run signed by an unknown key (the bundle is still signed by you).

    Raises:
        IntegrityError: the run is unsigned, tampered with, signed by an unknown key, or has no report.
        LeakageError: the generator's card declares the task's test data, or its leakage audit failed
            (the rule the leaderboard build applies, checked before anything is written).
        SchemaError: invalid result.json or no/ambiguous submitted generator.
    """
    run_dir = Path(run_dir)
    key = load_or_create_key(key_path)
    trust = TrustList(dict(trust.keys)) if trust is not None else user_trust()
    trust.keys.setdefault(fingerprint_of(key), "the submission key")
    run_key = _check_run(run_dir, trust, allow_untrusted)
    result = load_result(run_dir / "result.json")
    card = submitted_arm(result, generator)["generator_card"]
    problem = training_data_problem(card, result)
    if problem:
        raise LeakageError(f"{run_dir}: {problem}; a generator that saw the test data cannot be submitted")
    dest = bundle_path(leaderboard_dir, card, result["task"].get("name", ""))
    if dest.exists():
        shutil.rmtree(dest)  # a re-submission of the same generator version and task replaces the bundle
    dest.mkdir(parents=True)
    redactions = _copy_inputs(run_dir, dest, result, card, key)
    files = {p.name: sha256_file(p) for p in sorted(dest.iterdir()) if p.is_file()}
    body = to_json_text({"bundle_schema": BUNDLE_SCHEMA, "generator": card["name"], "version": card["version"],
                         "task": result["task"].get("name"), "run_id": result["run_id"],
                         "run_result_sha256": sha256_file(run_dir / "result.json"), "redactions": redactions,
                         "key_fingerprint": fingerprint_of(key), "run_key_fingerprint": run_key,
                         "files": files}).encode("utf-8")
    atomic_write_bytes(dest / BUNDLE_FILE, body)
    atomic_write_bytes(dest / BUNDLE_SIG, key.sign(body).hex().encode("ascii") + b"\n")
    atomic_write_bytes(dest / BUNDLE_KEY, public_pem(key))
    return dest


def read_bundle(path: str | Path) -> dict:
    """``bundle.json`` of a bundle folder (raises SchemaError when absent or not JSON)."""
    return read_json(Path(path) / BUNDLE_FILE)
