"""The dev/test split of the in-house set, the new-user split, the CLI selecting splits, compare and the report
per split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from evals import report, runner
from evals.__main__ import inhouse_questions, main, parser
from evals.compare import compare, compare_paths

# the split the rule gives the 180-question set: (dev, test) per type
EXPECTED_COUNTS = {"simple_fact": (8, 8), "comparison": (7, 6), "aggregation": (9, 8), "set_list": (7, 7),
                   "multi_hop": (7, 7), "time_sensitive": (7, 6), "false_premise": (7, 6), "unanswerable": (6, 6),
                   "out_of_scope": (6, 6), "follow_up": (7, 7), "advice": (7, 7), "internal_only": (14, 14)}


def _question(qid: str, qtype: str = "simple_fact", text: str = "", **extra: Any) -> dict[str, Any]:
    return {"id": qid, "type": qtype, "question": text or f"question {qid}", "audience": "public",
            "answerable": True, "required_facts": [], "gold_sources": [], **extra}


def test_split_counts_per_type_are_stable() -> None:
    questions = runner.load_questions()
    counts = Counter((q["type"], q["split"]) for q in questions)
    assert {t: (counts[(t, "dev")], counts[(t, "test")]) for t in runner.TYPES} == EXPECTED_COUNTS
    assert Counter(q["split"] for q in questions) == {"dev": 92, "test": 88}


def test_split_is_deterministic_and_independent_of_order() -> None:
    questions = runner.load_questions()
    assert runner.split_of(questions) == runner.split_of(list(reversed(questions)))
    assert runner.split_of(questions) == {q["id"]: q["split"] for q in questions}


def test_internal_only_pairs_share_their_split() -> None:
    pairs: dict[str, set[str]] = {}
    for q in runner.load_questions():
        if q["type"] == "internal_only":
            pairs.setdefault(q["question"], set()).add(q["split"])
    assert len(pairs) == 14 and all(len(splits) == 1 for splits in pairs.values())


def test_split_rule_alternates_groups_in_hash_order_within_each_type() -> None:
    questions = [_question(f"qa-{n:03d}") for n in range(1, 6)] + [
        _question("qa-010", "internal_only", "Same text?", audience="internal"),
        _question("qa-011", "internal_only", "Same text?", answerable=False),
        _question("qa-012", "internal_only", "Other text?", audience="internal"),
        _question("qa-013", "internal_only", "Other text?", answerable=False),
        _question("nu-001", "status"),
    ]
    splits = runner.split_of(questions)
    ranked = sorted((f"qa-{n:03d}" for n in range(1, 6)), key=lambda i: runner._rank_key("split", i))
    assert [splits[i] for i in ranked] == ["dev", "test", "dev", "test", "dev"]
    assert splits["qa-010"] == splits["qa-011"] != splits["qa-012"] == splits["qa-013"]
    assert splits["nu-001"] == "new_user"


def test_smoke_sample_draws_from_dev_only() -> None:
    questions = runner.load_questions()
    smoke = runner.smoke_sample(questions)
    assert len(smoke) == 3 * len(runner.TYPES) and {q["split"] for q in smoke} == {"dev"}
    assert all(sum(q["type"] == t for q in smoke) == 3 for t in runner.TYPES)


def _new_user_file(tmp_path: Path) -> Path:
    path = tmp_path / "new_user.jsonl"
    rows = [_question("nu-001", "status"), _question("nu-002", "explanation"), _question("nu-003", "simple_fact")]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_cli_selects_splits_and_reads_the_new_user_set(tmp_path: Path) -> None:
    args = parser().parse_args(["run", "--split", "test,new_user", "--new-user-set", str(_new_user_file(tmp_path))])
    questions, info = inhouse_questions(args)
    assert Counter(q["split"] for q in questions) == {"test": 88, "new_user": 3}
    assert info["splits"] == {"test": 88, "new_user": 3} and info["skipped"] == []
    assert len(info["new_user_set_sha256"]) == 16
    dev, _ = inhouse_questions(parser().parse_args(["run", "--split", "dev", "--types", "advice"]))
    assert {(q["split"], q["type"]) for q in dev} == {("dev", "advice")} and len(dev) == 7
    status, _ = inhouse_questions(parser().parse_args(
        ["run", "--split", "all", "--types", "status", "--new-user-set", str(_new_user_file(tmp_path)),
         "--fresh-dev-set", str(tmp_path / "absent.jsonl")]))
    assert [q["id"] for q in status] == ["nu-001"]  # a type only the new-user set has is accepted


def test_the_fresh_dev_set_is_its_own_split(tmp_path: Path) -> None:
    path = tmp_path / "fresh_dev.jsonl"
    path.write_text("\n".join(json.dumps(_question(f"fd-00{i}", t)) for i, t in
                              enumerate(("advice", "status"), start=1)) + "\n", encoding="utf-8")
    questions, info = inhouse_questions(parser().parse_args(
        ["run", "--split", "dev,fresh_dev", "--fresh-dev-set", str(path)]))
    assert info["splits"] == {"dev": 92, "fresh_dev": 2} and len(info["fresh_dev_set_sha256"]) == 16
    assert {q["split"] for q in questions if q["id"].startswith("fd-")} == {"fresh_dev"}
    strays = tmp_path / "strays.jsonl"
    strays.write_text(json.dumps(_question("qa-999", "advice")) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="fresh_dev ids must start with 'fd-'"):
        inhouse_questions(parser().parse_args(["run", "--split", "fresh_dev", "--fresh-dev-set", str(strays)]))


def test_cli_skips_a_missing_new_user_set_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "absent.jsonl"
    questions, info = inhouse_questions(parser().parse_args(["run", "--new-user-set", str(missing),
                                                             "--fresh-dev-set", str(missing)]))
    assert len(questions) == 180 and info["splits"] == {"dev": 92, "test": 88}
    assert f"split new_user skipped: {missing} not found" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="no questions selected"):
        inhouse_questions(parser().parse_args(["run", "--split", "new_user", "--new-user-set", str(missing)]))
    with pytest.raises(SystemExit, match="unknown splits"):
        inhouse_questions(parser().parse_args(["run", "--split", "train"]))


def _record(qid: str, split: str, passed: bool, *, fragments: float = 0.0) -> dict[str, Any]:
    return {"id": qid, "type": "simple_fact", "audience": "public", "answerable": True, "split": split,
            "system": "advisor", "question": f"question {qid}", "refused": False, "correct": float(passed),
            "passed": float(passed), "leak": False, "latency_ms": 10.0, "answer": "text", "false_refusal": 0.0,
            "fragment_rate": fragments, "restatement_rate": 0.0, "meta_rate": 0.0}


def _results(records: list[dict[str, Any]]) -> dict[str, Any]:
    system = {"overall": runner.aggregate(records), "by_type": runner.aggregate_by_type(records),
              "by_split": runner.aggregate_by_split(records), "records": records, "wall_s": 1.0}
    return {"meta": {"run_id": "t", "systems": ["advisor", "naive-baseline"]}, "suites": [],
            "inhouse": {"questions": [r["id"] for r in records], "notes": [],
                        "systems": {"advisor": system, "naive-baseline": system}}}


def test_compare_per_split_uses_only_that_splits_questions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _results([_record("qa-001", "dev", True), _record("qa-002", "test", True),
                  _record("nu-001", "new_user", True)])
    b = _results([_record("qa-001", "dev", False), _record("qa-002", "test", True),
                  _record("nu-001", "new_user", False)])
    [dev, _] = compare(a, b, split="dev")
    assert (dev.split, dev.broke, dev.common) == ("dev", ["qa-001"], 1)
    assert {k: (va, vb) for k, va, vb, _ in dev.deltas}["correct"] == (1.0, 0.0)
    [test, _] = compare(a, b, split="test")
    assert test.broke == [] and {k: d for k, _, _, d in test.deltas}["correct"] == 0.0
    report.write(a, tmp_path / "a")
    report.write(b, tmp_path / "b")
    text = compare_paths(tmp_path / "a", tmp_path / "b", splits=["test", "new_user"])
    assert "## advisor — test" in text and "## advisor — new_user" in text and "## advisor — dev" not in text
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--split", "dev"]) == 0
    out = capsys.readouterr().out
    assert "## advisor — dev" in out and "pass → fail (1): qa-001" in out and "nu-001" not in out
    report.write(_results([_record("qa-001", "dev", True)]), tmp_path / "dev-only")
    text = compare_paths(tmp_path / "dev-only", tmp_path / "dev-only", splits=["dev", "test"])
    assert "## advisor — dev" in text and "Split test: no question of it in either run." in text


def test_compare_gives_old_records_their_split_by_the_rule() -> None:
    old = [{k: v for k, v in _record(q["id"], "", True).items() if k != "split"} for q in runner.load_questions()[:4]]
    splits = {q["id"]: q["split"] for q in runner.load_questions()[:4]}
    wanted = [qid for qid, s in splits.items() if s == "dev"]
    [diff, _] = compare(_results(old), _results(old), split="dev")
    assert diff.common == len(wanted) and diff.split == "dev"


def test_report_shows_splits_side_by_side_with_the_shape_metrics(tmp_path: Path) -> None:
    results = _results([_record("qa-001", "dev", True, fragments=0.5), _record("qa-002", "test", False),
                        _record("nu-001", "new_user", True, fragments=0.25)])
    paths = report.write(results, tmp_path)
    md = paths["md"].read_text()
    header = next(line for line in md.splitlines() if line.startswith("| metric | advisor dev"))
    assert header == ("| metric | advisor dev | advisor test | advisor new_user | naive-baseline dev | "
                      "naive-baseline test | naive-baseline new_user |")
    assert "| Fragment sentences | 50.0% | 0.0% | 25.0% | 50.0% | 0.0% | 25.0% |" in md
    assert "| Correct | 100.0% | 0.0% | 100.0% |" in md
    assert "## By split and type: naive-baseline" in md
    html = paths["html"].read_text()
    assert "Dev, test and new-user side by side" in html and "About the documents" in html
    del results["inhouse"]["systems"]["advisor"]["by_split"]  # a run from before splits re-renders too
    assert "| Fragment sentences | 50.0% | 0.0% | 25.0% |" in report.summary_markdown(results)
