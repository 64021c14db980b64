"""Neighbour expansion: a sentence that announces an enumeration its own chunk does not hold ("Four deals
illustrate the range: …" at the end of a section) is followed by what it announces, read from the chunks after
it in the same document, each item cited to its own passage and verified."""

from __future__ import annotations

from pathlib import Path

from advisor.advisor import Advisor
from advisor.cite import Verifier, cited_sentences
from advisor.config import Settings
from advisor.generate.extractive import ExtractiveGenerator
from advisor.generate.lists import announced_count, announced_items, announces_elsewhere
from advisor.types import Chunk, Document, Hit
from tests.conftest import write_article

INTRO = """## Why the region matters

The region is a steady source of licensable assets for Western pharma and its biotechs keep signing deals.

Three deals illustrate the range of regional out-licensing: a cancer drug, an enzyme and a brain shuttle.
"""
SECTIONS = ["""## Alpha and Bigco: a cancer drug

In 2018 Alpha licensed its lung cancer drug to Bigco for $50m upfront. Bigco took it to approval in 2024.
""", """## Beta and Megapharma: an enzyme

Beta licensed its delivery enzyme to Megapharma in 2020. The enzyme turns infusions into injections.
""", """## Gamma and Sanofi: a brain shuttle

In 2022 Gamma licensed its brain shuttle antibody to Sanofi for $75m upfront.
""", """## What the deals have in common

Upfronts are modest and back-ends are large.
"""]


def _chunks() -> list[Chunk]:
    text, out, offset = "", [], 0
    for i, part in enumerate([INTRO, *SECTIONS]):
        out.append(Chunk(f"doc#{i}", "doc", part, offset, offset + len(part),
                         {"title": "Regional out-licensing", "audience": "public"}, part.splitlines()[0][3:]))
        text += part
        offset += len(part)
    return out


def _following(chunks: list[Chunk]):  # type: ignore[no-untyped-def]
    def following(chunk: Chunk, n: int) -> list[Chunk]:
        later = [c for c in chunks if c.char_start > chunk.char_start]
        return later[:n]
    return following


def _verified(text: str, citations: list, chunks: list[Chunk]) -> str:  # type: ignore[type-arg]
    document = Document("doc", "".join(c.text for c in chunks), {"title": "Regional out-licensing"})
    verifier = Verifier(citations, {"doc": document})
    for sentence in cited_sentences(text):
        verifier.add(sentence)
    result = verifier.result()
    assert not result.dropped, result.dropped
    return result.text


def test_a_cue_is_recognised_only_when_what_it_announces_lies_beyond_its_section() -> None:
    cue = INTRO.index("Three deals")
    span = (cue, INTRO.rstrip().__len__())
    assert announces_elsewhere(INTRO, span)
    assert announced_count(INTRO[slice(*span)]) == 3
    bullets = "Two risks stand out:\n\n- **Data.** Rules apply.\n- **Supply.** Plants move.\n"
    assert not announces_elsewhere(bullets, (0, bullets.index(":") + 1))  # its list is right under it
    label = "- **Security review triggers**: data from more than 500 individuals triggers a review.\n\n## Next"
    assert not announces_elsewhere(label, (2, label.index("review.") + 7))  # a bullet's label is no cue
    aside = "The forecast is cautious: we expect slower deals.\n\n## Next"
    assert not announces_elsewhere(aside, (0, aside.index("deals.") + 6))  # a colon alone announces nothing
    assert announced_count("In 2024, three deals stood out:") == 3


def test_announced_items_read_sections_or_continuing_bullets_and_stop_at_a_parent_heading() -> None:
    sections = [(part, 0) for part in SECTIONS]
    items = announced_items(sections, 3)
    assert [SECTIONS[i][slice(*item.heading)] for i, item in items if item.heading] == [
        "## Alpha and Bigco: a cancer drug", "## Beta and Megapharma: an enzyme",
        "## Gamma and Sanofi: a brain shuttle"]
    nested = "### One\n\nFirst point here.\n\n### Two\n\nSecond point here.\n\n## Parent again\n\nElse."
    assert len(announced_items([(nested, 0)], 5)) == 2
    bullets = "- **Data.** Rules apply.\n- **Supply.** Plants move.\n\nBoth matter.\n"
    assert [bullets[slice(*item.spans[0])] for _, item in announced_items([(bullets, 0)], 5)] == [
        "- **Data.** Rules apply.", "- **Supply.** Plants move."]
    assert announced_items([("Plain prose first.\n\n## Heading\n\nText.", 0)], 5) == []


