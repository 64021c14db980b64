"""PubMedQA (PQA-L): biomedical research questions over abstracts, some of whose abstracts are not indexed.

Corpus: the expert-labelled set's abstracts (1,000, each without its conclusion, which is the long answer), less a
held-out share (`HELD_OUT`, chosen by a stable hash of the PubMed id): those studies are absent from the index.
Every question is asked of the whole index. A question whose abstract is indexed is answerable; one whose abstract
is held out is not, though other abstracts are often on its topic (the same disease, the same intervention): the
near miss a gate finds hardest, "about the topic, not the study". The questions are the ones the study's authors'
titles pose ("Do mitochondria play a role in remodelling lace plant leaves during programmed cell death?"); the
abstracts are indexed without their titles, so no question is answered by its own wording.

Metrics: `abstract_recall@1` / `@10` (answerable: the question's own abstract among the top documents); refusal
precision / recall / F1 / rate with the held-out questions as the gold positives; `refused_when_evidence_first`
(answerable questions whose own abstract ranked first, refused anyway: the gate's own mistakes) and how many
there were; `evidence_auroc` (ours only). The yes/no/maybe label is not scored: an extractive answer quotes the
study, it does not rule on it.
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
    stable_key,
    stable_sample,
)

NAME = "pubmedqa"
FILE = "pubmedqa/ori_pqal.json"
HELD_OUT = 0.15  # share of abstracts left out of the index: their questions have no answer in it


def held_out(pmid: str) -> bool:
    """Whether this study's abstract is left out of the index (stable: a hash of the id, not its position)."""
    return int(stable_key(NAME + "-held-out", pmid)[:8], 16) / 0xFFFFFFFF < HELD_OUT


def load(path: Path) -> tuple[list[CorpusDoc], list[dict[str, Any]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    docs, questions = [], []
    for pmid, item in sorted(data.items()):
        absent = held_out(pmid)
        if not absent:
            title = f"PubMed abstract {pmid}"  # the records carry no title, and the question often is the title
            body = "\n\n".join(f"## {label.title()}\n\n{text}" if label else text for label, text in
                               zip(item.get("LABELS") or [""] * len(item["CONTEXTS"]), item["CONTEXTS"], strict=False))
            docs.append(CorpusDoc(f"pmid-{pmid}", title, body, published=f"{item.get('YEAR', '')}-01-01"
                                  if str(item.get("YEAR", "")).isdigit() else ""))
        questions.append({"id": pmid, "question": item["QUESTION"], "doc_id": f"pmid-{pmid}",
                          "answerable": not absent})
    return docs, questions


def run(settings: Settings, *, sample: int | None, cache_dir: Path, datasets_dir: Path,
        with_baseline: bool = True, calibration: str = "questions") -> dict[str, Any]:
    reason = missing(datasets_dir, FILE)
    if reason:
        return skipped(NAME, reason, sample)
    docs, questions = load(datasets_dir / FILE)
    chosen = stable_sample(NAME, questions, sample, key=lambda q: q["id"])
    labelled = held_apart(NAME, questions, sample, lambda q: q["answerable"], calibration)
    systems = build_systems(settings, suite=NAME, docs=docs, label=f"held{round(HELD_OUT * 100)}",
                            cache_dir=cache_dir, with_baseline=with_baseline, labelled=labelled)
    watch = Stopwatch()
    per_query: list[dict[str, Any]] = []
    for q in chosen:
        row: dict[str, Any] = {"id": q["id"], "answerable": q["answerable"]}
        for system in systems.all():
            answer = watch.time(system.name, partial(system.answer, q["question"], audience="public"))
            top = dedupe(r.doc_id for r in system.retrieve(q["question"], k=30, audience="public"))[:10]
            row[system.name] = {"refused": not answer.covered, "route": answer.route,
                                "evidence_score": answer.evidence_score, "recall@1": recall_at_k(top, [q["doc_id"]], 1),
                                "recall@10": recall_at_k(top, [q["doc_id"]], 10)}
        per_query.append(row)
    out = {}
    answerable = [r for r in per_query if r["answerable"]]
    for system in systems.all():
        rows = [r[system.name] for r in per_query]
        metrics = {f"abstract_recall@{k}": mean([r[system.name][f"recall@{k}"] for r in answerable]) for k in (1, 10)}
        metrics.update(refusal_metrics([r["refused"] for r in rows], [not r["answerable"] for r in per_query]))
        metrics.update(refused_when_first([r[system.name]["refused"] for r in answerable],
                                          [r[system.name]["recall@1"] == 1.0 for r in answerable]))
        if system is systems.ours:
            metrics["evidence_auroc"] = auroc([r["evidence_score"] for r in rows], [r["answerable"] for r in per_query])
        metrics.update(watch.summary(system.name))
        metrics.update(systems.index_stats.get(system.name, {}))
        out[system.name] = metrics
    notes = [f"{len(chosen)} questions ({len(answerable)} with their abstract indexed, "
             f"{len(chosen) - len(answerable)} without) over {len(docs)} abstracts "
             f"({round(HELD_OUT * 100)}% of the 1,000 held out)", cache_note(systems.index_stats),
             "latency is the full answer"]
    if systems.baseline is not None:
        notes.append("the baseline never refuses: its refusal precision is undefined and shown as 0")
    return result(NAME, sample=sample, n_queries=len(chosen), systems=out, notes=notes, per_query=per_query)
