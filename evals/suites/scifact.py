"""SciFact, BEIR-style: document retrieval for scientific claims, nDCG@10 and recall@100.

Documents are ranked by their best chunk (a document's later chunks count at its first rank). Ours is measured
twice over the same index: nDCG@10, MRR@10 and recall@10 with the product's settings, recall@100 with the
candidate pool widened to 200 per retriever (the default pool of 40 dense + 40 lexical chunks cannot hold 100
documents). The baseline is one dense list either way.

Queries: those with qrels, from qrels/test.tsv when present (the BEIR test split) else every qrels file found.
Sampled runs index the sampled queries' relevant documents plus a seeded random set of distractors (20 per query,
at least 1,000), so figures on a sample are higher than on the full 5,183-abstract corpus and not comparable
with it.
"""

from __future__ import annotations

import csv
import json
from functools import partial
from pathlib import Path
from typing import Any

from advisor.config import Settings
from evals.metrics import dedupe, mrr, ndcg_at_k, recall_at_k
from evals.suites.common import (
    CorpusDoc,
    DeepRetrieval,
    Stopwatch,
    build_systems,
    cache_note,
    corpus_label,
    mean,
    missing,
    result,
    skipped,
    stable_sample,
)

NAME = "scifact"
DISTRACTORS_PER_QUERY = 20
MIN_DISTRACTORS = 1000
DEPTH = 100
DEEP_CANDIDATES = 200


def load_qrels(folder: Path) -> tuple[dict[str, dict[str, float]], list[str]]:
    """query id -> {doc id: relevance}, and the splits read."""
    files = [folder / "test.tsv"] if (folder / "test.tsv").is_file() else sorted(folder.glob("*.tsv"))
    qrels: dict[str, dict[str, float]] = {}
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if float(row["score"]) > 0:
                    qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = float(row["score"])
    return qrels, [p.stem for p in files]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def run(settings: Settings, *, sample: int | None, cache_dir: Path, datasets_dir: Path,
        with_baseline: bool = True, calibration: str = "documents") -> dict[str, Any]:
    folder = datasets_dir / "scifact"
    reason = missing(datasets_dir, "scifact/corpus.jsonl", "scifact/queries.jsonl", "scifact/qrels")
    if reason:
        return skipped(NAME, reason, sample)
    qrels, splits = load_qrels(folder / "qrels")
    if not qrels:
        return skipped(NAME, f"no qrels (*.tsv) in {folder / 'qrels'}", sample)
    queries = {q["_id"]: q["text"] for q in _jsonl(folder / "queries.jsonl")}
    corpus = {d["_id"]: d for d in _jsonl(folder / "corpus.jsonl")}
    chosen = stable_sample(NAME, [q for q in sorted(qrels) if q in queries], sample, key=lambda q: q)
    notes = [f"qrels split(s): {', '.join(splits)}; {len(chosen)} of {len(qrels)} queries with qrels"]
    if "test" not in splits:
        notes.append("qrels/test.tsv is absent: figures are on the other split(s), not comparable with BEIR's "
                     "published SciFact test figures")
    if sample is None:
        doc_ids = sorted(corpus)
    else:
        gold = {d for q in chosen for d in qrels[q] if d in corpus}
        others = stable_sample(NAME + "-distractors", sorted(set(corpus) - gold),
                               max(MIN_DISTRACTORS, DISTRACTORS_PER_QUERY * len(chosen)), key=lambda d: d)
        doc_ids = sorted(gold | set(others))
        notes.append(f"sampled corpus: {len(gold)} relevant + {len(others)} random distractor abstracts "
                     f"(of {len(corpus)}); scores are higher than on the full corpus")
    docs = [CorpusDoc(d, corpus[d].get("title") or d, corpus[d]["text"]) for d in doc_ids]
    systems = build_systems(settings, suite=NAME, docs=docs, label=corpus_label(doc_ids, sample is None),
                            cache_dir=cache_dir, with_baseline=with_baseline)
    deep = DeepRetrieval(systems, DEEP_CANDIDATES)
    watch = Stopwatch()
    scores: dict[str, dict[str, list[float]]] = {s.name: {} for s in systems.all()}
    per_query = []
    for qid in chosen:
        question, gold_rel = queries[qid], qrels[qid]
        row: dict[str, Any] = {"id": qid, "gold": sorted(gold_rel)}
        for system in systems.all():
            if system is systems.ours:
                top = dedupe(r.doc_id for r in watch.time(system.name, partial(system.retrieve, question, k=30)))
                depth = dedupe(r.doc_id for r in deep.retrieve(question, k=3 * DEPTH))
            else:
                depth = dedupe(r.doc_id for r in watch.time(system.name, partial(system.retrieve, question,
                                                                                 k=3 * DEPTH)))
                top = depth
            got = {"ndcg@10": ndcg_at_k(top, gold_rel, 10), "mrr@10": mrr(top, gold_rel, 10),
                   "recall@10": recall_at_k(top, gold_rel, 10), "recall@100": recall_at_k(depth, gold_rel, DEPTH)}
            for metric, value in got.items():
                scores[system.name].setdefault(metric, []).append(value)
            row[system.name] = {"top10": top[:10], **{m: round(v, 4) for m, v in got.items()}}
        per_query.append(row)
    out = {}
    for system in systems.all():
        out[system.name] = {m: mean(v) for m, v in scores[system.name].items()}
        out[system.name].update(watch.summary(system.name))
        out[system.name].update(systems.index_stats.get(system.name, {}))
    notes.append(cache_note(systems.index_stats))
    notes.append(f"ours: nDCG@10/MRR/recall@10 at product settings (candidates={systems.advisor.settings.candidates}); "
                 f"recall@100 with candidates={DEEP_CANDIDATES}; latency is the product-settings retrieval")
    return result(NAME, sample=sample, n_queries=len(chosen), systems=out, notes=notes, per_query=per_query)
