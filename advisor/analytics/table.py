"""The deals table: one row per deal record in the catalog, queried with parameterised SQL only.

It lives in memory (SQLite ``:memory:``) and is rebuilt from the catalog whenever the catalog's
generation changes. Why not a file next to the catalog: the catalog is the truth and every ingest
bumps its generation, so a derived file would only add a second thing to keep in sync (and to repair
after a crash) for no gain — rebuilding reads one indexed query and takes milliseconds for hundreds of
deals and well under a second for tens of thousands. Each process (API worker, CLI) keeps its own copy;
nothing is shared, so there is nothing to lock across processes.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable
from typing import Any

from advisor.analytics.companies import Companies
from advisor.analytics.query import DealFilters, Side
from advisor.analytics.vocab import DEAL_TYPES
from advisor.index.catalog import Catalog

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE deals (
    deal_id TEXT PRIMARY KEY, announced INTEGER NOT NULL, year INTEGER NOT NULL, audience TEXT NOT NULL,
    licensor TEXT NOT NULL, licensee TEXT NOT NULL, licensor_group TEXT NOT NULL, licensee_group TEXT NOT NULL,
    licensor_country TEXT NOT NULL, licensee_country TEXT NOT NULL, deal_type TEXT NOT NULL, modality TEXT NOT NULL,
    therapy_area TEXT NOT NULL, stage TEXT NOT NULL, territory TEXT NOT NULL, asset TEXT NOT NULL,
    royalties TEXT NOT NULL, upfront REAL, milestones REAL, total REAL,
    title TEXT NOT NULL, source_url TEXT NOT NULL, text TEXT NOT NULL, chunk_id TEXT NOT NULL
);
CREATE TABLE parties (deal_id TEXT NOT NULL, role TEXT NOT NULL, company TEXT NOT NULL);
CREATE INDEX parties_company ON parties(company, role);
"""
# the only column names SQL is ever built with: query fields map onto these, nothing else is interpolated
MEASURE_COLUMNS = {"upfront": "upfront", "milestones": "milestones", "total": "total"}
COMPARATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
ROLES = ("licensor", "licensee")
_TITLE = re.compile(r"^(?P<licensor>.+?)–(?P<licensee>.+) (?:" + "|".join(re.escape(t) for t in DEAL_TYPES)
                    + r") \(\d{4}\)$")


def _mentions(text: str, keyword: str) -> int:
    """SQL function: does `text` mention `keyword` as a whole term ('CD3' is not 'CD33')?"""
    pattern = r"(?<![A-Za-z0-9])" + re.escape(keyword) + r"(?![0-9])"
    return 1 if re.search(pattern, text or "", re.IGNORECASE) else 0


def _placeholders(values: Iterable[Any]) -> str:
    return ", ".join("?" for _ in values)


def side_sql(side: Side, role: str, resolve: Callable[[str], str]) -> tuple[list[str], list[Any]]:
    """SQL conditions (and their parameters) for one party of a deal matching `side`."""
    assert role in ROLES
    clauses: list[str] = []
    params: list[Any] = []
    if side.countries:
        clauses.append(f"d.{role}_country IN ({_placeholders(side.countries)})")
        params.extend(side.countries)
    if side.exclude_countries:
        clauses.append(f"d.{role}_country NOT IN ({_placeholders(side.exclude_countries)})")
        params.extend(side.exclude_countries)
    if side.companies:
        names = [resolve(c) for c in side.companies]
        clauses.append(f"EXISTS (SELECT 1 FROM parties p WHERE p.deal_id = d.deal_id AND p.role = ? "
                       f"AND p.company IN ({_placeholders(names)}))")
        params.extend([role, *names])
    return clauses, params


def where(filters: DealFilters, audience: str, resolve: Callable[[str], str]) -> tuple[str, list[Any]]:
    """The WHERE clause for `filters` seen by `audience`: values travel as parameters, never as SQL text."""
    clauses: list[str] = []
    params: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        clauses.append(sql)
        params.extend(values)

    if audience != "internal":
        add("d.audience = ?", "public")
    for role in ROLES:
        sql, values = side_sql(getattr(filters, role), role, resolve)
        clauses.extend(sql)
        params.extend(values)
    if not filters.party.is_empty() or not filters.counterparty.is_empty():
        either = []
        for role, other in (ROLES, ROLES[::-1]):
            a, pa = side_sql(filters.party, role, resolve)
            b, pb = side_sql(filters.counterparty, other, resolve)
            either.append(("(" + " AND ".join(a + b) + ")", pa + pb))
        add(f"({either[0][0]} OR {either[1][0]})", *either[0][1], *either[1][1])
    if filters.date_from:
        add("d.announced >= ?", filters.date_from)
    if filters.date_to:
        add("d.announced <= ?", filters.date_to)
    for column, values, negate in (("year", filters.years, False), ("therapy_area", filters.therapy_areas, False),
                                   ("modality", filters.modalities, False), ("deal_type", filters.deal_types, False),
                                   ("deal_type", filters.exclude_deal_types, True), ("stage", filters.stages, False)):
        if values:
            add(f"d.{column} {'NOT IN' if negate else 'IN'} ({_placeholders(values)})", *values)
    if filters.keywords:
        add("(" + " OR ".join("mentions(d.text, ?) = 1" for _ in filters.keywords) + ")",
            *filters.keywords)
    for value in filters.values:
        add(f"d.{MEASURE_COLUMNS[value.measure]} {COMPARATORS[value.comparator]} ?", value.amount)
    return (" AND ".join(clauses) or "1 = 1"), params


