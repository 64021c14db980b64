"""The fact matcher: required facts found in answers however they are written, and only when they are there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.facts import fact_present, quantities

REPO = Path(__file__).resolve().parents[1]

PRESENT = [
    ("$1.4bn", "Merck paid $1,400m upfront."),
    ("$1.4bn", "an upfront of 1.4 billion dollars"),
    ("$1.4bn", "US$1.4 billion"),
    ("$1,400m", "about $1.4bn in total"),
    ("$1,207m", "roughly $1.2bn"),  # the answer rounds the gold
    ("USD 120m", "a budget of $120m"),
    ("EUR 4,200", "EUR 4,200 per patient"),
    ("1 million", "1m samples"),
    ("28%", "28 per cent of deals"),
    ("19.9%", "a 19.9 percent stake"),
    ("1–5%", "typically 1-5% of headline value"),
    ("1–5%", "between 1% and 5%"),
    ("35–60%", "35 to 60 per cent"),
    ("306", "passed by 306 votes to 81"),
    ("7", "7 deals match."),
    ("eight years", "could take up to 8 years"),
    ("three-year", "a three year term"),
    ("12 to 18 months", "12–18 months"),
    ("11.14 months", "median PFS of 11.14 months"),
    ("2025", "announced 2025-06-13"),
    ("11 December 2025", "on December 11, 2025"),
    ("11 December 2025", "passed on 2025-12-11"),
    ("October 2025", "on 15 October 2025"),
    ("WuXi AppTec", "wuxi apptec and others"),
    ("H.R. 8333", "the House passed H.R. 8333"),
    ("FY2026", "the FY2026 NDAA"),
    ("Entity List", "on the Unreliable Entity List"),
    ("B7-H3", "a B7–H3 ADC"),
]

ABSENT = [
    ("$5bn", "worth up to $5.3bn"),  # more precise gold: $5.3bn does not state $5bn
    ("$6.9bn", "about $6bn"),
    ("$110m", "$1,100m"),
    ("$1.25bn", "$1.2bn"),
    ("EUR 4,200", "$4,200"),
    ("28%", "28 deals"),
    ("30", "$30m"),
    ("1–5%", "1% of"),
    ("306", "3060 votes"),
    ("6", "on 2025-06-13"),  # a month in an ISO date is not a count
    ("eight years", "eight months"),
    ("11 December 2025", "on 12 December 2025"),
    ("October 2025", "October 2024"),
    ("Merck KGaA", "Merck & Co."),
    ("Merck", "Merckle"),
    ("WuXi Biologics", "WuXi AppTec"),
    ("302", "RATIONALE-302"),
]


@pytest.mark.parametrize(("fact", "answer"), PRESENT)
def test_fact_is_found_however_it_is_written(fact: str, answer: str) -> None:
    assert fact_present(fact, answer).found, (fact, answer, quantities(answer))


@pytest.mark.parametrize(("fact", "answer"), ABSENT)
def test_fact_is_not_found_when_the_answer_says_something_else(fact: str, answer: str) -> None:
    assert not fact_present(fact, answer).found, (fact, answer, quantities(answer))


def test_fact_kinds() -> None:
    assert fact_present("$1.4bn", "").kind == "money"
    assert fact_present("28%", "").kind == "percent"
    assert fact_present("1–5%", "").kind == "percent range"
    assert fact_present("11 December 2025", "").kind == "date"
    assert fact_present("Cedar Ledger", "").kind == "text"


def test_every_required_fact_in_the_set_is_found_in_its_own_gold_answer() -> None:
    """The gold answers state their facts in their own words: the matcher must see every one of them."""
    rows = [json.loads(line) for line in (REPO / "evals/sets/advisor_qa.jsonl").read_text().splitlines() if line]
    missing = [(r["id"], f) for r in rows for f in r["required_facts"] if not fact_present(f, r["gold_answer"]).found]
    assert missing == []
