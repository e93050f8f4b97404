"""ROC curve points and their area without scikit-learn: the same arrays and float as ``roc_curve`` and
``roc_auc_score``.

Used where importing scikit-learn (and SciPy behind it, ≈ 1–1.5 s) would be the largest cost of a
process: the report's ROC figures and the training harness's per-epoch validation AUC, which picks
the kept epoch and so must equal ``roc_auc_score`` bit for bit (``tests/stats/test_roc.py``).
``mammobench.stats.metrics.roc_auc`` (rank formula) is the statistic of record for evaluation.

Example:
    >>> fpr, tpr, auc = roc_points([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> auc
    0.75
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["roc_points", "validation_auc"]


def roc_points(y_true: Sequence[int], y_score: Sequence[float]) -> tuple[np.ndarray, np.ndarray, float]:
    """ROC curve and its area: ``(fpr, tpr, auc)``, the same arrays and float as scikit-learn's
    ``roc_curve`` (collinear points dropped) and ``roc_auc_score`` — without importing scikit-learn
    (and scipy.stats behind it).

    Raises:
        ValueError: ``y_true`` is not one class of 0/1 labels per score, holds only one class, or a score is
            not finite (as scikit-learn refuses NaN and infinity).

    Example:
        >>> fpr, tpr, auc = roc_points([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        >>> fpr.tolist(), tpr.tolist(), auc
        ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0], 0.75)
    """
    y, s = np.asarray(y_true), np.asarray(y_score, dtype=float)
    if y.shape != s.shape or y.ndim != 1 or not np.isin(y, (0, 1)).all() or np.unique(y).size != 2:
        raise ValueError(f"ROC needs one 0/1 label per score and both classes; got labels {np.unique(y)[:5]} "
                         f"for {s.size} scores")
    if not np.isfinite(s).all():
        raise ValueError(f"ROC needs finite scores; {int((~np.isfinite(s)).sum())} of {s.size} are NaN or infinite")
    order = np.argsort(s, kind="mergesort")[::-1]
    y, s = y[order].astype(float), s[order]
    cut = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]  # the last row of each distinct score
    tps = np.cumsum(y)[cut]
    fps = 1 + cut - tps
    if tps.size > 2:  # drop points on a straight line between their neighbours
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        tps, fps = tps[keep], fps[keep]
    tps, fps = np.r_[0, tps], np.r_[0, fps]
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    return fpr, tpr, float(np.trapezoid(tpr, fpr))


def validation_auc(y_true: Sequence[float], y_score: Sequence[float]) -> float:
    """AUC of a validation split for checkpoint choice: ``roc_auc_score``'s float, NaN when one class is absent.

    Example:
        >>> validation_auc([0, 1, 1], [0.2, 0.9, 0.1]), validation_auc([1, 1], [0.2, 0.3])
        (0.5, nan)
    """
    y = np.asarray(y_true)
    positives = float(y.sum())
    return roc_points(y, y_score)[2] if 0 < positives < y.size else float("nan")
