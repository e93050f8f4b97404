"""Acceptance: a real browser signs in with a reader's code link, reads cases, the server is SIGKILLed
mid-session, nothing is lost; a page on another origin cannot sign a reader in (login CSRF)."""
from __future__ import annotations

import functools
import http.server
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mammobench.reader.builder import build_study
from mammobench.reader.export import export_ratings
from tests.helpers.reader import make_folder, reader_codes

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
              pytest.mark.timeout(120)]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(study: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "mammobench.cli", "reader", "serve", str(study),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"reading app did not start: {proc.stdout.read().decode()}")


def _rate(page, call: str, confidence: int) -> str:
    case_text = page.locator("#pos").inner_text()
    page.click(f"button[data-call='{call}']")
    page.click(f"button[data-conf='{confidence}']")
    page.click("#submit")
    page.wait_for_function("(t) => document.getElementById('pos').innerText !== t", arg=case_text)
    return case_text


def _sessions(study: Path, reader: str) -> int:
    with sqlite3.connect(study / "answers.sqlite") as db:
        return db.execute("SELECT COUNT(*) FROM sessions WHERE reader = ?", (reader,)).fetchone()[0]


def _cross_origin_signin_is_refused(browser, study: Path, port: int, tmp_path: Path) -> None:
    """Login CSRF: a page on another origin posts an attacker's code as ``text/plain`` (no CORS preflight,
    so the browser does send it). The app must refuse it: no session is created for that code."""
    site = tmp_path / "evil_site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>elsewhere</title>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None
    evil_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=evil_server.serve_forever, daemon=True).start()
    try:
        evil = browser.new_page()
        evil.goto(f"http://127.0.0.1:{evil_server.server_address[1]}/index.html")
        kind = evil.evaluate(
            """async ([url, code]) => {
                 try { const r = await fetch(url, {method: "POST", mode: "no-cors", credentials: "include",
                                                   headers: {"Content-Type": "text/plain"},
                                                   body: JSON.stringify({code: code})});
                       return r.type; } catch (e) { return "error: " + e; } }""",
            [f"http://127.0.0.1:{port}/api/signin", reader_codes(study)["R04"]])
        evil.close()
    finally:
        evil_server.shutdown()
        evil_server.server_close()
    assert kind == "opaque"  # the browser sent it (an opaque response), so only the server's check stops it
    assert _sessions(study, "R04") == 0


def test_browser_reading_survives_server_kill(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    real = make_folder(tmp_path / "real", 12, "real", seed=1)
    synth = make_folder(tmp_path / "synth", 12, "synth", seed=2)
    study = tmp_path / "study"
    build_study(real=real, synthetic=synth, design="turing", out=study, n_cases=8, seed=5)
    port = _free_port()
    server = _start_server(study, port)
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
                viewport={"width": 1200, "height": 800})
            page = browser.new_page()
            code = reader_codes(study)["R03"]
            page.goto(f"http://127.0.0.1:{port}/#code={code}")  # the personal link the owner hands out
            page.wait_for_selector("#turing", state="visible")
            assert page.locator("#who").inner_text() == "reader R03"
            assert code not in page.url  # the page drops the code from the address bar
            page.wait_for_function("() => document.getElementById('cv').width > 0")
            page.locator("#win").fill("180")
            assert _rate(page, "synthetic", 4) == "Case 1 of 8"
            assert _rate(page, "real", 2) == "Case 2 of 8"
            assert _rate(page, "synthetic", 5) == "Case 3 of 8"
            page.click("button[data-call='real']")  # a half-finished 4th answer, never submitted
            page.wait_for_function("() => document.getElementById('cv').width > 0")
            page.screenshot(path=str(os.environ.get("READER_SCREENSHOT", tmp_path / "reading.png")))
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=10)
            server = _start_server(study, port)
            page.goto(f"http://127.0.0.1:{port}/")
            page.fill("#code", "wrong-code-123")
            page.click("#go")
            page.wait_for_function("() => document.getElementById('smsg').innerText.includes('unknown reader code')")
            page.fill("#code", code)
            page.click("#go")
            page.wait_for_selector("#turing", state="visible")
            assert page.locator("#pos").inner_text() == "Case 4 of 8"
            assert page.locator("#prog").inner_text() == "3 / 8 answered"
            _cross_origin_signin_is_refused(browser, study, port, tmp_path)
            browser.close()
    finally:
        server.kill()
        server.wait(timeout=10)
    table = export_ratings(study)
    assert len(table) == 3 and table["reader"].unique().tolist() == ["R03"]
    assert table["rating"].tolist() == [9.0, 4.0, 10.0]  # synthetic/4 -> 9, real/2 -> 4, synthetic/5 -> 10
