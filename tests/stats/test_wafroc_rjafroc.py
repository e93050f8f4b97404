"""wAFROC FOM and its case jackknife against RJafroc on its published FROC dataset05.

Reference: RJafroc (Chakraborty) dataset05 (Thompson et al. FROC data, 2 treatments x 9 readers,
92 cases), ratings/truth exported under tests/fixtures/rjafroc/; the leave-one-case-out wAFROC FOMs
in ``rjafroc_dataset05_wafroc_jackknife.csv`` are RJafroc's ``UtilPseudoValues(dataset05, "wAFROC")``
jackknife FOMs (see tests/fixtures/README.md).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mammobench.stats.wafroc import jackknife_covariance, wafroc, wafroc_jackknife

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rjafroc"


def _reader_inputs(ratings: pd.DataFrame, truth: pd.DataFrame):
    normal = truth.loc[truth["lesion"] == 0, "case"].to_numpy()
    lesions = truth[truth["lesion"] > 0]
    nl = ratings[ratings["lesion"] == 0].groupby("case")["rating"].max()
    fp = np.array([nl.get(c, -np.inf) for c in normal], dtype=float)
    ll_map = ratings[ratings["lesion"] > 0].groupby(["case", "lesion"])["rating"].max()
    ll = np.array([ll_map.get((c, l), -np.inf) for c, l in zip(lesions["case"], lesions["lesion"])], dtype=float)
    return fp, normal, ll, lesions["weight"].to_numpy(float), lesions["case"].to_numpy()


def test_wafroc_jackknife_matches_rjafroc_dataset05():
    ratings = pd.read_csv(FIXTURES / "rjafroc_dataset05_ratings.csv")
    truth = pd.read_csv(FIXTURES / "rjafroc_dataset05_truth.csv")
    ref = pd.read_csv(FIXTURES / "rjafroc_dataset05_wafroc_jackknife.csv")
    checked = 0
    for (t, r), sub in ref.groupby(["treatment", "reader"]):
        fp, gn, ll, w, gl = _reader_inputs(ratings[(ratings.treatment == t) & (ratings.reader == r)], truth)
        loo = wafroc_jackknife(fp, gn, ll, w, gl)
        cases = np.unique(np.r_[gn, gl])
        expected = sub.set_index("case").loc[cases, "fom_without_case"].to_numpy()
        np.testing.assert_allclose(loo, expected, atol=1e-10)
        assert 0.0 < wafroc(fp, ll, w) < 1.0
        checked += 1
    assert checked == ref.groupby(["treatment", "reader"]).ngroups >= 2


def test_jackknife_covariance_is_the_textbook_formula():
    rng = np.random.default_rng(0)
    loo = rng.normal(size=(3, 20))
    g = loo.shape[1]
    expected = (g - 1) ** 2 / g * np.cov(loo, ddof=1)
    np.testing.assert_allclose(jackknife_covariance(loo), expected)


def test_wafroc_brute_force_small_case():
    fp = np.array([0.2, -np.inf, 0.6])
    ll = np.array([0.9, 0.5, -np.inf])
    w = np.array([0.5, 0.5, 1.0])
    psi = lambda x, y: 1.0 if y > x else 0.5 if y == x else 0.0  # noqa: E731
    case_of = [0, 0, 1]
    brute = sum(w[i] * psi(f, ll[i]) for f in fp for i in range(3)) / (3 * 2)
    assert wafroc(fp, ll, w) == pytest.approx(brute)
    assert len(set(case_of)) == 2
