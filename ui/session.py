"""Per-visitor state and the calls the UI makes on Advisor and Records. No Gradio here."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from advisor.advisor import Advisor, InputError, Writer
from advisor.config import Audience
from advisor.export import to_docx, to_markdown
from advisor.records import NotFound, Records
from advisor.retrieve import Filters
from advisor.roles import Role, audience_for
from advisor.types import Answer, Citation, SourceView, Turn
from ui.inputs import check_lead

MAX_REMEMBERED_ANSWERS = 50
EXPORT_MAX_AGE_S = 3600
_LINK_TARGET = re.compile(r"^([0-9a-f]{8,64})-(\d{1,3})(?:-\d+)?$")


class NotAllowed(PermissionError):
    """A consultant action attempted before the workspace was unlocked."""


@dataclass
class ChatSession:
    """One visitor's conversation: its record id, the turns so far and the answers they can open."""

    audience: Audience = "public"
    role: Role = "prospect"
    conversation_id: str = ""
    history: list[Turn] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    last_answer_id: str = ""

    @property
    def last_answer(self) -> Answer | None:
        return self.answers.get(self.last_answer_id)

    def remember(self, question: str, answer: Answer, max_turns: int) -> None:
        """Add a question and its answer to the history the advisor condenses follow-ups from."""
        self.history = [*self.history, Turn(role="user", content=question),
                        Turn(role="assistant", content=answer.text[:8000])][-max_turns:]
        self.answers[answer.answer_id or ""] = answer
        self.last_answer_id = answer.answer_id or ""
        while len(self.answers) > MAX_REMEMBERED_ANSWERS:
            self.answers.pop(next(iter(self.answers)))


@dataclass
class ConsultantSession:
    """A consultant's workspace: the role the key unlocked, the conversation and the current draft."""

    role: Role = "anonymous"
    conversation_id: str = ""
    draft: Answer | None = None

    def require(self) -> Role:
        """The unlocked role, or NotAllowed."""
        if self.role not in ("consultant", "admin"):
            raise NotAllowed("Unlock the consultant workspace with your key first")
        return self.role


def conversation_for(records: Records, session: ChatSession | ConsultantSession, audience: Audience) -> str:
    """The session's conversation id, created on first use."""
    if not session.conversation_id:
        session.conversation_id = records.new_conversation(audience=audience, role=session.role)
    return session.conversation_id


class StreamStep(NamedTuple):
    text: str  # the answer so far
    answer: Answer | None = None  # the logged Answer, on the last step only
    reading: tuple[str, ...] = ()  # titles of the sources found, on a step before any text


def stream_answer(advisor: Advisor, records: Records, session: ChatSession, question: str) -> Iterator[StreamStep]:
    """The answer text as it grows, then the full text with the logged Answer.

    When sources were found, a first step names them, so the chat can say what is being read while a
    language model writes (seconds on a CPU).
    """
    text, answer = "", None
    for event in advisor.stream(question, audience=session.audience, history=session.history):
        if event["event"] == "sources" and event["data"]:
            yield StreamStep("", reading=tuple(str(source["title"]) for source in event["data"]))
        elif event["event"] == "delta":
            text += event["data"]
            yield StreamStep(text)
        elif event["event"] == "answer":
            answer = Answer.model_validate(event["data"])
    if answer is None:
        raise RuntimeError("the advisor's stream ended without an answer")
    records.log_answer(conversation_for(records, session, session.audience), answer)
    session.remember(question, answer, advisor.settings.max_history_turns)
    yield StreamStep(answer.text, answer)


def parse_link(target: str) -> tuple[str, int]:
    """A citation link's answer id and number, from '<answer_id>-<n>[-<nonce>]'."""
    match = _LINK_TARGET.match((target or "").strip())
    if not match:
        raise NotFound(f"citation link {target!r} not understood")
    return match.group(1), int(match.group(2))


def find_citation(answer: Answer | None, n: int) -> Citation:
    """Citation number n of an answer."""
    for citation in answer.citations if answer else []:
        if citation.n == n:
            return citation
    raise NotFound(f"citation [{n}] is not part of this answer")


def open_citation(advisor: Advisor, answer: Answer | None, n: int, audience: Audience) -> tuple[Citation, SourceView]:
    """A citation and its passage in context, as the caller's audience may see it."""
    citation = find_citation(answer, n)
    view = advisor.source(citation.doc_id, audience=audience, char_start=citation.char_start,
                          char_end=citation.char_end)
    return citation, view


def send_feedback(records: Records, answer: Answer | None, rating: Literal["up", "down"], reason: str) -> None:
    """Store a rating (and optional reason) against an answer that was logged."""
    if answer is None or not answer.answer_id:
        raise InputError("there is no answer to rate yet: ask a question first")
    records.add_feedback(answer.answer_id, rating, (reason or "").strip()[:2000])


def send_correction(records: Records, answer: Answer | None, *, facts: str, source: str, uncovered: bool,
                    note: str) -> str:
    """A "not helpful" with what a right answer would have said; returns the correction's id. Reviewed
    corrections become regression questions (`python -m evals harvest`)."""
    if answer is None or not answer.answer_id:
        raise InputError("there is no draft to correct yet: draft an answer first")
    try:
        records.add_feedback(answer.answer_id, "down", (note or "").strip()[:2000])
        return records.add_correction(answer.answer_id, facts=(facts or "").splitlines()[:20],
                                      source=(source or "").strip()[:200], uncovered=bool(uncovered),
                                      note=(note or "").strip()[:2000])
    except ValueError as exc:
        raise InputError(str(exc)) from exc


def request_call(records: Records, session: ChatSession, *, name: str, email: str, company: str, message: str,
                 consent: bool) -> str:
    """Store a visitor's request to talk to a consultant with their conversation; returns the thank-you line."""
    name, email = (name or "").strip(), (email or "").strip()
    check_lead(name=name, email=email, consent=consent)
    records.add_lead(name=name, email=email, company=(company or "").strip(), consent=True,
                     conversation_id=session.conversation_id, message=(message or "").strip()[:4000])
    return f"Thank you, {name}. A Meridian consultant will be in touch at {email}."


def make_draft(advisor: Advisor, records: Records, session: ConsultantSession, question: str, *,
               style: Literal["email", "briefing"], length: Literal["short", "long"], audience: Audience,
               filters: Filters, writer: Writer | None = None) -> Answer:
    """A consultant's cited draft, logged in the consultant's conversation."""
    role = session.require()
    answer = advisor.draft(question, style=style, length=length, audience=audience, filters=filters, writer=writer)
    records.log_answer(conversation_for(records, session, audience_for(role)), answer)
    session.draft = answer
    return answer


def _prune(folder: Path) -> None:
    """Remove exports older than an hour (another worker may be removing them at the same time)."""
    for old in folder.glob("*/*"):
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > EXPORT_MAX_AGE_S:
                old.unlink()
                old.parent.rmdir()


def export_draft(text: str, session: ConsultantSession, folder: Path, suffix: Literal[".md", ".docx"]) -> Path:
    """Write the edited draft with its references as Markdown or Word, each export in a folder of its own."""
    session.require()
    if session.draft is None or not (text or "").strip():
        raise InputError("draft something first, then export it")
    _prune(folder)
    path = folder / uuid.uuid4().hex[:12] / f"meridian-draft-{time.strftime('%Y-%m-%d')}{suffix}"
    path.parent.mkdir(parents=True)
    if suffix == ".docx":
        path.write_bytes(to_docx(text, session.draft.citations))
    else:
        path.write_text(to_markdown(text, session.draft.citations), encoding="utf-8")
    return path
