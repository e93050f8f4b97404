"""Compare every reported number of two runs of one protocol, with tolerances from the run's own seed-to-seed variance.

A reproduced run on another machine (other CPU, BLAS, thread count) gives slightly different floats,
and training amplifies them. How much a number may move is measured, not guessed: each training seed
is evaluated on its own (:func:`per_seed_spread`), and the between-seed standard deviation ``SD`` of a
quantity sets its tolerance

    tolerance = k × max(SD, median SD of its family) / sqrt(n_seeds)

(``k`` = 3 by default; a *family* is all values of one field of one record kind, e.g. every
comparison's ``ci_low``). The pooled number is a mean over ``n_seeds`` seeds, so ``SD / sqrt(n_seeds)``
is its own seed-to-seed standard error; the family median keeps a quantity whose few seeds agreed by
chance from getting a zero tolerance. Counts (``n``, ``n_pos``, ``df``, ``family_size``) must be
equal. Audit numbers do not depend on the training seeds: they get a relative tolerance
(``audit_rel``, default 5 %). Verdicts (each comparison's significance, each record's status, each
audit's status, each arm's summary call) must be identical.

Example:
    >>> rows = compare_records({"metrics": [{"metric": "auc", "arm": "a", "value": 0.80, "n": 10}]},
    ...                        {"metrics": [{"metric": "auc", "arm": "a", "value": 0.81, "n": 10}]},
    ...                        spread={("metrics", "value"): {"": 0.02}}, n_seeds=4)
    >>> [(r["field"], round(r["tolerance"], 3), r["within"]) for r in rows]
    [('n', 0.0, True), ('value', 0.03, True)]
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any

import pandas as pd

KINDS = ("metrics", "comparisons", "fairness", "interactions", "audits")
IDENTITY = {"metrics": ("metric", "split", "arm", "attribute", "group", "seed", "fpi"),
            "comparisons": ("metric", "arm", "control", "attribute", "group", "method"),
            "fairness": ("metric", "arm", "attribute", "kind"),
            "interactions": ("metric", "arm", "attribute", "kind", "method"),
            "audits": ("generator", "audit", "check")}
EXACT = {"n", "n_pos", "df", "family_size", "seed", "fpi"}
VERDICT_FIELDS = ("significant", "status")
PER_SEED_MAX_BOOT = 200  # per-seed evaluations only need point estimates' spread; CIs settle well before this


def _key(kind: str, record: dict) -> str:
    fields = IDENTITY[kind] + (("group",) if kind == "fairness" and record.get("kind") == "per_group" else ())
    return " ".join(f"{f}={record[f]}" for f in fields if record.get(f) is not None)


def _numbers(kind: str, record: dict) -> dict[str, float]:
    skip = set(IDENTITY[kind]) | {"group"}
    return {k: float(v) for k, v in sorted(record.items()) if k not in skip and isinstance(v, (int, float))
            and not isinstance(v, bool)}


def index_records(result: dict) -> dict[tuple[str, str], dict]:
    """``{(kind, identity): record}`` for every record of the result (first one wins on a clash)."""
    out: dict[tuple[str, str], dict] = {}
    for kind in KINDS:
        for record in result.get(kind) or []:
            out.setdefault((kind, _key(kind, record)), record)
    return out


def per_seed_spread(predictions: pd.DataFrame, plan: dict) -> tuple[dict, int]:
    """Between-seed SD of every number: ``{(kind, field): {identity: SD}}`` and the number of seeds.

    Each training seed's predictions are evaluated on their own with the frozen plan (bootstrap
    resamples capped at ``PER_SEED_MAX_BOOT``).
    """
    from mammobench.evaluation import evaluate_run

    seeds = sorted(predictions["seed"].unique())
    plan = {**plan, "n_boot": min(int(plan.get("n_boot") or PER_SEED_MAX_BOOT), PER_SEED_MAX_BOOT)}
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for seed in seeds:
        evaluation = evaluate_run(predictions[predictions["seed"] == seed], plan)
        for (kind, key), record in index_records(evaluation).items():
            for field, value in _numbers(kind, record).items():
                if math.isfinite(value):
                    values[(kind, field, key)].append(value)
    spread: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for (kind, field, key), vals in values.items():
        if len(vals) == len(seeds) >= 2:
            spread[(kind, field)][key] = statistics.stdev(vals)
    return dict(spread), len(seeds)


def _tolerance(kind: str, field: str, key: str, original: float, spread: dict, n_seeds: int, k: float,
               audit_rel: float) -> float:
    if field in EXACT:
        return 0.0
    if kind == "audits":
        return max(1e-9, audit_rel * abs(original))
    family = spread.get((kind, field)) or {}
    median = statistics.median(family.values()) if family else 0.0
    sd = max(family.get(key, 0.0), median)
    return max(1e-9, k * sd / math.sqrt(max(n_seeds, 1)))


def _row(kind, key, field, a, b, tol) -> dict[str, Any]:
    both_missing = a is None and b is None
    diff = None if a is None or b is None else b - a
    within = both_missing or (diff is not None and (abs(diff) <= tol or (math.isnan(a) and math.isnan(b))))
    return {"kind": kind, "record": key, "field": field, "original": a, "reproduced": b, "difference": diff,
            "tolerance": tol, "within": bool(within)}


def compare_records(original: dict, reproduced: dict, *, spread: dict, n_seeds: int, k: float = 3.0,
                    audit_rel: float = 0.05) -> list[dict]:
    """One row per number of either result: original, reproduced, difference, tolerance, within."""
    left, right = index_records(original), index_records(reproduced)
    rows = []
    for ident in sorted(set(left) | set(right)):
        kind, key = ident
        a, b = left.get(ident), right.get(ident)
        na, nb = (_numbers(kind, a) if a else {}), (_numbers(kind, b) if b else {})
        for field in sorted(set(na) | set(nb)):
            va, vb = na.get(field), nb.get(field)
            tol = _tolerance(kind, field, key, va if va is not None else 0.0, spread, n_seeds, k, audit_rel)
            rows.append(_row(kind, key, field, va, vb, tol))
    return rows


def compare_verdicts(original: dict, reproduced: dict, calls: tuple[dict, dict] = ({}, {})) -> list[dict]:
    """Every verdict of either result: significance, statuses and the per-arm summary calls."""
    left, right = index_records(original), index_records(reproduced)
    out = []
    for ident in sorted(set(left) | set(right)):
        a, b = left.get(ident) or {}, right.get(ident) or {}
        for field in VERDICT_FIELDS:
            if field in a or field in b:
                out.append({"kind": ident[0], "record": ident[1], "field": field, "original": a.get(field),
                            "reproduced": b.get(field), "same": a.get(field) == b.get(field)})
    for arm in sorted(set(calls[0]) | set(calls[1])):
        a, b = calls[0].get(arm), calls[1].get(arm)
        out.append({"kind": "verdict", "record": f"arm={arm}", "field": "call", "original": a, "reproduced": b,
                    "same": a == b})
    return out
