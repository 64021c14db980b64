"""The evaluator's support check: does a cited passage back the sentence that cites it?

Deliberately independent of the advisor's own verifier (`advisor.cite.support`), which every advisor answer has
already passed: grading with the same check would score 1.0 by construction. This one is stricter on the
things an answer most often gets wrong, and compares numbers as numbers. A sentence is supported by a passage
when all of these hold (evals/README.md has the measured accuracy on `evals/sets/support_labels.jsonl`):

1. numbers: every number the sentence states (money, percentages, counts, years; "$1.2bn" may round
   "$1,207m") is stated in the passage, compared numerically with `evals.facts`; a percentage may instead be
   one amount the passage states as a share of another ("upfront 21% of total" for $1,250m of $6,050m);
2. dates: every dated day or month in the sentence is a date in the passage, in any format;
3. names: every capitalised name or acronym in the sentence ("Pfizer", "CSPC", "BIOSECURE") occurs in the
   passage; the cited document's own id (a deal id such as D5089 at the head of a deal-record line) is exempt;
4. polarity: what each negation in the sentence negates ("not", "never", "no longer", "n't": the first three
   content words after it) is negated in a passage sentence too (two of the three words there), and an
   affirmative sentence fails when a negated clause of its closest passage sentence is mostly its own words
   ("has not passed the Senate" against "has passed the Senate");
5. wording: at least 60% of the sentence's content-word stems (figures excluded, being checked by rule 1; a
   small synonym table joins deal/agreement, licence/license and the like) occur in the passage.

What it cannot see, measured on the labelled set: a number that is in the passage but attached to something
else ("11 votes" where the passage has 11 for one vote and 40 for another), and a claim that swaps one
endpoint for another with the same words (overall survival for progression-free survival).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from advisor.text import STOPWORDS, sentence_spans
from evals.facts import Quantity, dates, normalise, quantities

MIN_OVERLAP = 0.6
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
_NAME = re.compile(r"\b(?:[A-Z][a-z]*[A-Z0-9][\w-]*|[A-Z]{2,}[\w-]*|[A-Z][a-z]+(?:[-'][A-Za-z]+)*)\b")
_NEGATION = re.compile(r"\b(?:not|never|no longer|none|neither|nor|cannot|without)\b|n't\b", re.I)
_MARKERS = re.compile(r"\s*\[(?:\d+(?:\s*,\s*\d+)*)\]")
_MONTH_NAMES = {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct",
                "Nov", "Dec", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
# names written as adjectives in one place and nouns in the other
_DEMONYMS = {"chinese": "china", "japanese": "japan", "korean": "korea", "american": "us", "european": "europe",
             "taiwanese": "taiwan", "indian": "india", "singaporean": "singapore", "british": "uk",
             "australian": "australia", "german": "germany", "swiss": "switzerland", "french": "france"}
_SYNONYMS = {"agreement": "deal", "transaction": "deal", "pact": "deal", "license": "licence", "licensing": "licence",
             "licensed": "licence", "licenses": "licence", "paid": "pay", "pays": "pay", "payment": "pay",
             "worth": "value", "valued": "value", "bought": "buy",
             "acquired": "acquire", "acquisition": "acquire", "purchase": "buy", "firm": "company",
             "companies": "company", "firms": "company", "drugmaker": "company", "biotech": "company",
             "us": "us", "u.s": "us", "united": "us"}
_COMMON_CAPITALS = {"The", "A", "An", "In", "On", "At", "By", "For", "Of", "And", "But", "Or", "It", "Its", "This",
                    "That", "These", "Those", "Under", "With", "As", "After", "Before", "From", "To", "When",
                    "While", "If", "Our", "We", "They", "Their", "He", "She", "There", "Both", "Each", "All",
                    "Only", "Also", "Most", "Some", "Yes", "No", "Not", "Notes", "Total", "Deal", "Territory",
                    "Royalties", "Counted", "Rather", "So", "Since", "Until", "Between", "Per", "About", "Many",
                    "Several", "Such", "Every", "However", "Although", "Because", "Unlike", "Like", "Despite",
                    "During", "Through", "Once", "Why", "What", "How", "Which", "Who", "Where", "Here", "Then",
                    "Instead", "Even", "Meanwhile", "Today", "Overall", "Together", "Neither", "Nor", "Yet",
                    "Largest", "Smallest", "Highest", "Lowest", "Latest", "Earliest", "Top", "Sum", "Average",
                    "Median", "Count", "Compared"}
# figures are checked as numbers (rule 1), so their digits and scale words are not wording
_FIGURE_WORDS = {"bn", "billion", "million", "mn", "trillion", "dollar", "dollars", "usd", "per", "cent", "percent"}


@dataclass(frozen=True)
class SupportResult:
    supported: bool
    reason: str
    overlap: float


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202 - PyStemmer has no stubs
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(text: str) -> list[str]:
    # hyphenated compounds ("AstraZeneca–CSPC", "up-front") count as their parts
    words = [part for w in _WORD.findall(normalise(text)) for part in w.replace("’", "'").split("-") if part]
    words = [_SYNONYMS.get(w, _DEMONYMS.get(w, w)) for w in words
             if w not in STOPWORDS and w not in _FIGURE_WORDS and len(w) > 1 and not re.search(r"\d", w)]
    return list(_stemmer().stemWords(words))


def _derived_share(q: Quantity, passage_quantities: list[Quantity]) -> bool:
    """A percentage that is one stated amount as a share of another ("upfront 21% of total": $1,250m of $6,050m)."""
    if q.kind != "percent":
        return False
    money = [p.value for p in passage_quantities if p.kind == "money" and p.value > 0]
    tolerance = max(q.tolerance, Decimal("0.5"))
    return any(abs(100 * a / b - q.value) < tolerance for a in money for b in money if a < b)


def _names(sentence: str, exempt: set[str]) -> list[str]:
    out = []
    for match in _NAME.finditer(sentence):
        name = match.group(0)
        if name in _COMMON_CAPITALS or name in _MONTH_NAMES or name.lower() in exempt or name.lower() in STOPWORDS:
            continue
        out.append(name)
    return out


def _name_in(name: str, passage_norm: str) -> bool:
    key = normalise(name)
    for form in {key, _DEMONYMS.get(key, key)}:
        if re.search(r"(?<![a-z0-9])" + re.escape(form) + r"(?:s|es)?(?![a-z0-9])", passage_norm):
            return True
    # "Pfizer's" / "BioNTech-led": the stem of the name is enough
    return len(key) > 5 and key[:-2] in passage_norm


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def check_support(sentence: str, passage: str, *, cited_doc_id: str = "") -> SupportResult:
    """Does `passage` support `sentence`? The reason names the first rule that failed."""
    sentence = _MARKERS.sub("", sentence).strip()
    if cited_doc_id:
        sentence = re.sub(rf"(?<![\w-]){re.escape(cited_doc_id)}(?![\w-])", " ", sentence)
    passage_quantities = quantities(passage)
    for q in quantities(sentence):
        if not re.search(r"\d", sentence[q.start:q.end]):
            continue  # number words ("one of the largest") are wording, not figures
        stated = any(p.states(q) or q.states(p) for p in passage_quantities)
        if not stated and not _derived_share(q, passage_quantities):
            return SupportResult(False, f"number {sentence[q.start:q.end].strip()!r} not in passage", 0.0)
    passage_dates = dates(passage)
    claimed_dates = dates(sentence)
    specific = {d for d in claimed_dates if d[2]} or claimed_dates
    for d in specific:
        if d not in passage_dates:
            return SupportResult(False, f"date {d} not in passage", 0.0)
    passage_norm = normalise(passage)
    for name in _names(sentence, {cited_doc_id.lower()} if cited_doc_id else set()):
        if not _name_in(name, passage_norm):
            return SupportResult(False, f"name {name!r} not in passage", 0.0)
    words = set(stems(sentence))
    if not words:
        return SupportResult(False, "no content words", 0.0)
    overlap = len(words & set(stems(passage))) / len(words)
    if overlap < MIN_OVERLAP:
        return SupportResult(False, f"wording overlap {overlap:.2f} < {MIN_OVERLAP}", overlap)
    pieces = [passage[a:b] for a, b in sentence_spans(passage)] or [passage]
    negated_in_passage = [w for p in pieces for w in _negation_targets(p)]
    for target in _negation_targets(sentence):
        needed = math.ceil(2 * len(target) / 3)
        if not any(len(target & w) >= needed for w in negated_in_passage):
            return SupportResult(False, "the sentence negates what the passage does not", overlap)
    if not _negated(sentence) and _denies(_best_sentence(words, pieces), words):
        return SupportResult(False, "the closest passage sentence negates this claim", overlap)
    return SupportResult(True, "", overlap)


def _negation_targets(sentence: str) -> list[set[str]]:
    """What each negation in a sentence negates: the first three content words after it, within its sentence
    ("not [slow reviews]")."""
    targets = []
    for match in _NEGATION.finditer(sentence):
        window = re.split(r"[.!?;:](?:\s|$)|#|\n|\s-\s", sentence[match.end():match.end() + 80])[0]
        following = set(stems(window)[:3])
        if following:
            targets.append(following)
    return targets


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[,;:]|[.!?](?:\s|$)|#+\s|\s-\s|\bbut\b|\bwhile\b|\bwhereas\b", text) if c.strip()]


def _denies(passage_sentence: str, claim_words: set[str]) -> bool:
    """A negated clause of the passage sentence that is mostly the claim's own words ("X is not Y" vs "X is Y")."""
    for clause in _clauses(passage_sentence):
        if _negated(clause):
            clause_words = set(stems(clause))
            if clause_words and len(clause_words & claim_words) / len(clause_words) >= 0.5:
                return True
    return False


def _best_sentence(words: set[str], pieces: list[str]) -> str:
    best, best_score = pieces[0], -1.0
    for piece in pieces:
        score = len(words & set(stems(piece))) / len(words)
        if score > best_score:
            best, best_score = piece, score
    return best


def supports(sentence: str, passage: str, *, cited_doc_id: str = "") -> bool:
    return check_support(sentence, passage, cited_doc_id=cited_doc_id).supported
