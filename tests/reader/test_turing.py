"""Visual Turing test analysis and sample size against scipy/statsmodels/sklearn references."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from mammobench.errors import StatisticsError
from mammobench.reader.analysis.turing import clopper_pearson, fleiss_kappa, tost_binomial, turing_analysis
from mammobench.reader.power import tost_power_exact, turing_detect_n, turing_tost_n


def _reads(n_readers=4, n_images=40, shift=0.0, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_readers):
        for c in range(n_images):
            truth = c % 2
            rating = int(np.clip(np.round(rng.normal(5.5 + shift * (2 * truth - 1), 2.5)), 1, 10))
            rows.append({"reader": f"R{r}", "treatment": "turing", "case": f"c{c}", "truth": truth,
                         "rating": float(rating), "call": int(rating > 5)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("x,n", [(0, 10), (3, 10), (10, 10), (57, 120), (1, 2)])
def test_clopper_pearson_matches_scipy(x, n):
    ref = binomtest(x, n).proportion_ci(confidence_level=0.95, method="exact")
    assert clopper_pearson(x, n) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_per_reader_and_pooled_against_hand_computation():
    table = _reads(shift=1.0)
    res = turing_analysis(table, n_boot=300, seed=1)
    for row in res["per_reader"]:
        reads = table[table["reader"] == row["reader"]]
        correct = int((reads["call"] == reads["truth"]).sum())
        assert row["correct"] == correct and row["accuracy"] == correct / len(reads)
        assert row["p_value"] == pytest.approx(binomtest(correct, len(reads), 0.5).pvalue)
        assert row["auc"] == pytest.approx(roc_auc_score(reads["truth"], reads["rating"]))
        synth = reads[reads["truth"] == 1]
        assert row["sensitivity_synthetic"] == pytest.approx((synth["call"] == 1).mean())
    correct = int((table["call"] == table["truth"]).sum())
    assert res["pooled"]["accuracy"] == correct / len(table)
    ref = binomtest(correct, len(table)).proportion_ci(method="exact")
    assert (res["pooled"]["ci_low"], res["pooled"]["ci_high"]) == pytest.approx((ref.low, ref.high))
    assert res["reader_averaged_auc"]["auc"] == pytest.approx(np.mean([r["auc"] for r in res["per_reader"]]))
    low, high = res["tost"]["bootstrap_low"], res["tost"]["bootstrap_high"]
    assert low < res["pooled"]["accuracy"] < high


def test_tost_equals_90_percent_exact_ci_inside_margin():
    for n in (50, 214, 400):
        for x in range(0, n + 1, max(1, n // 40)):
            res = tost_binomial(x, n, 0.1)
            low, high = clopper_pearson(x, n, 0.10)
            assert res["equivalent"] == (low > 0.4 and high < 0.6), (x, n)


def test_indistinguishable_needs_equivalence_not_just_nonsignificance():
    """Margins (#17.1), none a decision near its threshold:

    * chance, 1,200 reads at accuracy 0.5: the 90 % CI (half-width ≈ 1.645 × 0.0144) lies inside
      (0.4, 0.6) unless |accuracy − 0.5| > 0.076, i.e. > 5 SD (P ≈ 1e-7); the two-way bootstrap is wider
      by at most ≈ 1.4 × here (no reader effect), still > 3.5 SD.
    * small, 40 reads: no outcome can show equivalence — even at 20/40 the exact 90 % CI is
      (0.361, 0.639), wider than (0.4, 0.6) — so "not shown" holds for every draw. (The former check
      "one reader's p > 0.05" was a single-sample decision with P ≈ 0.998 and is gone.)
    * obvious, 160 reads at expected accuracy ≈ 0.88 (shift 3 on a 2.5-SD rating): 0.75 is 5 SD below.
    """
    chance = turing_analysis(_reads(n_readers=6, n_images=200, shift=0.0, seed=2), n_boot=300)
    assert chance["tost"]["equivalent"] and chance["conclusion"].startswith("indistinguishable")
    small = turing_analysis(_reads(n_readers=2, n_images=20, shift=0.0, seed=2), n_boot=300)
    assert all(0.0 <= r["p_value"] <= 1.0 for r in small["per_reader"])
    assert small["conclusion"].startswith("not shown")  # too few reads: not shown, not assumed
    assert clopper_pearson(20, 40, 0.10)[0] < 0.4  # why it cannot be shown at 40 reads, whatever the draw
    obvious = turing_analysis(_reads(shift=3.0, seed=3), n_boot=300)
    assert obvious["pooled"]["accuracy"] > 0.75 and obvious["conclusion"].startswith("not shown")


def test_fleiss_kappa_matches_statsmodels():
    rng = np.random.default_rng(5)
    for k in (2, 3):
        counts = rng.multinomial(5, np.ones(k) / k, size=30)
        assert fleiss_kappa(counts) == pytest.approx(sm_fleiss_kappa(counts, method="fleiss"))
    table = _reads(shift=1.0)
    wide = table.pivot(index="case", columns="reader", values="call")
    counts = np.column_stack([(wide == 0).sum(axis=1), (wide == 1).sum(axis=1)])
    res = turing_analysis(table, n_boot=100)
    assert res["fleiss"]["kappa"] == pytest.approx(sm_fleiss_kappa(counts))
    with pytest.raises(StatisticsError):
        fleiss_kappa(np.array([[1, 0], [2, 0]]))


def test_calls_derived_from_threshold_and_margin_checked():
    table = _reads().drop(columns="call")
    res = turing_analysis(table, threshold=5, n_boot=50)
    assert res["pooled"]["correct"] == int(((table["rating"] > 5).astype(int) == table["truth"]).sum())
    with pytest.raises(StatisticsError, match="margin"):
        turing_analysis(table, margin=0.6)


def test_sample_sizes_match_reference_table():
    """statistics.md B-7 (computed): 0.65 -> 85, 0.60 -> 194, 0.70 -> 47; TOST ±0.10 ≈ 214, ±0.05 ≈ 857."""
    assert [turing_detect_n(p) for p in (0.65, 0.60, 0.70)] == [85, 194, 47]
    assert turing_tost_n(0.10) in (214, 215) and turing_tost_n(0.05) in (857, 858)
    assert 0.78 < tost_power_exact(214, 0.10) < 0.85
    assert tost_power_exact(20, 0.10) == 0.0
