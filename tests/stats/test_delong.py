"""DeLong AUC inference: published pROC values (aSAH), brute-force O(mn) DeLong, sklearn AUC."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mammobench.errors import StatisticsError
from mammobench.stats.delong import delong_auc_cov, delong_ci, delong_placements, paired_delong_test

from tests.helpers.reference_data import ASAH
from tests.helpers.seeds import data_seed


def brute_force_delong(y, scores):
    """Textbook DeLong 1988 with psi(a, b) on all m*n pairs (independent of the mid-rank trick)."""
    y = np.asarray(y, bool)
    scores = np.atleast_2d(np.asarray(scores, float))
    v10s, v01s, aucs = [], [], []
    for s in scores:
        x, z = s[y], s[~y]
        psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
        aucs.append(psi.mean())
        v10s.append(psi.mean(axis=1))
        v01s.append(psi.mean(axis=0))
    v10, v01 = np.array(v10s), np.array(v01s)
    s10 = np.cov(v10, ddof=1).reshape(len(aucs), len(aucs))
    s01 = np.cov(v01, ddof=1).reshape(len(aucs), len(aucs))
    return np.array(aucs), s10 / v10.shape[1] + s01 / v01.shape[1]


def test_asah_matches_published_proc_values():
    d = pd.read_csv(ASAH)
    y = (d.outcome == "Poor").to_numpy()
    s100b = delong_ci(y, d.s100b)
    assert (round(s100b.auc, 4), round(s100b.ci_low, 4), round(s100b.ci_high, 4)) == (0.7314, 0.6301, 0.8326)
    wfns = delong_ci(y, d.wfns)
    assert (round(wfns.auc, 4), round(wfns.ci_low, 4), round(wfns.ci_high, 4)) == (0.8237, 0.7485, 0.8988)
    ndka = delong_ci(y, d.ndka)
    assert abs(ndka.auc - 0.6119) < 1e-4  # 0.61196 (pROC prints 0.6119/0.612)
    # pROC's own ci.auc(aSAH$outcome, aSAH$ndka) gives 0.5012-0.7227; its DeLong variance is also the
    # one the published paired test below (Z = 1.3908) needs, so the two figures are consistent.
    assert (round(ndka.ci_low, 4), round(ndka.ci_high, 4)) == (0.5012, 0.7227)
    test = paired_delong_test(y, d.s100b, d.ndka)
    assert round(test.z, 4) == 1.3908 and round(test.p_value, 4) == 0.1643


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_delong_equals_brute_force_with_ties(seed):
    rng = np.random.default_rng(data_seed(seed))
    y = rng.integers(0, 2, 60)
    y[:2] = [0, 1]
    scores = np.round(rng.normal(size=(3, 60)) + y, 1)  # rounding creates many ties
    aucs, cov = delong_auc_cov(y, scores)
    ref_aucs, ref_cov = brute_force_delong(y, scores)
    np.testing.assert_allclose(aucs, ref_aucs, atol=1e-12)
    np.testing.assert_allclose(cov, ref_cov, atol=1e-12)
    for k in range(3):
        assert aucs[k] == pytest.approx(roc_auc_score(y, scores[k]), abs=1e-12)


def test_literal_small_example_with_ties():
    y = [0, 0, 0, 1, 1]
    s = [0.1, 0.5, 0.5, 0.5, 0.9]
    auc, v10, v01 = delong_placements(y, s)
    # positive 0.5 beats 0.1 and ties two 0.5s -> (1 + .5 + .5)/3; positive 0.9 beats all
    np.testing.assert_allclose(v10[0], [2 / 3, 1.0])
    np.testing.assert_allclose(v01[0], [1.0, 0.75, 0.75])
    assert auc[0] == pytest.approx(roc_auc_score(y, s))


def test_single_class_and_bad_input_raise():
    with pytest.raises(StatisticsError, match="undefined"):
        delong_ci([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(StatisticsError, match="NaN"):
        delong_ci([0, 1, 1], [0.1, np.nan, 0.3])
    with pytest.raises(StatisticsError, match="0/1"):
        delong_ci([0, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(StatisticsError, match="shape"):
        delong_ci([0, 1, 1], [0.1, 0.2])


def test_identical_scores_give_p_one():
    t = paired_delong_test([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4])
    assert t.difference == 0 and t.p_value == 1.0
    assert np.isnan(t.ci_low) and "order every case pair the same way" in t.note


@pytest.mark.parametrize("y,s,note", [
    ([0, 1], [0.3, 0.7], "n_pos=1"),
    ([0, 0, 1], [0.3, 0.1, 0.7], "n_pos=1"),
    ([0, 1, 1], [0.3, 0.1, 0.7], "n_neg=1"),
    ([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5], "all scores tie"),
    ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], "zero DeLong variance: the score separates the classes completely"),
])
def test_degenerate_inputs_give_a_ci_that_says_it_cannot_be_estimated(y, s, note):
    res = delong_ci(y, s)
    assert res.note == note and not res.estimable
    assert np.isnan(res.ci_low) and np.isnan(res.ci_high) and res.warnings == ()


def test_small_classes_warn_and_large_ones_do_not():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(40, int), np.ones(9, int)]
    assert "fewer than 10 in a class" in delong_ci(y, rng.normal(size=49) + y).warnings[0]
    y = np.r_[np.zeros(40, int), np.ones(10, int)]
    res = delong_ci(y, rng.normal(size=50) + y)
    assert res.warnings == () and res.estimable and res.ci_low < res.auc < res.ci_high


def test_paired_test_with_zero_variance_but_different_aucs_is_not_estimable():
    t = paired_delong_test([0, 1], [0.1, 0.9], [0.9, 0.1])
    assert t.difference == 1.0 and np.isnan(t.p_value) and np.isnan(t.ci_low) and t.note
