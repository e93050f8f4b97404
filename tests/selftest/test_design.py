"""The self-test's power design table: underpowered rows come from the table, never from the observed p."""
from __future__ import annotations

import pytest

from mammobench.commands.selftest import format_table
from mammobench.errors import ConfigError
from mammobench.results import PROFILES
from mammobench.selftest.design import POWER_DESIGN, apply_design, powered_profiles
from mammobench.selftest.trials import TRIALS, counts_as_failure, trial_record


def _harmful(significant: bool, p_adjusted: float) -> dict:
    comps = [{"arm": "planted_harmful", "metric": "auc", "family": "delong_conditional", "primary": True,
              "attribute": None, "group": None, "estimate": -0.05, "ci_low": -0.09, "ci_high": -0.01,
              "p_value": p_adjusted, "p_adjusted": p_adjusted, "significant": significant}]
    return {"comparisons": comps, "fairness": [], "audits": []}


def test_every_trial_has_a_design_row_naming_real_profiles():
    from mammobench.selftest.detection_trials import DETECTION_TRIALS

    assert set(POWER_DESIGN) == set(TRIALS) | set(DETECTION_TRIALS)
    for name, (profiles, why) in POWER_DESIGN.items():
        assert set(profiles) <= set(PROFILES) and why, name
        # the default self-test profile powers every trial (measured over fresh-seed repeats; docs/selftest.md)
        assert "quick" in profiles, name
    with pytest.raises(ConfigError, match="power design table"):
        powered_profiles("planted_unknown")


def test_a_trial_no_profile_powers_is_underpowered_everywhere_and_says_so(monkeypatch):
    comps = [{"arm": "planted_missing_type", "metric": "auc", "primary": True, "attribute": None, "group": None,
              "estimate": 0.02, "p_adjusted": 0.3, "significant": False}]
    monkeypatch.setitem(POWER_DESIGN, "helpful", ((), "not powered at any profile (a test's design row)"))
    for profile in ("smoke", "quick", "full"):
        rec = trial_record(TRIALS["helpful"], {"comparisons": comps, "fairness": [], "audits": []}, "auc", profile)
        assert rec["status"] == "underpowered" and rec["powered_at"] == [] and not counts_as_failure(rec)
        assert rec["power"].endswith("no profile powers it yet (docs/selftest.md, 'Power design')")


@pytest.mark.parametrize("p_adjusted, significant", [(1e-6, True), (0.9, False)])
def test_smoke_comparison_rows_are_underpowered_whatever_the_p(p_adjusted, significant):
    """Same row status for a tiny and a large p: the decision reads the table, not the result."""
    rec = trial_record(TRIALS["harmful"], _harmful(significant, p_adjusted), "auc", "smoke")
    assert rec["status"] == "underpowered" and rec["powered_at"] == ["quick", "full"]
    assert rec["power"].endswith("use --profile quick") and not counts_as_failure(rec)


def test_powered_rows_pass_or_fail_on_agreement():
    agree = trial_record(TRIALS["harmful"], _harmful(True, 0.001), "auc", "quick")
    disagree = trial_record(TRIALS["harmful"], _harmful(False, 0.3), "auc", "quick")
    assert (agree["status"], disagree["status"]) == ("pass", "fail")
    assert not counts_as_failure(agree) and counts_as_failure(disagree)
    assert trial_record(TRIALS["leaker"], _harmful(True, 0.001), "auc", "smoke")["status"] == "fail"  # not run


def test_table_shows_underpowered_and_the_profile_to_use():
    rows = [trial_record(TRIALS["null"], _harmful(False, 0.5), "auc", "smoke"),
            trial_record(TRIALS["harmful"], _harmful(False, 0.5), "auc", "quick")]
    text = format_table(rows).splitlines()
    null_row = next(line for line in text if line.startswith("planted_null"))
    assert "underpowered" in null_row and "use --profile quick" in null_row
    assert " NO " in next(line for line in text if line.startswith("planted_harmful"))


def test_apply_design_needs_a_known_trial():
    with pytest.raises(ConfigError, match="planted_x"):
        apply_design({"trial": "planted_x", "agree": True}, "smoke")
