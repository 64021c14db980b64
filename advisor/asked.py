"""What kind of value a question asks for, and whether an answer states one.

"What upfront did Verdiva pay Sciwind?" asks for money; an answer that only says the two companies
partnered has not answered it, however relevant its sentences are. The advisor uses this to say plainly
that its sources do not give the figure, instead of quoting around the gap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Literal

from advisor.text import STOPWORDS, sentence_spans

Kind = Literal["money", "number", "date", "person"]

_ASKS_MONEY = re.compile(
    r"\b(how much (?:\w+ ){0,6}?(?:pay|paid|cost|worth|spen[dt]|upfront|receiv\w*|raise[sd]?|charg\w*|invest\w*|"
    r"put(?:ting)?|commit\w*)|"
    # "what did BioNTech pay…", "what does a consultation cost…": the verb is the money
    r"what (?:did|does|do|will|would|is|are|was|were) (?:[\w'’-]+ ){1,6}?(?:pay(?:ing)?|cost(?:ing)?|charg\w+|"
    r"spen[dt]\w*|invest\w*)|"
    r"what (?:was|were|is|are) the (?:upfront|up-front|milestones?|financial terms|terms|price|"
    r"valuation|revenues?|sales|fees?)|(?:what|which) (?:[A-Z]{2,5} )?(?:upfront|up-front|price|fee|valuation|"
    r"milestones?)|"
    r"how (?:big|large) (?:was|is) the (?:upfront|payment))\b", re.I)
# money or a measure named without a question form ("What were Akeso's total revenues?"): asked for unless the
# question asks for someone or something ("Which company … to maximise ad revenue?" asks for a company)
# ("pre-revenue biotech" describes the asker: a compound modifier names no value asked)
_NAMES_MONEY = re.compile(r"(?<![\w-])(financial terms|revenues?)\b", re.I)
# ... or "what <noun>" when the noun is no value ("What company is accused of … to maximise ad revenue?")
_ASKS_WHO = re.compile(r"^\s*(?:who|whom|whose|which|what\s+(?!(?:is|are|was|were|did|does|do|has|have|had|will|would|"
                       r"can|could|should|the|a|an|its|their|total|annual|financial)\b)(?![\w-]*(?:revenue|sales)\b)"
                       r"[a-z][\w-]*)\b", re.I)
_ASKS_NUMBER = re.compile(r"\b(how many|what(?:'s|’s| is| are| was| were)? (?:[\w'’-]+ ){0,3}?"
                          r"(?:share|percentage|proportion|rate|hazard ratio|number)\b(?! card))", re.I)
_NAMES_NUMBER = re.compile(r"\b(hazard ratio|response rate)\b", re.I)
# "when did…" asks for a date; "when you scout assets, how…" is a clause of time
_ASKS_DATE = re.compile(r"^\s*when(?:'s|’s|\s+(?:did|does|do|was|were|is|are|will|would|has|have|had|can|could|"
                        r"should|might|may))\b|"
                        r"\b(on what (?:exact )?date|what (?:exact )?date|which date|by what date)\b", re.I)

# "who is the CEO of…", "who took over as president…": a question that asks who holds a role asks for a person
_ROLE = (r"ceo|cfo|cso|cmo|coo|chief (?:executive|financial|scientific|medical|operating|business) officer|"
         r"president|chair(?:man|woman|person)?|founder|head|director|general manager")
_ASKS_PERSON = re.compile(rf"^\W*who(?:'s|’s)?\b[^?]*?\b({_ROLE})\b", re.I)
# a person's name as written: two or three capitalised words ("Leon Wang", "Jean-Luc Martin")
_PERSON = re.compile(r"\b[A-Z][a-z]+(?:[-'’][A-Z][a-z]+)?(?:\s+[A-Z][a-z]+(?:[-'’][A-Z][a-z]+)?){1,2}\b")
_MONTHS = frozenset("january february march april may june july august september october november december "
                    "monday tuesday wednesday thursday friday saturday sunday".split())

# what a question names of the value it asks for: an answer must state a value of *that* kind, in the same
# clause (the money of that kind, the endpoint's figure, the date something takes effect)
_FIELDS: dict[Kind, dict[str, str]] = {
    "money": {"upfront": r"up[- ]?front", "milestone": r"milestone", "price": r"pric(?:e|es|ed|ing)\b",
              "fee": r"\bfees?\b", "revenue": r"revenues?|\bsales\b|turnover", "valuation": r"valu(?:ation|ed)",
              "royalt": r"royalt", "equity": r"\bequit(?:y|ies)\b|\bstakes?\b|\binvest(?:s|ed|ing|ment|ments)?\b"},
    "number": {"overall survival": r"overall survival|\bOS\b",
               "progression-free survival": r"progression[- ]free|\bPFS\b",
               "response rate": r"response rate|\bORR\b"},
    "date": {"takes effect": r"\b(?:take|takes|took|taking) effect|\beffective\b|\bin force\b|"
                             r"\bappl(?:y|ies) from\b"},
}
_ANSWER_FIELD = {name: pattern for fields in _FIELDS.values() for name, pattern in fields.items()}
_FIELD_IN_QUESTION = {kind: {name: re.compile(pattern if name != "revenue" else r"revenues?|\bsales\b", re.I)
                             for name, pattern in fields.items()} for kind, fields in _FIELDS.items()}
# "how many patients…": the count must be of patients (the first plural noun in the next four words)
_COUNTED = re.compile(r"(?i:\bhow many)\s+(?:[\w'-]+\s+){0,3}?([a-z]{3,}s)\b")
# "what royalty rate…": the rate must be of royalties (the word before "rate", "share", "percentage")
_RATE_OF = re.compile(r"\bwhat\b[^?.]{0,40}?\b(?!the\b|its\b|their\b|this\b|that\b)([a-z]{3,})\s+(?:rate|share|"
                      r"percentage|proportion)\b", re.I)
# "100,000" stays one number, and "Typical upfront: $200m" one clause (a colon before a value labels it)
_CLAUSE = re.compile(r"(?:[^,;:()\n]|(?<=\d),(?=\d)|:(?=\s*[$€£¥]?\s?\d))+")
# a defined term right after a value names it: 'entered into as of June 26, 2015 (the "Effective Date")'
_LABELLED = re.compile(r'\s*\(\s*(?:the\s+|this\s+)?["“]([^"”()\n]{1,60})["”]\s*\)', re.I)
_NUMBER_WORDS = r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|thousands?)\b"

_UNITS = r"(?:bn|billion|m|million|k|thousand|trillion)"  # of an amount: "$1.25bn", "400 million"
_YEAR_PATTERN = r"\b(?:19|20)\d\d\b"
_MONEY = re.compile(r"[$€£¥]\s?\d|\b\d[\d,.]*\s?" + _UNITS + r"\b|"
                    r"\b(?:USD|EUR|GBP|JPY|RMB|CNY|yen|yuan|dollars?|euros?)\b", re.I)
# a count or measure: digits that are not a year and not part of a code (BB-1701, HRS9531), or a number word
_NUMBER = re.compile(r"(?<![\w-])(?!" + _YEAR_PATTERN + r")\d[\d,.]*(?![\w-])|" + _NUMBER_WORDS, re.I)
# a drug code: capitals, an optional hyphen, three or more digits ("DB-1303", "HRS9531", "SSGJ-707"); shorter
# ones are mostly targets and diseases (CD19, IL-23, PD-L1, COVID-19)
_CODE = re.compile(r"\b[A-Z]{2,6}-?\d{3,5}[A-Z]?\b")
_YEAR = re.compile(_YEAR_PATTERN)
# a question answered yes or no ("is it true…", "did…", "was…"), an amount stated in one ("$50m", "300 million"),
# and what makes the amount a payment
_YES_NO = re.compile(r"^\W*(?:so,?\s+)?(?:is it (?:true|right|correct)|(?:did|was|were|does|do|has|have|had|is|are)\s)",
                     re.I)
_PAID = re.compile(r"\b(?:pa(?:y|id|ying|yments?)|receiv\w*|upfront|up-front|milestones?|royalt\w*|fees?|"
                   r"price[ds]?|valu(?:ed|ation))\b", re.I)
_AMOUNT = re.compile(r"[$€£¥]\s?\d|\b\d[\d,.]*\s?" + _UNITS + r"\b", re.I)
# a date is stated on the calendar, or counted from an event the text names ("five (5) years after the Effective
# Date", "the third anniversary of signing", "within 60 working days after filing"): when a term ends or a right
# lapses is often written only so
_HOW_MANY = r"(?:\b\d+|" + _NUMBER_WORDS + r"|\bone)\s*(?:\(\d+\)\s*)?"  # "5", "five", "five (5)"
_DATE = re.compile(_YEAR_PATTERN + r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|"
                   r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
                   + _HOW_MANY + r"(?:(?:calendar|business|working)\s+)?"
                   r"(?:days?|weeks?|months?|years?)\s+(?:after|from|following|before|prior to)\b|"
                   r"\banniversary of\b|"
                   # a term's start and its length state its end ("shall begin on the Effective Date and continue
                   # in effect for a period of five (5) years")
                   r"\b(?:commenc|begin|began|start)\w*\b[^.;]{0,120}?\b(?:for|of)\s+(?:a\s+(?:period|term)\s+of\s+)?"
                   + _HOW_MANY + r"(?:months?|years?)\b", re.I)



def years_unmentioned(question: str, texts: Iterable[str]) -> list[str]:
    """The years the question names that none of `texts` mentions: "what will the deal total be in 2028?" over
    sources that stop at 2025 is not answered by their figures for 2024, however near the topic."""
    named = list(dict.fromkeys(_YEAR.findall(question)))
    if not named:
        return []
    held = set().union(*(_YEAR.findall(text) for text in texts))
    return [year for year in named if year not in held]


def asked_kind(question: str) -> Kind | None:
    """The kind of value the question asks for, if it asks for one (money before number before date). A yes-or-no
    question that states an amount ("is it true Verdiva paid about $50m upfront?") asks for that amount too: only
    a source stating it, right or wrong, answers."""
    if _ASKS_MONEY.search(question) or (_NAMES_MONEY.search(question) and not _ASKS_WHO.search(question)) \
            or (_YES_NO.search(question) and _AMOUNT.search(question) and _PAID.search(question)):
        return "money"
    if _ASKS_NUMBER.search(question) or (_NAMES_NUMBER.search(question) and not _ASKS_WHO.search(question)):
        return "number"
    if _ASKS_DATE.search(question):
        return "date"
    if _ASKS_PERSON.search(question):
        return "person"
    return None


def names_person(question: str, text: str, is_other: Callable[[str], bool]) -> bool:
    """Whether `text` answers a question that asks who holds a role (`asked_kind` "person"): a sentence that names
    the role also names a person the question does not. "Who took over as president of AstraZeneca China after
    Leon Wang was detained?" is not answered by the sentence that calls Leon Wang its president. A person is two or
    three capitalised words, none of them a month or a word that opens a sentence, that `is_other` does not take
    for a company or a country."""
    role = _ASKS_PERSON.search(question)
    if role is None:
        return True
    named = {w.lower() for w in re.findall(r"[\w'’-]+", question)}
    wanted = re.compile(rf"\b{re.escape(role.group(1))}", re.I)
    text = re.sub(r"\[\d+(?:,\s*\d+)*\]", "", text)
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        if not wanted.search(sentence):
            continue
        for found in _PERSON.finditer(sentence):
            words = found.group(0).split()
            if not any(w.lower() in named or w.lower() in _MONTHS or w.lower() in STOPWORDS for w in words) \
                    and not is_other(found.group(0)):
                return True
    return False


def asked_fields(question: str, kind: Kind = "money") -> list[str]:
    """What the question names of the value it asks for: kinds of money (upfront, milestone, price, fee, revenue,
    valuation, royalty, equity), an endpoint (overall survival…), what is counted ("count:patient"), what a rate is of
    ("of:royalt" for "what royalty rate…"), "takes effect"."""
    fields = [name for name, pattern in _FIELD_IN_QUESTION[kind].items() if pattern.search(question)]
    counted = _COUNTED.search(question) if kind == "number" else None
    if counted:
        noun = counted.group(1).lower()
        fields.append("count:" + (noun[:-3] if noun.endswith("ies") else noun[:-1]))
    rate = _RATE_OF.search(question) if kind == "number" and not fields else None
    if rate:
        word = rate.group(1).lower()
        fields.append("of:" + (word if len(word) <= 4 else word[:-1]))  # "royalt" reads royalty and royalties
    return fields


def _field_pattern(name: str) -> str:
    if name.startswith("count:"):  # the number counts the thing: "398 patients", "11 further Hengrui programmes"
        return rf"(?:{_NUMBER.pattern})(?:\s+[\w'-]+){{0,3}}?\s+{re.escape(name.removeprefix('count:'))}"
    if name.startswith("of:"):  # the clause names what the rate is of
        return rf"\b{re.escape(name.removeprefix('of:'))}"
    return _ANSWER_FIELD[name]


def asset_codes(text: str) -> set[str]:
    """Drug codes as written: 'BB-1701', 'HRS9531' (not fiscal years like FY2026)."""
    return {c for c in _CODE.findall(text) if not re.fullmatch(r"FY-?\d{4}", c)}


def subject_of(question: str, companies_in: Callable[[str], set[str]]) -> Callable[[str], bool] | None:
    """Whether a sentence is about what the question names (its companies, its drug codes); None when the
    question names neither.

    "What upfront did Eisai pay Bliss for BB-1701?" is not answered by another deal's upfront quoted nearby:
    a sentence counts when it names the question's drug code or, naming no other drug code, the question's
    companies: all of them, or (when the question names no drug code) some and no other company (`companies_in`
    finds the companies a text names).
    """
    companies, codes = companies_in(question), asset_codes(question)
    if not companies and not codes:
        return None

    def about(sentence: str) -> bool:
        theirs = asset_codes(sentence)
        if codes and theirs & codes:
            return True
        if theirs and (codes or not companies):
            return False  # another drug's figures
        named = companies_in(sentence)
        if codes:  # the question names its drug: without the code, only a sentence naming every party is about it
            return bool(companies) and companies <= named
        # one of the question's companies, with no other (another deal of theirs), or all of them
        return bool(named & companies) and (named <= companies or companies <= named)
    return about


def _ends_with(pattern: re.Pattern[str], text: str) -> bool:
    """Whether `text` ends with a value `pattern` finds (its last clause, closing punctuation aside)."""
    clauses = _CLAUSE.findall(text.rstrip(" ,;:"))
    last = clauses[-1] if clauses else ""
    found = list(pattern.finditer(last))
    return bool(found) and re.fullmatch(r"[\d,.]*\s?" + _UNITS + r"?\W*", last[found[-1].end():], re.I) is not None


def states(kind: Kind, text: str, fields: list[str] | None = None,
           about: Callable[[str], bool] | None = None) -> bool:
    """Whether `text` states a value of that kind (not whether it is the right one).

    With `fields` (`asked_fields`), the value must sit in the same clause as one of them: "upfront $50m,
    milestones not reported" states an upfront but no milestones; "voted 14 to 1" is no count of patients.
    With `about`, only sentences it accepts count.
    """
    pattern = {"money": _MONEY, "number": _NUMBER, "date": _DATE}[kind]
    text = re.sub(r"\[\d+\]", "", text)
    named = re.compile("|".join(_field_pattern(f) for f in fields), re.I) if fields else None
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        stated = pattern.search(sentence) if named is None else \
            any(pattern.search(c) and named.search(c) for c in _CLAUSE.findall(sentence)) or \
            any(named.search(m.group(1)) and _ends_with(pattern, sentence[:m.start()].rsplit("(", 1)[-1])
                for m in _LABELLED.finditer(sentence))
        if stated and (about is None or about(sentence)):  # the value first: `about` is the dearer test
            return True
    return False
