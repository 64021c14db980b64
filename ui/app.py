"""The website UI: a prospect chat with streamed, cited answers and a consultant drafting workspace.

Callbacks only translate between widgets and Advisor / Records / export; `ui.session` holds the calls.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import gradio as gr
from fastapi import FastAPI

from advisor.advisor import Advisor, InputError
from advisor.config import Settings
from advisor.limits import Guards, RateLimited
from advisor.records import NotFound, Records
from advisor.roles import UnknownKey
from advisor.types import Answer
from ui import render
from ui.inputs import DOC_TYPES, REGION_CHOICES, THERAPY_AREAS, consultant_filters
from ui.session import (
    ChatSession,
    ConsultantSession,
    NotAllowed,
    export_draft,
    make_draft,
    open_citation,
    parse_link,
    request_call,
    send_correction,
    send_feedback,
    stream_answer,
)
from ui.theme import FAVICON, THUMBS_DOWN, THUMBS_UP, citation_links_js, meridian_theme, stylesheet

log = logging.getLogger(__name__)

FIRM = "Meridian Asia Advisory"
TAGLINE = "Cited answers on partnering with pharma and biotech in Asia, drawn from our research and deal records."
APOLOGY = "Sorry, something went wrong on our side. Please try again in a moment."
CONCURRENCY = 8  # questions answered at once; the advisor is read-only while serving


# errors -------------------------------------------------------------------------------------------
def friendly(exc: Exception) -> tuple[str, bool]:
    """A message a visitor can act on, and whether it deserves a pop-up; anything unexpected is logged."""
    if isinstance(exc, RateLimited):
        return (f"You're asking faster than we can answer. Please try again in {exc.retry_after} seconds.", False)
    if isinstance(exc, InputError | NotAllowed):
        text = str(exc)
        return text[:1].upper() + text[1:], False
    if isinstance(exc, UnknownKey):
        return "That key isn't recognised. Check it and try again, or use Ask Meridian for public answers.", False
    if isinstance(exc, NotFound):
        return "That source is no longer available. Ask the question again to refresh its citations.", True
    log.exception("UI callback failed")
    return APOLOGY, True


def _failure(exc: Exception, outputs: int) -> tuple[Any, ...]:
    """Leave every output as it was except the status line, which explains what happened."""
    message, pop_up = friendly(exc)
    if pop_up:
        gr.Warning(message, duration=8)
    return (*(gr.skip() for _ in range(outputs - 1)), render.status(message, "error"))


def guarded(outputs: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a callback whose last output is a status line: failures become friendly messages."""
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any) -> Any:
            try:
                return fn(*args)
            except Exception as exc:
                return _failure(exc, outputs)
        return run
    return wrap


def _client(request: gr.Request | None) -> str:
    """The visitor's address as the server sees it (a trusted proxy's X-Forwarded-For is applied by uvicorn)."""
    return request.client.host if request is not None and request.client else "unknown"


