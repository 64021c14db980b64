"""Citations: parse `[n]` markers, check each cited sentence against its passage, drop what fails.

Support is judged in code, not assumed: a sentence is supported by a passage when the passage holds
every number the sentence states and most of its content words (after stemming). The extractive
generator quotes, so its sentences score 1.0; LLM backends are held to the same check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.index.lexical import tokenize
from advisor.text import numbers, sentence_spans
from advisor.types import Citation, Document

_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_LEADING = re.compile(r"^(?:\s*\[\d+(?:\s*,\s*\d+)*\])+")
SUPPORT_THRESHOLD = 0.75


def support(sentence: str, passage: str) -> float:
    """Share of the sentence's content words found in the passage; 0 if a number is missing."""
    claimed = numbers(sentence)
    if claimed and not claimed <= numbers(passage):
        return 0.0
    words = set(tokenize(sentence))
    if not words:
        return 0.0
    return len(words & set(tokenize(passage))) / len(words)


@dataclass
class CitedSentence:
    text: str  # without its markers
    refs: list[int]
    start: int
    end: int


def cited_sentences(answer_text: str) -> list[CitedSentence]:
    """Split answer text into sentences and the [n] markers each carries.

    Both "claim [1]." and "claim. [1]" are understood: markers that open a sentence belong to the one before.
    """
    out: list[CitedSentence] = []
    for start, end in sentence_spans(answer_text):
        raw = answer_text[start:end]
        lead = _LEADING.match(raw)
        if lead and out:
            out[-1].refs.extend(_numbers_in(lead.group(0)))
            raw = raw[lead.end():]
        if not raw.strip():
            continue
        out.append(CitedSentence(_MARKER.sub("", raw).strip(), _numbers_in(raw), start, end))
    return out


def _numbers_in(text: str) -> list[int]:
    return [int(n) for group in _MARKER.findall(text) for n in re.split(r"\s*,\s*", group)]


@dataclass
class Check:
    sentence: str
    n: int
    ok: bool
    reason: str = ""
    score: float = 0.0


def check_citations(answer_text: str, citations: list[Citation], documents: dict[str, Document],
                    threshold: float = SUPPORT_THRESHOLD) -> list[Check]:
    """One check per (sentence, citation) pair; a sentence without any citation is reported with n=0."""
    by_n = {c.n: c for c in citations}
    checks: list[Check] = []
    for sentence in cited_sentences(answer_text):
        if not sentence.refs:
            checks.append(Check(sentence.text, 0, False, "no citation"))
            continue
        for n in sentence.refs:
            citation = by_n.get(n)
            if citation is None:
                checks.append(Check(sentence.text, n, False, f"[{n}] does not exist"))
                continue
            doc = documents.get(citation.doc_id)
            if doc is None or doc.text[citation.char_start:citation.char_end] != citation.passage:
                checks.append(Check(sentence.text, n, False, "passage is not the quoted span of its document"))
                continue
            score = support(sentence.text, citation.passage)
            ok = score >= threshold
            checks.append(Check(sentence.text, n, ok, "" if ok else f"support {score:.2f} < {threshold}", score))
    return checks


def enforce(answer_text: str, citations: list[Citation], checks: list[Check]) -> tuple[str, list[Citation], int]:
    """Keep only sentences with at least one supporting citation, keep only the citations that support
    them, and renumber [n] compactly. Returns (text, citations, sentences dropped)."""
    good: dict[str, list[int]] = {}
    for check in checks:
        good.setdefault(check.sentence, [])
        if check.ok and check.n not in good[check.sentence]:
            good[check.sentence].append(check.n)
    by_n = {c.n: c for c in citations}
    renumber: dict[int, int] = {}
    parts: list[str] = []
    dropped = 0
    for sentence in cited_sentences(answer_text):
        refs = good.get(sentence.text, [])
        if not refs:
            dropped += 1
            continue
        for n in refs:
            renumber.setdefault(n, len(renumber) + 1)
        marks = ", ".join(str(renumber[n]) for n in refs)
        body = sentence.text.rstrip()
        end = body[-1] if body and body[-1] in ".!?" else "."
        body = body[:-1].rstrip() if body and body[-1] in ".!?" else body
        parts.append(f"{body} [{marks}]{end}")
    kept = [by_n[old].model_copy(update={"n": new}) for old, new in sorted(renumber.items(), key=lambda x: x[1])]
    return " ".join(parts), kept, dropped
