"""Plain-text helpers shared by the chunker, the composer and the citation checker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

_ABBREVIATIONS = {
    "e.g", "i.e", "inc", "co", "corp", "ltd", "vs", "no", "mr", "ms", "dr", "st", "jr", "approx",
    "u.s", "u.k", "dept", "est", "fig", "al", "etc", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "plc", "bros", "mt", "ph", "p", "incl", "excl", "esp", "cf",
}

_SENT_END = re.compile(r"[.!?](?:[\"'”’)\]]*)(?=\s+[\"'“‘(\[]?[A-Z0-9$€£¥*])")
_WORD = re.compile(r"[a-z0-9]+(?:[.'’-][a-z0-9]+)*")
_NUMBER = re.compile(r"(?<![\w.])\$?\d[\d,]*(?:\.\d+)?\s*(?:%|bn|billion|m\b|million|k\b|trillion)?", re.I)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves also may might must shall us per
    via within without across among upon whether yet tell say said says give gave know""".split()
)


# question scaffolding: words that shape a question but are not what it is about
QUESTION_WORDS = frozenset(
    """much many long often big bigger biggest large larger largest kind kinds type types sort happen happened
    happens mean means meant explain describe please like think anything something everything tell
    show give list currently presently nowadays latest news""".split()
)

# irregular forms the stemmer leaves apart from their base (so "paid" matches "pay")
IRREGULAR = {
    "paid": "pay", "sold": "sell", "bought": "buy", "won": "win", "led": "lead", "made": "make",
    "grew": "grow", "grown": "grow", "rose": "rise", "risen": "rise", "fell": "fall", "fallen": "fall",
    "spent": "spend", "struck": "strike", "took": "take", "taken": "take", "began": "begin", "begun": "begin",
    "brought": "bring", "sought": "seek", "held": "hold", "kept": "keep", "left": "leave", "met": "meet",
    "ran": "run", "saw": "see", "seen": "see", "went": "go", "gone": "go", "chose": "choose",
    "chosen": "choose", "drew": "draw", "drawn": "draw", "lost": "lose", "set": "set",
}


def other_script_share(text: str) -> float:
    """The share of a text's letters written beyond Latin Extended (Japanese, Chinese, Korean, Cyrillic…); 0 for a
    text with no letter."""
    letters = [c for c in text if c.isalpha()]
    return sum(1 for c in letters if ord(c) > 0x24F) / len(letters) if letters else 0.0


def words(text: str) -> list[str]:
    """Lower-cased word tokens (numbers and hyphenated words kept whole)."""
    return _WORD.findall(text.lower())


_CLITIC = re.compile(r"['’]s$")


def content_words(text: str) -> list[str]:
    """Words that carry meaning: no stopwords, no question scaffolding, irregular verbs at their base. A word's
    "'s" goes first, so "what's" and "it's" are the stopwords they are and "Hengrui's" is "hengrui"."""
    out = []
    for word in words(text):
        w = _CLITIC.sub("", word)
        if w not in STOPWORDS and w not in QUESTION_WORDS and len(w) > 1:
            out.append(IRREGULAR.get(w, w))
    return out


@lru_cache(maxsize=8192)
def numbers(text: str) -> frozenset[str]:
    """Numbers as written, normalised: '$5.3 bn' -> '5.3bn', '1,250' -> '1250'."""
    found = set()
    for match in _NUMBER.finditer(text):
        token = match.group(0).lower().replace(",", "").replace("$", "").replace(" ", "")
        token = token.replace("billion", "bn").replace("million", "m")
        found.add(token)
    return frozenset(found)


def _is_abbreviation(text: str, dot: int) -> bool:
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    token = text[start:dot].lower()
    if start > 0 and text[start - 1].isalnum():
        return False  # the end of a word with digits in it ("GLP-1s."), not an initial
    return token in _ABBREVIATIONS or bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", token))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Yield (start, end) offsets of sentences in text[start:end]; lines and list items split too."""
    end = len(text) if end is None else end
    for line in re.finditer(r"[^\n]+", text[start:end]):
        lo, hi = start + line.start(), start + line.end()
        cursor = lo
        for match in _SENT_END.finditer(text, lo, hi):
            dot = match.start()
            if text[dot] == "." and _is_abbreviation(text, dot):
                continue
            yield from _trimmed(text, cursor, match.end())
            cursor = match.end()
        yield from _trimmed(text, cursor, hi)


def _trimmed(text: str, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    if hi > lo:
        yield lo, hi


_MD_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s+)")
_MD_INLINE = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def clean_markdown(sentence: str) -> str:
    """Sentence text for display: list markers, emphasis and link targets removed."""
    out = _MD_PREFIX.sub("", sentence)
    out = _MD_LINK.sub(r"\1", out)
    out = _MD_INLINE.sub(r"\2", out)
    out = out.replace("**", "").replace("__", "")  # a bold marker left unpaired (a span that starts inside bold)
    return re.sub(r"\s+", " ", out).strip()


def is_heading(line: str) -> bool:
    return bool(re.match(r"^\s*#{1,6}\s", line))


_SUFFIXES = re.compile(
    r"\b(inc|ltd|limited|llc|plc|ag|sa|nv|co|corp|corporation|company|group|holdings?|pharmaceuticals?|pharma|"
    r"biopharmaceuticals?|biopharma|biotherapeutics|therapeutics|biosciences?|biotech|biologics|medicines?|"
    r"laboratories|labs)\b\.?"
)


def company_key(name: str) -> str:
    """'CSPC Pharmaceutical Group' and 'CSPC' both become 'cspc'."""
    key = _SUFFIXES.sub(" ", name.lower().replace("&", " "))
    return re.sub(r"[^a-z0-9]+", " ", key).strip()
