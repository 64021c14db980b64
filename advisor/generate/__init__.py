"""Generator seam: turn a question and its evidence into text citing that evidence as [n]."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from advisor.types import Citation, Hit


@dataclass
class Draft:
    text: str
    citations: list[Citation] = field(default_factory=list)
    # how well the best evidence sentence covers the question's terms, 0..1 (feeds the coverage gate)
    coverage: float = 0.0


class Generator(Protocol):
    def generate(self, question: str, hits: list[Hit], *, max_sentences: int | None = None) -> Draft:
        """Text citing `hits` as [n] (1-based, in citation order); at most `max_sentences` when given."""
        ...
