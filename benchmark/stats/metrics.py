"""Plain metric callables (sklearn/fairlearn style: ``metric(y_true, y_score_or_pred, **options)``).

Definitions follow ``reference/statistics.md``: threshold at specificity s is
τ_s = smallest negative score t with (1/n) Σ_j 1[Y_j ≤ t] ≥ s and Se(s) = (1/m) Σ_i 1[X_i > τ_s]
(B-1.5); ECE = Σ_b |S_b|/N · |ȳ_b − p̄_b| (B-4); calibration intercept a and slope b from
logit P(y=1) = a + b·logit(p) (B-4). Undefined values (a class absent) raise
:class:`~mammobench.errors.StatisticsError`; callers that stratify catch it and report the group as
``undefined``.

Example:
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mammobench.errors import StatisticsError
from mammobench.stats._checks import as_binary_labels, as_finite_scores, require_both_classes


class EnrichedCohortWarning(UserWarning):
    """The test cohort's prevalence is far above the screening prevalence used for PPV/NPV."""


def _prepare(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    y = as_binary_labels(y_true)
    return y, as_finite_scores(y_score, y.size)[0]


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Empirical ROC AUC (ties count ½), equal to ``sklearn.metrics.roc_auc_score``.

    Example:
        >>> roc_auc([0, 1, 0, 1], [0.2, 0.2, 0.1, 0.9])
        0.875
    """
    y, s = _prepare(y_true, y_score)
    m, n = require_both_classes(y, what="ROC AUC")
    from scipy.stats import rankdata

    ranks = rankdata(s)
    return float((ranks[y].sum() - m * (m + 1) / 2) / (m * n))


def threshold_at_specificity(y_true: Any, y_score: Any, specificity: float = 0.9) -> float:
    """τ_s: smallest negative score t with fraction of negatives ≤ t at least ``specificity``.

    Example:
        >>> threshold_at_specificity([0, 0, 0, 0, 1], [0.1, 0.2, 0.3, 0.4, 0.9], 0.75)
        0.3
    """
    y, s = _prepare(y_true, y_score)
    _check_fraction(specificity, "specificity")
    negatives = np.sort(s[~y])
    if negatives.size == 0:
        raise StatisticsError("threshold at specificity is undefined: no negatives")
    k = int(np.ceil(specificity * negatives.size - 1e-12))
    return float(negatives[max(k, 1) - 1])


def sensitivity_at_specificity(y_true: Any, y_score: Any, specificity: float = 0.9) -> float:
    """Se(s) = fraction of positives scoring above τ_s (B-1.5).

    Example:
        >>> sensitivity_at_specificity([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.35, 0.9], 0.75)
        1.0
    """
    y, s = _prepare(y_true, y_score)
    require_both_classes(y, what="sensitivity at specificity")
    tau = threshold_at_specificity(y, s, specificity)
    return float((s[y] > tau).mean())


def specificity_at_sensitivity(y_true: Any, y_score: Any, sensitivity: float = 0.9) -> float:
    """Sp(se): with τ = largest positive score t having fraction of positives ≥ t at least ``sensitivity``,
    the fraction of negatives scoring below τ (mirror image of B-1.5).

    Example:
        >>> specificity_at_sensitivity([0, 0, 0, 1, 1], [0.1, 0.5, 0.7, 0.6, 0.9], 1.0)
        0.6666666666666666
    """
    y, s = _prepare(y_true, y_score)
    require_both_classes(y, what="specificity at sensitivity")
    _check_fraction(sensitivity, "sensitivity")
    positives = np.sort(s[y])[::-1]
    k = int(np.ceil(sensitivity * positives.size - 1e-12))
    tau = positives[max(k, 1) - 1]
    return float((s[~y] < tau).mean())


def sensitivity(y_true: Any, y_pred: Any) -> float:
    """True-positive rate of 0/1 predictions.

    Example:
        >>> sensitivity([1, 1, 0], [1, 0, 0])
        0.5
    """
    y, p = as_binary_labels(y_true), as_binary_labels(y_pred, name="y_pred")
    if not y.any():
        raise StatisticsError("sensitivity is undefined: no positives")
    return float(p[y].mean())


def specificity(y_true: Any, y_pred: Any) -> float:
    """True-negative rate of 0/1 predictions.

    Example:
        >>> specificity([0, 0, 1], [1, 0, 0])
        0.5
    """
    y, p = as_binary_labels(y_true), as_binary_labels(y_pred, name="y_pred")
    if y.all():
        raise StatisticsError("specificity is undefined: no negatives")
    return float((~p[~y]).mean())


def balanced_accuracy(y_true: Any, y_pred: Any) -> float:
    """(sensitivity + specificity) / 2, as ``sklearn.metrics.balanced_accuracy_score`` for binary data.

    Example:
        >>> balanced_accuracy([0, 0, 1, 1], [0, 1, 1, 1])
        0.75
    """
    return 0.5 * (sensitivity(y_true, y_pred) + specificity(y_true, y_pred))


def ece(y_true: Any, y_prob: Any, n_bins: int = 10, strategy: str = "uniform") -> float:
    """Expected calibration error Σ_b |S_b|/N · |ȳ_b − p̄_b| with equal-width or equal-mass bins.

    Probabilities must lie in [0, 1]. Bins are right-closed, the first one also holds 0.

    Example:
        >>> round(ece([0, 1, 1, 0], [0.2, 0.8, 0.6, 0.4], n_bins=2), 3)
        0.3
    """
    y, p = _prepare(y_true, y_prob)
    if y.size == 0:
        raise StatisticsError("ECE is undefined for an empty group")
    if (p < 0).any() or (p > 1).any():
        raise StatisticsError("ECE needs probabilities in [0, 1]; apply a sigmoid/softmax to the scores first")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1))
    else:
        raise StatisticsError(f"ECE strategy {strategy!r} unknown; use 'uniform' or 'quantile'")
    bins = np.clip(np.searchsorted(edges, p, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    gap = np.abs(np.bincount(bins, weights=y.astype(float), minlength=n_bins)
                 - np.bincount(bins, weights=p, minlength=n_bins))
    return float(gap.sum() / y.size) if count.any() else float("nan")


def calibration_slope_intercept(y_true: Any, y_prob: Any, max_iter: int = 50) -> tuple[float, float]:
    """Intercept a and slope b of logit P(y=1) = a + b·logit(p), by Newton–Raphson (B-4).

    Probabilities are clipped to [1e-6, 1 − 1e-6] before the logit.

    Example:
        >>> a, b = calibration_slope_intercept([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.6, 0.7])
        >>> round(b, 2) > 0
        True
    """
    y, p = _prepare(y_true, y_prob)
    require_both_classes(y, what="calibration slope")
    if (p < 0).any() or (p > 1).any():
        raise StatisticsError("calibration slope needs probabilities in [0, 1]")
    x = np.clip(p, 1e-6, 1 - 1e-6)
    design = np.column_stack([np.ones_like(x), np.log(x / (1 - x))])
    beta = np.zeros(2)
    for _ in range(max_iter):
        mu = 1.0 / (1.0 + np.exp(-design @ beta))
        hessian = design.T @ (design * (mu * (1 - mu))[:, None])
        step = np.linalg.lstsq(hessian, design.T @ (y - mu), rcond=None)[0]
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return float(beta[0]), float(beta[1])


def ppv_npv_at_prevalence(y_true: Any, y_pred: Any, prevalence: float = 0.005) -> dict[str, float]:
    """PPV and NPV recomputed at a screening prevalence π from the cohort's sensitivity and specificity.

    PPV = Se·π / (Se·π + (1−Sp)(1−π)); NPV = Sp(1−π) / (Sp(1−π) + (1−Se)π). Warns
    (:class:`EnrichedCohortWarning`) when the test cohort's prevalence is over twice π.

    Example:
        >>> r = ppv_npv_at_prevalence([0, 0, 1, 1], [0, 1, 1, 1], prevalence=0.5)
        >>> round(r["ppv"], 3), round(r["npv"], 3)
        (0.667, 1.0)
    """
    _check_fraction(prevalence, "prevalence")
    se, sp = sensitivity(y_true, y_pred), specificity(y_true, y_pred)
    test_prev = float(as_binary_labels(y_true).mean())
    if test_prev > 2 * prevalence:
        warnings.warn(f"test cohort prevalence {test_prev:.3f} is enriched relative to the screening "
                      f"prevalence {prevalence:g}; cohort PPV/NPV would not transfer, so they are "
                      f"recomputed at {prevalence:g}", EnrichedCohortWarning, stacklevel=2)
    pi = prevalence
    ppv_den = se * pi + (1 - sp) * (1 - pi)
    npv_den = sp * (1 - pi) + (1 - se) * pi
    return {"ppv": se * pi / ppv_den if ppv_den > 0 else float("nan"),
            "npv": sp * (1 - pi) / npv_den if npv_den > 0 else float("nan"),
            "sensitivity": se, "specificity": sp, "prevalence": pi, "test_prevalence": test_prev}


def _check_fraction(value: float, name: str) -> None:
    if not 0.0 < value <= 1.0:
        raise StatisticsError(f"{name} must lie in (0, 1]; got {value}")
