"""SQuAD v2: does the system refuse the unanswerable questions and answer the answerable ones?

Corpus: every paragraph of the split (646 Wikipedia paragraphs, one document each, titled by its article), always
indexed whole: it is small, and a sample only chooses the questions. Each question is asked of the whole corpus,
not of its own paragraph, so this is open-domain refusal: an unanswerable SQuAD v2 question is written to sound
answerable from its paragraph, which is exactly what an evidence gate finds hard.

Metrics: refusal precision / recall / rate (refusal is the positive class; unanswerable is the gold positive);
`answer_contains_gold` (answerable questions whose answer text contains a gold answer as a run of normalised
words; a refusal counts as wrong) and `answer_chars` (mean length: containment favours long answers, and the
baseline's answer is four stuffed passages); `paragraph_recall@4` for answerable questions (the question's own
paragraph among the top 4 documents); `evidence_auroc` (ours only): how well our evidence score separates
answerable from unanswerable questions, whatever the gate's threshold.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

from advisor.config import Settings
from evals.metrics import auroc, dedupe, recall_at_k
from evals.suites.common import (
    CorpusDoc,
    Stopwatch,
    build_systems,
    cache_note,
    contains_answer,
    held_apart,
    mean,
    missing,
    refusal_metrics,
    refused_when_first,
    result,
    skipped,
    slug,
    stable_sample,
)

NAME = "squad_v2"
FILE = "squad_v2/dev-v2.0.cs224n_split.json"


def load(path: Path) -> tuple[list[CorpusDoc], list[dict[str, Any]]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    docs, questions = [], []
    for article in data:
        title = article["title"].replace("_", " ")
        for n, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"{slug(article['title'], 80)}-p{n:03d}"
            docs.append(CorpusDoc(doc_id, title, paragraph["context"]))
            for qa in paragraph["qas"]:
                questions.append({"id": qa["id"], "question": qa["question"], "doc_id": doc_id,
                                  "answerable": not qa.get("is_impossible", False),
                                  "answers": sorted({a["text"] for a in qa.get("answers", [])})})
    return docs, questions


def run(settings: Settings, *, sample: int | None, cache_dir: Path, datasets_dir: Path,
        with_baseline: bool = True, calibration: str = "questions") -> dict[str, Any]:
    reason = missing(datasets_dir, FILE)
    if reason:
        return skipped(NAME, reason, sample)
    docs, questions = load(datasets_dir / FILE)
    chosen = stable_sample(NAME, questions, sample, key=lambda q: q["id"])
    labelled = held_apart(NAME, questions, sample, lambda q: q["answerable"], calibration)
    systems = build_systems(settings, suite=NAME, docs=docs, label="full", cache_dir=cache_dir,
                            with_baseline=with_baseline, labelled=labelled)
    watch = Stopwatch()
    per_query: list[dict[str, Any]] = []
    for q in chosen:
        row: dict[str, Any] = {"id": q["id"], "answerable": q["answerable"]}
        for system in systems.all():
            answer = watch.time(system.name, partial(system.answer, q["question"], audience="public"))
            top = dedupe(r.doc_id for r in system.retrieve(q["question"], k=12, audience="public"))[:4]
            row[system.name] = {
                "refused": not answer.covered, "route": answer.route,
                "contains_gold": answer.covered and q["answerable"] and contains_answer(answer.text, q["answers"]),
                "paragraph_hit@4": recall_at_k(top, [q["doc_id"]], 4), "paragraph_hit@1": top[:1] == [q["doc_id"]],
                "chars": len(answer.text),
                "evidence_score": answer.evidence_score}
        per_query.append(row)
    out = {}
    answerable = [r for r in per_query if r["answerable"]]
    for system in systems.all():
        rows = [r[system.name] for r in per_query]
        metrics = refusal_metrics([r["refused"] for r in rows], [not r["answerable"] for r in per_query])
        metrics.update(refused_when_first([r[system.name]["refused"] for r in answerable],
                                          [r[system.name]["paragraph_hit@1"] for r in answerable]))
        if system is systems.ours:
            metrics["evidence_auroc"] = auroc([r["evidence_score"] for r in rows], [r["answerable"] for r in per_query])
        metrics["answer_contains_gold"] = mean([float(r[system.name]["contains_gold"]) for r in answerable])
        metrics["paragraph_recall@4"] = mean([r[system.name]["paragraph_hit@4"] for r in answerable])
        metrics["answer_chars"] = round(mean([float(r["chars"]) for r in rows if not r["refused"]]), 1)
        metrics.update(watch.summary(system.name))
        metrics.update(systems.index_stats.get(system.name, {}))
        out[system.name] = metrics
    notes = [f"{len(chosen)} questions ({len(answerable)} answerable, {len(chosen) - len(answerable)} unanswerable) "
             f"over all {len(docs)} paragraphs", cache_note(systems.index_stats),
             "latency is the full answer (retrieve + generate + gate + verify for ours)"]
    if systems.baseline is not None:
        notes.append("the baseline never refuses: its refusal precision is undefined and shown as 0")
    return result(NAME, sample=sample, n_queries=len(chosen), systems=out, notes=notes, per_query=per_query)
