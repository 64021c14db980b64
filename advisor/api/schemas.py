"""Request bodies: validated at the edge, with limits that say what they are."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from advisor.retrieve import REGIONS, Filters
from advisor.types import Turn


class FilterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_types: list[str] = Field(default_factory=list, max_length=20)
    companies: list[str] = Field(default_factory=list, max_length=20)
    therapy_areas: list[str] = Field(default_factory=list, max_length=20)
    regions: list[str] = Field(default_factory=list, max_length=20,
                               description=f"countries or groups: {', '.join(REGIONS)}")
    date_from: int | None = Field(default=None, ge=19000101, le=21001231, description="YYYYMMDD")
    date_to: int | None = Field(default=None, ge=19000101, le=21001231, description="YYYYMMDD")

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, values: list[str]) -> list[str]:
        known = {r.lower() for r in REGIONS}
        unknown = [v for v in values if v.strip().lower() not in known]
        if unknown:
            raise ValueError(f"unknown region(s) {', '.join(map(repr, unknown))}; use {', '.join(REGIONS)}")
        return values

    @model_validator(mode="after")
    def _a_range_that_exists(self) -> FilterBody:
        if self.date_from is not None and self.date_to is not None and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}; swap them")
        return self

    def to_filters(self) -> Filters:
        return Filters(doc_types=tuple(self.doc_types), companies=tuple(self.companies),
                       therapy_areas=tuple(self.therapy_areas), regions=tuple(self.regions),
                       date_from=self.date_from, date_to=self.date_to)


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=2000)
    history: list[Turn] = Field(default_factory=list, max_length=20)
    filters: FilterBody = Field(default_factory=FilterBody)
    conversation_id: str | None = Field(default=None, max_length=64)
    # a consultant may ask as a prospect would see it; nobody can widen beyond their role
    audience: Literal["public", "internal"] | None = None
    # who writes the answer: "extractive" (quoted from the sources at once) or "llm" (the configured language
    # model: slower, in its own words, verified the same way); default: the audience's (settings.answer_writer)
    writer: Literal["extractive", "llm"] | None = None


class CorrectionBody(BaseModel):
    """What a right answer would have said (consultants only): the facts it must state and the source that holds
    them, or `uncovered`: it should have said the sources don't cover the question. Reviewed corrections become
    regression questions (`python -m evals harvest`)."""

    model_config = ConfigDict(extra="forbid")

    facts: list[str] = Field(default_factory=list, max_length=20)
    source: str = Field(default="", max_length=200, description="the document id that holds the facts")
    uncovered: bool = False
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _one_kind(self) -> CorrectionBody:
        facts = [f for f in self.facts if f.strip()]
        if bool(facts) == self.uncovered:
            raise ValueError("give the facts a right answer must state, or uncovered: true (not both)")
        if any(len(f) > 300 for f in facts):
            raise ValueError("each fact is at most 300 characters: a number, a name, a short phrase")
        return self


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(min_length=1, max_length=64)
    rating: Literal["up", "down"]
    reason: str = Field(default="", max_length=2000)
    correction: CorrectionBody | None = None


class LeadBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    company: str = Field(default="", max_length=200)
    # must be true (a lead is stored only with consent); declared so in the schema, said in plain words when not
    consent: bool = Field(json_schema_extra={"const": True})
    conversation_id: str = Field(default="", max_length=64)
    message: str = Field(default="", max_length=4000)

    @field_validator("consent")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if not value:
            raise ValueError("consent is required before we store your details")
        return value


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(part.get("text", "")) for part in self.content if isinstance(part, dict))
        return self.content or ""


class ChatBody(BaseModel):
    """The OpenAI chat-completions request; fields we don't use are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    # "advisor" (the audience's default writer), "advisor-extractive" or "advisor-llm" (see GET /v1/models)
    model: str = "advisor"
    messages: list[ChatMessage] = Field(min_length=1, max_length=40)
    stream: bool = False


class ErrorBody(BaseModel):
    """Every error: a message that says what to do, and the details (one per problem for invalid input)."""

    error: str
    detail: str | list[str]


_CODES = {400: "bad request", 401: "unknown API key", 403: "this needs another role",
          404: "no such id (or not one this caller may see)", 409: "another ingest is writing the index",
          413: "request body over the limit",
          422: "invalid input: each problem named", 429: "too many requests or wrong keys: see Retry-After",
          431: "request headers over the limit"}
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody, "description": what} for code, what in _CODES.items()}
