"""The pipeline: guard → retrieve → generate → gate on evidence → verify citations → Answer."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from advisor import prompts
from advisor.analytics import DealAnalytics, DealFilters, Side
from advisor.analytics.query import DealQuery
from advisor.analytics.render import render_answer
from advisor.analytics.vocab import DEAL_TYPES, MODALITIES, STAGES, THERAPY_AREAS
from advisor.asked import Kind, asked_fields, asked_kind, names_person, states, subject_of, years_unmentioned
from advisor.cite import CitedSentence, Verifier, complete_sentences
from advisor.config import Audience, Settings
from advisor.embed import Embedder, make_embedder
from advisor.gate import HEADING_HITS, INDEX_CALIBRATION, Gate, TextVectors, features, heading_text, load_gate
from advisor.generate import Condenser, Generator, LLMError, Translator, make_generator
from advisor.generate.candidates import quotable
from advisor.generate.extractive import ExtractiveGenerator
from advisor.index.lexical import tokenize
from advisor.index.store import IndexStore
from advisor.index.vectors import VectorIndex
from advisor.ingest.deals import COUNTRIES
from advisor.ingest.indexer import FaultHook, Indexer, IngestReport
from advisor.ingest.meta import date_str
from advisor.intent import names_records, question_parts
from advisor.records import NotFound
from advisor.retrieve import Filters, HybridRetriever, region_values
from advisor.shapes import QuestionShapes, load_advice_model
from advisor.text import content_words, other_script_share
from advisor.types import Answer, Citation, Hit, Source, SourceView, Turn

log = logging.getLogger(__name__)
Writer = Literal["extractive", "llm"]


class InputError(ValueError):
    """A question or option the advisor cannot accept; the message says why."""


# words of a counting, summing, ranking or comparing question: only then may an LLM propose a deal query
_ANALYTIC_HINT = re.compile(r"\b(how many|number of|count|total|sum|average|mean|median|top|largest|biggest|"
                            r"smallest|highest|lowest|rank|list|which deals|compare|versus|vs|by year|per year|"
                            r"trend)\b", re.I)
_FOLLOW_UP = re.compile(r"^(and|but|also|so|what about|how about|then|why|how come)\b|\b(it|its|they|them|their|"
                        r"that|those|this|these|he|she|the deal|the company)\b", re.I)

# a name no source holds stops the answer when the question's meaning moves at least this much without it: above
# every word no source holds in the answerable dev questions (the most, 0.095: "PFS"), below the names no source
# holds in the unanswerable ones ("Mabwell" 0.108); see `Advisor.unmentioned_names`
UNMENTIONED_SALIENCE = 0.1
# a public question is about what only the internal documents hold when a sentence of the internal chunks nearest it
# (WITHHELD_CHUNKS of them) is this much nearer it in meaning than any sentence of its public evidence: every
# public dev question at least this far is about internal matters (fees, clients, win rates; the nearest answerable
# one, 0.169, asks for a list the records give); its public neighbours are then no answer, and it is not answered
WITHHELD_MARGIN = 0.2
WITHHELD_CHUNKS = 3
_CONTRACTION = re.compile(r"\w['’](?:d|m|re|ve|ll|t)$", re.I)


def _written_names(text: str) -> list[str]:
    """The words of `text` that could be names: written with a capital ("AbbVie", "CSPC", and a sentence's first
    word, which only the sources can tell from an ordinary one) or of letters and digits ("ASC30"), without a
    possessive's "'s"; not a contraction ("We'd", "I'm"), which is grammar."""
    words = (re.sub(r"['’]s$", "", word) for word in re.findall(r"[\w'’-]+", text))
    return [word for word in words if not _CONTRACTION.search(word) and
            (any(c.isupper() for c in word) or (any(c.isdigit() for c in word) and any(c.isalpha() for c in word)))]


_LATIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9$%.,'’/&+-]*")


def other_script(text: str) -> bool:
    """Whether a text is written mostly in another script than the Latin one: at least half its letters beyond
    Latin Extended (Japanese, Chinese, Korean…)."""
    return other_script_share(text) >= 0.5


def latin_reading(text: str) -> str | None:
    """The Latin-script words of a text written mostly in another script, the names and codes an English embedder
    can read; None for a text mostly in the Latin script, or with no such word."""
    return " ".join(_LATIN_WORD.findall(text)) or None if other_script(text) else None


def _best_sentence(hits: list[Hit]) -> float:
    """The question's best similarity with a sentence of its first hits (after `Advisor.read_sections`)."""
    return max((s for h in hits[:HEADING_HITS] for s in (h.sentence_similarity or {}).values()), default=0.0)


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


def _sources(citations: list[Citation]) -> list[Source]:
    seen: dict[str, Source] = {}
    for c in citations:
        seen.setdefault(c.doc_id, Source(doc_id=c.doc_id, title=c.title, url=c.url, published=c.published))
    return list(seen.values())


