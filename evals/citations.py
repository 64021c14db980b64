"""Citation precision and recall of one answer, judged with the evaluator's support check.

An answer's text is split into claims: sentences (and list lines) with the [n] markers they carry.

- A marker belongs to the sentence it ends ("claim [1]." and "claim. [1]" both cite "claim"); a line that
  *opens* with markers ("[1] D5089, 2025-05-20: 3SBio → Pfizer …", the way deal lists are written) cites its
  own text.
- Citation precision = supported (claim, citation) pairs / all pairs. A citation to a number that does not
  exist counts as unsupported.
- Citation recall = claims with at least one supporting citation / claims that need one. Headings, lines that
  only introduce a list ("Sources:"), and sentences with fewer than three content words do not need one.
- Analytics answers (route "analytics") state computed figures ("7 deals match", a sum over 25 records) that
  no single record contains: their uncited summary lines are excluded from recall, and each cited deal record
  is checked against the line that lists it. The figures themselves are graded by answer correctness.
- A refused answer has no claims: both scores are undefined (None) and left out of averages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from advisor.text import sentence_spans
from advisor.types import Answer
from evals.support import check_support, stems

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_LEADING = re.compile(r"^\s*(?:[-*+]\s+)?((?:\[\d+(?:\s*,\s*\d+)*\]\s*)+)")
_HEADING = re.compile(r"^\s*(?:#{1,6}\s|\*\*[^*]+\*\*:?\s*$)")


@dataclass
class Claim:
    text: str
    refs: list[int]
    needs_citation: bool = True


@dataclass
class CitationScores:
    precision: float | None
    recall: float | None
    pairs: int = 0
    supported_pairs: int = 0
    claims: int = 0
    supported_claims: int = 0
    failures: list[dict[str, object]] = field(default_factory=list)


def _refs(text: str) -> list[int]:
    return [int(n) for group in _MARKER.findall(text) for n in re.split(r"\s*,\s*", group)]


def claims(text: str, *, route: str = "") -> list[Claim]:
    """Claims in reading order with their markers; see the module docstring for the conventions."""
    out: list[Claim] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if _HEADING.match(line) or (line.rstrip().endswith(":") and len(line.split()) <= 8):
            out.append(Claim(_MARKER.sub("", line).strip(), _refs(line), needs_citation=False))
            continue
        lead = _LEADING.match(line)
        if lead:  # a list line that opens with its citations: the markers cite the whole line
            body = line[lead.end():]
            out.append(Claim(_MARKER.sub("", body).strip(), _refs(lead.group(1)) + _refs(body)))
            continue
        for start, end in sentence_spans(line):
            raw = line[start:end]
            opening = re.match(r"^(?:\s*\[\d+(?:\s*,\s*\d+)*\])+", raw)
            if opening and out:  # "claim. [1] Next": the opening marker belongs to the sentence before
                out[-1].refs.extend(_refs(opening.group(0)))
                raw = raw[opening.end():]
            body = _MARKER.sub("", raw).strip()
            if body:
                out.append(Claim(body, _refs(raw)))
    for claim in out:
        if len(set(stems(claim.text))) < 3:
            claim.needs_citation = False
        if route == "analytics" and not claim.refs:
            claim.needs_citation = False  # a computed summary: graded by correctness, not by a passage
    return out


def score_citations(answer: Answer) -> CitationScores:
    """Citation precision and recall of an answer (None for a refusal or an answer without claims)."""
    if not answer.covered:
        return CitationScores(None, None)
    by_n = {c.n: c for c in answer.citations}
    pairs = supported_pairs = needing = supported_claims = 0
    failures: list[dict[str, object]] = []
    for claim in claims(answer.text, route=answer.route):
        any_support = False
        for n in dict.fromkeys(claim.refs):
            pairs += 1
            citation = by_n.get(n)
            if citation is None:
                failures.append({"sentence": claim.text, "n": n, "reason": f"[{n}] does not exist"})
                continue
            result = check_support(claim.text, citation.passage, cited_doc_id=citation.doc_id)
            if result.supported:
                supported_pairs += 1
                any_support = True
            else:
                failures.append({"sentence": claim.text, "n": n, "doc_id": citation.doc_id, "reason": result.reason})
        if claim.needs_citation:
            needing += 1
            supported_claims += any_support
            if not claim.refs:
                failures.append({"sentence": claim.text, "n": 0, "reason": "no citation"})
    return CitationScores(
        precision=supported_pairs / pairs if pairs else None,
        recall=supported_claims / needing if needing else None,
        pairs=pairs, supported_pairs=supported_pairs, claims=needing, supported_claims=supported_claims,
        failures=failures,
    )