# callbacks ----------------------------------------------------------------------------------------
class Callbacks:
    """The UI's event handlers, bound to one Advisor, Records and Settings."""

    def __init__(self, advisor: Advisor, records: Records, settings: Settings, guards: Guards | None = None) -> None:
        self.advisor, self.records, self.settings = advisor, records, settings
        # per-client limits shared with the API: prospect questions a minute, wrong consultant keys
        self.guards = guards or Guards.from_settings(settings)
        # set to a folder inside Gradio's cache by build_ui, so exports are served without a copy
        self.export_dir = Path(tempfile.gettempdir()) / "meridian-exports"

    # prospect ---------------------------------------------------------------------------------
    def ask(self, question: str, chat: list[dict[str, Any]], session: ChatSession,
            request: gr.Request | None = None) -> Iterator[tuple[Any, ...]]:
        """Stream an answer into the chat; on failure restore the chat and the question. A visitor's questions
        count against the same per-client limit as anonymous API calls."""
        question, chat = (question or "").strip(), list(chat or [])
        if not question:
            yield (*(gr.skip() for _ in range(6)), render.status("Type a question, or pick a suggestion."))
            return
        try:
            self.guards.anonymous_request(_client(request))
        except RateLimited as exc:
            yield (*(gr.skip() for _ in range(6)), render.status(friendly(exc)[0], "error"))
            return
        user = {"role": "user", "content": question}
        yield ([*chat, user], session, "", gr.skip(), gr.skip(), gr.update(visible=False), "")
        try:
            for text, answer, reading in stream_answer(self.advisor, self.records, session, question):
                if answer is None:
                    content = text or render.reading(reading)
                    yield ([*chat, user, {"role": "assistant", "content": content}], *(gr.skip() for _ in range(6)))
                    continue
                bubble = {"role": "assistant", "content": render.answer_markdown(answer)}
                choices = render.citation_choices(answer)
                yield ([*chat, user, bubble], session, gr.skip(),
                       gr.update(choices=choices, value=None, visible=bool(choices)),
                       render.sources_placeholder(answer), gr.update(visible=True), "")
        except Exception as exc:
            yield (chat, session, question, *_failure(exc, 4))

    @guarded(outputs=2)
    def pick_citation(self, choice: str | None, session: ChatSession) -> tuple[str, str]:
        """Open a citation of the latest answer chosen from the list."""
        if not choice:
            return gr.skip(), ""
        citation, view = open_citation(self.advisor, session.last_answer, int(choice), session.audience)
        return render.source_card(citation, view), ""

    @guarded(outputs=3)
    def follow_link(self, target: str, session: ChatSession) -> tuple[Any, ...]:
        """Open the citation whose number was clicked in a chat bubble."""
        answer_id, n = parse_link(target)
        answer = session.answers.get(answer_id)
        citation, view = open_citation(self.advisor, answer, n, session.audience)
        selected = str(n) if answer_id == session.last_answer_id else None
        return render.source_card(citation, view), gr.update(value=selected), ""

    def _rate(self, answer: Answer | None, rating: Literal["up", "down"], reason: str) -> tuple[str, str]:
        send_feedback(self.records, answer, rating, reason)
        return "", render.status("Thank you — your feedback helps us improve.", "ok")

    @guarded(outputs=2)
    def rate_up(self, reason: str, session: ChatSession) -> tuple[str, str]:
        """Thumbs up on the latest answer."""
        return self._rate(session.last_answer, "up", reason)

    @guarded(outputs=2)
    def rate_down(self, reason: str, session: ChatSession) -> tuple[str, str]:
        """Thumbs down on the latest answer."""
        return self._rate(session.last_answer, "down", reason)

    @guarded(outputs=6)
    def contact(self, name: str, email: str, company: str, message: str, consent: bool,
                session: ChatSession) -> tuple[Any, ...]:
        """Store a request to talk to a consultant, with the conversation it came from."""
        thanks = request_call(self.records, session, name=name, email=email, company=company, message=message,
                              consent=bool(consent))
        return "", "", "", "", False, render.status(thanks, "ok")

    @staticmethod
    def reset_chat() -> tuple[Any, ...]:
        """A cleared chat starts a new conversation."""
        return ([], ChatSession(), "", gr.update(choices=[], value=None, visible=False), render.sources_placeholder(),
                gr.update(visible=False), "")

    @staticmethod
    def starter(event: gr.SelectData) -> str:
        """The text of the suggested question that was clicked."""
        value = event.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value or "")

    # consultant -------------------------------------------------------------------------------
    @guarded(outputs=6)
    def unlock(self, key: str, session: ConsultantSession, request: gr.Request) -> tuple[Any, ...]:
        """Open the workspace for a consultant or admin key; too many wrong keys from one client wait."""
        if not (key or "").strip():
            raise InputError("Enter your consultant key to unlock the workspace")
        try:
            role = self.guards.admit(key.strip(), _client(request), self.settings, count_anonymous=False)
        except RateLimited as exc:
            raise NotAllowed(f"Too many wrong keys from this connection. Try again in {exc.retry_after // 60 + 1} "
                             "minutes") from exc
        if role not in ("consultant", "admin"):
            raise NotAllowed("This key gives public access only. Ask an administrator for a consultant key")
        signed_in = f'<span class="mr-signed-in">Signed in as <strong>{role}</strong></span>'
        return ConsultantSession(role=role), gr.update(visible=False), gr.update(visible=True), "", signed_in, ""

    @staticmethod
    def lock() -> tuple[Any, ...]:
        """Close the workspace; the next user needs a key again."""
        return ConsultantSession(), gr.update(visible=True), gr.update(visible=False), "", "", ""

    @guarded(outputs=6)
    def draft(self, question: str, style: Literal["email", "briefing"], length: Literal["short", "long"],
              date_from: str, date_to: str, companies: str, regions: list[str], therapy_areas: list[str],
              doc_types: list[str], include_internal: bool, use_model: bool,
              session: ConsultantSession) -> tuple[Any, ...]:
        """Draft a cited email or briefing with the chosen filters, by the local model when asked."""
        session.require()
        audience, filters = consultant_filters(date_from=date_from, date_to=date_to, companies=companies,
                                               therapy_areas=therapy_areas, doc_types=doc_types,
                                               include_internal=include_internal, regions=regions)
        answer = make_draft(self.advisor, self.records, session, question or "", style=style, length=length,
                            audience=audience, filters=filters, writer="llm" if use_model else "extractive")
        return (answer.text, render.draft_sources(answer.citations), session, gr.update(value=None, visible=False),
                gr.update(visible=True), render.status(*render.draft_outcome(answer)))

    def _export(self, text: str, session: ConsultantSession, suffix: Literal[".md", ".docx"]) -> tuple[Any, str]:
        path = export_draft(text, session, self.export_dir, suffix)
        return gr.update(value=str(path), visible=True), render.status(f"Exported {path.name}.", "ok")

    @guarded(outputs=2)
    def export_markdown(self, text: str, session: ConsultantSession) -> tuple[Any, str]:
        """The edited draft and its references as a Markdown file."""
        return self._export(text, session, ".md")

    @guarded(outputs=2)
    def export_docx(self, text: str, session: ConsultantSession) -> tuple[Any, str]:
        """The edited draft and its references as a Word document."""
        return self._export(text, session, ".docx")

    @guarded(outputs=2)
    def rate_draft_up(self, reason: str, session: ConsultantSession) -> tuple[str, str]:
        """Thumbs up on the current draft."""
        session.require()
        return self._rate(session.draft, "up", reason)

    @guarded(outputs=2)
    def rate_draft_down(self, reason: str, session: ConsultantSession) -> tuple[str, str]:
        """Thumbs down on the current draft."""
        session.require()
        return self._rate(session.draft, "down", reason)

    @guarded(outputs=5)
    def correct_draft(self, facts: str, source: str, uncovered: bool, reason: str,
                      session: ConsultantSession) -> tuple[Any, ...]:
        """Not helpful, with what a right answer would have said: kept for review, then a regression question."""
        session.require()
        send_correction(self.records, session.draft, facts=facts, source=source, uncovered=uncovered, note=reason)
        return "", "", False, "", render.status("Correction saved for review; once accepted it becomes a "
                                                "regression test.", "ok")


