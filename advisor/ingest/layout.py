"""Text as a page lays it out (a PDF page as pypdf reads it, a hard-wrapped text file): the lines printed on every
page, lines wrapped at the margin, and tables of figures whose columns survive only as spacing."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from advisor.text import is_heading

# a list item: a bullet or a number, then a space
LIST_ITEM = re.compile(r"\s*(?:[-*+•]|\d+[.)])\s")


def continues(prev: str, line: str) -> bool:
    """Whether `line` goes on with the sentence `prev` ends: `prev` has no closing punctuation, and `line` starts in
    lower case or `prev` is long (it ran to the margin); a list item, a table row or a heading never continues, nor
    is continued."""
    return bool(prev) and not re.search(r"[.:!?;)|]$", prev) and not is_heading(prev) \
        and (line.lstrip()[:1].islower() or len(prev) > 60) and not LIST_ITEM.match(line) \
        and not line.lstrip().startswith("|") and not is_heading(line)


@dataclass(frozen=True)
class Run:
    """A run of text as a PDF prints it: its font's name and its size in points."""

    text: str
    font: str
    size: float


_WEIGHT = re.compile(r"bold|black|heavy|semibold|demi", re.I)


def heading_levels(runs: list[Run]) -> dict[str, int]:
    """The document's headings, told by type: lines printed larger than its body text, or in bold at its size, that
    read as a title (at most 12 words, no closing comma, colon or full stop, not a row of figures); a heading that
    wraps is its lines joined (the lines after the first map to 0). Each larger size is a lower level number; a size
    used by one heading only, the largest, is the document's title ("#"), the others "##" to "####"; bold at body
    size is the lowest."""
    sizes: Counter[float] = Counter()
    for run in runs:
        sizes[round(run.size * 2) / 2] += len(run.text)
    if not sizes:
        return {}
    body = sizes.most_common(1)[0][0]
    heads: list[tuple[list[str], float]] = []  # each heading's lines, and its size
    previous: Run | None = None
    for run in runs:
        line = " ".join(run.text.split())
        size = round(run.size * 2) / 2
        larger, bold = size >= body + 1, size >= body and bool(_WEIGHT.search(run.font))
        if not (larger or bold) or not re.search(r"[A-Za-z]", line) or _row(line) is not None:
            previous = None
            continue
        if previous is not None and (previous.font, previous.size) == (run.font, run.size) \
                and not re.search(r"[.:;]$", heads[-1][0][-1]):
            heads[-1][0].append(line)  # the heading wraps onto this line
        else:
            heads.append(([line], size if larger else body))
        previous = run
    heads = [(lines, size) for lines, size in heads
             if len(" ".join(lines).split()) <= 12 and not re.search(r"[.,;:]$", lines[-1])]
    ranks = sorted({size for _, size in heads}, reverse=True)
    title = len(ranks) > 1 and sum(size == ranks[0] for _, size in heads) == 1
    out: dict[str, int] = {}
    for lines, size in heads:
        rank = ranks.index(size)
        out.setdefault(lines[0], 1 if title and rank == 0 else 2 + min(rank - title, 2))
        for line in lines[1:]:
            out.setdefault(line, 0)
    return out


def mark_headings(page: str, levels: dict[str, int]) -> str:
    """The page with each line that is a heading (`heading_levels`) written as a Markdown heading."""
    if not levels:
        return page
    out: list[str] = []
    for line in page.splitlines():
        level = levels.get(" ".join(line.split()))
        if level == 0 and out and out[-1].startswith("#"):
            out[-1] += " " + line.strip()  # a heading's wrapped line
        else:
            out.append(f"{'#' * level} {line.strip()}" if level else line)
    return "\n".join(out)


def page_furniture(pages: list[str]) -> set[str]:
    """What a paged document prints at the top or bottom of most pages: running headers, footers, page numbers.
    Lines are compared with their digits masked ("Page 3 of 9" and "Page 4 of 9" are one line); a line counts when it
    is short (furniture is: at most 12 words) and among the first or last two lines of at least half the pages, and
    of two pages at least."""
    seen: dict[str, int] = {}
    for page in pages:
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        for key in {_furniture_key(line) for line in lines[:2] + lines[-2:] if len(line.split()) <= 12}:
            seen[key] = seen.get(key, 0) + 1
    needed = max(2, (len(pages) + 1) // 2)
    return {key for key, count in seen.items() if count >= needed}


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split())).lower()


def without_furniture(page: str, furniture: set[str]) -> str:
    """The page without the furniture lines at its top and bottom (a line like them inside the text stays)."""
    lines = page.splitlines()
    for edge in (0, -1):
        for _ in range(2):
            while lines and not lines[edge].strip():
                lines.pop(edge)
            if lines and _furniture_key(lines[edge]) in furniture:
                lines.pop(edge)
    return "\n".join(lines)


