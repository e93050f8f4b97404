"""A one-sided exact binomial test sized *before* the sample is drawn (for the conformance checks).

A conformance check that asks "does the oracle recognise the requested class more often than chance?"
must not fail a correct generator one time in ten. So the sample size is chosen from the design, not
from habit: for the null agreement ``p0`` (chance: what a generator that ignores the condition gets),
an alternative ``p1`` (what a conforming generator must at least reach), a one-sided exact binomial test
at level ``alpha`` and a target ``power``, :func:`size_binomial_test` finds the smallest ``n`` (a multiple
of ``step``, so that requests stay balanced over the classes) for which

* P(pass | p0) = ``binom.sf(k - 1, n, p0)`` ≤ ``alpha`` — an ignorer fails with probability ≥ 1 − alpha, and
* P(pass | p1) = ``binom.sf(k - 1, n, p1)`` ≥ ``power`` — a generator at the alternative passes,

where ``k`` (the critical number of hits) is the smallest count whose exact upper tail under ``p0`` is
≤ ``alpha``. Everything is computed with :mod:`scipy.stats.binom` (exact; no normal approximation).
Exact binomial power is a saw-tooth in ``n``, so the search walks every allowed ``n`` up to the cap.

Example:
    >>> d = size_binomial_test(1 / 3, 2 / 3, alpha=0.01, power=0.99, step=3)
    >>> d.reached, d.n, d.critical, d.size <= 0.01, d.power >= 0.99
    (True, 51, 26, True, True)
    >>> d.decide(30), d.decide(20)
    ('pass', 'fail')
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import binom

from mammobench.errors import ConfigError

DEFAULT_ALPHA = 0.01
DEFAULT_POWER = 0.99
# The alternative of the conformance oracle check: a conforming generator conveys at least this fraction of
# what real images convey to the oracle (docs/generators.md: measured, the built-in learned baselines convey
# 0.17 (cgan, tiny) to 0.8 (physics) of it on the check cohort; an ignorer conveys exactly nothing)
DEFAULT_ALTERNATIVE_FRACTION = 0.15


@dataclass(frozen=True)
class BinomialDesign:
    """A sized one-sided exact binomial test: pass when ``hits >= critical`` out of ``n``.

    Attributes:
        n: sample size. critical: fewest hits that pass. p0: null (chance) agreement. p1: the alternative.
        alpha: the level asked for. size: the exact P(pass | p0) (≤ alpha). power: the exact P(pass | p1).
        target_power: the power asked for. reached: whether ``power >= target_power`` within the cap.
    """

    n: int
    critical: int
    p0: float
    p1: float
    alpha: float
    size: float
    power: float
    target_power: float
    reached: bool

    def decide(self, hits: int) -> str:
        """``"pass"`` when ``hits`` reaches the critical count, else ``"fail"``.

        Example:
            >>> size_binomial_test(0.5, 0.9, step=2).decide(0)
            'fail'
        """
        if not 0 <= hits <= self.n:
            raise ConfigError(f"hits must lie in [0, {self.n}], got {hits}")
        return "pass" if hits >= self.critical else "fail"

    def verdict(self, hits: int) -> str:
        """``"pass"``; ``"fail"`` when the design reached its power; else ``"inconclusive"`` (underpowered).

        A pass is a valid rejection at ``alpha`` whatever the power; a non-pass only counts as a failure
        when a generator at the alternative would have passed with the stated power.

        Example:
            >>> size_binomial_test(0.25, 0.3, step=4, n_max=40).verdict(0)
            'inconclusive'
        """
        if self.decide(hits) == "pass":
            return "pass"
        return "fail" if self.reached else "inconclusive"

    def p_value(self, hits: int) -> float:
        """Exact one-sided p-value P(X ≥ hits | p0).

        Example:
            >>> round(size_binomial_test(0.5, 0.9, step=2).p_value(0), 3)
            1.0
        """
        return float(binom.sf(hits - 1, self.n, self.p0))

    def to_dict(self) -> dict:
        """Plain-JSON form (for result files and ``--json``).

        Example:
            >>> sorted(size_binomial_test(0.5, 0.9, step=2).to_dict())[:3]
            ['alpha', 'critical', 'n']
        """
        return asdict(self)


def critical_hits(n: np.ndarray | int, p0: float, alpha: float) -> np.ndarray:
    """Smallest ``k`` with ``P(X >= k | n, p0) <= alpha`` for each ``n`` (``n + 1`` when no ``k <= n`` qualifies).

    Example:
        >>> critical_hits(np.array([10, 30]), 0.5, 0.01).tolist()
        [10, 22]
    """
    n = np.atleast_1d(np.asarray(n, dtype=int))
    k = binom.isf(alpha, n, p0).astype(int) + 1  # candidate: sf(k - 1) <= alpha
    # isf works in floating point: step down while one fewer hit still keeps the level, up while it does not
    while np.any(lower := (k > 0) & (binom.sf(k - 2, n, p0) <= alpha)):
        k = np.where(lower, k - 1, k)
    while np.any(higher := binom.sf(k - 1, n, p0) > alpha):
        k = np.where(higher, k + 1, k)
    return np.minimum(k, n + 1)


def _check_inputs(p0: float, p1: float, alpha: float, power: float, step: int, n_max: int) -> None:
    problems = []
    if not 0 < p0 < 1:
        problems.append(f"p0 must lie in (0, 1), got {p0}")
    if not p0 < p1 <= 1:
        problems.append(f"the alternative p1 must exceed p0 = {p0:.3g} and be ≤ 1, got {p1}")
    if not 0 < alpha < 0.5:
        problems.append(f"alpha must lie in (0, 0.5), got {alpha}")
    if not 0 < power < 1:
        problems.append(f"power must lie in (0, 1), got {power}")
    if step < 1 or n_max < step:
        problems.append(f"need step ≥ 1 and n_max ≥ step, got step={step}, n_max={n_max}")
    if problems:
        raise ConfigError("size_binomial_test: " + "; ".join(problems))


def size_binomial_test(p0: float, p1: float, *, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER,
                       step: int = 1, n_max: int = 3000) -> BinomialDesign:
    """The smallest ``n`` (a multiple of ``step``, ≤ ``n_max``) at which the exact test reaches ``power``.

    When no allowed ``n`` reaches it, the design at the allowed ``n`` with the highest power is returned
    with ``reached=False`` (the caller reports the check as *inconclusive* with that power).

    Args:
        p0: agreement under the null (chance: ``1 / number of classes`` with balanced requests).
        p1: the alternative a conforming generator must at least reach.
        alpha: one-sided level; P(pass | p0) ≤ alpha exactly.
        power: target P(pass | p1).
        step: ``n`` is a multiple of this (the number of classes, so requests stay balanced).
        n_max: the budget cap on ``n``.

    Raises:
        ConfigError: when a probability is outside its range or ``p1 <= p0``.

    Example:
        >>> d = size_binomial_test(0.25, 0.3, step=4, n_max=200)
        >>> d.reached, d.n <= 200, d.power < 0.99
        (False, True, True)
    """
    _check_inputs(p0, p1, alpha, power, step, n_max)
    ns = np.arange(step, n_max + 1, step)
    ks = critical_hits(ns, p0, alpha)
    powers = binom.sf(ks - 1, ns, p1)
    ok = np.flatnonzero(powers >= power)
    i = int(ok[0]) if len(ok) else int(np.argmax(powers))
    n, k = int(ns[i]), int(ks[i])
    return BinomialDesign(n=n, critical=k, p0=float(p0), p1=float(p1), alpha=float(alpha),
                          size=float(binom.sf(k - 1, n, p0)), power=float(powers[i]), target_power=float(power),
                          reached=bool(len(ok)))


def design_at(n: int, p0: float, p1: float, *, alpha: float = DEFAULT_ALPHA,
              power: float = DEFAULT_POWER) -> BinomialDesign:
    """The exact test at a sample size fixed elsewhere (e.g. a command's ``--per-class``): its size and power.

    Example:
        >>> d = design_at(40, 0.25, 0.5)
        >>> d.critical, round(d.power, 3), d.reached
        (18, 0.785, False)
    """
    _check_inputs(p0, p1, alpha, power, 1, max(int(n), 1))
    k = int(critical_hits(int(n), p0, alpha)[0])
    achieved = float(binom.sf(k - 1, n, p1))
    return BinomialDesign(n=int(n), critical=k, p0=float(p0), p1=float(p1), alpha=float(alpha),
                          size=float(binom.sf(k - 1, n, p0)), power=achieved, target_power=float(power),
                          reached=achieved >= power)


def conveyed_alternative(chance: float, real_agreement: float,
                         fraction: float = DEFAULT_ALTERNATIVE_FRACTION) -> float:
    """The alternative ``chance + fraction × (real − chance)``: a conforming generator conveys at least
    ``fraction`` of what real images convey to the oracle (default :data:`DEFAULT_ALTERNATIVE_FRACTION`).

    Example:
        >>> conveyed_alternative(0.25, 0.85, fraction=0.5)
        0.55
        >>> conveyed_alternative(0.5, 0.7)
        0.53
    """
    if not 0 < fraction <= 1:
        raise ConfigError(f"fraction must lie in (0, 1], got {fraction}")
    return round(chance + fraction * (real_agreement - chance), 10)


__all__ = ["DEFAULT_ALPHA", "DEFAULT_ALTERNATIVE_FRACTION", "DEFAULT_POWER", "BinomialDesign", "conveyed_alternative",
           "critical_hits", "design_at", "size_binomial_test"]
