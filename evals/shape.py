"""Answer shape: does the answer read as an answer? Four rules on the answer text, the same for every system.

- false_refusal: refused although the question is answerable and a gold source is among the system's own
  top 3 retrieved documents (the evidence was there). Per question 1.0 / 0.0 over answerable questions.
- fragment_rate, restatement_rate, meta_rate: shares of the answer's sentences that are fragments, restate
  the question, or talk about the documents rather than the subject. Undefined (None) for a refusal.

Sentences come from `advisor.text.sentence_spans` (lines and list items split too), with citation markers
([1], [1, 2], [1-3]) removed before anything is measured. evals/README.md states every rule and threshold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from advisor.text import numbers, sentence_spans, words
from evals.support import stems

TOP_K_EVIDENCE = 3  # false refusal: a gold source among this many retrieved documents
MIN_WORDS = 5  # fewer words than this (citation markers not counted) is a fragment
ITEMS_WITHIN = 2  # a line ending with a colon announces items: a list item within this many lines below
TITLE_MAX_WORDS = 10  # an unpunctuated line of at most this many words is a heading
RESTATE_SHARE = 0.7  # a restatement: at least this share of its content words are the question's ...
RESTATE_NEW = 1  # ... and it adds at most this many new content words (and no number, no yes/no or negation)
KEPT = 5  # flagged sentences kept per record, for reading (dev only)

CITATION = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]\s+|\d+[.)]\s+|\[\d+(?:\s*,\s*\d+)*\])")
_FINAL = re.compile(r"[.!?;:…][\"'”’)\]*_]*$")
_MARKDOWN = re.compile(r"\*\*|__|(?:^|\s)#{1,6}(?:\s|$)")
_POLARITY = re.compile(r"\b(?:yes|no|not|never|none|neither|nor|cannot)\b|n't\b", re.I)

DOC_NOUNS = (r"(?:article|outlook|report|guide|note|section|document|briefing|piece|paper|primer|checklist|"
             r"explainer|overview|memo|page|post|faq)s?")
# words that may stand between "this"/"our" and the document noun ("our separate guide", "our 2026 outlook")
_MODIFIERS = (r"(?:(?:separate|companion|earlier|previous|latest|new|full|short|annual|quarterly|own|other|related|"
              r"detailed|practical|longer|mid-year|full-year|\d{4}) )*")
# a document as the subject: "This article", "These notes", "Our separate guide", "In short, this outlook"
_DOC_SUBJECT = re.compile(rf"^(?:[\w’']+(?: [\w’']+){{0,2}}, )?(?:this|these|our) {_MODIFIERS}{DOC_NOUNS}\b", re.I)
# ... unless it is someone else's ("This report by GlobalData", "This section of the BIOSECURE Act") or the
# sentence reports what it found ("This report found 28% ..."): then the subject is the finding
_ATTRIBUTED = re.compile(rf"(?i:{DOC_NOUNS}),? (?:by|from|of|in) (?:the )?[A-Z0-9]")
_FINDING = re.compile(rf"{DOC_NOUNS} (?:\w+ )?(?:found|finds|shows?|showed|estimates?|estimated|reports?|reported|"
                      r"conclude[sd]?|predicts?|predicted|projects?|projected|counts?|counted|identifie[sd])\b", re.I)
# the text named anywhere in the sentence ("the views in this outlook", "we will update this note"); the same
# exceptions apply
_DOC_MENTION = re.compile(rf"\b(?:in|of|to|read|see|update) (?:this|our) {_MODIFIERS}{DOC_NOUNS}\b", re.I)
# the text pointing at itself or at its readers' questions, anywhere in the sentence
_SELF_REFERENCE = re.compile(
    r"\bquestions? (?:we|clients) (?:most often )?(?:hear|get|see|are asked|receive)\b"
    r"|\b(?:this|that|it) is (?:a|the|one) (?:\w+ )?questions? (?:we|clients)\b"
    r"|\b(?:discussed|noted|described|mentioned|explained|set out|outlined|shown|covered|detailed) "
    r"(?:above|below|earlier in|later in|elsewhere)\b"
    r"|\bsee (?:above|below)\b",
    re.I,
)


@dataclass
class Shape:
    """The shape of one answer: its sentences and which of them each rule flags."""

    sentences: int = 0
    fragments: list[str] = field(default_factory=list)
    restatements: list[str] = field(default_factory=list)
    meta: list[str] = field(default_factory=list)

    def rate(self, flagged: Sequence[str]) -> float | None:
        return len(flagged) / self.sentences if self.sentences else None

    def record(self) -> dict[str, object]:
        """The per-question fields results.json keeps."""
        return {"fragment_rate": self.rate(self.fragments), "restatement_rate": self.rate(self.restatements),
                "meta_rate": self.rate(self.meta),
                "shape": {"sentences": self.sentences, "fragments": self.fragments[:KEPT],
                          "restatements": self.restatements[:KEPT], "meta": self.meta[:KEPT]}}


@dataclass
class Sentence:
    text: str  # citation markers removed
    whole_line: bool  # the sentence is its whole line
    last_in_line: bool
    list_item: bool  # its line is a list item ("- ", "1. ", or opening with citation markers)
    items_follow: bool  # a list item is among the next ITEMS_WITHIN non-empty lines


def strip_citations(text: str) -> str:
    return CITATION.sub("", text).strip()


def sentences(text: str) -> list[Sentence]:
    """The answer's sentences in reading order, citation markers removed; marker-only pieces dropped. A piece
    the splitter ends inside an open parenthesis ("one party in China (incl." + "Hong Kong); …") is joined to
    the next piece of its line: a sentence does not end inside parentheses."""
    lines = [line for line in text.splitlines() if line.strip()]
    out = []
    for i, line in enumerate(lines):
        pieces: list[str] = []
        for a, b in sentence_spans(line):
            if pieces and pieces[-1].count("(") > pieces[-1].count(")"):
                pieces[-1] = f"{pieces[-1]} {line[a:b]}"
            else:
                pieces.append(line[a:b])
        pieces = [p for p in (strip_citations(p) for p in pieces) if p]
        item = bool(_LIST_ITEM.match(line))
        items_follow = any(_LIST_ITEM.match(nxt) for nxt in lines[i + 1:i + 1 + ITEMS_WITHIN])
        out += [Sentence(piece, len(pieces) == 1, j == len(pieces) - 1, item, items_follow)
                for j, piece in enumerate(pieces)]
    return out


def _title_like(line: str) -> bool:
    tokens = line.split()
    long_words = [t for t in tokens if len(re.sub(r"\W", "", t)) >= 4]
    capitalised = sum(1 for t in long_words if t[0].isupper())
    return len(tokens) <= TITLE_MAX_WORDS or (bool(long_words) and capitalised > len(long_words) / 2)


def fragment_reason(sentence: Sentence) -> str | None:
    """Why a sentence is a fragment (None when it is not); the rules in evals/README.md, in order."""
    text = sentence.text
    if text.startswith("#") or (sentence.whole_line and not sentence.list_item and not _FINAL.search(text)
                                and _title_like(text)):
        return "heading"
    if text.endswith(":") and sentence.last_in_line:
        if not sentence.items_follow:
            return "colon without the items it announces"
        if not _MARKDOWN.search(text):
            return None  # a line introducing the list below it is not judged by its length
    if _MARKDOWN.search(text):
        return "markdown markers"
    if text.count("(") != text.count(")") or text.count("[") != text.count("]"):
        return "unbalanced brackets"
    if len(words(text)) < MIN_WORDS:
        return f"under {MIN_WORDS} words"
    return None


def _content(text: str) -> set[str]:
    return set(stems(text)) | set(numbers(text))


def is_restatement(sentence: str, question: str) -> bool:
    """The sentence mostly repeats the question's own content words and adds nothing an answer would need:
    >= 70% of its content words (stems, and numbers as written) are the question's, at most one is new, it
    states no number the question lacks, and it brings no yes/no or negation the question lacks."""
    mine, theirs = _content(sentence), _content(question)
    if not mine:
        return False
    new = mine - theirs
    if numbers(sentence) - numbers(question):
        return False
    if _POLARITY.search(sentence) and not _POLARITY.search(question):
        return False
    return len(mine & theirs) / len(mine) >= RESTATE_SHARE and len(new) <= RESTATE_NEW


def is_meta(sentence: str) -> bool:
    """The sentence is about the documents (this article, our guide, questions we hear, as noted above)
    rather than the subject; a document someone else wrote, or what a document found, is the subject."""
    text = sentence.strip()
    names_itself = bool(_DOC_SUBJECT.match(text) or _DOC_MENTION.search(text))
    if names_itself and not _ATTRIBUTED.search(text) and not _FINDING.search(text):
        return True
    return bool(_SELF_REFERENCE.search(text))


def shape(answer_text: str, question: str) -> Shape:
    out = Shape()
    for s in sentences(answer_text):
        out.sentences += 1
        if fragment_reason(s):
            out.fragments.append(s.text)
        if is_restatement(s.text, question):
            out.restatements.append(s.text)
        if is_meta(s.text):
            out.meta.append(s.text)
    return out


def false_refusal(*, refused: bool, answerable: bool, gold_sources: Sequence[str],
                  retrieved: Sequence[str], k: int = TOP_K_EVIDENCE) -> float | None:
    """1.0 when an answerable question was refused although a gold source was in the top k retrieved
    documents; 0.0 otherwise; None for an unanswerable question (no false refusal is possible)."""
    if not answerable:
        return None
    return float(refused and bool(set(gold_sources) & set(retrieved[:k])))
