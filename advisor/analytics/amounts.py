"""Money phrases ("over $1bn", "at least $500m upfront") and ranking phrases ("top 5", "three largest")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.analytics.query import ValueRange

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "twenty five": 25, "fifty": 50}
_N = r"(\d{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
_MONEY = (r"(?:us\s?\$|usd\s?|\$)\s?(\d[\d,]*(?:\.\d+)?)\s?(bn|billion|b|mn|mm|m|million|k|thousand)?\b"
          r"|(\d[\d,]*(?:\.\d+)?)\s?(bn|billion|mn|m|million)\b")
_MEASURE_WORDS = r"(upfronts?|up front|milestones?|total deal value|total value|deal value|value|worth|valued at|total)"
_BEFORE = {
    "over": "gt", "above": "gt", "more than": "gt", "greater than": "gt", "exceeding": "gt", "exceeded": "gt",
    "exceed": "gt", "exceeds": "gt", "in excess of": "gt", "upwards of": "gt", "bigger than": "gt",
    "larger than": "gt", "higher than": "gt", "at least": "gte", "no less than": "gte", "minimum of": "gte",
    "a minimum of": "gte", ">=": "gte", "≥": "gte", ">": "gt", "under": "lt", "below": "lt", "less than": "lt",
    "lower than": "lt", "smaller than": "lt", "at most": "lte", "no more than": "lte", "<=": "lte", "≤": "lte",
    "<": "lt",
}
_AFTER = {"+": "gte", "or more": "gte", "and above": "gte", "or above": "gte", "plus": "gte", "and up": "gte",
          "or higher": "gte", "or less": "lte", "and below": "lte", "or below": "lte", "or lower": "lte"}
_BEFORE_RE = "|".join(re.escape(k) for k in sorted(_BEFORE, key=len, reverse=True))
_AFTER_RE = "|".join(re.escape(k) for k in sorted(_AFTER, key=len, reverse=True))
_LEAD = rf"(?:{_MEASURE_WORDS}\s+(?:payments?\s+)?(?:of\s+|was\s+|were\s+|is\s+|are\s+)?)?"
_TAIL = rf"(?:\s+(?:in\s+|of\s+)?{_MEASURE_WORDS})?"
_THRESHOLD = re.compile(rf"{_LEAD}({_BEFORE_RE})\s*(?:{_MONEY}){_TAIL}")
_SUFFIXED = re.compile(rf"{_LEAD}(?:{_MONEY})\s*({_AFTER_RE})(?!\w){_TAIL}")
_BETWEEN = re.compile(rf"{_LEAD}between\s+(?:{_MONEY})\s+and\s+(?:{_MONEY}){_TAIL}")
_BILLION_DOLLAR = re.compile(r"\b(billion|multi[- ]billion)[- ]dollar\b")
_MEASURE_OF = {"upfront": "upfront", "upfronts": "upfront", "up front": "upfront", "milestone": "milestones",
               "milestones": "milestones"}


@dataclass(frozen=True)
class Found:
    """Something found at text[start:end]."""

    start: int
    end: int


@dataclass(frozen=True)
class Threshold(Found):
    """Value ranges a phrase sets ('between $100m and $500m' sets two)."""

    ranges: tuple[ValueRange, ...]


@dataclass(frozen=True)
class TopN(Found):
    """A ranking phrase: how many rows, largest or smallest first."""

    n: int
    order: str  # "desc" | "asc"


def millions(number: str, unit: str | None) -> float:
    """'1.5', 'bn' -> 1500.0; a bare number is read as USD millions, the unit of the deal records."""
    value = float(number.replace(",", ""))
    unit = (unit or "m").lower()
    if unit in ("bn", "billion", "b"):
        return value * 1000
    if unit in ("k", "thousand"):
        return value / 1000
    return value


def _measure(*words: str | None) -> str:
    for word in words:
        if word:
            return _MEASURE_OF.get(word, "total")
    return "total"


def _money(groups: tuple[str | None, ...]) -> float:
    number, unit, bare, bare_unit = groups
    return millions(number, unit) if number else millions(bare or "0", bare_unit)


def _range(measure: str, comparator: str, amount: float) -> ValueRange:
    return ValueRange.model_validate({"measure": measure, "comparator": comparator, "amount": amount})


def find_thresholds(text: str) -> list[Threshold]:
    """Value thresholds in lower-cased text; each names its money field (total unless upfront/milestones said)."""
    out: list[Threshold] = []

    def free(m: re.Match[str]) -> bool:
        return all(m.end() <= t.start or m.start() >= t.end for t in out)

    for m in _BETWEEN.finditer(text):
        g = m.groups()
        measure = _measure(g[0], g[9])
        low, high = sorted((_money(g[1:5]), _money(g[5:9])))
        out.append(Threshold(m.start(), m.end(), (_range(measure, "gte", low), _range(measure, "lte", high))))
    for m in _THRESHOLD.finditer(text):
        g = m.groups()
        if free(m):
            out.append(Threshold(m.start(), m.end(), (_range(_measure(g[0], g[6]), _BEFORE[g[1]], _money(g[2:6])),)))
    for m in _SUFFIXED.finditer(text):
        g = m.groups()
        if free(m):
            out.append(Threshold(m.start(), m.end(), (_range(_measure(g[0], g[6]), _AFTER[g[5]], _money(g[1:5])),)))
    for m in _BILLION_DOLLAR.finditer(text):
        if free(m):
            out.append(Threshold(m.start(), m.end(), (_range("total", "gte", 1000.0),)))
    return sorted(out, key=lambda t: t.start)


_SUPERLATIVE = r"(largest|biggest|highest|most valuable|richest|priciest|smallest|lowest|cheapest|least valuable)"
_TOP = [
    re.compile(rf"\btop[- ]{_N}\b"),
    re.compile(rf"\b{_N}\s+{_SUPERLATIVE}\b"),
    re.compile(rf"\b{_SUPERLATIVE}\s+{_N}\b(?!\s*(?:m|bn|million|billion)\b)"),
    re.compile(rf"\bbottom[- ]{_N}\b"),
]


def find_top_n(text: str) -> TopN | None:
    """'top 5', 'five largest', 'largest 3', 'bottom 3' in lower-cased text."""
    for index, pattern in enumerate(_TOP):
        m = pattern.search(text)
        if not m:
            continue
        words = [g for g in m.groups() if g]
        number = next(w for w in words if w.isdigit() or w in NUMBER_WORDS)
        n = int(number) if number.isdigit() else NUMBER_WORDS[number]
        low = index == 3 or any(w in ("smallest", "lowest", "cheapest", "least valuable") for w in words)
        if 1 <= n <= 100:
            return TopN(m.start(), m.end(), n, "asc" if low else "desc")
    return None
