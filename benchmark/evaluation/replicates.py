"""Seed-averaged metric values and their bootstrap replicates for one group of one arm.

For each seed the metric is computed on the group's cases (point value) and on every bootstrap
replicate at once from the case weights (``[B, n]``); the seed average is taken *inside* each
replicate, so seeds are never treated as independent test sets (Contract 4, B-1.4).

Metrics: ``auc``; at the per-seed global threshold τ (from validation): ``sensitivity``,
``specificity``, ``balanced_accuracy``; ``ece`` (10 equal-width bins on y_score as a probability).

Example:
    >>> y = np.array([0, 1, 0, 1]); s = np.array([[0.1, 0.8, 0.3, 0.6]]); w = np.ones((2, 4))
    >>> point, boot = group_replicates("auc", y, s, [0.5], w)
    >>> point, boot.tolist()
    (1.0, [1.0, 1.0])
"""
from __future__ import annotations

import numpy as np

from mammobench.errors import StatisticsError
from mammobench.stats import metrics as M
from mammobench.stats.bootstrap import weighted_auc, weighted_rate

BOOTSTRAPPED = ("auc", "sensitivity", "specificity", "balanced_accuracy", "ece")
ECE_BINS = 10


def _weighted_ece(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    bins = np.clip(np.searchsorted(np.linspace(0, 1, ECE_BINS + 1), p, side="left") - 1, 0, ECE_BINS - 1)
    onehot = np.zeros((p.size, ECE_BINS))
    onehot[np.arange(p.size), bins] = 1.0
    per_bin = w @ (onehot * (y.astype(float) - p)[:, None])
    total = w.sum(axis=1)
    return np.abs(per_bin).sum(axis=1) / np.where(total > 0, total, np.nan)


def _one_seed(metric: str, y: np.ndarray, s: np.ndarray, tau: float, w: np.ndarray) -> tuple[float, np.ndarray]:
    if metric == "auc":
        return M.roc_auc(y, s), weighted_auc(y, s, w)
    pred = s > tau
    if metric == "sensitivity":
        return M.sensitivity(y, pred), weighted_rate(y & pred, y, w)
    if metric == "specificity":
        return M.specificity(y, pred), weighted_rate(~y & ~pred, ~y, w)
    if metric == "balanced_accuracy":
        boot = 0.5 * (weighted_rate(y & pred, y, w) + weighted_rate(~y & ~pred, ~y, w))
        return M.balanced_accuracy(y, pred), boot
    if metric == "ece":
        return M.ece(y, s, n_bins=ECE_BINS), _weighted_ece(y, s, w)
    raise StatisticsError(f"metric {metric!r} has no bootstrap implementation; known: {list(BOOTSTRAPPED)}")


def group_replicates(metric: str, y: np.ndarray, scores: np.ndarray, taus: list[float],
                     weights: np.ndarray) -> tuple[float, np.ndarray]:
    """Seed-averaged point value and ``[B]`` seed-averaged replicates of ``metric`` on one group.

    Args:
        metric: one of :data:`BOOTSTRAPPED`.
        y: bool labels of the group's cases.
        scores: ``[n_seeds, n]`` scores of one arm on those cases.
        taus: per-seed global thresholds (ignored for ``auc``/``ece``).
        weights: ``[B, n]`` bootstrap case weights (same matrix for every arm: pairing).

    Raises:
        StatisticsError: when the metric is undefined on the group (a class absent).
    """
    y = np.asarray(y, dtype=bool)
    points, boots = [], []
    for row, tau in zip(scores, taus):
        point, boot = _one_seed(metric, y, row, tau, weights)
        points.append(point)
        boots.append(boot)
    return float(np.mean(points)), np.mean(np.vstack(boots), axis=0)
