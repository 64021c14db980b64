"""What an eval runs against: a question-answering system, ours or a baseline, behind one small seam.

Every suite and the in-house runner call only these two methods, so ours and the baseline are measured by
the same code on the same data in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from advisor.advisor import Advisor, Writer
from advisor.config import Audience
from advisor.retrieve import Filters
from advisor.types import Answer, Turn


@dataclass(frozen=True)
class Retrieved:
    """One retrieved passage, best first: which document it came from and its text."""

    doc_id: str
    text: str
    score: float


class System(Protocol):
    name: str

    def retrieve(self, question: str, *, k: int, audience: Audience = "internal") -> list[Retrieved]:
        """The top-k passages for a question, best first (before any answer is written)."""
        ...

    def answer(self, question: str, *, audience: Audience = "public", history: list[Turn] | None = None) -> Answer:
        """A full answer with citations; `covered=False` means the system declined to answer."""
        ...


class AdvisorSystem:
    """Our pipeline, through its public API only."""

    def __init__(self, advisor: Advisor, name: str = "advisor", writer: Writer | None = None) -> None:
        self.advisor = advisor
        self.name = name
        # an eval of an LLM generator measures that generator for every audience, not the audience defaults, unless
        # it asks for a writer (extractive answers with the model configured: it reads other languages in English)
        self.writer: Writer | None = writer or ("llm" if advisor.settings.generator != "extractive" else None)

    def retrieve(self, question: str, *, k: int, audience: Audience = "internal") -> list[Retrieved]:
        hits = self.advisor.retriever.search(question, Filters(audience=audience), k)
        return [Retrieved(h.chunk.doc_id, h.chunk.text, h.score) for h in hits]

    def answer(self, question: str, *, audience: Audience = "public", history: list[Turn] | None = None) -> Answer:
        return self.advisor.ask(question, audience=audience, history=history, writer=self.writer)
