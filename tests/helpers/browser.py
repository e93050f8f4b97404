"""Headless Debian Chromium via Playwright for the browser tests (report, leaderboard).

Example:
    >>> CHROMIUM.endswith("chromium")
    True
"""
from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def require_chromium() -> None:
    """Skip the calling test, with the reason, when Debian's chromium or playwright is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (make browser-deps)")
    pytest.importorskip("playwright.sync_api", reason="python package playwright not installed")


@contextlib.contextmanager
def open_page(path: Path, width: int = 1200) -> Iterator[tuple[object, list[str]]]:
    """Open a local file in a fresh headless Chromium profile; yields (page, console/page errors)."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="mb_chromium_")
    errors: list[str] = []
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                        args=ARGS, viewport={"width": width, "height": 900})
            page = _load_watched(ctx, path, errors)
            yield page, errors
            ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


#: JavaScript measuring what a reader sees: page height, where the verdict and headline figure sit, broken images
LAYOUT_JS = """() => {
  const box = sel => { const el = document.querySelector(sel); if (!el) return null;
                       const r = el.getBoundingClientRect(); return {top: r.top + scrollY, bottom: r.bottom + scrollY}; };
  const imgs = [...document.images];
  return {height: document.documentElement.scrollHeight, verdict: box('#verdict table'),
          forest: box('#fig-forest_delta img'), n_images: imgs.length,
          broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
          details: [...document.querySelectorAll('details.fold')].map(d => d.open)};
}"""


def open_report(path: Path, *, javascript: bool = True, width: int = 1400, height: int = 1000):
    """Like :func:`open_page` (viewport ``width`` × ``height``), optionally with JavaScript off."""
    return _open(path, javascript=javascript, width=width, height=height)


@contextlib.contextmanager
def _open(path: Path, *, javascript: bool, width: int, height: int) -> Iterator[tuple[object, list[str]]]:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            ctx = browser.new_context(viewport={"width": width, "height": height}, java_script_enabled=javascript)
            page = _load_watched(ctx, path, errors)
            yield page, errors
        finally:
            browser.close()


def _load_watched(ctx, path: Path, errors: list[str]):
    """A new page of ``ctx`` that records console errors, page errors and failed requests, loaded with ``path``."""
    page = ctx.new_page()
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page
