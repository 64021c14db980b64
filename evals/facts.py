"""Required facts in an answer: numbers compared as numbers, dates as dates, names as normalised text.

A fact is one of the strings in a question's `required_facts` ("$1.4bn", "28%", "1–5%", "11 December 2025",
"eight years", "WuXi AppTec"). It is *present* in an answer when the answer states the same thing, however it
is written:

- money: "$1.4bn" == "$1,400m" == "US$1.4 billion" == "USD 1,400m"; the currency must agree when both sides
  name one ("EUR 4,200" is not "$4,200");
- percentages: "28%" == "28 per cent"; plain numbers and counts: "306" == "306 votes", "eight" == "8";
- ranges ("1–5%", "12 to 18 months", "14 to 1"): both ends must appear;
- a value written with less precision matches when it rounds the same ("$1.2bn" states $1,207m; "$6bn" does
  not state "$6.9bn");
- dates: "11 December 2025" == "December 11, 2025" == "2025-12-11"; a month ("October 2025") is stated by any
  date in that month;
- anything else is text, matched case-insensitively on word boundaries after normalising dashes, quotes,
  "&" and whitespace ("Merck" does not match inside "Merckle"; "Entity List" does match inside
  "Unreliable Entity List", as the words are there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

_SCALE = {"bn": Decimal(10) ** 9, "billion": Decimal(10) ** 9, "b": Decimal(10) ** 9,
          "m": Decimal(10) ** 6, "mn": Decimal(10) ** 6, "million": Decimal(10) ** 6,
          "k": Decimal(10) ** 3, "thousand": Decimal(10) ** 3, "trillion": Decimal(10) ** 12, "tn": Decimal(10) ** 12}
_CURRENCY = {"$": "USD", "us$": "USD", "usd": "USD", "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP",
             "¥": "JPY", "jpy": "JPY", "rmb": "CNY", "cny": "CNY", "yuan": "CNY"}
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9

_CUR = r"(?P<cur>us\$|\$|€|£|¥|usd|eur|gbp|jpy|rmb|cny)?\s?"
_NUM = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len,
                                                                                 reverse=True)) + r")"
_UNIT = (r"(?:\s?(?P<pct>%|per\s?cent|percent)|\s?(?P<scale>bn|billion|trillion|tn|mn|million|thousand|m|b|k)"
         r"(?![a-z]))?")
_QUANTITY = re.compile(r"(?<![\w.,$€£¥])(?<![A-Za-z]-)" + _CUR + _NUM + _UNIT + r"(?![\w])", re.I)
_RANGE_JOIN = re.compile(r"^\s*(?:–|—|-|to|and)\s*$", re.I)
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})\s+([a-z]{3,9})\.?,?\s+(\d{4})\b", re.I)
_MONTH_DAY_YEAR = re.compile(r"\b([a-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})\b", re.I)
_MONTH_YEAR = re.compile(r"\b([a-z]{3,9})\.?\s+(\d{4})\b", re.I)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


@dataclass(frozen=True)
class Quantity:
    """A number as stated: its value, kind (money, percent, number), currency, and rounding tolerance."""

    value: Decimal
    kind: str
    currency: str | None = None
    tolerance: Decimal = Decimal(0)
    start: int = 0
    end: int = 0
    bare: bool = False  # written without a scale or percent sign ("1" in "1–5%", "$1" in "$1-2bn")

    def states(self, wanted: Quantity) -> bool:
        """Does this stated quantity say `wanted`? Its own rounding (and 0.5% for a rounded gold) is allowed."""
        if self.kind != wanted.kind:
            return False
        if self.currency and wanted.currency and self.currency != wanted.currency:
            return False
        diff = abs(self.value - wanted.value)
        return diff == 0 or diff < max(self.tolerance, Decimal("0.005") * abs(wanted.value))


def _decimal(raw: str) -> tuple[Decimal, Decimal]:
    """(value, half a unit of its last written digit)."""
    word = _NUMBER_WORDS.get(raw.lower())
    if word is not None:
        return Decimal(word), Decimal("0.5")
    digits = raw.replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return Decimal(digits), Decimal("0.5") * Decimal(10) ** -decimals


def quantities(text: str) -> list[Quantity]:
    """Every number in a text with its unit; ranges ("1–5%", "$1-2bn") share the unit of their last end."""
    found: list[Quantity] = []
    text = _ISO.sub(lambda m: m.group(1) + " " * 6, text)  # 2025-06-13 is a year here, not 6 and 13
    for match in _QUANTITY.finditer(text):
        value, half = _decimal(match.group("num"))
        currency = _CURRENCY.get((match.group("cur") or "").lower())
        scale = (match.group("scale") or "").lower()
        is_word = match.group("num").lower() in _NUMBER_WORDS
        if is_word and (currency or scale):
            continue  # "one m..." is not money
        if match.group("pct"):
            kind = "percent"
        elif currency or scale in ("bn", "billion", "trillion", "tn", "mn", "million", "m"):
            kind = "money"
        else:
            kind = "number"
        if scale in ("b", "k") and not currency:
            continue  # "3b" or "5k" alone are too ambiguous to be money
        if kind == "money":
            factor = _SCALE.get(scale, Decimal(1))
            value, half = value * factor, half * factor
        bare = not scale and not match.group("pct")
        found.append(Quantity(value, kind, currency, half, match.start(), match.end(), bare))
    return _spread_range_units(text, found)


def _spread_range_units(text: str, found: list[Quantity]) -> list[Quantity]:
    """In "1–5%" or "$1-2bn" the first end is written bare; give it the unit of the second."""
    out = list(found)
    for i in range(len(found) - 1):
        a, b = found[i], found[i + 1]
        if a.bare and not b.bare and _RANGE_JOIN.match(text[a.end:b.start]):
            if b.kind == "money":
                written = _decimal_of(text, b)
                factor = b.value / written if written else Decimal(1)
                out[i] = Quantity(a.value * factor, "money", a.currency or b.currency, a.tolerance * factor,
                                  a.start, a.end)
            else:
                out[i] = Quantity(a.value, b.kind, b.currency, a.tolerance, a.start, a.end)
    return out


def _decimal_of(text: str, q: Quantity) -> Decimal:
    match = _QUANTITY.match(text, q.start)
    return _decimal(match.group("num"))[0] if match else Decimal(0)


def dates(text: str) -> set[tuple[int, int, int]]:
    """Dates as (year, month, day); day 0 for a month without a day."""
    out: set[tuple[int, int, int]] = set()
    for d, mon, y in _DAY_MONTH_YEAR.findall(text):
        if mon.lower() in _MONTHS and 1 <= int(d) <= 31:
            out.add((int(y), _MONTHS[mon.lower()], int(d)))
    for mon, d, y in _MONTH_DAY_YEAR.findall(text):
        if mon.lower() in _MONTHS and 1 <= int(d) <= 31:
            out.add((int(y), _MONTHS[mon.lower()], int(d)))
    for mon, y in _MONTH_YEAR.findall(text):
        if mon.lower() in _MONTHS:
            out.add((int(y), _MONTHS[mon.lower()], 0))
    for y, mo, d in _ISO.findall(text):
        if 1 <= int(mo) <= 12:
            out.add((int(y), int(mo), int(d)))
    return out | {(y, m, 0) for y, m, _ in out}


def normalise(text: str) -> str:
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[‐‑‒–—−]", "-", text)
    text = re.sub(r"[’‘`]", "'", text)
    text = re.sub(r"[“”]", '"', text)
    return re.sub(r"\s+", " ", text).strip()


def _is_quantity_fact(fact: str) -> list[Quantity] | None:
    """The quantities a fact consists of, when it is nothing but numbers, units and a unit word or two."""
    found = quantities(fact)
    if not found:
        return None
    rest = fact
    for q in sorted(found, key=lambda q: q.start, reverse=True):
        rest = rest[:q.start] + " " + rest[q.end:]
    leftover = [w for w in re.findall(r"[a-z]+", rest.lower()) if w not in ("to", "and")]
    # "12 months", "20 business days", "eight years": the number is the fact, the unit word must appear too;
    # a capitalised word ("H.R. 8333", "Claudin 18.2") makes it a name
    if len(leftover) > 2 or re.search(r"[A-Z]", rest):
        return None
    return found


@dataclass(frozen=True)
class FactCheck:
    fact: str
    found: bool
    kind: str


def fact_present(fact: str, answer: str) -> FactCheck:
    """Is a required fact stated in the answer text (see the module docstring for the rules)?"""
    fact_dates = dates(fact)
    if fact_dates and re.fullmatch(r"[\w\s,.-]+", fact) and not quantities(_strip_dates(fact)):
        stated_dates = dates(answer)
        wanted_dates = {d for d in fact_dates if d[2]} or fact_dates
        hit = all(d in stated_dates for d in wanted_dates)
        return FactCheck(fact, hit, "date")
    wanted = _is_quantity_fact(fact)
    if wanted is not None:
        stated = quantities(answer)
        hit = all(any(s.states(w) for s in stated) for w in wanted)
        unit_words = _unit_words(fact, wanted)
        if hit and unit_words:
            norm = normalise(answer)
            hit = all(re.search(rf"\b{re.escape(w[:-1] if w.endswith('s') else w)}", norm) for w in unit_words)
        return FactCheck(fact, hit, wanted[-1].kind if len(wanted) == 1 else f"{wanted[-1].kind} range")
    pattern = r"(?<![a-z0-9])" + re.escape(normalise(fact)).replace(r"\ ", r"[\s-]?") + r"(?![a-z0-9])"
    return FactCheck(fact, bool(re.search(pattern, normalise(answer))), "text")


def _strip_dates(text: str) -> str:
    for pattern in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR, _MONTH_YEAR, _ISO):
        text = pattern.sub(" ", text)
    return text


def _unit_words(fact: str, found: list[Quantity]) -> list[str]:
    rest = fact
    for q in sorted(found, key=lambda q: q.start, reverse=True):
        rest = rest[:q.start] + " " + rest[q.end:]
    return [w for w in re.findall(r"[a-z]+", rest.lower()) if w not in ("to", "and", "per", "cent", "percent")]


def facts_present(facts: list[str], answer: str) -> list[FactCheck]:
    return [fact_present(f, answer) for f in facts]
