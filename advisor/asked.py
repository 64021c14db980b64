"""What kind of value a question asks for, and whether an answer states one.

"What upfront did Verdiva pay Sciwind?" asks for money; an answer that only says the two companies
partnered has not answered it, however relevant its sentences are. The advisor uses this to say plainly
that its sources do not give the figure, instead of quoting around the gap.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["money", "number", "date"]

_ASKS_MONEY = re.compile(
    r"\b(how much (?:\w+ ){0,6}?(?:pay|paid|cost|worth|spen[dt]|upfront|receiv\w*|raise[sd]?)|"
    r"what (?:was|were|is|are) the (?:upfront|up-front|milestones?|financial terms|terms|price|"
    r"valuation|revenues?|sales|fees?)|(?:what|which) (?:upfront|up-front|price|fee|valuation|milestones?)|"
    r"financial terms|revenues?|how (?:big|large) (?:was|is) the (?:upfront|payment))\b", re.I)
_ASKS_NUMBER = re.compile(r"\b(how many|what (?:share|percentage|proportion|rate|hazard ratio|number)|"
                          r"hazard ratio|response rate)\b", re.I)
_ASKS_DATE = re.compile(r"^\s*when\b|\b(on what (?:exact )?date|what (?:exact )?date|which date|by what date)\b",
                        re.I)

_MONEY = re.compile(r"[$€£¥]\s?\d|\b\d[\d,.]*\s?(?:bn|billion|m|million|k|thousand|trillion)\b|"
                    r"\b(?:USD|EUR|GBP|JPY|RMB|CNY|yen|yuan)\b", re.I)
_NUMBER = re.compile(r"\d")
_DATE = re.compile(r"\b(?:19|20)\d\d\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|"
                   r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.I)


def asked_kind(question: str) -> Kind | None:
    """The kind of value the question asks for, if it asks for one (money before number before date)."""
    if _ASKS_MONEY.search(question):
        return "money"
    if _ASKS_NUMBER.search(question):
        return "number"
    if _ASKS_DATE.search(question):
        return "date"
    return None


def states(kind: Kind, text: str) -> bool:
    """Whether `text` states any value of that kind (not whether it is the right one)."""
    pattern = {"money": _MONEY, "number": _NUMBER, "date": _DATE}[kind]
    return pattern.search(re.sub(r"\[\d+\]", "", text)) is not None