# layout -------------------------------------------------------------------------------------------
def _header() -> None:
    gr.HTML(render.header(FIRM, TAGLINE), elem_id="mr-header")


def _title(text: str, sub: str = "") -> None:
    sub_html = f'<p class="mr-card-sub">{sub}</p>' if sub else ""
    gr.HTML(f'<h2 class="mr-card-title">{text}</h2>{sub_html}', elem_classes="mr-title")


def _feedback_buttons(prefix: str) -> tuple[gr.Button, gr.Button]:
    up = gr.Button("Helpful", icon=THUMBS_UP, size="sm", min_width=100, elem_id=f"{prefix}-up", scale=0)
    down = gr.Button("Not helpful", icon=THUMBS_DOWN, size="sm", min_width=120, elem_id=f"{prefix}-down", scale=0)
    return up, down


def _prospect_tab(cb: Callbacks) -> None:
    session = gr.State(ChatSession())
    with gr.Row(equal_height=False, elem_classes="mr-main"):
        with gr.Column(scale=7, elem_classes="mr-chat-col"):
            chat = gr.Chatbot(elem_id="chat", show_label=False, height=560, buttons=["copy"],
                              feedback_options=None, latex_delimiters=[], layout="bubble",
                              examples=[{"text": q} for q in cb.settings.starters],
                              placeholder="### How can we help?\nAsk about partnering with pharma and biotech "
                                          "in Asia, or start with one of these questions.")
            with gr.Row(elem_classes="mr-ask-row", equal_height=True):
                question = gr.Textbox(show_label=False, scale=9, max_lines=4, elem_id="question", container=False,
                                      placeholder="Ask about China licensing, AI partnerships, BIOSECURE, Japan…")
                ask = gr.Button("Ask", variant="primary", scale=0, min_width=96, elem_id="ask")
            status = gr.HTML("", elem_id="chat-status")
            with gr.Row(visible=False, elem_id="feedback", elem_classes="mr-feedback") as feedback:
                gr.HTML('<span class="mr-feedback-q">Was this answer helpful?</span>', elem_classes="mr-fit")
                up, down = _feedback_buttons("thumbs")
                reason = gr.Textbox(show_label=False, placeholder="Optional: what was missing or wrong?",
                                    scale=6, elem_id="feedback-reason", max_lines=1, container=False)
            gr.HTML('<p class="mr-disclaimer">Answers quote Meridian research and public deal reporting; each '
                    "claim links to its source. They are not legal or investment advice.</p>")
        with gr.Column(scale=5, elem_classes="mr-side-col"):
            with gr.Column(elem_classes="mr-card", elem_id="sources-card"):
                _title("Sources")
                citations = gr.Radio(choices=[], show_label=False, visible=False, elem_id="citations",
                                     container=False)
                source = gr.HTML(render.sources_placeholder(), elem_id="source-panel")
            _contact_form(cb, session)
    bridge = gr.HTML("", html_template="<span></span>", js_on_load=citation_links_js(), elem_id="cite-bridge",
                     elem_classes="mr-hidden")
    outputs = [chat, session, question, citations, source, feedback, status]
    for trigger in (question.submit, ask.click):
        trigger(cb.ask, [question, chat, session], outputs, api_visibility="private")
    chat.example_select(cb.starter, None, question, api_visibility="private").then(
        cb.ask, [question, chat, session], outputs, api_visibility="private")
    chat.clear(cb.reset_chat, None, outputs, api_visibility="private")
    citations.input(cb.pick_citation, [citations, session], [source, status], api_visibility="private")
    bridge.click(cb.follow_link, [bridge, session], [source, citations, status], api_visibility="private")
    up.click(cb.rate_up, [reason, session], [reason, status], api_visibility="private")
    down.click(cb.rate_down, [reason, session], [reason, status], api_visibility="private")


