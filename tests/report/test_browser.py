"""The report in headless Chromium: the answer on the first screen, figures load, collapse/sort/filter work,
no console errors (a CSP violation of the inline script would be one), and everything shows without JavaScript.

The first tests use the computed fake run (fast, every section); ``test_smoke_report_first_screen`` loads the
report of a real ``mammobench run --profile smoke``; the slow test bounds the quick report's height and size.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mammobench.io import read_json
from mammobench.report.render import render_report

from tests.helpers.browser import LAYOUT_JS, open_report, require_chromium
from tests.helpers.pipeline_run import run_cli_profile
from tests.helpers.run_fixture import rendered_run_copy

KEY_SECTIONS = ("#simulated-banner", "#verdict", "#plan", "#utility", "#metrics", "#comparisons", "#fairness",
                "#audits", "#samples", "#cohort", "#partitions", "#calibration", "#reader-study", "#checklists",
                "#provenance", "#selftest", "#toc")
FIRST_SCREEN_PX = 1000
MAX_HEIGHT_PX = 15_000
MAX_HTML_BYTES = 1_500_000


@pytest.fixture(scope="module")
def fake_report(tmp_path_factory):
    return rendered_run_copy(tmp_path_factory.mktemp("browser"), selftest=True, reader_study=True) / "report.html"


def _assert_first_screen(layout: dict) -> None:
    assert layout["verdict"] and layout["forest"], layout
    assert layout["verdict"]["top"] < FIRST_SCREEN_PX, layout["verdict"]
    assert layout["forest"]["bottom"] <= FIRST_SCREEN_PX, f"headline forest plot ends at {layout['forest']}"


@pytest.mark.browser
def test_first_screen_figures_and_no_errors(fake_report):
    require_chromium()
    with open_report(fake_report) as (page, errors):
        for selector in KEY_SECTIONS:
            assert page.locator(selector).count() == 1, selector
        layout = page.evaluate(LAYOUT_JS)
        verdict_text = page.locator("#verdict").inner_text()
        toc_position = page.evaluate("getComputedStyle(document.querySelector('#toc')).position")
    assert errors == []
    _assert_first_screen(layout)
    assert layout["n_images"] >= 10 and layout["broken"] == []
    assert "ddpm_r1" in verdict_text and "[" in verdict_text and "vs α" in verdict_text
    assert toc_position == "sticky"


@pytest.mark.browser
def test_collapse_reveal_sort_and_filter(fake_report):
    require_chromium()
    with open_report(fake_report) as (page, errors):
        assert not any(page.evaluate(LAYOUT_JS)["details"]), "JS must collapse every details.fold on load"
        assert not page.locator("#metrics table").is_visible()
        page.locator("#metrics > summary").click()
        assert page.locator("#metrics table").is_visible()
        page.locator("#metrics > summary").click()
        assert not page.locator("#metrics table").is_visible()
        # a link into a collapsed table opens it (checklist evidence links point at such anchors)
        page.evaluate("location.hash = '#comparisons'")
        page.wait_for_function("document.querySelector('#comparisons').open")
        # filter by arm: only that arm's rows stay visible
        page.locator("#comparisons select[data-field=arm]").select_option("ddpm_r1")
        arms = page.eval_on_selector_all("#comparisons tbody tr:not([hidden])", "rs => rs.map(r => r.dataset.arm)")
        assert arms and set(arms) == {"ddpm_r1"}
        # sort by the Δ column, ascending: numbers in order
        header = page.locator("#comparisons th", has_text="Δ auc")
        header.click()
        cells = page.eval_on_selector_all("#comparisons tbody tr:not([hidden]) td:nth-child(3)",
                                          "cs => cs.map(c => parseFloat(c.textContent))")
        assert cells == sorted(cells) and len(cells) > 3
        header.click()
        cells = page.eval_on_selector_all("#comparisons tbody tr:not([hidden]) td:nth-child(3)",
                                          "cs => cs.map(c => parseFloat(c.textContent))")
        assert cells == sorted(cells, reverse=True)
    assert errors == []


@pytest.mark.browser
def test_without_javascript_everything_is_expanded(fake_report):
    require_chromium()
    with open_report(fake_report, javascript=False) as (page, errors):
        layout = page.evaluate(LAYOUT_JS)
        assert page.locator("#metrics table").is_visible()
    assert layout["details"] and all(layout["details"])
    assert layout["broken"] == [] and errors == []


@pytest.mark.browser
def test_smoke_report_first_screen(smoke_report_run):
    """The report of a real smoke run: answer and headline forest plot on the first screen, all figures load."""
    require_chromium()
    with open_report(smoke_report_run / "report.html") as (page, errors):
        layout = page.evaluate(LAYOUT_JS)
        page.locator("#samples-more-figures > summary").click()
        grid_visible = page.locator("#samples img").first.is_visible()
    assert errors == []
    _assert_first_screen(layout)
    assert layout["broken"] == [] and layout["n_images"] >= 10
    assert grid_visible and not any(layout["details"])


@pytest.mark.slow
@pytest.mark.browser
def test_quick_report_height_and_size(tmp_path):
    """The default quick report: under 15,000 px tall with sections collapsed and under 1.5 MB of HTML.

    Runs ``mammobench run`` (quick profile, ~10 min on 2 cores); with ``MAMMOBENCH_QUICK_RUN=<run folder>``
    it re-renders a copy of that finished quick run instead (the report is a function of the run's files).
    """
    require_chromium()
    given = os.environ.get("MAMMOBENCH_QUICK_RUN")
    if given:
        run = Path(shutil.copytree(given, tmp_path / Path(given).name))
        render_report(run)
    else:
        run = run_cli_profile("quick", tmp_path / "runs", tmp_path / "cache", timeout=3600)
    assert read_json(run / "result.json")["profile"] == "quick"
    html = run / "report.html"
    with open_report(html) as (page, errors):
        layout = page.evaluate(LAYOUT_JS)
    assert errors == [] and layout["broken"] == []
    _assert_first_screen(layout)
    assert layout["height"] < MAX_HEIGHT_PX, f"collapsed report is {layout['height']} px tall"
    assert html.stat().st_size < MAX_HTML_BYTES, f"report.html is {html.stat().st_size} bytes"
