"""Enumerations inside a passage: a cue line ("the main premiums are:") and the bullet items that follow it.

A list question is answered by the items, which often share no word with the question ("- **Sakigake
premium:** for products designated …" is one; "- **Paediatric premium:** …" another), so the extractive
generator reads a list as one block: the cue, which says what is listed, and its items, kept together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.text import is_heading, sentence_spans

_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S")
MIN_ITEMS = 2


@dataclass(frozen=True)
class ListBlock:
    """Offsets within a chunk's text: the cue sentence (None when the list opens the chunk) and each item's
    sentences (an item line may hold several)."""

    cue: tuple[int, int] | None
    items: tuple[tuple[tuple[int, int], ...], ...]

    def spans(self) -> list[tuple[int, int]]:
        """The cue, then every item sentence, in text order."""
        head = [self.cue] if self.cue else []
        return head + [span for item in self.items for span in item]


def _lines(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]


def _is_item(text: str, line: tuple[int, int]) -> bool:
    return bool(_BULLET.match(text[line[0]:line[1]]))


def list_blocks(text: str) -> list[ListBlock]:
    """Every run of at least MIN_ITEMS bullet or numbered lines in `text`, with the sentence that introduces it."""
    lines = _lines(text)
    blocks: list[ListBlock] = []
    i = 0
    while i < len(lines):
        if not _is_item(text, lines[i]):
            i += 1
            continue
        j = i
        while j < len(lines) and _is_item(text, lines[j]):
            j += 1
        if j - i >= MIN_ITEMS:
            blocks.append(ListBlock(_cue(text, lines, i), tuple(_item_sentences(text, line) for line in lines[i:j])))
        i = j
    return blocks


def _item_sentences(text: str, line: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """An item line's sentences; a numbered item's number ("1.") is its marker, not a sentence of its own."""
    return tuple(span for span in sentence_spans(text, *line) if re.search(r"[^\W\d_]", text[span[0]:span[1]]))


def _cue(text: str, lines: list[tuple[int, int]], first_item: int) -> tuple[int, int] | None:
    """The last sentence of the prose line just before the items (a heading or nothing is no cue)."""
    if first_item == 0:
        return None
    line = lines[first_item - 1]
    if is_heading(text[line[0]:line[1]]):
        return None
    spans = list(sentence_spans(text, *line))
    return spans[-1] if spans else None


@dataclass(frozen=True)
class Table:
    """A Markdown table in a chunk's text: its header row and its body rows (offsets; the |---| rule left out)."""

    header: tuple[int, int]
    rows: tuple[tuple[int, int], ...]


_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")


def tables(text: str) -> list[Table]:
    """Every table with a header and at least one body row."""
    found: list[Table] = []
    run: list[tuple[int, int]] = []
    for line in [*_lines(text), (len(text), len(text))]:
        if text[line[0]:line[1]].lstrip().startswith("|"):
            run.append(line)
            continue
        body = [r for r in run[1:] if not _RULE.match(text[r[0]:r[1]])]
        if run and body:
            found.append(Table(run[0], tuple(body)))
        run = []
    return found



# a cue that announces what follows: "… as follows:", "The following apply.", "Four deals illustrate the range: …"
_FOLLOWING = re.compile(r"\b(?:the following|as follows)\b", re.I)
_COUNTS = {w: n for n, w in enumerate("two three four five six seven eight nine ten eleven twelve".split(), start=2)}
_COUNT = re.compile(rf"\b({'|'.join(_COUNTS)}|\d{{1,2}})\s+(?:[\w'’-]+\s+){{0,2}}?[\w'’-]+s\b", re.I)


def announced_count(sentence: str) -> int | None:
    """How many items a cue announces ("Four deals illustrate …:" -> 4), read before its colon; None if unsaid."""
    match = _COUNT.search(sentence.split(":", 1)[0])
    if match is None:
        return None
    word = match.group(1).lower()
    count = _COUNTS.get(word) or int(word)
    return count if count >= MIN_ITEMS else None


def announces_elsewhere(text: str, span: tuple[int, int]) -> bool:
    """True when the sentence at `span` is a prose cue that announces an enumeration its chunk does not hold
    under it: it ends in a colon, says "the following", or counts what it names before a colon ("Four deals
    illustrate the range: …"); and the chunk ends with it or a heading follows it (the next section begins)."""
    line_start = text.rfind("\n", 0, span[0]) + 1
    line_end = text.find("\n", span[1])
    line = text[line_start:len(text) if line_end < 0 else line_end]
    if _BULLET.match(line) or is_heading(line) or line.lstrip().startswith("|") or line[span[1] - line_start:].strip():
        return False
    sentence = text[span[0]:span[1]].rstrip()
    if not (sentence.endswith(":") or _FOLLOWING.search(sentence) or (":" in sentence and announced_count(sentence))):
        return False
    rest = text[span[1]:].lstrip()
    return not rest or is_heading(rest.split("\n", 1)[0])


@dataclass(frozen=True)
class Item:
    """One announced item within a chunk's text: its sentences, under the heading of the section it stands for
    (None for a bullet item)."""

    heading: tuple[int, int] | None
    spans: tuple[tuple[int, int], ...]


def announced_items(texts: list[tuple[str, int]], wanted: int) -> list[tuple[int, Item]]:
    """What a cue announces, read from `texts` (each a chunk's text and the offset to read it from), in order:
    (index of the text, item). When a heading comes first, each section is an item: its heading and first
    sentence, until `wanted` sections or a parent heading; when bullets come first, each bullet until the run
    ends. Anything else first: nothing was announced there."""
    out: list[tuple[int, Item]] = []
    mode, level = "", 0
    for index, (text, start) in enumerate(texts):
        lines = [line for line in _lines(text) if line[0] >= start and text[line[0]:line[1]].strip()]
        for i, line in enumerate(lines):
            raw = text[line[0]:line[1]]
            if not mode:
                mode = "sections" if is_heading(raw) else "bullets" if _BULLET.match(raw) else "none"
                level = heading_level(raw)
            if mode == "none" or (mode == "bullets" and not _BULLET.match(raw)):
                return out
            if mode == "bullets":
                out.append((index, Item(None, tuple(sentence_spans(text, *line)))))
            elif is_heading(raw):
                if heading_level(raw) < level:
                    return out
                body = lines[i + 1] if i + 1 < len(lines) else None
                first = next(sentence_spans(text, *body), None) if body and not is_heading(
                    text[body[0]:body[1]]) else None
                if first is not None:
                    out.append((index, Item(line, (first,))))
            if len(out) >= wanted:
                return out
    return out


def heading_level(line: str) -> int:
    """The number of #s that open a Markdown heading line (0 for any other line)."""
    stripped = line.lstrip()
    return len(stripped) - len(stripped.lstrip("#")) if is_heading(stripped) else 0
