"""Deal analytics over the real corpus: every figure is recomputed here from deals.csv with the csv module
and plain Python, never through the engine's SQL, and compared exactly."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from advisor.advisor import Advisor
from advisor.analytics import DealAnalytics, DealResult
from advisor.config import Settings
from advisor.ingest.deals import money
from tests.conftest import REPO

TODAY = dt.date(2026, 11, 20)
CSV = REPO / "corpus" / "deals" / "deals.csv"
CN = {"China", "Hong Kong"}
GREATER_CHINA = CN | {"Taiwan"}
EUROPE = {"United Kingdom", "Switzerland", "Germany", "France", "Denmark", "Belgium", "Netherlands", "Ireland",
          "Sweden", "Spain", "Italy"}
WEST = EUROPE | {"United States", "Canada"}
# the party cells of deals.csv that name each company (written out by hand, not derived by the engine)
MERCK = {"Merck & Co.", "Merck & Co. (MSD)"}
AZ = {"AstraZeneca", "AstraZeneca (MedImmune)"}
ROCHE = {"Roche", "Roche (Genentech)", "Genentech (Roche)"}
CSPC = {"CSPC Pharmaceutical", "CSPC Megalith"}
# how a licensee cell is grouped: its parent company (cells not listed group under themselves)
GROUP = {"Merck & Co. (MSD)": "Merck & Co.", "AstraZeneca (MedImmune)": "AstraZeneca", "Roche (Genentech)": "Roche",
         "Genentech (Roche)": "Roche", "Kite (Gilead)": "Gilead Sciences", "Gilead": "Gilead Sciences",
         "Astellas": "Astellas Pharma", "Otsuka": "Otsuka Pharmaceutical", "GSK (Tesaro)": "GSK",
         "Pfizer (Seagen)": "Pfizer", "TRC 2004 (Candid Therapeutics)": "Candid Therapeutics",
         "Vignette Bio (Candid Therapeutics)": "Candid Therapeutics", "Janssen (Johnson & Johnson)":
         "Johnson & Johnson", "Takeda (Millennium Pharmaceuticals)": "Takeda", "CSL Behring (CSL)": "CSL",
         "CSL Seqirus (CSL)": "CSL", "Hercules CM NewCo (Kailera Therapeutics)": "Hercules CM NewCo",
         "Menarini / Stemline Therapeutics": "Menarini", "Sosei Group (Nxera Pharma)": "Nxera Pharma",
         "Sumitomo Dainippon Pharma (Sunovion)": "Sumitomo Pharma", "Jacobio Pharma": "Jacobio Pharmaceuticals",
         "CSPC Megalith": "CSPC Pharmaceutical", "Nona Biosciences (Harbour BioMed)": "Harbour BioMed",
         "Nona Biosciences (Harbour BioMed) / MediLink": "Harbour BioMed", "MediLink": "MediLink Therapeutics"}


@dataclass(frozen=True)
class D:
    """One deal row as plain Python values."""

    id: str
    day: int
    year: int
    licensor: str
    lic_c: str
    licensee: str
    lee_c: str
    type: str
    modality: str
    area: str
    text: str
    upfront: float | None
    milestones: float | None
    total: float | None

    def value(self, measure: str) -> float | None:
        return getattr(self, measure)


def _num(cell: str) -> float | None:
    return float(cell) if cell.strip() else None


def _load() -> list[D]:
    with CSV.open(encoding="utf-8", newline="") as handle:
        return [D(r["deal_id"], int(r["announced"].replace("-", "")), int(r["announced"][:4]), r["licensor"],
                  r["licensor_country"], r["licensee"], r["licensee_country"], r["deal_type"], r["modality"],
                  r["therapy_area"], f"{r['asset']} {r['notes']}", _num(r["upfront_usd_m"]),
                  _num(r["milestones_usd_m"]), _num(r["total_value_usd_m"])) for r in csv.DictReader(handle)]


DEALS = _load()


def party(d: D, names: set[str]) -> bool:
    return d.licensor in names or d.licensee in names


def with_other(d: D, names: set[str], countries: set[str]) -> bool:
    return (d.licensor in names and d.lee_c in countries) or (d.licensee in names and d.lic_c in countries)


def either_in(d: D, one: set[str], other: set[str]) -> bool:
    return (d.lic_c in one and d.lee_c in other) or (d.lee_c in one and d.lic_c in other)


def out_licensing(d: D, home: set[str], outside: set[str]) -> bool:
    return d.lic_c in home and d.lee_c not in outside and d.type != "acquisition"


def mentions(d: D, term: str) -> bool:
    return re.search(r"(?<![A-Za-z0-9])" + re.escape(term) + r"(?![0-9])", d.text, re.I) is not None


def in_year(d: D, *years: int) -> bool:
    return d.year in years


@dataclass
class Case:
    question: str
    where: Callable[[D], bool]
    operation: str
    measure: str | None = None
    n: int | None = None
    ascending: bool = False
    group: Callable[[D], list[str]] | None = None
    compare: dict[str, Callable[[D], bool]] | None = None


def by_licensee(d: D) -> list[str]:
    return [GROUP.get(d.licensee, d.licensee)]


CASES = [
    Case("What is the sum of reported upfront payments to South Korean licensors across the whole deal tracker?",
         lambda d: d.lic_c == "South Korea", "sum", "upfront"),
    Case("In which year were the most deals with China-headquartered licensors announced?",
         lambda d: d.lic_c == "China", "count", group=lambda d: [str(d.year)]),
    Case("How much upfront did Western pharma pay Chinese biotechs for ADCs in 2024?",
         lambda d: d.lic_c in CN and d.lee_c in WEST and d.modality == "ADC" and d.year == 2024, "sum", "upfront"),
    Case("Top 5 China out-licensing deals by total value in 2025",
         lambda d: out_licensing(d, CN, GREATER_CHINA) and d.year == 2025, "top", "total", n=5),
    Case("How does the average upfront compare between oncology and immunology deals?", lambda d: True, "avg",
         "upfront", compare={"oncology": lambda d: d.area == "oncology",
                             "immunology": lambda d: d.area == "immunology"}),
    Case("Which deals did AstraZeneca sign with Chinese companies?", lambda d: with_other(d, AZ, CN), "list"),
    Case("How many China-to-US licensing deals over $1bn were announced in 2025?",
         lambda d: d.lic_c in CN and d.lee_c == "United States" and d.type == "licence" and (d.total or 0) > 1000
         and d.year == 2025, "count"),
    Case("How many deals did MSD sign since 2023?", lambda d: party(d, MERCK) and d.day >= 20230101, "count"),
    Case("How many deals did Merck & Co sign with Chinese biotechs?", lambda d: with_other(d, MERCK, CN), "count"),
    Case("Total upfront paid by Merck Sharp & Dohme", lambda d: d.licensee in MERCK, "sum", "upfront"),
    Case("How many deals did Janssen sign?", lambda d: party(d, {"Janssen (Johnson & Johnson)"}), "count"),
    Case("List Genentech deals", lambda d: party(d, ROCHE), "list"),
    Case("How many deals did BeOne sign?", lambda d: party(d, {"BeiGene"}), "count"),
    Case("What is the total upfront Hengrui received since 2023?",
         lambda d: d.licensor == "Jiangsu Hengrui" and d.day >= 20230101, "sum", "upfront"),
    Case("How many deals did Jiangsu Hengrui sign in 2025?", lambda d: party(d, {"Jiangsu Hengrui"}) and
         d.year == 2025, "count"),
    Case("Which deals did CSPC sign?", lambda d: party(d, CSPC), "list"),
    Case("How many ADC deals were signed between 2021 and 2023?",
         lambda d: d.modality == "ADC" and 2021 <= d.year <= 2023, "count"),
    Case("What was the largest upfront payment by a Western pharma to a Chinese biotech?",
         lambda d: d.lic_c in CN and d.lee_c in WEST, "top", "upfront", n=1),
    Case("Which Chinese companies licensed ADCs to Merck?",
         lambda d: d.lic_c in CN and d.licensee in MERCK and d.modality == "ADC", "list"),
    Case("Average total value of Japanese in-licensing deals",
         lambda d: d.lee_c == "Japan" and d.lic_c != "Japan" and d.type != "acquisition", "avg", "total"),
    Case("How many acquisitions of Chinese biotechs by Western pharma were there?",
         lambda d: d.type == "acquisition" and d.lic_c in CN and d.lee_c in WEST, "count"),
    Case("Deals over $1bn by therapy area in 2025", lambda d: (d.total or 0) > 1000 and d.year == 2025, "count",
         group=lambda d: [d.area]),
    Case("Trend of China out-licensing upfronts since 2020",
         lambda d: out_licensing(d, CN, GREATER_CHINA) and d.year >= 2020, "sum", "upfront",
         group=lambda d: [str(d.year)]),
    Case("Top 3 licensees by upfront paid to Chinese companies", lambda d: d.lic_c in CN, "sum", "upfront", n=3,
         group=by_licensee),
    Case("How many deals with at least $500m upfront?", lambda d: (d.upfront or 0) >= 500, "count"),
    Case("Compare 2024 and 2025 China out-licensing total value", lambda d: out_licensing(d, CN, GREATER_CHINA),
         "sum", "total", compare={"2024": lambda d: d.year == 2024, "2025": lambda d: d.year == 2025}),
    Case("Which companies did the most AI deals?", lambda d: d.type == "AI research", "count", n=10,
         group=lambda d: list(dict.fromkeys([GROUP.get(d.licensor, d.licensor), GROUP.get(d.licensee, d.licensee)]))),
    Case("How many GLP-1 deals did Chinese biotechs sign with US pharma?",
         lambda d: mentions(d, "GLP-1") and either_in(d, CN, {"United States"}), "count"),
    Case("How many obesity deals in 2025?", lambda d: d.area == "cardiometabolic" and d.year == 2025, "count"),
    Case("What were the five smallest Korean deals by upfront?",
         lambda d: "South Korea" in (d.lic_c, d.lee_c), "top", "upfront", n=5, ascending=True),
    Case("How much did Merck pay for Chinese ADCs?",
         lambda d: d.lic_c in CN and d.licensee in MERCK and d.modality == "ADC", "sum", "total"),
    Case("Count of licensing deals by modality in 2024", lambda d: d.type == "licence" and d.year == 2024, "count",
         group=lambda d: [d.modality]),
    Case("How many deals involved Hong Kong companies?", lambda d: "Hong Kong" in (d.lic_c, d.lee_c), "count"),
    Case("Sum of milestones in Japanese deals in 2020", lambda d: "Japan" in (d.lic_c, d.lee_c) and d.year == 2020,
         "sum", "milestones"),
    Case("How many deals were there between AstraZeneca and CSPC?",
         lambda d: (d.licensor in AZ and d.licensee in CSPC) or (d.licensor in CSPC and d.licensee in AZ), "count"),
    Case("How many PD-1 bispecific deals were there?",
         lambda d: d.modality == "bispecific antibody" and mentions(d, "PD-1"), "count"),
    Case("How many deals did Merck KGaA sign?", lambda d: party(d, {"Merck KGaA"}), "count"),
    Case("How many Chinese out-licensing deals last year?",
         lambda d: out_licensing(d, CN, GREATER_CHINA) and d.year == 2025, "count"),
    Case("What was the median deal value for ADC licensing deals in the past 3 years?",
         lambda d: d.modality == "ADC" and d.type == "licence" and 20231120 <= d.day <= 20261120, "median", "total"),
    Case("How many deals with licensees outside China in 2025?", lambda d: d.lee_c not in CN and d.year == 2025,
         "count"),
    Case("How many deals did Chinese licensors sign with Japanese licensees?",
         lambda d: d.lic_c in CN and d.lee_c == "Japan", "count"),
    Case("Biggest ADC deal ever", lambda d: d.modality == "ADC", "top", "total", n=1),
    Case("Which Western pharma paid the most upfront to Chinese biotechs in 2025?",
         lambda d: d.lic_c in CN and d.lee_c in WEST and d.year == 2025, "sum", "upfront", n=10, group=by_licensee),
    Case("How many NewCo deals were there?", lambda d: d.type == "NewCo", "count"),
    Case("How many deals by licensee country for Chinese licensors in 2025?",
         lambda d: d.lic_c in CN and d.year == 2025, "count", group=lambda d: [d.lee_c]),
    Case("Show me oncology deals over $5bn", lambda d: d.area == "oncology" and (d.total or 0) > 5000, "list"),
    Case("Total value of deals signed by Novartis in H1 2024",
         lambda d: party(d, {"Novartis"}) and 20240101 <= d.day <= 20240630, "sum", "total"),
    Case("How many deals were signed in Q1 2025?", lambda d: 20250101 <= d.day <= 20250331, "count"),
    Case("Number of deals per year involving Chinese licensors", lambda d: d.lic_c in CN, "count",
         group=lambda d: [str(d.year)]),
    Case("Median upfront of bispecific deals since 2023",
         lambda d: d.modality == "bispecific antibody" and d.year >= 2023, "median", "upfront"),
    Case("Which Western pharma signed the most deals with Chinese biotechs?", lambda d: either_in(d, WEST, CN),
         "count", n=10, group=lambda d: [GROUP.get(x, x) for x, c in ((d.licensor, d.lic_c), (d.licensee, d.lee_c))
                                         if c in WEST]),
    Case("Average upfront of AI research deals by year", lambda d: d.type == "AI research", "avg", "upfront",
         group=lambda d: [str(d.year)]),
    Case("How many deals did Takeda sign with Korean companies?",
         lambda d: with_other(d, {"Takeda", "Takeda (Millennium Pharmaceuticals)"}, {"South Korea"}), "count"),
    Case("Total upfront of deals with upfront between $100m and $500m in 2023",
         lambda d: d.upfront is not None and 100 <= d.upfront <= 500 and d.year == 2023, "sum", "upfront"),
    Case("Compare Chinese and Korean out-licensing deals by upfront in 2024", lambda d: d.year == 2024, "sum",
         "upfront", compare={"China (incl. Hong Kong)": lambda d: out_licensing(d, CN, GREATER_CHINA),
                             "South Korea": lambda d: out_licensing(d, {"South Korea"}, {"South Korea"})}),
    Case("How many option deals did Chinese biotechs sign in 2024 or 2025?",
         lambda d: d.type == "option" and CN & {d.lic_c, d.lee_c} != set() and d.year in (2024, 2025), "count"),
    Case("Top 5 deals by upfront", lambda d: True, "top", "upfront", n=5),
    Case("How many deals did European licensees in-license from China in 2024?",
         lambda d: d.lee_c in EUROPE and d.lic_c in CN and d.type != "acquisition" and d.year == 2024, "count"),
    Case("How many deals did Japanese pharma sign in the last 2 years?",
         lambda d: "Japan" in (d.lic_c, d.lee_c) and 20241120 <= d.day <= 20261120, "count"),
]


def _aggregate(operation: str, values: list[float], count: int) -> float | None:
    if operation == "count":
        return float(count)
    if not values:
        return None
    return {"sum": math.fsum(values), "avg": math.fsum(values) / len(values),
            "median": float(statistics.median(values))}[operation]


@pytest.fixture(scope="module")
def analytics(tmp_path_factory: pytest.TempPathFactory) -> DealAnalytics:
    settings = Settings(data_dir=tmp_path_factory.mktemp("analytics") / "data", embedder="hash")
    advisor = Advisor.from_settings(settings)
    report = advisor.ingest([REPO / "corpus" / "deals"])
    assert report.ok, report.record_errors[:3]
    return DealAnalytics(advisor.store.catalog)


def test_there_are_at_least_forty_questions() -> None:
    assert len(CASES) >= 40
    assert len({c.question for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.question for c in CASES])
def test_answers_match_figures_computed_from_the_csv(analytics: DealAnalytics, case: Case) -> None:
    query = analytics.parse(case.question, TODAY)
    assert query is not None, "not recognised as analytic"
    assert query.operation == case.operation
    assert bool(query.group_by) == bool(case.group) and bool(query.compare) == bool(case.compare)
    if case.measure:
        assert query.measure == case.measure
    result = analytics.run(query, audience="public")
    matching = [d for d in DEALS if case.where(d)]
    if case.compare:
        _check_groups(result, {label: [d for d in matching if pick(d)] for label, pick in case.compare.items()}, case)
    elif case.group:
        groups: dict[str, list[D]] = {}
        for d in matching:
            for key in case.group(d):
                groups.setdefault(key, []).append(d)
        _check_groups(result, groups, case)
    elif case.operation == "top":
        assert case.measure and case.n
        reported = [d for d in matching if d.value(case.measure) is not None]
        ranked = sorted(reported, key=lambda d: (d.value(case.measure), d.day), reverse=not case.ascending)[:case.n]
        assert [r["deal_id"] for r in result.shown] == [d.id for d in ranked]
        assert {r["deal_id"] for r in result.rows} == {d.id for d in matching}
    else:
        assert {r["deal_id"] for r in result.rows} == {d.id for d in matching}
        values = [v for d in matching if (v := d.value(case.measure or "total")) is not None]
        expected = _aggregate("count" if case.operation == "list" else case.operation, values, len(matching))
        assert result.value == expected
        if case.measure:
            assert {r["deal_id"] for r in result.missing} == {d.id for d in matching if d.value(case.measure) is None}
    answer = analytics.answer(case.question, audience="public", today=TODAY)
    assert answer is not None and answer.route == "analytics"
    if case.operation in ("sum", "avg", "median") and not (case.group or case.compare) and result.value is not None:
        assert money(result.value) in answer.text
    if case.operation == "count" and not (case.group or case.compare):
        assert f"{len(matching)} deal" in answer.text


def _check_groups(result: DealResult, expected: dict[str, list[D]], case: Case) -> None:
    measure = case.measure
    want: dict[str, float | None] = {}
    for key, deals in expected.items():
        values = [v for d in deals if measure and (v := d.value(measure)) is not None]
        want[key] = _aggregate(case.operation, values, len(deals))
    got = {g.key: g.value for g in result.groups}
    for key, value in got.items():
        if value == 0.0 and key not in want:
            continue  # a year with no deals, filled in for the trend line
        assert value == want[key], key
        assert {r["deal_id"] for g in result.groups if g.key == key for r in g.rows} == \
            {d.id for d in expected.get(key, [])}
    if case.n:  # a ranking: the groups kept are the largest, in order
        assert len(got) == min(case.n, len(want))
        kept = [v or 0 for v in got.values()]
        assert kept == sorted(kept, reverse=True)
        left_out = [v or 0 for k, v in want.items() if k not in got]
        assert all(v <= min(kept) for v in left_out)
    else:
        assert {k for k, v in got.items() if k in want} == set(want)


def test_answer_cites_the_records_with_their_full_text(analytics: DealAnalytics) -> None:
    answer = analytics.answer("Which deals did AstraZeneca sign with Chinese companies?", today=TODAY)
    assert answer is not None
    catalog = analytics.table.catalog
    assert len(answer.citations) == 10 and "and 1 more" in answer.text
    for citation in answer.citations:
        document = catalog.document(citation.doc_id)
        assert document is not None
        assert citation.passage == document.text[citation.char_start:citation.char_end] == document.text
        assert citation.chunk_id in {c.chunk_id for c in catalog.iter_chunks() if c.doc_id == citation.doc_id}
        assert f"[{citation.n}] {citation.doc_id}" in answer.text
        assert citation.url.startswith("http") and citation.published[:4].isdigit()
    assert [s.doc_id for s in answer.sources] == [c.doc_id for c in answer.citations]
    assert answer.table is not None and len(answer.table) == 11 and answer.chart is None


def test_answer_says_what_was_counted_and_what_was_missing(analytics: DealAnalytics) -> None:
    answer = analytics.answer("Total upfront paid by Merck Sharp & Dohme", today=TODAY)
    assert answer is not None
    missing = [d.id for d in DEALS if d.licensee in MERCK and d.upfront is None]
    matched = [d for d in DEALS if d.licensee in MERCK]
    assert "licensee Merck & Co." in answer.text and "public records only" in answer.text
    assert f"; {len(matched)} deals matched." in answer.text
    if missing:
        assert f"{len(missing)} of {len(matched)} deals that match did not report an upfront" in answer.text
    answer = analytics.answer("What were the biggest deals last year?", today=TODAY)
    assert answer is not None and "read as total deal value" in answer.text and "read as 2025" in answer.text


def test_deals_that_match_but_report_no_such_figure_are_shown_and_not_an_answer(analytics: DealAnalytics) -> None:
    unreported = [d for d in DEALS if d.upfront is None and d.licensee == "Candid Therapeutics"
                  and d.licensor == "WuXi Biologics"]
    assert unreported, "the corpus changed: pick another deal without a reported upfront"
    answer = analytics.answer("How much did Candid Therapeutics pay WuXi Biologics upfront?", today=TODAY)
    assert answer is not None and answer.citations  # the matching records are cited as context
    assert "so there is no total to give" in answer.text
    assert (answer.covered, answer.route) == (False, "partial")
    reported = analytics.answer("Total upfront paid by Merck Sharp & Dohme", today=TODAY)
    assert reported is not None and (reported.covered, reported.route) == (True, "analytics")


def test_a_second_measure_named_is_summed_too_and_each_deal_shows_its_upfront_share(
        analytics: DealAnalytics) -> None:
    question = "How many deals did AstraZeneca sign with Chinese licensors in 2025, and their combined total value?"
    answer = analytics.answer(question, today=TODAY)
    assert answer is not None
    matched = [d for d in DEALS if d.licensee in AZ and d.lic_c in CN and d.year == 2025]
    totals = [d.total for d in matched if d.total is not None]
    assert f"{len(matched)} deals in the tracker match the question." in answer.text
    assert f"Combined total deal value: {money(math.fsum(totals))}, for the {len(totals)} of {len(matched)}" \
        in answer.text
    shares = {d.id: round(100 * d.upfront / d.total) for d in matched if d.upfront is not None and d.total}
    for deal_id, share in shares.items():
        assert re.search(rf"\] {deal_id}, [^\n]*upfront {share}% of total\.", answer.text)


def test_a_listed_deal_names_its_asset(analytics: DealAnalytics) -> None:
    answer = analytics.answer("Which Chinese PD-1 or PD-L1 x VEGF bispecifics have been licensed to Western "
                              "companies?", today=TODAY)
    assert answer is not None
    with CSV.open(encoding="utf-8", newline="") as handle:
        assets = {r["deal_id"]: r["asset"] for r in csv.DictReader(handle)}
    assert answer.citations
    for citation in answer.citations:
        assert re.search(rf"\] {citation.doc_id}, [^\n]*licence of {re.escape(assets[citation.doc_id])}, ",
                         answer.text)


def test_which_year_names_the_highest_group(analytics: DealAnalytics) -> None:
    answer = analytics.answer("In which year were the most deals with China-headquartered licensors announced?",
                              today=TODAY)
    assert answer is not None
    counts: dict[int, int] = {}
    for d in DEALS:
        if d.lic_c == "China":  # the headquarters field: Hong Kong is its own value
            counts[d.year] = counts.get(d.year, 0) + 1
    top = max(counts.values())
    years = " and ".join(str(y) for y in sorted(counts) if counts[y] == top)
    assert f"Highest: {years}, with {top} deals." in answer.text


def test_breakdowns_and_comparisons_carry_a_vega_lite_chart(analytics: DealAnalytics) -> None:
    trend = analytics.answer("Number of deals per year involving Chinese licensors", today=TODAY)
    assert trend is not None and trend.chart is not None
    assert trend.chart["$schema"].endswith("vega-lite/v5.json") and trend.chart["mark"]["type"] == "line"
    years = [v["group"] for v in trend.chart["data"]["values"]]
    assert years == sorted(years) and trend.table and all("group" in row for row in trend.table)
    compare = analytics.answer("How does the average upfront compare between oncology and immunology deals?")
    assert compare is not None and compare.chart is not None and compare.chart["mark"]["type"] == "bar"
    assert [v["group"] for v in compare.chart["data"]["values"]] == ["oncology", "immunology"]
    assert "higher by" in compare.text


def test_two_deals_side_by_side(analytics: DealAnalytics) -> None:
    """Each side keeps its own company and year; what follows "both" applies to both; assets narrow a side."""
    daiichi = {"Daiichi Sankyo"}
    answer = analytics.answer("Compare AstraZeneca's 2019 Enhertu deal with Merck's 2023 DXd ADC deal, both with "
                              "Daiichi Sankyo.", today=TODAY)
    assert answer is not None and answer.route == "analytics"
    for names, year in ((AZ, 2019), (MERCK, 2023)):
        side = [d for d in DEALS if party(d, names) and party(d, daiichi) and d.year == year]
        assert side and all(d.id in answer.text for d in side)
        for d in side:
            assert f"upfront {money(d.upfront)}" in answer.text
    # a date on one side only is for both sides
    query = analytics.parse("AstraZeneca versus Novartis: total upfront paid since 2023", TODAY)
    assert query is not None and query.filters.date_from == 20230101
    assert [g.filters.date_from for g in query.compare] == [None, None]


def test_most_recent_and_earliest_deals_are_by_date(analytics: DealAnalytics) -> None:
    newest = max(DEALS, key=lambda d: (d.day, d.id))
    answer = analytics.answer("What is the most recent deal in the deal tracker?", today=TODAY)
    assert answer is not None and [c.doc_id for c in answer.citations] == [newest.id]
    assert "more matching deals" not in answer.text
    chinese = sorted((d for d in DEALS if d.lic_c in CN), key=lambda d: (d.day, d.id))
    answer = analytics.answer("Which were the three earliest deals with Chinese licensors?", today=TODAY)
    assert answer is not None and [c.doc_id for c in answer.citations] == [d.id for d in chinese[:3]]
