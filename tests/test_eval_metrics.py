import math

import pytest

from evals.metrics import dedupe, mrr, ndcg_at_k, percentile, recall_at_k


def test_dedupe_keeps_best_rank():
    assert dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_recall_counts_documents_not_chunks():
    assert recall_at_k(["a", "a", "x", "b"], {"a", "b"}, k=2) == 0.5
    assert recall_at_k(["a", "a", "x", "b"], {"a", "b"}, k=3) == 1.0
    assert recall_at_k(["a"], set(), k=3) == 0.0


def test_mrr():
    assert mrr(["x", "y", "g"], {"g"}) == pytest.approx(1 / 3)
    assert mrr(["x", "y", "g"], {"g"}, k=2) == 0.0


def test_ndcg_binary_and_graded():
    assert ndcg_at_k(["g", "x"], {"g"}, 10) == 1.0
    # one relevant document at rank 2 of 2 gold: dcg = 1/log2(3); idcg = 1 + 1/log2(3)
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["x", "g"], {"g", "h"}, 10) == pytest.approx(expected)
    # graded: the more relevant document first is ideal
    assert ndcg_at_k(["a", "b"], {"a": 2.0, "b": 1.0}, 10) == 1.0
    assert ndcg_at_k(["b", "a"], {"a": 2.0, "b": 1.0}, 10) < 1.0


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile([], 50) == 0.0
