"""Deal records (CSV or JSONL): one schema, validated per row, each row rendered as one readable document."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from advisor.ingest.meta import LoadError, normalise, read_sidecar, read_text
from advisor.types import Document

COUNTRIES = (
    "China", "Hong Kong", "Taiwan", "Japan", "South Korea", "Singapore", "Australia", "India",
    "United States", "United Kingdom", "Switzerland", "Germany", "France", "Denmark", "Belgium",
    "Netherlands", "Ireland", "Sweden", "Israel", "Canada", "Spain", "Italy",
)
DealType = Literal["licence", "option", "co-development", "acquisition", "NewCo", "partnership", "AI research"]
MAX_CELL_CHARS = 5_000  # a deal record's longest field (notes) is a few hundred characters; more is a broken file
COLUMNS = (
    "deal_id", "announced", "licensor", "licensor_country", "licensee", "licensee_country", "deal_type",
    "asset", "modality", "therapy_area", "stage_at_deal", "territory", "upfront_usd_m", "milestones_usd_m",
    "total_value_usd_m", "royalties", "source_url", "notes",
)


class Deal(BaseModel):
    """One deal as publicly reported; money in USD millions, empty where not reported."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    deal_id: str = Field(min_length=1)
    announced: dt.date
    licensor: str = Field(min_length=1)
    licensor_country: str
    licensee: str = Field(min_length=1)
    licensee_country: str
    deal_type: DealType
    asset: str = ""
    modality: str = ""
    therapy_area: str = ""
    stage_at_deal: str = ""
    territory: str = ""
    upfront_usd_m: float | None = Field(default=None, ge=0)
    milestones_usd_m: float | None = Field(default=None, ge=0)
    total_value_usd_m: float | None = Field(default=None, ge=0)
    royalties: str = ""
    source_url: str = Field(pattern=r"^https?://[^\s/$.?#][^\s]*$")
    notes: str = ""

    @field_validator("upfront_usd_m", "milestones_usd_m", "total_value_usd_m", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("licensor_country", "licensee_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in COUNTRIES:
            raise ValueError(f"country {value!r} is not in the fixed list: {', '.join(COUNTRIES)}")
        return value

    @model_validator(mode="after")
    def _total_covers_upfront(self) -> Deal:
        upfront, total = self.upfront_usd_m, self.total_value_usd_m
        if upfront is not None and total is not None and total < upfront:
            raise ValueError(f"total_value_usd_m {total:g} is less than upfront_usd_m {upfront:g}")
        return self


def money(value: float | None) -> str:
    if value is None:
        return "not reported"
    text = f"${value:,.0f}m" if value == int(value) else f"${value:,.1f}m"
    if value >= 1000:
        text += f" (${value / 1000:.2f}bn)".replace(".00bn", "bn")
    return text


def render(deal: Deal) -> str:
    """A deal as sentences a reader (and a retriever) can use."""
    when = deal.announced.strftime("%-d %B %Y")
    parts = [
        f"{deal.licensor} ({deal.licensor_country}) and {deal.licensee} ({deal.licensee_country}) "
        f"announced {'an' if deal.deal_type[:1].lower() in 'aeiou' else 'a'} {deal.deal_type} deal on {when}.",
    ]
    asset = deal.asset or "the asset"
    details = ", ".join(x for x in (deal.modality, deal.therapy_area, deal.stage_at_deal) if x)
    parts.append(f"The deal covers {asset}" + (f" ({details})" if details else "") + ".")
    if deal.territory:
        parts.append(f"Territory: {deal.territory}.")
    parts.append(
        f"{deal.licensor}–{deal.licensee} deal value: upfront {money(deal.upfront_usd_m)}, "
        f"milestones {money(deal.milestones_usd_m)}, total {money(deal.total_value_usd_m)}."
    )
    if deal.royalties:
        parts.append(f"Royalties: {deal.royalties}.")
    if deal.notes:
        parts.append(f"Notes: {deal.notes.rstrip('.')}.")
    return " ".join(parts)


def deal_document(deal: Deal, path: Path, file_meta: dict[str, Any]) -> Document:
    raw = {
        **file_meta,
        "title": f"{deal.licensor}–{deal.licensee} {deal.deal_type} ({deal.announced.year})",
        "source_urls": [deal.source_url],
        "published": deal.announced,
        "doc_type": "deal",
        "companies": [deal.licensor, deal.licensee],
        "therapy_areas": [deal.therapy_area] if deal.therapy_area else [],
        "regions": sorted({deal.licensor_country, deal.licensee_country}),
    }
    meta = normalise(raw, path, default_title=deal.deal_id, default_type="deal")
    # every field rides along as metadata (deal_*), so analytics can rebuild the table from the catalog
    for key in ("licensor", "licensee", "asset", "deal_type", "modality", "therapy_area", "stage_at_deal",
                "territory", "licensor_country", "licensee_country", "royalties"):
        value = getattr(deal, key)
        if value:
            meta[f"deal_{key}"] = value
    for key in ("upfront_usd_m", "milestones_usd_m", "total_value_usd_m"):
        value = getattr(deal, key)
        if value is not None:
            meta[f"deal_{key}"] = float(value)
    return Document(doc_id=deal.deal_id, text=render(deal), meta=meta)


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors())


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    text = read_text(path)
    if path.suffix.lower() == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append((number, {"__error__": f"not valid JSON ({exc.msg})"}))
                continue
            if not isinstance(value, dict):
                value = {"__error__": "not a JSON object"}
            elif long := [k for k, v in value.items() if isinstance(v, str) and len(v) > MAX_CELL_CHARS]:
                value = {"__error__": f"{long[0]} is {len(value[long[0]]):,} characters; a field holds at most "
                                      f"{MAX_CELL_CHARS:,}"}
            rows.append((number, value))
        return rows
    # strict: a quote opened and never closed is an error at the record it opens in, not the rest of the file
    # swallowed into one cell and reported at the last line
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise LoadError(path, f"line 1: the header is not valid CSV ({exc})") from exc
    missing = [c for c in COLUMNS if c not in (fieldnames or [])]
    if missing:
        raise LoadError(path, f"line 1: header lacks column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
    rows = []
    while True:
        start = reader.line_num + 1  # the line this record begins on
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            rows.append((start, {"__error__": f"not valid CSV from here ({exc}): close the quote opened on this "
                                              "line; the lines after it were not read"}))
            return rows
        long = [k for k, v in row.items() if isinstance(v, str) and len(v) > MAX_CELL_CHARS]
        if None in row:  # more cells than the header has columns
            cells = len(row[None]) + len(COLUMNS)
            rows.append((start, {"__error__": f"{cells} cells, expected {len(COLUMNS)}"}))
        elif any(v is None for v in row.values()):
            rows.append((start, {"__error__": f"fewer cells than the {len(COLUMNS)} columns"}))
        elif long:
            rows.append((start, {"__error__": f"{long[0]} is {len(row[long[0]]):,} characters; a cell holds at "
                                              f"most {MAX_CELL_CHARS:,}"}))
        else:
            rows.append((start, row))


def load_deal_file(path: Path) -> tuple[list[Document], list[str]]:
    """Valid rows become documents; each invalid row is reported as 'file:line: reason' and skipped."""
    rows = _rows(path)
    file_meta = read_sidecar(path)
    docs: list[Document] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if "__error__" in row:
            errors.append(f"{path}:{line}: {row['__error__']}")
            continue
        try:
            deal = Deal.model_validate(row)
        except ValidationError as exc:
            errors.append(f"{path}:{line}: {_describe(exc)}")
            continue
        if deal.deal_id in seen:
            errors.append(f"{path}:{line}: deal_id {deal.deal_id} already used on line {seen[deal.deal_id]}")
            continue
        seen[deal.deal_id] = line
        docs.append(deal_document(deal, path, file_meta))
    if not docs and errors:
        raise LoadError(path, f"no valid deal records; first error: {errors[0]}")
    return docs, errors


def read_deals(path: Path) -> list[Deal]:
    """All valid deals of a file (for analytics and validation)."""
    out = []
    for _, row in _rows(path):
        if "__error__" not in row:
            try:
                out.append(Deal.model_validate(row))
            except ValidationError:
                continue
    return out
