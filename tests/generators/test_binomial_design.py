"""The sized exact binomial test against a brute-force computation from the binomial pmf."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, binomtest

from mammobench.errors import ConfigError
from mammobench.generators.binomial_design import critical_hits, conveyed_alternative, size_binomial_test


def _upper_tails(n: int, p: float) -> np.ndarray:
    """P(X >= k) for k = 0..n+1, summed from the pmf (independent of binom.sf / isf)."""
    pmf = binom.pmf(np.arange(n + 1), n, p)
    return np.append(np.cumsum(pmf[::-1])[::-1], 0.0)


def _brute_force(p0: float, p1: float, alpha: float, power: float, step: int, n_max: int):
    best = None
    for n in range(step, n_max + 1, step):
        tails0, tails1 = _upper_tails(n, p0), _upper_tails(n, p1)
        k = next(k for k in range(n + 2) if tails0[k] <= alpha + 1e-12)
        if tails1[k] >= power:
            return n, k, tails0[k], tails1[k], True
        if best is None or tails1[k] > best[3]:
            best = (n, k, tails0[k], tails1[k], False)
    return best


@pytest.mark.parametrize("p0, p1, step", [(1 / 3, 2 / 3, 3), (1 / 2, 3 / 4, 2), (1 / 4, 0.55, 4), (1 / 3, 0.45, 3),
                                          (0.5, 0.9, 1)])
def test_sizing_matches_brute_force(p0, p1, step):
    d = size_binomial_test(p0, p1, alpha=0.01, power=0.99, step=step, n_max=600)
    n, k, size, power, reached = _brute_force(p0, p1, 0.01, 0.99, step, 600)
    assert (d.n, d.critical, d.reached) == (n, k, reached)
    assert d.size == pytest.approx(size, abs=1e-9) and d.power == pytest.approx(power, abs=1e-9)
    assert d.size <= 0.01 and d.power >= 0.99 and d.n % step == 0


def test_critical_hits_is_the_smallest_count_at_level():
    ns = np.arange(1, 200)
    ks = critical_hits(ns, 0.3, 0.01)
    for n, k in zip(ns, ks):
        tails = _upper_tails(int(n), 0.3)
        assert k == next(j for j in range(n + 2) if tails[j] <= 0.01 + 1e-12)


def test_decision_agrees_with_scipy_binomtest():
    d = size_binomial_test(1 / 3, 2 / 3, step=3)
    for hits in range(d.n + 1):
        p = binomtest(hits, d.n, 1 / 3, alternative="greater").pvalue
        assert d.p_value(hits) == pytest.approx(p, rel=1e-9, abs=1e-15)
        assert (d.decide(hits) == "pass") == (p <= d.alpha)


def test_unreachable_power_within_the_cap_is_reported_not_hidden():
    d = size_binomial_test(0.25, 0.3, step=4, n_max=120)
    assert not d.reached and d.n <= 120 and d.power < 0.99
    assert d.power == pytest.approx(max(_upper_tails(n, 0.3)[critical_hits(n, 0.25, 0.01)[0]]
                                        for n in range(4, 121, 4)), abs=1e-12)


@pytest.mark.parametrize("kwargs, words", [({"p0": 0.5, "p1": 0.4}, "must exceed p0"),
                                           ({"p0": 0.0, "p1": 0.4}, "p0 must lie"),
                                           ({"p0": 0.3, "p1": 0.6, "alpha": 0.7}, "alpha must lie"),
                                           ({"p0": 0.3, "p1": 0.6, "step": 10, "n_max": 5}, "n_max")])
def test_bad_design_inputs_are_refused_with_a_clear_message(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        size_binomial_test(**kwargs)


def test_hits_outside_the_sample_are_refused():
    with pytest.raises(ConfigError, match=r"hits must lie in \[0, "):
        size_binomial_test(0.5, 0.9, step=2).decide(-1)


def test_conveyed_alternative():
    assert conveyed_alternative(1 / 3, 1.0, fraction=0.5) == pytest.approx(2 / 3)
    assert conveyed_alternative(0.5, 0.7) == pytest.approx(0.5 + 0.15 * 0.2)  # the default fraction, 0.15
    with pytest.raises(ConfigError):
        conveyed_alternative(0.3, 0.9, fraction=0)
