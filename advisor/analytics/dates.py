"""Date phrases in a question -> announced-date ranges (YYYYMMDD), relative phrases resolved against today."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

MONTHS = {name: i for i in range(1, 13) for name in (calendar.month_name[i].lower(), calendar.month_abbr[i].lower())}
MONTHS["sept"] = 9
_MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?:19[89]\d|20[0-3]\d)"
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
            "ten": 10, "twelve": 12, "eighteen": 18, "twenty": 20, "twenty four": 24, "thirty six": 36}
_COUNT = r"(\d{1,2}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
# "early 2024", "mid-2025", "late 2023": a year read in thirds (January–April, May–August, September–December)
PART_OF_YEAR = {"early": (1, 4), "mid": (5, 8), "late": (9, 12)}
_QUALIFIED = rf"(?:(early|mid|late)[\s-]+)?(?:({_MONTH})\s+)?({_YEAR})"


@dataclass(frozen=True)
class DateHit:
    """A date phrase found at text[start:end], meaning announced between lo and hi (inclusive)."""

    start: int
    end: int
    lo: int | None
    hi: int | None
    note: str = ""

    @property
    def whole_year(self) -> int | None:
        """The year when the range is exactly one calendar year, else None."""
        if self.lo and self.hi and self.lo % 10000 == 101 and self.hi % 10000 == 1231 and self.lo // 10000 == \
                self.hi // 10000:
            return self.lo // 10000
        return None


def ymd(day: dt.date) -> int:
    """A date as the integer YYYYMMDD the index stores."""
    return day.year * 10000 + day.month * 100 + day.day


def _month_end(year: int, month: int) -> int:
    return year * 10000 + month * 100 + calendar.monthrange(year, month)[1]


def _years_back(today: dt.date, years: int = 0, months: int = 0) -> dt.date:
    total = today.year * 12 + today.month - 1 - years * 12 - months
    year, month = divmod(total, 12)
    return dt.date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word]


def _span(year: int, month: str | None) -> tuple[int, int]:
    if month:
        m = MONTHS[month.rstrip(".")]
        return year * 10000 + m * 100 + 1, _month_end(year, m)
    return year * 10000 + 101, year * 10000 + 1231


Span = tuple[int | None, int | None, str] | None


def _qualified(part: str | None, month: str | None, year: int) -> tuple[int, int]:
    """The range of "2024", "June 2024" or "mid-2024" (a qualified year is a third of it, see PART_OF_YEAR)."""
    if part and not month:
        first, last = PART_OF_YEAR[part]
        return year * 10000 + first * 100 + 1, _month_end(year, last)
    return _span(year, month)


def _part_notes(*parts: tuple[str | None, str | None, str]) -> str:
    """'“mid-2025” read as May–August 2025' for each (part, month, year) qualified by early/mid/late."""
    notes = []
    for part, month, year in parts:
        if part and not month:
            first, last = PART_OF_YEAR[part]
            notes.append(f"“{part} {year}” read as {calendar.month_name[first]}–{calendar.month_name[last]} {year}")
    return "; ".join(notes)


def _between(m: re.Match[str], today: dt.date) -> Span:
    lo, _ = _qualified(m.group(1), m.group(2), int(m.group(3)))
    _, hi = _qualified(m.group(4), m.group(5), int(m.group(6)))
    note = _part_notes((m.group(1), m.group(2), m.group(3)), (m.group(4), m.group(5), m.group(6)))
    return (lo, hi, note) if lo <= hi else None


def _part_of_year(m: re.Match[str], today: dt.date) -> Span:
    lo, hi = _qualified(m.group(1), None, int(m.group(2)))
    return lo, hi, _part_notes((m.group(1), None, m.group(2)))


def _dash(m: re.Match[str], today: dt.date) -> Span:
    first, second = int(m.group(1)), m.group(2)
    last = int(second) if len(second) == 4 else first // 100 * 100 + int(second)
    return (first * 10000 + 101, last * 10000 + 1231, "") if last >= first else None


def _part(m: re.Match[str], today: dt.date) -> Span:
    kind, year = m.group(1), int(m.group(2))
    months = 3 if kind[0] == "q" else 6
    first = (int(kind[1]) - 1) * months + 1
    return year * 10000 + first * 100 + 1, _month_end(year, first + months - 1), ""


def _part_words(m: re.Match[str], today: dt.date) -> Span:
    index = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}[m.group(1)]
    months = 3 if m.group(2) == "quarter" else 6
    if months == 6 and index > 2:
        return None
    year, first = int(m.group(3)), (index - 1) * months + 1
    return year * 10000 + first * 100 + 1, _month_end(year, first + months - 1), ""


def _open(m: re.Match[str], today: dt.date) -> Span:
    lo, hi = _qualified(m.group(2), m.group(3), int(m.group(4)))
    word, note = m.group(1), _part_notes((m.group(2), m.group(3), m.group(4)))
    if word in ("since", "from"):
        return lo, None, note
    if word == "after":
        return ymd(dt.date(hi // 10000, hi // 100 % 100, hi % 100) + dt.timedelta(days=1)), None, note
    if word == "before":
        return None, ymd(dt.date(lo // 10000, lo // 100 % 100, lo % 100) - dt.timedelta(days=1)), note
    return None, hi, note


def _month(m: re.Match[str], today: dt.date) -> Span:
    lo, hi = _span(int(m.group(2)), m.group(1))
    return lo, hi, ""


def _rolling(m: re.Match[str], today: dt.date) -> Span:
    n = _count(m.group(1))
    start = _years_back(today, years=n) if m.group(2).startswith("year") else _years_back(today, months=n)
    return ymd(start), ymd(today), f"“{m.group(0).strip()}” read as {start.isoformat()} to {today.isoformat()}"


def _past_year(m: re.Match[str], today: dt.date) -> Span:
    start = _years_back(today, years=1)
    return ymd(start), ymd(today), f"“{m.group(0).strip()}” read as {start.isoformat()} to {today.isoformat()}"


def _relative(m: re.Match[str], today: dt.date) -> Span:
    word = m.group(1)
    if word is None:
        return today.year * 10000 + 101, ymd(today), f"“{m.group(0)}” read as {today.year} up to {today.isoformat()}"
    year = today.year - 1 if word in ("last", "previous") else today.year
    return year * 10000 + 101, year * 10000 + 1231, f"“{m.group(0)}” read as {year} (today is {today.isoformat()})"


def _year(m: re.Match[str], today: dt.date) -> Span:
    lo, hi = _span(int(m.group(1)), None)
    return lo, hi, ""


# longest forms first: a year inside "between 2021 and 2023" is not read on its own
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str], dt.date], Span]]] = [
    (re.compile(rf"\b(?:between|from)\s+{_QUALIFIED}\s+(?:and|to|through|till|until|-|–)\s+{_QUALIFIED}\b"),
     _between),
    (re.compile(rf"\b({_YEAR})\s*(?:-|–|to|through)\s*({_YEAR}|\d{{2}})\b"), _dash),
    (re.compile(rf"\b(q[1-4]|h[12])\s*({_YEAR})\b"), _part),
    (re.compile(rf"\b(?:the\s+)?(first|second|third|fourth|1st|2nd|3rd|4th)\s+(quarter|half)\s+(?:of\s+)?"
                rf"({_YEAR})\b"), _part_words),
    (re.compile(rf"\b(since|after|from|before|until|till|through|by)\s+(?:the\s+end\s+of\s+)?{_QUALIFIED}\b"),
     _open),
    (re.compile(rf"\b({_MONTH})\s+({_YEAR})\b"), _month),
    (re.compile(rf"\b(early|mid|late)[\s-]+({_YEAR})\b"), _part_of_year),
    (re.compile(rf"\b(?:in\s+)?(?:the\s+)?(?:last|past|previous|trailing)\s+{_COUNT}\s+(years?|months?)\b"),
     _rolling),
    (re.compile(r"\b(?:in\s+)?(?:the\s+)?(?:past|trailing)\s+(?:year|twelve months)\b"), _past_year),
    (re.compile(r"\b(last|previous|this|current)\s+year\b|\bytd\b|\byear to date\b|\bso far this year\b"),
     _relative),
    (re.compile(rf"\b(?:fy\s?)?({_YEAR})\b"), _year),
]


def find_dates(text: str, today: dt.date) -> list[DateHit]:
    """Every date phrase in lower-cased `text`, longest forms first, non-overlapping, in text order."""
    hits: list[DateHit] = []
    for pattern, handler in _RULES:
        for match in pattern.finditer(text):
            if any(match.start() < h.end and h.start < match.end() for h in hits):
                continue
            span = handler(match, today)
            if span is not None:
                hits.append(DateHit(match.start(), match.end(), *span))
    return sorted(hits, key=lambda h: h.start)
