"""OR–Hillis MRMC analysis against the published Van Dyke results and an independent DBM check."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mammobench.commands import reader as reader_cmd
from mammobench.errors import StatisticsError
from mammobench.reader.analysis.io import read_ratings, to_mrmc_data
from mammobench.stats.mrmc import MRMCData, empirical_auc, jackknife_cov, reader_aucs
from mammobench.stats.obuchowski_rockette import or_hillis
from mammobench.reader.power import VANDYKE_PILOT, mrmc_power

from tests.helpers.reference_data import VANDYKE


@pytest.fixture(scope="module")
def vandyke() -> MRMCData:
    return to_mrmc_data(read_ratings(VANDYKE))


def test_vandyke_matches_published_mrmcaov_rjafroc(vandyke):
    """MRMCaov vignette / RJafroc StOldCi: empirical AUC, jackknife, OR with Hillis df, RRRC."""
    res = or_hillis(vandyke)
    aucs = [t["auc"] for t in res["treatments"]]
    assert aucs == pytest.approx([0.8970, 0.9408], abs=5e-5)
    rr = res["rrrc"]
    diff = rr["differences"][0]
    assert diff["estimate"] == pytest.approx(-0.0438, abs=5e-5)
    assert rr["f"] == pytest.approx(4.4563, abs=5e-5)
    assert rr["df1"] == 1
    assert rr["df2"] == pytest.approx(15.2597, abs=5e-5)
    assert rr["p_value"] == pytest.approx(0.0517, abs=5e-5)
    assert (diff["ci_low"], diff["ci_high"]) == pytest.approx((-0.0880, 0.0004), abs=5e-5)
    # RJafroc book ch. 10C OR variance components and mean squares (jackknife)
    cov = res["covariance"]
    assert [cov[k] for k in ("var", "cov1", "cov2", "cov3")] == pytest.approx(
        [0.00080229, 0.00034661, 0.00034407, 0.00023903], abs=5e-9)
    assert res["mean_squares"]["ms_t"] == pytest.approx(0.00479617, abs=5e-9)
    assert res["mean_squares"]["ms_tr"] == pytest.approx(0.00055103, abs=5e-9)


def _brute_auc(truth, rating):
    pos, neg = rating[truth == 1], rating[truth == 0]
    return ((pos[:, None] > neg[None]).mean() + 0.5 * (pos[:, None] == neg[None]).mean())


def test_or_jackknife_equals_dbm_hillis(vandyke):
    """DBM on jackknife pseudovalues with Hillis df gives the OR F test exactly (B-6.4)."""
    t, r, c = vandyke.ratings.shape
    theta = reader_aucs(vandyke)
    keep = np.ones(c, bool)
    loo = np.empty((t, r, c))
    for k in range(c):
        keep[k] = False
        for i, j in np.ndindex(t, r):
            loo[i, j, k] = _brute_auc(vandyke.truth[keep], vandyke.ratings[i, j, keep])
        keep[k] = True
    y = c * theta[:, :, None] - (c - 1) * loo
    m = y.mean()
    mi, mj, mk = y.mean((1, 2)), y.mean((0, 2)), y.mean((0, 1))
    mij, mik = y.mean(2), y.mean(1)
    ms_t = r * c * ((mi - m) ** 2).sum() / (t - 1)
    ms_tr = c * ((mij - mi[:, None] - mj[None] + m) ** 2).sum() / ((t - 1) * (r - 1))
    ms_tc = r * ((mik - mi[:, None] - mk[None] + m) ** 2).sum() / ((t - 1) * (c - 1))
    mjk = y.mean(0)
    resid = y - mij[:, :, None] - mik[:, None, :] - mjk[None] + mi[:, None, None] + mj[None, :, None] + mk - m
    ms_trc = (resid ** 2).sum() / ((t - 1) * (r - 1) * (c - 1))
    denom = ms_tr + max(ms_tc - ms_trc, 0)
    f_dbm = ms_t / denom
    ddf = denom ** 2 / (ms_tr ** 2 / ((t - 1) * (r - 1)))
    res = or_hillis(vandyke)["rrrc"]
    assert res["f"] == pytest.approx(f_dbm, rel=1e-9)
    assert res["df2"] == pytest.approx(ddf, rel=1e-9)
    # the closed-form jackknife equals brute-force leave-one-out
    flat = loo.reshape(t * r, c)
    centred = flat - flat.mean(axis=1, keepdims=True)
    assert jackknife_cov(vandyke) == pytest.approx((c - 1) / c * centred @ centred.T, abs=1e-12)


def test_delong_option_matches_single_reader_delong(vandyke):
    from mammobench.stats.delong import delong_ci

    res = or_hillis(vandyke, cov_method="delong")
    one = delong_ci(vandyke.truth, vandyke.ratings[0, 0])
    assert res["reader_aucs"][0]["auc"] == pytest.approx(one.auc)
    assert 4.0 < res["rrrc"]["f"] < 5.0 and 14 < res["rrrc"]["df2"] < 16


def test_power_reproduces_pilot_hillis_df(vandyke):
    res = or_hillis(vandyke)
    for key in ("var", "cov1", "cov2", "cov3"):
        assert VANDYKE_PILOT[key] == pytest.approx(res["covariance"][key], rel=1e-12)
    assert VANDYKE_PILOT["ms_tr"] == pytest.approx(res["mean_squares"]["ms_tr"], rel=1e-12)
    assert mrmc_power(0.04, 5, 114)["ddf"] == pytest.approx(res["rrrc"]["df2"], rel=1e-9)
    small, big = mrmc_power(0.05, 5, 100)["power"], mrmc_power(0.05, 10, 400)["power"]
    assert 0 < small < big < 1


def test_cli_analyze_json_default(capsys):
    assert reader_cmd.main(["analyze", str(VANDYKE), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cov_method"] == "jackknife"
    assert out["rrrc"]["df2"] == pytest.approx(15.2597, abs=5e-5)
    assert reader_cmd.main(["analyze", str(VANDYKE)]) == 0
    text = capsys.readouterr().out
    assert "F = 4.4563, df1 = 1, df2 = 15.2597, p = 0.0517" in text


def test_empirical_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 60)
    s = rng.integers(1, 6, 60)
    assert empirical_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    with pytest.raises(StatisticsError):
        empirical_auc([1, 1], [0.2, 0.3])


def test_single_treatment_and_too_few_readers():
    rng = np.random.default_rng(0)
    truth = np.r_[np.zeros(15, int), np.ones(15, int)]
    data = MRMCData(rng.normal(size=(1, 3, 30)) + truth, truth, ["t"], ["a", "b", "c"], [str(k) for k in range(30)])
    res = or_hillis(data)
    assert "rrrc" not in res and res["treatments"][0]["ci_low"] < res["treatments"][0]["auc"]
    one = MRMCData(data.ratings[:, :1], truth, ["t"], ["a"], data.cases)
    with pytest.raises(StatisticsError, match="at least 2 readers"):
        or_hillis(one)
    with pytest.raises(StatisticsError, match="unknown covariance"):
        or_hillis(data, cov_method="bootstrap")


def test_degenerate_studies_give_notes_not_division_errors():
    """Every reader rates identically: MS(R) = MS(TR) = 0 — statistics NaN with a note, no ZeroDivisionError."""
    rng = np.random.default_rng(1)
    truth = np.r_[np.zeros(10, int), np.ones(10, int)]
    one = rng.normal(size=20) + truth
    ratings = np.stack([np.stack([one, one, one]), np.stack([one, one, one])])
    res = or_hillis(MRMCData(ratings, truth, ["A", "B"], ["a", "b", "c"], [str(k) for k in range(20)]))
    assert np.isnan(res["rrrc"]["f"]) and "not estimable" in res["rrrc"]["note"]
    assert np.isnan(res["rrfc"]["f"]) and "not estimable" in res["rrfc"]["note"]
    assert all(np.isnan(d["ci_low"]) for d in res["rrrc"]["differences"])
    assert res["treatments"][0]["df"] == float("inf")  # MS(R) = 0: the single-test df is infinite
