"""The decision margin and the machine-to-machine tolerance (``stats/margin.py``), and the records that carry it."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from mammobench.errors import StatisticsError
from mammobench.stats.margin import Z_TOLERANCE, decision_margin, is_borderline, z_of_p


def test_z_scale_matches_the_normal_quantile():
    # independent reference: the textbook 1.959964 and scipy's ppf (not isf, which the module uses)
    assert z_of_p(0.05) == pytest.approx(1.959964, abs=1e-6)
    for p in (1e-8, 0.001, 0.3, 0.99):
        assert z_of_p(p) == pytest.approx(norm.ppf(1 - p / 2), rel=1e-9)
    assert z_of_p(1.0) == 0.0 and math.isinf(z_of_p(0.0)) and math.isnan(z_of_p(float("nan")))


@pytest.mark.parametrize("alpha", [0.05, 0.01, 0.0125])
def test_borderline_band_edges(alpha):
    """Just inside the band (|Δz| = tolerance − 0.01) is borderline, just outside (+ 0.01) is not, both sides."""
    z_alpha = norm.ppf(1 - alpha / 2)
    for sign in (+1, -1):
        inside = 2 * norm.sf(z_alpha + sign * (Z_TOLERANCE - 0.01))
        outside = 2 * norm.sf(z_alpha + sign * (Z_TOLERANCE + 0.01))
        assert is_borderline(inside, alpha) and not is_borderline(outside, alpha)
        assert np.sign(decision_margin(inside, alpha)["z_distance"]) == sign


def test_band_at_alpha_005_is_the_documented_interval():
    lo, hi = 2 * norm.sf(1.959964 + Z_TOLERANCE), 2 * norm.sf(1.959964 - Z_TOLERANCE)
    assert lo == pytest.approx(0.0016, abs=5e-5) and hi == pytest.approx(0.45, abs=5e-3)  # docs/statistics.md


def test_missing_or_zero_p_is_never_borderline():
    for p in (None, float("nan"), 0.0):
        m = decision_margin(p, 0.05)
        assert m["borderline"] is False and m["z_distance"] is None and m["threshold"] == 0.05


@pytest.mark.parametrize("p, alpha, match", [(1.2, 0.05, "outside"), (-0.1, 0.05, "outside"),
                                             (0.1, 0.0, "alpha"), (0.1, 1.0, "alpha")])
def test_bad_input_is_refused(p, alpha, match):
    with pytest.raises(StatisticsError, match=match):
        decision_margin(p, alpha)


def test_comparison_records_carry_their_margin():
    from mammobench.evaluation.families import adjust_in_families

    recs = [{"arm": "a", "family": "f", "p_value": p} for p in (1e-6, 0.02, 0.6)]
    out = adjust_in_families(recs, {"multiplicity": "holm", "alpha": 0.05})
    assert [r["threshold"] for r in out] == [0.05] * 3
    # Holm: 3e-6 (far), 0.04 (near α), 0.6 (Δz = 0.52 − 1.96 = −1.44: outside the band)
    assert [r["borderline"] for r in out] == [False, True, False]


def test_audit_records_carry_their_margin_only_with_both_p_and_alpha():
    from mammobench.audits.common import audit_record

    rec = audit_record("g", "memorisation", "dcr_holdout_share", "warn", p=0.03, alpha=0.05)
    assert (rec["p_value"], rec["alpha"], rec["borderline"]) == (0.03, 0.05, True)
    assert "borderline" not in audit_record("g", "fidelity", "fd_ratio", "pass")
    with pytest.raises(ValueError, match="both p and alpha"):
        audit_record("g", "memorisation", "dcr_holdout_share", "warn", p=0.03)


def test_near_duplicate_check_carries_margin_unless_exact_copies_decide():
    from mammobench.audits.leakage import near_duplicate_record

    rng = np.random.default_rng(0)
    train = rng.normal(size=(60, 16))
    train /= np.linalg.norm(train, axis=1, keepdims=True)
    patients, ids = [f"p{i // 2}" for i in range(60)], [f"t{i}" for i in range(60)]
    fresh = rng.normal(size=(20, 16))
    fresh /= np.linalg.norm(fresh, axis=1, keepdims=True)
    rec = near_duplicate_record("g", "val", fresh, [f"v{i}" for i in range(20)], train, patients, ids)
    assert rec["alpha"] == 0.05 and rec["p_value"] == rec["evidence"]["p_excess"]
    copied = near_duplicate_record("g", "val", train[:5], [f"v{i}" for i in range(5)], train, patients, ids)
    assert copied["status"] == "fail" and "borderline" not in copied  # decided by exact copies, not by p
