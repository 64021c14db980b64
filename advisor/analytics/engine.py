"""DealAnalytics: exact answers to counting, summing, ranking and comparison questions over the deal records."""

from __future__ import annotations

import datetime as dt
import logging
import time

from advisor.analytics.parse import QuestionParser
from advisor.analytics.query import DealFilters, DealQuery, Side
from advisor.analytics.render import render_answer
from advisor.analytics.result import DealResult, GroupStat, Row, aggregate
from advisor.analytics.table import ROLES, DealTable
from advisor.index.catalog import Catalog
from advisor.types import Answer

log = logging.getLogger(__name__)
DEFAULT_TOP = 10
DEFAULT_COMPANY_GROUPS = 10
_COMPANY_GROUPS = ("licensor", "licensee", "company")


def _side_ok(row: Row, side: Side, role: str) -> bool:
    country = row[f"{role}_country"]
    return ((not side.countries or country in side.countries)
            and (not side.exclude_countries or country not in side.exclude_countries)
            and (not side.companies or bool(set(side.companies) & set(row[f"{role}_companies"]))))


class DealAnalytics:
    """Parse an analytic question, run it over the deals table, and answer it with figures and citations."""

    def __init__(self, catalog: Catalog) -> None:
        self.table = DealTable(catalog)
        self._parser: tuple[int, QuestionParser] | None = None

    def parser(self) -> QuestionParser:
        """The question parser, rebuilt with the company names whenever the deals table was."""
        self.table.refresh()
        generation = self.table.generation
        if self._parser is None or self._parser[0] != generation:
            self._parser = (generation, QuestionParser(self.table.companies))
        return self._parser[1]

    def parse(self, question: str, today: dt.date | None = None, *, with_reasons: bool = False) -> DealQuery | None:
        """The structured query for an analytic question; None when the question is not analytic."""
        return self.parser().parse(question, today, with_reasons=with_reasons)

    def run(self, query: DealQuery, *, audience: str = "public", within: DealFilters | None = None) -> DealResult:
        """Execute a query for `audience` ('public' sees public records only), inside the caller's `within`."""
        if audience not in ("public", "internal"):
            raise ValueError(f"audience must be 'public' or 'internal', got {audience!r}")
        if within is not None:
            query = query.model_copy(update={"filters": _merged(query.filters, within)})
        query = self._resolved(query)
        rows = self.table.select(query.filters, audience)
        result = DealResult(query=query, rows=rows)
        if query.filters.values:
            loose = self.table.select(query.filters.model_copy(update={"values": []}), audience)
            fields = {v.measure for v in query.filters.values}
            result.untested = [r for r in loose if any(r[f] is None for f in fields)]
        measure = query.measure
        if query.compare:
            result.groups = [self._group(g.label, self._select_group(query.filters, g.filters, audience), query)
                             for g in query.compare]
            result.groups_total = len(result.groups)
            in_groups = {r["deal_id"]: r for g in result.groups for r in g.rows}
            result.rows = sorted(in_groups.values(), key=lambda r: (r["announced"], r["deal_id"]))
            if query.filters.values:
                result.untested = []  # a threshold is tested per group; the loose count would mix groups
        if measure:
            result.missing = [r for r in result.rows if r[measure] is None]
        if query.group_by:
            self._breakdown(result)
        elif query.operation == "top" and not query.compare:
            assert measure is not None
            ranked = sorted((r for r in rows if r[measure] is not None),
                            key=lambda r: (r[measure], r["announced"]), reverse=query.order == "desc")
            result.shown = ranked[: query.limit or DEFAULT_TOP]
        elif not query.compare:
            values = [r[measure] for r in rows if measure and r[measure] is not None]
            result.value = aggregate(query.operation, values, len(rows))
            result.shown = rows
            if query.operation == "list" and query.limit:  # the newest (or oldest) few, by announcement date
                dated = sorted(rows, key=lambda r: (r["announced"], r["deal_id"]), reverse=query.order == "desc")
                result.shown = dated[: query.limit]
        return result

    def answer(self, question: str, *, audience: str = "public", today: dt.date | None = None,
               within: DealFilters | None = None) -> Answer | None:
        """An exact, cited answer to an analytic question; None when the question is not analytic."""
        explained = self.explain(question, audience=audience, today=today, within=within)
        return explained[1] if explained else None

    def explain(self, question: str, *, audience: str = "public", today: dt.date | None = None,
                within: DealFilters | None = None, with_reasons: bool = False) -> tuple[DealResult, Answer] | None:
        """What `answer` computes, with the result behind it (the query as read, the figure, the rows);
        `with_reasons`: also for a question that asks why as well as how many (`QuestionParser.parse`)."""
        started = time.perf_counter()
        query = self.parse(question, today, with_reasons=with_reasons)
        if query is None:
            return None
        result = self.run(query, audience=audience, within=within)
        empty = [g.key for g, spec in zip(result.groups, result.query.compare, strict=True)
                 if not g.rows and _names_something(result.query.filters, spec.filters)] if query.compare else []
        if empty:
            # a named side of the comparison (a company's deal, an asset) is not in the records: the articles
            # may hold it, so the question goes to retrieval rather than a half-empty comparison. A category
            # with no deals ("ADC vs bispecific: 0 vs 3") is an answer and stays.
            log.info("analytics declined: no records for %s", ", ".join(empty))
            return None
        answer = render_answer(question, result, audience=audience, also=QuestionParser.measures_named(question))
        answer.timings_ms = {"total_ms": round((time.perf_counter() - started) * 1e3, 2)}
        log.info("answered route=analytics audience=%s operation=%s matched=%d citations=%d ms=%.1f",
                 audience, query.operation, len(result.rows), len(answer.citations), answer.timings_ms["total_ms"])
        return result, answer

    # -- helpers ---------------------------------------------------------------------------------
    def _resolved(self, query: DealQuery) -> DealQuery:
        """Company names as the table knows them (an LLM may write 'MSD'; the table says Merck & Co.)."""
        resolve = self.table.companies.resolve

        def fix(filters: DealFilters) -> DealFilters:
            update = {role: getattr(filters, role).model_copy(update={"companies": [
                resolve(c) for c in getattr(filters, role).companies]})
                for role in ("licensor", "licensee", "party", "counterparty")}
            return filters.model_copy(update=update)

        return query.model_copy(update={"filters": fix(query.filters), "compare": [
            g.model_copy(update={"filters": fix(g.filters)}) for g in query.compare]})

    def _select_group(self, base: DealFilters, group: DealFilters, audience: str) -> list[Row]:
        """A compare group's rows; keywords (an asset name) narrow the group only when some record has them."""
        rows = self.table.select(_merged(base, group), audience)
        if not rows and group.keywords:
            rows = self.table.select(_merged(base, group.model_copy(update={"keywords": []})), audience)
        return rows

    def _group(self, key: str, rows: list[Row], query: DealQuery) -> GroupStat:
        measure = query.measure
        values = [r[measure] for r in rows if measure and r[measure] is not None]
        operation = "count" if query.operation in ("list", "top") else query.operation
        return GroupStat(key, rows, aggregate(operation, values, len(rows)), len(values) if measure else len(rows))

    def _breakdown(self, result: DealResult) -> None:
        query = result.query
        keyed: dict[str, list[Row]] = {}
        for row in result.rows:
            for key in self._keys(row, query):
                keyed.setdefault(key, []).append(row)
        if query.group_by == "year":
            years = [int(k) for k in keyed]
            lo = query.filters.date_from // 10000 if query.filters.date_from else min(years, default=0)
            hi = query.filters.date_to // 10000 if query.filters.date_to else max(years, default=-1)
            if query.filters.years:
                lo, hi = min(query.filters.years), max(query.filters.years)
            lo, hi = max(lo, min(years, default=lo)), min(hi, max(years, default=hi))
            fill = query.operation in ("count", "sum")
            keys = [str(y) for y in range(lo, hi + 1) if fill or str(y) in keyed]
            result.groups = [self._group(k, keyed.get(k, []), query) for k in keys]
            for group in result.groups:
                if group.value is None and fill:
                    group.value = 0.0
        else:
            groups = [self._group(k, v, query) for k, v in keyed.items()]
            descending = query.order == "desc"
            groups.sort(key=lambda g: (g.value is None, -(g.value or 0) if descending else (g.value or 0), g.key))
            result.groups_total = len(groups)
            limit = query.limit or (DEFAULT_COMPANY_GROUPS if query.group_by in _COMPANY_GROUPS else None)
            if limit and len(groups) > limit:
                result.tied = sum(1 for g in groups[limit:] if g.value == groups[limit - 1].value)
                groups = groups[:limit]
            result.groups = groups
        result.groups_total = result.groups_total or len(result.groups)

    @staticmethod
    def _keys(row: Row, query: DealQuery) -> list[str]:
        group = query.group_by
        if group in ("licensor", "licensee"):
            return [row[f"{group}_group"]]
        if group == "company":
            party = query.filters.party
            roles = [r for r in ROLES if party.is_empty() or _side_ok(row, party, r)] or list(ROLES)
            return list(dict.fromkeys(row[f"{r}_group"] for r in roles))
        column = {"therapy_area": "therapy_area", "modality": "modality", "deal_type": "deal_type", "stage": "stage",
                  "licensor_country": "licensor_country", "licensee_country": "licensee_country", "year": "year"}
        return [str(row[column[group or "year"]]) or "not stated"]


