"""The shipped knowledge base: valid, ingestible, and its internal content stays internal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from advisor.advisor import Advisor
from advisor.config import Settings
from advisor.corpus_check import check_corpus
from tests.conftest import REPO

CORPUS = REPO / "corpus"
MARKERS = [m.strip() for m in (CORPUS / "internal_markers.txt").read_text().splitlines() if m.strip()]


def test_corpus_passes_its_validator() -> None:
    result = check_corpus(CORPUS)
    assert result.problems == []
    assert len(result.articles) >= 60
    assert sum(a["audience"] == "internal" for a in result.articles) >= 10
    assert len(result.deals) >= 200
    assert {d.announced.year for d in result.deals} >= set(range(2019, 2026))


def test_validator_catches_each_kind_of_problem(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "deals").mkdir()
    (tmp_path / "articles" / "x.md").write_text(
        "---\nid: y\ntitle: T\npublished: 2031-01-01\npublisher: P\nsource_urls: [not-a-url]\naudience: secret\n"
        "topics: [astrology]\nregions: [Atlantis]\ncompanies: []\n---\nBody.\n")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "s.txt").write_text("one two three four five six seven eight nine ten")
    (tmp_path / "articles" / "copy.md").write_text(
        "---\nid: copy\ntitle: T\npublished: 2025-01-01\npublisher: P\nsource_urls: [https://example.com/a]\n"
        "audience: public\ntopics: [japan]\nregions: [Japan]\ncompanies: []\n---\n"
        "As they say one two three four five six seven eight nine ten.\n")
    problems = "\n".join(check_corpus(tmp_path, seeds_dir=tmp_path / "seeds").problems)
    for expected in ("must equal the file name", "published", "not a well-formed", "audience must be",
                     "topic 'astrology'", "region 'Atlantis'", "shares a run of 9+ words"):
        assert expected in problems


def test_generated_html_and_pdf_match_their_sources(tmp_path: Path) -> None:
    sys.path.insert(0, str(CORPUS))
    try:
        import build_docs  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(CORPUS))
    build_docs.main(tmp_path)
    for name in ("jp-market-entry-checklist.html", "asia-licensing-outlook-2026.pdf"):
        assert (tmp_path / name).read_bytes() == (CORPUS / "docs" / name).read_bytes(), f"rerun build_docs: {name}"


def test_markers_live_only_in_internal_articles() -> None:
    assert len(MARKERS) >= 10
    for marker in MARKERS:
        holders = [p for p in (CORPUS / "articles").glob("*.md") if marker in p.read_text()]
        assert holders, marker
        assert all("audience: internal" in p.read_text() for p in holders), marker


@pytest.fixture(scope="module")
def corpus_advisor(tmp_path_factory: pytest.TempPathFactory) -> Advisor:
    settings = Settings(data_dir=tmp_path_factory.mktemp("corpus") / "data", embedder="hash",
                        min_evidence_score=0.3)
    advisor = Advisor.from_settings(settings)
    report = advisor.ingest([CORPUS / "articles", CORPUS / "deals", CORPUS / "docs"])
    assert report.ok, (report.failed, report.record_errors[:5])
    return advisor


def test_whole_corpus_ingests_with_html_and_pdf(corpus_advisor: Advisor) -> None:
    catalog = corpus_advisor.store.catalog
    pdf = catalog.document("asia-licensing-outlook-2026")
    html = catalog.document("jp-market-entry-checklist")
    assert pdf is not None and len(pdf.pages) >= 3
    assert html is not None and "cookie" not in html.text.lower()
    assert catalog.counts()["documents"] >= 60 + 200 + 2


def _sentence_with(marker: str) -> str:
    for path in (CORPUS / "articles").glob("*.md"):
        for sentence in path.read_text().replace("\n", " ").split(". "):
            if marker in sentence:
                return sentence
    raise AssertionError(marker)


@pytest.mark.parametrize("marker", MARKERS)
def test_no_internal_passage_reaches_a_public_answer(corpus_advisor: Advisor, marker: str) -> None:
    # the most tempting question: the internal sentence itself, with and without its marker
    sentence = _sentence_with(marker)
    for question in (sentence, sentence.replace(marker, "")):
        answer = corpus_advisor.ask(question[:2000], audience="public")
        shown = answer.text + " ".join(c.passage + c.title for c in answer.citations)
        assert marker.lower() not in shown.lower()
        assert all(c.audience == "public" for c in answer.citations)
        assert all(not s.doc_id.startswith("int-") for s in answer.sources)
    internal = corpus_advisor.ask(sentence[:2000], audience="internal")
    assert any(c.doc_id.startswith("int-") for c in internal.citations), "consultants should see internal sources"
