import pytest

from advisor.asked import asked_fields, asked_kind, states


@pytest.mark.parametrize(("question", "kind"), [
    ("What upfront did Verdiva Bio pay Sciwind Biosciences?", "money"),
    ("How much did Pfizer pay 3SBio upfront?", "money"),
    ("What were the financial terms of the deal?", "money"),
    ("What were Akeso's total revenues in 2024?", "money"),
    ("How many patients were enrolled in HARMONi-2?", "number"),
    ("What was the overall survival hazard ratio?", "number"),
    ("When did the House pass the FY2026 NDAA?", "date"),
    ("On what exact date do the prohibitions take effect?", "date"),
    # no value asked for, though the words appear
    ("How much capacity does Samsung Biologics have at Songdo?", None),
    ("How should we handle MFN pricing risk when licensing Asian rights?", None),
    ("What did AstraZeneca agree with CSPC in 2025?", None),
])
def test_the_kind_of_value_a_question_asks_for(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


def test_an_answer_states_a_value_of_that_kind_or_not() -> None:
    assert states("money", "Pfizer paid $1.25bn upfront [1].")
    assert states("money", "The upfront was 1,250 million USD.")
    assert not states("money", "Verdiva Bio licensed ecnoglutide from Sciwind Biosciences [2].")
    assert not states("number", "The trial met its primary endpoint [1].")  # a citation number is not a value
    assert states("date", "The House passed it on 11 December 2025 [1].")
    assert not states("date", "The House has passed the bill [3].")


def test_a_named_kind_of_money_must_be_stated_as_that_kind() -> None:
    record = "Duality Biologics–Avenzo Therapeutics deal value: upfront $50m, milestones not reported [2]."
    assert states("money", record, ["upfront"])
    assert not states("money", record, ["milestone"])  # an amount next to another field answers nothing
    assert states("money", "The deal included $200m in upfront cash [1].", ["upfront"])
    assert not states("money", "China accounted for $6.4bn of AstraZeneca's sales [4].", ["upfront"])
    assert states("money", "China accounted for $6.4bn of AstraZeneca's sales [4].", ["revenue"])
    assert states("money", "Pfizer paid $1.25bn [1].")  # no field named: any amount


def test_which_money_a_question_names() -> None:
    assert asked_fields("What NHI price did Japan set for Leqembi?") == ["price"]
    assert asked_kind("What NHI price did Japan set for Leqembi?") == "money"
    assert asked_fields("What milestones are attached to the licence?") == ["milestone"]
    assert asked_fields("What were Akeso's total revenues in 2024?") == ["revenue"]
    assert asked_fields("How much did AstraZeneca pay CSPC?") == []


def test_a_year_or_a_code_is_not_a_count() -> None:
    assert not states("number", "HARMONi-2 enrolled only patients in China in 2022 [1].")
    assert not states("number", "The licence covers HRS9531 and BB-1701 [2].")
    assert states("number", "It enrolled 398 patients [1].")
    assert states("number", "Four deals illustrate the range [1].")
