"""Question -> DealQuery, by rules and vocabularies (no model): None when the question is not analytic."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from advisor.analytics import vocab
from advisor.analytics.amounts import find_thresholds, find_top_n
from advisor.analytics.companies import Companies
from advisor.analytics.dates import DateHit, find_dates
from advisor.analytics.mentions import GENERIC, Mention, PhraseTable, Token, assign_roles, tokenize
from advisor.analytics.query import CompareGroup, DealFilters, DealQuery, Side, ValueRange
from advisor.text import QUESTION_WORDS, STOPWORDS

log = logging.getLogger(__name__)

# measures the deal records do not hold (shares, funding rounds, revenue, royalty rates, equity): never computed
_UNSUPPORTED = re.compile(r"\b(share|percentage|proportion|percent|ratio|funding|financing|rais(?:e|ed|ing)|ipos?|"
                          r"venture|valuations?|revenues?|sales|market caps?|royalt\w*|equity|stakes?)\b")
# asks for reasons, advice, forecasts or explanation: the articles' work; the records may add a figure to it
_REASONING = re.compile(r"\b(why|should|avoid|risks?|advice|advise|recommend\w*|lessons?|best practices?|"
                        r"forecast\w*|predict\w*|expect\w*|will|drove|drivers?|driven|caused?|reasons?|pros|cons|"
                        r"trade-?offs?|benefits?|downsides?|drawbacks?|upsides?|worth it|smartest|explain\w*|"
                        r"difference between|what(?:'s| is) an? |how (?:do|can|could|would|might) "
                        r"(?:we|i|you|they|companies|firms)|what does .* mean)\b")
_DOMAIN = re.compile(r"\b(deals?|transactions?|licen[cs]\w*|agreements?|acquisitions?|partnerships?|"
                     r"collaborations?|newcos?|up ?fronts?|milestones?|out ?licens\w*|in ?licens\w*|paid|pay|pays|"
                     r"paying|payments?|spent|spend|worth|values?|valued|buyouts?|takeovers?|options?|receiv\w*|"
                     r"co ?development|licensors?|licensees?|acquirers?|buyers?)\b")
_COUNT = re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b|\bhow often\b|\bhow frequently\b")
_SUM = re.compile(r"\bhow much\b|\btotal\b|\bsum\b|\bcombined\b|\baggregate\b|\bcumulative\w*\b|\baltogether\b|"
                  r"\bin all\b")
_AVG = re.compile(r"\baverage\b|\bmean\b|\bavg\b|\btypical\b|\bon average\b")
_MEDIAN = re.compile(r"\bmedian\b")
_MAX = re.compile(r"\b(largest|biggest|highest|most valuable|richest|priciest|maximum|max|record|top|the most)\b")
_MIN = re.compile(r"\b(smallest|lowest|cheapest|least valuable|minimum|min|the least)\b")
# an explicit operation over the records: a count, a sum, an average, a median, or a ranking of deals or their money
# ("the largest China deal", "the biggest upfront"; not "the biggest risks", "the top pharma companies")
_RANKED = re.compile(rf"(?:{_MAX.pattern}|{_MIN.pattern})\s+(?:[\w$-]+\s+){{0,2}}(?:deals?|transactions?|agreements?|"
                     r"acquisitions?|partnerships?|collaborations?|newcos?|up ?fronts?|milestones?|licen[cs]es|"
                     r"buyouts?|takeovers?|payments?)\b")
_OPERATIONS = (_COUNT, _SUM, _AVG, _MEDIAN, _RANKED)
# "more deals", "fewer ADC licences" count deals; "more guaranteed money" asks for a measure (group 1 empty)
_MORE = re.compile(r"\b(?:more|less|fewer)\b(?:\s+(?:[\w$-]+\s+){0,2}?(deals?|transactions?|agreements?|licen[cs]es|"
                   r"partnerships?|acquisitions?|newcos?)\b)?")
_SUPERLATIVE = re.compile(rf"{_MAX.pattern}|{_MIN.pattern}|\b(?:the )?(?:most|least|fewest)\b")
# what the records can rank besides deals and parties: years, and the groupings of `_BY`
_COUNTED_THING = re.compile(r"\b(years?|therapy areas?|therapeutic areas?|modalit(?:y|ies)|indications?|"
                            r"countr(?:y|ies)|types?|structures?|stages?|assets?|drugs?|molecules?|targets?)\b")
_LIST = re.compile(r"\b(?:which|what)\s+(?:[\w']+\s+){0,4}?(?:deals|transactions|agreements|acquisitions|"
                   r"licen[cs]es|partnerships|newcos)\b|\b(?:list|show|name|give me|find|who)\b")
_PLURAL_DEALS = re.compile(r"\b(deals|transactions|agreements|acquisitions|licen[cs]es|partnerships|newcos)\b")
# "which Chinese ADCs have been licensed …": the things dealt in, asked for by the deals that moved them
_WHICH_DEALT = re.compile(r"\b(?:which|what)\s+(?:[\w'-]+\s+){0,8}?(?:have\s+been|has\s+been|had\s+been|were|was)\s+"
                          r"(?:out-?|in-?)?(?:licen[cs]ed|acquired|sold|bought|partnered)\b")
_DEAL_VERBS = re.compile(r"\b(licen[cs]ed|signed|acquired|bought|paid|partnered|struck|sold|agreed)\b")
_DEFINITION = re.compile(r"^\s*(?:what|which)\s+(?:is|are)\b")
_COMPARE = re.compile(r"\b(compare[sd]?|comparison|comparing|versus|vs|differ\w*|relative to)\b")
_TREND = re.compile(r"\b(trend\w*|over time|year by year|year on year|yoy|annually|yearly|each year|per year|"
                    r"every year|over the years|by year|a year)\b")
_BY = re.compile(r"\b(?:by|per|each|across|for each|broken down by|split by|grouped by|breakdown by)\s+"
                 r"(therapy areas?|therapeutic areas?|disease areas?|areas?|indications?|modalit(?:y|ies)|"
                 r"deal types?|types?|structures?|stages?|licensor country|licensee country|licensor countries|"
                 r"licensee countries|countr(?:y|ies)|licensors?|licensees?|buyers?|acquirers?|sellers?|"
                 r"compan(?:y|ies)|partners?)\b")
_WHICH_PARTY = re.compile(r"\b(?:which|what)\s+(?:\w+\s+){0,3}?(companies|company|pharmas?|biotechs?|licensees?|"
                          r"licensors?|buyers?|sellers?|acquirers?|partners?|firms?|drugmakers?)\b|\bwho\b")
_PARTY_NOUN = re.compile(r"\s*(?:\w+\s+){0,2}?(licensees?|licensors?|buyers?|sellers?|acquirers?|compan(?:y|ies)|"
                         r"pharmas?|biotechs?|partners?|firms?|drugmakers?)\b")
_RANK_BY = re.compile(r"\bby\s+(?:the\s+)?(?:size\s+of\s+)?(?:their\s+)?(up ?fronts?|milestones?|total deal value|"
                      r"total value|deal value|value|total|headline value|size|worth)\b")
_MEASURE = [("upfront", re.compile(r"\bup ?fronts?\b|\binitial payments?\b")),
            ("milestones", re.compile(r"\bmilestones?\b")),
            ("total", re.compile(r"\btotal (?:deal )?value\b|\bdeal values?\b|\bheadline\b|\bvalues?\b|\bworth\b|"
                                 r"\bdeal sizes?\b|\bbiobucks\b|\bvalued\b"))]
_PAYER_VERBS = re.compile(r"\b(pa(?:y|ys|id|ying)|spen[dt]|spending|bought|acquired|invested)\b")
_MONEY_VERBS = re.compile(r"\b(pa(?:y|ys|id|ying)|spen[dt]|spending|worth|cost|invested|receiv\w*|earn\w*|"
                          r"get|got|bag\w*|commit\w*|money|cash|dollars?)\b")
_PAIR_SPLIT = {"with", "and", "vs", "versus", "against", "to"}
_RECENT = re.compile(r"\b(?:(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\s+)?"
                     r"(most recent|latest|newest|last|earliest|oldest|first)\s+(?:\w+\s+){0,3}?"
                     r"(deals?|transactions?|agreements?|licen[cs]es?|acquisitions?|partnerships?)\b")
_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_WHICH_YEAR = re.compile(r"\b(?:which|what) years?\b.*\b(?:most|least|fewest|highest|lowest|largest|biggest|peak\w*)\b")
_SINGLE_DEAL = re.compile(r"\bthe\b[^?]*\bdeal\b(?!s|\s+(?:tracker|records?|database|data|table|list)\b)")
_GROUP_WORDS = {
    "therapy": "therapy_area", "therapeutic": "therapy_area", "disease": "therapy_area", "area": "therapy_area",
    "areas": "therapy_area", "indication": "therapy_area", "indications": "therapy_area", "modality": "modality",
    "modalities": "modality", "deal": "deal_type", "type": "deal_type", "types": "deal_type",
    "structure": "deal_type", "structures": "deal_type", "stage": "stage", "stages": "stage",
    "licensor": "licensor", "licensors": "licensor", "seller": "licensor", "sellers": "licensor",
    "licensee": "licensee", "licensees": "licensee", "buyer": "licensee", "buyers": "licensee",
    "acquirer": "licensee", "acquirers": "licensee", "company": "company", "companies": "company",
    "partner": "company", "partners": "company", "country": "licensor_country", "countries": "licensor_country",
}
_AMBIGUOUS_SIZE = ("read as total deal value (the headline figure, including milestones); "
                   "ask “by upfront” to rank by upfront")
_DEFAULT_MEASURE_SAID = {"sum": "“How much”", "avg": "The average", "median": "The median"}
KNOWN_WORDS = STOPWORDS | QUESTION_WORDS | GENERIC | {
    "how", "what", "which", "who", "top", "compare", "deals", "deal", "total", "value", "upfront", "upfronts",
    "milestones", "average", "median", "largest", "biggest", "list", "show", "western", "i", "licensing",
    "licence", "license", "in", "out", "pharma", "big", "q1", "q2", "q3", "q4", "h1", "h2", "phase", "fy", "ytd",
}


_COUNTED = re.compile(r"\b(?:how many|number of)\s+((?:[\w'&$-]+[\s,]*){1,7})")
_DEAL_NOUNS = re.compile(r"\b(deals?|transactions?|agreements?|licen[cs]es?|licensing|acquisitions?|partnerships?|"
                         r"collaborations?|newcos?|times|compan(?:y|ies)|licensors?|licensees?|biotechs?|"
                         r"pharmas?|firms?|drugmakers?|buyers?|acquirers?|partners?|records?)\b")


def _counts_deals(words: str) -> bool:
    """ "How many China out-licensing deals…" counts records; "how many programmes / patients…" does not."""
    counted = _COUNTED.search(words)
    return counted is None or _DEAL_NOUNS.search(counted.group(1)) is not None


@dataclass
class _Parts:
    """What rule passes found, before they are assembled into a DealQuery."""

    tokens: list[Token]
    mentions: list[Mention]
    dates: list[DateHit]
    ranges: list[ValueRange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ranked_party: str = ""  # "top 3 licensees": the party noun a top-N ranks


def _asset_code(text: str, tokens: list[Token]) -> str | None:
    """'ALT-B4' as the question writes it, when these tokens spell one code: a single word with a digit."""
    if not text:
        return None
    written = text[tokens[0].start:tokens[-1].start + len(tokens[-1].text)]
    if " " in written or not any(ch.isdigit() for ch in written) or not any(ch.isalpha() for ch in written):
        return None
    return written


def _normalise(question: str) -> str:
    text = question.replace("’", "'").replace("–", "-").replace("—", " - ").replace("->", " → ")
    return re.sub(r"\bU\.?S\.?A?\.?(?=\W|$)", "US", re.sub(r"\bU\.K\.?", "UK", text))


def _ranks_something_else(words: str, tokens: list[Token], mentions: list[Mention]) -> bool:
    """Whether a superlative ranks something the records do not hold: "the most important clause", "the top
    concern" (not "the largest deal", "the most ADCs", "the top 5 licensees", "paid the most in 2025").

    What a superlative ranks is in the three words after it: the records rank it when one of them is a deal, its
    money or a party, or a value the records know (a company, a modality, a therapy area); nothing ranked ("paid the
    most?") or a preposition next ("the most in 2025") leaves the ranking to the records too."""
    for match in _SUPERLATIVE.finditer(words):
        after = [t for t in tokens if t.start >= match.end()][:3]
        if not after or after[0].low in STOPWORDS:
            continue
        span = words[match.end():after[-1].start + len(after[-1].low)]
        first, last = tokens.index(after[0]), tokens.index(after[-1])
        if _DOMAIN.search(span) or _PARTY_NOUN.match(span) or _COUNTED_THING.search(span) or any(
                m.start <= last and m.end > first for m in mentions):
            continue
        return True
    return False


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


class QuestionParser:
    """Reads analytic questions about the deal records; `parse` returns None for anything else."""

    def __init__(self, companies: Companies) -> None:
        self.companies = companies
        self.phrases = PhraseTable(companies)

    def parse(self, question: str, today: dt.date | None = None, *, with_reasons: bool = False) -> DealQuery | None:
        """The DealQuery a question asks for (relative dates against `today`), or None if it is not analytic.

        A question that asks for reasons or advice is not analytic; `with_reasons` reads one that also names an
        operation over the records ("how many … and why?") for its figure, which goes with the articles' answer."""
        today = today or dt.date.today()
        text = _normalise(question.strip())
        low = text.lower()
        if not text or _UNSUPPORTED.search(low):
            return None
        if _REASONING.search(low) and not (with_reasons and any(p.search(low) for p in _OPERATIONS)):
            return None
        thresholds = find_thresholds(low)
        masked = _mask(text, [(t.start, t.end) for t in thresholds])
        dates = find_dates(masked.lower(), today)
        masked = _mask(masked, [(d.start, d.end) for d in dates])
        top = find_top_n(masked.lower())
        if top:
            masked = _mask(masked, [(top.start, top.end)])
        words = masked.lower()
        if not _DOMAIN.search(low):
            return None
        tokens = tokenize(masked)
        known = self.phrases.find(tokens)
        mentions = sorted(known + self._unknown_companies(tokens, known, masked), key=lambda m: m.start)
        if _ranks_something_else(words, tokens, mentions):
            return None
        assign_roles(tokens, mentions)
        parts = _Parts(tokens, mentions, dates, [r for t in thresholds for r in t.ranges])
        noun = _PARTY_NOUN.match(words, top.end) if top else None
        if noun and not re.match(r"\s*(?:\w+\s+){0,2}?deals?\b", words[top.end if top else 0:]):
            parts.ranked_party = noun.group(1)
        return self._assemble(parts, words, top.n if top else None, top.order if top else None)

    def companies_named(self, text: str) -> set[str]:
        """The companies of the deal records that a text names, resolved to canonical names (parents included)."""
        return {self.companies.resolve(m.value) for m in self.phrases.find(tokenize(text)) if m.kind == "company"}

    def companies_meant(self, text: str, distinctive: Callable[[str, str], bool] = lambda word, company: True
                        ) -> set[str]:
        """The companies a text names (`companies_named`), and those it names by one word of a longer name that no
        other company's name holds ("Simcere" for Simcere Zaiming), written as a name the records do not know, when
        `distinctive(word, company)` says the word stands for that company (not a place it is named after)."""
        tokens = tokenize(text)
        known = self.phrases.find(tokens)
        meant = {self.companies.resolve(m.value) for m in known if m.kind == "company"}
        for m in self._unknown_companies(tokens, known, text):
            holders = self.companies.holding(m.value) if m.kind == "company" else set()
            if len(holders) == 1 and distinctive(m.value, next(iter(holders))):
                meant |= holders
        return meant

    # -- pieces ----------------------------------------------------------------------------------
    def _unknown_companies(self, tokens: list[Token], found: list[Mention], text: str = "") -> list[Mention]:
        """Capitalised names the records do not know ('Biohaven'): kept as companies so nothing matches them.

        A name with a digit in it ('ALT-B4', 'SSGJ-707', 'HS-10535') is a drug or platform code, not a company:
        it is matched, as written, in each record's asset and notes (a keyword), like a target.
        """
        covered = {i for m in found for i in range(m.start, m.end)}
        out: list[Mention] = []
        i = 1
        while i < len(tokens):
            t = tokens[i]
            if i in covered or not t.text[0].isupper() or t.low in KNOWN_WORDS or t.low.isdigit():
                i += 1
                continue
            j = i
            while j + 1 < len(tokens) and j + 1 not in covered and tokens[j + 1].text[0].isupper() \
                    and tokens[j + 1].low not in KNOWN_WORDS:
                j += 1
            name = " ".join(x.text for x in tokens[i:j + 1])
            code = _asset_code(text, tokens[i:j + 1])
            if code:
                out.append(Mention("target", code, i, j + 1, surface=code.lower()))
            else:
                out.append(Mention("company", name, i, j + 1, surface=name.lower()))
            i = j + 1
        return out

    def _filters(self, mentions: list[Mention], dates: list[DateHit], ranges: list[ValueRange],
                 notes: list[str]) -> DealFilters:
        sides: dict[str, dict[str, list[str]]] = {r: {"companies": [], "countries": [], "exclude": [], "labels": []}
                                                   for r in ("licensor", "licensee", "party", "counterparty")}
        values: dict[str, list[str]] = {"therapy": [], "modality": [], "deal_type": [], "stage": [], "target": []}
        for m in mentions:
            if m.kind == "company":
                resolved = self.companies.resolve(m.value)
                if resolved != self.companies.canonical(m.value):
                    notes.append(f"{self.companies.canonical(m.value)} counted as part of {resolved}")
                if m.surface == "merck":
                    notes.append("Merck read as Merck & Co. (MSD in Europe); say Merck KGaA for the German company")
                sides[m.role or "party"]["companies"].append(resolved)
            elif m.kind == "region":
                side = sides[m.role or "party"]
                side["exclude" if m.exclude else "countries"].extend(vocab.REGION_GROUPS[m.value])
                side["labels"].append(("outside " if m.exclude else "") + m.value)
            elif m.kind == "target":
                values["target"].extend(m.value.split("|"))  # a class ("incretin") stands for its targets
            elif m.kind in values:
                values[m.kind].append(m.value)
        built = {role: Side(companies=list(dict.fromkeys(s["companies"])),
                            countries=list(dict.fromkeys(s["countries"])),
                            exclude_countries=list(dict.fromkeys(s["exclude"])), label=" or ".join(s["labels"]))
                 for role, s in sides.items()}
        if built["party"].is_empty() and not built["counterparty"].is_empty():
            built["party"], built["counterparty"] = built["counterparty"], Side()
        directions = {m.value for m in mentions if m.kind == "direction"}
        exclude_types: list[str] = []
        if directions and not values["deal_type"]:
            exclude_types = ["acquisition"]
            notes.append("acquisitions are not counted as licensing")
        for direction in directions:
            own, other = ("licensor", "licensee") if direction == "out" else ("licensee", "licensor")
            if built[own].is_empty() and built["party"].countries and not built["party"].companies:
                built[own], built["party"] = built["party"], Side()
            if built[own].countries and not (built[other].countries or built[other].exclude_countries):
                home = vocab.home_region(built[own].countries)
                label = "Greater China (China, Hong Kong, Taiwan)" if home == vocab.GREATER_CHINA else built[own].label
                built[other] = built[other].model_copy(update={"exclude_countries": list(home),
                                                               "label": f"outside {label}"})
        if "licence" in values["deal_type"]:
            notes.append("“licensing” read as deal type licence (options, co-developments, NewCos, partnerships, "
                         "acquisitions and AI research deals are other types)")
        if values["target"]:
            notes.append(f"{', '.join(values['target'])} matched in the asset and notes of each record")
        date_from = date_to = None
        years: list[int] = []
        whole = [d.whole_year for d in dates]
        if len(dates) > 1 and all(whole):
            years = sorted({y for y in whole if y})
        elif dates:
            date_from, date_to = dates[0].lo, dates[0].hi
        notes.extend(d.note for d in dates if d.note)
        return DealFilters(
            licensor=built["licensor"], licensee=built["licensee"], party=built["party"],
            counterparty=built["counterparty"], date_from=date_from, date_to=date_to, years=years,
            therapy_areas=list(dict.fromkeys(values["therapy"])), modalities=list(dict.fromkeys(values["modality"])),
            deal_types=list(dict.fromkeys(values["deal_type"])), exclude_deal_types=exclude_types,
            stages=list(dict.fromkeys(values["stage"])), keywords=list(dict.fromkeys(values["target"])),
            values=ranges)

    def _compare(self, parts: _Parts, words: str) -> tuple[list[CompareGroup], _Parts] | None:
        """Two or more values of one kind set against each other ('oncology vs immunology', '2024 vs 2025')."""
        if not _COMPARE.search(words):
            return None
        pair = self._pairwise(parts)
        if pair:
            return pair
        if len(parts.dates) >= 2:
            groups = [CompareGroup(label=str(d.whole_year) if d.whole_year else f"{d.lo}–{d.hi}",
                                   filters=DealFilters(date_from=d.lo, date_to=d.hi)) for d in parts.dates]
            return groups, _Parts(parts.tokens, parts.mentions, [], parts.ranges, parts.notes)
        for kind in ("therapy", "modality", "deal_type", "stage", "region", "company", "target"):
            chosen = [m for m in parts.mentions if m.kind == kind]
            if len({m.value for m in chosen}) < 2:
                continue
            rest = [m for m in parts.mentions if m not in chosen]
            directions = [m for m in rest if m.kind == "direction"]
            groups = []
            for m in chosen:
                own = self._filters([m, *directions], [], [], [])
                label = self.companies.resolve(m.value) if kind == "company" else m.value.replace("|", " or ")
                groups.append(CompareGroup(label=label, filters=own))
            return groups, _Parts(parts.tokens, rest, parts.dates, parts.ranges, parts.notes)
        return None

    def _pairwise(self, parts: _Parts) -> tuple[list[CompareGroup], _Parts] | None:
        """Two deals set side by side: "A's 2019 Enhertu deal with B's 2023 DXd deal, both with Daiichi Sankyo".

        The question splits at the connector between its first two companies; each side keeps its own company,
        dates and other words, and unknown names on a side (an asset, say) narrow it as keywords. Whatever
        follows "both" applies to both sides.
        """
        tokens = parts.tokens
        known = [m for m in parts.mentions if m.kind == "company" and m.value in self.companies.names or
                 m.kind == "company" and self.companies.canonical(m.value) in self.companies.names]
        first = known[0] if known else None
        second = next((m for m in known if first and self.companies.resolve(m.value)
                       != self.companies.resolve(first.value)), None)
        if first is None or second is None:
            return None
        cut = next((i for i in range(second.start - 1, first.end - 1, -1) if tokens[i].low in _PAIR_SPLIT), None)
        if cut is None:
            return None
        both = next((i for i in range(cut, len(tokens)) if tokens[i].low == "both"), len(tokens))
        shared = [m for m in parts.mentions if m.start >= both]
        def chars(i: int) -> int:
            return tokens[i].start if i < len(tokens) else 10**9

        spans = ((0, cut), (cut, both))
        side_dates = [[d for d in parts.dates if chars(lo) <= d.start < chars(hi)] for lo, hi in spans]
        if not all(side_dates):  # a date on one side only ("A versus B since 2023") is for both
            side_dates = [[], []]
        shared_dates = [] if side_dates[0] else parts.dates
        groups = []
        for (lo, hi), dates in zip(spans, side_dates, strict=True):
            own = [m for m in parts.mentions if lo <= m.start < hi]
            if not any(m in known for m in own):
                return None
            side: list[Mention] = []
            for m in own:
                if m.kind == "company" and m not in known:  # an asset or programme name, not a company
                    side.append(Mention("target", m.value, m.start, m.end, surface=m.surface))
                elif m.kind == "company":
                    side.append(Mention("company", m.value, m.start, m.end, role="party", surface=m.surface))
                elif m.kind != "direction":
                    side.append(m)
            side += [Mention("company", m.value, m.start, m.end, role="counterparty", surface=m.surface)
                     if m.kind == "company" else m for m in shared]
            label = self.companies.resolve(next(m.value for m in own if m in known))
            label += f" ({', '.join(str(d.whole_year or d.lo) for d in dates)})" if dates else ""
            groups.append(CompareGroup(label=label, filters=self._filters(side, dates, [], parts.notes)))
        return groups, _Parts(tokens, [], shared_dates, parts.ranges, parts.notes)

    def _group_by(self, parts: _Parts, words: str) -> str | None:
        if _TREND.search(words) or _WHICH_YEAR.search(words):
            return "year"
        match = next((m for m in _BY.finditer(words)
                      if not re.search(r"\b(signed|done|made|struck|announced|paid|acquired|bought|licen[cs]ed|led|"
                                       r"agreed|owned)\s+$", words[:m.start()])), None)
        if match:
            first = match.group(1).split()[0]
            if first in ("licensor", "licensee") and "countr" in match.group(1):
                return f"{first}_country"
            return _GROUP_WORDS.get(first)
        which = _WHICH_PARTY.search(words)
        if parts.ranked_party or (which and (_MAX.search(words) or _MIN.search(words) or re.search(r"\bmost\b",
                                                                                                 words))):
            noun = parts.ranked_party or (which.group(1) if which else "") or ""
            if _GROUP_WORDS.get(noun) in ("licensor", "licensee"):
                return _GROUP_WORDS[noun]
            span = (which.start(), which.end()) if which and not parts.ranked_party else (-1, -1)
            inside = [m for m in parts.mentions if m.kind == "region" and m.role in ("licensor", "licensee")
                      and span[0] <= parts.tokens[m.start].start < span[1]]
            if inside:
                return inside[0].role
            return "licensee" if _PAYER_VERBS.search(words) else "company"
        return None

    @staticmethod
    def measures_named(question: str) -> list[str]:
        """Every money field a question names, e.g. "combined upfront … and combined total value"."""
        words = _normalise(question).lower()
        found = [(m.start(), name) for name, rx in _MEASURE for m in [rx.search(words)] if m]
        return [name for _, name in sorted(found)]

    def _measure(self, words: str) -> str | None:
        rank = _RANK_BY.search(words)
        if rank:
            word = rank.group(1)
            return "upfront" if word.startswith("up") else "milestones" if word.startswith("mile") else "total"
        found = [(m.start(), name) for name, rx in _MEASURE if (m := rx.search(words))]
        return min(found)[1] if found else None

    @staticmethod
    def _operation(words: str, measure: str | None, grouped: bool, top_n: int | None, specific: bool,
                   assets: bool = False) -> str | None:
        """count, sum, avg, median, top or list; None when no analytic operation is asked for. `assets`: the
        question names a modality or target ("ADCs", "PD-1 x VEGF bispecifics")."""
        wants_money = measure is not None or _MONEY_VERBS.search(words) is not None
        if _AVG.search(words):
            return "avg"
        if _MEDIAN.search(words):
            return "median"
        if grouped:
            if (_SUM.search(words) or (measure and not _COUNT.search(words))) and wants_money:
                return "sum"
            more = _MORE.search(words)
            if measure is None and not _COUNT.search(words) and more and not more.group(1):
                return None  # "which gave more guaranteed money?": more of something the records do not hold
            ranked = top_n is not None or re.search(r"\bmost\b|\bleast\b", words) is not None
            paid = measure is None and not _COUNT.search(words) and _PAYER_VERBS.search(words)
            return "sum" if ranked and paid else "count"
        if top_n is not None or _MAX.search(words) or _MIN.search(words):
            return "top"
        if _COUNT.search(words):
            return "count" if _counts_deals(words) else None
        if _SUM.search(words) and wants_money:
            return None if _SINGLE_DEAL.search(words) else "sum"  # one named deal is a lookup, not a sum
        if _LIST.search(words) and _PLURAL_DEALS.search(words) and (specific or not _DEFINITION.search(words)):
            return "list"  # "which deals …", not "tell me about the X deal" nor "what are NewCo deals?"
        if _WHICH_PARTY.search(words) and _DEAL_VERBS.search(words):
            return "list"  # "which Chinese companies licensed ADCs to Merck?"
        if assets and _WHICH_DEALT.search(words):
            return "list"  # "which Chinese bispecifics have been licensed to Western companies?"
        return None

    def _assemble(self, parts: _Parts, words: str, top_n: int | None, top_order: str | None) -> DealQuery | None:
        measure = self._measure(words)
        compared = self._compare(parts, words)
        groups: list[CompareGroup] = []
        if compared:
            groups, parts = compared
        group_by = None if compared else self._group_by(parts, words)
        specific = bool(parts.dates or parts.ranges or any(m.kind in ("company", "region") for m in parts.mentions))
        recent = None if compared or group_by else _RECENT.search(words)
        if recent:  # "the most recent deal", "the five latest licences": newest (or oldest) first, by date
            operation: str | None = "list"
            said = recent.group(1)
            stated = int(said) if said and said.isdigit() else _COUNT_WORDS.get(said or "")
            top_n = top_n or stated or (5 if recent.group(3).endswith("s") else 1)
            top_order = "asc" if recent.group(2) in ("earliest", "oldest", "first") else "desc"
            measure = None
        else:
            assets = any(m.kind in ("modality", "target") for m in parts.mentions)
            operation = self._operation(words, measure, bool(compared or group_by), top_n, specific, assets)
        if operation is None:
            return None
        notes = parts.notes
        if operation == "top" and top_n is None:
            top_n = 5 if re.search(r"\bdeals\b|\btransactions\b", words) else 1
        if operation in ("sum", "avg", "median", "top") and measure is None:
            measure = "total"
            superlative = _MAX.search(words) or _MIN.search(words)
            said = f"“{superlative.group(1).capitalize()}”" if superlative else "Size"
            notes.append(f"{said} {_AMBIGUOUS_SIZE}" if operation == "top" else
                         f"{_DEFAULT_MEASURE_SAID[operation]} read as total deal value (headline, including "
                         "milestones); ask about “upfront” for upfront payments")
        order = top_order or ("asc" if _MIN.search(words) and not _MAX.search(words) else "desc")
        filters = self._filters(parts.mentions, parts.dates, parts.ranges, notes)
        try:
            return DealQuery.model_validate({
                "operation": operation, "measure": measure, "filters": filters, "group_by": group_by,
                "compare": groups, "limit": top_n, "order": order, "notes": list(dict.fromkeys(notes))})
        except ValueError as exc:
            log.warning("analytic question not understood (%s): %s", exc, words.strip())
            return None