class DealTable:
    """The deal records of a catalog as a SQLite table, kept in step with the catalog's generation."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._generation = -1
        self._companies = Companies([])

    @property
    def companies(self) -> Companies:
        """The company names of the current records, with aliases and parents."""
        self.refresh()
        return self._companies

    @property
    def generation(self) -> int:
        """The catalog generation the table was last built from (-1 before the first build)."""
        return self._generation

    def refresh(self) -> bool:
        """Rebuild when the catalog changed since the last build (this process's writes at once, another's within
        the catalog's RECHECK_S, as every other derived cache); True when it rebuilt."""
        with self._lock:
            if self._db is not None and self.catalog.recent_generation() == self._generation:
                return False
            generation, records = _read_catalog(self.catalog)
            self._build(records)
            self._generation = generation
            log.info("deals table rebuilt: %d deals, catalog generation %d", len(records), generation)
            return True

    def _build(self, records: list[dict[str, Any]]) -> None:
        companies = Companies([r["licensor"] for r in records] + [r["licensee"] for r in records])
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.create_function("mentions", 2, _mentions, deterministic=True)
        db.executescript(_SCHEMA)
        for r in records:
            r["licensor_group"] = companies.primary(r["licensor"])
            r["licensee_group"] = companies.primary(r["licensee"])
        columns = ("deal_id", "announced", "year", "audience", "licensor", "licensee", "licensor_group",
                   "licensee_group", "licensor_country", "licensee_country", "deal_type", "modality", "therapy_area",
                   "stage", "territory", "asset", "royalties", "upfront", "milestones", "total", "title",
                   "source_url", "text", "chunk_id")
        db.executemany(f"INSERT INTO deals ({', '.join(columns)}) VALUES ({_placeholders(columns)})",
                       [tuple(r[c] for c in columns) for r in records])
        db.executemany("INSERT INTO parties VALUES (?, ?, ?)",
                       [(r["deal_id"], role, company) for r in records for role in ROLES
                        for company in companies.entities(r[role])])
        old, self._db, self._companies = self._db, db, companies
        if old is not None:
            old.close()

    def select(self, filters: DealFilters, audience: str) -> list[dict[str, Any]]:
        """Every deal matching `filters` that `audience` may see, oldest first, with its parties' companies."""
        self.refresh()
        with self._lock:
            assert self._db is not None
            clause, params = where(filters, audience, self._companies.resolve)
            self._db.row_factory = sqlite3.Row
            rows = [dict(r) for r in self._db.execute(
                f"SELECT d.* FROM deals d WHERE {clause} ORDER BY d.announced, d.deal_id", params)]
            by_id = {row["deal_id"]: row for row in rows}
            for row in rows:
                row["licensor_companies"], row["licensee_companies"] = [], []
            for deal_id, role, company in self._db.execute(
                    f"SELECT p.deal_id, p.role, p.company FROM parties p JOIN deals d ON d.deal_id = p.deal_id "
                    f"WHERE {clause} ORDER BY p.rowid", params):
                by_id[deal_id][f"{role}_companies"].append(company)
        return rows

    def count(self, audience: str) -> int:
        """How many deals `audience` may see."""
        return len(self.select(DealFilters(), audience))


def _read_catalog(catalog: Catalog) -> tuple[int, list[dict[str, Any]]]:
    """The catalog's generation and its deal records, read as one snapshot."""
    generation, docs = catalog.documents_of_type("deal")
    records, stale = [], 0
    for doc_id, text, meta, chunk_id in docs:
        record = _record(doc_id, text, meta, chunk_id)
        stale += "deal_licensor" not in meta
        if record is not None:
            records.append(record)
    if stale:
        log.warning("%d deal record(s) were indexed without their licensor/licensee fields; names were read from "
                    "titles. Re-ingest the deal files (advisor ingest --rebuild) to refresh them", stale)
    return generation, records


def _record(doc_id: str, text: str, meta: dict[str, Any], chunk_id: str) -> dict[str, Any] | None:
    licensor, licensee = meta.get("deal_licensor"), meta.get("deal_licensee")
    if not (licensor and licensee):
        match = _TITLE.match(str(meta.get("title", "")))
        if match is None:
            log.warning("deal %s has no licensor/licensee and an unreadable title; left out of analytics", doc_id)
            return None
        licensor, licensee = match.group("licensor"), match.group("licensee")
    published = int(meta.get("published") or 0)

    def money(key: str) -> float | None:
        value = meta.get(key)
        return float(value) if value is not None else None

    return {
        "deal_id": doc_id, "announced": published, "year": published // 10000,
        "audience": "public" if meta.get("audience") == "public" else "internal",
        "licensor": licensor, "licensee": licensee,
        "licensor_country": meta.get("deal_licensor_country", ""),
        "licensee_country": meta.get("deal_licensee_country", ""),
        "deal_type": meta.get("deal_deal_type", ""), "modality": meta.get("deal_modality", ""),
        "therapy_area": meta.get("deal_therapy_area") or next(iter(meta.get("therapy_areas") or []), ""),
        "stage": meta.get("deal_stage_at_deal", ""), "territory": meta.get("deal_territory", ""),
        "asset": meta.get("deal_asset", ""), "royalties": meta.get("deal_royalties", ""),
        "upfront": money("deal_upfront_usd_m"), "milestones": money("deal_milestones_usd_m"),
        "total": money("deal_total_value_usd_m"), "title": str(meta.get("title", doc_id)),
        "source_url": str(meta.get("source_url", "")), "text": text, "chunk_id": chunk_id,
    }
