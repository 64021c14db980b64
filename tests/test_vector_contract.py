"""One contract, run against embedded Chroma and a real `chroma run` server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from advisor.embed import HashEmbedder
from advisor.index.vectors import ChromaIndex, VectorIndex

TEXTS = {
    "a": ("AstraZeneca CSPC AI partnership upfront", {"audience": "public", "published": 20250613,
                                                       "company_keys": ["astrazeneca", "cspc"], "doc_type": "deal"}),
    "b": ("Japan PMDA drug lag pricing", {"audience": "public", "published": 20241201, "company_keys": ["takeda"],
                                          "doc_type": "article"}),
    "c": ("internal fee playbook Lantern Protocol", {"audience": "internal", "published": 20250301,
                                                     "doc_type": "playbook"}),
}


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorIndex]:
    name = f"contract-{uuid.uuid4().hex[:8]}"
    if request.param == "embedded":
        yield ChromaIndex.open(path=tmp_path / "chroma", name=name)
    else:
        yield ChromaIndex.open(url=request.getfixturevalue("chroma_server"), name=name)


def _load(index: VectorIndex) -> HashEmbedder:
    embedder = HashEmbedder()
    ids = list(TEXTS)
    index.upsert(ids, embedder.embed([TEXTS[i][0] for i in ids]), [TEXTS[i][0] for i in ids],
                 [TEXTS[i][1] for i in ids])
    return embedder


def test_query_returns_nearest_with_cosine_similarity(index: VectorIndex) -> None:
    embedder = _load(index)
    [(best, sim), *_] = index.query(embedder.embed(["Japan PMDA drug lag"])[0], k=3)
    assert best == "b"
    assert 0.5 < sim <= 1.0001


def test_where_filters_audience_dates_and_array_membership(index: VectorIndex) -> None:
    embedder = _load(index)
    q = embedder.embed(["fee playbook"])[0]
    assert {i for i, _ in index.query(q, k=3, where={"audience": "public"})} == {"a", "b"}
    assert [i for i, _ in index.query(q, k=3, where={"published": {"$gte": 20250101}})] != []
    assert {i for i, _ in index.query(q, k=3, where={"company_keys": {"$contains": "cspc"}})} == {"a"}


def test_upsert_is_idempotent_and_delete_removes(index: VectorIndex) -> None:
    _load(index)
    _load(index)
    assert index.ids() == {"a", "b", "c"}
    index.delete(["c"])
    assert index.ids() == {"a", "b"}


def test_vectors_round_trip_and_metadata_updates(index: VectorIndex) -> None:
    embedder = _load(index)
    stored = index.vectors(["a"])["a"]
    assert np.allclose(stored, embedder.embed([TEXTS["a"][0]])[0], atol=1e-5)
    index.update_metas(["b"], [{**TEXTS["b"][1], "audience": "internal"}])
    assert {i for i, _ in index.query(stored, k=3, where={"audience": "internal"})} == {"b", "c"}
