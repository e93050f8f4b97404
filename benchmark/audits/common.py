"""Shared pieces of the audits: the record shape, exact binomial CIs, seeded percentile bootstrap.

Every audit returns records of :data:`mammobench.results.AUDIT_KEYS` plus ``value``, ``threshold``
and ``evidence`` (n, extractor, resolution, CIs, paths of figure data). A check whose status is
decided by a p-value also carries its decision margin: ``p_value``, ``alpha`` (the level the p is
compared with) and ``borderline`` (:mod:`mammobench.stats.margin`; pass ``p=``/``alpha=``).

Example:
    >>> rec = audit_record("g", "fidelity", "fd_ratio", "pass", value=1.2, threshold=3.0, message="ok")
    >>> rec["status"], sorted(rec)[:3]
    ('pass', ['audit', 'check', 'evidence'])
    >>> audit_record("g", "leakage", "near_duplicates_val", "warn", p=0.03, alpha=0.05)["borderline"]
    True
    >>> round(clopper_pearson(0, 10)[1], 4)
    0.3085
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from mammobench.errors import DataError
from mammobench.stats.margin import is_borderline
from mammobench.stats.proportions import clopper_pearson  # noqa: F401  (the one copy; audits import it from here)

STATUSES = ("pass", "warn", "fail", "skip")


def audit_record(generator: str, audit: str, check: str, status: str, *, value: Any = None,
                 threshold: Any = None, message: str = "", evidence: dict | None = None,
                 p: float | None = None, alpha: float | None = None) -> dict:
    """One audit result record (Contract 5); with ``p`` and ``alpha``, the decision margin as well."""
    if status not in STATUSES:
        raise ValueError(f"audit status {status!r} not in {STATUSES}")
    rec = {"generator": generator, "audit": audit, "check": check, "status": status, "value": value,
           "threshold": threshold, "message": message, "evidence": dict(evidence or {})}
    if (p is None) != (alpha is None):
        raise ValueError(f"audit {audit}/{check}: a decision margin needs both p and alpha, got p={p!r}, alpha={alpha!r}")
    if p is not None:
        rec.update(p_value=float(p), alpha=float(alpha), borderline=is_borderline(p, alpha))
    return rec


def status_by_thresholds(value: float, warn: float | None, fail: float | None, *, higher_is_worse: bool = True) -> str:
    """``fail`` beyond the fail threshold, ``warn`` beyond the warn threshold, else ``pass`` (None = unused)."""
    if value is None or not np.isfinite(value):
        return "skip"
    sign = 1.0 if higher_is_worse else -1.0
    if fail is not None and sign * value > sign * fail:
        return "fail"
    if warn is not None and sign * value > sign * warn:
        return "warn"
    return "pass"


def bootstrap_two_sample(a: np.ndarray, b: np.ndarray, statistic: Callable[[np.ndarray, np.ndarray], float], *,
                         n_boot: int, seed: int, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile CI of ``statistic(a*, b*)`` resampling rows of both samples independently."""
    if n_boot <= 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for i in range(n_boot):
        reps[i] = statistic(a[rng.integers(0, len(a), len(a))], b[rng.integers(0, len(b), len(b))])
    lo, hi = np.nanpercentile(reps, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def as_features(x: Any, *, name: str, min_rows: int = 2) -> np.ndarray:
    """Validate a feature matrix as finite float64 ``[n, d]`` with at least ``min_rows`` rows."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise DataError(f"{name}: features must be a 2-D array [n, d], got shape {arr.shape}")
    if len(arr) < min_rows:
        raise DataError(f"{name}: need at least {min_rows} samples, got {len(arr)}")
    if not np.isfinite(arr).all():
        raise DataError(f"{name}: features contain NaN or inf; check the extractor and the images")
    return arr


def patient_halves(patient_ids: Any, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices into two disjoint halves by patient (seeded), for real-vs-real baselines."""
    ids = np.asarray(patient_ids).astype(str)
    unique = np.unique(ids)
    if len(unique) < 2:
        half = len(ids) // 2
        return np.arange(half), np.arange(half, len(ids))
    rng = np.random.default_rng(seed)
    first = set(rng.permutation(unique)[: len(unique) // 2])
    mask = np.array([p in first for p in ids])
    return np.flatnonzero(mask), np.flatnonzero(~mask)
