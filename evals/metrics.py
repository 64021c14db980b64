"""Metrics shared by the in-house runner and the public suites.

Ranked lists are document ids, best first; a document appearing twice (two chunks of it) counts once, at its
best rank, as BEIR does when passages are scored per document.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def dedupe(ranked: Iterable[str]) -> list[str]:
    """Document ids in first-seen order."""
    return list(dict.fromkeys(ranked))


def recall_at_k(ranked: Sequence[str], gold: Iterable[str], k: int) -> float:
    """Share of the gold documents found in the top k; 0 when there is no gold."""
    wanted = set(gold)
    if not wanted:
        return 0.0
    return len(wanted & set(dedupe(ranked)[:k])) / len(wanted)


def mrr(ranked: Sequence[str], gold: Iterable[str], k: int | None = None) -> float:
    """Reciprocal rank of the first gold document (within k when given); 0 when none is found."""
    wanted = set(gold)
    for rank, doc in enumerate(dedupe(ranked)[:k], start=1):
        if doc in wanted:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Iterable[str] | Mapping[str, float], k: int) -> float:
    """Normalised discounted cumulative gain with graded (mapping) or binary (iterable) relevance."""
    relevance = dict(gold) if isinstance(gold, Mapping) else {doc: 1.0 for doc in gold}
    if not any(v > 0 for v in relevance.values()):
        return 0.0
    dcg = sum(relevance.get(doc, 0.0) / math.log2(rank + 1)
              for rank, doc in enumerate(dedupe(ranked)[:k], start=1))
    ideal = sorted((v for v in relevance.values() if v > 0), reverse=True)[:k]
    idcg = sum(v / math.log2(rank + 1) for rank, v in enumerate(ideal, start=1))
    return dcg / idcg


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0 for an empty list."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def auroc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Probability that a positive outranks a negative (ties count half); 0 when either class is empty.

    Used on our evidence score with "should answer" as the positive class: how well the score separates the two
    whatever threshold the gate uses.
    """
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    if not pos or not neg:
        return 0.0
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return round(wins / (len(pos) * len(neg)), 4)
