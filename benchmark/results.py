"""The run result schema (``result.json``): tidy records with a ``schema_version``.

A run folder holds ``result.json`` (this schema), ``predictions.csv`` (one row per case × arm ×
seed × split) and the artefacts listed in the signed ``manifest.json``. Reports and the
leaderboard are pure functions of these files.

Top-level keys (all required unless marked optional):

================  ==========================================================================
schema_version    "1.1" ("1.0" files are still read: 1.1 only adds optional keys)
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
                    p_adjusted, adjustment, significant, method, n, n_pos}]
fairness          [{metric, arm, attribute, kind, value, ci_low, ci_high, group, delta_vs_control,
                    delta_ci_low, delta_ci_high}]
interactions      [{metric, arm, attribute, kind (subgroup_gap | effect_modification), statistic, df, p_value, method}]
audits            [{generator, audit, check, status, value, threshold, message, evidence}]
timings           {stage: seconds}
predictions       {path, sha256, n_rows}
selftest          optional: [{trial, expected, observed, agree, evidence}]
detection         optional (1.1): lesion-detection runs — {hit_criterion, iou_threshold, fpi, fpi_points,
                  thresholds: {arm: {seed: τ}}, chosen_on: "val", excluded_positive_without_boxes, ...};
                  their metrics add wafroc, froc_sensitivity (key fpi), cpm, lesion_sensitivity,
                  false_marks_per_image (docs/detection.md)
================  ==========================================================================

Example:
    >>> r = minimal_result("demo")
    >>> validate_result(r)["schema_version"]
    '1.1'
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from mammobench.errors import SchemaError
from mammobench.io import atomic_write_json, read_json

SCHEMA_VERSION = "1.1"
READABLE_VERSIONS = ("1.0", "1.1")  # minor versions only add optional keys
REQUIRED_KEYS: dict[str, type | tuple[type, ...]] = {
    "schema_version": str, "run_id": str, "created": str, "simulated": bool, "benchmark": dict,
    "task": dict, "cohort": dict, "analysis_plan": dict, "profile": str, "seeds": list, "arms": list,
    "environment": dict, "metrics": list, "comparisons": list, "fairness": list, "interactions": list,
    "audits": list, "timings": dict, "predictions": dict,
}
METRIC_KEYS = ("metric", "split", "arm", "attribute", "group", "value", "ci_low", "ci_high", "n", "n_pos", "status")
COMPARISON_KEYS = ("metric", "arm", "control", "attribute", "group", "estimate", "ci_low", "ci_high",
                   "p_value", "p_adjusted", "method")
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
    """Validate a result mapping against schema 1.1 (or 1.0) and return it.

    Raises:
        SchemaError: naming the first missing/mistyped key and what was expected.
    """
    if not isinstance(result, dict):
        raise SchemaError(f"{source}: top level must be a JSON object")
    version = result.get("schema_version")
    if version not in READABLE_VERSIONS:
        raise SchemaError(f"{source}: schema_version {version!r} is not supported (readable: {list(READABLE_VERSIONS)})")
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
    for i, rec in enumerate(result["audits"]):
        if rec["status"] not in AUDIT_STATUSES:
            raise SchemaError(f"{source}: audits[{i}].status {rec['status']!r} not in {list(AUDIT_STATUSES)}")
    return result


def load_result(path: str | Path) -> dict:
    """Read and validate ``result.json`` (a folder is accepted too)."""
    path = Path(path)
    if path.is_dir():
        path = path / "result.json"
    return validate_result(read_json(path), source=str(path))


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
