"""End to end with the real packaged all-MiniLM-L6-v2 on the shipped corpus (about a minute to embed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.advisor import Advisor
from advisor.cite import SUPPORT_THRESHOLD, cited_sentences, support
from advisor.config import Settings
from advisor.embed import SentenceTransformerEmbedder, packaged_minilm_path

pytestmark = pytest.mark.model
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(scope="module")
def advisor(tmp_path_factory: pytest.TempPathFactory) -> Advisor:
    settings = Settings(data_dir=tmp_path_factory.mktemp("model") / "data")  # the real default embedder
    adv = Advisor.from_settings(settings)
    assert isinstance(adv.embedder, SentenceTransformerEmbedder)
    report = adv.ingest([CORPUS / "articles", CORPUS / "deals", CORPUS / "docs"])
    assert report.ok and report.embedded == report.chunks_added > 700
    return adv


def test_packaged_model_loads_offline_and_embeds() -> None:
    embedder = SentenceTransformerEmbedder(packaged_minilm_path())
    vectors = embedder.embed(["China out-licensing", "licensing deals from China", "sourdough bread"])
    assert vectors.shape == (3, 384)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2


def test_batched_query_vectors_equal_one_at_a_time_vectors() -> None:
    """Concurrent questions share one padded model call; padding must not change any question's vector."""
    from concurrent.futures import ThreadPoolExecutor

    embedder = SentenceTransformerEmbedder(packaged_minilm_path())
    questions = ["Which Chinese ADC deals closed in 2025?", "BIOSECURE", "What did AstraZeneca agree with CSPC "
                 "in 2025, and how much was paid upfront against the headline value?", "Japan market entry"] * 4
    alone = [embedder.embed([q])[0] for q in questions]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda q: embedder.embed([q])[0], questions))
    for a, b in zip(alone, together, strict=True):
        assert float(a @ b) > 0.9999


def test_az_cspc_answer_states_the_value_with_a_supporting_citation(advisor: Advisor) -> None:
    answer = advisor.ask("What did AstraZeneca agree with CSPC in 2025?")
    assert answer.covered
    assert advisor.gate.source.startswith("calibrated")
    valued = [s for s in cited_sentences(answer.text) if "5.3bn" in s.text or "5,3" in s.text]
    assert valued, answer.text
    by_n = {c.n: c for c in answer.citations}
    for sentence in valued:
        for n in sentence.refs:
            assert "5.3bn" in by_n[n].passage
            assert support(sentence.text, by_n[n].passage) >= SUPPORT_THRESHOLD


def test_out_of_scope_question_is_refused_without_citations(advisor: Advisor) -> None:
    answer = advisor.ask("How do I bake sourdough bread at home?")
    assert not answer.covered and answer.citations == []


def test_prospect_question_gets_public_sources_only(advisor: Advisor) -> None:
    answer = advisor.ask("How can we engage in AI partnerships without IP exposure?")
    assert answer.covered
    assert answer.citations and all(c.audience == "public" for c in answer.citations)


def test_a_missing_word_of_manner_weighs_less_than_a_missing_subject(advisor: Advisor) -> None:
    """The gate's `missing` feature: the embedder says how much the question's meaning rests on a word."""
    adc = "What is an ADC and why are chinese companies apparently so good at them?"
    filler, subject = advisor._salience(adc, ["appar", "adc"], advisor.embedder.embed([adc])[0])
    assert filler < 0.05 < 0.15 < subject
    kailera = "How many employees does Kailera have?"
    employees, = advisor._salience(kailera, ["employe"], advisor.embedder.embed([kailera])[0])
    assert employees > 0.1  # a thing asked about, absent from the sources, still counts against them


def test_a_definition_question_is_answered_from_the_section_that_defines_it_in_order(advisor: Advisor) -> None:
    answer = advisor.ask("What's a NewCo deal and why would a Chinese biotech do one?")
    assert answer.covered, answer.text
    first = answer.text.index("A NewCo deal is a licensing transaction")
    assert first < answer.text.index("In return, the Chinese licensor receives")  # the author's order
    assert "cn-newco-structures" in {c.doc_id for c in answer.citations}


def test_a_question_leaning_on_the_conversation_without_a_pronoun_is_read_with_it_only_when_that_answers_it(
        advisor: Advisor) -> None:
    from advisor.types import Turn

    history = [Turn(role="user", content="What is Alteogen's licence with Merck about?"),
               Turn(role="assistant", content="...")]
    question = "When did the FDA approve the subq version?"  # "the subq version": of what the user just asked about
    assert not advisor.ask(question).covered
    read_with = advisor.ask(question, history=history)
    assert read_with.covered and "September 2025" in read_with.text
    assert read_with.notes[0] == f"read as: {history[0].content} {question}"
    # a new subject the sources lack stays refused: the conversation's sources do not answer it
    moon = advisor.ask("Which volcano erupted on the far side of the moon?", history=history)
    assert not moon.covered and not any(n.startswith("read as") for n in moon.notes)


def test_a_public_question_about_what_only_internal_documents_hold_is_not_answered(advisor: Advisor) -> None:
    question = "how much do you charge for a japan market entry assessment and how long does it take?"
    public = advisor.ask(question, audience="public")
    # the public sources on entering Japan are near it too, but are no answer to the firm's own price
    assert not public.covered and public.route == "no_coverage" and not public.citations and not public.sources
    assert "85,000" not in public.text and "rate card" not in public.text.lower()
    internal = advisor.ask(question, audience="internal")
    assert internal.covered and "85,000" in internal.text
    # a public question on the subject the public sources hold is answered as before
    answered = advisor.ask("Should a small US biotech license its drug to a Japanese partner or launch in Japan "
                           "itself?", audience="public")
    assert answered.covered and answered.citations


def test_who_holds_a_role_is_answered_only_by_a_person_the_question_does_not_name(advisor: Advisor) -> None:
    named = advisor.ask("Who was the AstraZeneca China president that Chinese authorities investigated in 2024?")
    assert named.covered and "Leon Wang" in named.text
    successor = advisor.ask("Who took over as president of AstraZeneca China after Leon Wang was detained?")
    assert successor.citations and not successor.covered and successor.route == "partial"
    assert successor.text.endswith("None of our sources names the person you asked about, so the passages above are "
                                   "context, not an answer.")

