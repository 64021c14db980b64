"""Find what a question names (companies, regions, therapy areas, modalities, …) and which side of a deal
each company or region is on: licensor (seller, payee), licensee (buyer, payer), or either."""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.analytics import vocab
from advisor.analytics.companies import Companies
from advisor.analytics.companies import tokens as phrase_tokens

_TOKEN = re.compile(r"[A-Za-z0-9]+|&|→")
PARTY_KINDS = ("region", "company")

DIRECTION_PHRASES = {
    **{f"out {w}": "out" for w in ("licensing", "licencing", "licensed", "licenced", "license", "licence",
                                   "licenses", "licences", "licensor", "licensors")},
    **{w: "out" for w in ("outlicensing", "outlicensed", "outlicense", "outbound")},
    **{f"in {w}": "in" for w in ("licensing", "licencing", "licensed", "licenced", "license", "licence", "licenses",
                                 "licences")},
    **{w: "in" for w in ("inlicensing", "inlicensed", "inbound")},
}
LICENSOR_NOUNS = {"licensor", "licensors", "seller", "sellers", "originator", "originators", "target", "targets",
                  "payee", "payees", "innovator", "innovators"}
LICENSEE_NOUNS = {"licensee", "licensees", "buyer", "buyers", "acquirer", "acquirers", "payer", "payers",
                  "purchaser", "purchasers"}
GENERIC = {"pharma", "pharmas", "pharmaceutical", "pharmaceuticals", "biotech", "biotechs", "biotechnology",
           "biopharma", "biopharmas", "company", "companies", "firm", "firms", "drugmaker", "drugmakers", "player",
           "players", "group", "groups", "developer", "developers", "big", "large", "based", "headquartered", "s",
           "the", "a", "an", "its", "their", "all", "any", "other", "partner", "partners", "multinational",
           "multinationals", "mncs", "mnc", "startup", "startups"}
AUXILIARY = {"did", "do", "does", "have", "has", "had", "were", "was", "is", "are", "will", "ever", "typically",
             "usually", "also", "collectively", "together", "actually", "really", "in", "total"}
PAYS = {"pay", "paid", "pays", "paying", "payment", "payments", "spend", "spent", "spends", "spending", "invest",
        "invested", "commit", "committed"}
BUYS = {"buy", "bought", "buys", "buying", "acquire", "acquired", "acquires", "acquiring", "purchase", "purchased"}
SELLS = {"sell", "sold", "sells", "selling", "receive", "received", "receives", "receiving", "earn", "earned",
         "earns", "get", "got", "gets", "grant", "granted", "grants", "bag", "bagged", "secure", "secured"}
LICENSES = {"license", "licensed", "licenses", "licence", "licenced", "licences", "licensing", "licencing"}
ACQUISITION_NOUNS = {"acquisition", "acquisitions", "purchase", "purchases", "buyout", "buyouts", "takeover",
                     "takeovers"}
EXCLUDERS = {"non", "ex", "outside", "excluding", "except", "exclude"}
COORDINATORS = {"or", "and", ",", "/", "&", "nor", "plus"}
COMPARE_BLOCKERS = {"compared", "compare", "relative", "versus", "vs", "against"}


@dataclass
class Token:
    """A word of the question: lower-cased, as written, and where it starts."""

    low: str
    text: str
    start: int


@dataclass
class Mention:
    """A phrase of the question (tokens[start:end]) that names a value of some kind."""

    kind: str
    value: str
    start: int
    end: int
    role: str | None = None  # "licensor" | "licensee" | "party" | "counterparty"
    exclude: bool = False
    surface: str = ""  # the words as written, lower-cased


def tokenize(text: str) -> list[Token]:
    """Word tokens; hyphens split words ('China-to-US' -> China, to, US) so phrases match either way."""
    return [Token(m.group(0).lower(), m.group(0), m.start()) for m in _TOKEN.finditer(text)]


