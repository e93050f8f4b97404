"""The run result schema (``result.json``): tidy records with a ``schema_version``.

A run folder holds ``result.json`` (this schema), ``predictions.csv`` (one row per case × arm ×
seed × split) and the artefacts listed in the signed ``manifest.json``. Reports and the
leaderboard are pure functions of these files.

Top-level keys (all required unless marked optional):

================  ==========================================================================
schema_version    "1.2" (1.0 and 1.1 files are still read: :func:`load_result` upgrades them in memory)
run_id            folder name of the run
created           ISO-8601 UTC time the result was written
simulated         true when the cohort is the built-in virtual cohort (always labelled)
benchmark         {version, git_sha}
task              {name, version, config_sha256, kind, positive, description}
cohort            {adapter, root, manifest_sha256, n_images, n_patients, flow: [...], splits: {...}}
analysis_plan     {sha256, path, written_before_test_read: bool}
profile           smoke | quick | full
seeds             list of training seeds
arms              [{arm, generator, ratio, n_real, n_synthetic, generator_card: {...}}]
environment       {python, platform, torch, timm, device, cpu_count, packages: {...}}
metrics           [{metric, split, arm, attribute, group, value, ci_low, ci_high, n, n_pos,
                    status, seed}]  attribute/group null = overall; seed null = pooled over seeds
comparisons       [{metric, arm, control, attribute, group, estimate, ci_low, ci_high, p_value,
                    p_adjusted, adjustment, significant, threshold, borderline, method, family,
                    primary, n, n_pos}]
                    family: patient_bootstrap | delong_conditional | seeds_as_readers (the
                    multiplicity family); primary: true for the primary test (:func:`mark_primary`);
                    threshold: the α p_adjusted is compared with; borderline: p_adjusted within the
                    machine-to-machine tolerance of it (mammobench.stats.margin)
fairness          [{metric, arm, attribute, kind, value, ci_low, ci_high, group, delta_vs_control,
                    delta_ci_low, delta_ci_high}]
interactions      [{metric, arm, attribute, kind (subgroup_gap | effect_modification), statistic, df, p_value,
                    threshold, borderline, method}]
audits            [{generator, audit, check, status, value, threshold, message, evidence}]; a check
                    decided by a p-value adds p_value, alpha and borderline (its decision margin)
timings           {stage: seconds}
cpu_timings       optional: {stage: CPU seconds} (this process + its reaped workers; the budget proxy on a shared machine)
predictions       {path, sha256, n_rows}
selftest          optional: [{trial, expected, observed, agree, status, powered_at, evidence}]; status
                    "underpowered" when the run's profile cannot power the trial (then it does not
                    count as a disagreement), powered_at: the profiles that can
================  ==========================================================================

Schema history: 1.1 adds ``family`` and ``primary`` to every comparison record (before, readers
found the primary test by searching ``method`` for "random readers" or "DeLong"; that text search now
survives only in :func:`upgrade_result`, for 1.0 files). 1.2 adds the decision margin ``threshold`` and
``borderline`` to every comparison record; an upgraded 1.0/1.1 file gets them as null (not recorded:
the file did not say which α it used, and no borderline flag is invented for it).

Example:
    >>> r = minimal_result("demo")
    >>> validate_result(r)["schema_version"]
    '1.2'
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from mammobench.errors import SchemaError
from mammobench.io import atomic_write_json, read_json

SCHEMA_VERSION = "1.2"
READABLE_VERSIONS = ("1.0", "1.1", SCHEMA_VERSION)
REQUIRED_KEYS: dict[str, type | tuple[type, ...]] = {
    "schema_version": str, "run_id": str, "created": str, "simulated": bool, "benchmark": dict,
    "task": dict, "cohort": dict, "analysis_plan": dict, "profile": str, "seeds": list, "arms": list,
    "environment": dict, "metrics": list, "comparisons": list, "fairness": list, "interactions": list,
    "audits": list, "timings": dict, "predictions": dict,
}
METRIC_KEYS = ("metric", "split", "arm", "attribute", "group", "value", "ci_low", "ci_high", "n", "n_pos", "status")
COMPARISON_KEYS = ("metric", "arm", "control", "attribute", "group", "estimate", "ci_low", "ci_high",
                   "p_value", "p_adjusted", "threshold", "borderline", "method", "family", "primary")
#: comparison families, most to least preferred as the primary test of AUC (see evaluation/primary.py)
FAMILIES = ("seeds_as_readers", "delong_conditional", "patient_bootstrap")
AUDIT_KEYS = ("generator", "audit", "check", "status", "message")
AUDIT_STATUSES = ("pass", "warn", "fail", "skip")
PROFILES = ("smoke", "quick", "full")


def utc_now() -> str:
    """Current UTC time, ISO-8601 with a Z."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _check_records(result: dict, key: str, required: tuple[str, ...], source: str) -> None:
    for i, rec in enumerate(result[key]):
        if not isinstance(rec, dict):
            raise SchemaError(f"{source}: {key}[{i}] must be an object")
        missing = [k for k in required if k not in rec]
        if missing:
            raise SchemaError(f"{source}: {key}[{i}] lacks {missing}; every {key} record needs {list(required)}")