def _names_something(*filters: DealFilters) -> bool:
    """Whether the filters pick out particular companies or assets (not only categories or dates)."""
    return any(f.keywords or any(side.companies for side in (f.licensor, f.licensee, f.party, f.counterparty))
               for f in filters)


def _merged(base: DealFilters, extra: DealFilters) -> DealFilters:
    """Both sets of filters at once (a comparison group within the question's filters)."""
    merged = base.model_copy(deep=True)
    for name in ("therapy_areas", "modalities", "deal_types", "stages", "keywords", "years"):
        if getattr(extra, name):
            setattr(merged, name, list(getattr(extra, name)))
    for name in ("exclude_deal_types", "values"):
        setattr(merged, name, list(getattr(base, name)) + list(getattr(extra, name)))
    if extra.date_from or extra.date_to:
        merged.date_from = max(filter(None, (base.date_from, extra.date_from)), default=None)
        merged.date_to = min(filter(None, (base.date_to, extra.date_to)), default=None)
    for role in ("licensor", "licensee", "party", "counterparty"):
        side, add = getattr(base, role), getattr(extra, role)
        if add.is_empty():
            continue
        if side.is_empty():
            setattr(merged, role, add)
        elif role == "party" and merged.counterparty.is_empty():
            merged.counterparty = add  # both must be parties: the group's side and the question's
        else:
            countries = [c for c in add.countries if not side.countries or c in side.countries]
            setattr(merged, role, Side(companies=side.companies + add.companies, countries=countries,
                                       exclude_countries=side.exclude_countries + add.exclude_countries,
                                       label=add.label or side.label))
    return merged
