"""The in-house runner: every question through every system, scored the same way, aggregated by type.

Per question and system: `retrieve` (k=10, the question's audience) for recall@5/@10, MRR and nDCG@10 against
the gold sources (answerable questions only), then `answer` (with the history) for correctness, citation
precision and recall, refusal, leakage, latency and the answer's shape (evals/shape.py). evals/README.md defines
each metric exactly, and the dev/test split (`split_of`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from advisor.types import Answer, Turn
from evals.citations import score_citations
from evals.facts import facts_present, normalise
from evals.metrics import auroc, mrr, ndcg_at_k, percentile, recall_at_k
from evals.shape import false_refusal, shape
from evals.system import System

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]
QA_SET = REPO / "evals" / "sets" / "advisor_qa.jsonl"
NEW_USER_SET = REPO / "evals" / "sets" / "new_user.jsonl"
FRESH_DEV_SET = REPO / "evals" / "sets" / "fresh_dev.jsonl"
REGRESSIONS_SET = REPO / "evals" / "sets" / "regressions.jsonl"
MARKERS_FILE = REPO / "corpus" / "internal_markers.txt"
RETRIEVE_K = 10
TYPES = ("simple_fact", "comparison", "aggregation", "set_list", "multi_hop", "time_sensitive", "false_premise",
         "unanswerable", "out_of_scope", "follow_up", "advice", "internal_only")
# types only the new-user set has; any other type a set brings is accepted and reported after these
NEW_USER_TYPES = ("explanation", "status")
KNOWN_TYPES = TYPES + NEW_USER_TYPES
# dev and fresh_dev: where rules, weights and thresholds are chosen; test and new_user: reported, never mined
# regressions: consultants' accepted corrections (evals/harvest.py), each a case that once failed
SPLITS = ("dev", "test", "new_user", "fresh_dev", "regressions")
NEW_USER_PREFIX = "nu-"
FRESH_DEV_PREFIX = "fd-"
FRESH_REFUSAL_PREFIX = "fr-"  # sets/fresh_refusal.jsonl, a second development set read as the fresh_dev split
FRESH_CJK_PREFIX = "fc-"  # sets/fresh_cjk.jsonl, questions in Japanese, Chinese and Korean, read the same way
REGRESSION_PREFIX = "reg-"
# the splits that are a set of their own, by id prefix
SET_SPLITS = {NEW_USER_PREFIX: "new_user", FRESH_DEV_PREFIX: "fresh_dev", FRESH_REFUSAL_PREFIX: "fresh_dev",
              FRESH_CJK_PREFIX: "fresh_dev", REGRESSION_PREFIX: "regressions"}
# metrics averaged over the questions where they are defined, in report order
MEAN_METRICS = ("recall@5", "recall@10", "mrr", "ndcg@10", "correct", "fact_recall", "citation_precision",
                "citation_recall", "passed", "answer_words", "false_refusal", "fragment_rate", "restatement_rate",
                "meta_rate")
NOTES = (
    "Retrieval metrics: answerable questions only, top 10 documents from System.retrieve with the question's "
    "audience (for follow-ups, the last user turn + the question).",
    "Correct: every required fact present (numbers compared numerically) for answerable questions; a refusal "
    "for unanswerable ones. Passed: correct and no leak.",
    "The naive baseline's answer is its four retrieved passages, stuffed and cited [1]..[4]: generous for fact "
    "recall (whole passages, see answer length), strict for citation recall (one marker per passage covers only "
    "the sentence it ends).",
    "Analytics answers quote whole deal records: their computed summary lines are graded by correctness and left "
    "out of citation recall; each listed record line is checked against the record it cites.",
    "Splits: dev and test halve the in-house set by a fixed rule on the ids (evals/README.md); new_user is the "
    "separate new-user set; fresh_dev a second fresh set for development. Rules are tuned on dev and fresh_dev "
    "only; test and new_user are reported, not read question by "
    "question.",
    "Answer shape (answered questions; the same rules for every system): fragments, restatements of the question "
    "and sentences about the documents, as shares of the answer's sentences; false refusal: an answerable "
    "question refused although a gold source was in the system's own top 3.",
)


def load_questions(path: Path = QA_SET) -> list[dict[str, Any]]:
    """The set's questions in file order, each with its `split` (see `split_of`)."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
    splits = split_of(rows)
    return [row | {"split": splits[row["id"]]} for row in rows]


