"""The UI in a real browser: Gradio mounted into FastAPI at /ui, served by uvicorn, driven by headless Chromium.

Screenshots of each step land in test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM

if not CHROMIUM.exists():
    pytest.skip(f"browser tests need {CHROMIUM}: install it with `apt-get install chromium`", allow_module_level=True)

import docx  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402

from advisor.advisor import Advisor  # noqa: E402
from advisor.api import create_app  # noqa: E402
from advisor.config import Settings  # noqa: E402
from advisor.records import Records  # noqa: E402
from advisor.types import Answer  # noqa: E402
from tests.conftest import DEALS_HEADER, REPO, free_port, wait_for_http, write_article  # noqa: E402
from ui.theme import FAVICON  # noqa: E402

ARTIFACTS = REPO / "test-artifacts"
CONSULTANT_KEY = "test-consultant-key-0123456789"
LAST_BUBBLE_ENDS_WITH = """tail => {
  const bots = document.querySelectorAll('#chat [data-testid="bot"]');
  return bots.length > 0 && bots[bots.length - 1].innerText.replace(/\\s+/g, ' ').trim().endsWith(tail);
}"""
RECORD_BOT_TEXTS = """() => {
  window.__botTexts = [];
  const chat = document.querySelector('#chat');
  new MutationObserver(() => {
    const bots = chat.querySelectorAll('[data-testid="bot"]');
    const text = bots.length ? bots[bots.length - 1].innerText.trim() : '';
    const seen = window.__botTexts;
    if (text && seen[seen.length - 1] !== text) seen.push(text);
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


class PacedAdvisor(Advisor):
    """The real Advisor, with a pause between streamed pieces as a generating model would have.

    The extractive answer streams in microseconds, too fast for a browser to paint each piece.
    """

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for event in super().stream(*args, **kwargs):
            if event["event"] == "delta":
                time.sleep(0.03)
            yield event


class RecordingRecords(Records):
    """Records that also keep each logged answer, so a test can see what the UI asked and got."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.logged: list[Answer] = []

    def log_answer(self, conversation_id: str, answer: Answer) -> str:
        answer_id = super().log_answer(conversation_id, answer)
        self.logged.append(answer.model_copy(deep=True))
        return answer_id


@dataclass
class Served:
    url: str
    records: RecordingRecords


def write_corpus(root: Path) -> Path:
    """Public articles on the AZ–CSPC deal and BIOSECURE, and an internal fee playbook."""
    root.mkdir(parents=True)
    write_article(root, "az-cspc", """
        ## The deal
        In June 2025 AstraZeneca agreed an AI research partnership with CSPC Pharmaceutical worth up to $5.3bn.
        Only $110m of the AstraZeneca and CSPC deal was paid upfront, with the rest tied to milestones.

        ## The platform
        CSPC contributes an AI platform that combines physics-based modelling with machine learning.
        """, title="AstraZeneca and CSPC: the AI deal", companies="AstraZeneca, CSPC Pharmaceutical Group",
        therapy="immunology")
    write_article(root, "biosecure", """
        ## Status
        The BIOSECURE Act targets biotechnology companies of concern such as BGI and WuXi AppTec.
        The House passed the FY2026 NDAA, which carries a revised BIOSECURE text, on 11 December 2025.
        """, title="BIOSECURE Act: where it stands", published="2025-12-12")
    write_article(root, "fee-playbook", """
        ## Our fees
        Under the Lantern Protocol we never quote a success fee below 1.5% of the upfront payment.
        Retainers for a China scouting mandate start at a monthly fee agreed with the partner in charge.
        """, audience="internal", published="2025-03-01")
    # deals with parties no other test asks about, for the analytics chart
    (root / "deals.csv").write_text(
        DEALS_HEADER
        + "D1,2024-03-01,Hansoh Pharma,China,GSK,United Kingdom,licence,HS-20093,ADC,oncology,phase 1,"
          "Global ex-China,85,1485,1570,,https://example.com/d1,\n"
        + "D2,2025-05-20,3SBio,China,Pfizer,United States,licence,SSGJ-707,bispecific antibody,oncology,phase 2,"
          "Global ex-China,1250,4800,6050,tiered,https://example.com/d2,\n"
        + "D3,2025-01-10,Jiangsu Hengrui,China,Kailera,United States,licence,HRS-9531,peptide,cardiometabolic,"
          "phase 2,Global ex-China,110,5900,6010,,https://example.com/d3,\n")
    (root / "deals.csv.meta.yaml").write_text("audience: public\n")
    return root


def serve(app: FastAPI) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Run the app with uvicorn on a free loopback port in a background thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="ui-test-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/ui/"
    wait_for_http(url)
    return server, thread, url


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("ui")
    settings = Settings(data_dir=root / "data", embedder="hash", min_evidence_score=0.25,
                        api_keys={CONSULTANT_KEY: "consultant"})
    advisor = PacedAdvisor.from_settings(settings)
    advisor.ingest([write_corpus(root / "corpus")])
    records = RecordingRecords(root / "records.sqlite3")
    # the whole app, as `advisor serve` builds it: the API's middleware (security headers, a Content-Security-Policy
    # the UI must run under) around the UI at /ui
    server, thread, url = serve(create_app(settings, advisor=advisor, records=records))
    try:
        yield Served(url, records)
    finally:
        server.should_exit = True
        thread.join(timeout=15)



@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    blocked: list[str] = []  # what the Content-Security-Policy stopped: the UI must need nothing it forbids
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.set_default_timeout(30_000)
    page.goto(served.url)
    page.wait_for_selector("#question textarea")
    yield page
    context.close()
    assert not blocked, blocked


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    time.sleep(0.3)  # let the last update paint
    page.screenshot(path=str(ARTIFACTS / f"ui-{name}.png"), full_page=True)


def ask(page: Page, served: Served, question: str) -> tuple[Answer, list[str]]:
    """Ask in the chat; return the logged answer and the successive texts of the answer bubble."""
    logged = len(served.records.logged)
    page.evaluate(RECORD_BOT_TEXTS)
    page.fill("#question textarea", question)
    page.click("#ask")
    return finished_answer(page, served, logged), page.evaluate("window.__botTexts")


def finished_answer(page: Page, served: Served, logged: int) -> Answer:
    """Wait until the server logged a new answer and its bubble shows the whole text with citation links."""
    deadline = time.monotonic() + 30
    while len(served.records.logged) <= logged:
        assert time.monotonic() < deadline, "no answer was logged within 30 s"
        time.sleep(0.05)
    answer = served.records.logged[-1]
    tail = words(re.sub(r"\[(\d+)\]", r"\1", answer.text))[-30:]
    page.wait_for_function(LAST_BUBBLE_ENDS_WITH, arg=tail)
    expect(page.locator("#feedback")).to_be_visible()
    return answer


def words(text: str) -> str:
    return " ".join(text.split())


def test_a_question_streams_a_cited_answer(page: Page, served: Served) -> None:
    shot(page, "01-home")
    answer, texts = ask(page, served, "How much did AstraZeneca pay CSPC upfront?")
    assert answer.covered and answer.citations and answer.audience == "public"
    assert len({len(t.split()) for t in texts}) >= 3, f"the answer did not stream: {texts}"
    bubble = page.locator('#chat [data-testid="bot"]').last
    assert "$110m" in bubble.inner_text()
    expect(page.locator("#chat a.cite-ref")).to_have_count(len(re.findall(r"\[\d+\]", answer.text)))
    expect(page.locator("#citations label")).to_have_count(len(answer.citations))
    expect(page.locator("#citations label").first).to_contain_text(answer.citations[0].title)
    shot(page, "02-answer")


def test_citations_open_the_passage_highlighted_in_context(page: Page, served: Served) -> None:
    answer, _ = ask(page, served, "What does CSPC contribute to the AstraZeneca deal?")
    first, last = answer.citations[0], answer.citations[-1]
    assert first.n != last.n
    page.locator("#citations label", has_text=f"[{last.n}]").click()
    mark = page.locator("#source-panel mark")
    expect(mark).to_have_count(1)
    page.wait_for_function("p => document.querySelector('#source-panel mark').innerText.replace(/\\s+/g, ' ')"
                           ".trim() === p", arg=words(last.passage))
    page.click(f'#chat a.cite-ref[href="#cite-{answer.answer_id}-{first.n}"]')
    page.wait_for_function("p => document.querySelector('#source-panel mark').innerText.replace(/\\s+/g, ' ')"
                           ".trim() === p", arg=words(first.passage))
    card = page.locator("#source-panel .src-card")
    expect(card.locator(".src-title")).to_have_text(first.title)
    expect(card.locator(".src-meta")).to_contain_text(first.published)
    expect(card.locator("a.src-open")).to_have_attribute("href", first.url)
    context = words(card.locator(".src-context").inner_text())
    assert len(context) > len(words(first.passage)), "the passage is shown without its context"
    expect(page.locator("#citations label.selected")).to_contain_text(f"[{first.n}]")
    shot(page, "03-source")


def test_feedback_on_the_last_answer_is_recorded(page: Page, served: Served) -> None:
    answer, _ = ask(page, served, "What is the status of the BIOSECURE Act?")
    page.fill("#feedback-reason input", "Please add the Senate timeline")
    page.click("#thumbs-down")
    expect(page.locator("#chat-status .status-ok")).to_contain_text("Thank you")
    stored = served.records.feedback(answer.answer_id or "")
    assert [(f["rating"], f["reason"]) for f in stored] == [("down", "Please add the Senate timeline")]
    expect(page.locator("#feedback-reason input")).to_have_value("")
    page.fill("#feedback-reason input", "Clear otherwise")
    page.click("#thumbs-up")
    expect(page.locator("#feedback-reason input")).to_have_value("")
    assert [(f["rating"], f["reason"]) for f in served.records.feedback(answer.answer_id or "")] == [
        ("down", "Please add the Senate timeline"), ("up", "Clear otherwise")]
    shot(page, "04-feedback")


def test_follow_ups_share_the_conversation_and_its_history(page: Page, served: Served) -> None:
    logged = len(served.records.logged)
    page.locator("#chat button.example", has_text="BIOSECURE").click()
    first = finished_answer(page, served, logged)
    assert "BIOSECURE" in first.question
    second, _ = ask(page, served, "And what did the House pass?")
    assert second.conversation_id == first.conversation_id
    assert any(note.startswith("read as:") for note in second.notes), second.notes
    page.locator("#chat button[aria-label='Clear']").click()
    expect(page.locator('#chat [data-testid="bot"]')).to_have_count(0)
    expect(page.locator("#citations")).to_be_hidden()
    third, _ = ask(page, served, "What is the status of the BIOSECURE Act?")
    assert third.conversation_id != first.conversation_id and not third.notes


def test_a_lead_is_stored_with_its_conversation(page: Page, served: Served) -> None:
    answer, _ = ask(page, served, "How much did AstraZeneca pay CSPC upfront?")
    page.fill("#lead-name input", "Ana Lim")
    page.fill("#lead-email input", "ana.lim@example.com")
    page.fill("#lead-company input", "Acme Bio")
    page.click("#lead-send")
    expect(page.locator("#lead-status .status-error")).to_contain_text("consent")
    assert not served.records.leads()
    page.check("#lead-consent input")
    page.click("#lead-send")
    expect(page.locator("#lead-status .status-ok")).to_contain_text("Thank you, Ana Lim")
    lead = served.records.leads()[0]
    assert (lead["name"], lead["email"], lead["company"]) == ("Ana Lim", "ana.lim@example.com", "Acme Bio")
    assert lead["conversation_id"] == answer.conversation_id
    expect(page.locator("#lead-name input")).to_have_value("")
    shot(page, "05-lead")


def test_a_deal_breakdown_shows_its_chart(page: Page, served: Served) -> None:
    logged = len(served.records.logged)
    page.fill("#question textarea", "How many licensing deals were signed by year?")
    page.click("#ask")
    deadline = time.monotonic() + 30
    while len(served.records.logged) <= logged:
        assert time.monotonic() < deadline, "no answer was logged within 30 s"
        time.sleep(0.05)
    answer = served.records.logged[-1]
    assert answer.route == "analytics" and answer.chart is not None
    chart = page.locator("#chat svg.mr-chart").last
    expect(chart).to_be_visible()
    assert chart.locator("circle").count() == 2  # a point for 2024 and one for 2025
    expect(chart.locator("text", has_text="2025")).to_have_count(1)
    shot(page, "analytics-chart")


def test_the_public_chat_never_cites_internal_sources(page: Page, served: Served) -> None:
    answer, _ = ask(page, served, "What success fee does the Lantern Protocol set?")
    assert all(c.audience == "public" for c in answer.citations)
    assert "1.5%" not in page.locator('#chat [data-testid="bot"]').last.inner_text()


def test_bad_questions_get_a_friendly_message(page: Page, served: Served) -> None:
    page.click("#ask")
    expect(page.locator("#chat-status .status")).to_contain_text("Type a question")
    page.fill("#question textarea", "x" * 2001)
    page.click("#ask")
    expect(page.locator("#chat-status .status-error")).to_contain_text("the limit is 2000")
    expect(page.locator("#question textarea")).to_have_value("x" * 2001)
    expect(page.locator('#chat [data-testid="bot"]')).to_have_count(0)
    assert "Traceback" not in page.content()
    shot(page, "06-error")


def unlock(page: Page, key: str) -> None:
    page.get_by_role("tab", name="Consultant workspace").click()
    page.fill("#consultant-key input", key)
    page.click("#unlock")


def download(page: Page, suffix: str) -> Path:
    """Save the file offered in the export box (the one ending in `suffix`) into test-artifacts."""
    link = page.locator(f'#export-file a.download-link[download$="{suffix}"]')
    with page.expect_download() as info:
        link.click()
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"ui-draft{suffix}"
    info.value.save_as(path)
    return path


def test_a_wrong_consultant_key_gets_a_friendly_message(page: Page) -> None:
    unlock(page, "not-the-key")
    expect(page.locator("#signin-status .status-error")).to_contain_text("isn't recognised")
    expect(page.locator("#workspace")).to_be_hidden()
    shot(page, "07-wrong-key")


def test_a_consultant_drafts_edits_exports_and_rates(page: Page, served: Served) -> None:
    unlock(page, CONSULTANT_KEY)
    expect(page.locator("#workspace")).to_be_visible()
    expect(page.locator("#signed-in")).to_contain_text("consultant")
    page.fill("#draft-question textarea", "What success fee does the Lantern Protocol set?")
    page.fill("#date-from input", "2025-13-01")
    page.click("#draft")
    expect(page.locator("#draft-status .status-error")).to_contain_text("like 2025-01-31")
    page.fill("#date-from input", "2025-01-01")
    page.check("#include-internal input")
    page.click("#draft")
    expect(page.locator("#draft-status .status-ok")).to_contain_text("internal sources")
    draft = served.records.logged[-1]
    assert draft.route == "draft_email" and draft.audience == "internal"
    text = page.locator("#draft-text textarea")
    expect(text).to_have_value(draft.text)
    assert "1.5%" in draft.text
    expect(page.locator("#draft-sources .src-badge")).to_contain_text("Internal")
    shot(page, "08-draft")

    text.fill("Prepared for Acme Bio.\n\n" + draft.text)
    page.click("#export-docx")
    document = docx.Document(str(download(page, ".docx")))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Prepared for Acme Bio." in body and "1.5%" in body
    reference = f"[1] {draft.citations[0].title} ({draft.citations[0].published}) — {draft.citations[0].url}"
    assert reference in body
    page.click("#export-md")
    markdown = download(page, ".md").read_text(encoding="utf-8")
    assert markdown.startswith("Prepared for Acme Bio.") and reference in markdown
    shot(page, "09-export")

    page.click("#draft-up")
    expect(page.locator("#action-status .status-ok")).to_contain_text("Thank you")
    assert [f["rating"] for f in served.records.feedback(draft.answer_id or "")] == ["up"]

    page.click("#draft-correction button")  # "Not helpful? Correct it"
    page.click("#correction-save")
    expect(page.locator("#action-status .status-error")).to_contain_text("facts a right answer must state")
    page.fill("#correction-facts textarea", "1.5%\nthe partner in charge")
    page.fill("#correction-source input", "fee-playbook")
    page.click("#correction-save")
    expect(page.locator("#action-status .status-ok")).to_contain_text("becomes a regression test")
    expect(page.locator("#correction-facts textarea")).to_have_value("")
    [correction] = served.records.corrections("pending")
    assert correction["facts"] == ["1.5%", "the partner in charge"] and correction["source"] == "fee-playbook"
    assert correction["answer_id"] == draft.answer_id and correction["audience"] == "internal"
    shot(page, "10-correction")
    page.click("#lock")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()


def test_the_page_has_the_firm_favicon(page: Page, served: Served) -> None:
    icon = page.locator("link[rel~='icon']").first
    href = page.evaluate("el => el.href", icon.element_handle())  # resolved against the page's URL
    assert href.startswith(served.url)  # under the mount, not the site root
    response = page.request.get(href)
    assert response.ok and response.body() == FAVICON.read_bytes()
