"""A question about a name no source the caller may read mentions is refused, whatever the nearest passages say."""

from __future__ import annotations

import pytest

from advisor.advisor import Advisor
from advisor.config import Settings
from advisor.unknown import unknown_names
from tests.conftest import write_article, write_public_and_internal

PIECES = {"mabwell": ["mab", "##well"], "licensed": ["licensed"], "weather": ["weather"],
          "scrapes": ["scrape", "##s"], "hengruy": ["hen", "##gr", "##uy"], "collab": ["col", "##lab"],
          "overpay": ["over", "##pa", "##y"], "asc30": ["as", "##c", "##30"], "oncology": ["oncology"]}
VOCABULARY = {"licens", "hengrui", "collabor", "pay", "oncolog", "adc"}


def names(question: str, mentioned: frozenset[str] = frozenset()) -> list[str]:
    readable = VOCABULARY | mentioned
    return unknown_names(question, lambda t: t in readable, lambda: VOCABULARY | {"secret"},
                         lambda w: PIECES.get(w.lower(), [w.lower()]))


def test_a_name_the_tokenizer_splits_and_no_passage_holds_is_unknown() -> None:
    assert names("Has Mabwell licensed its oncology ADC?") == ["Mabwell"]
    assert names("has mabwell licensed anything?") == ["mabwell"]  # however it is written
    assert names("Has Mabwell licensed its ADC?", mentioned=frozenset({"mabwel"})) == []
    assert names("Who licensed ASC30 and for how much?") == ["ASC30"]  # a code


def test_a_year_no_source_mentions_is_unknown_in_a_question_about_what_will_happen() -> None:
    assert names("Which biotech will sign the biggest deal of 2027?") == ["2027"]
    assert names("Which biotech will sign the biggest deal of 2027?", mentioned=frozenset({"2027"})) == []
    assert names("We plan a 2027 launch: what should we know about pricing?") == []  # context, not the ask


def test_words_typos_clipped_and_prefixed_words_are_not_unknown_names() -> None:
    assert names("what's the weather in Tokyo? it scrapes by") == []  # whole words of the tokenizer's vocabulary
    assert names("What did Hengruy get?") == []  # one letter off a known name
    assert names("an AI collab, and we overpay?") == []  # clipped ("collabor…"), prefixed ("pay")
    assert names("we're sure they'll pay") == []  # contractions


def test_without_a_tokenizer_a_capitalised_word_after_the_first_is_a_name() -> None:
    found = unknown_names("Did Zorblax license anything?", lambda t: False, lambda: VOCABULARY, None)
    assert found == ["Zorblax"]
    assert unknown_names("Zorblax licensed what?", lambda t: False, lambda: VOCABULARY, None) == []


def test_a_known_word_the_caller_may_not_read_is_no_excuse() -> None:
    pieces = {"secret": ["sec", "##ret"], "secrets": ["sec", "##rets"]}.get
    # "secret" is indexed, but not in any passage this caller may read: neither it nor its typo counts as known
    assert unknown_names("about the Secret deal", lambda t: t in VOCABULARY, lambda: VOCABULARY | {"secret"},
                         lambda w: pieces(w.lower()) or [w.lower()]) == ["Secret"]


@pytest.fixture(scope="module")
def advisor(tmp_path_factory: pytest.TempPathFactory) -> Advisor:
    root = tmp_path_factory.mktemp("unknown")
    corpus = root / "corpus"
    corpus.mkdir()
    write_public_and_internal(corpus)
    write_article(corpus, "hengrui-glp1", "In May 2024 Hengrui licensed three GLP-1 programmes to Kailera.")
    adv = Advisor.from_settings(Settings(data_dir=root / "data", embedder="hash"))
    assert adv.ingest([corpus]).ok
    return adv


def test_a_question_about_an_unknown_name_is_refused_naming_it_to_consultants(advisor: Advisor) -> None:
    answer = advisor.ask("How much did Zorblax pay CSPC upfront?", audience="internal")
    assert answer.route == "no_coverage" and not answer.covered and not answer.citations
    assert answer.text.startswith("Our sources don't mention Zorblax")
    assert "not in the sources: Zorblax" in answer.notes
    known = advisor.ask("How much did AstraZeneca pay CSPC upfront?", audience="internal")
    assert known.covered and "$110m" in known.text


def test_the_public_gets_the_plain_refusal_for_a_name_no_public_source_holds(advisor: Advisor) -> None:
    plain = advisor.ask("Who is Zorblax?", audience="public")  # no source holds it
    internal_only = advisor.ask("What success fee does the Lantern Protocol set?", audience="public")
    for answer in (plain, internal_only):  # the same answer: nothing tells an internal name from an unknown one
        assert answer.route == "no_coverage" and not answer.citations and not answer.notes
        assert answer.text.startswith("Our sources don't cover this question")
    assert "Lantern" not in internal_only.text and "1.5%" not in internal_only.text
    internal = advisor.ask("What success fee does the Lantern Protocol set?", audience="internal")
    assert internal.covered and "1.5%" in internal.text


def test_the_streamed_answer_refuses_the_same_way(advisor: Advisor) -> None:
    events = list(advisor.stream("Did Zorblax license a GLP-1 from Hengrui?", audience="internal"))
    assert events[0] == {"event": "sources", "data": []}
    assert "".join(e["data"] for e in events if e["event"] == "delta").startswith("Our sources don't mention Zorblax")
    final = events[-1]
    assert final["event"] == "answer" and final["data"]["route"] == "no_coverage" and not final["data"]["citations"]
