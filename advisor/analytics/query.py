"""The structured deal query: what a rule parser (or, later, an LLM filling JSON) hands to the engine.

Every field is validated: countries, deal types, measures, operations and group-by keys come from
fixed lists, so the SQL built from a query only ever names whitelisted columns.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from advisor.analytics.vocab import DEAL_TYPES, MODALITIES, STAGES, THERAPY_AREAS
from advisor.ingest.deals import COUNTRIES

Measure = Literal["upfront", "milestones", "total"]
Operation = Literal["count", "sum", "avg", "median", "top", "list"]
GroupBy = Literal["year", "therapy_area", "modality", "deal_type", "stage", "licensor_country",
                  "licensee_country", "licensor", "licensee", "company"]
Comparator = Literal["gt", "gte", "lt", "lte"]

MEASURE_LABELS: dict[str, str] = {"upfront": "upfront", "milestones": "milestones", "total": "total deal value"}
AGGREGATING: frozenset[str] = frozenset({"sum", "avg", "median", "top"})


def _checked(values: list[str], allowed: tuple[str, ...] | list[str], what: str) -> list[str]:
    by_lower = {a.lower(): a for a in allowed}
    out = []
    for value in values:
        if value.lower() not in by_lower:
            raise ValueError(f"{what} {value!r} is not one of: {', '.join(allowed)}")
        out.append(by_lower[value.lower()])
    return out


class Side(BaseModel):
    """Who a party is: one of these companies and/or headquartered in (or outside) these countries."""

    model_config = ConfigDict(extra="forbid")

    companies: list[str] = Field(default_factory=list, description="company names; aliases are resolved")
    countries: list[str] = Field(default_factory=list, description="headquarters countries (any of)")
    exclude_countries: list[str] = Field(default_factory=list, description="headquarters not in these")
    label: str = Field(default="", description="how the countries are said in words, e.g. 'China (incl. Hong Kong)'")

    @field_validator("countries", "exclude_countries")
    @classmethod
    def _known(cls, values: list[str]) -> list[str]:
        return _checked(values, COUNTRIES, "country")

    def is_empty(self) -> bool:
        """True when this side places no condition."""
        return not (self.companies or self.countries or self.exclude_countries)


class ValueRange(BaseModel):
    """A threshold on one money field, in USD millions: e.g. total gt 1000 = 'over $1bn'."""

    model_config = ConfigDict(extra="forbid")

    measure: Measure = "total"
    comparator: Comparator
    amount: float = Field(ge=0)


class DealFilters(BaseModel):
    """Which deals count. Empty lists mean no restriction."""

    model_config = ConfigDict(extra="forbid")

    licensor: Side = Field(default_factory=Side)
    licensee: Side = Field(default_factory=Side)
    party: Side = Field(default_factory=Side, description="either party")
    counterparty: Side = Field(default_factory=Side, description="the other party to the one matching `party`")
    date_from: int | None = Field(default=None, description="announced on or after, YYYYMMDD")
    date_to: int | None = Field(default=None, description="announced on or before, YYYYMMDD")
    years: list[int] = Field(default_factory=list)
    therapy_areas: list[str] = Field(default_factory=list)
    modalities: list[str] = Field(default_factory=list)
    deal_types: list[str] = Field(default_factory=list)
    exclude_deal_types: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list, description="words the asset or notes must mention (any)")
    values: list[ValueRange] = Field(default_factory=list)

    @field_validator("therapy_areas")
    @classmethod
    def _areas(cls, values: list[str]) -> list[str]:
        return _checked(values, THERAPY_AREAS, "therapy area")

    @field_validator("modalities")
    @classmethod
    def _modalities(cls, values: list[str]) -> list[str]:
        return _checked(values, MODALITIES, "modality")

    @field_validator("deal_types", "exclude_deal_types")
    @classmethod
    def _types(cls, values: list[str]) -> list[str]:
        return _checked(values, DEAL_TYPES, "deal type")

    @field_validator("stages")
    @classmethod
    def _stages(cls, values: list[str]) -> list[str]:
        return _checked(values, STAGES, "stage")

    @field_validator("date_from", "date_to")
    @classmethod
    def _date(cls, value: int | None) -> int | None:
        if value is not None and not 19000101 <= value <= 29991231:
            raise ValueError(f"dates are integers YYYYMMDD, got {value}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> DealFilters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")
        return self


class CompareGroup(BaseModel):
    """One side of a comparison: a name and the filters that, added to the query's, select it."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1)
    filters: DealFilters = Field(default_factory=DealFilters)


class DealQuery(BaseModel):
    """An exact question over the deal records: which deals, what to compute, how to break it down."""

    model_config = ConfigDict(extra="forbid")

    operation: Operation
    measure: Measure | None = Field(default=None, description="the money field aggregated or ranked")
    filters: DealFilters = Field(default_factory=DealFilters)
    group_by: GroupBy | None = None
    compare: list[CompareGroup] = Field(default_factory=list, description="two or more groups to set side by side")
    limit: int | None = Field(default=None, ge=1, le=100, description="rows a top-N or a ranked group-by returns; "
                              "None: 10 deals, 10 companies, every other group")
    order: Literal["desc", "asc"] = "desc"
    notes: list[str] = Field(default_factory=list, description="how ambiguous words were read, stated in the answer")

    @model_validator(mode="after")
    def _consistent(self) -> DealQuery:
        if self.operation in AGGREGATING and self.measure is None:
            raise ValueError(f"operation {self.operation!r} needs a measure: one of {', '.join(get_args(Measure))}")
        if self.compare and len(self.compare) < 2:
            raise ValueError("a comparison needs at least two groups")
        if self.compare and self.group_by:
            raise ValueError("use either compare or group_by, not both")
        return self
