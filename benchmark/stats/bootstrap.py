"""Vectorised patient-level stratified bootstrap (``reference/statistics.md`` B-1.3).

One :class:`PatientBootstrap` draws, once, how many times each patient enters each replicate
(``counts [B, P]``), resampling patients with replacement *within strata* (by default: patients with
≥ 1 positive unit vs all-negative patients, optionally crossed with a patient-level stratum column).
The same matrix is applied to every arm, seed and metric — that is what pairs the comparisons.

Metrics are computed for all B replicates at once from integer case weights ``[B, N]``: the AUC of
every replicate comes from one sort of the scores (tied scores grouped, ties count ½), so the cost
is O(B·N) array arithmetic instead of B calls to ``roc_auc_score``.

Example:
    >>> boot = PatientBootstrap.draw(["p1", "p2", "p3", "p4"], [1, 0, 1, 0], n_boot=200, seed=0)
    >>> w = boot.case_weights(["p1", "p2", "p3", "p4"])
    >>> w.shape, int(w.sum(axis=1)[0])
    ((200, 4), 4)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mammobench.errors import StatisticsError


@dataclass(frozen=True)
class PatientBootstrap:
    """Resampling design: ``counts[b, p]`` = copies of patient ``patients[p]`` in replicate ``b``."""

    patients: np.ndarray
    counts: np.ndarray
    seed: int

    @classmethod
    def draw(cls, patient_ids: Any, y_true: Any, *, n_boot: int, seed: int,
             strata: Any = None) -> "PatientBootstrap":
        """Draw the resampling matrix from per-unit patient ids and labels.

        Args:
            patient_ids: patient id per unit (image); units of one patient stay together.
            y_true: 0/1 per unit; a patient is "positive" when any of its units is.
            n_boot: number of replicates B (≥ 1).
            seed: RNG seed (stored on the result).
            strata: optional per-unit stratum label (constant within a patient) crossed with positivity.

        Example:
            >>> PatientBootstrap.draw([1, 1, 2], [0, 1, 0], n_boot=3, seed=1).counts.sum(axis=1).tolist()
            [2, 2, 2]
        """
        if n_boot < 1:
            raise StatisticsError(f"n_boot must be ≥ 1; got {n_boot}")
        pid = np.asarray(patient_ids)
        y = np.asarray(y_true, dtype=float)
        patients, codes = np.unique(pid, return_inverse=True)
        positive = np.bincount(codes, weights=y, minlength=patients.size) > 0
        stratum_of_patient = positive.astype(int).astype(str).astype(object)
        if strata is not None:
            extra = np.empty(patients.size, dtype=object)
            extra[codes] = np.asarray(strata).astype(str)
            stratum_of_patient = stratum_of_patient + "|" + extra
        rng = np.random.default_rng(seed)
        counts = np.zeros((n_boot, patients.size), dtype=np.int32)
        for stratum in sorted(set(stratum_of_patient)):
            members = np.flatnonzero(stratum_of_patient == stratum)
            picks = members[rng.integers(0, members.size, size=(n_boot, members.size))]
            flat = (np.arange(n_boot)[:, None] * patients.size + picks).ravel()
            counts += np.bincount(flat, minlength=n_boot * patients.size).reshape(n_boot, -1).astype(np.int32)
        return cls(patients=patients, counts=counts, seed=seed)

    @property
    def n_boot(self) -> int:
        """Number of replicates B."""
        return int(self.counts.shape[0])

    def case_weights(self, patient_ids: Any) -> np.ndarray:
        """Integer weights ``[B, N]``: copies of each unit in each replicate (its patient's count).

        Raises:
            StatisticsError: when a unit's patient is not part of the design.
        """
        pid = np.asarray(patient_ids)
        pos = np.searchsorted(self.patients, pid)
        pos = np.clip(pos, 0, self.patients.size - 1)
        unknown = self.patients[pos] != pid
        if unknown.any():
            raise StatisticsError(f"patients {pid[unknown][:5].tolist()} are not in the bootstrap design; "
                                  f"draw it from the same table")
        return self.counts[:, pos]


def weighted_auc(y_true: Any, score: Any, weights: np.ndarray) -> np.ndarray:
    """AUC of one score under each row of case weights ``[B, N]`` (ties count ½), all rows at once.

    A replicate without positives or negatives gives NaN.

    Example:
        >>> weighted_auc([0, 1, 0, 1], [0.1, 0.4, 0.4, 0.9], np.array([[1, 1, 1, 1], [0, 1, 2, 1]])).tolist()
        [0.875, 0.75]
    """
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(score, dtype=float)
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    order = np.argsort(s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    w_sorted = w[:, order]
    pos_w = np.add.reduceat(np.where(y_sorted, w_sorted, 0.0), starts, axis=1)
    neg_w = np.add.reduceat(np.where(y_sorted, 0.0, w_sorted), starts, axis=1)
    neg_below = np.cumsum(neg_w, axis=1) - neg_w
    wins = (pos_w * (neg_below + 0.5 * neg_w)).sum(axis=1)
    total = pos_w.sum(axis=1) * neg_w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, wins / np.where(total > 0, total, 1.0), np.nan)


def weighted_rate(mask_num: Any, mask_den: Any, weights: np.ndarray) -> np.ndarray:
    """Weighted proportion ``Σ w·num / Σ w·den`` per replicate (num ⊆ den); NaN when the denominator is 0.

    Example:
        >>> weighted_rate([1, 0, 1], [1, 1, 1], np.array([[1, 1, 1], [0, 2, 1]])).round(3).tolist()
        [0.667, 0.333]
    """
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    num = w @ np.asarray(mask_num, dtype=float)
    den = w @ np.asarray(mask_den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def percentile_ci(replicates: Any, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile CI ``[q_{α/2}, q_{1-α/2}]`` of the finite replicates (NaN, NaN when none).

    Example:
        >>> percentile_ci(np.arange(101), 0.1)
        (5.0, 95.0)
    """
    r = np.asarray(replicates, dtype=float)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(r, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def bootstrap_p_value(deltas: Any) -> float:
    """Two-sided paired bootstrap p-value ``min(1, 2·min(#{Δ*≤0}, #{Δ*≥0}) / B)`` (B-1.3 step 5).

    Example:
        >>> bootstrap_p_value([0.1, 0.2, -0.05, 0.3])
        0.5
    """
    d = np.asarray(deltas, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return float("nan")
    return float(min(1.0, 2 * min((d <= 0).sum(), (d >= 0).sum()) / d.size))
