"""A DealResult as an Answer: the figures in words, what was counted, the cited records, a table and a chart."""

from __future__ import annotations

from typing import Any

from advisor.analytics.query import MEASURE_LABELS, DealFilters, DealQuery, Side
from advisor.analytics.result import DealResult, Row
from advisor.ingest.deals import money
from advisor.ingest.meta import date_str
from advisor.types import Answer, Citation, Source

MAX_CITED = 10
VEGA_LITE = "https://vega.github.io/schema/vega-lite/v5.json"
_OPERATION_WORDS = {"count": "number of deals", "sum": "total", "avg": "average", "median": "median"}
_GROUP_WORDS = {"year": "year", "therapy_area": "therapy area", "modality": "modality", "deal_type": "deal type",
                "stage": "stage at deal", "licensor_country": "licensor country",
                "licensee_country": "licensee country", "licensor": "licensor", "licensee": "licensee",
                "company": "company"}
_COMPARATOR_WORDS = {"gt": "over", "gte": "at least", "lt": "under", "lte": "at most"}


def _deals(n: int) -> str:
    return f"{n} deal" if n == 1 else f"{n} deals"


def _day(yyyymmdd: int) -> str:
    return date_str(yyyymmdd)


def _dates(filters: DealFilters) -> str | None:
    if filters.years:
        return "announced in " + " or ".join(str(y) for y in filters.years)
    lo, hi = filters.date_from, filters.date_to
    if lo and hi and lo % 10000 == 101 and hi % 10000 == 1231:
        first, last = lo // 10000, hi // 10000
        return f"announced in {first}" if first == last else f"announced {first}–{last}"
    if lo and hi:
        return f"announced {_day(lo)} to {_day(hi)}"
    if lo:
        return f"announced in {lo // 10000} or later" if lo % 10000 == 101 else f"announced on or after {_day(lo)}"
    if hi:
        return f"announced in {hi // 10000} or earlier" if hi % 10000 == 1231 else f"announced on or before {_day(hi)}"
    return None


def _side(side: Side, who: str) -> str | None:
    if side.is_empty():
        return None
    where = side.label or " or ".join(side.countries)
    if side.exclude_countries and not side.label:
        where = " ".join(x for x in (where, "outside " + " and ".join(side.exclude_countries)) if x)
    if side.companies:
        names = " or ".join(side.companies)
        return f"{who} {names}" + (f" ({where})" if where else "")
    return f"{who} in {where}" if not where.startswith("outside") else f"{who} {where}"


def describe(filters: DealFilters, audience: str) -> list[str]:
    """The filters in words, in the order a reader checks them."""
    parts = [_dates(filters), _side(filters.licensor, "licensor"), _side(filters.licensee, "licensee"),
             _side(filters.party, "one party"), _side(filters.counterparty, "the other party")]
    for label, values in (("therapy area", filters.therapy_areas), ("modality", filters.modalities),
                          ("deal type", filters.deal_types), ("stage at deal", filters.stages)):
        if values:
            parts.append(f"{label} {' or '.join(values)}")
    if filters.exclude_deal_types:
        parts.append("excluding " + " and ".join(f"{t}s" if not t.endswith("research") else t
                                                 for t in filters.exclude_deal_types))
    if filters.keywords:
        parts.append("asset or notes mentioning " + " or ".join(filters.keywords))
    for v in filters.values:
        parts.append(f"{MEASURE_LABELS[v.measure]} {_COMPARATOR_WORDS[v.comparator]} {money(v.amount)}")
    if audience != "internal":
        parts.append("public records only")
    return [p for p in parts if p]


def _figure(operation: str, value: float | None) -> str:
    if value is None:
        return "not reported"
    return _deals(int(value)) if operation == "count" else money(value)


def upfront_share(row: Row) -> str:
    """", upfront 21% of total" when both are reported: how much of a headline is cash at signing."""
    if row["upfront"] is None or not row["total"]:
        return ""
    return f", upfront {round(100 * row['upfront'] / row['total'])}% of total"


