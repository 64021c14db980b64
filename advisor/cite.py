"""Citations: parse `[n]` markers, check each cited sentence against its passage, drop what fails.

Support is judged in code, not assumed: a sentence is supported by a passage when the passage holds
every number the sentence states and most of its content words (after stemming). The extractive
generator quotes, so its sentences score 1.0; LLM backends are held to the same check.

`Verifier` applies it sentence by sentence (so a stream can be verified as it arrives): a sentence
cited to the wrong passage is re-cited to the one that supports it, an uncited sentence gets the
passage that supports it, an unsupported sentence is dropped, a citation number that names no
passage is never emitted, and the numbers left are renumbered densely in order of first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from advisor.index.lexical import tokenize
from advisor.text import clean_markdown, numbers, sentence_spans
from advisor.types import Citation, Document

_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_LEADING = re.compile(r"^(?:\s*[,;]?\s*\[\d+(?:\s*,\s*\d+)*\])+")
SUPPORT_THRESHOLD = 0.75
# re-cite only when another passage supports a sentence clearly better than the one it cites
RECITE_MARGIN = 0.15
# "our sources don't cover X": a statement of a gap, allowed without a citation when it states no figure
_GAP = re.compile(r"\b(our )?(sources?|passages?|documents?|records?|research)\b.{0,40}\b(do not|don't|does not|"
                  r"doesn't|did not|didn't|cannot|can't)\b.{0,30}\b(cover|mention|say|address|include|state|specify|"
                  r"disclose|give|provide|show)", re.I)


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
    opens_paragraph: bool = False  # a blank line before it: the answer keeps its paragraphs


def cited_sentences(answer_text: str) -> list[CitedSentence]:
    """Split answer text into sentences and the [n] markers each carries.

    Both "claim [1]." and "claim. [1]" are understood: markers that open a sentence belong to the one before.
    """
    out: list[CitedSentence] = []
    previous = 0
    for start, end in sentence_spans(answer_text):
        raw = answer_text[start:end]
        opens = bool(out) and "\n\n" in answer_text[previous:start]
        previous = end
        lead = _LEADING.match(raw)
        if lead and out:
            out[-1].refs.extend(_numbers_in(lead.group(0)))
            raw = raw[lead.end():]
        if not raw.strip():
            continue
        out.append(CitedSentence(_MARKER.sub("", raw).strip(), _numbers_in(raw), start, end, opens))
    return out


def joined(parts: list[tuple[str, bool]]) -> str:
    """Sentences as one text: a blank line before each that opens a paragraph, a space before the others."""
    return "".join(("" if i == 0 else "\n\n" if opens else " ") + text for i, (text, opens) in enumerate(parts))


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


def is_gap_statement(sentence: str) -> bool:
    """A short sentence saying what the sources don't cover, with no figure, link or citation-worthy claim."""
    return (bool(_GAP.search(sentence)) and not numbers(sentence) and len(sentence.split()) <= 30
            and not re.search(r"https?://|www\.|@", sentence))


def _quotes_its_document(citation: Citation, documents: dict[str, Document]) -> bool:
    doc = documents.get(citation.doc_id)
    return doc is not None and doc.text[citation.char_start:citation.char_end] == citation.passage


def _with_marks(body: str, marks: str) -> str:
    body = body.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else "."
    body = body[:-1].rstrip() if body and body[-1] in ".!?" else body
    return f"{body} [{marks}]{end}" if marks else f"{body}{end}"


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    supported: int  # sentences kept with a supporting citation
    dropped: list[str] = field(default_factory=list)  # sentences no passage supports
    recited: int = 0  # sentences whose citation was wrong, missing or fabricated, now pointing at support
    gaps: int = 0  # uncited "our sources don't cover …" sentences kept


