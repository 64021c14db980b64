"""The pipeline end to end on a real embedded Chroma with the fake embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from advisor.advisor import Advisor, InputError
from advisor.cite import SUPPORT_THRESHOLD, cited_sentences, support
from advisor.config import Settings
from advisor.intent import question_parts
from advisor.retrieve import Filters
from advisor.retriever_lc import AdvisorRetriever
from advisor.types import Answer
from tests.conftest import DEALS_HEADER, write_article


@pytest.fixture
def advisor(settings: Settings, mini_corpus: Path) -> Advisor:
    adv = Advisor.from_settings(settings)
    assert adv.ingest([mini_corpus]).ok
    return adv


def test_answer_states_the_value_and_every_citation_supports_its_sentence(advisor: Advisor) -> None:
    answer = advisor.ask("What did AstraZeneca agree with CSPC in 2025?")
    assert answer.covered and answer.citations
    assert "$5.3bn" in answer.text
    by_n = {c.n: c for c in answer.citations}
    for sentence in cited_sentences(answer.text):
        assert sentence.refs, f"uncited sentence: {sentence.text}"
        for n in sentence.refs:
            citation = by_n[n]
            document = advisor.store.catalog.document(citation.doc_id)
            assert document is not None
            assert document.text[citation.char_start:citation.char_end] == citation.passage
            assert support(sentence.text, citation.passage) >= SUPPORT_THRESHOLD
    assert {c.doc_id for c in answer.citations} & {"az-cspc", "D1"}
    assert answer.sources[0].url.startswith("https://example.com/")


def test_uncovered_question_gets_the_honest_answer_and_no_citations(advisor: Advisor) -> None:
    answer = advisor.ask("What is the boiling point of tungsten at sea level?")
    assert not answer.covered
    assert answer.citations == [] and answer.sources == []
    assert "don't cover" in answer.text
    assert answer.route == "no_coverage"


def test_public_audience_never_sees_internal_passages(advisor: Advisor) -> None:
    question = "What success fee does the Lantern Protocol set for a China scouting mandate?"
    public = advisor.ask(question, audience="public")
    assert "Lantern" not in public.text
    assert all(c.audience == "public" for c in public.citations)
    internal = advisor.ask(question, audience="internal")
    assert "Lantern Protocol" in internal.text
    assert any(c.doc_id == "fee-playbook" for c in internal.citations)


def test_filters_restrict_by_company_date_and_type(advisor: Advisor) -> None:
    hits = advisor.retriever.search("licensing deal", Filters(companies=("Pfizer",)), k=5)
    assert hits and {h.chunk.doc_id for h in hits} == {"D2"}
    hits = advisor.retriever.search("Japan", Filters(date_to=20241231), k=5)
    assert {h.chunk.doc_id for h in hits} == {"japan-pmda"}
    hits = advisor.retriever.search("deal", Filters(doc_types=("deal",)), k=5)
    assert {h.chunk.doc_id for h in hits} == {"D1", "D2"}
    hits = advisor.retriever.search("deal", Filters(therapy_areas=("oncology",)), k=5)
    assert {h.chunk.doc_id for h in hits} == {"japan-pmda", "D2"}


def test_region_filter_matches_countries_and_groups(advisor: Advisor) -> None:
    def found(*regions: str) -> set[str]:
        return {h.chunk.doc_id for h in advisor.retriever.search("deal", Filters(regions=regions), k=10)}

    assert found("United States") == {"D2"}  # Pfizer's side of the 3SBio licence
    assert found("europe") == {"D1"}  # a group, any spelling: AstraZeneca is in the United Kingdom
    # the fixture's articles are all tagged China; the internal one stays out of a public search
    assert found("Greater China") == {"D1", "D2", "az-cspc", "biosecure", "japan-pmda"}
    assert found("Japan") == set()
    # the same filter as a Chroma `where` (used when the in-memory path is not taken) selects the same rows
    where = Filters(audience="internal", regions=("Europe",)).where()
    assert where is not None and {"regions": {"$contains": "united kingdom"}} in where["$or"]


def test_hybrid_fusion_finds_exact_terms_the_embedder_misses(advisor: Advisor) -> None:
    hits = advisor.retriever.search("SSGJ-707", Filters(), k=3)
    assert hits[0].chunk.doc_id == "D2"
    assert hits[0].lexical_score is not None


def test_langchain_retriever_returns_documents_with_metadata(advisor: Advisor) -> None:
    retriever = AdvisorRetriever(hybrid=advisor.retriever, k=2)
    docs = retriever.invoke("PMDA Washington office")
    assert docs and docs[0].metadata["doc_id"] == "japan-pmda"
    assert docs[0].metadata["audience"] == "public"


@pytest.mark.parametrize("question,message", [("   ", "empty"), ("x" * 2001, "limit is 2000")])
def test_bad_questions_are_refused_with_a_reason(advisor: Advisor, question: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        advisor.ask(question)


def test_unknown_audience_is_refused(advisor: Advisor) -> None:
    with pytest.raises(InputError, match="audience"):
        advisor.ask("Japan", audience="everyone")  # type: ignore[arg-type]


@pytest.mark.server
def test_server_mode_answers_the_same_way(tmp_path: Path, mini_corpus: Path, chroma_server: str) -> None:
    settings = Settings(data_dir=tmp_path / "srv", embedder="hash", chroma_url=chroma_server,
                        collection="answer-test", min_evidence_score=0.25)
    adv = Advisor.from_settings(settings)
    assert adv.ingest([mini_corpus]).ok
    answer = adv.ask("How much did AstraZeneca pay CSPC upfront?")
    assert answer.covered and "$110m" in answer.text
    assert adv.store.vectors.ids() == adv.store.catalog.all_chunk_ids()


@pytest.mark.parametrize("filters", [Filters(), Filters(audience="internal"), Filters(therapy_areas=("oncology",)),
                                     Filters(regions=("Greater China",), date_from=20250101)])
def test_exact_and_ann_dense_paths_agree(advisor: Advisor, filters: Filters) -> None:
    """A small index is scored exactly in memory; the Chroma ANN path must return the same passages."""
    from advisor.retrieve import HybridRetriever

    ann = HybridRetriever(advisor.store, advisor.embedder, exact_below=0, max_cached_vectors=0)
    exact = advisor.retriever
    for query in ("AstraZeneca CSPC upfront", "Japan drug lag", "oncology licence"):
        vector = advisor.embedder.embed([query])[0]
        table = exact._rows()
        mask = table.mask(filters)
        got_exact = dict(exact._dense(vector, filters, table, mask))
        got_ann = dict(ann._dense(vector, filters, ann._rows(), mask))
        assert got_exact.keys() == got_ann.keys() and len(got_exact) == int(mask.sum())
        for chunk_id, similarity in got_exact.items():
            assert similarity == pytest.approx(got_ann[chunk_id], abs=1e-4)


def test_on_topic_sources_without_the_asked_value_are_not_an_answer(advisor: Advisor) -> None:
    answer = advisor.ask("How much did the PMDA pay for its office in Washington DC?")
    assert answer.citations and {c.doc_id for c in answer.citations} == {"japan-pmda"}  # on topic, cited
    assert not answer.covered and answer.route == "partial"
    assert answer.text.endswith("context, not an answer.") and "None of our sources states the amount" in answer.text
    # when the value is there, nothing changes
    stated = advisor.ask("How much was paid upfront in the AstraZeneca and CSPC deal?")
    assert stated.covered and "$110m" in stated.text


def test_a_year_the_sources_never_mention_is_not_answered_by_their_other_years(advisor: Advisor) -> None:
    answer = advisor.ask("What will Japan relax for phase 1 studies before global trials in 2027?")
    assert answer.citations and {c.doc_id for c in answer.citations} == {"japan-pmda"}  # on topic, cited
    assert not answer.covered and answer.route == "partial"
    assert answer.text.endswith("None of our sources covers 2027, so the passages above are context, not an answer.")
    # the year the sources report is answered as before
    stated = advisor.ask("What did Japan relax for phase 1 studies before global trials in 2023?")
    assert stated.covered and stated.route != "partial" and "December 2023" in stated.text


def test_a_name_no_source_mentions_is_not_answered_by_its_neighbours(advisor: Advisor) -> None:
    answer = advisor.ask("What did Mabwell relax for phase 1 studies?")
    assert answer.citations and not answer.covered and answer.route == "partial"  # on topic, cited as context
    assert answer.text.endswith("None of our sources mentions Mabwell, so the passages above are context, not an "
                                "answer.")
    assert advisor.unmentioned_names("What did Mabwell relax in Japan?") == ["Mabwell"]
    # a compound of words the sources hold names what they name; a number is a figure, not a name; a word not
    # written as a name is a word the sources may phrase otherwise
    assert advisor.unmentioned_names("What did the AstraZeneca-CSPC deal pay upfront, $110m?") == []
    assert advisor.unmentioned_names("What did mabwell relax in Japan?") == []
    # a sentence's first word may be a name too, only the sources tell; a contraction is grammar
    assert advisor.unmentioned_names("Mabwell relaxed what in Japan?") == ["Mabwell"]
    assert advisor.unmentioned_names("We'd like to know what Japan relaxed for phase 1 studies.") == []


def test_two_names_no_source_mentions_weigh_together(advisor: Advisor) -> None:
    question = "Lumora licensed LMR-77 to whom in Japan?"
    lexical = advisor.store.lexical()
    assert lexical.idf("lumora") == lexical.idf("lmr-77") == lexical.idf("\x00never-indexed")  # neither is held
    vector = advisor.embedder.embed([question])[0]
    each = advisor._salience(question, ["lumora", "lmr-77"], vector)
    together = advisor._salience(question, [["lumora", "lmr-77"]], vector)[0]
    assert together > max(each)  # the question rests on the two more than on either
    assert set(advisor.unmentioned_names(question)) <= {"Lumora", "LMR-77"}
    assert advisor.unmentioned_names(question)


def test_a_records_answer_says_when_the_question_names_what_no_record_holds(advisor: Advisor) -> None:
    plain = advisor.ask("How many oncology deals are there?")
    assert plain.route == "analytics" and plain.covered and plain.citations
    # the records' answer to the words they match, for a question that rests on a name they never mention (on the
    # real corpus: "Ascletis has an oral GLP-1 called ASC30: who licensed it?" matched the oral GLP-1 deals)
    records = advisor.analytics.answer("How many oncology deals are there?")
    assert records is not None
    question = "How many oncology deals has Mabwell signed?"
    events = list(advisor._records_only(records, question, question, question, "public", 0.0))
    named = events[-1][1]
    assert isinstance(named, Answer)
    assert named.citations and not named.covered and named.route == "partial"  # the records, cited as context
    assert named.text.endswith("None of our sources mentions Mabwell, so the passages above are context, not an "
                               "answer.")
    assert "".join(str(v) for k, v in events if k == "delta") == named.text  # streamed as answered


def test_one_word_of_a_companys_name_is_that_company_not_its_partners_other_deal(settings: Settings,
                                                                                  tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "deals").mkdir(parents=True)
    (root / "deals" / "deals.csv").write_text(
        DEALS_HEADER
        + "D7,2025-01-13,Lanterra Kexin,China,AbbVie,United States,option,LK-0500,bispecific antibody,oncology,"
          "phase 1,Global ex-China,,,1055,,https://example.com/d7,\n"
        + "D8,2025-06-30,RemeGen,China,AbbVie,United States,licence,RC148,bispecific antibody,oncology,phase 1,"
          "Global ex-China,650,4950,5600,,https://example.com/d8,\n", encoding="utf-8")
    (root / "deals" / "deals.csv.meta.yaml").write_text("audience: public\npublisher: Meridian deal tracker\n")
    write_article(root, "abbvie-bispecifics", """
        ## AbbVie's bispecific deals in China
        AbbVie took an option on the Lanterra Kexin bispecific in January 2025, for a total of up to $1,055m.
        AbbVie paid RemeGen $650m upfront for its bispecific in June 2025.
        """)
    advisor = Advisor.from_settings(settings)
    assert advisor.ingest([root]).ok
    # "Lanterra" is how a user writes Lanterra Kexin: RemeGen's upfront from AbbVie is not its upfront
    answer = advisor.ask("How much did AbbVie pay Lanterra upfront for its bispecific?")
    assert answer.citations and not answer.covered and answer.route == "partial", answer.text
    assert answer.text.endswith("None of our sources states the amount you asked about, so the passages above are "
                                "context, not an answer.")
    stated = advisor.ask("How much did AbbVie pay RemeGen upfront for its bispecific?")
    assert stated.covered and "$650m" in stated.text


def test_another_companys_amount_is_not_an_answer(advisor: Advisor) -> None:
    # the sources state an upfront for AstraZeneca and CSPC, none for Pfizer and CSPC
    answer = advisor.ask("How much did Pfizer pay CSPC upfront?")
    assert answer.citations and not answer.covered and answer.route == "partial"
    assert "None of our sources states the amount" in answer.text
    stated = advisor.ask("How much did AstraZeneca pay CSPC upfront?")
    assert stated.covered and "$110m" in stated.text


def test_each_ask_of_a_compound_question_retrieves_its_evidence(advisor: Advisor) -> None:
    question = "What did AstraZeneca pay CSPC upfront, and when did Japan relax its phase 1 requirement?"
    asks = question_parts(question)
    assert len(asks) == 2
    filters = advisor._filters("public", None)
    timings: dict[str, float] = {}
    hits = advisor.retriever.search_asks(question, asks, filters, 2, timings)
    ids = [h.chunk.chunk_id for h in hits]
    assert len(ids) == len(set(ids)) and {"az-cspc", "japan-pmda"} <= {h.chunk.doc_id for h in hits}
    assert "embed_asks_ms" in timings
    answer = advisor.ask(question)
    assert answer.covered and "$110m" in answer.text and "December 2023" in answer.text


def test_a_public_question_nearer_an_internal_document_reads_how_much_nearer(advisor: Advisor) -> None:
    """The gate's `withheld` feature: the question's best similarity with a chunk the public may not see, less its
    best with one it may; never more than that, never for an internal caller. The exact and ANN paths agree."""
    from advisor.retrieve import HybridRetriever

    question = "What success fee do you quote under the Lantern Protocol on the upfront payment?"
    vector = advisor.embedder.embed([question])[0]
    internal_best = max(s for cid, s in advisor.retriever._dense(vector, Filters(audience="internal"),
                                                                  advisor.retriever._rows(),
                                                                  advisor.retriever._rows().mask(
                                                                      Filters(audience="internal"))))
    for retriever in (advisor.retriever, HybridRetriever(advisor.store, advisor.embedder, exact_below=0,
                                                         max_cached_vectors=0)):
        timings: dict[str, float] = {}
        hits = retriever.search(question, Filters(), 4, timings, vector=vector)
        assert all(h.chunk.meta["audience"] == "public" for h in hits)
        assert timings["top_withheld_similarity"] == pytest.approx(internal_best, abs=1e-4)
        assert timings["top_withheld_similarity"] > timings["top_dense_similarity"]  # the fee playbook is nearer
        nearest = retriever.nearest_withheld(vector, 2)  # the chunks the internal-matter check reads
        assert nearest and nearest[0].startswith("fee-playbook")
        assert all(advisor.store.catalog.document(cid.split("#")[0]).meta["audience"] != "public"  # type: ignore
                   for cid in nearest)
    features = advisor.evidence_features(question, hits, 0.5, dict(timings), vector, semantic=True)
    assert features["withheld"] == pytest.approx(timings["top_withheld_similarity"] - timings["top_dense_similarity"])
    internal: dict[str, float] = {}
    advisor.retriever.search(question, Filters(audience="internal"), 4, internal, vector=vector)
    assert "top_withheld_similarity" not in internal
    assert advisor.evidence_features(question, hits, 0.5, internal, vector, semantic=True)["withheld"] == 0.0
    # what the caller is shown never carries it
    assert not {"top_withheld_similarity", "top_dense_similarity"} & set(advisor.ask(question).timings_ms)


def test_a_question_mostly_in_another_script_is_read_by_its_latin_words_too(settings: Settings,
                                                                            advisor: Advisor) -> None:
    from advisor.advisor import latin_reading

    question = "武田薬品はHUTCHMEDのフルキンチニブ（fruquintinib）の権利取得で前払い金をいくら支払いましたか？"
    assert latin_reading(question) == "HUTCHMED fruquintinib"
    assert latin_reading("What did AstraZeneca pay CSPC? 阿斯利康") is None  # mostly Latin: read as written
    assert latin_reading("東京の天気は？") is None  # no Latin word to add
    full, names = advisor.embedder.embed([question, "HUTCHMED fruquintinib"])
    both = (full + names) / np.linalg.norm(full + names)
    assert np.allclose(advisor._embed_question([question])[0], both, atol=1e-5)
    english = "What did AstraZeneca agree with CSPC in 2025?"
    assert np.allclose(advisor._embed_question([english])[0], advisor.embedder.embed([english])[0])
    # a multilingual embedder reads every script: the setting turns the Latin reading off
    multilingual = Advisor(settings.model_copy(update={"embedder_latin_only": False}), store=advisor.store,
                           embedder=advisor.embedder)
    assert np.allclose(multilingual._embed_question([question])[0], full)

