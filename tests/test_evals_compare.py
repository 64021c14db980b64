"""compare (deltas, flipped questions), the report files, and the stable question selection."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from evals import report
from evals.__main__ import main
from evals.compare import compare, compare_paths
from evals.runner import TYPES, aggregate, aggregate_by_type, load_questions, select, smoke_sample


def _record(qid: str, qtype: str, passed: bool, *, answerable: bool = True, refused: bool = False,
            latency: float = 100.0) -> dict[str, Any]:
    return {"id": qid, "type": qtype, "audience": "public", "answerable": answerable, "system": "advisor",
            "question": f"question {qid}", "refused": refused, "correct": float(passed), "passed": float(passed),
            "recall@10": 1.0 if passed else 0.0, "citation_precision": 1.0, "leak": False, "latency_ms": latency,
            "answer": "text", "facts_missing": [] if passed else ["$1.4bn"]}


def _results(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"meta": {"run_id": "t", "systems": ["advisor"]},
            "inhouse": {"questions": [r["id"] for r in records],
                        "systems": {"advisor": {"overall": aggregate(records), "by_type": aggregate_by_type(records),
                                                "records": records, "wall_s": 1.0}}},
            "suites": [{"suite": "scifact", "status": "ok", "reason": "", "sample": 10, "n_queries": 10,
                        "systems": {"advisor": {"ndcg@10": 0.6}, "naive-baseline": {"ndcg@10": 0.5}}, "notes": []},
                       {"suite": "cuad", "status": "skipped", "reason": "dataset file x not found", "sample": 10,
                        "n_queries": 0, "systems": {}, "notes": []}]}


def test_compare_reports_deltas_and_flips() -> None:
    a = _results([_record("qa-001", "simple_fact", True), _record("qa-002", "simple_fact", False),
                  _record("qa-003", "comparison", True), _record("qa-004", "comparison", True)])
    b = _results([_record("qa-001", "simple_fact", False), _record("qa-002", "simple_fact", True),
                  _record("qa-003", "comparison", False), _record("qa-005", "comparison", True)])
    [diff] = compare(a, b)
    assert diff.broke == ["qa-001", "qa-003"]
    assert diff.fixed == ["qa-002"]
    assert diff.only_a == ["qa-004"] and diff.only_b == ["qa-005"]
    deltas = {key: d for key, _, _, d in diff.deltas}
    assert deltas["correct"] == pytest.approx(1 / 3 - 2 / 3)  # over the three questions both runs hold
    assert diff.by_type["comparison"] == (1.0, 0.0)


def test_aggregate_refusal_precision_and_recall() -> None:
    records = [_record("a", "unanswerable", True, answerable=False, refused=True),
               _record("b", "unanswerable", False, answerable=False, refused=False),
               _record("c", "simple_fact", False, refused=True),
               _record("d", "simple_fact", True)]
    overall = aggregate(records)
    assert overall["refusal_precision"] == 0.5  # two refusals, one of them right
    assert overall["refusal_recall"] == 0.5  # two questions to refuse, one refused
    assert aggregate([records[3]])["refusal_precision"] is None


def test_aggregate_reads_how_well_the_gate_score_separates_the_two_kinds() -> None:
    def scored(qid: str, score: float, answerable: bool, route: str = "lookup") -> dict[str, Any]:
        return {**_record(qid, "simple_fact", answerable, answerable=answerable), "evidence_score": score,
                "route": route}

    records = [scored("a", 0.9, True), scored("b", 0.6, True), scored("c", 0.7, False), scored("d", 0.2, False)]
    assert aggregate(records)["evidence_auroc"] == 0.75  # of four answerable-unanswerable pairs, three in order
    # the deal records' answers pass no gate; a score that never varies (the baseline's) separates nothing
    assert aggregate([*records, scored("e", 0.0, True, route="analytics")])["evidence_auroc"] == 0.75
    assert aggregate([scored(q, 0.0, q < "c") for q in "abcd"])["evidence_auroc"] is None
    assert aggregate(records[:2])["evidence_auroc"] is None  # one kind only
    assert "| Evidence AUROC (gate score) | 0.750 |" in report.summary_markdown(_results(records))


def test_aggregate_counts_wrong_answers_by_the_mechanism_behind_them() -> None:
    def routed(qid: str, passed: bool, route: str, *, answerable: bool = True, refused: bool = False) -> dict[str, Any]:
        return {**_record(qid, "simple_fact", passed, answerable=answerable, refused=refused), "route": route}

    records = [routed("a", True, "lookup"),  # right
               routed("b", False, "no_coverage", refused=True),  # answerable, the gate refused it
               routed("c", False, "partial", refused=True),  # answerable, a later check refused it
               routed("d", False, "lookup"),  # answered without every fact
               routed("e", False, "lookup", answerable=False),  # should have been refused
               routed("f", True, "no_coverage", answerable=False, refused=True),  # rightly refused
               {**routed("g", False, "lookup"), "error": "RuntimeError: boom"}]  # a crash is no mechanism's
    overall = aggregate(records)
    assert (overall["refused_by_gate"], overall["refused_by_check"], overall["answered_missing_facts"],
            overall["unanswerable_answered"]) == (1, 1, 1, 1)
    # with every refusal decision right: a, f as they are, b, c and e turned; d (composition) and g stay wrong
    assert overall["correct_if_refusals_right"] == 5 / 7
    assert "| Unanswerable answered | 1 |" in report.summary_markdown(_results(records))
    assert "| Correct if every refusal decision were right | 71.4% |" in report.summary_markdown(_results(records))


def test_report_files_are_self_contained_and_compare_cli_reads_them(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    a = _results([_record("qa-001", "simple_fact", True, latency=50), _record("qa-002", "advice", False)])
    b = _results([_record("qa-001", "simple_fact", False, latency=900), _record("qa-002", "advice", False)])
    paths = report.write(a, tmp_path / "a")
    report.write(b, tmp_path / "b")
    html = paths["html"].read_text()
    assert "<svg" in html and "Public suites" in html and "dataset file x not found" in html
    assert not re.search(r"(src|href)=\"https?://", html)  # nothing fetched from a CDN
    assert "| Correct | 50.0% |" in paths["md"].read_text()
    text = compare_paths(tmp_path / "a", tmp_path / "b")
    assert "pass → fail (1): qa-001" in text and "fail → pass (0): none" in text
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "qa-001" in capsys.readouterr().out
    (tmp_path / "a" / "report.html").unlink()
    assert main(["report", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "report.html").is_file()
    assert json.loads((tmp_path / "a" / "results.json").read_text())["meta"]["run_id"] == "t"


def test_selection_is_stratified_seeded_and_stable() -> None:
    questions = load_questions()
    sample = select(questions, sample=24, seed=3)
    assert len(sample) == 24 and {q["type"] for q in sample} == set(TYPES)
    assert [q["id"] for q in select(questions, sample=24, seed=3)] == [q["id"] for q in sample]
    assert [q["id"] for q in select(questions, sample=24, seed=4)] != [q["id"] for q in sample]
    assert {q["type"] for q in select(questions, types=["advice"])} == {"advice"}
    with pytest.raises(ValueError, match="unknown question types"):
        select(questions, types=["trivia"])
    smoke = smoke_sample(questions)
    assert len(smoke) == 3 * len(TYPES)
    assert all(sum(q["type"] == t for q in smoke) == 3 for t in TYPES)


def test_compare_of_different_question_sets_uses_the_shared_questions() -> None:
    a = _results([_record("qa-001", "simple_fact", True), _record("qa-002", "simple_fact", False)])
    b = _results([_record("qa-001", "simple_fact", True)])
    [diff] = compare(a, b)
    assert diff.common == 1 and diff.only_a == ["qa-002"]
    deltas = {key: (va, vb) for key, va, vb, _ in diff.deltas}
    assert deltas["correct"] == (1.0, 1.0)  # not 0.5 → 1.0: qa-002 is in one run only