def validate_result(result: Any, *, source: str = "result.json") -> dict:
    """Validate a result mapping against schema 1.0 and return it.

    Raises:
        SchemaError: naming the first missing/mistyped key and what was expected.
    """
    if not isinstance(result, dict):
        raise SchemaError(f"{source}: top level must be a JSON object")
    version = result.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SchemaError(f"{source}: schema_version {version!r} is not supported (expected {SCHEMA_VERSION!r})")
    for key, typ in REQUIRED_KEYS.items():
        if key not in result:
            raise SchemaError(f"{source}: missing key '{key}'")
        if not isinstance(result[key], typ):
            raise SchemaError(f"{source}: '{key}' must be {getattr(typ, '__name__', typ)}, "
                              f"got {type(result[key]).__name__}")
    if result["profile"] not in PROFILES:
        raise SchemaError(f"{source}: profile {result['profile']!r} not in {list(PROFILES)}")
    _check_records(result, "metrics", METRIC_KEYS, source)
    _check_records(result, "comparisons", COMPARISON_KEYS, source)
    _check_records(result, "audits", AUDIT_KEYS, source)
    for i, rec in enumerate(result["comparisons"]):
        if rec["family"] not in FAMILIES or not isinstance(rec["primary"], bool):
            raise SchemaError(f"{source}: comparisons[{i}]: family {rec['family']!r} must be one of {list(FAMILIES)} "
                              f"and primary ({rec['primary']!r}) true or false")
        if rec["borderline"] not in (True, False, None) or not (rec["threshold"] is None or (
                isinstance(rec["threshold"], (int, float)) and 0 < rec["threshold"] < 1)):
            raise SchemaError(f"{source}: comparisons[{i}]: borderline ({rec['borderline']!r}) must be true, false or "
                              f"null and threshold ({rec['threshold']!r}) an alpha in (0, 1) or null")
    for i, rec in enumerate(result["audits"]):
        if rec["status"] not in AUDIT_STATUSES:
            raise SchemaError(f"{source}: audits[{i}].status {rec['status']!r} not in {list(AUDIT_STATUSES)}")
    return result


def _primary_family(records: list[dict], metric: str) -> str | None:
    present = {r["family"] for r in records}
    # wAFROC (detection): the same OR-Hillis seeds-as-readers design as the AUC (evaluation/detection_compare.py)
    return next((f for f in (FAMILIES if metric in ("auc", "wafroc") else ("patient_bootstrap",)) if f in present), None)


def mark_primary(records: list[dict], primary_metric: str) -> list[dict]:
    """Set ``primary`` on every comparison record (in place) and return the records.

    Per arm, the records of the primary metric in the arm's primary family get ``primary: True``:
    ``seeds_as_readers`` when the arm has it (AUC, ≥ 2 seeds), else ``delong_conditional`` (AUC),
    else ``patient_bootstrap`` (always for other metrics). See :mod:`mammobench.evaluation.primary`.

    Example:
        >>> recs = mark_primary([{"arm": "a", "metric": "auc", "family": "patient_bootstrap"},
        ...                      {"arm": "a", "metric": "auc", "family": "delong_conditional"}], "auc")
        >>> [r["primary"] for r in recs]
        [False, True]
    """
    by_arm: dict[str, list[dict]] = {}
    for rec in records:
        rec["primary"] = False
        if rec["metric"] == primary_metric:
            by_arm.setdefault(rec["arm"], []).append(rec)
    for recs in by_arm.values():
        family = _primary_family(recs, primary_metric)
        for rec in recs:
            rec["primary"] = rec["family"] == family
    return records


def _family_of_method(method: Any) -> str:
    """Schema 1.0 only: the family named by a comparison's free-text ``method``."""
    text = str(method)
    return ("seeds_as_readers" if "random readers" in text else "delong_conditional" if "DeLong" in text
            else "patient_bootstrap")


def upgrade_result(result: Any) -> Any:
    """A schema-1.0/1.1 result in the current schema; others unchanged.

    1.0 → 1.1: ``family`` and ``primary`` derived from the method text; 1.1 → 1.2: ``threshold`` and
    ``borderline`` set to null (not recorded). The file on disk is not touched (its signature stays valid).
    """
    if not isinstance(result, dict) or result.get("schema_version") not in ("1.0", "1.1"):
        return result
    version = result["schema_version"]
    comps = result.get("comparisons")
    if isinstance(comps, list) and all(isinstance(c, dict) and "metric" in c and "arm" in c for c in comps):
        if version == "1.0":
            for rec in comps:
                rec["family"] = _family_of_method(rec.get("method"))
            task = result.get("task") if isinstance(result.get("task"), dict) else {}
            mark_primary(comps, str(task.get("primary_metric") or "auc"))
        for rec in comps:
            rec.setdefault("threshold", None)
            rec.setdefault("borderline", None)
    return {**result, "schema_version": SCHEMA_VERSION, "upgraded_from": version}


def load_result(path: str | Path) -> dict:
    """Read and validate ``result.json`` (a folder is accepted too); schema-1.0 files are upgraded."""
    path = Path(path)
    if path.is_dir():
        path = path / "result.json"
    data = read_json(path)
    if isinstance(data, dict) and data.get("schema_version") not in READABLE_VERSIONS:
        raise SchemaError(f"{path}: schema_version {data.get('schema_version')!r} is not supported (this version "
                          f"reads {list(READABLE_VERSIONS)}); upgrade mammobench to read newer result files")
    return validate_result(upgrade_result(data), source=str(path))


def write_result(path: str | Path, result: dict) -> None:
    """Validate then write atomically."""
    validate_result(result, source=str(path))
    atomic_write_json(path, result)


def minimal_result(run_id: str) -> dict:
    """A valid, empty result skeleton (used by tests and as the starting point of a run)."""
    return {
        "schema_version": SCHEMA_VERSION, "run_id": run_id, "created": utc_now(), "simulated": True,
        "benchmark": {}, "task": {}, "cohort": {}, "analysis_plan": {}, "profile": "smoke", "seeds": [],
        "arms": [], "environment": {}, "metrics": [], "comparisons": [], "fairness": [], "interactions": [],
        "audits": [], "timings": {}, "predictions": {},
    }
