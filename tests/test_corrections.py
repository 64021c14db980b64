"""A consultant's correction, end to end: "not helpful" with the facts a right answer states, over the real API;
reviewed with `advisor corrections accept`; harvested by `python -m evals harvest` into the regressions set; the
harvested case fails against the advisor as it is and passes once the fix (the missing source) is in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from advisor.advisor import Advisor
from advisor.config import Settings
from advisor.records import Records
from evals import runner
from evals.system import AdvisorSystem
from tests.conftest import REPO, running_server, write_article
from ui.session import send_correction

CONSULTANT = "corrections-consultant-key-0123456789"
QUESTION = "What did Takeda pay Hutchmed upfront for fruquintinib?"


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def test_a_correction_becomes_a_regression_that_fails_then_passes(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_article(corpus, "az-cspc", "In June 2025 AstraZeneca agreed an AI research partnership with CSPC worth up to "
                                     "$5.3bn. Only $110m of the AstraZeneca and CSPC deal was paid upfront.")
    data = tmp_path / "data"
    env = {**os.environ, "ADVISOR_DATA_DIR": str(data), "ADVISOR_EMBEDDER": "hash", "ADVISOR_MIN_EVIDENCE_SCORE": "0.3",
           "PYTHONPATH": str(REPO), "ADVISOR_UI_ENABLED": "false",
           "ADVISOR_API_KEYS": json.dumps({CONSULTANT: "consultant"})}
    assert _cli(["advisor.cli", "ingest", str(corpus)], env).returncode == 0

    with running_server(env, tmp_path / "server.log") as (url, _):
        asked = httpx.post(url + "/v1/ask", json={"question": QUESTION}, headers={"X-API-Key": CONSULTANT},
                           timeout=30).json()
        assert not asked["covered"]  # the note that answers it was never ingested
        correction = {"facts": ["$400m"], "source": "hutchmed-note", "note": "Takeda paid $400m upfront in 2023."}
        anonymous = httpx.post(url + "/v1/feedback", json={"answer_id": asked["answer_id"], "rating": "down",
                                                            "correction": correction})
        assert anonymous.status_code == 403  # only consultants correct answers
        both = httpx.post(url + "/v1/feedback", headers={"X-API-Key": CONSULTANT}, json={
            "answer_id": asked["answer_id"], "rating": "down", "correction": {**correction, "uncovered": True}})
        assert both.status_code == 422 and "not both" in both.json()["error"]
        saved = httpx.post(url + "/v1/feedback", headers={"X-API-Key": CONSULTANT}, json={
            "answer_id": asked["answer_id"], "rating": "down", "reason": "missed the deal", "correction": correction})
        assert saved.status_code == 200
        correction_id = saved.json()["correction_id"]

    pending = _cli(["advisor.cli", "corrections"], env)
    assert correction_id in pending.stdout and "$400m" in pending.stdout and QUESTION in pending.stdout
    out = tmp_path / "regressions.jsonl"
    assert "0 regression" in _cli(["evals", "harvest", "--out", str(out)], env).stderr  # nothing accepted yet
    assert _cli(["advisor.cli", "corrections", "accept", correction_id], env).returncode == 0
    harvested = _cli(["evals", "harvest", "--out", str(out)], env)
    assert "1 regression question(s) added" in harvested.stderr
    assert "0 regression" in _cli(["evals", "harvest", "--out", str(out)], env).stderr  # harvested once only

    [question], skipped = runner.load_splits(["regressions"], regressions_set=out)
    assert not skipped and question["split"] == "regressions" and question["id"].startswith("reg-")
    assert (question["question"], question["audience"], question["required_facts"], question["gold_sources"]) == (
        QUESTION, "internal", ["$400m"], ["hutchmed-note"])

    settings = Settings(data_dir=data, embedder="hash", min_evidence_score=0.3)

    def graded() -> dict:
        advisor = Advisor.from_settings(settings)
        try:
            return runner.evaluate(AdvisorSystem(advisor), question, markers=[], internal_docs=set())
        finally:
            advisor.close()

    assert graded()["correct"] == 0.0  # the regression fails on the advisor as it was
    write_article(corpus, "hutchmed-note", "Takeda licensed fruquintinib from Hutchmed in January 2023 and paid "
                                           "$400m upfront.", audience="internal", companies="Takeda, Hutchmed")
    fixer = Advisor.from_settings(settings)  # the fix: the source the correction named, ingested
    assert fixer.ingest([corpus]).new == 1
    fixer.close()
    after = graded()
    assert after["correct"] == 1.0 and after["recall@10"] == 1.0


def test_a_correction_from_the_workspace_says_what_is_missing(tmp_path: Path) -> None:
    from advisor.advisor import InputError
    from advisor.types import Answer

    records = Records(tmp_path / "records.db")
    conversation = records.new_conversation(audience="internal", role="consultant")
    answer = Answer(question="Q?", text="A.", covered=True)
    records.log_answer(conversation, answer)
    with pytest.raises(InputError, match="facts a right answer must state"):
        send_correction(records, answer, facts=" \n ", source="", uncovered=False, note="")
    with pytest.raises(InputError, match="draft an answer first"):
        send_correction(records, None, facts="$1bn", source="", uncovered=False, note="")
    correction_id = send_correction(records, answer, facts="$1bn\n28%", source="doc-a", uncovered=False, note="x")
    [stored] = records.corrections("pending")
    assert stored["id"] == correction_id and stored["facts"] == ["$1bn", "28%"] and stored["audience"] == "internal"
    assert records.feedback(answer.answer_id or "")[0]["rating"] == "down"
