"""What people asked and said: conversations, answers, feedback and leads, in SQLite.

`ADVISOR_RECORDS_URL` picks the database (`sqlite:///path/to.db`); the default lives in the data dir.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from advisor.types import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, created REAL NOT NULL, audience TEXT NOT NULL,
                                          role TEXT NOT NULL, client TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS answers (id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, created REAL NOT NULL,
                                    question TEXT NOT NULL, answer TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS answers_conversation ON answers(conversation_id);
CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT NULL,
                                     created REAL NOT NULL, rating TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS corrections (id TEXT PRIMARY KEY, answer_id TEXT NOT NULL, created REAL NOT NULL,
                                        facts TEXT NOT NULL, source TEXT NOT NULL, uncovered INTEGER NOT NULL,
                                        note TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
                                        reviewed REAL);
CREATE TABLE IF NOT EXISTS leads (id TEXT PRIMARY KEY, created REAL NOT NULL, name TEXT NOT NULL,
                                  email TEXT NOT NULL, company TEXT NOT NULL, consent INTEGER NOT NULL,
                                  conversation_id TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '');
"""


class NotFound(LookupError):
    """An id that does not exist (or that this caller may not see)."""


def sqlite_path(url: str) -> Path:
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    if "://" in url:
        raise ValueError(f"records URL {url!r} is not supported: use sqlite:///path/to/records.db")
    return Path(url)


def records_path(records_url: str | None, data_dir: Path) -> Path:
    """Where the records live: ADVISOR_RECORDS_URL, or records.sqlite3 in the data dir."""
    return sqlite_path(records_url or str(data_dir / "records.sqlite3"))


class Records:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; a power cut may lose the last write
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def new_conversation(self, *, audience: str, role: str, client: str = "") -> str:
        conversation_id = uuid.uuid4().hex
        self._run("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)", (conversation_id, time.time(), audience, role,
                                                                      client))
        return conversation_id

    def has_conversation(self, conversation_id: str, *, client: str, audience: str) -> bool:
        """Whether this caller (`client`, as given to new_conversation) may continue the conversation: only the
        one who started it, with the same audience; anyone else is told it does not exist."""
        return bool(self._run("SELECT 1 FROM conversations WHERE id=? AND client=? AND audience=?",
                              (conversation_id, client, audience)))

    def log_answer(self, conversation_id: str, answer: Answer) -> str:
        answer_id = answer.answer_id or uuid.uuid4().hex
        answer.answer_id, answer.conversation_id = answer_id, conversation_id
        self._run("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
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
        self._run("INSERT INTO leads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
