"""The pipeline: guard → retrieve → generate → gate on evidence → verify citations → Answer."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from advisor import prompts
from advisor.analytics import DealAnalytics, DealFilters, Side
from advisor.analytics.vocab import THERAPY_AREAS
from advisor.cite import check_citations, enforce
from advisor.config import Audience, Settings
from advisor.embed import Embedder, make_embedder
from advisor.generate import Generator
from advisor.generate.extractive import ExtractiveGenerator
from advisor.index.store import IndexStore
from advisor.index.vectors import VectorIndex
from advisor.ingest.indexer import FaultHook, Indexer, IngestReport
from advisor.ingest.meta import date_str
from advisor.records import NotFound
from advisor.retrieve import Filters, HybridRetriever
from advisor.text import content_words
from advisor.types import Answer, Source, SourceView, Turn

log = logging.getLogger(__name__)
CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.json"
UNCALIBRATED_THRESHOLD = 0.35


class InputError(ValueError):
    """A question or option the advisor cannot accept; the message says why."""


_FOLLOW_UP = re.compile(r"^(and|but|also|so|what about|how about|then|why|how come)\b|\b(it|its|they|them|their|"
                        r"that|those|this|these|he|she|the deal|the company)\b", re.I)


def stream_events(answer: Answer) -> Iterator[dict[str, Any]]:
    """An answer as streaming events: `sources`, `delta` text pieces, then the whole `answer`."""
    yield {"event": "sources", "data": [s.model_dump() for s in answer.sources]}
    for piece in re.findall(r"\S+\s*", answer.text):
        yield {"event": "delta", "data": piece}
    yield {"event": "answer", "data": answer.to_json_dict()}


def standalone_query(question: str, history: list[Turn]) -> str:
    """Condense a follow-up into a standalone query (rule-based: an LLM condenser can replace it).

    A short question, or one that leans on the previous turn ("what about Japan?", "how much was it?"),
    is read together with the last question the user asked.
    """
    previous = next((t.content for t in reversed(history) if t.role == "user"), None)
    if not previous:
        return question
    if len(content_words(question)) <= 3 or _FOLLOW_UP.search(question):
        return f"{previous} {question}"
    return question


@dataclass(frozen=True)
class Gate:
    """Evidence score = w_dense * top dense similarity + (1 - w_dense) * best sentence coverage."""

    threshold: float
    dense_weight: float = 0.5
    source: str = "uncalibrated default"

    def score(self, dense: float, coverage: float) -> float:
        return self.dense_weight * dense + (1 - self.dense_weight) * coverage


def load_gate(embedder_name: str, override: float | None, path: Path = CALIBRATION_FILE) -> Gate:
    data = json.loads(path.read_text()) if path.is_file() else {}
    entry = data.get("embedders", {}).get(embedder_name)
    weight = float(entry.get("dense_weight", 0.5)) if entry else 0.5
    if override is not None:
        return Gate(override, weight, "ADVISOR_MIN_EVIDENCE_SCORE")
    if entry:
        return Gate(float(entry["threshold"]), weight, f"calibrated on {entry.get('dataset', '?')}")
    log.warning("no calibrated evidence threshold for embedder %s; using %.2f", embedder_name,
                UNCALIBRATED_THRESHOLD)
    return Gate(UNCALIBRATED_THRESHOLD)


class Advisor:
    def __init__(self, settings: Settings, *, store: IndexStore, embedder: Embedder,
                 generator: Generator | None = None, gate: Gate | None = None) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever = HybridRetriever(store, embedder, candidates=settings.candidates, rrf_k=settings.rrf_k)
        self.generator = generator or ExtractiveGenerator(
            lambda term: self.store.lexical().idf(term), max_sentences=settings.answer_max_sentences)
        self._gate = gate
        self.analytics = DealAnalytics(store.catalog)

    @property
    def gate(self) -> Gate:
        if self._gate is None:
            self._gate = load_gate(self.embedder.name, self.settings.min_evidence_score)
        return self._gate

    @classmethod
    def from_settings(cls, settings: Settings, *, embedder: Embedder | None = None,
                      vectors: VectorIndex | None = None) -> Advisor:
        return cls(settings, store=IndexStore(settings, vectors=vectors), embedder=embedder or make_embedder(settings))

    def warm_up(self) -> None:
        self.retriever.warm_up()
        self.analytics.table.refresh()

    def indexer(self, fault: FaultHook | None = None) -> Indexer:
        s = self.settings
        return Indexer(self.store, self.embedder, target_words=s.chunk_target_words, max_words=s.chunk_max_words,
                       overlap_sentences=s.chunk_overlap_sentences, fault=fault)

    def ingest(self, paths: list[Path], *, prune: bool = False, progress: bool = False,
               fault: FaultHook | None = None) -> IngestReport:
        return self.indexer(fault).ingest(paths, prune=prune, progress=progress)

    # answering ------------------------------------------------------------------------------
    def _filters(self, audience: Audience, filters: Filters | None) -> Filters:
        if audience not in ("public", "internal"):
            raise InputError(f"audience must be 'public' or 'internal', got {audience!r}")
        return dataclasses.replace(filters or Filters(), audience=audience)

    def ask(self, question: str, *, audience: Audience = "public", filters: Filters | None = None,
            history: list[Turn] | None = None, max_sentences: int | None = None) -> Answer:
        """Answer a question with verified citations (or say plainly that the sources don't cover it)."""
        started = time.perf_counter()
        question = (question or "").strip()
        if not question:
            raise InputError("question is empty: ask something about pharma and biotech in Asia")
        if len(question) > self.settings.max_question_chars:
            raise InputError(f"question is {len(question)} characters; the limit is {self.settings.max_question_chars}")
        history = history or []
        if len(history) > self.settings.max_history_turns:
            raise InputError(f"history has {len(history)} turns; the limit is {self.settings.max_history_turns}")
        active = self._filters(audience, filters)
        query = standalone_query(question, history)
        analytic = self._analytics_answer(query, active)
        # no matching deal record: the articles may still answer, so retrieval gets its turn
        if analytic is not None and analytic.citations:
            analytic.question = question
            analytic.timings_ms["total_ms"] = round((time.perf_counter() - started) * 1e3, 2)
            log.info("answered route=analytics audience=%s citations=%d ms=%.1f", audience,
                     len(analytic.citations), analytic.timings_ms["total_ms"])
            return analytic
        timings: dict[str, float] = {}
        hits = self.retriever.search(query, active, self.settings.top_k, timings)
        t_gen = time.perf_counter()
        draft = self.generator.generate(query, hits, max_sentences=max_sentences)
        timings["generate_ms"] = (time.perf_counter() - t_gen) * 1e3
        top_dense = float(timings.pop("top_dense_similarity", 0.0))
        evidence = self.gate.score(top_dense, draft.coverage)
        answer = Answer(question=question, text="", audience=audience, evidence_score=round(evidence, 4))
        if query != question:
            answer.notes.append(f"read as: {query}")
        if draft.citations and evidence >= self.gate.threshold:
            t_verify = time.perf_counter()
            documents = {c.doc_id: self.store.catalog.document(c.doc_id) for c in draft.citations}
            checks = check_citations(draft.text, draft.citations, {k: v for k, v in documents.items() if v})
            text, citations, dropped = enforce(draft.text, draft.citations, checks)
            timings["verify_ms"] = (time.perf_counter() - t_verify) * 1e3
            if dropped:
                answer.notes.append(f"{dropped} sentence(s) dropped: no citation supported them")
            answer.text, answer.citations = text, citations
        if not answer.citations:
            answer.covered = False
            answer.route = "no_coverage"
            answer.text = prompts.render("no_coverage.j2", self.settings.prompts_dir, audience=audience)
        for doc_id in dict.fromkeys(c.doc_id for c in answer.citations):
            newer = self.retriever.superseded_by(doc_id)
            if newer:
                answer.notes.append(f"{doc_id} has been superseded by {newer}; prefer the newer source")
        seen: dict[str, Source] = {}
        for c in answer.citations:
            seen.setdefault(c.doc_id, Source(doc_id=c.doc_id, title=c.title, url=c.url, published=c.published))
        answer.sources = list(seen.values())
        timings["total_ms"] = (time.perf_counter() - started) * 1e3
        answer.timings_ms = {k: round(v, 2) for k, v in timings.items()}
        log.info("answered route=%s audience=%s hits=%d citations=%d evidence=%.3f covered=%s ms=%.1f",
                 answer.route, audience, len(hits), len(answer.citations), evidence, answer.covered,
                 timings["total_ms"])
        return answer

    def _analytics_answer(self, question: str, active: Filters) -> Answer | None:
        """Counting, summing, ranking and comparing deals: an exact query over the deals table, not top-k.

        Its figures are computed, so they appear in no single passage: each cited deal record is quoted
        whole, and the sentence-level support check (for retrieved prose) does not apply.
        """
        if active.doc_types and "deal" not in active.doc_types:
            return None
        valid_areas = [a for a in active.therapy_areas if a in THERAPY_AREAS]
        within = DealFilters(party=Side(companies=list(active.companies)), date_from=active.date_from,
                             date_to=active.date_to, therapy_areas=valid_areas)
        return self.analytics.answer(question, audience=active.audience, within=within)

    def stream(self, question: str, *, audience: Audience = "public", filters: Filters | None = None,
               history: list[Turn] | None = None) -> Iterator[dict[str, Any]]:
        """Events for a streaming client: `sources`, then `delta` text pieces, then the final `answer`.

        Text is verified before it streams, so nothing shown is later withdrawn.
        """
        yield from stream_events(self.ask(question, audience=audience, filters=filters, history=history))

    def source(self, doc_id: str, *, audience: Audience = "public", char_start: int | None = None,
               char_end: int | None = None, context_chars: int = 600) -> SourceView:
        """A document's metadata and a passage in its context; internal documents do not exist for the public."""
        document = self.store.catalog.document(doc_id)
        if document is None or (audience == "public" and document.meta.get("audience") != "public"):
            raise NotFound(f"source {doc_id} not found")
        start = 0 if char_start is None else max(0, min(char_start, len(document.text)))
        end = len(document.text) if char_end is None else max(start, min(char_end, len(document.text)))
        meta = document.meta
        return SourceView(
            doc_id=doc_id, title=str(meta.get("title", doc_id)), url=str(meta.get("source_url", "")),
            published=date_str(int(str(meta.get("published", 0) or 0))), publisher=str(meta.get("publisher", "")),
            doc_type=str(meta.get("doc_type", "")), audience=str(meta.get("audience", "")),
            passage=document.text[start:end], char_start=start, char_end=end,
            before=document.text[max(0, start - context_chars):start],
            after=document.text[end:end + context_chars],
        )

    def draft(self, question: str, *, style: Literal["email", "briefing"] = "briefing",
              length: Literal["short", "long"] = "short", audience: Audience = "internal",
              filters: Filters | None = None, history: list[Turn] | None = None) -> Answer:
        """A consultant's draft: the cited answer laid out as an email reply or a briefing note."""
        answer = self.ask(question, audience=audience, filters=filters, history=history,
                          max_sentences=3 if length == "short" else 8)
        if answer.covered:
            answer.text = prompts.render(f"draft_{style}.j2", self.settings.prompts_dir, question=question,
                                         answer=answer.text, citations=answer.citations)
            answer.route = f"draft_{style}"
        return answer
