"""Holm and Benjamini–Hochberg (statsmodels underneath) against the textbook formulas and BH (1995)'s example."""
from __future__ import annotations

import numpy as np
import pytest

from mammobench.errors import StatisticsError
from mammobench.stats.multiplicity import adjust_p_values
from tests.helpers.seeds import data_seed

# Benjamini & Hochberg, JRSS B 1995;57:289–300, section 4.1: 15 p-values from a clinical trial
BH_1995 = np.array([0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262,
                    0.5719, 0.6528, 0.7590, 1.000])


def _holm_textbook(p):
    """p̃_(i) = max_{j≤i} min(1, (M − j + 1) p_(j)) (reference/statistics.md B-2)."""
    order, m = np.argsort(p, kind="mergesort"), len(p)
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.maximum.accumulate(scaled)
    return out


def _bh_textbook(p):
    """p̃_(i) = min_{j≥i} min(1, M p_(j) / j)."""
    order, m = np.argsort(p, kind="mergesort"), len(p)
    scaled = np.minimum(1.0, m * p[order] / np.arange(1, m + 1))
    out = np.empty(m)
    out[order] = np.minimum.accumulate(scaled[::-1])[::-1]
    return out


def test_published_example_rejections():
    """BH reject the four smallest at q = 0.05; the Bonferroni-type (Holm) procedure rejects three."""
    assert (adjust_p_values(BH_1995, "bh") <= 0.05).sum() == 4
    assert (adjust_p_values(BH_1995, "holm") <= 0.05).sum() == 3
    assert (adjust_p_values(BH_1995, "bonferroni") <= 0.05).sum() == 3


@pytest.mark.parametrize("seed", range(5))
def test_equal_to_the_textbook_formulas_including_ties_and_nan(seed):
    rng = np.random.default_rng(data_seed(seed))
    p = np.round(rng.random(25) ** 3, 3)  # rounding makes ties
    np.testing.assert_allclose(adjust_p_values(p, "holm"), _holm_textbook(p), rtol=0, atol=1e-15)
    np.testing.assert_allclose(adjust_p_values(p, "bh"), _bh_textbook(p), rtol=0, atol=1e-15)
    np.testing.assert_allclose(adjust_p_values(p, "fdr_bh"), _bh_textbook(p), rtol=0, atol=1e-15)
    np.testing.assert_allclose(adjust_p_values(p, "bonferroni"), np.minimum(p * p.size, 1.0), atol=1e-15)
    with_nan = adjust_p_values(np.r_[np.nan, p, np.nan], "holm")  # NaN: undefined test, not counted in M
    assert np.isnan(with_nan[[0, -1]]).all() and np.allclose(with_nan[1:-1], _holm_textbook(p))


def test_bad_method_and_p_values():
    with pytest.raises(StatisticsError, match="unknown"):
        adjust_p_values([0.1], "sidak-ish")
    with pytest.raises(StatisticsError, match=r"\[0, 1\]"):
        adjust_p_values([0.1, 1.2], "holm")
    assert np.isnan(adjust_p_values([np.nan], "bh")).all()
