"""Exact confidence interval of a binomial proportion (Clopper–Pearson), the one copy in the package.

``[Beta_{α/2}(k, n−k+1), Beta_{1−α/2}(k+1, n−k)]`` with the conventions 0 at k = 0 and 1 at k = n,
computed by SciPy (``binomtest(k, n).proportion_ci(method="exact")``). The audits, the self-test's
null false-positive rate and the reader study's Turing analysis all import it from here.

Example:
    >>> [round(v, 4) for v in clopper_pearson(7, 10)]
    [0.3475, 0.9333]
"""
from __future__ import annotations

from scipy import stats

from mammobench.errors import StatisticsError


def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact two-sided ``1 − alpha`` CI of the proportion ``k / n``; (NaN, NaN) when ``n`` is 0.

    Args:
        k: successes, ``0 ≤ k ≤ n``.
        n: trials.
        alpha: one minus the confidence level (``alpha=0.1`` gives the 90 % interval a TOST uses).

    Raises:
        StatisticsError: ``k`` outside ``[0, n]`` or ``alpha`` outside (0, 1).

    Example:
        >>> [round(v, 4) for v in clopper_pearson(0, 20)]
        [0.0, 0.1684]
    """
    if not 0.0 < alpha < 1.0:
        raise StatisticsError(f"alpha must lie in (0, 1); got {alpha}")
    k, n = int(k), int(n)
    if n <= 0:
        return float("nan"), float("nan")
    if not 0 <= k <= n:
        raise StatisticsError(f"a proportion needs 0 <= k <= n; got k={k}, n={n}")
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=1 - alpha, method="exact")
    return float(ci.low), float(ci.high)