def _contact_form(cb: Callbacks, session: gr.State) -> None:
    with gr.Column(elem_classes="mr-card mr-contact", elem_id="contact"):
        _title("Talk to a consultant", "Leave your details and a Meridian consultant will follow up on this "
                                       "conversation.")
        with gr.Row():
            name = gr.Textbox(label="Name", elem_id="lead-name", max_lines=1)
            email = gr.Textbox(label="Work email", elem_id="lead-email", max_lines=1)
        company = gr.Textbox(label="Company", elem_id="lead-company", max_lines=1)
        message = gr.Textbox(label="What would you like to discuss? (optional)", lines=2, elem_id="lead-message")
        consent = gr.Checkbox(label="I agree that Meridian Asia Advisory may store these details and this "
                                    "conversation to contact me.", elem_id="lead-consent")
        send = gr.Button("Request a call", variant="primary", elem_id="lead-send")
        status = gr.HTML("", elem_id="lead-status")
    send.click(cb.contact, [name, email, company, message, consent, session],
               [name, email, company, message, consent, status], api_visibility="private")


def _filters_column() -> list[gr.components.Component]:
    with gr.Column(scale=4, elem_classes="mr-card mr-filters"):
        _title("Filters")
        with gr.Row():
            date_from = gr.Textbox(label="From", placeholder="YYYY-MM-DD", elem_id="date-from", max_lines=1,
                                   min_width=120)
            date_to = gr.Textbox(label="To", placeholder="YYYY-MM-DD", elem_id="date-to", max_lines=1, min_width=120)
        companies = gr.Textbox(label="Company", placeholder="e.g. AstraZeneca, CSPC", elem_id="companies",
                               max_lines=1)
        region = gr.Dropdown(list(REGION_CHOICES), multiselect=True, label="Region", elem_id="regions",
                             info="Deals match on either party's country")
        therapy = gr.Dropdown(list(THERAPY_AREAS), multiselect=True, label="Therapy area", elem_id="therapy")
        doc_types = gr.Dropdown(list(DOC_TYPES), multiselect=True, label="Document type", elem_id="doc-types")
        internal = gr.Checkbox(label="Include internal sources", value=False, elem_id="include-internal",
                               info="Internal notes never reach the public chat; check drafts before sending.")
    return [date_from, date_to, companies, region, therapy, doc_types, internal]


