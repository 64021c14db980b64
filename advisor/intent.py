"""What shape of answer a question wants, read by rules (no LLM): a list, a comparison, or neither.

"Which CAR-T therapies has the NMPA approved?" wants the enumeration, not the sentence that introduces it;
"How do Samsung Biologics and Celltrion differ?" wants evidence on each side. The extractive generator uses
these to choose and budget its sentences. `without_source_reference` drops the words that name where the
user expects the answer ("according to our cell therapy briefing"): they say where to look, not what to say,
so no answer sentence is expected to contain them.
"""

from __future__ import annotations

import re

from advisor.text import content_words

# words a "which/what <noun phrase>" question stops its noun phrase at
_PHRASE_END = frozenset(
    """do does did is are was were has have had can could should would will to of in on for from that by with
    at as about most more between under since during among""".split())
# plural-looking words that are not plural nouns
_NOT_PLURAL = frozenset("""its this has was does is us plus various previous various less across""".split())
# "List …", and "What changed under …" (the changes are enumerated, even unasked)
_LIST_VERB = re.compile(r"^\s*(?:please\s+)?(?:list|name|enumerate|itemi[sz]e)\b|"
                        r"^\s*what\s+(?:has\s+|have\s+)?changed\b", re.I)
# "which/what X …" and "what are the X …": X is the noun phrase a list question enumerates
_WHICH_WHAT = re.compile(r"^\s*(?:which|what)\s+(?:(?:are|were)\s+the\s+)?(.*)$", re.I)
_COMPARE = re.compile(r"\b(compare[ds]?|comparison|differ(?:s|ed|ent|ence|ences)?|versus|vs\.?|contrast|"
                      r"how does .+ (?:stack up|measure up)|relative to|as opposed to)\b", re.I)
_SOURCE_NOUNS = (r"briefings?|trackers?|reports?|notes?|articles?|analys[ie]s|reviews?|research|records?|database|"
                 r"guides?|playbooks?|memos?|newsletters?|summar(?:y|ies)")
_SOURCE_REFERENCE = re.compile(
    rf"\b(according to|as per|per)\s+(?:our|the|your|a|an|this|that)?\s*((?:[\w-]+\s+){{0,4}}?)({_SOURCE_NOUNS})\b",
    re.I)


def _plural(word: str) -> bool:
    w = word.lower()
    return (len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "'s", "’s"))
            and w not in _NOT_PLURAL and not w[0].isdigit())


def list_focus(question: str) -> tuple[str, ...]:
    """The plural nouns a "which/what … X" question asks to enumerate, lower-cased as written: ("premiums",)
    for "What launch price premiums …", ("sanctions", "lists") for "Which sanctions and restricted-party
    lists …" (a coordinated phrase names each kind); () when it asks for no list."""
    match = _WHICH_WHAT.match(question)
    if not match:
        return ()
    words = [w.lower() for w in re.findall(r"[\w'’-]+", match.group(1))[:8]]
    found: list[str] = []
    for i, word in enumerate(words):
        if word in _PHRASE_END:
            break
        if _plural(word):
            found.append(word)
            # "sanctions and restricted-party lists", "resources checks": the phrase goes on to another noun
            following = words[i + 1] if i + 1 < len(words) else ""
            if following not in ("and", "or") and not _plural(following):
                break
    return tuple(found)


def is_list_question(question: str) -> bool:
    """"List …", "Name …", or "Which/What <plural noun> …": the answer is an enumeration."""
    return bool(_LIST_VERB.match(question)) or bool(list_focus(question))


def is_comparison(question: str) -> bool:
    """"How do A and B compare/differ", "A versus B": the answer needs evidence on each side."""
    return bool(_COMPARE.search(question))


# the firm's own deal records named as what the question is about ("in the tracker", "our deal database")
_RECORDS = re.compile(r"\b(?:trackers?|deal records?|database|our records)\b", re.I)


def names_records(question: str) -> bool:
    """Whether the question asks about the firm's deal records themselves ("how many deals in the tracker…")."""
    return bool(_RECORDS.search(question))


def without_source_reference(question: str) -> str:
    """The question without "according to (our) … briefing/tracker": the topic words stay, the pointer goes."""
    return _SOURCE_REFERENCE.sub(lambda m: m.group(2), question)


# where a compound question starts its next ask: ", and which …", "… ? What …"
_NEXT_ASK = re.compile(r",?\s+and\s+(?=(?:what|which|how|who|whom|when|where|why|did|does|do|is|are|was|were|has|"
                       r"have|can)\b)|(?<=\?)\s+(?=\S)", re.I)


def question_parts(question: str) -> list[str]:
    """The separate asks of a compound question, in order ("What did Ono pay for Deciphera, and which Deciphera
    drug had Zai Lab licensed?" is two); a simple question is its own single part. A part needs two words of
    its own that carry meaning, so "…, and why?" stays with the ask before it."""
    parts: list[str] = []
    for piece in (p.strip(" ,;") for p in _NEXT_ASK.split(question)):
        if parts and len(content_words(piece)) < 2:
            parts[-1] = f"{parts[-1]} and {piece}"
        elif piece:
            parts.append(piece)
    return parts if len(parts) > 1 else [question]


# "How should we …", "Should we …", "What should a licence include …": the user wants a course of action
_ADVICE = re.compile(r"\b(?:how|what|where|when|which|who)\s+(?:\w+\s+){0,6}?(?:should|must|ought to)\b|"
                     r"^\s*(?:should|must)\s+(?:we|i|our)\b|\bhow (?:do|can|could) (?:we|i)\b", re.I | re.M)


def is_advice(question: str) -> bool:
    """A question asking what to do: its answer gathers several considerations, not one fact."""
    return bool(_ADVICE.search(question))


# "Where does X stand", "latest on X", "is X still…": the user wants the current state, so the newest source first
_STATUS = re.compile(r"\b(?:latest|status|newest|most recent|right now|currently|at the moment|these days|up to date|"
                     r"any news|what's new|update on|where (?:do|does|is|are|did) .{1,60}? stand|"
                     r"stand(?:s|ing)? now)\b", re.I)


def is_status(question: str) -> bool:
    """A question about where something stands now: its answer leads with the newest source."""
    return bool(_STATUS.search(question))