class PhraseTable:
    """Token sequences -> (kind, value, case rule); longest match wins."""

    def __init__(self, companies: Companies) -> None:
        self.table: dict[tuple[str, ...], tuple[str, str, int]] = {}
        tables = (("direction", DIRECTION_PHRASES), ("region", vocab.REGION_PHRASES),
                  ("therapy", vocab.THERAPY_PHRASES), ("modality", vocab.MODALITY_PHRASES),
                  ("deal_type", vocab.DEAL_TYPE_PHRASES), ("stage", vocab.STAGE_PHRASES))
        for kind, phrases in tables:
            for phrase, value in phrases.items():
                self.table.setdefault(phrase_tokens(phrase), (kind, value, 0))
        for target in vocab.TARGETS:
            self.table.setdefault(phrase_tokens(target), ("target", target, 0))
        for phrase, targets in vocab.TARGET_CLASSES.items():
            self.table.setdefault(phrase_tokens(phrase), ("target", "|".join(targets), 0))
        for phrase, value in vocab.CASED_REGION_PHRASES.items():
            self.table[phrase_tokens(phrase)] = ("region", value, 2)
        for key, (canonical, cased) in companies.phrases().items():
            if key not in self.table or len(key) > 1:
                self.table[key] = ("company", canonical, 1 if cased else 0)
        self.longest = max(len(k) for k in self.table)

    def find(self, tokens: list[Token]) -> list[Mention]:
        """Every known phrase in the tokens, left to right, longest first, none overlapping."""
        out: list[Mention] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self.longest, len(tokens) - i), 0, -1):
                words = tokens[i:i + size]
                hit = self.table.get(tuple(t.low for t in words))
                if hit and _case_ok(words, hit[2]):
                    out.append(Mention(hit[0], hit[1], i, i + size, surface=" ".join(t.low for t in words)))
                    i += size
                    break
            else:
                i += 1
        return out


def _case_ok(words: list[Token], rule: int) -> bool:
    if rule == 2:
        return all(t.text.isupper() for t in words)
    if rule == 1:
        return all(t.text[0].isupper() or not t.text[0].isalpha() for t in words)
    return True


# --- roles ------------------------------------------------------------------------------------------
def _skip(tokens: list[Token], index: int, step: int, covered: set[int]) -> int:
    """The next index from `index` (in direction `step`) that is not a generic word; -1 if none."""
    while 0 <= index < len(tokens) and tokens[index].low in GENERIC and index not in covered:
        index += step
    return index if 0 <= index < len(tokens) else -1


def _role(tokens: list[Token], m: Mention, starts: dict[int, Mention], covered: set[int]) -> str | None:
    """Which side a company or region is on, from the words around it (None: not said)."""
    low = [t.low for t in tokens]
    return (_role_from_nouns(low, m, starts, _skip(tokens, m.end, 1, covered))
            or _role_from_preposition(low, m, starts, _skip(tokens, m.start - 1, -1, covered))
            or _role_from_verb(tokens, m, starts, covered))


def _role_from_nouns(low: list[str], m: Mention, starts: dict[int, Mention], nxt: int) -> str | None:
    """'Chinese licensors', 'licensees based in the US', 'China out-licensing'."""
    if nxt >= 0 and low[nxt] in LICENSOR_NOUNS | LICENSEE_NOUNS:
        return "licensor" if low[nxt] in LICENSOR_NOUNS else "licensee"
    for back in range(max(0, m.start - 5), m.start):
        between = set(low[back + 1:m.start]) - {"in", "from", "based", "headquartered", "located", "is", "are",
                                                 "was", "were", "the", "a", "being", "of"} - EXCLUDERS
        if not between and low[back] in LICENSOR_NOUNS | LICENSEE_NOUNS:
            return "licensor" if low[back] in LICENSOR_NOUNS else "licensee"
    after = starts.get(nxt)
    if after is not None and after.kind == "direction":
        return "licensor" if after.value == "out" else "licensee"
    return None


