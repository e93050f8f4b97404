"""The decision margin of a p-value verdict and the machine-to-machine tolerance ("borderline").

A verdict that compares a p-value with a threshold (α, or the adjusted α of a family) is only as
stable as the p-value itself. The same seeds on another CPU, BLAS build or torch thread count give
slightly different floats, a detector trained from them gives different scores, and the p-value
moves. Measured moves (docs/statistics.md, "Decision margins"): on the statistics alone (same
predictions, 1 vs 2 threads) none that changes a verdict; end to end (detectors re-trained on another
2-core machine, same seeds) the normal quantile of the self-test's p-values moved by 0.86–1.18
(helpful C: p_adj 0.0056 → 0.112; D: 0.0079 → 0.089; harmful 0.000127 → 0.003).

So the tolerance is stated on the **normal-quantile scale** ``z(p) = Φ⁻¹(1 − p/2)`` (the |z| of a
two-sided test with that p; a monotone rescaling for one-sided p-values), where such moves are of
similar size whatever the p: a verdict is *borderline* when ``|z(p) − z(threshold)| <``
:data:`Z_TOLERANCE` (1.2, the largest measured move rounded up). At α = 0.05 that is
p ∈ (0.0016, 0.45). One definition, used by every record that carries a margin (comparisons,
heterogeneity tests, audit checks decided by a p-value, self-test rows).

Example:
    >>> decision_margin(0.0001, 0.05)["borderline"], decision_margin(0.03, 0.05)["borderline"]
    (False, True)
    >>> decision_margin(float("nan"), 0.05)["borderline"]
    False
"""
from __future__ import annotations

import math

from scipy.stats import norm

from mammobench.errors import StatisticsError

__all__ = ["Z_TOLERANCE", "decision_margin", "is_borderline", "z_of_p"]

#: machine-to-machine tolerance on the ``z(p) = Φ⁻¹(1 − p/2)`` scale (see the module docstring)
Z_TOLERANCE = 1.2


def z_of_p(p: float) -> float:
    """``Φ⁻¹(1 − p/2)``: the two-sided normal quantile of ``p`` (0 at p = 1, ∞ at p = 0; NaN stays NaN).

    Raises:
        StatisticsError: ``p`` outside [0, 1].

    Example:
        >>> round(z_of_p(0.05), 3)
        1.96
    """
    p = float(p)
    if math.isnan(p):
        return float("nan")
    if not 0.0 <= p <= 1.0:
        raise StatisticsError(f"p-value {p!r} is outside [0, 1]; a decision margin needs a probability")
    return float(norm.isf(p / 2))


def is_borderline(p: float, threshold: float, tolerance: float = Z_TOLERANCE) -> bool:
    """True when ``p`` lies within the machine-to-machine tolerance of ``threshold`` (NaN p: False).

    Example:
        >>> is_borderline(0.049, 0.05), is_borderline(0.9, 0.05)
        (True, False)
    """
    return decision_margin(p, threshold, tolerance)["borderline"]


def decision_margin(p: float | None, threshold: float, tolerance: float = Z_TOLERANCE) -> dict:
    """The margin of the decision ``p < threshold``: ``{p, threshold, z_distance, borderline}``.

    ``z_distance = z(p) − z(threshold)`` (positive: significant side); ``None`` when p is missing/NaN,
    and such a record is never borderline.

    Raises:
        StatisticsError: a threshold outside (0, 1) or a negative tolerance.

    Example:
        >>> m = decision_margin(0.012, 0.05)
        >>> round(m["z_distance"], 2), m["borderline"]
        (0.55, True)
    """
    threshold = float(threshold)
    if not 0.0 < threshold < 1.0:
        raise StatisticsError(f"decision threshold (alpha) {threshold!r} must lie in (0, 1)")
    if not tolerance >= 0:
        raise StatisticsError(f"borderline tolerance {tolerance!r} must be >= 0")
    z = float("nan") if p is None else z_of_p(p)
    if not math.isfinite(z):  # missing p, or p = 0 (no finite margin: far on the significant side)
        return {"p": None if p is None else float(p), "threshold": threshold, "z_distance": None, "borderline": False}
    distance = z - z_of_p(threshold)
    return {"p": float(p), "threshold": threshold, "z_distance": distance,
            "borderline": bool(abs(distance) < tolerance)}
