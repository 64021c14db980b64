"""What people asked and said: conversations, answers, feedback, corrections and leads.

In SQLite under the data dir by default; ADVISOR_DATABASE_URL=postgresql://… shares them between replicas
(ADVISOR_RECORDS_URL, older, still picks the records' database alone). The schema is `advisor.db`'s migrations.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from advisor.db import database_url, engine_for, named, upgrade
from advisor.types import Answer

if TYPE_CHECKING:
    from advisor.config import Settings


class NotFound(LookupError):
    """An id that does not exist (or that this caller may not see)."""


def records_path(settings: Settings) -> str:
    """Where the records live, as a SQLAlchemy URL: ADVISOR_RECORDS_URL, else ADVISOR_DATABASE_URL, else
    records.sqlite3 in the data dir."""
    return database_url(settings.records_url or settings.database_url, settings.data_dir)


class Records:
    """`where`: a SQLite file, or a database URL (records_path). The schema is brought up to date on opening."""

    def __init__(self, where: Path | str) -> None:
        self.url = database_url(str(where), Path("."))
        self._engine = engine_for(self.url)
        upgrade(self._engine)

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement in its own transaction; `?` placeholders, in order."""
        with self._engine.begin() as conn:
            result = conn.execute(*named(sql, args))
            return [tuple(row) for row in result] if result.returns_rows else []

    def close(self) -> None:
        self._engine.dispose()

    def new_conversation(self, *, audience: str, role: str, client: str = "") -> str:
        conversation_id = uuid.uuid4().hex
        self._run("INSERT INTO conversations (id, created, audience, role, client) VALUES (?, ?, ?, ?, ?)",
                  (conversation_id, time.time(), audience, role, client))
        return conversation_id

    def has_conversation(self, conversation_id: str, *, client: str, audience: str) -> bool:
        """Whether this caller (`client`, as given to new_conversation) may continue the conversation: only the
        one who started it, with the same audience; anyone else is told it does not exist."""
        return bool(self._run("SELECT 1 FROM conversations WHERE id=? AND client=? AND audience=?",
                              (conversation_id, client, audience)))

    def log_answer(self, conversation_id: str, answer: Answer) -> str:
        answer_id = answer.answer_id or uuid.uuid4().hex
        answer.answer_id, answer.conversation_id = answer_id, conversation_id
        self._run("INSERT INTO answers (id, conversation_id, created, question, answer) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT (id) DO UPDATE SET conversation_id=excluded.conversation_id, "
                  "created=excluded.created, question=excluded.question, answer=excluded.answer",
                  (answer_id, conversation_id, time.time(), answer.question, answer.model_dump_json()))
        return answer_id

    def answer(self, answer_id: str) -> Answer:
        rows = self._run("SELECT answer FROM answers WHERE id=?", (answer_id,))
        if not rows:
            raise NotFound(f"answer {answer_id} not found")
        return Answer.model_validate_json(rows[0][0])

    def add_feedback(self, answer_id: str, rating: Literal["up", "down"], reason: str = "") -> None:
        self.answer(answer_id)  # raises NotFound
        self._run("INSERT INTO feedback (answer_id, created, rating, reason) VALUES (?, ?, ?, ?)",
                  (answer_id, time.time(), rating, reason))

    def feedback(self, answer_id: str) -> list[dict[str, Any]]:
        rows = self._run("SELECT rating, reason, created FROM feedback WHERE answer_id=? ORDER BY id", (answer_id,))
        return [{"rating": r, "reason": why, "created": c} for r, why, c in rows]

    def add_correction(self, answer_id: str, *, facts: list[str], source: str = "", uncovered: bool = False,
                       note: str = "") -> str:
        """What a right answer would have said: the facts it must state and the source that holds them, or that it
        should have said the sources don't cover the question. Pending until reviewed (`review_correction`)."""
        facts = [f.strip() for f in facts if f.strip()]
        if uncovered and facts:
            raise ValueError("a correction either lists the facts a right answer states or says the sources don't "
                             "cover the question, not both")
        if not (uncovered or facts):
            raise ValueError("a correction needs the facts a right answer must state (one per line), or 'should "
                             "have said our sources don't cover this'")
        self.answer(answer_id)  # raises NotFound
        correction_id = uuid.uuid4().hex
        self._run("INSERT INTO corrections (id, answer_id, created, facts, source, uncovered, note) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)", (correction_id, answer_id, time.time(), json.dumps(facts),
                                                   source.strip(), int(uncovered), note.strip()))
        return correction_id

    def review_correction(self, correction_id: str, *, accept: bool) -> None:
        rows = self._run("SELECT 1 FROM corrections WHERE id=?", (correction_id,))
        if not rows:
            raise NotFound(f"correction {correction_id} not found; `advisor corrections` lists them")
        self._run("UPDATE corrections SET status=?, reviewed=? WHERE id=?",
                  ("accepted" if accept else "rejected", time.time(), correction_id))

    def corrections(self, status: str | None = None) -> list[dict[str, Any]]:
        """Corrections with the question they correct: its text, audience and the conversation before it."""
        rows = self._run("SELECT c.id, c.answer_id, c.created, c.facts, c.source, c.uncovered, c.note, c.status, "
                         "a.question, a.conversation_id, a.created, v.audience FROM corrections c "
                         "JOIN answers a ON a.id = c.answer_id JOIN conversations v ON v.id = a.conversation_id "
                         + ("WHERE c.status=? " if status else "") + "ORDER BY c.created",
                         (status,) if status else ())
        out = []
        for cid, answer_id, created, facts, source, uncovered, note, state, question, conversation, asked, aud in rows:
            earlier = self._run("SELECT question, answer FROM answers WHERE conversation_id=? AND created<? "
                                "ORDER BY created", (conversation, asked))
            history = [turn for q, a in earlier for turn in ({"role": "user", "content": q},
                                                              {"role": "assistant",
                                                               "content": json.loads(a).get("text", "")})]
            out.append({"id": cid, "answer_id": answer_id, "created": created, "facts": json.loads(facts),
                        "source": source, "uncovered": bool(uncovered), "note": note, "status": state,
                        "question": question, "audience": aud, "history": history})
        return out

    def add_lead(self, *, name: str, email: str, company: str, consent: bool, conversation_id: str = "",
                 message: str = "") -> str:
        if not consent:
            raise ValueError("consent is required to store your details")
        lead_id = uuid.uuid4().hex
        self._run("INSERT INTO leads (id, created, name, email, company, consent, conversation_id, message) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  (lead_id, time.time(), name, email, company, 1, conversation_id, message))
        return lead_id

    def leads(self) -> list[dict[str, Any]]:
        rows = self._run("SELECT id, created, name, email, company, conversation_id, message FROM leads "
                         "ORDER BY created DESC")
        keys = ("id", "created", "name", "email", "company", "conversation_id", "message")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        rows = self._run("SELECT id, question, answer, created FROM answers WHERE conversation_id=? ORDER BY created",
                         (conversation_id,))
        return [{"answer_id": i, "question": q, "answer": json.loads(a), "created": c} for i, q, a, c in rows]