def _consultant_tab(cb: Callbacks) -> None:
    session = gr.State(ConsultantSession())
    with gr.Column(elem_classes="mr-card mr-signin", elem_id="signin") as signin:
        _title("Consultant sign-in", "Drafting with filters, internal sources and export is for Meridian "
                                     "consultants.")
        with gr.Row(equal_height=True, elem_classes="mr-ask-row"):
            key = gr.Textbox(show_label=False, placeholder="Consultant key", type="password", scale=5,
                             elem_id="consultant-key", max_lines=1, container=False)
            unlock = gr.Button("Unlock", variant="primary", scale=0, min_width=110, elem_id="unlock")
        signin_status = gr.HTML("", elem_id="signin-status")
    with gr.Column(visible=False, elem_id="workspace") as workspace:
        with gr.Row(elem_classes="mr-session-bar", equal_height=True):
            signed_in = gr.HTML("", elem_id="signed-in")
            lock = gr.Button("Lock workspace", size="sm", variant="secondary", elem_id="lock", scale=0, min_width=140)
        with gr.Row(equal_height=False):
            filters = _filters_column()
            with gr.Column(scale=8):
                cleared = _drafting_column(cb, session, filters)
    unlock_outputs = [session, signin, workspace, key, signed_in, signin_status]
    for trigger in (key.submit, unlock.click):
        trigger(cb.unlock, [key, session], unlock_outputs, api_visibility="private")
    lock.click(cb.lock, None, unlock_outputs, api_visibility="private").then(
        lambda: ("", render.draft_sources([]), gr.update(value=None, visible=False), ""), None, cleared,
        api_visibility="private")


