"""Fairness gaps against fairlearn, and the one place we differ on purpose (groups without a class)."""
from __future__ import annotations

import numpy as np
import pytest
from fairlearn.metrics import MetricFrame, equalized_odds_difference as fl_eod, false_positive_rate, true_positive_rate

from mammobench.stats.fairness import equalized_odds_difference, group_rates
from tests.helpers.seeds import data_seed


def _data(seed: int, n: int = 400, groups: str = "abcd"):
    rng = np.random.default_rng(data_seed(seed))
    y = rng.integers(0, 2, n)
    g = rng.choice(list(groups), n)
    pred = (rng.random(n) < 0.3 + 0.4 * y + 0.05 * (g == "a")).astype(int)
    return y, pred, g


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rates_and_equalized_odds_equal_fairlearn_when_every_group_has_both_classes(seed):
    y, pred, g = _data(seed)
    frame = MetricFrame(metrics={"tpr": true_positive_rate, "fpr": false_positive_rate}, y_true=y, y_pred=pred,
                        sensitive_features=g)
    ours = group_rates(y, pred, g)
    for name, row in frame.by_group.iterrows():
        assert ours[name]["status"] == "ok"
        assert ours[name]["tpr"] == pytest.approx(row["tpr"], abs=1e-15)
        assert ours[name]["fpr"] == pytest.approx(row["fpr"], abs=1e-15)
    for agg in ("worst_case", "mean"):
        assert equalized_odds_difference(y, pred, g, agg=agg) == pytest.approx(
            fl_eod(y, pred, sensitive_features=g, agg=agg), abs=1e-15)


def test_a_group_without_positives_is_flagged_not_counted_as_zero():
    """fairlearn reads the 0/0 TPR of a cancer-free group as 0 and reports that as a gap; we leave it out."""
    y, pred, g = _data(5)
    y = np.where(g == "d", 0, y)  # group d: no positives
    ours = group_rates(y, pred, g)
    assert ours["d"]["status"] == "undefined (no positives)" and np.isnan(ours["d"]["tpr"])
    fl = MetricFrame(metrics=true_positive_rate, y_true=y, y_pred=pred, sensitive_features=g).by_group
    assert fl["d"] == 0.0  # fairlearn's convention
    keep = g != "d"
    tpr_gap_without_d = max(ours[k]["tpr"] for k in "abc") - min(ours[k]["tpr"] for k in "abc")
    fpr_gap_all = max(ours[k]["fpr"] for k in "abcd") - min(ours[k]["fpr"] for k in "abcd")
    assert equalized_odds_difference(y, pred, g) == pytest.approx(max(tpr_gap_without_d, fpr_gap_all))
    assert fl_eod(y, pred, sensitive_features=g) > equalized_odds_difference(y, pred, g)  # fairlearn's 0 widens it
    assert fl_eod(y[keep], pred[keep], sensitive_features=g[keep]) == pytest.approx(
        max(tpr_gap_without_d, max(ours[k]["fpr"] for k in "abc") - min(ours[k]["fpr"] for k in "abc")))
