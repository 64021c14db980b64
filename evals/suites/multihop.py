"""MultiHop-RAG sample: evidence recall on multi-hop news questions, refusal on the null queries.

The article corpus is not in the shared sample, only the evidence facts. The corpus is therefore built from them:
one document per news article (its URL is the id) holding its source, date and author and every evidence fact the
500 queries quote from it. All 326 articles are always indexed (small); a sample only chooses the questions, so a
question's evidence competes with the evidence of all the others.

Metrics: `evidence_recall@4` / `@10` (share of a question's distinct evidence articles among the top-k retrieved
documents, over the non-null questions), and refusal precision / recall / rate with the 71 null queries (gold
answer "Insufficient information.") as the gold positives. `evidence_auroc` (ours only): how well our evidence
score separates answerable from null questions, whatever the gate's threshold.
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
    held_apart,
    mean,
    missing,
    refusal_metrics,
    refused_when_first,
    result,
    skipped,
    stable_sample,
)

NAME = "multihop"
FOLDER = "multihop_rag_sample"


def article_id(url: str) -> str:
    return url.split("#", 1)[0].strip()


def load(folder: Path) -> tuple[list[CorpusDoc], list[dict[str, Any]]]:
    queries = json.loads((folder / "queries.json").read_text(encoding="utf-8"))["queries"]
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    articles: dict[str, dict[str, Any]] = {}
    questions = []
    for q in queries:
        gold = truth[q["id"]]
        evidence = []
        for item in gold["evidence_list"]:
            doc_id = article_id(item["url"])
            entry = articles.setdefault(doc_id, {**item, "facts": []})
            if item["fact"] not in entry["facts"]:
                entry["facts"].append(item["fact"])
            evidence.append(doc_id)
        questions.append({"id": q["id"], "question": q["question"], "type": q["question_type"],
                          "evidence": sorted(set(evidence)), "null": q["question_type"] == "null_query"})
    docs = []
    for doc_id, a in sorted(articles.items()):
        date = str(a.get("published_at", ""))[:10]
        byline = " — ".join(x for x in (a.get("source", ""), date, a.get("author", "")) if x)
        docs.append(CorpusDoc(doc_id, a["title"], f"{byline}\n\n" + "\n\n".join(a["facts"]), published=date))
    return docs, questions


def run(settings: Settings, *, sample: int | None, cache_dir: Path, datasets_dir: Path,
        with_baseline: bool = True, calibration: str = "questions") -> dict[str, Any]:
    reason = missing(datasets_dir, f"{FOLDER}/queries.json", f"{FOLDER}/ground_truth.json")
    if reason:
        return skipped(NAME, reason, sample)
    docs, questions = load(datasets_dir / FOLDER)
    chosen = stable_sample(NAME, questions, sample, key=lambda q: q["id"])
    labelled = held_apart(NAME, questions, sample, lambda q: not q["null"], calibration)
    systems = build_systems(settings, suite=NAME, docs=docs, label="full", cache_dir=cache_dir,
                            with_baseline=with_baseline, labelled=labelled)
    watch = Stopwatch()
    per_query: list[dict[str, Any]] = []
    for q in chosen:
        row: dict[str, Any] = {"id": q["id"], "type": q["type"], "null": q["null"], "evidence": q["evidence"]}
        for system in systems.all():
            answer = watch.time(system.name, partial(system.answer, q["question"], audience="public"))
            ranked = dedupe(r.doc_id for r in system.retrieve(q["question"], k=30, audience="public"))
            row[system.name] = {"refused": not answer.covered, "route": answer.route, "top10": ranked[:10],
                                "evidence_score": answer.evidence_score,
                                "recall@4": recall_at_k(ranked, q["evidence"], 4),
                                "recall@10": recall_at_k(ranked, q["evidence"], 10)}
        per_query.append(row)
    out = {}
    answerable = [r for r in per_query if not r["null"]]
    for system in systems.all():
        metrics = {f"evidence_recall@{k}": mean([r[system.name][f"recall@{k}"] for r in answerable]) for k in (4, 10)}
        metrics.update(refusal_metrics([r[system.name]["refused"] for r in per_query], [r["null"] for r in per_query]))
        metrics.update(refused_when_first([r[system.name]["refused"] for r in answerable],
                                          [bool(set(r[system.name]["top10"][:1]) & set(r["evidence"]))
                                           for r in answerable]))
        if system is systems.ours:
            metrics["evidence_auroc"] = auroc([r[system.name]["evidence_score"] for r in per_query],
                                              [not r["null"] for r in per_query])
        metrics.update(watch.summary(system.name))
        metrics.update(systems.index_stats.get(system.name, {}))
        out[system.name] = metrics
    n_null = sum(r["null"] for r in per_query)
    notes = [f"{len(chosen)} questions ({n_null} null) over {len(docs)} articles built from the evidence facts "
             "(the article texts are not in the shared sample)", cache_note(systems.index_stats),
             "latency is the full answer"]
    if systems.baseline is not None:
        notes.append("the baseline never refuses: its refusal precision is undefined and shown as 0")
    return result(NAME, sample=sample, n_queries=len(chosen), systems=out, notes=notes, per_query=per_query)
