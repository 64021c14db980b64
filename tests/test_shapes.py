"""Does a question ask what to do? The fitted model reads it by meaning on the packaged embedder, from the vector
retrieval already computed; without a model for the embedder, the phrasing rule answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from advisor.embed import HashEmbedder, SentenceTransformerEmbedder, packaged_minilm_path
from advisor.shapes import SHAPES_FILE, AdviceModel, QuestionShapes, load_advice_model


class Counting(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return super().embed(texts)


def test_the_packaged_model_reads_advice_in_wordings_no_phrasing_rule_lists() -> None:
    embedder = SentenceTransformerEmbedder(packaged_minilm_path())
    model = load_advice_model(embedder.name)
    assert model is not None, f"{SHAPES_FILE} has no advice model for {embedder.name}: run python -m evals.shapes"
    shapes = QuestionShapes(embedder, model)
    # none of these says "should", "how do we" or "how can we" (the phrasing rule misses every one)
    advice = ["We're thinking of licensing a Korean ADC. What do we need to watch out for?",
              "Any tips for negotiating milestones with a Japanese partner?",
              "Is it worth opening a regional office in Seoul, or too early?"]
    facts = ["When was the BIOSECURE Act first introduced?", "What is a NewCo?", "Who is the CEO of Hengrui?",
             "What's the difference between background and foreground IP?"]
    assert all(shapes.asks_advice(q) for q in advice), [shapes.advice_probability(q) for q in advice]
    assert not any(shapes.asks_advice(q) for q in facts), [shapes.advice_probability(q) for q in facts]


def test_a_noted_vector_is_read_instead_of_embedding_the_question_again() -> None:
    embedder = Counting()
    model = AdviceModel(np.ones(embedder.dim) / np.sqrt(embedder.dim), 0.0)
    shapes = QuestionShapes(embedder, model)
    vector = HashEmbedder().embed(["what should we do?"])[0]
    shapes.note("what should we do?", vector)
    assert shapes.advice_probability("what should we do?") == pytest.approx(model.probability(vector))
    assert embedder.calls == 0
    shapes.advice_probability("something never noted")
    assert embedder.calls == 1


def test_without_a_model_the_phrasing_rule_answers_and_a_mismatched_model_is_refused(tmp_path: Path) -> None:
    assert load_advice_model("no-such-embedder") is None
    assert load_advice_model("any", tmp_path / "absent.json") is None
    shapes = QuestionShapes(HashEmbedder(), None)
    assert shapes.asks_advice("How should we approach a Japanese partner?")
    assert not shapes.asks_advice("When was the Act introduced?")
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps({"embedders": {"hash": {"advice": {"weights": [0.1, 0.2], "bias": 0.0}}}}))
    wrong = load_advice_model("hash", path)
    assert wrong is not None
    with pytest.raises(ValueError, match="refit it with"):
        QuestionShapes(HashEmbedder(), wrong)
