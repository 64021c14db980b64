"""The Generator contract, run against every implementation: the extractive one and the LLM one over a
scripted chat model (the llama.cpp and OpenAI-compatible chat models are exercised in their own files)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from advisor.advisor import Advisor
from advisor.config import Settings
from advisor.generate import Generator
from advisor.generate.llm import LLMGenerator, ScriptedChat
from advisor.retrieve import Filters

QUESTION = "What did AstraZeneca agree with CSPC, and what was paid upfront?"
REPLY = "AstraZeneca agreed an AI research partnership with CSPC worth up to $5.3bn [1]. Only $110m was paid [1]."


def _extractive(advisor: Advisor) -> Generator:
    return advisor.extractive


def _scripted(advisor: Advisor) -> Generator:
    return LLMGenerator(ScriptedChat(REPLY, REPLY), advisor.extractive, prompts_dir=advisor.settings.prompts_dir)


@pytest.fixture
def advisor(settings: Settings, mini_corpus: Path) -> Advisor:
    advisor = Advisor.from_settings(settings)
    advisor.ingest([mini_corpus])
    return advisor


@pytest.mark.parametrize("make", [_extractive, _scripted], ids=["extractive", "llm-scripted"])
def test_generators_keep_the_contract(advisor: Advisor, make: Callable[[Advisor], Generator]) -> None:
    generator = make(advisor)
    hits = advisor.retriever.search(QUESTION, Filters(audience="public"), 8)
    draft = generator.generate(QUESTION, hits)
    streamed = generator.stream(QUESTION, hits)
    assert draft.text and draft.text == "".join(streamed.pieces)
    assert [c.n for c in draft.citations] == list(range(1, len(draft.citations) + 1))
    assert [c.model_dump() for c in streamed.citations] == [c.model_dump() for c in draft.citations]
    assert 0 < draft.coverage <= 1 and streamed.coverage == draft.coverage
    for c in draft.citations:  # every citation quotes its document exactly
        document = advisor.store.catalog.document(c.doc_id)
        assert document is not None and document.text[c.char_start:c.char_end] == c.passage
    # no evidence: nothing to say, and nothing asked of a model
    assert generator.generate("zxqv wplk", []).citations == []
