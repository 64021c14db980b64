"""The data that flows through the advisor: documents, chunks, hits, citations, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

# metadata values Chroma accepts: scalars or non-empty lists of one scalar type
MetaValue = str | int | float | bool | list[str]


@dataclass
class Document:
    """One logical document from a file (a file of deal records yields one per record)."""

    doc_id: str
    text: str
    meta: dict[str, MetaValue]
    # for paged formats: (page number, start offset, end offset) within `text`
    pages: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.meta.get("title", self.doc_id))


@dataclass
class Chunk:
    """A span of a document's text, the unit that is embedded and retrieved."""

    chunk_id: str
    doc_id: str
    text: str
    char_start: int
    char_end: int
    meta: dict[str, MetaValue]
    section: str = ""

    def embed_text(self) -> str:
        """What the embedder sees: title and section give a chunk its context."""
        head = " — ".join(x for x in (str(self.meta.get("title", "")), self.section) if x)
        return f"{head}\n{self.text}" if head else self.text


@dataclass
class Hit:
    """A retrieved chunk with the scores that put it there."""

    chunk: Chunk
    score: float
    dense_similarity: float | None = None
    lexical_score: float | None = None
    # the question's cosine similarity with the chunk's section heading (read under its document title), when
    # the advisor computed it: the composer prefers the section whose heading asks what the user asked
    heading_similarity: float | None = None
    # the question's cosine similarity with each of the chunk's quotable sentences, by the sentence's start offset in
    # the chunk text (`advisor.generate.candidates.quotable`), when the advisor computed it: meaning, not shared words
    sentence_similarity: dict[int, float] | None = None


class Citation(BaseModel):
    """A numbered source for a sentence: the exact passage that supports it, and where it lives."""

    n: int
    doc_id: str
    title: str
    url: str = ""
    published: str = ""
    doc_type: str = ""
    audience: str = ""
    page: int | None = None
    chunk_id: str
    passage: str = Field(description="the exact supporting text, equal to document_text[char_start:char_end]")
    char_start: int
    char_end: int


class Turn(BaseModel):
    """One message of a conversation's history."""

    role: Literal["user", "assistant"]
    content: str = Field(max_length=8000)


class SourceView(BaseModel):
    """A passage shown in its document, for a sources panel."""

    doc_id: str
    title: str
    url: str = ""
    published: str = ""
    publisher: str = ""
    doc_type: str = ""
    audience: str = ""
    passage: str
    char_start: int
    char_end: int
    before: str = ""
    after: str = ""


class Source(BaseModel):
    doc_id: str
    title: str
    url: str = ""
    published: str = ""


class Answer(BaseModel):
    """What every front end receives: text with inline [n] citations, and the citations themselves."""

    question: str
    text: str
    answer_id: str | None = None
    conversation_id: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    covered: bool = True
    route: str = "lookup"
    audience: str = "public"
    evidence_score: float = 0.0
    timings_ms: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    # who wrote the text: "extractive" (quoted from the sources) or the language model's name
    writer: str = "extractive"
    # analytics answers: the rows behind the figures, and a chart as a Vega-Lite spec
    table: list[dict[str, Any]] | None = None
    chart: dict[str, Any] | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
