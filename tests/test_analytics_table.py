"""The deals table: audience is respected, it follows incremental ingest, and SQL only ever sees parameters."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from advisor.advisor import Advisor
from advisor.analytics import DealAnalytics, DealFilters, DealQuery, Side
from advisor.config import Settings
from tests.conftest import DEALS_HEADER

TODAY = dt.date(2026, 11, 20)
PUBLIC_ROWS = [
    "P1,2025-03-01,Jiangsu Hengrui,China,Merck & Co.,United States,licence,HRS-1,small molecule,cardiometabolic,"
    "phase 1,Global,200,1770,1970,,https://example.com/p1,",
    "P2,2025-06-01,Akeso,China,Summit Therapeutics,United States,licence,AK-2,bispecific antibody,oncology,"
    "phase 3,US,500,4500,5000,,https://example.com/p2,",
    "P3,2024-05-01,Alteogen,South Korea,AstraZeneca,United Kingdom,licence,ALT-3,protein,oncology,platform,"
    "Global,45,1305,1350,,https://example.com/p3,",
]
INTERNAL_ROWS = [
    "I1,2025-09-01,Zephyr Bio,China,Novartis,Switzerland,licence,ZB-9,ADC,oncology,preclinical,Global,"
    "900,8100,9000,,https://example.com/i1,rumoured terms from a client call",
    "I2,2025-10-01,Zephyr Bio,China,Merck & Co.,United States,option,ZB-10,ADC,oncology,preclinical,Global,"
    "50,,,,https://example.com/i2,",
]


def write_deals(folder: Path, rows: list[str], audience: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "deals.csv"
    path.write_text(DEALS_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    (folder / "deals.csv.meta.yaml").write_text(f"audience: {audience}\npublisher: test tracker\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    write_deals(root / "public", PUBLIC_ROWS, "public")
    write_deals(root / "internal", INTERNAL_ROWS, "internal")
    return root


@pytest.fixture
def advisor(settings: Settings, corpus: Path) -> Advisor:
    adv = Advisor.from_settings(settings)
    assert adv.ingest([corpus]).ok
    return adv


def test_public_callers_never_see_internal_deals(advisor: Advisor) -> None:
    analytics = DealAnalytics(advisor.store.catalog)
    assert analytics.table.count("internal") == 5 and analytics.table.count("public") == 3
    for question in ("How many deals in 2025?", "Which deals did Chinese companies sign in 2025?",
                     "Total upfront of Chinese out-licensing deals", "Top 5 deals by total value",
                     "Number of deals by licensor", "Which deals did Zephyr Bio sign?",
                     "Compare ADC and bispecific deal counts", "How many deals did Merck sign by year?"):
        public = analytics.answer(question, audience="public", today=TODAY)
        internal = analytics.answer(question, audience="internal", today=TODAY)
        assert public is not None and internal is not None, question
        assert all(c.audience == "public" for c in public.citations), question
        assert not {c.doc_id for c in public.citations} & {"I1", "I2"}, question
        seen = json.dumps([public.text, public.table, public.chart, public.model_dump()])
        assert "I1" not in seen and "I2" not in seen and "ZB-" not in seen and "rumoured" not in seen, question
        assert "public records only" in public.text, question
    internal = analytics.answer("Which deals did Zephyr Bio sign?", audience="internal", today=TODAY)
    assert internal is not None and {c.doc_id for c in internal.citations} == {"I1", "I2"}
    public = analytics.answer("Which deals did Zephyr Bio sign?", audience="public", today=TODAY)
    assert public is not None and public.citations == [] and "No public deal record matches" in public.text
    unknown = analytics.answer("Which deals did Biohaven sign?", audience="public", today=TODAY)
    assert unknown is not None  # an internal-only name reads exactly like a name nobody knows
    assert public.text.replace("Zephyr Bio", "X") == unknown.text.replace("Biohaven", "X")
    total = analytics.run(analytics.parse("Total upfront of deals in 2025", TODAY) or _fail(), audience="public")
    assert total.value == 700.0
    total = analytics.run(analytics.parse("Total upfront of deals in 2025", TODAY) or _fail(), audience="internal")
    assert total.value == 1650.0


def test_caller_filters_narrow_the_question(advisor: Advisor) -> None:
    analytics = DealAnalytics(advisor.store.catalog)
    within = DealFilters(party=Side(companies=["MSD"]), date_from=20250101)
    answer = analytics.answer("How many deals did Chinese companies sign?", audience="internal", within=within)
    assert answer is not None and {c.doc_id for c in answer.citations} == {"P1", "I2"}
    assert "2 deals in the tracker match the question." in answer.text and "Merck & Co." in answer.text


def test_audience_must_be_known(advisor: Advisor) -> None:
    analytics = DealAnalytics(advisor.store.catalog)
    with pytest.raises(ValueError, match="audience must be 'public' or 'internal'"):
        analytics.run(DealQuery(operation="count"), audience="everyone")


def test_table_rebuilds_when_an_incremental_ingest_changes_a_row(advisor: Advisor, corpus: Path) -> None:
    analytics = DealAnalytics(advisor.store.catalog)
    query = analytics.parse("Total upfront paid by Merck in 2025", TODAY)
    assert query is not None
    assert analytics.run(query, audience="public").value == 200.0
    generation = analytics.table.generation
    rows = [PUBLIC_ROWS[0].replace(",200,1770,1970,", ",350,1770,2120,"), *PUBLIC_ROWS[1:],
            "P4,2025-11-01,Hansoh Pharma,China,Merck & Co.,United States,licence,HS-4,peptide,cardiometabolic,"
            "phase 1,Global,112,1900,2012,,https://example.com/p4,"]
    write_deals(corpus / "public", rows, "public")
    report = advisor.ingest([corpus])
    assert report.ok and report.changed == 1
    result = analytics.run(query, audience="public")
    assert analytics.table.generation > generation
    assert result.value == 462.0 and {r["deal_id"] for r in result.rows} == {"P1", "P4"}
    answer = analytics.answer("Total upfront paid by Merck in 2025", today=TODAY)
    assert answer is not None and "$462m" in answer.text
    write_deals(corpus / "public", [*rows, "P5,2025-12-01,Newname Bio,China,Pfizer,United States,licence,NN-5,"
                                          "ADC,oncology,phase 1,Global,10,90,100,,https://example.com/p5,"], "public")
    advisor.ingest([corpus])
    assert analytics.run(DealQuery(operation="count"), audience="public").value == 5.0  # refreshed by run
    newcomer = analytics.parse("How many deals did newname bio sign?", TODAY)  # lower case: a learnt name
    assert newcomer is not None and newcomer.filters.party.companies == ["Newname Bio"]
    assert analytics.run(newcomer, audience="public").value == 1.0
    (corpus / "public" / "deals.csv").unlink()
    advisor.ingest([corpus], prune=True)
    assert analytics.table.count("public") == 0 and analytics.table.count("internal") == 2


def test_unchanged_catalog_is_not_rebuilt(advisor: Advisor) -> None:
    analytics = DealAnalytics(advisor.store.catalog)
    assert analytics.table.refresh() is True
    assert analytics.table.refresh() is False
    advisor.ingest([])
    assert analytics.table.refresh() is False


def test_values_reach_sql_only_as_parameters(advisor: Advisor) -> None:
    analytics = DealAnalytics(advisor.store.catalog)
    hostile = "x') OR 1=1; DROP TABLE deals; --"
    query = DealQuery(operation="count", filters=DealFilters(party=Side(companies=[hostile]), keywords=[hostile]))
    assert analytics.run(query, audience="internal").value == 0.0
    assert analytics.run(DealQuery(operation="count"), audience="internal").value == 5.0
    answer = analytics.answer("How many deals did O'Brien Labs'); DROP TABLE deals; -- sign?", audience="internal")
    assert answer is not None and answer.table == []
    assert analytics.table.count("internal") == 5


def test_records_indexed_before_the_licensor_fields_existed_still_load(advisor: Advisor) -> None:
    path = advisor.store.catalog.path
    assert path is not None  # the default, embedded catalog
    with sqlite3.connect(path) as db:
        for doc_id, meta in db.execute("SELECT doc_id, meta FROM documents").fetchall():
            stale = {k: v for k, v in json.loads(meta).items() if k not in ("deal_licensor", "deal_licensee")}
            db.execute("UPDATE documents SET meta = ? WHERE doc_id = ?", (json.dumps(stale), doc_id))
        db.execute("UPDATE state SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
    analytics = DealAnalytics(advisor.store.catalog)
    rows = analytics.table.select(DealFilters(), "internal")
    assert {(r["deal_id"], r["licensor"], r["licensee"]) for r in rows} >= {
        ("P1", "Jiangsu Hengrui", "Merck & Co."), ("I2", "Zephyr Bio", "Merck & Co.")}


def _fail() -> DealQuery:
    raise AssertionError("question not parsed")