def _drafting_column(cb: Callbacks, session: gr.State, filters: list[Any]) -> list[Any]:
    with gr.Column(elem_classes="mr-card"):
        _title("Draft a reply")
        question = gr.Textbox(label="Client question", lines=2, elem_id="draft-question",
                              placeholder="e.g. Which China out-licensing deals in oncology exceeded $1bn?")
        with gr.Row():
            style = gr.Radio([("Email reply", "email"), ("Briefing note", "briefing")], value="email",
                             label="Format", elem_id="draft-style")
            length = gr.Radio([("Short", "short"), ("Long", "long")], value="short", label="Length",
                              elem_id="draft-length")
        has_model = cb.settings.generator != "extractive"
        use_model = gr.Checkbox(label="Write with the local model", elem_id="draft-use-model", visible=has_model,
                                value=has_model and cb.settings.answer_writer.get("internal") == "llm",
                                info="In its own words, checked sentence by sentence against the sources; about "
                                     "10-30 s on a CPU. Unticked: quoted from the sources at once.")
        go = gr.Button("Draft", variant="primary", elem_id="draft")
        draft_status = gr.HTML("", elem_id="draft-status")
    with gr.Column(elem_classes="mr-card"):
        text = gr.Textbox(label="Draft — edit freely, then export", lines=16, max_lines=40, elem_id="draft-text",
                          buttons=["copy"])
        with gr.Column(visible=False, elem_id="draft-actions") as actions:
            with gr.Row(elem_classes="mr-feedback"):
                to_md = gr.Button("Export Markdown", size="sm", elem_id="export-md", scale=0, min_width=150)
                to_doc = gr.Button("Export Word", size="sm", elem_id="export-docx", scale=0, min_width=130)
            file = gr.File(label="Download", visible=False, interactive=False, elem_id="export-file")
            with gr.Row(elem_classes="mr-feedback"):
                gr.HTML('<span class="mr-feedback-q">Was this draft useful?</span>', elem_classes="mr-fit")
                up, down = _feedback_buttons("draft")
                reason = gr.Textbox(show_label=False, placeholder="Optional: what should be better?", scale=4,
                                    elem_id="draft-reason", max_lines=1, container=False)
            with gr.Accordion("Not helpful? Correct it", open=False, elem_id="draft-correction"):
                facts = gr.Textbox(label="Facts a right answer must state (one per line)", lines=3,
                                   elem_id="correction-facts")
                holder = gr.Textbox(label="The source that holds them (document id)", max_lines=1,
                                    elem_id="correction-source")
                uncovered = gr.Checkbox(label="It should have said our sources don't cover this",
                                        elem_id="correction-uncovered")
                save = gr.Button("Save correction", size="sm", elem_id="correction-save")
            action_status = gr.HTML("", elem_id="action-status")
    with gr.Column(elem_classes="mr-card"):
        _title("Cited passages")
        sources = gr.HTML(render.draft_sources([]), elem_id="draft-sources")
    go.click(cb.draft, [question, style, length, *filters, use_model, session],
             [text, sources, session, file, actions, draft_status], api_visibility="private")
    to_md.click(cb.export_markdown, [text, session], [file, action_status], api_visibility="private")
    to_doc.click(cb.export_docx, [text, session], [file, action_status], api_visibility="private")
    up.click(cb.rate_draft_up, [reason, session], [reason, action_status], api_visibility="private")
    down.click(cb.rate_draft_down, [reason, session], [reason, action_status], api_visibility="private")
    save.click(cb.correct_draft, [facts, holder, uncovered, reason, session],
               [facts, holder, uncovered, reason, action_status], api_visibility="private")
    return [text, sources, file, draft_status]


# entry points -------------------------------------------------------------------------------------
def build_ui(advisor: Advisor, records: Records, settings: Settings, guards: Guards | None = None) -> gr.Blocks:
    """The Blocks app on one Advisor: "Ask Meridian" for prospects, a workspace for consultants."""
    cb = Callbacks(advisor, records, settings, guards)
    # no delete_cache: it removes cached files by content hash, which other workers' pages still use
    with gr.Blocks(title=f"{FIRM} — Ask Meridian", analytics_enabled=False) as blocks:
        _header()
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("Ask Meridian", id="ask", elem_id="tab-ask"):
                _prospect_tab(cb)
            with gr.Tab("Consultant workspace", id="consultant", elem_id="tab-consultant"):
                _consultant_tab(cb)
    cb.export_dir = Path(blocks.GRADIO_CACHE) / "meridian-exports"
    blocks.queue(default_concurrency_limit=CONCURRENCY)
    return blocks


def mount_options() -> dict[str, Any]:
    """Theme, CSS and chrome settings, for gr.mount_gradio_app or Blocks.launch."""
    return {"theme": meridian_theme(), "css": stylesheet(), "footer_links": [],
            "show_error": False, "run_history": False, "ssr_mode": False,
            # Gradio serves it at <mount>/favicon.ico (its warning that a non-root mount ignores the icon is
            # wrong for that route; tests/test_ui.py checks the bytes); the link stops browsers asking the root
            "favicon_path": str(FAVICON), "head": '<link rel="icon" type="image/svg+xml" href="favicon.ico">'}


def mount_ui(app: FastAPI, advisor: Advisor, records: Records, settings: Settings, *, path: str = "/ui",
             guards: Guards | None = None) -> FastAPI:
    """Mount the UI into the API app at `path`, with the firm's theme and without Gradio's footer; `guards` are
    the API's per-client limits, so a visitor counts the same through either door."""
    return gr.mount_gradio_app(app, build_ui(advisor, records, settings, guards), path=path, **mount_options())
