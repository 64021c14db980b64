"""Reading the shape of answer a question wants, by rules: a list, a comparison, where the user points."""

from __future__ import annotations

import pytest

from advisor.intent import (
    is_advice,
    is_comparison,
    is_list_question,
    list_focus,
    question_parts,
    without_source_reference,
)


@pytest.mark.parametrize(("question", "focus"), [
    ("What launch price premiums does Japan's NHI system offer for new medicines?", ("premiums",)),
    ("Which CAR-T therapies has China's NMPA approved?", ("therapies",)),
    ("Which sanctions and restricted-party lists should we screen a licensor against?", ("sanctions", "lists")),
    ("What human genetic resources checks should we run?", ("resources", "checks")),
    ("What are the main risks of an AI partnership in China?", ("risks",)),
    ("Which companies have licensed Alteogen's platform?", ("companies",)),
])
def test_which_and_what_plural_questions_ask_for_a_list(question: str, focus: tuple[str, ...]) -> None:
    assert is_list_question(question)
    assert list_focus(question) == focus


@pytest.mark.parametrize("question", [
    "List the Chinese obesity licences signed in 2024.",
    "Name the companies in the MELLODDY project.",
    "What changed under China's March 2024 cross-border data provisions?",
])
def test_list_verbs_and_what_changed_ask_for_a_list(question: str) -> None:
    assert is_list_question(question) and list_focus(question) == ()


@pytest.mark.parametrize("question", [
    "What is the upfront AstraZeneca paid CSPC?",
    "What was the overall survival hazard ratio in HARMONi-2?",
    "How much did Pfizer pay 3SBio upfront?",
    "When did the Senate pass the NDAA?",
    "What does BIOSECURE mean for CDMO contracts?",
])
def test_single_value_questions_are_not_lists(question: str) -> None:
    assert not is_list_question(question)


@pytest.mark.parametrize(("question", "expected"), [
    ("How do Samsung Biologics and Celltrion differ?", True),
    ("How did the upfront share compare between the Pfizer and BMS deals?", True),
    ("What is the difference between CTN and CTA schemes?", True),
    ("Pfizer versus BMS: whose upfront was larger?", True),
    ("What did Pfizer pay 3SBio?", False),
])
def test_comparisons_are_recognised(question: str, expected: bool) -> None:
    assert is_comparison(question) is expected


def test_a_pointer_to_the_source_is_dropped_but_its_topic_stays() -> None:
    assert without_source_reference("Which CAR-T therapies has the NMPA approved, according to our cell therapy "
                                    "briefing?") == "Which CAR-T therapies has the NMPA approved, cell therapy ?"
    assert without_source_reference("Which deals, according to the tracker, were signed?") == \
        "Which deals, , were signed?"
    assert without_source_reference("What did the briefing say about BIOSECURE?") == \
        "What did the briefing say about BIOSECURE?"  # the briefing is the subject here, not a pointer


def test_a_compound_question_is_split_into_its_asks() -> None:
    assert question_parts("Ono bought Deciphera in 2024. What did it pay, and which Deciphera drug had Zai Lab "
                          "licensed for Greater China?") == [
        "Ono bought Deciphera in 2024. What did it pay", "which Deciphera drug had Zai Lab licensed for Greater China?"]
    assert question_parts("What did BioNTech pay for Biotheus? How much did BMS then pay BioNTech upfront?") == [
        "What did BioNTech pay for Biotheus?", "How much did BMS then pay BioNTech upfront?"]
    # one ask: a comparison's "and", an ask too short to stand alone
    assert question_parts("How do Samsung Biologics and Celltrion differ?") == [
        "How do Samsung Biologics and Celltrion differ?"]
    assert question_parts("Who held the rights, and why?") == ["Who held the rights, and why?"]


@pytest.mark.parametrize(("question", "advice"), [
    ("How should we structure the deal?", True),
    ("Should we base our Asia AI research in Japan or China?", True),
    ("How do we protect our know-how when transferring technology?", True),
    ("What contract protections should a licence with a Chinese partner include?", True),
    ("How much did AstraZeneca pay CSPC upfront?", False),
    ("How do Samsung Biologics and Celltrion differ?", False),
])
def test_a_question_asking_what_to_do_is_advice(question: str, advice: bool) -> None:
    assert is_advice(question) is advice
