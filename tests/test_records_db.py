"""The records' contract, run against SQLite and a real PostgreSQL; migrations; and two API replicas sharing one
PostgreSQL, so what one records the other sees."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from advisor.db import engine_for, upgrade, version
from advisor.records import NotFound, Records
from advisor.types import Answer
from tests.conftest import REPO, new_database, running_server, write_article


@pytest.fixture(params=["sqlite", "postgresql"])
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Records]:
    if request.param == "sqlite":
        store = Records(tmp_path / "records.sqlite3")
    else:
        server = request.getfixturevalue("postgres")
        store = Records(new_database(server, f"records_{uuid.uuid4().hex[:8]}"))
    yield store
    store.close()


def _answer(records: Records, conversation: str, question: str, text: str) -> Answer:
    answer = Answer(question=question, text=text, covered=True)
    records.log_answer(conversation, answer)
    return answer


def test_conversations_are_bound_to_their_caller(records: Records) -> None:
    conversation = records.new_conversation(audience="internal", role="consultant", client="key:abc")
    assert records.has_conversation(conversation, client="key:abc", audience="internal")
    assert not records.has_conversation(conversation, client="addr:10.0.0.1", audience="internal")
    assert not records.has_conversation(conversation, client="key:abc", audience="public")
    assert not records.has_conversation("nope", client="key:abc", audience="internal")


def test_answers_feedback_corrections_and_leads(records: Records) -> None:
    conversation = records.new_conversation(audience="internal", role="consultant")
    first = _answer(records, conversation, "What did AZ pay?", "$110m [1].")
    second = _answer(records, conversation, "And the total?", "Up to $5.3bn [1].")
    second.text = "Up to $5.3bn in total [1]."
    records.log_answer(conversation, second)  # the same id again replaces, never duplicates
    assert [a["answer"]["text"] for a in records.conversation(conversation)] == ["$110m [1].",
                                                                                  "Up to $5.3bn in total [1]."]
    assert records.answer(second.answer_id or "").text == "Up to $5.3bn in total [1]."
    with pytest.raises(NotFound):
        records.add_feedback("no-such-answer", "up")
    records.add_feedback(first.answer_id or "", "up", "clear")
    records.add_feedback(first.answer_id or "", "down", "actually wrong")
    assert [f["rating"] for f in records.feedback(first.answer_id or "")] == ["up", "down"]

    correction = records.add_correction(second.answer_id or "", facts=["$5.3bn", " "], source="az-cspc")
    [pending] = records.corrections("pending")
    assert pending["id"] == correction and pending["facts"] == ["$5.3bn"] and pending["audience"] == "internal"
    assert pending["history"] == [{"role": "user", "content": "What did AZ pay?"},
                                  {"role": "assistant", "content": "$110m [1]."}]
    records.review_correction(correction, accept=True)
    assert records.corrections("pending") == [] and records.corrections("accepted")[0]["status"] == "accepted"
    with pytest.raises(ValueError, match="not both"):
        records.add_correction(first.answer_id or "", facts=["x"], uncovered=True)

    lead = records.add_lead(name="Ana", email="ana@example.com", company="Heron", consent=True,
                            conversation_id=conversation, message="Call me")
    assert records.leads()[0]["id"] == lead and records.leads()[0]["conversation_id"] == conversation
    with pytest.raises(ValueError, match="consent"):
        records.add_lead(name="Bo", email="bo@example.com", company="", consent=False)


def test_migrations_apply_once_and_adopt_a_records_file_from_before_them(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(old) as db:  # the schema as the records module wrote it before migrations existed
        db.executescript("""
            CREATE TABLE conversations (id TEXT PRIMARY KEY, created REAL NOT NULL, audience TEXT NOT NULL,
                                        role TEXT NOT NULL, client TEXT NOT NULL DEFAULT '');
            CREATE TABLE answers (id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, created REAL NOT NULL,
                                  question TEXT NOT NULL, answer TEXT NOT NULL);
            INSERT INTO conversations VALUES ('c1', 1.0, 'public', 'anonymous', 'addr:1');""")
    engine = engine_for(f"sqlite:///{old}")
    assert version(engine) == 0
    assert upgrade(engine) == [1] and upgrade(engine) == [] and version(engine) == 1
    engine.dispose()
    store = Records(old)
    assert store.has_conversation("c1", client="addr:1", audience="public")  # nothing lost
    assert store.leads() == []  # the tables the old file lacked were created
    store.close()


def test_db_upgrade_command(postgres: str, tmp_path: Path) -> None:
    url = new_database(postgres, "upgrade_cli")
    env = {**os.environ, "ADVISOR_DATABASE_URL": url, "ADVISOR_DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    first = subprocess.run([sys.executable, "-m", "advisor.cli", "db", "upgrade"], env=env, capture_output=True,
                           text=True, timeout=60)
    again = subprocess.run([sys.executable, "-m", "advisor.cli", "db", "upgrade"], env=env, capture_output=True,
                           text=True, timeout=60)
    assert first.returncode == 0 and "schema version 1 (applied 1)" in first.stdout
    assert again.returncode == 0 and "(up to date)" in again.stdout
    unreachable = subprocess.run([sys.executable, "-m", "advisor.cli", "db", "upgrade"], capture_output=True,
                                 text=True, timeout=60, env={**env, "ADVISOR_DATABASE_URL":
                                                             "postgresql://nobody@127.0.0.1:1/none"})
    assert unreachable.returncode == 1 and "cannot upgrade postgresql+psycopg://nobody@127.0.0.1:1/none" in \
        unreachable.stderr


def test_two_replicas_share_the_records(postgres: str, tmp_path: Path) -> None:
    """An answer given by replica A is rated, and its conversation continued, through replica B; a lead taken by
    A is in the shared database."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_article(corpus, "az-cspc", "In June 2025 AstraZeneca agreed an AI research partnership with CSPC worth up to "
                                     "$5.3bn. Only $110m of the AstraZeneca and CSPC deal was paid upfront.")
    key = "replica-consultant-key-0123456789"
    url = new_database(postgres, "replicas")
    env = {**os.environ, "ADVISOR_DATA_DIR": str(tmp_path / "data"), "ADVISOR_EMBEDDER": "hash",
           "ADVISOR_MIN_EVIDENCE_SCORE": "0.25", "PYTHONPATH": str(REPO), "ADVISOR_UI_ENABLED": "false",
           "ADVISOR_API_KEYS": json.dumps({key: "consultant"}), "ADVISOR_DATABASE_URL": url}
    assert subprocess.run([sys.executable, "-m", "advisor.cli", "ingest", str(corpus)], env=env, cwd=REPO,
                          capture_output=True, timeout=300).returncode == 0
    headers = {"X-API-Key": key}
    with running_server(env, tmp_path / "a.log") as (a, _), running_server(env, tmp_path / "b.log") as (b, _):
        answer = httpx.post(a + "/v1/ask", json={"question": "What did AstraZeneca pay CSPC upfront?"},
                            headers=headers, timeout=30).json()
        rated = httpx.post(b + "/v1/feedback", json={"answer_id": answer["answer_id"], "rating": "up"},
                           headers=headers)
        followed = httpx.post(b + "/v1/ask", json={"question": "And the total?",
                                                   "conversation_id": answer["conversation_id"]},
                              headers=headers, timeout=30)
        lead = httpx.post(a + "/v1/leads", json={"name": "Ana", "email": "ana@heron.example", "consent": True,
                                                 "conversation_id": answer["conversation_id"]})
    assert rated.status_code == 200 and followed.status_code == 200
    assert followed.json()["conversation_id"] == answer["conversation_id"]
    shared = Records(url)
    assert [f["rating"] for f in shared.feedback(answer["answer_id"])] == ["up"]
    assert [a["question"] for a in shared.conversation(answer["conversation_id"])] == [
        "What did AstraZeneca pay CSPC upfront?", "And the total?"]
    assert shared.leads()[0]["id"] == lead.json()["lead_id"]
    shared.close()
