"""A sentence chosen from a passage, and what is read and shown with it.

A candidate is a span of a chunk with its terms and scores. Around it: the next sentence when it carries a
figure forward, a deal record's asset and money lines, a table row under its header, and the way each is shown
("label — column: value", "heading — sentence") and cited. Sentences that address a language model are never
candidates: retrieved text is data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from advisor.generate.lists import tables
from advisor.index.lexical import tokenize
from advisor.text import clean_markdown, is_heading, numbers, sentence_spans
from advisor.types import Hit

# text written to steer a model rather than to inform a reader
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,30}\b(instructions?|prompts?|rules|directions|guidelines)\b"
    r"|\bsystem prompt\b|\b(new|updated|real) instructions?\s*:|\byou are now\b|\bas an ai\b"
    r"|\b(reveal|disclose|print|output|repeat)\b.{0,30}\b(internal|confidential|hidden|secret)\b"
    r"|^\s*(system|assistant)\s*:|<\|im_(start|end)\|>", re.I)


@lru_cache(maxsize=8192)
def is_instruction(sentence: str) -> bool:
    """True for a sentence that tries to instruct a model (prompt injection), not to inform."""
    return bool(_INSTRUCTION.search(sentence))


Span = tuple[int, int]

# a sentence whose subject is the text itself ("This playbook sets out…", "In short, our outlook…"), or that points
# at its readers' questions or at another part of itself: it says where the answer is, not what it is
_DOC_NOUN = (r"(?:article|outlook|report|guide|note|section|document|briefing|piece|paper|primer|checklist|explainer|"
             r"overview|memo|playbook|page|post|faq|tracker)s?")
_ABOUT_THE_TEXT = re.compile(
    rf"^(?:[\w’']+(?: [\w’']+){{0,2}}, )?(?:this|these|our|the present) (?:[\w-]+ ){{0,3}}{_DOC_NOUN}\b"
    r"(?! (?:by|from|of) [A-Z0-9])(?! (?:\w+ )?(?:found|finds|shows?|showed|estimates?|counts?|counted)\b)"
    rf"|\b(?:in|of|to|read|see|update) (?:this|our) (?:[\w-]+ ){{0,2}}{_DOC_NOUN}\b"
    r"(?! (?:of|by|from) (?:the )?[A-Z0-9])"
    r"|\bquestions? (?:we|clients) (?:most often )?(?:hear|get|see|are asked|receive)\b"
    r"|\b(?:this|that|it) is (?:a|the|one) (?:\w+ )?questions? (?:we|clients)\b"
    r"|\b(?:discussed|noted|described|set out|outlined|covered|detailed) (?:above|below|earlier|later|elsewhere)\b"
    r"|\bsee (?:above|below)\b|\b(?:below|above) (?:is|are|was|were)\b", re.I)


@lru_cache(maxsize=8192)
def is_about_the_text(sentence: str) -> bool:
    """True for a sentence about the document rather than its subject (see `_ABOUT_THE_TEXT`)."""
    return bool(_ABOUT_THE_TEXT.search(clean_markdown(sentence)))


_FINAL = re.compile(r"[.!?;:…][\"'”’)\]*_]*$")
_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s")


def _line_of(text: str, start: int, end: int) -> tuple[int, int]:
    """The offsets of the whole line (or lines) holding text[start:end]."""
    line_end = text.find("\n", end)
    return text.rfind("\n", 0, start) + 1, len(text) if line_end < 0 else line_end


def is_title_line(text: str, start: int, end: int) -> bool:
    """A span that is a whole line of its own, not a list item, and ends without a sentence's final punctuation:
    a heading, a title or a caption ("Procurement prohibition versus outright ban", a wrapped PDF title line)."""
    line_start, line_end = _line_of(text, start, end)
    if text[line_start:start].strip(" \t*_#") or text[end:line_end].strip(" \t*_"):
        return False
    raw = text[start:end].strip()
    return not _ITEM.match(text[line_start:line_end]) and not _FINAL.search(raw.rstrip("*_ "))


def heading_over_item(text: str, start: int) -> tuple[int, int] | None:
    """For a sentence on a list item's line, the heading line of the section the list is in (within this text):
    an item quoted without its list reads in context under it ("Common sticking points — Territory: whether the
    licensor keeps Greater China…"). None for a sentence that is not on an item's line, or with no heading above."""
    line_start, line_end = _line_of(text, start, start)
    if not _ITEM.match(text[line_start:line_end]):
        return None
    end = line_start - 1
    while end > 0:
        begin = text.rfind("\n", 0, end) + 1
        if is_heading(text[begin:end]):
            return begin, end
        end = begin - 1
    return None


@lru_cache(maxsize=8192)
def quotable(text: str) -> tuple[tuple[int, str], ...]:
    """The sentences of a chunk's text that may be quoted, by start offset, as the embedder reads them (Markdown
    removed): headings and lines under five words are context, never candidates. (Cached: the same chunks come
    back question after question.)"""
    out = []
    for start, end in sentence_spans(text):
        raw = text[start:end]
        if not raw.lstrip().startswith("#") and len(raw.split()) >= 5:
            out.append((start, clean_markdown(raw)))
    return tuple(out)


def restates(sentence_terms: set[str], question_terms: set[str]) -> bool:
    """A sentence that mostly repeats the question's terms and adds at most one of its own answers nothing."""
    if not sentence_terms:
        return False
    new = sentence_terms - question_terms
    return len(new) <= 1 and len(sentence_terms & question_terms) >= 0.7 * len(sentence_terms)


@dataclass
class Candidate:
    hit_rank: int
    hit: Hit
    start: int  # offsets within the chunk text
    end: int
    terms: set[str]
    score: float
    coverage: float
    header: tuple[int, int] | None = None  # a table row is read, shown and cited under its table's header row
    heading: tuple[int, int] | None = None  # a section's first sentence standing for the section, under its heading
    read_with: frozenset[str] = frozenset()  # the terms it is read with for coverage (title, heading, neighbour)
    cue: tuple[int, int] | None = None  # a list item: the sentence that introduces its list


def table_rows(text: str) -> dict[int, tuple[tuple[int, int], tuple[int, int]]]:
    """Sentence start -> (its table's header, the whole row) for every sentence inside a table row or header."""
    out: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {}
    for table in tables(text):
        for row in (table.header, *table.rows):
            for start, _ in sentence_spans(text, *row):
                out[start] = (table.header, row)
    return out


def is_new(cand: Candidate, chosen: list[Candidate]) -> bool:
    """Neither a sentence already chosen nor one that mostly repeats one."""
    return all((c.hit.chunk.chunk_id, c.start) != (cand.hit.chunk.chunk_id, cand.start)
               and _overlap(cand.terms, c.terms) <= 0.6 for c in chosen)


def unseen(cand: Candidate, chosen: list[Candidate]) -> bool:
    """Not already chosen, as a passage of the same document (a record's lines read alike across records, and
    overlapping chunks hold the same lines)."""
    text = cand.hit.chunk.text[cand.start:cand.end]
    return all((c.hit.chunk.doc_id, c.hit.chunk.text[c.start:c.end]) != (cand.hit.chunk.doc_id, text)
               for c in chosen)


def _next_in_paragraph(cand: Candidate) -> tuple[int, int] | None:
    """The span of the sentence after `cand` on the same line (paragraph), if any."""
    text = cand.hit.chunk.text
    line_end = text.find("\n", cand.end)
    return next(sentence_spans(text, cand.end, len(text) if line_end < 0 else line_end), None)


def _previous_in_paragraph(cand: Candidate) -> tuple[int, int] | None:
    """The span of the sentence before `cand` on the same line (paragraph), if any."""
    text = cand.hit.chunk.text
    line_start = text.rfind("\n", 0, cand.start) + 1
    spans = list(sentence_spans(text, line_start, cand.start))
    return spans[-1] if spans else None


# a sentence that opens by pointing back at the one before it: "At the same time, …", "However, …", "This means …",
# or by taking up the points one before it counted ("First, …", "Second, …")
_LEANS_BACK = re.compile(
    r"^(?:at the same time|however|but|yet|also|moreover|furthermore|in addition|still|even so|nevertheless|"
    r"meanwhile|by contrast|in contrast|on the other hand|instead|therefore|thus|hence|as a result|for this reason|"
    r"otherwise|similarly|likewise|equally|this|these|that|those|such|it|they|the latter|the former|"
    r"first(?:ly)?|second(?:ly)?|third(?:ly)?|fourth|fifth|finally|lastly)\b", re.I)


def leans_back(sentence: str) -> bool:
    """True for a sentence that cannot open a passage: it continues the one before it."""
    return bool(_LEANS_BACK.match(clean_markdown(sentence).lstrip(" -*_\"'“")))


def antecedent(cand: Candidate) -> Candidate | None:
    """For a sentence that leans on the one before it ("At the same time, US policy is tightening"), that sentence,
    when the paragraph has one and it can be quoted: without it the chosen sentence dangles."""
    text = cand.hit.chunk.text
    if not leans_back(text[cand.start:cand.end]):
        return None
    previous = _previous_in_paragraph(cand)
    if previous is None:
        return None
    raw = text[previous[0]:previous[1]]
    if raw.lstrip().startswith(("#", "|")) or len(raw.split()) < 5 or raw.rstrip().endswith("?") \
            or is_instruction(raw) or is_about_the_text(raw):
        return None
    return Candidate(cand.hit_rank, cand.hit, previous[0], previous[1], set(tokenize(raw)), cand.score,
                     cand.coverage)


def continuation(cand: Candidate) -> Candidate | None:
    """The next sentence of the same paragraph when it carries the chosen sentence's figure forward: it states
    numbers too and shares at least three of its words ("capacity reached 604,000 litres in 2023." "A fifth
    plant … taking total capacity to 784,000 litres"). A figure and its update belong together."""
    text = cand.hit.chunk.text
    following = _next_in_paragraph(cand)
    if following is None or not numbers(text[cand.start:cand.end]):
        return None
    raw = text[following[0]:following[1]]
    terms = set(tokenize(raw))
    if not numbers(raw) or len(terms & cand.terms) < 3 or is_instruction(raw):
        return None
    return Candidate(cand.hit_rank, cand.hit, following[0], following[1], terms, cand.score, cand.coverage)


def paragraph_next(cand: Candidate) -> Candidate | None:
    """The next sentence of the chosen sentence's paragraph, when it can stand in an answer: in prose an author
    states a point and then gives it its substance ("Singapore hosts the regional headquarters of many large
    pharma companies. The reasons are consistent: English as the working language, …"), and the second sentence
    may share no word with the question. None at the paragraph's end, or for a heading, a question, an
    instruction, a sentence about the text or a short fragment."""
    text = cand.hit.chunk.text
    following = _next_in_paragraph(cand)
    if following is None:
        return None
    raw = text[following[0]:following[1]]
    if raw.lstrip().startswith(("#", "|")) or len(raw.split()) < 5 or raw.rstrip().endswith(("?", ":")) \
            or is_instruction(raw) or is_about_the_text(raw):
        return None
    return Candidate(cand.hit_rank, cand.hit, following[0], following[1], set(tokenize(raw)), cand.score,
                     cand.coverage)


# the lines of a deal record that say what a deal was: its asset and its money
_RECORD_LINE = re.compile(r"^The deal covers |\bdeal value: ")


def record_lines(cand: Candidate) -> list[Candidate]:
    """For a sentence chosen from a deal record ("A and B announced a licence deal on …"), the record's lines
    naming the asset and the money: the announcement alone does not say what was licensed or for how much."""
    chunk = cand.hit.chunk
    if chunk.meta.get("doc_type") != "deal":
        return []
    text = chunk.text
    return [Candidate(cand.hit_rank, cand.hit, a, b, set(tokenize(text[a:b])), cand.score, cand.coverage)
            for a, b in sentence_spans(text) if (a, b) != (cand.start, cand.end) and _RECORD_LINE.search(text[a:b])]


# a bold lead-in that is a label, not a sentence: "- **Build, don't flee.** Grow capabilities…"
_LEAD_IN = re.compile(r"^(\s*(?:[-*+•]\s+)?)\*\*([^*]{1,80}?)[.:]\*\*\s+(?=\S)")
# a table's first header cell that gives the unit of its figures ("(in millions of US dollars)", "$ in thousands")
_UNIT_CAPTION = re.compile(r"[$€£¥%]|\b(?:thousands?|millions?|billions?|percent)\b", re.I)


def display(text: str, cand: Candidate) -> str:
    """A sentence as shown: Markdown removed; a bold lead-in as a label ("Build, don't flee: grow…"); a table row as
    "label — column: value; column: value" (with the table's unit when its first header cell gives one); a
    section's first sentence, or a list item quoted without its list, as "heading — sentence"."""
    if cand.header is None:
        sentence = clean_markdown(_LEAD_IN.sub(lambda m: f"{m.group(1)}{m.group(2)}: ", text[cand.start:cand.end]))
        if cand.heading is None:
            return sentence
        return f"{clean_markdown(text[cand.heading[0]:cand.heading[1]]).rstrip(' .:;?!')} — {sentence}"
    columns, cells = (_cells(text[a:b]) for a, b in (cand.header, (cand.start, cand.end)))
    if len(columns) != len(cells) or len(cells) < 2:
        return clean_markdown(" ".join(cells))
    pairs = "; ".join(f"{column}: {cell}" for column, cell in zip(columns[1:], cells[1:], strict=True))
    unit = columns[0].strip(" ()") if _UNIT_CAPTION.search(columns[0]) else ""
    if unit:  # "Total revenue in millions of US dollars — 2024: 12,345", the unit in the label's clause
        label = f"{cells[0]} {unit}" if unit.lower().startswith("in ") else f"{cells[0]} ({unit})"
        return clean_markdown(f"{label} — {pairs}")
    return clean_markdown(f"{cells[0]} — {pairs}")


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def with_marker(sentence: str, n: int) -> str:
    """'Claim.' -> 'Claim [n].' (the marker inside the full stop, so sentence splitting keeps it)."""
    body = sentence.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else "."
    body = body[:-1].rstrip() if body and body[-1] in ".!?" else body
    return f"{body} [{n}]{end}"


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))