def _deltas(text: str) -> Iterator[tuple[str, object]]:
    """A verified sentence as word-sized `delta` events (a verified sentence types out; it is never withdrawn)."""
    for piece in re.findall(r"\s*\S+", text):
        yield "delta", piece


def _separator(sentence: CitedSentence, shown: list[str]) -> str:
    """What goes before a sentence shown after others: a blank line when it opens a paragraph, else a space."""
    return "" if not shown else "\n\n" if sentence.opens_paragraph else " "


def _renumbered(text: str, offset: int) -> str:
    """Citation marks moved up by `offset` ("[1, 2]" -> "[4, 5]" for 3): a second answer's citations after a first's."""
    return re.sub(r"\[(\d+(?:,\s*\d+)*)\]",
                  lambda m: "[" + ", ".join(str(int(n) + offset) for n in re.findall(r"\d+", m.group(1))) + "]", text)


def _read_as(hit: Hit) -> str:
    """A hit's passage with what it is read under: its document's title, section and year of publication."""
    meta = hit.chunk.meta
    return f"{meta.get('title', '')} {hit.chunk.section} {str(meta.get('published', ''))[:4]} {hit.chunk.text}"


def _plain(sentence: str) -> str:
    """A sentence without its citation marks, for telling whether it was already shown."""
    return re.sub(r"\s*\[[\d, ]+\]", "", sentence).strip().lower()


def _timed(pieces: Iterable[str], timings: dict[str, float], since: float) -> Iterator[str]:
    """Pass text pieces through, recording when the first one arrived (time to first token)."""
    for piece in pieces:
        if "first_token_ms" not in timings:
            timings["first_token_ms"] = (time.perf_counter() - since) * 1e3
        yield piece