def _deal_line(n: int, row: Row) -> str:
    # the asset names what changed hands: "which bispecifics were licensed?" is answered by it
    asset = f"{row['deal_type']} of {row['asset']}" if row.get("asset") else row["deal_type"]
    details = ", ".join(x for x in (asset, row["modality"], row["therapy_area"]) if x)
    return (f"[{n}] {row['deal_id']}, {date_str(row['announced'])}: {row['licensor']} ({row['licensor_country']}) → "
            f"{row['licensee']} ({row['licensee_country']}), {details}; upfront {money(row['upfront'])}, "
            f"milestones {money(row['milestones'])}, total {money(row['total'])}{upfront_share(row)}.")


def also_measures(result: DealResult, named: list[str]) -> list[str]:
    """Sums of the other money fields a question names ("… and their combined total value?"), where reported."""
    query = result.query
    if query.compare or query.group_by or query.operation == "top" or not result.rows:
        return []
    primary = query.measure if query.operation in ("sum", "avg", "median") else None
    lines = []
    for measure in dict.fromkeys(named):
        if measure == primary:
            continue
        values = [r[measure] for r in result.rows if r[measure] is not None]
        label = MEASURE_LABELS[measure]
        if not values:
            lines.append(f"None of them reported {'an' if label[0] in 'aeiou' else 'a'} {label}.")
            continue
        of = f", across all {_deals(len(values))}" if len(values) == len(result.rows) else \
            f", for the {len(values)} of {len(result.rows)} that reported one"
        lines.append(f"Combined {label}: {money(sum(values))}{of}.")
    return lines


def _cited_rows(result: DealResult) -> list[Row]:
    """The records to cite, most telling first: ranked rows, else the largest by the measure, else the latest."""
    query, measure = result.query, result.query.measure
    if query.operation == "top" and not (query.compare or query.group_by):
        return result.shown
    if query.compare or query.group_by:
        pools = [_ordered(g.rows, measure) for g in result.groups if g.rows]
        picked: list[Row] = []
        while any(pools) and len(picked) < MAX_CITED:
            for pool in pools:
                while pool and pool[0] in picked:
                    pool.pop(0)
                if pool and len(picked) < MAX_CITED:
                    picked.append(pool.pop(0))
        return picked
    if query.operation == "list":
        return result.shown if query.limit else result.rows
    return _ordered(result.rows, measure)


def _ordered(rows: list[Row], measure: str | None) -> list[Row]:
    if measure:
        return sorted(rows, key=lambda r: (r[measure] is not None, r[measure] or 0, r["announced"]), reverse=True)
    return sorted(rows, key=lambda r: (r["announced"], r["deal_id"]), reverse=True)


def _headline(result: DealResult) -> list[str]:
    query, n = result.query, len(result.rows)
    measure = MEASURE_LABELS.get(query.measure or "", "")
    if query.operation == "count":
        return [f"{_deals(n)} in the tracker match the question." if n != 1 else
                "1 deal in the tracker matches the question."]
    if query.operation == "list" and query.limit:
        word = "most recent" if query.order == "desc" else "earliest"
        k = len(result.shown)
        return [f"The {word} of {_deals(n)} that match, by announcement date:" if k == 1 else
                f"The {k} {word} of {_deals(n)} that match, by announcement date:"]
    if query.operation == "list":
        return [f"{_deals(n)} match:" if n != 1 else "1 deal matches:"]
    if query.operation == "top":
        k = len(result.shown)
        word = "Largest" if query.order == "desc" else "Smallest"
        if k == 1:
            row = result.shown[0]
            return [f"{word} by {measure}: {row['licensor']} → {row['licensee']} {row['deal_type']} "
                    f"({date_str(row['announced'])}), {money(row[query.measure or 'total'])} [1]."]
        return [f"{'Top' if query.order == 'desc' else 'Bottom'} {k} by {measure} (of {_deals(result.reported)} "
                f"that reported one):"]
    label = {"sum": "Total", "avg": "Average", "median": "Median"}[query.operation]
    if result.value is None:
        return [f"None of the {_deals(n)} that match reported {'an' if measure[0] in 'aeiou' else 'a'} {measure}, "
                f"so there is no {label.lower()} to give."]
    what = "Total deal value" if label == "Total" and query.measure == "total" else f"{label} {measure}"
    return [f"{what}: {money(result.value)}, over the {_deals(result.reported)} that reported one."]