def _role_from_preposition(low: list[str], m: Mention, starts: dict[int, Mention], prev: int) -> str | None:
    """'from China', 'to the US', 'paid to X', 'acquired by X', 'acquisitions of X', 'pay X'."""
    if prev < 0:
        return None
    before = set(low[max(0, prev - 6):prev])
    word = low[prev]
    if word in ("to", "by", "from") and before & PAYS:
        return "licensor" if word == "to" else "licensee"  # money flows from licensee to licensor
    if word == "from":
        return "licensee" if before & SELLS else "licensor"  # "received from X": X paid
    if word in ("to", "into"):
        return None if prev > 0 and low[prev - 1] in COMPARE_BLOCKERS else "licensee"
    if word == "by" and prev > 0:
        if low[prev - 1] in BUYS | PAYS | ACQUISITION_NOUNS:
            return "licensee"  # "acquired by X", "paid by X"
        direction = next((x for x in starts.values() if x.end == prev and x.kind == "direction"), None)
        if direction is not None:
            return "licensor" if direction.value == "out" else "licensee"  # "out-licensed by X"
    if word == "of" and prev > 0 and low[prev - 1] in ACQUISITION_NOUNS:
        return "licensor"
    if (word == "for" and before & PAYS) or word in PAYS | BUYS:
        return "licensor"  # "pay X", "acquire X", "paid for X"
    return None


def _role_from_verb(tokens: list[Token], m: Mention, starts: dict[int, Mention], covered: set[int]) -> str | None:
    """The verb a company or region is the subject of: 'X paid', 'X received', 'X licensed … to', 'X to Y'."""
    low = [t.low for t in tokens]
    if m.end < len(tokens) and low[m.end] in ("to", "→") and _skip(tokens, m.end + 1, 1, covered) in starts:
        return "licensor"
    verb = _skip(tokens, m.end, 1, covered)
    while 0 <= verb < len(tokens) and low[verb] in AUXILIARY and verb not in covered:
        verb += 1
    if not 0 <= verb < len(tokens):
        return None
    if low[verb] in PAYS | BUYS:
        return "licensee"
    if low[verb] in SELLS:
        return "licensor"
    if low[verb] in LICENSES:
        rest = low[verb + 1:verb + 9]
        if "to" in rest:
            return "licensor"
        if "from" in rest:
            return "licensee"
    return None


def _units(tokens: list[Token], mentions: list[Mention]) -> list[list[Mention]]:
    """Party mentions joined by 'or', 'and', ',' into one unit (they share a side); 'between A and B' is two."""
    units: list[list[Mention]] = []
    for m in mentions:
        if units:
            last = units[-1][-1]
            gap = [t.low for t in tokens[last.end:m.start]]
            opener = tokens[units[-1][0].start - 1].low if units[-1][0].start > 0 else ""
            if gap and all(g in COORDINATORS | GENERIC for g in gap) and any(g in COORDINATORS for g in gap) \
                    and opener != "between":
                units[-1].append(m)
                continue
        units.append([m])
    return units


def assign_roles(tokens: list[Token], mentions: list[Mention]) -> None:
    """Set `role` on every company and region mention; unstated sides are inferred from the stated ones."""
    party = [m for m in mentions if m.kind in PARTY_KINDS]
    starts = {m.start: m for m in mentions}
    covered = {i for m in mentions for i in range(m.start, m.end)}
    for m in party:
        if m.start > 0 and tokens[m.start - 1].low in EXCLUDERS or (
                m.start > 1 and tokens[m.start - 1].low == "of" and tokens[m.start - 2].low == "outside"):
            m.exclude = True
        m.role = _role(tokens, m, starts, covered)
    units = _units(tokens, party)
    roles: list[str | None] = []
    for unit in units:
        stated = [m.role for m in unit if m.role]
        roles.append(stated[0] if stated else None)
    known = [r for r in roles if r]
    for i, role in enumerate(roles):
        if role:
            continue
        if len(set(known)) == 1 and known[0] in ("licensor", "licensee"):
            roles[i] = "licensee" if known[0] == "licensor" else "licensor"
        else:
            roles[i] = "party" if "party" not in roles[:i] else "counterparty"
    for unit, role in zip(units, roles, strict=True):
        for m in unit:
            m.role = role
