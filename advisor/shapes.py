"""Which shape of answer a question asks for, read by meaning: does it ask what to do?

"Should we put our APAC HQ in Singapore?", "is it worth adding Japanese sites now?", "any red flags if we take an
equity stake?" and "how do we protect our know-how?" all ask for advice, in words no short list of phrasings
covers. A small logistic model over the question's embedding (the vector retrieval computed anyway) reads them:
fitted by `python -m evals.shapes` on the labelled dev questions and stored per embedder in
`advisor/data/question_shapes.json`. An embedder with no fitted model (the hash embedder of the tests) reads the
phrasing instead (`advisor.intent.is_advice`).
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advisor.embed import Embedder
from advisor.intent import is_advice

SHAPES_FILE = Path(__file__).parent / "data" / "question_shapes.json"
REMEMBERED = 256  # question vectors kept from retrieval, so the shape costs no second embedding


@dataclass(frozen=True)
class AdviceModel:
    """P(advice | question vector) = sigmoid(weights · vector + bias); advice when at least `threshold`."""

    weights: np.ndarray
    bias: float
    threshold: float = 0.5
    source: str = ""

    def probability(self, vector: np.ndarray) -> float:
        return 1.0 / (1.0 + math.exp(-(float(np.asarray(vector, dtype=np.float64) @ self.weights) + self.bias)))


def load_advice_model(embedder_name: str, path: Path = SHAPES_FILE) -> AdviceModel | None:
    """The fitted model for this embedder, or None (no file, or no entry for it)."""
    if not path.is_file():
        return None
    entry = json.loads(path.read_text()).get("embedders", {}).get(embedder_name, {}).get("advice")
    if not entry:
        return None
    weights = np.asarray(entry["weights"], dtype=np.float64)
    return AdviceModel(weights, float(entry["bias"]), float(entry.get("threshold", 0.5)), str(entry.get("dataset", "")))


class QuestionShapes:
    """`asks_advice(question)`: by the fitted model when there is one (reading the vector retrieval `note`d for the
    question, or embedding it), else by the phrasing."""

    def __init__(self, embedder: Embedder, model: AdviceModel | None) -> None:
        if model is not None and model.weights.shape != (embedder.dim,):
            raise ValueError(f"the advice model has {model.weights.shape[0]} weights; the embedder {embedder.name} "
                             f"gives {embedder.dim}-dimensional vectors: refit it with `python -m evals.shapes`")
        self.embedder = embedder
        self.model = model
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, text: str, vector: np.ndarray) -> None:
        """Keep the vector retrieval computed for `text`."""
        if self.model is None:
            return
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > REMEMBERED:
                self._vectors.popitem(last=False)

    def _vector(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._vectors.get(text)
        return vector if vector is not None else self.embedder.embed([text])[0]

    def advice_probability(self, question: str) -> float | None:
        """The model's probability that `question` asks what to do; None without a model."""
        return None if self.model is None else self.model.probability(self._vector(question))

    def asks_advice(self, question: str) -> bool:
        probability = self.advice_probability(question)
        return is_advice(question) if probability is None or self.model is None \
            else probability >= self.model.threshold
