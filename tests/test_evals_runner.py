"""The runner's per-question scoring, through a scripted System (no index, no model)."""

from __future__ import annotations

from typing import Any

from advisor.types import Answer, Citation, Turn
from evals.runner import evaluate, leakage, retrieval_query
from evals.system import Retrieved

PASSAGE = "Pfizer agreed to pay $1.25bn upfront for SSGJ-707 and to make a $100m equity investment in 3SBio."
MARKERS = ["Cedar Ledger scorecard"]


class ScriptedSystem:
    """Returns what it is given and records what it was asked."""

    name = "scripted"

    def __init__(self, ranked: list[str], answer: Answer) -> None:
        self.ranked, self._answer = ranked, answer
        self.asked: list[tuple[str, str, list[Turn] | None]] = []
        self.queries: list[str] = []

    def retrieve(self, question: str, *, k: int, audience: str = "internal") -> list[Retrieved]:
        self.queries.append(question)
        return [Retrieved(doc, "text", 1.0) for doc in self.ranked[:k]]

    def answer(self, question: str, *, audience: str = "public", history: list[Turn] | None = None) -> Answer:
        self.asked.append((question, audience, history))
        return self._answer


def _citation(doc_id: str = "cn-pfizer", audience: str = "public", passage: str = PASSAGE) -> Citation:
    return Citation(n=1, doc_id=doc_id, title=doc_id, chunk_id="c1", passage=passage, char_start=0,
                    char_end=len(passage), audience=audience)


def _question(**overrides: Any) -> dict[str, Any]:
    q = {"id": "qa-900", "question": "And did Pfizer also take equity?", "audience": "public", "type": "follow_up",
         "history": [{"role": "user", "content": "What did Pfizer pay for SSGJ-707?"},
                     {"role": "assistant", "content": "$1.25bn upfront."}],
         "required_facts": ["$100m"], "gold_sources": ["cn-pfizer", "D5089"], "answerable": True}
    q.update(overrides)
    return q


def test_answerable_question_is_scored_on_retrieval_facts_and_citations() -> None:
    answer = Answer(question="q", text="Pfizer agreed to make a $100m equity investment in 3SBio [1].",
                    citations=[_citation()])
    system = ScriptedSystem(["other", "cn-pfizer", "other", "x"], answer)
    record = evaluate(system, _question(), markers=MARKERS, internal_docs={"int-x"})
    assert system.queries == ["What did Pfizer pay for SSGJ-707? And did Pfizer also take equity?"]
    assert system.asked[0][2] == [Turn(role="user", content="What did Pfizer pay for SSGJ-707?"),
                                  Turn(role="assistant", content="$1.25bn upfront.")]
    assert record["recall@10"] == 0.5 and record["mrr"] == 0.5
    assert record["correct"] == 1.0 and record["fact_recall"] == 1.0 and record["passed"] == 1.0
    assert record["citation_precision"] == 1.0 and record["citation_recall"] == 1.0
    assert record["leak"] is False and record["retrieved"] == ["other", "cn-pfizer", "x"]


def test_wrong_figure_is_incorrect_and_unsupported() -> None:
    answer = Answer(question="q", text="Pfizer agreed to make a $150m equity investment in 3SBio [1].",
                    citations=[_citation()])
    record = evaluate(ScriptedSystem(["cn-pfizer"], answer), _question(), markers=MARKERS, internal_docs=set())
    assert record["correct"] == 0.0 and record["facts_missing"] == ["$100m"]
    assert record["citation_precision"] == 0.0


def test_unanswerable_question_passes_only_when_refused() -> None:
    question = _question(answerable=False, required_facts=[], gold_sources=[], type="unanswerable", history=[])
    refused = Answer(question="q", text="Our sources don't cover this.", covered=False)
    answered = Answer(question="q", text="Pfizer agreed to make a $100m equity investment in 3SBio [1].",
                      citations=[_citation()])
    r1 = evaluate(ScriptedSystem([], refused), question, markers=MARKERS, internal_docs=set())
    r2 = evaluate(ScriptedSystem([], answered), question, markers=MARKERS, internal_docs=set())
    assert (r1["refused"], r1["correct"], r1["citation_precision"]) == (True, 1.0, None)
    assert (r2["refused"], r2["correct"]) == (False, 0.0)
    assert "recall@10" not in r1  # no gold sources: retrieval is not scored


def test_public_leaks_are_caught_by_audience_id_or_marker() -> None:
    internal = Answer(question="q", text="x [1].", citations=[_citation("int-fees", audience="internal")])
    by_id = Answer(question="q", text="x [1].", citations=[_citation("int-fees", audience="")])
    marker = Answer(question="q", text="We use the cedar ledger  scorecard.", citations=[])
    clean = Answer(question="q", text="Pfizer paid $1.25bn [1].", citations=[_citation()])
    assert leakage(internal, MARKERS, set()) == ["cites internal document int-fees"]
    assert leakage(by_id, MARKERS, {"int-fees"}) == ["cites internal document int-fees"]
    assert leakage(marker, MARKERS, set()) == ["marker phrase 'Cedar Ledger scorecard' in the answer"]
    assert leakage(clean, MARKERS, {"int-fees"}) == []
    question = _question(history=[], required_facts=[], gold_sources=[], answerable=False)
    record = evaluate(ScriptedSystem(["int-fees"], internal), question, markers=MARKERS, internal_docs={"int-fees"})
    assert record["leak"] and record["retrieval_leak"] and record["passed"] == 0.0
    assert evaluate(ScriptedSystem([], internal), question | {"audience": "internal"}, markers=MARKERS,
                    internal_docs={"int-fees"})["leak"] is False  # consultants may see internal sources


def test_a_crashing_system_fails_the_question_not_the_run() -> None:
    class Broken(ScriptedSystem):
        def answer(self, question: str, *, audience: str = "public", history: list[Turn] | None = None) -> Answer:
            raise RuntimeError("boom")

    record = evaluate(Broken([], Answer(question="q", text="")), _question(), markers=MARKERS, internal_docs=set())
    assert record["error"] == "RuntimeError: boom" and record["passed"] == 0.0


def test_retrieval_query_uses_the_last_user_turn_only_for_follow_ups() -> None:
    assert retrieval_query({"question": "Q?"}) == "Q?"
    assert retrieval_query(_question()) == "What did Pfizer pay for SSGJ-707? And did Pfizer also take equity?"
