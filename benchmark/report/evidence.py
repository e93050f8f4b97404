"""Read a run folder into the data a report needs, and scrub patient identifiers on the way in.

:func:`load_run` is the one place the report reads files: ``result.json`` (validated),
``predictions.csv``, ``analysis_plan.json``, ``samples/*.npz``, audit evidence files named in the
audit records, ``reader_study/*.json`` and ``manifest.json`` when present. Every string in the
result that contains a ``patient_id`` or ``image_id`` from ``predictions.csv`` is redacted before
any table or figure is built, so no identifier from the input DICOM headers reaches a report.

Conventions read here (documented for the producers):

* ``samples/<arm or generator>.npz``: arrays ``real__<condition>`` and ``synthetic__<condition>``
  (``[k, H, W]`` floats in ``[0, 1]``).
* memorisation audit records: ``evidence.pairs_file`` → npz with ``synthetic``, ``nearest`` (``[k, H, W]``)
  and ``similarity`` (``[k]``); or ``evidence.files`` naming the audits' gallery npz
  (``<space>_synthetic_images``, ``<space>_train_images``, ``<space>_distance``).
* bias audit records: ``evidence.distributions`` = ``{attribute: {"real": {group: share},
  "synthetic": {group: share}}}``, or ``evidence.synthetic`` / ``train`` / ``target`` share mappings
  with the attribute in the check name (``<attribute>_distribution``).
* FROC: ``metrics`` records with ``metric == "froc_sensitivity"`` and an extra ``fpi`` key.

Example:
    >>> scrub({"note": "nearest P0001", "patient_name": "X", "who": "DOE^JANE"}, {"P0001"})
    {'note': 'nearest [redacted]', 'patient_name': '[redacted]', 'who': '[redacted]'}
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mammobench.errors import DataError, SchemaError
from mammobench.io import read_json
from mammobench.report.plan import plan_status
from mammobench.results import load_result

REDACTED = "[redacted]"
ID_COLUMNS = ("patient_id", "image_id", "exam_id")
#: keys whose values are identifiers whatever they contain (DICOM-style and common spellings)
IDENTIFYING_KEY = re.compile(r"patient|person|accession|birth|mrn|physician|operator|institution_?address",
                             re.IGNORECASE)
#: a DICOM person name (PN): family^given[^middle…]
DICOM_PN = re.compile(r"[A-Za-z][A-Za-z'-]*\^[A-Za-z'^-]*[A-Za-z]")


@dataclass
class RunData:
    """Everything a report is built from (already scrubbed of patient identifiers)."""

    run_dir: Path
    result: dict
    predictions: pd.DataFrame
    plan: dict
    samples: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    audit_arrays: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    reader_studies: dict[str, Any] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    n_redacted: int = 0


def _pattern(identifiers: set[str]) -> re.Pattern | None:
    ids = sorted((i for i in identifiers if len(i) >= 3), key=len, reverse=True)
    if not ids:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(i)}(?!\w)" for i in ids))


def scrub(obj: Any, identifiers: set[str] | re.Pattern | None) -> Any:
    """Return ``obj`` with identifiers replaced by ``[redacted]``.

    Redacted: any listed identifier inside a string, any DICOM person name (``FAMILY^GIVEN``),
    and the whole text value of any key that names an identifying field (patient…, accession…,
    birth…); numbers (``n_patients``) and ``*sha256`` hashes under such keys are kept.
    """
    pattern = identifiers if isinstance(identifiers, re.Pattern) or identifiers is None else _pattern(identifiers)
    if isinstance(obj, str):
        return _scrub_text(obj, pattern)
    if isinstance(obj, dict):
        return {scrub(k, pattern): REDACTED if _identifying(k, v) else scrub(v, pattern) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub(v, pattern) for v in obj]
    return obj


@functools.lru_cache(maxsize=1 << 16)
def _scrub_text(text: str, pattern: re.Pattern | None) -> str:
    """One string scrubbed (memoised: a result repeats the same keys and labels thousands of times)."""
    text = DICOM_PN.sub(REDACTED, text) if "^" in text else text
    return pattern.sub(REDACTED, text) if pattern is not None else text


def _identifying(key: Any, value: Any) -> bool:
    """A text value under an identifying key (counts such as n_patients and hashes stay)."""
    if not isinstance(key, str) or not IDENTIFYING_KEY.search(key) or key.endswith(("sha256", "_hash")):
        return False
    return (isinstance(value, str) and value != "") or (
        isinstance(value, list) and any(isinstance(v, str) for v in value))


def _count_redactions(before: Any, after: Any) -> int:
    return str(after).count(REDACTED) - str(before).count(REDACTED)


def identifiers_of(predictions: pd.DataFrame) -> set[str]:
    """Patient, exam and image identifiers listed in the predictions table."""
    out: set[str] = set()
    for col in ID_COLUMNS:
        if col in predictions.columns:
            out |= {str(v) for v in predictions[col].dropna().unique()}
    return out


def read_predictions(run_dir: Path, result: dict) -> pd.DataFrame:
    """``predictions.csv`` as a DataFrame (empty when the run has none)."""
    path = run_dir / (result.get("predictions", {}).get("path") or "predictions.csv")
    if not path.is_file():
        return pd.DataFrame(columns=["split", "arm", "seed", "y_true", "y_score"])
    try:
        return pd.read_csv(path, dtype={c: str for c in ID_COLUMNS})
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"{path}: cannot read predictions ({err}); re-run the evaluation stage") from err


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable .npz archive ({err})") from err


def _inside(run_dir: Path, rel: str) -> Path | None:
    path = (run_dir / rel).resolve()
    return path if path.is_file() and run_dir.resolve() in path.parents else None


def _audit_arrays(run_dir: Path, audits: list[dict]) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for rec in audits:
        ev = rec.get("evidence") or {}
        files = [ev.get("pairs_file")] + list(ev.get("files") or [])
        for rel in files:
            path = _inside(run_dir, rel) if isinstance(rel, str) and rel.endswith(".npz") else None
            if path is not None:
                out[f"{rec['generator']}/{rec['audit']}/{rec['check']}"] = _load_npz(path)
    return out


def _reader_studies(run_dir: Path) -> dict[str, Any]:
    folder = run_dir / "reader_study"
    if not folder.is_dir():
        return {}
    return {p.stem: read_json(p) for p in sorted(folder.glob("*.json"))}


def load_run(run_dir: str | Path) -> RunData:
    """Read every file the report uses from ``run_dir``.

    Raises:
        SchemaError: ``result.json`` is missing or invalid.
        DataError: a predictions or sample file is unreadable.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "result.json").is_file():
        raise SchemaError(f"{run_dir}: no result.json; is this a run folder (runs/<run_id>)?")
    raw = load_result(run_dir / "result.json")
    predictions = read_predictions(run_dir, raw)
    pattern = _pattern(identifiers_of(predictions))
    result = scrub(raw, pattern)
    samples = {p.stem: _load_npz(p) for p in sorted((run_dir / "samples").glob("*.npz"))}
    manifest = read_json(run_dir / "manifest.json") if (run_dir / "manifest.json").is_file() else {}
    return RunData(run_dir=run_dir, result=result, predictions=predictions, plan=scrub(plan_status(run_dir, raw), pattern), samples=samples,
        audit_arrays=_audit_arrays(run_dir, raw["audits"]),
        reader_studies=scrub(_reader_studies(run_dir), pattern), manifest=scrub(manifest, pattern),
        n_redacted=_count_redactions(raw, result))


