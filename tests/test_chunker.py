from advisor.ingest.chunker import chunk_document, page_at
from advisor.types import Document


def _doc(text: str, **meta: object) -> Document:
    return Document("doc", text, {"title": "T", "doc_type": "article", **meta})


def test_chunks_are_exact_spans_within_size_bounds() -> None:
    sections = "\n\n".join(
        f"## Section {i}\n\n"
        + " ".join(f"Sentence {j} of section {i} covers royalties and milestones." for j in range(40))
        for i in range(3))
    doc = _doc("# Title\n\n" + sections)
    chunks = chunk_document(doc, target_words=170, max_words=230)
    assert len(chunks) >= 6
    for chunk in chunks:
        assert doc.text[chunk.char_start:chunk.char_end] == chunk.text
        assert len(chunk.text.split()) <= 230 + 3  # a heading line may ride along


def test_headings_start_new_chunks_and_name_the_section() -> None:
    body = " ".join("This paragraph talks about Japanese drug pricing in detail." for _ in range(12))
    doc = _doc(f"# Guide\n\n## Pricing\n\n{body}\n\n## Partners\n\n{body}")
    chunks = chunk_document(doc)
    assert [c.section for c in chunks] == ["Pricing", "Partners"]
    assert chunks[1].text.startswith("## Partners")


def test_long_paragraph_splits_with_one_sentence_overlap() -> None:
    sentences = [f"Sentence number {i} is about upfront payments in licensing deals." for i in range(80)]
    doc = _doc(" ".join(sentences))
    chunks = chunk_document(doc, target_words=170, max_words=230, overlap_sentences=1)
    assert len(chunks) >= 3
    last_of_first = chunks[0].text.rsplit(". ", 1)[-1]
    assert chunks[1].text.startswith(last_of_first.rstrip("."))


def test_deal_record_is_one_chunk() -> None:
    doc = _doc("A deal. " * 200, doc_type="deal")
    assert len(chunk_document(doc)) == 1


def test_chunk_ids_are_stable_and_change_with_content() -> None:
    doc = _doc("## A\n\nFirst paragraph is here and long enough.\n\n## B\n\nSecond paragraph is here too.")
    first = [c.chunk_id for c in chunk_document(doc)]
    assert first == [c.chunk_id for c in chunk_document(doc)]
    changed = _doc(doc.text.replace("Second", "Another"))
    assert [c.chunk_id for c in chunk_document(changed)] != first


def test_pdf_chunks_carry_their_page() -> None:
    page1 = " ".join("Page one talks about China out-licensing." for _ in range(40))
    page2 = " ".join("Page two talks about Japanese pricing rules." for _ in range(40))
    text = page1 + "\n\n" + page2
    doc = Document("pdf", text, {"title": "R", "doc_type": "report"},
                   pages=[(1, 0, len(page1)), (2, len(page1) + 2, len(text))])
    chunks = chunk_document(doc)
    assert chunks[0].meta["page"] == 1
    assert chunks[-1].meta["page"] == 2
    # a chunk that runs onto page 2 says where page 2 begins: a passage there is cited on page 2
    spanning = [c for c in chunks if c.char_start < len(page1) + 2 < c.char_end]
    assert spanning and spanning[0].meta["page_turns"] == f"{len(page1) + 2}:2"
    assert page_at(spanning[0].meta, spanning[0].char_start) == 1
    assert page_at(spanning[0].meta, len(page1) + 2) == 2
    assert page_at({"title": "no pages"}, 10) is None