class Advisor:
    def __init__(self, settings: Settings, *, store: IndexStore, embedder: Embedder,
                 generator: Generator | None = None, gate: Gate | None = None) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever = HybridRetriever(store, embedder, candidates=settings.candidates, rrf_k=settings.rrf_k)
        self.shapes = QuestionShapes(embedder, load_advice_model(embedder.name))  # does a question ask what to do?
        # the extractive generator also selects the evidence an LLM reads, and is the fallback when
        # nothing an LLM wrote survives verification
        self.extractive = ExtractiveGenerator(lambda term: self.store.lexical().idf(term),
                                              max_sentences=settings.answer_max_sentences,
                                              following=self.retriever.following,
                                              asks_advice=self.shapes.asks_advice)
        self.generator = generator or make_generator(settings, self.extractive)
        self._gate = gate
        self.texts = TextVectors(embedder)  # section headings and sentences, compared with questions
        self.analytics = DealAnalytics(store.catalog)

    @property
    def gate(self) -> Gate:
        if self._gate is None:
            self._gate = load_gate(self.embedder.name, self.settings.min_evidence_score,
                                   index_path=Path(self.settings.data_dir) / INDEX_CALIBRATION)
        return self._gate

    def reload_gate(self) -> None:
        """Read the gate again (after `advisor calibrate` wrote this index's own)."""
        self._gate = None

    @classmethod
    def from_settings(cls, settings: Settings, *, embedder: Embedder | None = None,
                      vectors: VectorIndex | None = None) -> Advisor:
        return cls(settings, store=IndexStore(settings, vectors=vectors), embedder=embedder or make_embedder(settings))

    def warm_up(self) -> None:
        self.retriever.warm_up()
        self.analytics.table.refresh()
        if self.gate.semantic:  # the section headings and sentences the gate and composer compare questions with
            self.texts.warm_in_background(self._texts_to_warm)
        warm = getattr(self.generator, "warm_up", None)
        if warm is not None:
            warm()  # an endpoint model: checked now; the local model: its process starts in the background

    def wait_warm(self, timeout: float | None = None) -> None:
        """Block until the headings and sentences are cached (evals and benchmarks time warm answers, as a server
        gives once its warm-up is done; a server never waits)."""
        self.texts.wait(timeout)

    def _texts_to_warm(self) -> Iterator[str]:
        """Every chunk's heading, then every chunk's quotable sentences (the order questions will need them in)."""
        ids = self.store.lexical().ids
        yield from (heading_text(Hit(c, 0.0)) for c in self.store.catalog.iter_chunks(ids))
        for chunk in self.store.catalog.iter_chunks(ids):
            yield from (text for _, text in quotable(chunk.text))

    def _model_process(self) -> Any:
        """The local model's supervised process, when the LLM generator runs one (else None)."""
        return getattr(getattr(self.generator, "chat", None), "process", None)

    def close(self) -> None:
        """Stop what the advisor started (the heading warm-up, the local model's process and its client)."""
        self.texts.stop()
        close = getattr(getattr(self.generator, "chat", None), "close", None)
        if close is not None:
            close()

    def wait_for_model(self, timeout: float | None = None) -> dict[str, object] | None:
        """Block until the local model is ready or has failed (evals and scripts; a server never waits)."""
        process = self._model_process()
        if process is not None:
            process.start(wait=True, timeout=timeout)
        return self.model_status()

    def model_status(self) -> dict[str, object] | None:
        """The local model process's state, restarts and detail; None when answers need no local model."""
        process = self._model_process()
        return process.status().to_dict() if process is not None else None

    def writer(self, audience: Audience, requested: Writer | None = None) -> Generator:
        """Who writes this answer: what the request asks for, else the audience's default (settings.answer_writer);
        the extractive composer when no LLM is configured."""
        wanted = requested or self.settings.answer_writer.get(audience, "extractive")
        return self.generator if wanted == "llm" else self.extractive

    def indexer(self, fault: FaultHook | None = None) -> Indexer:
        s = self.settings
        return Indexer(self.store, self.embedder, target_words=s.chunk_target_words, max_words=s.chunk_max_words,
                       overlap_sentences=s.chunk_overlap_sentences, batch_chunks=s.ingest_batch_chunks,
                       max_file_bytes=s.max_file_bytes, fault=fault)

    def ingest(self, paths: list[Path], *, prune: bool = False, progress: bool = False,
               fault: FaultHook | None = None) -> IngestReport:
        return self.indexer(fault).ingest(paths, prune=prune, progress=progress)

    # answering ------------------------------------------------------------------------------
    def _filters(self, audience: Audience, filters: Filters | None) -> Filters:
        if audience not in ("public", "internal"):
            raise InputError(f"audience must be 'public' or 'internal', got {audience!r}")
        return dataclasses.replace(filters or Filters(), audience=audience)

    def ask(self, question: str, *, audience: Audience = "public", filters: Filters | None = None,
            history: list[Turn] | None = None, max_sentences: int | None = None,
            writer: Writer | None = None) -> Answer:
        """Answer a question with verified citations (or say plainly that the sources don't cover it)."""
        for kind, value in self._answer_events(question, audience=audience, filters=filters, history=history,
                                               max_sentences=max_sentences, writer=writer):
            if kind == "answer":
                assert isinstance(value, Answer)
                return value
        raise RuntimeError("the answer pipeline ended without an answer")

    def _in_english(self, question: str, timings: dict[str, float]) -> str:
        """A question written mostly in another script, as the configured LLM reads it in English (whoever writes
        the answer): the embedder, the evidence checks and the composer read English. The words it wrote in Latin
        letters that the reading lost ("PMDA" read as "FDA") follow it in brackets. The question itself when there
        is no LLM, it is not ready or its reply is not usable; its Latin words are then read with it."""
        if not (other_script(question) and isinstance(self.generator, Translator)):
            return question
        started = time.perf_counter()
        try:
            english = self.generator.translate(question)
        except LLMError as exc:
            log.info("reading the question in English failed, reading its Latin words: %s", exc)
            english = None
        timings["translate_ms"] = (time.perf_counter() - started) * 1e3
        if not english:
            return question
        # what the writer wrote in Latin letters (names, codes) stays in the reading, however the model rendered it
        lost = [w for w in dict.fromkeys(w.strip(".,") for w in _LATIN_WORD.findall(question))
                if any(c.isalpha() for c in w) and w.lower() not in english.lower()]
        return f"{english} ({' '.join(lost)})" if lost else english

    def _standalone(self, question: str, history: list[Turn], generator: Generator) -> str:
        """The rule-based rewrite decides whether the question leans on the conversation; an LLM, when it writes
        the answer, then writes the standalone query (the rule-based one stands when it fails or is not usable)."""
        rewritten = standalone_query(question, history)
        if rewritten == question or not isinstance(generator, Condenser):
            return rewritten
        try:
            return generator.condense(question, history) or rewritten
        except LLMError as exc:
            log.warning("condensing the follow-up failed, using the rule-based rewrite: %s", exc)
            return rewritten

    def _answer_events(self, question: str, *, audience: Audience, filters: Filters | None,
                       history: list[Turn] | None, max_sentences: int | None,
                       writer: Writer | None = None) -> Iterator[tuple[str, object]]:
        """("sources", [Source]), ("delta", text)…, ("answer", Answer): the one pipeline behind ask and stream."""
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
        generator = self.writer(audience, writer)
        timings: dict[str, float] = {}
        english = self._in_english(question, timings)
        query = self._standalone(english, history, generator)
        if query != english:
            timings["condense_ms"] = (time.perf_counter() - started) * 1e3
        # the names a question rests on are those it writes: a translation may spell them otherwise
        written = latin_reading(question) or "" if english != question else query
        analytic = self._analytics_answer(query, active, generator)
        # no matching deal record: the articles may still answer, so retrieval gets its turn
        records = analytic if analytic is not None and analytic.citations else None
        reported = self._reported_elsewhere(query) if records is not None else None  # the query, parsed once
        if records is not None and reported is None:
            yield from self._records_only(records, question, query, written, audience, started)
            return
        hits, vector = self._retrieve(query, active, timings)
        if reported is not None:  # the records' figure follows: the articles' part is what the articles say
            hits = [h for h in hits if h.chunk.meta.get("doc_type") != "deal"]
        if self.gate.semantic:
            self.read_sections(vector, hits, timings)
        t_gen = time.perf_counter()
        draft = generator.stream(query, hits, max_sentences=max_sentences)
        evidence = self.gate.score(self.evidence_features(query, hits, draft.coverage, timings, vector))
        if records is not None and reported is not None \
                and not (evidence >= self.gate.threshold and self._states_a_figure(query, reported, hits)):
            yield from self._records_only(records, question, query, written, audience, started)
            return
        with_conversation = self._with_conversation(english, query, history, active, evidence, timings)
        if with_conversation is not None:  # the question alone finds no answer; read with the last one, it does
            query, hits, evidence = with_conversation
            t_gen = time.perf_counter()
            draft = generator.stream(query, hits, max_sentences=max_sentences)
        answer = Answer(question=question, text="", audience=audience, evidence_score=round(evidence, 4),
                        writer="extractive")
        if query != question:
            answer.notes.append(f"read as: {query}")
        shown: list[str] = []
        covered = bool(draft.citations) and evidence >= self.gate.threshold \
            and not (audience == "public" and self.gate.semantic and self._held_internally(vector, hits))
        # before any text: the documents the answer draws on (the final `answer` lists those it cites)
        yield "sources", ([*_sources(draft.citations), *(records.sources if records is not None else [])]
                          if covered else [])
        if covered:
            documents = {c.doc_id: self.store.catalog.document(c.doc_id) for c in draft.citations}
            verifier = Verifier(draft.citations, {k: v for k, v in documents.items() if v})
            try:
                for sentence in complete_sentences(_timed(draft.pieces, timings, t_gen)):
                    text = verifier.add(sentence)
                    if text:
                        yield from _deltas(_separator(sentence, shown) + text)
                        shown.append(text)
            except LLMError as exc:
                log.warning("the language model failed; answering from the sources directly: %s", exc)
                answer.notes.append("the language model was unavailable: answered from the sources directly")
                failed = True
            else:
                failed = False
            timings["generate_ms"] = (time.perf_counter() - t_gen) * 1e3
            recited = verifier.recited
            from_model = verifier.result().supported
            if generator is not self.extractive and from_model:
                answer.writer = generator.name  # type: ignore[attr-defined]
            if generator is not self.extractive and (failed or from_model == 0):
                # the model failed, or nothing it wrote is supported: the extractive answer from the same
                # evidence completes it (sentences already shown are not repeated)
                fallback = self.extractive.generate(query, hits, max_sentences=max_sentences)
                seen = {_plain(t) for t in shown}
                for sentence in complete_sentences([fallback.text]):
                    if _plain(sentence.text) in seen:
                        continue
                    text = verifier.add(dataclasses.replace(sentence, refs=[]))
                    if text:
                        yield from _deltas(_separator(sentence, shown) + text)
                        shown.append(text)
                if shown and not failed:
                    answer.notes.append("no sentence of the model's draft was supported: answered from the sources")
            result = verifier.result()
            if result.dropped:
                answer.notes.append(f"{len(result.dropped)} sentence(s) dropped: no citation supported them")
            if recited:
                answer.notes.append(f"{recited} sentence(s) re-cited to the passage that supports them")
            timings["verify_ms"] = (time.perf_counter() - t_gen) * 1e3 - timings["generate_ms"]
            if result.citations:
                answer.text, answer.citations = result.text, result.citations
        # both routes: the articles' reasoning, then the records' figure, cited after it (only when the records were
        # not already asked: a question they answered without a match would find none again)
        # (a count or total the articles report too: the published figure first, then the records' own)
        figures = None if not answer.citations else records if reported is not None else \
            self._figures(query, active) if analytic is None else None
        if figures is not None:
            offset = len(answer.citations)
            text = _renumbered(figures.text, offset)
            yield from _deltas("\n\n" + text)
            answer.text = f"{answer.text}\n\n{text}"
            answer.citations = [*answer.citations, *(c.model_copy(update={"n": c.n + offset})
                                                     for c in figures.citations)]
            answer.table, answer.chart = figures.table, figures.chart
            answer.route = "lookup+analytics"
        kind = asked_kind(query)
        about = subject_of(query, self._companies_in(query)) if answer.citations and kind else None
        gap_of: dict[str, str] | None = None
        if answer.citations and kind and not (
                names_person(query, answer.text, self._company_or_country) if kind == "person"
                else states(kind, answer.text, asked_fields(query, kind), about)):
            gap_of = {"kind": kind}  # the sources are about the question but none states the value it asks for
        elif answer.citations and (unmentioned := years_unmentioned(
                query, map(_read_as, hits[:self.extractive.max_hits]))):
            # the question pins a year the sources never mention: their other years are context
            gap_of = {"kind": "year", "years": " or ".join(unmentioned)}
        elif answer.citations and (unknown := self.unmentioned_names(query, written)):
            # the question rests on a name no source mentions: what the sources say of its neighbours is context
            gap_of = {"kind": "name", "names": " or ".join(unknown)}
        if gap_of is not None:  # say so, and say it is not an answer (what was shown stays, cited, as context)
            gap = self._not_an_answer(**gap_of)
            yield from _deltas(" " + gap)
            answer.text = f"{answer.text} {gap}"
            answer.covered = False
            answer.route = "partial"
        if not answer.citations:
            answer.covered = False
            answer.route = "no_coverage"
            refusal = prompts.render("no_coverage.j2", self.settings.prompts_dir, audience=audience)
            yield from _deltas((" " if shown else "") + refusal)
            answer.text = " ".join([*shown, refusal])  # what was shown stays: uncited "sources don't cover" lines
        for doc_id in dict.fromkeys(c.doc_id for c in answer.citations):
            newer = self.retriever.superseded_by(doc_id)
            if newer:
                answer.notes.append(f"{doc_id} has been superseded by {newer}; prefer the newer source")
        answer.sources = _sources(answer.citations)
        timings["total_ms"] = (time.perf_counter() - started) * 1e3
        answer.timings_ms = {k: round(v, 2) for k, v in timings.items()}
        log.info("answered route=%s audience=%s hits=%d citations=%d evidence=%.3f covered=%s ms=%.1f",
                 answer.route, audience, len(hits), len(answer.citations), evidence, answer.covered,
                 timings["total_ms"])
        yield "answer", answer

    def _company_or_country(self, name: str) -> bool:
        """Whether a capitalised name is a company the records know or a country (not a person)."""
        return bool(self.analytics.parser().companies_named(name)) or any(
            country.lower() in name.lower() for country in COUNTRIES)

    def _companies_in(self, query: str) -> Callable[[str], set[str]]:
        """The companies a text names; for the question itself, with those it means by one word of their name
        ("Simcere" for Simcere Zaiming) when the sources use that word about as rarely as the name's rarest other
        word: a place a company is named after ("Shanghai") is written far more often than the company."""
        parser, lexical = self.analytics.parser(), self.store.lexical()

        def distinctive(word: str, company: str) -> bool:
            own = tokenize(word)
            others = [t for t in tokenize(company) if t not in own]
            return len(own) == 1 and (not others or lexical.idf(own[0]) >= max(map(lexical.idf, others)) - 1.0)

        meant = parser.companies_meant(query, distinctive)
        return lambda text: meant if text == query else parser.companies_named(text)

    def _not_an_answer(self, **gap: str) -> str:
        """The sentence that ends an on-topic answer that is not an answer (`prompts/value_not_stated.j2`)."""
        return prompts.render("value_not_stated.j2", self.settings.prompts_dir, **gap).strip()

    def _records_only(self, records: Answer, question: str, query: str, written: str, audience: Audience,
                      started: float) -> Iterator[tuple[str, object]]:
        """The deal records' answer. The records hold every deal's names too: when the question rests on one they
        never mention ("who licensed ASC30?"), the deals its other words match are context, and it says so."""
        records.question = question
        if query != question:
            records.notes.insert(0, f"read as: {query}")
        unknown = self.unmentioned_names(query, written)
        if unknown:
            gap = self._not_an_answer(kind="name", names=" or ".join(unknown))
            records.text = f"{records.text}\n\n{gap}"
            records.covered, records.route = False, "partial"
        records.timings_ms["total_ms"] = round((time.perf_counter() - started) * 1e3, 2)
        log.info("answered route=%s audience=%s citations=%d ms=%.1f", records.route, audience,
                 len(records.citations), records.timings_ms["total_ms"])
        yield "sources", records.sources
        yield from _deltas(records.text)
        yield "answer", records

    def _reported_elsewhere(self, query: str) -> DealQuery | None:
        """A count or total over the market ("total China out-licensing value in 2025") is also what published
        trackers report, over more deals than the firm's records hold: the articles' figure is worth giving, with
        the records' own after it. Not when the question asks about the records themselves ("in the tracker").
        The records' query when it is such a count or total, else None."""
        parsed = self.analytics.parse(query)
        if parsed is None or parsed.operation not in ("count", "sum", "avg", "median") or names_records(query):
            return None
        return parsed

    def _states_a_figure(self, query: str, parsed: DealQuery, hits: list[Hit]) -> bool:
        """Whether the articles' answer states a figure of the kind the records' query computes: a count of deals, or
        an amount (of the kind named: an upfront, milestones…)."""
        counts = parsed.operation == "count"
        kind: Kind = "number" if counts else "money"
        fields = ["count:deal"] if counts else asked_fields(query, "money")
        return states(kind, self.extractive.generate(query, hits).text, fields)

    def _with_conversation(self, question: str, query: str, history: list[Turn], active: Filters, evidence: float,
                           timings: dict[str, float]) -> tuple[str, list[Hit], float] | None:
        """A question the rules read on its own ("when did the FDA approve the subq version?") may still lean on
        the conversation through a definite reference. When, on its own, the evidence does not answer it, it is
        read once more after the user's last question, and that reading is kept (query, hits, evidence) only when
        its evidence clears the gate; the gate's `missing` feature still refuses a new subject the sources lack
        ("which volcano…" after a question on BIOSECURE). Nothing changes for a question answered on its own, or
        one the rules already read with the conversation."""
        previous = next((t.content for t in reversed(history) if t.role == "user"), None)
        if previous is None or query != question or evidence >= self.gate.threshold:
            return None
        merged = f"{previous} {question}"
        mine: dict[str, float] = {}
        hits, read = self._read(merged, active, mine)
        score = self.gate.score(read)
        timings["conversation_ms"] = sum(v for k, v in mine.items() if k.endswith("_ms"))
        return (merged, hits, score) if score >= self.gate.threshold else None

    def _embed_question(self, texts: list[str]) -> np.ndarray:
        """The vectors of a question (`texts[0]`) and its asks, in one model call. An embedder that reads the Latin
        script only (`settings.embedder_latin_only`: the packaged all-MiniLM-L6-v2 is English) reads a question
        written mostly in another script by its Latin words as well: the question's vector is the normalised sum of
        the two readings. "武田薬品はHUTCHMEDのフルキンチニブ（fruquintinib）の…" keeps what the model makes of the
        Japanese and gains "HUTCHMED fruquintinib"."""
        latin = latin_reading(texts[0]) if self.settings.embedder_latin_only else None
        vectors = self.embedder.embed([*texts, latin] if latin else texts)
        if latin:
            both = np.asarray(vectors[0] + vectors[-1], dtype=np.float32)
            vectors = vectors[:-1]
            vectors[0] = both / max(float(np.linalg.norm(both)), 1e-12)
        return vectors

    def _retrieve(self, query: str, active: Filters, timings: dict[str, float]) -> tuple[list[Hit], np.ndarray]:
        """The hits for a question, and the question's vector; a compound question's asks each retrieve too
        (the question and its asks are embedded in one model call)."""
        asks = question_parts(query)
        started = time.perf_counter()
        vectors = self._embed_question([query] if len(asks) == 1 else [query, *asks])
        timings["embed_ms"] = (time.perf_counter() - started) * 1e3
        self.shapes.note(query, vectors[0])
        if len(asks) == 1:
            hits = self.retriever.search(query, active, self.settings.top_k, timings, vector=vectors[0])
        else:
            hits = self.retriever.search_asks(query, asks, active, self.settings.top_k, timings, vectors=vectors)
        return hits, vectors[0]

    def search(self, query: str, *, audience: Audience = "public", filters: Filters | None = None,
               k: int | None = None) -> list[Hit]:
        """The passages retrieval ranks highest for `query` (read in English when written in another script), for
        `audience`; no answer is composed."""
        query = (query or "").strip()
        if not query:
            raise InputError("query is empty: say what to look for")
        query = self._in_english(query, {})
        active = self._filters(audience, filters)
        vector = self._embed_question([query])[0]
        return self.retriever.search(query, active, k or self.settings.top_k, {}, vector=vector)

    def deals(self, question: str, *, audience: Audience = "public") -> dict[str, Any] | None:
        """A question over the deal records, computed: the figure, the cited answer, the query as read and the
        rows behind it (public records only for the public); None when the question is not about the records."""
        explained = self.analytics.explain(self._in_english((question or "").strip(), {}), audience=audience)
        if explained is None:
            return None
        result, answer = explained
        return {"value": result.value, "matched": len(result.rows), "text": answer.text,
                "query": result.query.model_dump(mode="json"),
                "rows": [dict(r) for r in (result.shown or result.rows)][:50],
                "citations": [c.model_dump(include={"n", "doc_id", "title", "url", "published"})
                              for c in answer.citations]}

    def evidence(self, question: str, *, audience: Audience = "public",
                 history: list[Turn] | None = None) -> dict[str, float] | None:
        """The gate's features for a question as the pipeline reads it (the standalone query, the audience's
        hits, the extractive selection); None when the deal analytics answer it (no gate applies there)."""
        active = self._filters(audience, None)
        query = standalone_query(self._in_english(question.strip(), {}), history or [])
        analytic = self._analytics_answer(query, active, self.extractive)
        if analytic is not None and analytic.citations:
            return None
        return self._read(query, active, {}, semantic=True)[1]

    def _read(self, query: str, active: Filters, timings: dict[str, float], *,
              semantic: bool = False) -> tuple[list[Hit], dict[str, float]]:
        """A query's hits and the gate's features for them, as the extractive composer selects its evidence."""
        hits, vector = self._retrieve(query, active, timings)
        if semantic or self.gate.semantic:
            self.read_sections(vector, hits, timings)
        coverage = self.extractive.generate(query, hits).coverage
        return hits, self.evidence_features(query, hits, coverage, timings, vector, semantic=semantic)

    def evidence_features(self, query: str, hits: list[Hit], coverage: float, timings: dict[str, float],
                          vector: np.ndarray, *, semantic: bool = False) -> dict[str, float]:
        """The evidence gate's features for this question and its hits (see `advisor.gate`); the heading and missing
        features only when the gate reads them (or `semantic`, for calibration), after `read_sections`."""
        dense = float(timings.pop("top_dense_similarity", 0.0))
        withheld = max(0.0, float(timings.pop("top_withheld_similarity", 0.0)) - dense)
        if not (semantic or self.gate.semantic) or not hits:
            return features(dense, coverage)
        heading = max((h.heading_similarity or 0.0 for h in hits[:HEADING_HITS]), default=0.0)
        absent = self.extractive.missing_terms(query, hits[:HEADING_HITS])
        missing = max(self._salience(query, absent, vector), default=0.0) if absent else 0.0
        sentence = _best_sentence(hits)
        return features(dense, coverage, heading, missing, sentence, withheld)

    def _held_internally(self, vector: np.ndarray, hits: list[Hit]) -> bool:
        """Whether a public question asks what only the internal documents hold: a sentence of the internal chunks
        nearest it is WITHHELD_MARGIN nearer it than any sentence of its public evidence (after `read_sections`).
        "How much do you charge for a Japan market entry assessment?" finds the rate card's line; its public
        neighbours on entering Japan are no answer to it. Nothing internal is shown or said: the public answer is
        the plain "our sources don't cover this"."""
        public = _best_sentence(hits)
        chunks = self.store.catalog.iter_chunks(self.retriever.nearest_withheld(vector, WITHHELD_CHUNKS))
        texts = [text for chunk in chunks for _, text in quotable(chunk.text)]
        internal = max(self.texts.similarities(vector, texts), default=0.0) if texts else 0.0
        return internal - public >= WITHHELD_MARGIN

    def unmentioned_names(self, query: str, written: str | None = None) -> list[str]:
        """The names the question writes that no document of the index holds, when its meaning rests on them: the
        question without all of them moves at least UNMENTIONED_SALIENCE from itself. "Has Mabwell out-licensed its
        ADCs?" over sources that never mention Mabwell is not answered by other companies' ADC deals; nor is
        "Ascletis has an oral GLP-1 called ASC30: who licensed it?" by the oral GLP-1s they do mention, though each
        of its two names alone weighs less than both (`_written_names` says what may be a name; an ordinary word
        the sources phrase otherwise is not one). A compound of words the index holds ("AZ-CSPC") names what they
        name. The names given are those that weigh at least half the heaviest (a capitalised word of address,
        "Guys", is not named). The names are those `written` (default: the query) writes: a question read in English
        rests on the names its writer wrote, not on a translation's spelling of them."""
        lexical = self.store.lexical()
        never = lexical.idf("\x00never-indexed")  # the idf of a term no chunk holds

        def unseen(term: str) -> bool:
            if lexical.idf(term) < never:
                return False
            parts = [t for part in term.split("-") for t in tokenize(part)] if "-" in term else []
            return not parts or any(lexical.idf(t) >= never for t in parts)

        names = {t: word for word in _written_names(query if written is None else written) for t in tokenize(word)
                 if unseen(t) and not t.isdigit()}
        if not names:
            return []
        vector = self.embedder.embed([query])[0]
        terms = list(names)
        *each, together = self._salience(query, [*([t] for t in terms), terms], vector)
        if together < UNMENTIONED_SALIENCE:
            return []
        return [names[t] for t, s in zip(terms, each, strict=True) if s >= max(each) / 2]

    def _salience(self, query: str, terms: list[str] | list[list[str]], vector: np.ndarray) -> list[float]:
        """How much the question's meaning rests on each term (or each group of terms): 1 - the cosine similarity of
        the question (`vector`) with the question without the words that make it. A name or a subject moves it far
        ("Kailera" 0.32); a word of manner or filler hardly at all ("apparently" 0.003), so a question is not
        refused for one of those."""
        words = re.findall(r"\S+", query)
        groups = [{term} if isinstance(term, str) else set(term) for term in terms]
        variants = [" ".join(w for w in words if not group & set(tokenize(w))) for group in groups]
        base = np.asarray(vector, dtype=np.float32)
        return [max(0.0, 1.0 - float(np.asarray(v, dtype=np.float32) @ base)) for v in self.embedder.embed(variants)]

    def read_sections(self, vector: np.ndarray, hits: list[Hit], timings: dict[str, float]) -> None:
        """Each of the first hits the composer reads gets the question's similarity to its section heading and to
        each of its quotable sentences (from the text-vector cache; what is not cached yet is embedded now)."""
        todo = [h for h in hits[:self.extractive.max_hits * 2] if h.sentence_similarity is None]
        if not todo:
            return
        started = time.perf_counter()
        sentences = [quotable(h.chunk.text) for h in todo]
        texts = [heading_text(h) for h in todo] + [text for found in sentences for _, text in found]
        sims = iter(self.texts.similarities(vector, texts))
        for hit in todo:
            hit.heading_similarity = next(sims)
        for hit, found in zip(todo, sentences, strict=True):
            hit.sentence_similarity = {start: next(sims) for start, _ in found}
        timings["sections_ms"] = timings.get("sections_ms", 0.0) + (time.perf_counter() - started) * 1e3

    def _within(self, active: Filters) -> DealFilters | None:
        """The caller's filters as deal filters; None when they exclude the deal records."""
        if active.doc_types and "deal" not in active.doc_types:
            return None
        valid_areas = [a for a in active.therapy_areas if a in THERAPY_AREAS]
        countries = [c for c in COUNTRIES if c.lower() in region_values(active.regions)]
        # a region is either party's country; with a company too, it is the company's counterparty
        party, other = (Side(companies=list(active.companies)), Side(countries=countries)) if active.companies \
            else (Side(countries=countries), Side())
        return DealFilters(party=party, counterparty=other, date_from=active.date_from, date_to=active.date_to,
                           therapy_areas=valid_areas)

    def _analytics_answer(self, question: str, active: Filters, generator: Generator) -> Answer | None:
        """Counting, summing, ranking and comparing deals: an exact query over the deals table, not top-k.

        Its figures are computed, so they appear in no single passage: each cited deal record is quoted
        whole, and the sentence-level support check (for retrieved prose) does not apply.
        """
        within = self._within(active)
        if within is None:
            return None
        answer = self.analytics.answer(question, audience=active.audience, within=within)
        if answer is None and self.settings.llm_deal_queries and _ANALYTIC_HINT.search(question):
            answer = self._proposed_analytics_answer(question, active.audience, within, generator)
        return answer

    def _figures(self, question: str, active: Filters) -> Answer | None:
        """For a question that asks why (or what to do) as well as how many, how much or which largest: the deal
        records' figure, to go with the articles' reasoning (None when the records hold none)."""
        within = self._within(active)
        explained = self.analytics.explain(question, audience=active.audience, within=within, with_reasons=True) \
            if within is not None else None
        return explained[1] if explained is not None and explained[1].citations else None

    def _proposed_analytics_answer(self, question: str, audience: Audience, within: DealFilters,
                                   generator: Generator) -> Answer | None:
        """When the rule parser finds no deal query, an LLM may propose one: JSON validated against the
        DealQuery schema (whitelisted fields and values, so never raw SQL); anything invalid is ignored."""
        complete = getattr(generator, "complete", None)
        if complete is None:
            return None
        vocabulary = {"therapy_areas": list(THERAPY_AREAS), "modalities": list(MODALITIES),
                      "deal_types": list(DEAL_TYPES), "stages": list(STAGES), "countries": list(COUNTRIES)}
        try:
            reply = complete("deal_query.j2", question=question, today=time.strftime("%Y-%m-%d"),
                             schema=json.dumps(DealQuery.model_json_schema(), separators=(",", ":")),
                             vocabulary=vocabulary)
        except LLMError as exc:
            log.warning("no deal query proposed: %s", exc)
            return None
        match = re.search(r"\{.*\}", reply, re.S)
        try:
            query = DealQuery.model_validate_json(match.group(0) if match else reply)
        except ValidationError as exc:
            log.info("proposed deal query rejected: %s", str(exc).splitlines()[0])
            return None
        answer = render_answer(question, self.analytics.run(query, audience=audience, within=within),
                               audience=audience)
        if not answer.citations:
            return None
        answer.notes.append(f"deal query proposed by the language model, validated against the schema: "
                            f"{query.model_dump_json(exclude_defaults=True)}")
        return answer

    def stream(self, question: str, *, audience: Audience = "public", filters: Filters | None = None,
               history: list[Turn] | None = None, writer: Writer | None = None) -> Iterator[dict[str, Any]]:
        """Events for a streaming client: `sources`, then `delta` text pieces, then the final `answer`.

        Verification runs at sentence boundaries: the model's tokens are buffered until a sentence is
        complete, the sentence is checked against the passage it cites (re-cited or dropped as needed),
        and only then sent as a `delta`. So nothing shown is ever withdrawn, citation numbers shown are
        final, and the user sees the answer arrive a sentence at a time. `sources` lists the documents
        the answer draws on before any text; the final `answer` lists those actually cited.
        """
        for kind, value in self._answer_events(question, audience=audience, filters=filters, history=history,
                                               max_sentences=None, writer=writer):
            if kind == "sources":
                yield {"event": "sources", "data": [s.model_dump() for s in value]}  # type: ignore[attr-defined]
            elif kind == "delta":
                yield {"event": "delta", "data": value}
            else:
                yield {"event": "answer", "data": value.to_json_dict()}  # type: ignore[attr-defined]

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
              filters: Filters | None = None, history: list[Turn] | None = None,
              writer: Writer | None = None) -> Answer:
        """A consultant's draft: the cited answer laid out as an email reply or a briefing note."""
        answer = self.ask(question, audience=audience, filters=filters, history=history,
                          max_sentences=3 if length == "short" else 8, writer=writer)
        if answer.covered:
            answer.text = prompts.render(f"draft_{style}.j2", self.settings.prompts_dir, question=question,
                                         answer=answer.text, citations=answer.citations)
            answer.route = f"draft_{style}"
        return answer
