"""Text as a page lays it out (a PDF page as pypdf reads it, a hard-wrapped text file): the lines printed on every
page, lines wrapped at the margin, and tables of figures whose columns survive only as spacing."""

from __future__ import annotations

import re

# a list item: a bullet or a number, then a space
LIST_ITEM = re.compile(r"\s*(?:[-*+•]|\d+[.)])\s")


def continues(prev: str, line: str) -> bool:
    """Whether `line` goes on with the sentence `prev` ends: `prev` has no closing punctuation, and `line` starts in
    lower case or `prev` is long (it ran to the margin); a list item or a table row never continues, nor is
    continued."""
    return bool(prev) and not re.search(r"[.:!?;)|]$", prev) \
        and (line.lstrip()[:1].islower() or len(prev) > 60) and not LIST_ITEM.match(line) \
        and not line.lstrip().startswith("|")


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
    a table of figures becomes a Markdown table (`tabulate`)."""
    out: list[str] = []
    for line in tabulate(page_text.splitlines()):
        line = line.rstrip()
        if not line.strip():
            if out and out[-1] != "":
                out.append("")
            continue
        prev = out[-1] if out else ""
        if continues(prev, line):
            out[-1] = prev + " " + line.strip()
        else:
            if prev and not re.search(r"[.:!?;)|]$", prev) and len(prev) <= 60 \
                    and not (LIST_ITEM.match(prev) or LIST_ITEM.match(line)):
                out.append("")  # a short unpunctuated line is a heading: give it its own block
            out.append(line.strip())
    return "\n".join(out).strip()


# a table cell: a figure (a currency sign, a thousands separator, decimals, a percentage, a negative in brackets) or
# a dash for none
_CELL = re.compile(r"\(?[-+]?[$€£¥]?\d[\d,]*(?:\.\d+)?%?\)?|[-–—]")
# a column heading of a table of figures: a year, a fiscal year or a quarter
_PERIOD = re.compile(r"(?:FY|Q[1-4])?(?:19|20)\d\d")


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
