"""BM25 lexical index (bm25s), persisted beside the vector store and rebuilt from the catalog when stale."""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from advisor.text import content_words

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    return list(_tokens(text))


# an answer tokenizes the same passages and sentences again and again (selection, then the verifier, for every
# question that retrieves them): 8,192 recent texts take a few MB and cut an answer's own CPU by about a third
@lru_cache(maxsize=8192)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_stemmer().stemWords(content_words(text)))


class LexicalIndex:
    """BM25 over chunk texts; `ids[i]` is the chunk id of row i."""

    def __init__(self, ids: list[str], model: object, doc_freq: dict[str, int], generation: int) -> None:
        self.ids = ids
        self._model = model
        self._df = doc_freq
        self.generation = generation
        self.size = len(ids)

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str], generation: int) -> LexicalIndex:
        import bm25s

        tokens = [tokenize(t) or ["\u2205"] for t in texts]
        model = bm25s.BM25()
        if tokens:
            model.index(tokens, show_progress=False)
        doc_freq: Counter[str] = Counter()
        for row in tokens:
            doc_freq.update(set(row))
        return cls(list(ids), model, dict(doc_freq), generation)

    def save(self, directory: Path) -> None:
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._model.save(str(tmp), show_progress=False)  # type: ignore[attr-defined]
        (tmp / "advisor.json").write_text(json.dumps({"generation": self.generation, "ids": self.ids,
                                                      "df": self._df}))
        shutil.rmtree(directory, ignore_errors=True)
        tmp.rename(directory)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex | None:
        """The saved index, or None when absent or unreadable (the caller rebuilds it)."""
        import bm25s

        info_file = directory / "advisor.json"
        if not info_file.is_file():
            return None
        try:
            info = json.loads(info_file.read_text())
            model = bm25s.BM25.load(str(directory)) if info["ids"] else bm25s.BM25()
        except (OSError, ValueError, KeyError) as exc:
            log.warning("lexical index at %s unreadable (%s); it will be rebuilt", directory, exc)
            return None
        return cls(info["ids"], model, info["df"], int(info["generation"]))

    def idf(self, token: str) -> float:
        df = self._df.get(token, 0)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        tokens = tokenize(query)
        if not tokens or not self.ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)  # type: ignore[attr-defined]

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) of the k best rows with a positive score, restricted to `mask` when given."""
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, int((scores > 0).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top]
