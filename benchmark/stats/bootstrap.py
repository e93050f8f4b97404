"""Vectorised patient-level stratified bootstrap (``reference/statistics.md`` B-1.3).

One :class:`PatientBootstrap` draws, once, how many times each patient enters each replicate
(``counts [B, P]``), resampling patients with replacement *within strata* (by default: patients with
≥ 1 positive unit vs all-negative patients, optionally crossed with a patient-level stratum column).
The same matrix is applied to every arm, seed and metric — that is what pairs the comparisons.

Metrics are computed for all B replicates at once from integer case weights ``[B, N]`` (how many
copies of each case a replicate holds — the multinomial counts of its patient), never by building
the resampled data. The AUC of every replicate comes from one sort of the negatives' scores: each
positive's rank among the negatives (``searchsorted``, ties count ½) is found once, and a replicate's
AUC is ``Σ_i w_i·(C_lo(i) + C_hi(i)) / (2·W₊·W₋)`` with ``C`` the running count of its negative weights —
O(B·N) integer additions, exact. Weights are stored case-major (``[N, B]`` in memory, exposed as a
``[B, N]`` view) so that every step walks contiguous rows of B counts.

Example:
    >>> boot = PatientBootstrap.draw(["p1", "p2", "p3", "p4"], [1, 0, 1, 0], n_boot=200, seed=0)
    >>> w = boot.case_weights(["p1", "p2", "p3", "p4"])
    >>> w.shape, int(w.sum(axis=1)[0])
    ((200, 4), 4)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
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
            local = rng.integers(0, members.size, size=(n_boot, members.size))
            local += (np.arange(n_boot) * members.size)[:, None]
            counts[:, members] = np.bincount(local.ravel(), minlength=n_boot * members.size).reshape(n_boot, -1)
        return cls(patients=patients, counts=counts, seed=seed)

    @cached_property
    def _counts_by_patient(self) -> np.ndarray:
        """``counts`` transposed to a C-contiguous ``[P, B]`` array (one row of B counts per patient)."""
        return np.ascontiguousarray(self.counts.T)

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
        return self._counts_by_patient[pos].T  # [B, N] view of a case-major array (see the module docstring)


def _running_sum_rows(rows: np.ndarray, dtype: Any) -> np.ndarray:
    """``[n + 1, B]`` running sums over the rows (row 0 is zeros), row by row: SIMD adds of B numbers."""
    out = np.empty((rows.shape[0] + 1, rows.shape[1]), dtype=dtype)
    out[0] = 0
    if rows.shape[1] < 64:  # few replicates: numpy's cumsum beats a Python loop
        np.cumsum(rows, axis=0, dtype=dtype, out=out[1:])
        return out
    for k in range(rows.shape[0]):
        np.add(out[k], rows[k], out=out[k + 1])
    return out


def weighted_auc(y_true: Any, score: Any, weights: np.ndarray) -> np.ndarray:
    """AUC of one score under each row of case weights ``[B, N]`` (ties count ½), all rows at once.

    Integer weights (bootstrap counts) are summed exactly in integers; float weights are accepted.
    A replicate without positives or negatives gives NaN.

    Example:
        >>> weighted_auc([0, 1, 0, 1], [0.1, 0.4, 0.4, 0.9], np.array([[1, 1, 1, 1], [0, 1, 2, 1]])).tolist()
        [0.875, 0.75]
    """
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(score, dtype=float)
    w = np.atleast_2d(np.asarray(weights))
    exact = w.dtype.kind in "iub"
    case_major = np.ascontiguousarray(w.T if exact else w.T.astype(float))  # [N, B]; free for case_weights()
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    neg = neg[np.argsort(s[neg], kind="mergesort")]
    lo = np.searchsorted(s[neg], s[pos], side="left")
    hi = np.searchsorted(s[neg], s[pos], side="right")
    acc = np.int64 if exact else np.float64
    below = _running_sum_rows(case_major[neg], np.int32 if exact and w.size < 2 ** 31 else acc)
    wp = case_major[pos]
    twice_wins = 2 * (wp * below[lo]).sum(axis=0, dtype=acc)
    ties = np.flatnonzero(hi > lo)
    if ties.size:
        twice_wins += (wp[ties] * (below[hi[ties]] - below[lo[ties]])).sum(axis=0, dtype=acc)
    total = wp.sum(axis=0, dtype=acc) * below[-1].astype(acc)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, twice_wins / (2.0 * np.where(total > 0, total, 1)), np.nan)


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
