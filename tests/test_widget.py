"""The website widget in a real browser: a host page on one origin (its own port, a strict Content-Security-Policy
that allows only the advisor's origin) loads /widget.js from a real `advisor serve` on another."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import CHROMIUM

if not CHROMIUM.exists():
    pytest.skip(f"browser tests need {CHROMIUM}: install it with `apt-get install chromium`", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from tests.conftest import REPO, free_port, running_server, write_public_and_internal  # noqa: E402

ARTIFACTS = REPO / "test-artifacts"
STARTER = "How much did AstraZeneca pay CSPC upfront?"
HOSTILE_CSS = """* { all: unset !important; }
html, body { font: 40px "Comic Sans MS", cursive !important; color: red !important; background: #ffe !important; }
div, button, section { display: inline !important; position: static !important; }"""


@dataclass
class Sites:
    api: str
    host: str
    data_dir: Path


def _page(api: str, *, hostile: bool) -> bytes:
    css = '<link rel="stylesheet" href="/hostile.css">' if hostile else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Client site</title>
<meta name="viewport" content="width=device-width, initial-scale=1">{css}</head>
<body><h1>A client's website</h1><p>Some page content that the widget must leave alone.</p>
<script src="{api}/widget.js" data-title="Ask Meridian" data-starters="{STARTER}" defer></script>
</body></html>""".encode()


class _Host(BaseHTTPRequestHandler):
    api = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/hostile.css":
            body, kind = HOSTILE_CSS.encode(), "text/css"
        else:
            body, kind = _page(self.api, hostile=self.path == "/hostile"), "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        # only the advisor's origin may run script or be fetched; no inline script or style anywhere
        self.send_header("Content-Security-Policy", f"default-src 'none'; script-src {self.api}; "
                                                    f"connect-src {self.api}; style-src 'self'; img-src 'self'; "
                                                    "base-uri 'none'; form-action 'none'")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    root = tmp_path_factory.mktemp("widget")
    corpus = root / "corpus"
    corpus.mkdir()
    write_public_and_internal(corpus)
    host_port = free_port()
    host = f"http://127.0.0.1:{host_port}"
    env = {**os.environ, "ADVISOR_DATA_DIR": str(root / "data"), "ADVISOR_EMBEDDER": "hash",
           "ADVISOR_MIN_EVIDENCE_SCORE": "0.25", "PYTHONPATH": str(REPO), "ADVISOR_UI_ENABLED": "false",
           "ADVISOR_API_KEYS": json.dumps({"widget-test-consultant-0123456789": "consultant"}),
           "ADVISOR_CORS_ORIGINS": json.dumps([host])}
    done = subprocess.run([sys.executable, "-m", "advisor.cli", "ingest", str(corpus)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with running_server(env, root / "server.log") as (api, _):
        handler = type("Host", (_Host,), {"api": api})
        server = ThreadingHTTPServer(("127.0.0.1", host_port), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Sites(api, host, root / "data")
        finally:
            server.shutdown()



def _open(browser: Browser, url: str, **context: object) -> tuple[Page, list[str]]:
    page = browser.new_context(**context).new_page()  # type: ignore[arg-type]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" or "Security Policy" in m.text
            else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_default_timeout(30_000)
    page.goto(url)
    return page, problems


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"widget-{name}.png"))


def _records(sites: Sites, sql: str) -> list[tuple]:
    with sqlite3.connect(sites.data_dir / "records.sqlite3") as db:
        return db.execute(sql).fetchall()


def test_a_prospect_asks_opens_a_source_rates_and_asks_for_a_call(browser: Browser, sites: Sites) -> None:
    page, problems = _open(browser, sites.host, viewport={"width": 1280, "height": 860})
    launcher = page.get_by_role("button", name="Ask Meridian")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    dialog = page.get_by_role("dialog", name="Ask Meridian")
    expect(dialog).to_be_visible()
    expect(page.locator("[role=log]")).to_have_attribute("aria-live", "polite")
    page.get_by_role("button", name=STARTER).click()
    cite = page.get_by_role("button", name="Source 1: Az Cspc").first
    expect(cite).to_be_visible()
    expect(page.locator(".msg.bot").last).to_contain_text("$110m")
    cite.click()
    source = page.get_by_role("region", name="Source")
    expect(source).to_contain_text("Az Cspc")
    expect(source).to_contain_text("2025-06-20")
    expect(source).to_contain_text("Only $110m of the AstraZeneca and CSPC deal was paid upfront")
    expect(source.get_by_role("link", name="Read the source")).to_have_attribute("href",
                                                                                "https://example.com/az-cspc")
    page.get_by_role("button", name="Helpful", exact=True).click()
    expect(page.get_by_text("Thanks for the feedback.")).to_be_visible()
    expect(page.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "true")
    shot(page, "desktop")

    page.get_by_role("button", name="Talk to a consultant").click()
    page.get_by_label("Name").fill("Ana Lima")
    page.get_by_label("Work email").fill("ana@heron.example")
    page.get_by_label("Company").fill("Heron Bio")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Please tick the consent box")).to_be_visible()  # nothing stored without consent
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("A consultant will be in touch")).to_be_visible()
    shot(page, "desktop-contact")
    page.get_by_role("button", name="Back to the chat").click()
    expect(page.locator(".msg.bot").last).to_contain_text("$110m")
    assert _records(sites, "SELECT rating FROM feedback") == [("up",)]
    leads = _records(sites, "SELECT name, email, company, conversation_id FROM leads")
    assert leads[0][:3] == ("Ana Lima", "ana@heron.example", "Heron Bio") and leads[0][3]
    assert not problems, problems  # nothing the page's CSP blocked, no script error


def test_keyboard_only_and_public_sources_only(browser: Browser, sites: Sites) -> None:
    page, problems = _open(browser, sites.host, viewport={"width": 1280, "height": 860})
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the launcher is the first thing Tab reaches
    question = page.get_by_role("textbox", name="Your question")
    expect(question).to_be_focused()
    page.keyboard.type("What is the Lantern Protocol success fee?")
    page.keyboard.press("Enter")
    answer = page.locator(".msg.bot").last
    expect(answer).not_to_have_attribute("aria-busy", "true")
    assert "1.5%" not in answer.inner_text()  # the internal playbook never reaches the website
    page.keyboard.press("Escape")
    launcher = page.get_by_role("button", name="Ask Meridian")
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert not problems, problems
    # a page that tampers with the requests gets no further: asking for internal sources without a key is a 403
    status = page.evaluate("""api => fetch(api + '/v1/ask', {method: 'POST', headers: {'Content-Type':
        'application/json'}, body: JSON.stringify({question: 'Lantern Protocol fee?', audience: 'internal'})})
        .then(r => r.status)""", sites.api)
    assert status == 403


def test_mobile_layout_fills_the_screen(browser: Browser, sites: Sites) -> None:
    page, problems = _open(browser, sites.host, viewport={"width": 390, "height": 844}, is_mobile=True,
                           has_touch=True, reduced_motion="reduce")
    page.get_by_role("button", name="Ask Meridian").click()
    box = page.get_by_role("dialog", name="Ask Meridian").bounding_box()
    assert box is not None and box["width"] == 390 and box["height"] >= 800
    page.get_by_role("button", name=STARTER).click()
    expect(page.get_by_role("button", name="Source 1: Az Cspc").first).to_be_visible()
    transition = page.evaluate("() => getComputedStyle(document.querySelector('[data-ask-meridian]').shadowRoot"
                               ".querySelector('.panel')).transitionDuration")
    assert transition == "0s"  # prefers-reduced-motion is honoured
    shot(page, "mobile")
    assert not problems, problems


def test_a_hostile_page_stylesheet_does_not_break_it(browser: Browser, sites: Sites) -> None:
    page, problems = _open(browser, sites.host + "/hostile", viewport={"width": 1280, "height": 860})
    launcher = page.get_by_role("button", name="Ask Meridian")
    box = launcher.bounding_box()
    assert box is not None and box["height"] < 80 and box["x"] > 900  # still a button, bottom right
    launcher.click()
    dialog = page.get_by_role("dialog", name="Ask Meridian")
    expect(dialog).to_be_visible()
    style = page.evaluate("() => { const r = document.querySelector('[data-ask-meridian]').shadowRoot; "
                          "const p = getComputedStyle(r.querySelector('.panel')); "
                          "return [p.fontSize, p.width, getComputedStyle(r.querySelector('.root')).position]; }")
    assert style == ["15px", "380px", "fixed"]  # the page's 40px Comic Sans and inline layout stay outside
    page.get_by_role("button", name=STARTER).click()
    expect(page.get_by_role("button", name="Source 1: Az Cspc").first).to_be_visible()
    shot(page, "hostile-css")
    assert not problems, problems


def test_small_and_only_for_the_configured_origins(sites: Sites) -> None:
    script = httpx.get(sites.api + "/widget.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert len(gzip.compress(script.content)) < 30_000
    assert '"starters": ["What did AstraZeneca' in script.text  # the server's starters, unless the page sets its own
    for origin, allowed in ((sites.host, True), ("https://elsewhere.example", False)):
        preflight = httpx.options(sites.api + "/v1/ask/stream", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert (preflight.headers.get("access-control-allow-origin") == origin) is allowed