def test_a_cue_that_ends_its_chunk_is_followed_by_the_sections_it_counts_each_cited_to_its_chunk() -> None:
    chunks = _chunks()
    generator = ExtractiveGenerator(lambda term: 1.0, following=_following(chunks))
    draft = generator.generate("Which regional out-licensing deals illustrate the range?", [Hit(chunks[0], 1.0)])
    text = _verified(draft.text, draft.citations, chunks)
    for name in ("Alpha and Bigco", "Beta and Megapharma", "Gamma and Sanofi"):
        assert name in text
    assert "in common" not in text  # three announced, three read
    assert [c.chunk_id for c in draft.citations] == ["doc#0", "doc#1", "doc#2", "doc#3"]
    assert "Alpha and Bigco: a cancer drug — In 2018 Alpha licensed" in draft.text
    assert draft.citations[1].passage.startswith("## Alpha and Bigco")


def test_without_neighbours_the_cue_stays_alone() -> None:
    chunks = _chunks()
    draft = ExtractiveGenerator(lambda term: 1.0).generate(
        "Which regional out-licensing deals illustrate the range?", [Hit(chunks[0], 1.0)])
    assert "Alpha" not in draft.text and "Three deals illustrate" in draft.text


def _long(sentence: str, n: int = 8) -> str:
    return " ".join(f"{sentence} Point {i} follows from it." for i in range(n))


def test_the_advisor_reads_the_announced_sections_from_the_catalog_and_never_leaves_the_document(
        settings: Settings, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    body = "\n\n".join([
        "## Why Korea matters", _long("Korean biotechs license antibodies and platforms to Western pharma."),
        "Four deals illustrate the range of Korean out-licensing: a drug, an enzyme, an ADC and a shuttle.",
        "## Yuhan and Janssen", _long("Yuhan licensed lazertinib to Janssen in 2018."),
        "## Alteogen and Merck", _long("Alteogen licensed its enzyme to Merck in 2020."),
        "## LigaChem and Janssen", _long("LigaChem licensed an ADC to Janssen in 2023."),
        "## ABL Bio and Sanofi", _long("ABL Bio licensed a brain shuttle to Sanofi in 2022."),
        "## Lessons", _long("Upfronts are modest and back-ends large."),
    ])
    write_article(corpus, "kr-deals", body, title="Korean out-licensing")
    write_article(corpus, "kr-deals-internal", "## Notes\n\n" + _long("Osprey-tier retainer terms for Korea."),
                  title="Korean notes", audience="internal")
    advisor = Advisor.from_settings(settings)
    assert advisor.ingest([corpus]).ok
    catalog = advisor.store.catalog
    chunks = sorted((c for c in catalog.iter_chunks() if c.doc_id == "kr-deals"), key=lambda c: c.char_start)
    assert len(chunks) >= 5
    assert [c.chunk_id for c in catalog.next_chunks(chunks[0].chunk_id, 3)] == [c.chunk_id for c in chunks[1:4]]
    assert catalog.next_chunks(chunks[-1].chunk_id, 3) == [] and catalog.next_chunks("nope#0", 3) == []
    assert all(c.doc_id == "kr-deals" for c in advisor.retriever.following(chunks[0], 50))

    answer = advisor.ask("Which Korean out-licensing deals illustrate the range of Korean out-licensing?")
    for name in ("Yuhan", "Alteogen", "LigaChem", "ABL Bio"):
        assert name in answer.text
    assert "Lessons" not in answer.text
    assert {c.doc_id for c in answer.citations} == {"kr-deals"}