def _group_lines(result: DealResult) -> list[str]:
    query = result.query
    operation = "count" if query.operation in ("list", "top") else query.operation
    measure = MEASURE_LABELS.get(query.measure or "", "")
    what = "Number of deals" if operation == "count" else \
        "Total deal value" if operation == "sum" and measure == "total deal value" else \
        f"{_OPERATION_WORDS[operation].capitalize()} {measure}"
    lines = [f"{what} by {_GROUP_WORDS[query.group_by]}:" if query.group_by else f"{what}, compared:"]
    for g in result.groups:
        line = f"- {g.key}: {_figure(operation, g.value)}"
        if operation == "count":
            line += f" of the {_deals(len(result.rows))}" if len(result.rows) != int(g.value or 0) else " (all of them)"
        else:
            line += f" ({_deals(g.count)}"
            line += f", {g.count - g.reported} without {'an' if measure[0] in 'aeiou' else 'a'} {measure})" \
                if g.reported < g.count else ")"
        lines.append(line)
    if result.groups_total > len(result.groups):
        tied = f"; {result.tied} more tie with the last" if result.tied else ""
        lines.append(f"(the top {len(result.groups)} of {result.groups_total} shown{tied})")
    if query.group_by and not query.compare and len(result.groups) > 1:
        valued = [g for g in result.groups if g.value is not None]
        if valued:
            pick = min if query.order == "asc" else max
            best = pick(valued, key=lambda g: g.value or 0)
            ties = [g.key for g in valued if g.value == best.value]
            word = "Lowest" if query.order == "asc" else "Highest"
            lines.append(f"{word}: {' and '.join(ties)}, with {_figure(operation, best.value)}.")
    if query.compare and len(result.groups) == 2 and all(g.value for g in result.groups):
        a, b = result.groups
        assert a.value is not None and b.value is not None
        more, less = (a, b) if a.value >= b.value else (b, a)
        assert more.value is not None and less.value is not None
        if more.value == less.value:
            lines.append(f"Both come to {_figure(operation, more.value)}.")
        else:
            gap = _figure(operation, more.value - less.value)
            lines.append(f"{more.key} is higher by {gap} ({more.value / less.value:.1f}× {less.key}).")
    return lines


def _counted(result: DealResult, audience: str) -> list[str]:
    query = result.query
    # one sentence: what was counted and how many deals matched ("Counted: public records only; 12 deals matched.")
    scope = "; ".join(describe(query.filters, audience)) or "all deal records"
    shown = len({r["deal_id"] for g in result.groups for r in g.rows})
    matched = f"{_deals(len(result.rows))} matched"
    if (query.compare or query.group_by) and shown != len(result.rows):
        matched += f", {shown} of them in the groups shown"
    lines = [f"Counted: {scope}; {matched}."]
    if query.measure and result.missing and query.operation != "count":
        use = {"sum": "sum", "avg": "average", "median": "median", "top": "ranking"}.get(query.operation, "figures")
        ids = ", ".join(r["deal_id"] for r in result.missing[:MAX_CITED])
        more = f" and {len(result.missing) - MAX_CITED} more" if len(result.missing) > MAX_CITED else ""
        lines.append(f"{len(result.missing)} of {_deals(len(result.rows))} that match did not report "
                     f"{'an' if query.measure[0] in 'aeiou' else 'a'} {MEASURE_LABELS[query.measure]} and are "
                     f"excluded from the {use}: {ids}{more}.")
    if result.untested:
        fields = " or ".join(dict.fromkeys(MEASURE_LABELS[v.measure] for v in query.filters.values))
        ids = ", ".join(r["deal_id"] for r in result.untested[:MAX_CITED])
        more = f" and {len(result.untested) - MAX_CITED} more" if len(result.untested) > MAX_CITED else ""
        lines.append(f"Not counted because the threshold could not be tested ({fields} not reported), though "
                     f"they match everything else: {ids}{more}.")
    if query.notes:
        lines.append("Notes: " + "; ".join(query.notes) + ".")
    return lines


