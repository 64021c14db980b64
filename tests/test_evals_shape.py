"""Answer-shape rules (evals/shape.py) on labelled sentences: each rule's positives and negatives."""

from __future__ import annotations

import pytest

from evals.shape import false_refusal, fragment_reason, is_meta, is_restatement, sentences, shape

# (answer text, the sentence to judge, expected reason or None)
FRAGMENTS = [
    ("## Deal terms\nPfizer paid $1.25bn upfront for the asset.", "## Deal terms", "heading"),
    ("Upfront payments and milestones\nPfizer paid $1.25bn upfront for the asset.", "Upfront payments and milestones",
     "heading"),
    ("Why Western Buyers Keep Licensing Chinese Assets Despite The Political Risk In Washington\nText here is fine.",
     "Why Western Buyers Keep Licensing Chinese Assets Despite The Political Risk In Washington", "heading"),
    ("Pfizer paid $1.25bn upfront. The main terms were:", "The main terms were:",
     "colon without the items it announces"),
    ("The main terms were:\nPfizer paid $1.25bn upfront and agreed to invest $100m.", "The main terms were:",
     "colon without the items it announces"),
    ("Pfizer paid **$1.25bn** upfront for SSGJ-707 [1].", "Pfizer paid **$1.25bn** upfront for SSGJ-707.",
     "markdown markers"),
    ("The __upfront__ was the largest of the year [2].", "The __upfront__ was the largest of the year.",
     "markdown markers"),
    ("Pfizer paid $1.25bn upfront (the largest of 2025 [1].", "Pfizer paid $1.25bn upfront (the largest of 2025.",
     "unbalanced brackets"),
    ("which it paid in cash) and equity [3].", "which it paid in cash) and equity.", "unbalanced brackets"),
    ("AstraZeneca paid $110m upfront [1, 2].", "AstraZeneca paid $110m upfront.", "under 5 words"),
    ("- Pfizer [1]", "- Pfizer", "under 5 words"),
    # negatives
    ("AstraZeneca paid $110m upfront for the CSPC platform [1, 2].",
     "AstraZeneca paid $110m upfront for the CSPC platform.", None),
    ("The main terms were:\n- Pfizer paid $1.25bn upfront for the asset.", "The main terms were:", None),
    ("The main terms were:\n[1] D5089, 2025-05-20: 3SBio to Pfizer, licence", "The main terms were:", None),
    ("5 deals match:\nCombined upfront: $697m across them.\n\n[1] D5032, 2023-11-09: Eccogene to AstraZeneca",
     "5 deals match:", None),  # the items follow within two lines
    ("Five deals match:\nOne.\nTwo.\n- D5032, 2023-11-09: Eccogene to AstraZeneca", "Five deals match:",
     "colon without the items it announces"),
    ("- Pfizer paid $1.25bn upfront and took a $100m equity stake", "- Pfizer paid $1.25bn upfront and took a "
     "$100m equity stake", None),
    ("The deal (signed in May 2025) gave Pfizer global rights [1][2].",
     "The deal (signed in May 2025) gave Pfizer global rights.", None),
    ("Pfizer paid $1.25bn upfront for the rights [1]. It also invested $100m in 3SBio [2].",
     "It also invested $100m in 3SBio.", None),
]


@pytest.mark.parametrize(("answer", "target", "expected"), FRAGMENTS)
def test_fragment_rule_on_labelled_sentences(answer: str, target: str, expected: str | None) -> None:
    by_text = {s.text: s for s in sentences(answer)}
    assert target in by_text, list(by_text)
    assert fragment_reason(by_text[target]) == expected


def test_sentences_drop_citation_markers_before_measuring() -> None:
    split = [s.text for s in sentences("Pfizer paid $1.25bn upfront [1]. [2] It also invested $100m [3, 4].\n[5]")]
    assert split == ["Pfizer paid $1.25bn upfront.", "It also invested $100m."]


def test_a_sentence_does_not_end_inside_parentheses() -> None:
    line = "Counted: one party in China (incl. Hong Kong); deal type licence. Public records only here."
    [counted, public] = sentences(line)
    assert counted.text == "Counted: one party in China (incl. Hong Kong); deal type licence."
    assert fragment_reason(counted) is None and public.text == "Public records only here."


