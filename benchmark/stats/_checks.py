"""Input checks shared by the statistics primitives (binary labels, finite scores).

Every primitive validates its input here so that bad data fails with one documented error type
(:class:`mammobench.errors.StatisticsError`) naming what is wrong and how to fix it.

Example:
    >>> as_binary_labels([0, 1, True]).tolist()
    [False, True, True]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mammobench.errors import StatisticsError


def as_binary_labels(y_true: Any, *, name: str = "y_true") -> np.ndarray:
    """Return ``y_true`` as a 1-D boolean array; accept 0/1, bools or floats equal to 0/1.

    Raises:
        StatisticsError: when values other than 0/1 are present.
    """
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise StatisticsError(f"{name} must be 1-D, got shape {y.shape}")
    if y.dtype == bool:
        return y
    try:
        yf = y.astype(float)
    except (TypeError, ValueError) as err:
        raise StatisticsError(f"{name} must be 0/1 labels; got values like {y[:3].tolist()} "
                              f"(pass --positive VALUE on the CLI to binarise)") from err
    bad = ~np.isin(yf, (0.0, 1.0))
    if bad.any():
        raise StatisticsError(f"{name} must hold only 0/1; found {np.unique(y[bad])[:5].tolist()} "
                              f"at positions {np.flatnonzero(bad)[:5].tolist()}")
    return yf == 1.0


def as_finite_scores(scores: Any, n: int, *, name: str = "scores") -> np.ndarray:
    """Return scores as float64 ``[k, n]`` (a 1-D input becomes ``[1, n]``), all finite.

    Raises:
        StatisticsError: on a length mismatch or NaN/inf values (positions named).
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim == 1:
        s = s[None, :]
    if s.ndim != 2 or s.shape[1] != n:
        raise StatisticsError(f"{name} must have shape [k, {n}] (one score per case); got {s.shape}")
    bad = ~np.isfinite(s)
    if bad.any():
        cols = np.flatnonzero(bad.any(axis=0))
        raise StatisticsError(f"{name} has {int(bad.sum())} NaN/inf values at case positions "
                              f"{cols[:10].tolist()}; remove or impute those cases first")
    return s


def require_both_classes(y: np.ndarray, *, what: str = "AUC") -> tuple[int, int]:
    """Return ``(n_pos, n_neg)``; raise when a class is absent (the statistic is undefined).

    Raises:
        StatisticsError: when there are no positives or no negatives.
    """
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        raise StatisticsError(f"{what} is undefined: {n_pos} positives and {n_neg} negatives "
                              f"(both classes are needed)")
    return n_pos, n_neg
