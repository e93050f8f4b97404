"""DeLong AUC inference with the fast O(n log n) mid-rank algorithm (Sun & Xu 2014).

Formulas (``reference/statistics.md`` B-1.1, DeLong et al. 1988): with m positives X and n negatives
Y, midranks T_Z over the pooled scores, T_X within positives and T_Y within negatives,

* placements ``V10_i = (T_Z(X_i) - T_X(X_i)) / n`` and ``V01_j = 1 - (T_Z(Y_j) - T_Y(Y_j)) / m``;
* ``AUC = (sum_i T_Z(X_i) - m(m+1)/2) / (m n)`` (ties count one half);
* ``S10``/``S01`` = unbiased (denominator m-1 / n-1) covariance of the placements across models,
  ``Cov(AUC) = S10/m + S01/n``.

Direction is pROC's ``controls < cases``: higher scores are more suspicious. The single-AUC CI is
Wald on the AUC scale (``auc ± z·SE``, clipped to [0, 1]), as pROC's ``ci.auc(method="delong")``.

Example:
    >>> res = delong_ci([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> round(res.auc, 3)
    0.75
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm, rankdata

from mammobench.stats._checks import as_binary_labels, as_finite_scores, require_both_classes


@dataclass(frozen=True)
class AucCI:
    """One AUC with its DeLong standard error and Wald confidence interval."""

    auc: float
    se: float
    ci_low: float
    ci_high: float
    n_pos: int
    n_neg: int
    alpha: float


@dataclass(frozen=True)
class PairedTest:
    """Paired DeLong test of ``AUC1 - AUC2`` on the same cases."""

    auc1: float
    auc2: float
    difference: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    correlation: float


def delong_placements(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Structural components (placements) of the AUC of each model.

    Args:
        y_true: 0/1 labels, length N.
        scores: ``[N]`` or ``[k, N]`` scores (higher = more likely positive).

    Returns:
        ``(aucs [k], v10 [k, m], v01 [k, n])`` with positives/negatives in input order.

    Example:
        >>> auc, v10, v01 = delong_placements([0, 1, 1], [0.2, 0.2, 0.9])
        >>> auc.tolist(), v10.tolist()
        ([0.75], [[0.5, 1.0]])
    """
    y = as_binary_labels(y_true)
    s = as_finite_scores(scores, y.size)
    m, n = require_both_classes(y)
    x_scores, y_scores = s[:, y], s[:, ~y]
    t_x = rankdata(x_scores, axis=1)
    t_y = rankdata(y_scores, axis=1)
    t_z = rankdata(np.concatenate([x_scores, y_scores], axis=1), axis=1)
    aucs = (t_z[:, :m].sum(axis=1) - m * (m + 1) / 2.0) / (m * n)
    v10 = (t_z[:, :m] - t_x) / n
    v01 = 1.0 - (t_z[:, m:] - t_y) / m
    return aucs, v10, v01


def _unbiased_cov(v: np.ndarray) -> np.ndarray:
    """Covariance across models (rows) of the placements, denominator (count - 1)."""
    if v.shape[1] < 2:
        return np.zeros((v.shape[0], v.shape[0]))
    centred = v - v.mean(axis=1, keepdims=True)
    return centred @ centred.T / (v.shape[1] - 1)


def delong_auc_cov(y_true: Any, scores_2d: Any) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of k models on the same cases and their DeLong covariance matrix.

    Args:
        y_true: 0/1 labels, length N.
        scores_2d: ``[k, N]`` scores (a 1-D array is one model).

    Returns:
        ``(aucs [k], cov [k, k])``.

    Example:
        >>> aucs, cov = delong_auc_cov([0, 0, 1, 1], [[0.1, 0.4, 0.35, 0.8], [0.1, 0.2, 0.3, 0.4]])
        >>> aucs.tolist()
        [0.75, 1.0]
    """
    aucs, v10, v01 = delong_placements(y_true, scores_2d)
    m, n = v10.shape[1], v01.shape[1]
    cov = _unbiased_cov(v10) / m + _unbiased_cov(v01) / n
    return aucs, cov


def delong_ci(y_true: Any, score: Any, alpha: float = 0.05) -> AucCI:
    """AUC with DeLong SE and Wald CI ``auc ± z_{1-α/2}·SE`` clipped to [0, 1] (pROC's method).

    Example:
        >>> r = delong_ci([0, 0, 0, 1, 1], [0.1, 0.2, 0.6, 0.5, 0.9])
        >>> round(r.auc, 4), r.n_pos
        (0.8333, 2)
    """
    _check_alpha(alpha)
    aucs, cov = delong_auc_cov(y_true, score)
    if aucs.size != 1:
        raise_shape = np.asarray(score).shape
        from mammobench.errors import StatisticsError
        raise StatisticsError(f"delong_ci takes one score vector; got shape {raise_shape}")
    y = as_binary_labels(y_true)
    auc, se = float(aucs[0]), float(np.sqrt(max(cov[0, 0], 0.0)))
    half = float(norm.ppf(1 - alpha / 2)) * se
    return AucCI(auc=auc, se=se, ci_low=max(0.0, auc - half), ci_high=min(1.0, auc + half),
                 n_pos=int(y.sum()), n_neg=int((~y).sum()), alpha=alpha)


def paired_delong_test(y_true: Any, s1: Any, s2: Any, alpha: float = 0.05) -> PairedTest:
    """Paired DeLong test of two scores on the same cases (two-sided z test of AUC1 - AUC2).

    Returns a :class:`PairedTest`; when both scores rank every pair identically the variance of
    the difference is 0 and ``z = 0, p = 1`` (as pROC reports for identical curves).

    Example:
        >>> t = paired_delong_test([0, 0, 1, 1, 0, 1], [.1, .3, .2, .9, .4, .8], [.5, .1, .4, .6, .3, .2])
        >>> round(t.auc1, 4), round(t.auc2, 4), round(t.difference, 4)  # sklearn roc_auc_score: 7/9, 6/9
        (0.7778, 0.6667, 0.1111)
    """
    _check_alpha(alpha)
    aucs, cov = delong_auc_cov(y_true, np.vstack([np.asarray(s1, float), np.asarray(s2, float)]))
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = float(np.sqrt(max(var, 0.0)))
    if se <= 1e-15:
        z, p = 0.0, 1.0
    else:
        z = diff / se
        p = float(2 * norm.sf(abs(z)))
    half = float(norm.ppf(1 - alpha / 2)) * se
    denom = np.sqrt(cov[0, 0] * cov[1, 1])
    corr = float(cov[0, 1] / denom) if denom > 0 else float("nan")
    return PairedTest(auc1=float(aucs[0]), auc2=float(aucs[1]), difference=diff, se=se,
                      ci_low=diff - half, ci_high=diff + half, z=z, p_value=p, correlation=corr)


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        from mammobench.errors import StatisticsError
        raise StatisticsError(f"alpha must lie in (0, 1); got {alpha}")