RESTATE_Q = "What was the House vote on the BIOSECURE Act, H.R. 8333, in September 2024?"
YES_NO_Q = "Has the BIOSECURE Act passed the Senate?"
PAY_Q = "How much did Pfizer pay upfront for SSGJ-707?"
RESTATEMENTS = [
    (RESTATE_Q, "The BIOSECURE Act, H.R. 8333, was voted on in the House in September 2024.", True),
    (RESTATE_Q, "You asked about the House vote on the BIOSECURE Act in September 2024.", True),  # one new word
    (YES_NO_Q, "Whether the BIOSECURE Act has passed the Senate is a question.", True),
    (PAY_Q, "Pfizer paid an upfront amount for SSGJ-707.", True),
    # negatives: a new number, a yes/no or negation, or enough new words is an answer
    (RESTATE_Q, "The House vote on the BIOSECURE Act in September 2024 was 306 to 81.", False),
    (PAY_Q, "Pfizer paid $1.25bn upfront for SSGJ-707.", False),
    (YES_NO_Q, "The BIOSECURE Act has not passed the Senate.", False),
    (YES_NO_Q, "Yes, the Senate passed the BIOSECURE Act.", False),
    (YES_NO_Q, "The Senate stripped the BIOSECURE Act from the defence bill in December.", False),
    (PAY_Q, "It was the largest China out-licensing upfront of the year.", False),
]


@pytest.mark.parametrize(("question", "sentence", "expected"), RESTATEMENTS)
def test_restatement_rule_on_labelled_sentences(question: str, sentence: str, expected: bool) -> None:
    assert is_restatement(sentence, question) is expected


META = [
    ("This article explains each structure with examples from 2019 to 2025.", True),
    ("This briefing summarises four regimes as of November 2025.", True),
    ("In short, this outlook sets out where we expect deal volumes to go.", True),
    ("Our separate guide sets out the steps for a Japanese filing.", True),
    ("Our 2026 outlook covers the licensing market in more detail.", True),
    ("Below we answer the questions we hear most often from Western biotechs.", True),
    ("The views expressed in this outlook are those of Meridian's consultants.", True),
    ("As noted above, upfront payments rose sharply in 2025.", True),
    ("This is a question we hear from many first-time licensors.", True),
    ("We will update this note when a proclamation is published.", True),
    ("This overview, prepared by Meridian Asia Advisory in early 2023, sets out the rules.", True),
    # negatives: the subject is the finding, someone else's document, or not a document at all
    ("The report by GlobalData found that 28% of big pharma's in-licensing deals involved Chinese assets.", False),
    ("This report by GlobalData found 28% of deals involved Chinese assets.", False),
    ("This report found that 28% of in-licensing deals involved Chinese assets.", False),
    ("This section of the BIOSECURE Act names five companies.", False),
    ("The scope of this section of the BIOSECURE Act is narrower than the 2024 bill.", False),
    ("AstraZeneca did not publicly confirm all of these reports.", False),
    ("Our clients often report delays at customs.", False),
    ("Our view is that licensing volumes will keep growing in 2026.", False),
    ("This deal sets a new benchmark for upfront payments.", False),
    ("Pfizer paid $1.25bn upfront for SSGJ-707.", False),
]


@pytest.mark.parametrize(("sentence", "expected"), META)
def test_meta_rule_on_labelled_sentences(sentence: str, expected: bool) -> None:
    assert is_meta(sentence) is expected


def test_shape_rates_are_shares_of_the_answer_sentences() -> None:
    answer = ("## Overview\nThis article explains the deal. Pfizer paid $1.25bn upfront for SSGJ-707 and took a "
              "$100m stake in 3SBio [1]. Pfizer paid an upfront amount for SSGJ-707 [2].")
    result = shape(answer, PAY_Q)
    assert result.sentences == 4
    assert result.fragments == ["## Overview"]
    assert result.meta == ["This article explains the deal."]
    assert result.restatements == ["Pfizer paid an upfront amount for SSGJ-707."]
    record = result.record()
    assert (record["fragment_rate"], record["meta_rate"], record["restatement_rate"]) == (0.25, 0.25, 0.25)
    assert shape("", PAY_Q).record()["fragment_rate"] is None  # no sentences: undefined, not zero


@pytest.mark.parametrize(("refused", "answerable", "retrieved", "expected"), [
    (True, True, ["x", "gold", "y"], 1.0),  # the evidence was in the top 3 and it still refused
    (True, True, ["x", "y", "z", "gold"], 0.0),  # gold only at rank 4: a refusal is defensible
    (False, True, ["gold"], 0.0),  # answered
    (True, False, ["gold"], None),  # unanswerable: a refusal is right, no false refusal possible
])
def test_false_refusal_needs_the_gold_source_in_the_top_3(refused: bool, answerable: bool, retrieved: list[str],
                                                         expected: float | None) -> None:
    assert false_refusal(refused=refused, answerable=answerable, gold_sources=["gold"], retrieved=retrieved) == expected
