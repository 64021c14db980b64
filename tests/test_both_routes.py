"""A question that asks why as well as how many gets both: the articles' reasoning, then the deal records' figure."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from advisor.advisor import Advisor
from advisor.config import Settings

REPO = Path(__file__).resolve().parents[1]
ARTICLE = """---
id: why-china-deals
title: "Why US pharma licenses so many Chinese assets"
published: 2025-03-01
audience: public
doc_type: article
---

# Why US pharma licenses so many Chinese assets

## The reasons

Chinese companies sign so many licensing deals with US pharma because Chinese biotechs reach human data quickly
and cheaply. US pharma faces a patent cliff and needs assets it can license from Chinese biotechs at lower prices.
"""


def with_deals(root: Path, doc_id: str, article: str) -> Advisor:
    """An index of the deal records and one article (`doc_id`), on the hash embedder."""
    path = root / f"{doc_id}.md"
    path.write_text(article)
    adv = Advisor.from_settings(Settings(data_dir=root / "data", embedder="hash"))
    report = adv.ingest([REPO / "corpus" / "deals", path])
    assert report.ok, report.record_errors[:3]
    return adv


@pytest.fixture(scope="module")
def advisor(tmp_path_factory: pytest.TempPathFactory) -> Advisor:
    return with_deals(tmp_path_factory.mktemp("both"), "why-china-deals", ARTICLE)


def test_a_why_and_how_many_question_gets_the_reasoning_then_the_counted_figure(advisor: Advisor) -> None:
    counted = advisor.ask("How many deals did Chinese companies sign with US pharma in 2024?")
    assert counted.route == "analytics"
    both = advisor.ask("How many deals did Chinese companies sign with US pharma in 2024, and why so many?")
    assert both.route == "lookup+analytics" and both.covered
    headline = counted.text.splitlines()[0]  # the same count, computed the same way, follows the reasoning
    assert f"\n\n{headline}" in both.text
    reasoning, figures = both.text[:both.text.index(headline)], both.text[both.text.index(headline):]
    assert "patent cliff" in reasoning or "human data" in reasoning
    assert "why-china-deals" in {c.doc_id for c in both.citations}
    assert [c.n for c in both.citations] == list(range(1, len(both.citations) + 1))
    last = max(int(n) for n in re.findall(r"\[(\d+)\]", reasoning))
    records = [c for c in both.citations if c.n > last]  # the figure's citations come after the reasoning's
    assert len(records) == len(counted.citations)
    for c in records:  # each record's marker was moved up with its citation
        assert f"[{c.n}] {c.doc_id}" in figures
    assert both.table  # the rows behind the figure, as on the analytics route


@pytest.mark.parametrize("question", [
    "What are the biggest risks of licensing from China?",
    "Why do the top pharma companies license from China?",
    "What are the pros and cons of licensing from China versus Korea?",
])
def test_reasoning_questions_that_name_no_operation_over_deals_get_no_figures(advisor: Advisor, question: str) -> None:
    assert advisor.ask(question).route != "lookup+analytics"
    assert advisor.analytics.parse(question, with_reasons=True) is None


REPORTED = """---
id: china-2024-tally
title: "China out-licensing in 2024: the trackers' tally"
published: 2025-01-20
audience: public
doc_type: article
---

# China out-licensing in 2024: the trackers' tally

## Totals

Industry trackers put the total value of China out-licensing deals in 2024 at $52bn, over more deals than ours.

The total value of China out-licensing deals rose again in 2024.
"""


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Advisor:
    return with_deals(tmp_path_factory.mktemp("reported"), "china-2024-tally", REPORTED)


def test_a_market_total_gets_the_published_figure_then_the_records_own(reported: Advisor) -> None:
    question = "What was the total value of China out-licensing deals in 2024?"
    assert reported.analytics.parse(question).operation == "sum"
    answer = reported.ask(question)
    assert answer.route == "lookup+analytics" and answer.covered
    published, records = answer.text.split("\n\n", 1)
    assert "$52bn" in published and "[1]" in published
    assert answer.citations[0].doc_id == "china-2024-tally"
    computed = reported.analytics.answer(question)
    assert computed is not None and computed.text.splitlines()[0] in records  # the records' figure, unchanged
    assert {c.doc_id for c in answer.citations[1:]} == {c.doc_id for c in computed.citations}


def test_a_question_about_the_records_themselves_gets_only_the_records(reported: Advisor) -> None:
    answer = reported.ask("What was the total value of China out-licensing deals in 2024 in the tracker?")
    assert answer.route == "analytics"
    assert "china-2024-tally" not in {c.doc_id for c in answer.citations}