def partition_counts(predictions: pd.DataFrame, attribute: str) -> dict[str, dict[str, int]]:
    """``{split: {group: n_images}}`` from one seed/arm of the predictions (each image once)."""
    if predictions.empty or attribute not in predictions.columns:
        return {}
    key = [c for c in ("split", "image_id") if c in predictions.columns]
    one = predictions.drop_duplicates(subset=key) if "image_id" in key else predictions
    return {str(s): {str(g): int(n) for g, n in grp[attribute].value_counts().sort_index().items()}
            for s, grp in one.groupby("split")}


def characteristics(predictions: pd.DataFrame, attributes: list[str]) -> list[dict]:
    """Rows ``{attribute, group, <split>: "n (pct%)", ...}`` for the val/test partitions."""
    rows = []
    for attr in attributes:
        counts = partition_counts(predictions, attr)
        groups = sorted({g for c in counts.values() for g in c})
        for group in groups:
            row = {"attribute": attr, "group": group}
            for split, c in counts.items():
                total = sum(c.values()) or 1
                row[split] = f"{c.get(group, 0)} ({100 * c.get(group, 0) / total:.0f}%)"
            rows.append(row)
    return rows


def primary_family(result: dict, arm: str, metric: str) -> list[dict]:
    """The arm's comparisons in the primary test family: records flagged ``primary`` when the producer
    marks families, else the family :mod:`mammobench.evaluation.primary` derives."""
    comps = [c for c in result["comparisons"] if c["arm"] == arm and c["metric"] == metric]
    if any("primary" in c for c in comps):
        return [c for c in comps if c.get("primary")]
    from mammobench.evaluation.primary import primary_comparisons  # loads the evaluation layer (scipy.stats)

    return primary_comparisons(result, arm, metric) or comps
