"""The report opens in headless Chromium without console errors and shows its key sections."""
from __future__ import annotations

import pytest

from tests.helpers.browser import open_page, require_chromium
from tests.helpers.run_fixture import rendered_run_copy

KEY_SECTIONS = ("#simulated-banner", "#verdict", "#plan", "#utility", "#metrics", "#comparisons", "#fairness",
                "#audits", "#samples", "#cohort", "#partitions", "#calibration", "#reader-study", "#checklists",
                "#provenance", "#selftest")


@pytest.mark.browser
def test_report_renders_in_chromium(tmp_path):
    require_chromium()
    run = rendered_run_copy(tmp_path, selftest=True, reader_study=True)
    with open_page(run / "report.html") as (page, errors):
        for selector in KEY_SECTIONS:
            assert page.locator(selector).count() == 1, selector
        broken = page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).length")
        n_images = page.evaluate("document.images.length")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=False)
        page.locator("#verdict").scroll_into_view_if_needed()
        verdict_text = page.locator("#verdict + div").inner_text()
    assert errors == []
    assert n_images >= 10 and broken == 0
    assert shot.stat().st_size > 10_000
    assert "ddpm_r1" in verdict_text and "[" in verdict_text
