"""The committed leaderboard: every baseline on every built-in virtual-cohort task, verified, pages = a rebuild.

The bundles under ``leaderboard/results/`` are produced by ``mammobench leaderboard bundles`` (quick runs signed
with the project's results key, docs/leaderboard.md); nothing here re-runs them — these tests check that what
is committed verifies against ``display.yaml``'s trusted keys and that the pages are a pure function of it.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from mammobench.leaderboard.build import check_up_to_date, collect
from mammobench.leaderboard.bundles import BASELINES, virtual_cohort_tasks
from tests.helpers.browser import open_page, require_chromium

BOARD = Path(__file__).resolve().parents[2] / "leaderboard"


def test_committed_pages_equal_a_rebuild():
    assert check_up_to_date(BOARD) == [], "leaderboard pages are stale: run `mammobench leaderboard build`"


def test_every_committed_bundle_verifies_under_a_trusted_key():
    report = collect(BOARD)
    assert report.rejected == [], report.rejected
    assert report.trusted_keys >= 1


def test_every_baseline_has_a_simulated_quick_row_on_every_virtual_cohort_task():
    rows = collect(BOARD).rows
    have = {(r["generator"], r["task"]) for r in rows}
    want = {(g, t) for g in BASELINES for t in virtual_cohort_tasks()}
    assert want <= have, sorted(want - have)
    for row in rows:
        assert row["simulated"] is True and row["profile"] == "quick" and row["machine"], row


@pytest.mark.browser
def test_committed_page_in_chromium_shows_every_row_and_the_forest_plot(tmp_path):
    require_chromium()
    rows = collect(BOARD).rows
    with open_page(BOARD / "index.html") as (page, errors):
        assert page.locator("table.board tbody tr").count() == len(rows)
        assert page.locator("svg.forest g.forest-row").count() == len(rows)
        page.screenshot(path=str(tmp_path / "leaderboard.png"), full_page=True)
    assert errors == []


def test_ece_below_its_bootstrap_ci_is_not_a_crosscheck_problem():
    from mammobench.leaderboard.crosscheck import result_problems

    base = {"comparisons": [], "fairness": [], "arms": [], "cohort": {}}
    ece = {"metric": "ece", "value": 0.028, "ci_low": 0.030, "ci_high": 0.093}   # biased upward when resampled
    auc = {"metric": "auc", "value": 0.9, "ci_low": 0.5, "ci_high": 0.8}
    problems = result_problems({**base, "metrics": [ece, auc]}, {}, {})
    assert not any("ece" in p for p in problems), problems
    assert "metrics[1] auc: value 0.9 outside its CI [0.5, 0.8]" in problems