def _split_groups(questions: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Ids that must share a split: an internal_only pair (same question text) is one group, every other
    question its own. Each group's ids sorted, so its first id names it."""
    groups: dict[tuple[str, str], list[str]] = {}
    for q in questions:
        key = ("pair", q["question"]) if q["type"] == "internal_only" else ("id", q["id"])
        groups.setdefault(key, []).append(q["id"])
    return [sorted(ids) for ids in groups.values()]


def split_of(questions: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Each question's split: "new_user" for the new-user set's ids (nu-…); the in-house set halved into
    "dev" and "test" by a fixed rule on the ids.

    Within each type, groups of ids (`_split_groups`: an internal_only pair is one group) are ordered by
    sha256("split:" + first id of the group) and assigned dev, test, dev, test… in that order: every type is in
    both halves (dev gets the odd one out), a pair never straddles them, and a question keeps its split as long
    as the questions of its type are unchanged. Give it the whole set, not a sample.
    """
    out = {q["id"]: split for q in questions for prefix, split in SET_SPLITS.items() if q["id"].startswith(prefix)}
    inhouse = [q for q in questions if q["id"] not in out]
    for qtype in dict.fromkeys(q["type"] for q in inhouse):
        groups = _split_groups([q for q in inhouse if q["type"] == qtype])
        groups.sort(key=lambda ids: _rank_key("split", ids[0]))
        for i, ids in enumerate(groups):
            out.update(dict.fromkeys(ids, "dev" if i % 2 == 0 else "test"))
    return out


_CURRENT_SPLITS: dict[str, str] = {}


def record_split(record: dict[str, Any]) -> str:
    """A result record's split; for a record written before splits existed, the rule applied to the current
    in-house set ("unknown" for an id it no longer holds)."""
    if record.get("split"):
        return str(record["split"])
    for prefix, split in SET_SPLITS.items():
        if record["id"].startswith(prefix):
            return split
    if not _CURRENT_SPLITS:
        _CURRENT_SPLITS.update({q["id"]: q["split"] for q in load_questions()})
    return _CURRENT_SPLITS.get(record["id"], "unknown")


def parse_splits(value: str) -> list[str]:
    """'dev,test' -> ['dev', 'test']; 'all' (or empty) -> every split."""
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names or "all" in names:
        return list(SPLITS)
    if unknown := [n for n in names if n not in SPLITS]:
        raise ValueError(f"unknown splits {unknown}; known: {', '.join(SPLITS)}, all")
    return list(dict.fromkeys(names))


def load_splits(splits: Sequence[str], *, qa_set: Path = QA_SET, new_user_set: Path = NEW_USER_SET,
                fresh_dev_set: Path = FRESH_DEV_SET,
                regressions_set: Path = REGRESSIONS_SET) -> tuple[list[dict[str, Any]], list[str]]:
    """The questions of the given splits (dev and test from `qa_set`, new_user from `new_user_set`, fresh_dev
    from `fresh_dev_set`, regressions from `regressions_set`), and a message for each split skipped because its
    file is missing."""
    questions: list[dict[str, Any]] = []
    skipped: list[str] = []
    if {"dev", "test"} & set(splits):
        questions += [q for q in load_questions(qa_set) if q["split"] in splits]
    for split, path in (("new_user", new_user_set), ("fresh_dev", fresh_dev_set),
                        ("regressions", regressions_set)):
        if split not in splits:
            continue
        if not path.is_file():
            skipped.append(f"split {split} skipped: {path} not found")
            continue
        rows = load_questions(path)
        if strays := [q["id"] for q in rows if q["split"] != split]:
            prefix = next(p for p, s in SET_SPLITS.items() if s == split)
            raise ValueError(f"{path}: {split} ids must start with {prefix!r}, got {strays[:3]}")
        questions += rows
    return questions, skipped


def load_markers(path: Path = MARKERS_FILE) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def internal_doc_ids(advisor: Any) -> set[str]:
    """Ids of every indexed document not marked `audience: public` (the catalog is the index's truth)."""
    catalog = advisor.store.catalog
    out = set()
    for doc_id in {chunk.doc_id for chunk in catalog.iter_chunks()}:
        document = catalog.document(doc_id)
        if document is not None and document.meta.get("audience") != "public":
            out.add(doc_id)
    return out


def _rank_key(seed: int | str, qid: str) -> str:
    return hashlib.sha256(f"{seed}:{qid}".encode()).hexdigest()


def select(questions: Sequence[dict[str, Any]], *, sample: int | None = None, seed: int | str = 0,
           types: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Questions of the given types; with `sample`, a stratified seeded sample (types taken in turn, each in
    seeded hash order of ids), returned in id order. The same seed gives the same questions."""
    wanted = set(types) if types else None
    known = list(dict.fromkeys([*KNOWN_TYPES, *(q["type"] for q in questions)]))
    if wanted is not None and (unknown := wanted - set(known)):
        raise ValueError(f"unknown question types {sorted(unknown)}; known: {', '.join(known)}")
    if sample is not None and sample <= 0:
        raise ValueError(f"sample must be greater than 0, got {sample}")
    pool = [q for q in questions if wanted is None or q["type"] in wanted]
    if sample is None or sample >= len(pool):
        return list(pool)
    queues = {t: sorted((q for q in pool if q["type"] == t), key=lambda q: _rank_key(seed, q["id"]))
              for t in _ordered_types(q["type"] for q in pool)}
    picked: list[dict[str, Any]] = []
    while len(picked) < sample:
        for t in queues:
            if queues[t] and len(picked) < sample:
                picked.append(queues[t].pop(0))
    return sorted(picked, key=lambda q: q["id"])


def smoke_sample(questions: Sequence[dict[str, Any]], per_type: int = 3) -> list[dict[str, Any]]:
    """The CI smoke set, from the dev split only: per type, the `per_type` dev ids first in sha256("smoke:" + id)
    order. Stable as long as ids and splits are; a new question joins only if it hashes ahead of a current one."""
    splits = split_of(questions)
    dev = [q for q in questions if splits[q["id"]] == "dev"]
    return select(dev, sample=per_type * len({q["type"] for q in dev}), seed="smoke")


def _ordered_types(types: Iterable[str]) -> list[str]:
    """Known types in their report order, then any other type in name order."""
    present = set(types)
    return [t for t in KNOWN_TYPES if t in present] + sorted(present - set(KNOWN_TYPES))


def retrieval_query(question: dict[str, Any]) -> str:
    """What `retrieve` is asked: the question, preceded by the last user turn for a follow-up.

    `System.retrieve` takes no history, so every system gets the same simple condensation; `answer` gets the
    real history and condenses (or not) on its own.
    """
    previous = next((t["content"] for t in reversed(question.get("history") or []) if t["role"] == "user"), "")
    return f"{previous} {question['question']}".strip()


def leakage(answer: Answer, markers: Sequence[str], internal_docs: set[str]) -> list[str]:
    """Why a public answer leaks: a cited internal passage, or an internal marker phrase in its text."""
    reasons = []
    for c in answer.citations:
        if c.audience == "internal" or c.doc_id in internal_docs:
            reasons.append(f"cites internal document {c.doc_id}")
    text = normalise(answer.text)
    passages = normalise(" ".join(c.passage for c in answer.citations))
    for marker in markers:
        key = normalise(marker)
        if key in text:
            reasons.append(f"marker phrase {marker!r} in the answer")
        elif key in passages:
            reasons.append(f"marker phrase {marker!r} in a cited passage")
    return sorted(set(reasons))


def evaluate(system: System, question: dict[str, Any], *, markers: Sequence[str], internal_docs: set[str],
             k: int = RETRIEVE_K) -> dict[str, Any]:
    """One question through one system: the per-question record that results.json keeps."""
    audience = question["audience"]
    answerable = bool(question["answerable"])
    record: dict[str, Any] = {"id": question["id"], "type": question["type"], "audience": audience,
                              "answerable": answerable, "system": system.name, "question": question["question"]}
    if question.get("split"):
        record["split"] = question["split"]
    try:
        t0 = time.perf_counter()
        retrieved = system.retrieve(retrieval_query(question), k=k, audience=audience)
        record["retrieve_ms"] = round((time.perf_counter() - t0) * 1e3, 2)
        history = [Turn(**t) for t in question.get("history") or []]
        t0 = time.perf_counter()
        answer = system.answer(question["question"], audience=audience, history=history)
        record["latency_ms"] = round((time.perf_counter() - t0) * 1e3, 2)
    except Exception as exc:  # a crash on one question is a failed question, not a failed run
        log.exception("%s failed on %s", system.name, question["id"])
        record.update(error=f"{type(exc).__name__}: {exc}", refused=False, correct=0.0, passed=0.0, leak=False)
        return record
    ranked = [r.doc_id for r in retrieved]
    record["retrieved"] = list(dict.fromkeys(ranked))
    gold = question.get("gold_sources") or []
    if answerable and gold:
        record.update({"recall@5": recall_at_k(ranked, gold, 5), "recall@10": recall_at_k(ranked, gold, 10),
                       "mrr": mrr(ranked, gold, k), "ndcg@10": ndcg_at_k(ranked, gold, 10)})
    refused = not answer.covered
    checks = facts_present(question.get("required_facts") or [], answer.text) if not refused else []
    if answerable:
        facts = question.get("required_facts") or []
        found = [c.fact for c in checks if c.found]
        record["facts_missing"] = [f for f in facts if f not in found]
        record["fact_recall"] = len(found) / len(facts) if facts else (0.0 if refused else 1.0)
        correct = not refused and len(found) == len(facts)
    else:
        correct = refused
    scores = score_citations(answer)
    leaks = leakage(answer, markers, internal_docs) if audience == "public" else []
    record.update({
        "route": answer.route, "refused": refused, "correct": float(correct), "evidence_score": answer.evidence_score,
        "citation_precision": scores.precision, "citation_recall": scores.recall,
        "citations": len(answer.citations), "citation_failures": scores.failures[:8],
        "leak": bool(leaks), "leak_reasons": leaks,
        "retrieval_leak": audience == "public" and any(d in internal_docs for d in record["retrieved"]),
        "passed": float(correct and not leaks), "answer": answer.text, "answer_words": len(answer.text.split()),
        "cited_docs": list(dict.fromkeys(c.doc_id for c in answer.citations)),
        "citation_list": [{"n": c.n, "doc_id": c.doc_id, "audience": c.audience, "passage": c.passage}
                          for c in answer.citations],
        "false_refusal": false_refusal(refused=refused, answerable=answerable, gold_sources=gold,
                                       retrieved=record["retrieved"]),
    })
    if not refused:  # a refusal's text is not an answer: it has no shape
        record.update(shape(answer.text, question["question"]).record())
    return record


def _mean(values: Iterable[float | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _evidence_auroc(records: Sequence[dict[str, Any]]) -> float | None:
    """How well the evidence gate's score separates the answerable questions from the others, whatever its
    threshold (over the questions the gate reads: not those the deal records answer alone); None without both
    kinds, or for a system whose score never varies (the baseline has none)."""
    gated = [r for r in records if r.get("route") != "analytics" and "evidence_score" in r and not r.get("error")]
    scores = [float(r["evidence_score"]) for r in gated]
    labels = [bool(r["answerable"]) for r in gated]
    if len(set(scores)) < 2 or all(labels) or not any(labels):
        return None
    return auroc(scores, labels)


def _failures_by_mechanism(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Where the wrong answers come from: answerable questions refused by the evidence gate (route `no_coverage`)
    or by a later check (any other refusal), answered without every required fact, and unanswerable questions
    answered; and the share correct if every refusal decision were right (each of those refusals made, or not
    made, the other way, and an answerable question so answered counted correct) — the most a better reader of
    the evidence could add with the answers as they are composed."""
    ok = [r for r in records if not r.get("error")]
    wrongly_refused = [r for r in ok if r["answerable"] and r.get("refused")]
    out: dict[str, Any] = {
        "refused_by_gate": sum(1 for r in wrongly_refused if r.get("route") == "no_coverage"),
        "refused_by_check": sum(1 for r in wrongly_refused if r.get("route") != "no_coverage"),
        "answered_missing_facts": sum(1 for r in ok if r["answerable"] and not r.get("refused")
                                      and not r.get("correct")),
        "unanswerable_answered": sum(1 for r in ok if not r["answerable"] and not r.get("refused")),
    }
    right = sum(1 for r in ok if r.get("correct")) + len(wrongly_refused) + out["unanswerable_answered"]
    out["correct_if_refusals_right"] = right / len(records) if records else None
    return out


def aggregate(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Means of the per-question metrics (over the questions where each is defined), refusal precision and
    recall, leakage over public questions, latency percentiles."""
    out: dict[str, Any] = {"n": len(records), "errors": sum(1 for r in records if r.get("error"))}
    for metric in MEAN_METRICS:
        out[metric] = _mean(r.get(metric) for r in records)
    refused = [r for r in records if r.get("refused")]
    should = [r for r in records if not r["answerable"]]
    true_refusals = sum(1 for r in refused if not r["answerable"])
    out["refusal_precision"] = true_refusals / len(refused) if refused else None
    out["refusal_recall"] = true_refusals / len(should) if should else None
    out["refusals"] = len(refused)
    out["evidence_auroc"] = _evidence_auroc(records)
    out.update(_failures_by_mechanism(records))
    public = [r for r in records if r["audience"] == "public"]
    out["leaks"] = sum(1 for r in public if r.get("leak"))
    out["leakage_rate"] = out["leaks"] / len(public) if public else None
    out["retrieval_leaks"] = sum(1 for r in public if r.get("retrieval_leak"))
    latencies = [r["latency_ms"] for r in records if "latency_ms" in r]
    out["latency_p50_ms"] = percentile(latencies, 50) if latencies else None
    out["latency_p95_ms"] = percentile(latencies, 95) if latencies else None
    return out


def aggregate_by_type(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {t: aggregate([r for r in records if r["type"] == t]) for t in _ordered_types(r["type"] for r in records)}


def aggregate_by_split(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per split present in the records (in SPLITS order): its overall aggregate and its by-type aggregates."""
    out = {}
    for split in [*SPLITS, *sorted({r.get("split") or "" for r in records} - set(SPLITS) - {""})]:
        kept = [r for r in records if r.get("split") == split]
        if kept:
            out[split] = {"overall": aggregate(kept), "by_type": aggregate_by_type(kept)}
    return out


def run_inhouse(systems: Sequence[System], questions: Sequence[dict[str, Any]], *, markers: Sequence[str],
                internal_docs: set[str], progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every system on the same questions; per-question records plus aggregates, per system."""
    out: dict[str, Any] = {"questions": [q["id"] for q in questions], "systems": {}, "notes": list(NOTES)}
    for system in systems:
        started = time.perf_counter()
        records = []
        for i, question in enumerate(questions, start=1):
            records.append(evaluate(system, question, markers=markers, internal_docs=internal_docs))
            if progress:
                r = records[-1]
                progress(f"{system.name} {i}/{len(questions)} {r['id']} {r['type']}: "
                         f"{'pass' if r.get('passed') else 'FAIL'} ({r.get('latency_ms', 0):.0f} ms)")
        out["systems"][system.name] = {
            "overall": aggregate(records), "by_type": aggregate_by_type(records),
            "by_split": aggregate_by_split(records), "records": records,
            "wall_s": round(time.perf_counter() - started, 1),
        }
    return out
