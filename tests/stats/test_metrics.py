"""Metrics, fairness, multiplicity and clustered AUC against independent references."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from fairlearn.metrics import equalized_odds_difference as fl_eod
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from statsmodels.stats.multitest import multipletests

from mammobench.errors import StatisticsError
from mammobench.stats import metrics as M
from mammobench.stats.clustered_auc import clustered_auc_cov, paired_clustered_test
from mammobench.stats.delong import delong_auc_cov, paired_delong_test
from mammobench.stats.fairness import auc_by_group, equalized_odds_difference, gap, worst_group
from mammobench.stats.multiplicity import adjust_p_values, heterogeneity_wald

Y = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0])
S = np.array([0.1, 0.4, 0.4, 0.8, 0.4, 0.9, 0.2, 0.3, 0.6, 0.7])  # ties at 0.4 across classes


def test_auc_and_balanced_accuracy_match_sklearn():
    assert M.roc_auc(Y, S) == pytest.approx(roc_auc_score(Y, S))
    pred = S > 0.45
    assert M.balanced_accuracy(Y, pred) == pytest.approx(balanced_accuracy_score(Y, pred))


def test_single_class_and_empty_groups_are_undefined():
    with pytest.raises(StatisticsError):
        M.roc_auc([1, 1], [0.2, 0.3])
    with pytest.raises(StatisticsError):
        M.roc_auc([], [])
    with pytest.raises(StatisticsError):
        M.sensitivity([0, 0], [1, 0])
    assert np.isnan(auc_by_group([0, 1, 1], [0.1, 0.9, 0.5], ["a", "a", "b"])["b"])


def test_sensitivity_at_specificity_matches_roc_curve_definition():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.normal(size=200) + y, 1)
    tau = M.threshold_at_specificity(y, s, 0.9)
    neg = np.sort(s[y == 0])
    assert (neg <= tau).mean() >= 0.9 and (neg < tau).mean() < 0.9  # smallest such t
    assert M.sensitivity_at_specificity(y, s, 0.9) == pytest.approx((s[y == 1] > tau).mean())
    sp = M.specificity_at_sensitivity(y, s, 0.8)
    pos = np.sort(s[y == 1])[::-1]
    t = pos[int(np.ceil(0.8 * pos.size)) - 1]
    assert sp == pytest.approx((s[y == 0] < t).mean())


def test_ece_matches_torchmetrics():
    torch = pytest.importorskip("torch")
    from torchmetrics.functional.classification import binary_calibration_error

    rng = np.random.default_rng(0)
    p = rng.random(500)
    y = (rng.random(500) < p ** 1.5).astype(int)
    ref = float(binary_calibration_error(torch.tensor(p), torch.tensor(y), n_bins=10, norm="l1"))
    assert M.ece(y, p, n_bins=10) == pytest.approx(ref, abs=1e-6)


def test_calibration_slope_matches_statsmodels_logit():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(1)
    p = np.clip(rng.random(300), 0.01, 0.99)
    y = (rng.random(300) < p ** 0.7).astype(int)
    fit = sm.Logit(y, sm.add_constant(np.log(p / (1 - p)))).fit(disp=0)
    a, b = M.calibration_slope_intercept(y, p)
    assert (a, b) == pytest.approx(tuple(fit.params), abs=1e-6)


def test_ppv_npv_at_prevalence_matches_reweighting_and_warns():
    pred = S > 0.45
    with pytest.warns(M.EnrichedCohortWarning):
        r = M.ppv_npv_at_prevalence(Y, pred, prevalence=0.01)
    from sklearn.metrics import precision_score
    pi, test_pi = 0.01, Y.mean()
    w = np.where(Y == 1, pi / test_pi, (1 - pi) / (1 - test_pi))
    assert r["ppv"] == pytest.approx(precision_score(Y, pred, sample_weight=w))
    npv_ref = (w * ((Y == 0) & ~pred)).sum() / (w * ~pred).sum()
    assert r["npv"] == pytest.approx(npv_ref)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        M.ppv_npv_at_prevalence(Y, pred, prevalence=0.5)  # not enriched: no warning


def test_equalized_odds_matches_fairlearn():
    rng = np.random.default_rng(2)
    y, pred, g = rng.integers(0, 2, 300), rng.integers(0, 2, 300), rng.choice(["a", "b", "c"], 300)
    for agg in ("worst_case", "mean"):
        assert equalized_odds_difference(y, pred, g, agg=agg) == pytest.approx(
            fl_eod(y, pred, sensitive_features=g, agg=agg))
    aucs = auc_by_group(Y, S, ["a"] * 5 + ["b"] * 5)
    assert worst_group(aucs)[1] == min(aucs.values()) and gap(aucs) == pytest.approx(max(aucs.values()) - min(aucs.values()))


@pytest.mark.parametrize("method,sm_name", [("holm", "holm"), ("bh", "fdr_bh")])
def test_multiplicity_matches_statsmodels(method, sm_name):
    p = np.array([0.001, 0.04, 0.03, 0.2, 0.04, 0.5, 0.011])
    np.testing.assert_allclose(adjust_p_values(p, method), multipletests(p, method=sm_name)[1])
    withnan = adjust_p_values(np.r_[p, np.nan], method)
    assert np.isnan(withnan[-1]) and np.allclose(withnan[:-1], multipletests(p, method=sm_name)[1])


def test_heterogeneity_wald_two_groups_is_squared_z():
    w, df, p = heterogeneity_wald([0.04, -0.01], np.array([[0.0004, 0.0001], [0.0001, 0.0009]]))
    z = 0.05 / np.sqrt(0.0004 + 0.0009 - 0.0002)
    assert df == 1 and w == pytest.approx(z ** 2)


def test_clustered_auc_equals_delong_with_one_image_per_patient():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 80)
    s = np.round(rng.normal(size=(2, 80)) + y, 1)
    np.testing.assert_allclose(clustered_auc_cov(y, s, np.arange(80))[1], delong_auc_cov(y, s)[1], atol=1e-14)
    a = paired_clustered_test(y, s[0], s[1], np.arange(80))
    b = paired_delong_test(y, s[0], s[1])
    assert a.z == pytest.approx(b.z) and a.p_value == pytest.approx(b.p_value)


def test_clustered_auc_literal_example():
    # pos 0.9, 0.5; neg 0.1, 0.5 -> AUC = 3.5/4; V10 = [1, .75], V01 = [1, .75]
    # clusters p = {0.9+, 0.1-}, q = {0.5+, 0.5-}: X - m AUC = Y - n AUC = [.125, -.125]
    # S10 = S01 = 2/(1*2) * 2 * .125^2 = .03125; S11 = 2/1 * 2 * .125^2 = .0625
    y, s, c = [1, 0, 1, 0], [0.9, 0.1, 0.5, 0.5], ["p", "p", "q", "q"]
    aucs, cov = clustered_auc_cov(y, s, c)
    assert aucs[0] == 0.875
    assert cov[0, 0] == pytest.approx(0.03125 / 2 + 0.03125 / 2 + 2 * 0.0625 / 4)
