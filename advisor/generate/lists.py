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
            blocks.append(ListBlock(_cue(text, lines, i), tuple(tuple(sentence_spans(text, *line))
                                                                 for line in lines[i:j])))
        i = j
    return blocks


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