def chart(result: DealResult, title: str) -> dict[str, Any] | None:
    """A Vega-Lite v5 spec: a line for a trend by year, bars for any other breakdown or comparison."""
    query = result.query
    if not (query.compare or query.group_by):
        return None
    operation = "count" if query.operation in ("list", "top") else query.operation
    y_title = "deals" if operation == "count" else \
        f"{_OPERATION_WORDS[operation]} {MEASURE_LABELS[query.measure or 'total']} (USD m)"
    x_title = _GROUP_WORDS[query.group_by] if query.group_by else "group"
    line = query.group_by == "year"
    return {
        "$schema": VEGA_LITE,
        "title": title,
        "data": {"values": [{"group": g.key, "value": g.value, "deals": g.count, "reported": g.reported}
                            for g in result.groups]},
        "mark": {"type": "line", "point": True, "tooltip": True} if line else {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "group", "type": "ordinal", "title": x_title, "sort": None},
            "y": {"field": "value", "type": "quantitative", "title": y_title},
            "tooltip": [{"field": "group", "type": "nominal", "title": x_title},
                        {"field": "value", "type": "quantitative", "title": y_title},
                        {"field": "deals", "type": "quantitative", "title": "deals"}],
        },
    }


def table_rows(result: DealResult) -> list[dict[str, Any]]:
    """The records behind the figures, as plain dicts (with their group for a breakdown or comparison)."""
    def plain(row: Row, group: str | None = None) -> dict[str, Any]:
        out = {"deal_id": row["deal_id"], "announced": date_str(row["announced"]), "licensor": row["licensor"],
               "licensor_country": row["licensor_country"], "licensee": row["licensee"],
               "licensee_country": row["licensee_country"], "deal_type": row["deal_type"], "asset": row["asset"],
               "modality": row["modality"], "therapy_area": row["therapy_area"], "stage_at_deal": row["stage"],
               "upfront_usd_m": row["upfront"], "milestones_usd_m": row["milestones"],
               "total_value_usd_m": row["total"], "source_url": row["source_url"]}
        return {"group": group, **out} if group is not None else out

    query = result.query
    if query.compare or query.group_by:
        return [plain(r, g.key) for g in result.groups for r in g.rows]
    return [plain(r) for r in (result.shown if query.operation == "top" else result.rows)]


def render_answer(question: str, result: DealResult, *, audience: str, also: list[str] | None = None) -> Answer:
    """Compose the Answer: headline figures, per-group lines, what was counted, cited deal lines.

    `also`: further money fields the question names, each summed over the matching deals.
    """
    query: DealQuery = result.query
    lines = _headline(result) + also_measures(result, also or []) if not (query.compare or query.group_by) else []
    if query.compare or query.group_by:
        lines += _group_lines(result)
    cited = _cited_rows(result)[:MAX_CITED] if result.rows else []
    citations = [Citation(n=n, doc_id=r["deal_id"], title=r["title"], url=r["source_url"],
                          published=date_str(r["announced"]), doc_type="deal", audience=r["audience"],
                          chunk_id=r["chunk_id"], passage=r["text"], char_start=0, char_end=len(r["text"]))
                 for n, r in enumerate(cited, start=1)]
    deal_lines = [_deal_line(c.n, r) for c, r in zip(citations, cited, strict=True)]
    behind = len(result.shown) if query.operation in ("top", "list") and query.limit and not (
        query.compare or query.group_by) \
        else len({r["deal_id"] for g in result.groups for r in g.rows}) if (query.compare or query.group_by) \
        else len(result.rows)
    if behind > len(cited) and cited:
        deal_lines.append(f"… and {behind - len(cited)} more matching deals, all in the table.")
    if not result.rows:
        lines = [f"No {'public ' if audience != 'internal' else ''}deal record matches the question."]
    text = "\n".join(lines + ([""] + deal_lines if deal_lines else []) + [""] + _counted(result, audience))
    sources = [Source(doc_id=c.doc_id, title=c.title, url=c.url, published=c.published) for c in citations]
    # deals match but none reported the figure asked for: the records are shown, and it is not an answer
    unreported = bool(result.rows) and query.operation in ("sum", "avg", "median") and result.value is None \
        and not (query.compare or query.group_by)
    return Answer(question=question, text=text.strip(), citations=citations, sources=sources,
                  covered=not unreported, route="partial" if unreported else "analytics", audience=audience,
                  evidence_score=1.0 if result.rows else 0.0,
                  notes=list(query.notes), table=table_rows(result), chart=chart(result, question))