def unwrap_lines(page_text: str) -> str:
    """Plain text as laid out in lines (a PDF page as pypdf gives it, a hard-wrapped text file): join the wrapped
    ones so sentences survive. A line continues the one before when that one ends without punctuation and this one
    starts in lower case, or the one before is long (it ran to the margin); a list item starts a line of its own, and
    a table of figures becomes a Markdown table (`tabulate`). A word hyphenated at the margin is made whole
    ("licens-" + "ing"), unless the text writes it with its hyphen elsewhere ("co-owned") or it is already a
    compound ("first-in-")."""
    out: list[str] = []
    words = set(re.findall(r"[a-z][a-z-]*[a-z]", page_text.lower()))
    for line in tabulate(page_text.splitlines()):
        line = line.rstrip()
        if not line.strip():
            if out and out[-1] != "":
                out.append("")
            continue
        prev = out[-1] if out else ""
        if is_heading(line) and prev:
            out.append("")  # a heading starts a block of its own
            prev = ""
        if continues(prev, line):
            out[-1] = _rejoined(prev, line.strip(), words)
        else:
            if prev and (is_heading(prev) or not re.search(r"[.:!?;)|]$", prev) and len(prev) <= 60
                         and not (LIST_ITEM.match(prev) or LIST_ITEM.match(line))):
                out.append("")  # a short unpunctuated line is a heading: give it its own block
            out.append(line.strip())
    return "\n".join(out).strip()


def _rejoined(prev: str, line: str, words: set[str]) -> str:
    """`prev` and the line that continues it, as one line (see `unwrap_lines` for a word split at the margin)."""
    broken = re.search(r"([A-Za-z][A-Za-z-]*)-$", prev)
    rest = re.match(r"[a-z]+", line)
    if broken is None or rest is None:
        return f"{prev} {line}"
    head, tail = broken.group(1), rest.group(0)
    hyphenated = "-" in head or (f"{head}-{tail}".lower() in words and (head + tail).lower() not in words)
    return prev + line if hyphenated else prev[:-1] + line


# a table cell: a figure (a currency sign, a thousands separator, decimals, a percentage, a negative in brackets) or
# a dash for none
_CELL = re.compile(r"\(?[-+]?[$€£¥]?\d[\d,]*(?:\.\d+)?%?\)?|[-–—]")
# a column heading of a table of figures: a year or a fiscal year ("2024", "FY2024")
_PERIOD = re.compile(r"(?:FY)?(?:19|20)\d\d")


def _row(line: str) -> tuple[str, list[str]] | None:
    """A line read as a table row: its label and the figures it ends with (at least two); None if it is not one."""
    words = re.sub(r"([$€£¥])\s+(?=\d)", r"\1", line).split()
    cells: list[str] = []
    while words and _CELL.fullmatch(words[-1]):
        cells.insert(0, words.pop())
    if len(cells) < 2 or (words and re.search(r"[.!?;:]$", words[-1])):
        return None
    return " ".join(words), cells


def _wrapped_row(lines: list[str], at: int) -> tuple[tuple[str, list[str]], int] | None:
    """A label wrapped over up to three short lines from `at`, then its figures alone on the next line: one row,
    and how many lines it took."""
    label: list[str] = []
    for line in lines[at:at + 4]:
        row = _row(line)
        if row is not None:
            return ((" ".join(label), row[1]), len(label) + 1) if label and not row[0] else None
        if not line.strip() or len(line.split()) > 8 or re.search(r"[.!?;:]$", line.strip()):
            return None
        label.append(line.strip())
    return None


def tabulate(lines: list[str]) -> list[str]:
    """Runs of lines that are a table of figures under a row of periods ("2024 2023 2022", "FY2025 FY2024"), as a
    Markdown table, so each figure is read with its row's label and its column's period; everything else as it was.

    A row is a label followed by at least two figures; a label alone on its line followed by a line of figures
    alone (a wrapped label) is one row. The table runs while rows have as many figures as the header has periods.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        head = _row(lines[i])
        if head is None or not all(_PERIOD.fullmatch(c) for c in head[1]):
            out.append(lines[i])
            i += 1
            continue
        width, rows, j = len(head[1]), [], i + 1
        while j < len(lines):
            row, taken = _row(lines[j]), 1
            if row is None:
                row, taken = _wrapped_row(lines, j) or (None, 1)
            if row is None or len(row[1]) != width:
                break
            rows.append(row)
            j += taken
        if not rows:
            out.append(lines[i])
            i += 1
            continue
        out.append("")
        out.append("| " + " | ".join([head[0], *head[1]]) + " |")
        out.append("|" + "---|" * (width + 1))
        out.extend("| " + " | ".join([label, *cells]) + " |" for label, cells in rows)
        out.append("")
        i = j
    return out
