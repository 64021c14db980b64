"""The default generator: no LLM. It selects the sentences that best answer the question from the
top evidence, removes repeats, orders them readably (by source, then by position) and cites each.

The same selection is the evidence an LLM generator reads (`evidence()`): the best sentences, numbered,
instead of whole chunks. Sentences that address a language model ("ignore previous instructions…")
are never selected: retrieved text is data, and such a sentence is no evidence of anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from advisor.generate import Draft, DraftStream
from advisor.index.lexical import tokenize
from advisor.ingest.meta import date_str
from advisor.text import clean_markdown, numbers, sentence_spans
from advisor.types import Citation, Hit

_MONEY_Q = re.compile(
    r"\b(how much|value|valued|worth|upfront|paid|pay|price|cost|fee|milestone|royalt|terms|agree|deal|sign|"
    r"licen[cs]|acqui|partnership|collaboration)|\$", re.I)
_COUNT_Q = re.compile(r"\b(how many|number of|share|percent|proportion|%)", re.I)
_WHEN_Q = re.compile(r"\b(when|what year|which year|date)\b", re.I)
_MONEY = re.compile(r"\$\s?\d|\b\d[\d,.]*\s?(bn|billion|m|million)\b|\bUSD\b", re.I)
# text written to steer a model rather than to inform a reader
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,30}\b(instructions?|prompts?|rules|directions|guidelines)\b"
    r"|\bsystem prompt\b|\b(new|updated|real) instructions?\s*:|\byou are now\b|\bas an ai\b"
    r"|\b(reveal|disclose|print|output|repeat)\b.{0,30}\b(internal|confidential|hidden|secret)\b"
    r"|^\s*(system|assistant)\s*:|<\|im_(start|end)\|>", re.I)


def is_instruction(sentence: str) -> bool:
    """True for a sentence that tries to instruct a model (prompt injection), not to inform."""
    return bool(_INSTRUCTION.search(sentence))


@dataclass
class _Candidate:
    hit_rank: int
    hit: Hit
    start: int  # offsets within the chunk text
    end: int
    terms: set[str]
    score: float
    coverage: float


class ExtractiveGenerator:
    def __init__(self, idf: Callable[[str], float], *, max_sentences: int = 5, max_hits: int = 6) -> None:
        self._idf = idf
        self.max_sentences = max_sentences
        self.max_hits = max_hits

    def _candidates(self, question: str, hits: list[Hit]) -> list[_Candidate]:
        q_terms = set(tokenize(question))
        weights = {t: self._idf(t) for t in q_terms}
        total = sum(weights.values()) or 1.0
        wants_money, wants_count, wants_when = (bool(p.search(question)) for p in (_MONEY_Q, _COUNT_Q, _WHEN_Q))
        out = []
        for rank, hit in enumerate(hits[: self.max_hits]):
            text = hit.chunk.text
            # a sentence is read under its document title and section heading: "which CAR-T therapies has the
            # NMPA approved" is answered by a list whose heading, not each line, says CAR-T and NMPA
            context = set(tokenize(f"{hit.chunk.meta.get('title', '')} {hit.chunk.section}"))
            for start, end in sentence_spans(text):
                raw = text[start:end]
                if raw.lstrip().startswith("#") or len(raw.split()) < 5 or raw.rstrip().endswith("?"):
                    continue
                if is_instruction(raw):
                    continue
                terms = set(tokenize(raw))
                matched = q_terms & terms
                if not matched:
                    continue
                # selection ranks sentences by their own words; the evidence gate reads them in context
                own = sum(weights[t] for t in matched) / total
                coverage = sum(weights[t] for t in q_terms & (terms | context)) / total
                bonus = 0.0
                if wants_money and _MONEY.search(raw):
                    bonus += 0.12
                if wants_count and numbers(raw):
                    bonus += 0.08
                if wants_when and re.search(r"\b(19|20)\d\d\b", raw):
                    bonus += 0.08
                prior = 0.15 / (1 + rank)
                length_penalty = 0.05 if len(raw.split()) > 60 else 0.0
                out.append(_Candidate(rank, hit, start, end, terms, own + bonus + prior - length_penalty,
                                      coverage))
        return out

    def generate(self, question: str, hits: list[Hit], *, max_sentences: int | None = None) -> Draft:
        return self._select(question, hits, max_sentences or self.max_sentences, floor=0.55)

    def stream(self, question: str, hits: list[Hit], *, max_sentences: int | None = None) -> DraftStream:
        draft = self.generate(question, hits, max_sentences=max_sentences)
        return DraftStream(draft.citations, draft.coverage, [draft.text] if draft.text else [])

    def evidence(self, question: str, hits: list[Hit], *, max_sentences: int) -> Draft:
        """The sentences an LLM should read: a wider, looser selection, numbered and cited like an answer."""
        return self._select(question, hits, max_sentences, floor=0.4)

    def _select(self, question: str, hits: list[Hit], limit: int, floor: float) -> Draft:
        candidates = sorted(self._candidates(question, hits), key=lambda c: -c.score)
        if not candidates:
            return Draft("", [], 0.0)
        best = candidates[0].score
        chosen: list[_Candidate] = []
        for cand in candidates:
            if len(chosen) >= limit or cand.score < floor * best:
                break
            if any(_overlap(cand.terms, c.terms) > 0.6 for c in chosen):
                continue
            chosen.append(cand)
        return self._compose(chosen, coverage=max(c.coverage for c in candidates))

    def _compose(self, chosen: list[_Candidate], coverage: float) -> Draft:
        # readable order: sources by their best sentence, sentences in document order within a source
        order: dict[str, int] = {}
        for cand in chosen:
            order.setdefault(cand.hit.chunk.doc_id, len(order))
        chosen.sort(key=lambda c: (order[c.hit.chunk.doc_id], c.hit.chunk.char_start + c.start))
        groups: list[list[_Candidate]] = []
        for cand in chosen:
            prev = groups[-1][-1] if groups else None
            adjacent = (prev is not None and prev.hit.chunk.chunk_id == cand.hit.chunk.chunk_id
                        and not prev.hit.chunk.text[prev.end:cand.start].strip())
            if adjacent:
                groups[-1].append(cand)
            else:
                groups.append([cand])
        parts: list[str] = []
        citations: list[Citation] = []
        for n, group in enumerate(groups, start=1):
            chunk = group[0].hit.chunk
            lo, hi = group[0].start, group[-1].end
            parts.extend(_with_marker(clean_markdown(chunk.text[c.start:c.end]), n) for c in group)
            meta = chunk.meta
            citations.append(Citation(
                n=n, doc_id=chunk.doc_id, title=str(meta.get("title", chunk.doc_id)),
                url=str(meta.get("source_url", "")), published=date_str(_int(meta.get("published"))),
                doc_type=str(meta.get("doc_type", "")), audience=str(meta.get("audience", "")),
                page=_int(meta.get("page")) or None, chunk_id=chunk.chunk_id,
                passage=chunk.text[lo:hi], char_start=chunk.char_start + lo, char_end=chunk.char_start + hi,
            ))
        return Draft(" ".join(parts), citations, coverage)


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _with_marker(sentence: str, n: int) -> str:
    """'Claim.' -> 'Claim [n].' (the marker inside the full stop, so sentence splitting keeps it)."""
    body = sentence.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else "."
    body = body[:-1].rstrip() if body and body[-1] in ".!?" else body
    return f"{body} [{n}]{end}"


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))