class Verifier:
    """Checks sentences one at a time against the numbered passages; see the module docstring.

    `add()` returns the sentence as it may be shown (with dense citation numbers) or None when it is
    dropped; numbers once shown never change, so a stream can show each sentence as soon as it passes.
    """

    def __init__(self, citations: list[Citation], documents: dict[str, Document], *,
                 threshold: float = SUPPORT_THRESHOLD, margin: float = RECITE_MARGIN) -> None:
        # a citation whose passage is not the exact span of its document is never used
        self._by_n = {c.n: c for c in citations if _quotes_its_document(c, documents)}
        self.threshold = threshold
        self.margin = margin
        self._renumber: dict[int, int] = {}
        self._parts: list[tuple[str, bool]] = []
        self._supported = 0
        self.dropped: list[str] = []
        self.recited = 0
        self.gaps = 0

    def _support(self, body: str, n: int) -> float:
        c = self._by_n[n]
        return support(body, f"{c.passage} {c.title}")

    def add(self, sentence: CitedSentence) -> str | None:
        body = clean_markdown(sentence.text)
        if not body or not re.search(r"[A-Za-z0-9]", body):
            return None
        cited = list(dict.fromkeys(n for n in sentence.refs if n in self._by_n))
        scores = {n: self._support(body, n) for n in self._by_n}
        kept = [n for n in cited if scores[n] >= self.threshold]
        if not kept and len(cited) > 1:
            # a synthesis across passages: supported by their union, each cited passage contributing
            union = " ".join(f"{self._by_n[n].passage} {self._by_n[n].title}" for n in cited)
            if support(body, union) >= self.threshold:
                kept = [n for n in cited if set(tokenize(body)) & set(tokenize(self._by_n[n].passage))]
        best = max(scores, key=lambda n: scores[n], default=None)
        if best is not None and scores[best] >= self.threshold and (
                not kept or scores[best] >= max(scores[n] for n in kept) + self.margin):
            kept = [best]
        if not kept:
            if is_gap_statement(body):
                self.gaps += 1
                return self._emit(_with_marks(body, ""), sentence.opens_paragraph)
            self.dropped.append(body)
            return None
        if kept != cited:
            self.recited += 1
        for n in kept:
            self._renumber.setdefault(n, len(self._renumber) + 1)
        self._supported += 1
        return self._emit(_with_marks(body, ", ".join(str(self._renumber[n]) for n in kept)), sentence.opens_paragraph)

    def _emit(self, text: str, opens_paragraph: bool = False) -> str:
        self._parts.append((text, opens_paragraph))
        return text

    def result(self) -> Verified:
        kept = [self._by_n[old].model_copy(update={"n": new})
                for old, new in sorted(self._renumber.items(), key=lambda item: item[1])]
        return Verified(joined(self._parts), kept, self._supported, list(self.dropped), self.recited, self.gaps)


def verify(answer_text: str, citations: list[Citation], documents: dict[str, Document],
           **options: float) -> Verified:
    """Verify a whole answer (the non-streaming form of `Verifier`)."""
    verifier = Verifier(citations, documents, **options)
    for sentence in cited_sentences(answer_text):
        verifier.add(sentence)
    return verifier.result()


def complete_sentences(pieces: Iterable[str]) -> Iterator[CitedSentence]:
    """Sentences from streamed text pieces, each yielded once it is complete: when the next sentence has
    begun (so citation markers written after a full stop, "claim. [2]", have arrived) or the text ends."""
    buffer, done = "", 0
    for piece in pieces:
        buffer += piece
        sentences = cited_sentences(buffer)
        # the next sentence has begun only when it holds words, not just "[" or a marker still being written
        begun = len(sentences) - 1 if sentences and _has_words(sentences[-1].text) else len(sentences) - 2
        while done < begun:
            yield sentences[done]
            done += 1
    sentences = cited_sentences(buffer)
    while done < len(sentences):
        yield sentences[done]
        done += 1


def _has_words(text: str) -> bool:
    return bool(re.search(r"[A-Za-z0-9]", re.sub(r"\[[\d,\s]*\]?", "", text)))
