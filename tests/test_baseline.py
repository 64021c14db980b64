"""The naive baseline: the LangChain tutorial RAG behind the same System seam as ours (hash embedder, real Chroma)."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.advisor import Advisor
from advisor.config import Settings
from advisor.embed import HashEmbedder
from advisor.types import Document
from evals.baseline import (
    BASELINE_NAME,
    CHUNK_OVERLAP,
    CHUNK_SIZE,
    baseline_for,
    corpus_documents,
    naive_baseline,
    split_documents,
)
from evals.system import System
from tests.conftest import write_article

TOPICS = {
    "tau": "Tau protein aggregation drives neurodegeneration in Alzheimer disease.",
    "statins": "Statin therapy lowers cardiovascular mortality in elderly patients.",
    "vitamin-d": "Vitamin D supplementation does not prevent fractures in adults.",
    "crispr": "CRISPR base editing corrects sickle cell mutations in stem cells.",
    "microbiome": "Gut microbiome composition predicts response to immunotherapy.",
    "malaria": "Malaria parasites resist artemisinin through kelch13 mutations.",
}


def _docs(audience: str = "public") -> list[Document]:
    return [Document(doc_id, f"{text} Further detail follows in the study.", {"title": doc_id.title(),
                                                                                "audience": audience})
            for doc_id, text in TOPICS.items()]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", embedder="hash", min_evidence_score=0.25)


def test_retrieves_best_first_and_answers_with_the_top_four_passages_cited(settings: Settings,
                                                                            tmp_path: Path) -> None:
    baseline: System = naive_baseline(settings, HashEmbedder(), _docs(), cache_dir=tmp_path / "b")
    assert baseline.name == BASELINE_NAME == "naive-baseline"
    found = baseline.retrieve("Does statin therapy lower cardiovascular mortality?", k=3)
    assert len(found) == 3 and found[0].doc_id == "statins"
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)

    answer = baseline.answer("Does statin therapy lower cardiovascular mortality?")
    assert answer.covered is True and answer.route == "naive"
    assert [c.n for c in answer.citations] == [1, 2, 3, 4]
    assert [c.doc_id for c in answer.citations] == [r.doc_id for r in baseline.retrieve(
        "Does statin therapy lower cardiovascular mortality?", k=4)]
    for citation in answer.citations:
        assert f"{' '.join(citation.passage.split())} [{citation.n}]" in answer.text
    assert answer.text.index("[1]") < answer.text.index("[4]")


def test_never_refuses_even_off_topic(settings: Settings, tmp_path: Path) -> None:
    baseline = naive_baseline(settings, HashEmbedder(), _docs(), cache_dir=tmp_path / "b")
    answer = baseline.answer("Which volcano erupted on the far side of the moon?")
    assert answer.covered is True and len(answer.citations) == 4


def test_a_public_caller_sees_only_public_documents(settings: Settings, tmp_path: Path) -> None:
    docs = _docs() + [Document("secret", "Statin therapy pricing floor is internal.", {"title": "Secret",
                                                                                      "audience": "internal"})]
    baseline = naive_baseline(settings, HashEmbedder(), docs, cache_dir=tmp_path / "b")
    assert "secret" in {r.doc_id for r in baseline.retrieve("statin therapy pricing", k=7, audience="internal")}
    public = baseline.retrieve("statin therapy pricing", k=7, audience="public")
    assert public and "secret" not in {r.doc_id for r in public}
    assert all(c.audience == "public" for c in baseline.answer("statin pricing", audience="public").citations)


def test_reopening_an_unchanged_corpus_embeds_nothing_and_a_changed_one_rebuilds(settings: Settings,
                                                                                 tmp_path: Path) -> None:
    embedder = HashEmbedder()
    first = naive_baseline(settings, embedder, _docs(), cache_dir=tmp_path / "b")
    assert first.embeddings.documents_embedded == first.chunks == 6
    again = naive_baseline(settings, embedder, _docs(), cache_dir=tmp_path / "b")
    assert again.embeddings.documents_embedded == 0
    assert again.retrieve("kelch13 artemisinin", k=1)[0].doc_id == "malaria"
    changed = naive_baseline(settings, embedder, _docs()[:4], cache_dir=tmp_path / "b")
    assert changed.embeddings.documents_embedded == 4
    assert {r.doc_id for r in changed.retrieve("kelch13 artemisinin malaria", k=10)} == set(list(TOPICS)[:4])


def test_splits_like_the_tutorial_and_keeps_spans_in_the_document_text() -> None:
    sentences = [f"Sentence number {i} talks about licensing terms in detail." for i in range(80)]
    doc = Document("long", " ".join(sentences), {"title": "Long Read", "audience": "public"})
    splits = split_documents([doc])
    assert len(splits) > 3
    assert all(len(s.page_content) <= CHUNK_SIZE for s in splits)
    assert splits[0].page_content.startswith("Long Read. Sentence number 0")  # the title leads the first chunk
    for split in splits[1:]:
        start, end = split.metadata["char_start"], split.metadata["char_end"]
        assert doc.text[start:end] == split.page_content
    # consecutive chunks overlap (at most chunk_overlap characters)
    first, second = splits[1], splits[2]
    overlap = first.metadata["char_end"] - second.metadata["char_start"]
    assert 0 < overlap <= CHUNK_OVERLAP


def test_baseline_for_an_advisor_indexes_exactly_its_documents(settings: Settings, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for doc_id, text in TOPICS.items():
        write_article(corpus, doc_id, text, audience="public" if doc_id != "tau" else "internal")
    advisor = Advisor.from_settings(settings)
    advisor.ingest([corpus])
    docs = corpus_documents(advisor)
    assert sorted(d.doc_id for d in docs) == sorted(TOPICS)
    baseline = baseline_for(advisor, tmp_path / "b")
    assert {r.doc_id for r in baseline.retrieve("anything at all", k=50, audience="internal")} == set(TOPICS)
    assert "tau" not in {r.doc_id for r in baseline.retrieve("tau protein", k=50, audience="public")}
