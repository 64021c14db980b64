"""Names a question uses that the sources never mention.

"Has Mabwell out-licensed any of its ADCs?" is about a company no passage names: whatever the nearest passages say,
they are about something else, and the honest answer is that the sources don't cover it. The embedder reads such a
question as close to its neighbours (one unknown word moves a sentence's vector little), and the gate's `missing`
feature weighs an absent word by that small move, so a name the sources lack is checked here, against every
passage the caller may read. What counts as a name is the embedder's tokenizer's to say: a word its vocabulary
splits into pieces ('mab', '##well'; 'cad', '##oni', '##lim', '##ab') rather than holds whole ('weather'), or a
code with digits ('ASC30'). A typo of a known word, a clipped word ('collab') or a prefixed one ('overpay') is not
a name the sources lack. A year counts too when the question asks what will happen ("which biotech will sign the
biggest deal of 2027?"): sources that never mention the year cannot say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from advisor.index.lexical import tokenize

MIN_LENGTH = 5  # shorter words are mostly abbreviations ("PFS", "subq"), which a corpus may spell out
# word pieces that inflect an English word ("scrape" "##s", "smart" "##est"): the word is still a whole word
_INFLECTIONS = frozenset({"##s", "##es", "##ed", "##d", "##er", "##ers", "##est", "##ing", "##ings", "##ly",
                          "##ies", "##ying", "##ness", "##ment", "##ments", "##al"})
# English prefixes: "overpay" is "pay", over
_PREFIXES = ("over", "under", "out", "non", "pre", "post", "re", "co", "sub", "super", "anti", "multi", "inter",
             "mis", "semi", "cross")
_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*[A-Za-z0-9]")
_YEAR = re.compile(r"(?:19|20)\d\d")
# a question about what will happen ("which biotech will sign…", "will the tariff be in force…")
_FUTURE = re.compile(r"\b(?:will|won't|going to)\b", re.I)


def unknown_names(question: str, holds: Callable[[str], bool], vocabulary: Callable[[], Collection[str]],
                  pieces: Callable[[str], list[str]] | None = None) -> list[str]:
    """The names in `question` that no passage the caller may read mentions, as written, in order. `holds(term)`:
    does such a passage hold this indexed term (as `tokenize` writes it); `vocabulary()`: every indexed term, of
    any audience, searched for the known word an unknown one may misspell, clip or prefix, which counts only when
    the caller may read it (so a public caller learns nothing of what internal documents hold). `pieces(word)`:
    the embedder's word pieces; without it, a capitalised word after the first is a name."""
    found: list[str] = []
    future = bool(_FUTURE.search(question))
    for match in _WORD.finditer(question):
        if future and _YEAR.fullmatch(match.group(0)) and not holds(match.group(0)):
            found.append(match.group(0))  # what will happen in a year no source mentions: none can say
            continue
        word = re.sub(r"['’]s$", "", match.group(0))
        if "'" in word or "’" in word:
            continue  # a contraction ("we're")
        for part in word.split("-"):
            terms = tokenize(part)
            if len(part) < MIN_LENGTH or part.isdigit() or part in found or not terms:
                continue
            if not _name_like(part, pieces, first=match.start() == 0):
                continue
            if all(holds(t) or _resembles(t, vocabulary(), holds) for t in terms):
                continue
            found.append(part)
    return found


def _name_like(word: str, pieces: Callable[[str], list[str]] | None, *, first: bool) -> bool:
    if re.search(r"\d", word) and re.search(r"[A-Za-z]", word):
        return True  # a code: "ASC30", "HRS9531"
    if pieces is None:
        return word[0].isupper() and not first
    split = pieces(word)
    while len(split) > 1 and split[-1] in _INFLECTIONS:
        split = split[:-1]
    return len(split) > 1


def _resembles(term: str, vocabulary: Collection[str], holds: Callable[[str], bool], most: int = 8) -> bool:
    """Whether the term is a readable known one misspelt by a letter, clipped ("collab" of "collabor"), or prefixed
    ("overpay"); at most `most` candidates are checked for readability."""
    rest = next((term[len(p):] for p in _PREFIXES if term.startswith(p) and len(term) - len(p) >= 3), None)
    if rest is not None and holds(rest):
        return True
    near = (v for v in vocabulary if v != term and (v.startswith(term) or (abs(len(v) - len(term)) <= 1
                                                                           and _one_edit(term, v))))
    return any(holds(v) for _, v in zip(range(most), near, strict=False))


def _one_edit(a: str, b: str) -> bool:
    """Whether a and b differ by one substitution, insertion, deletion or swap of neighbouring letters."""
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[i:] == long[i + 1:]
