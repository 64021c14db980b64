"""Question understanding: filters, company aliases, directions, dates, thresholds and operations, and
questions that are not analytic at all. The parser is built from the corpus's company names, no index."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from advisor.analytics.companies import Companies
from advisor.analytics.parse import QuestionParser
from advisor.analytics.query import DealQuery
from tests.conftest import REPO

TODAY = dt.date(2026, 11, 20)
CN = ["China", "Hong Kong"]
GREATER_CHINA = ["China", "Hong Kong", "Taiwan"]


@pytest.fixture(scope="module")
def parser() -> QuestionParser:
    with (REPO / "corpus" / "deals" / "deals.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return QuestionParser(Companies([r["licensor"] for r in rows] + [r["licensee"] for r in rows]))


def parse(parser: QuestionParser, question: str) -> DealQuery:
    query = parser.parse(question, TODAY)
    assert query is not None, question
    return query


@pytest.mark.parametrize("question", [
    "What is BIOSECURE?",
    "How do we avoid IP exposure?",
    "How can we engage in AI partnerships without IP exposure?",
    "What did AstraZeneca agree with CSPC in 2025?",
    "How many employees does BeiGene have?",
    "What are the risks of licensing from China?",
    "Why did China out-licensing grow in 2025?",
    "How much was the 3SBio Pfizer deal worth?",
    "How should we structure an option deal?",
    "How much IP risk is there in AI partnerships?",
    "Explain the NewCo structure",
    "Tell me about Japan's drug lag",
    "How much did Chinese biotechs raise in IPOs in 2025?",
    "What share of deals reported an upfront?",
    "Tell me about the AstraZeneca CSPC deal",
    "What is the AstraZeneca-CSPC deal?",
    "What was AstraZeneca's upfront for the CSPC deal?",
    "What are NewCo deals?",
    "What is a typical royalty in China licensing deals?",
    "How are China out-licensing deals typically structured?",
    "What drove the rise in China out-licensing deals?",
    "How many deals will China sign next year?",
    # a superlative that ranks something the records do not hold
    "What is the most important clause in a licence agreement with a Chinese biotech?",
    "What's the top concern in a China licensing deal?",
    # a comparison asking for more of something the records do not hold is the articles' work, not a deal count
    "Pfizer-3SBio vs BMS-BioNTech: which gave the licensor more guaranteed money?",
    "Hello",
    "",
])
def test_questions_that_are_not_analytic_return_none(parser: QuestionParser, question: str) -> None:
    assert parser.parse(question, TODAY) is None


@pytest.mark.parametrize(("question", "company"), [
    ("How many deals did MSD sign?", "Merck & Co."),
    ("How many deals did Merck Sharp & Dohme sign?", "Merck & Co."),
    ("How many deals did Merck & Co sign?", "Merck & Co."),
    ("How many deals did Merck sign?", "Merck & Co."),
    ("How many deals did Merck KGaA sign?", "Merck KGaA"),
    ("How many deals did Janssen sign?", "Johnson & Johnson"),
    ("How many deals did J&J sign?", "Johnson & Johnson"),
    ("How many deals did Genentech sign?", "Roche"),
    ("How many deals did BeiGene sign?", "BeiGene"),
    ("How many deals did BeOne sign?", "BeiGene"),
    ("How many deals did Hengrui sign?", "Jiangsu Hengrui"),
    ("How many deals did Jiangsu Hengrui sign?", "Jiangsu Hengrui"),
    ("How many deals did CSPC sign?", "CSPC Pharmaceutical"),
    ("How many deals did CSPC Pharmaceutical Group sign?", "CSPC Pharmaceutical"),
    ("How many deals did LegoChem sign?", "LigaChem Biosciences"),
    ("How many deals did Lilly sign?", "Eli Lilly"),
    ("How many deals did BMS sign?", "Bristol Myers Squibb"),
    ("How many deals did Sosei Heptares sign?", "Nxera Pharma"),
    ("How many deals did Kelun sign?", "Kelun-Biotech"),
    ("How many deals did Astellas sign?", "Astellas Pharma"),
])
def test_company_aliases_and_subsidiaries_resolve(parser: QuestionParser, question: str, company: str) -> None:
    query = parse(parser, question)
    assert query.operation == "count"
    assert query.filters.party.companies == [company]


def test_subsidiary_and_ambiguous_names_are_explained(parser: QuestionParser) -> None:
    assert "Genentech counted as part of Roche" in parse(parser, "List Genentech deals").notes
    assert any("Merck KGaA" in n for n in parse(parser, "How many deals did Merck sign?").notes)
    unknown = parse(parser, "How many deals did Biohaven sign with Chinese companies?")
    assert unknown.filters.party.companies == ["Biohaven"]  # unknown names match nothing rather than everything
    assert not any("Biohaven" in n for n in unknown.notes)  # the same words for unknown and internal-only names


def test_one_word_of_a_longer_name_means_that_company_when_it_stands_for_it(parser: QuestionParser) -> None:
    question = "How much did AbbVie pay Simcere upfront for SIM0500?"
    assert parser.companies_named(question) == {"AbbVie"}  # the records write Simcere Zaiming
    assert parser.companies_meant(question) == {"AbbVie", "Simcere Zaiming"}
    assert parser.companies.holding("Simcere") == {"Simcere Zaiming"}
    # a word the caller does not take for the company (a place it is named after) means nothing
    assert parser.companies_meant(question, lambda word, company: word != "Simcere") == {"AbbVie"}
    # a word no company's name holds, or a month, is no company
    assert parser.companies_meant("What did Meridian advise in March about Pfizer?") == {"Pfizer"}


def test_common_words_are_not_read_as_companies(parser: QuestionParser) -> None:
    query = parse(parser, "How many deals reached the summit of value, over $5bn?")
    assert query.filters.party.is_empty()
    assert parse(parser, "How many deals did Summit sign?").filters.party.companies == ["Summit Therapeutics"]


def test_direction_china_to_us(parser: QuestionParser) -> None:
    f = parse(parser, "How many China-to-US licensing deals over $1bn were announced in 2025?").filters
    assert f.licensor.countries == CN and f.licensee.countries == ["United States"]
    assert f.deal_types == ["licence"]
    assert [(v.measure, v.comparator, v.amount) for v in f.values] == [("total", "gt", 1000.0)]


def test_direction_from_china_to_the_west(parser: QuestionParser) -> None:
    f = parse(parser, "How many deals from China to the West in 2024?").filters
    assert f.licensor.countries == CN
    assert "United States" in f.licensee.countries and "Germany" in f.licensee.countries
    assert "Japan" not in f.licensee.countries


def test_direction_western_pharma_paying_chinese_biotechs(parser: QuestionParser) -> None:
    f = parse(parser, "How much upfront did Western pharma pay Chinese biotechs for ADCs in 2024?").filters
    assert f.licensor.countries == CN and "United Kingdom" in f.licensee.countries
    assert f.modalities == ["ADC"] and (f.date_from, f.date_to) == (20240101, 20241231)
    f = parse(parser, "What was the largest upfront payment by a Western pharma to a Chinese biotech?").filters
    assert f.licensor.countries == CN and "Switzerland" in f.licensee.countries


def test_direction_received_from(parser: QuestionParser) -> None:
    f = parse(parser, "How much did Chinese biotechs receive from US pharma in 2025?").filters
    assert f.licensor.countries == CN and f.licensee.countries == ["United States"]


def test_out_licensing_from_china_excludes_greater_china_licensees_and_acquisitions(parser: QuestionParser) -> None:
    for question in ("Top 5 China out-licensing deals by total value in 2025",
                     "How many out-licensing deals from China were there last year?",
                     "How many Chinese out-licensing deals last year?"):
        f = parse(parser, question).filters
        assert f.licensor.countries == CN, question
        assert f.licensee.exclude_countries == GREATER_CHINA, question
        assert f.exclude_deal_types == ["acquisition"], question


def test_in_licensing_into_china(parser: QuestionParser) -> None:
    f = parse(parser, "How many in-licensing deals into China since 2021?").filters
    assert f.licensee.countries == CN and f.licensor.exclude_countries == GREATER_CHINA


def test_role_nouns(parser: QuestionParser) -> None:
    f = parse(parser, "How many deals did Japanese licensees sign with Chinese licensors?").filters
    assert f.licensor.countries == CN and f.licensee.countries == ["Japan"]
    f = parse(parser, "How many deals with licensors in Korea?").filters
    assert f.licensor.countries == ["South Korea"]
    f = parse(parser, "How many deals with licensees outside China in 2025?").filters
    assert f.licensee.exclude_countries == CN and not f.licensee.countries


def test_party_and_counterparty(parser: QuestionParser) -> None:
    f = parse(parser, "Which deals did AstraZeneca sign with Chinese companies?").filters
    assert f.party.companies == ["AstraZeneca"] and f.counterparty.countries == CN
    f = parse(parser, "How many deals were there between AstraZeneca and CSPC?").filters
    assert f.party.companies == ["AstraZeneca"] and f.counterparty.companies == ["CSPC Pharmaceutical"]
    f = parse(parser, "How many deals did Eli Lilly and Novartis sign with Chinese companies?").filters
    assert f.party.companies == ["Eli Lilly", "Novartis"] and f.counterparty.countries == CN
    f = parse(parser, "Which Chinese companies licensed ADCs to Merck?").filters
    assert f.licensor.countries == CN and f.licensee.companies == ["Merck & Co."]


@pytest.mark.parametrize(("question", "date_from", "date_to", "years"), [
    ("How many deals in 2025?", 20250101, 20251231, []),
    ("How many deals since 2023?", 20230101, None, []),
    ("How many deals between 2021 and 2023?", 20210101, 20231231, []),
    ("How many deals from 2021 to 2023?", 20210101, 20231231, []),
    ("How many deals in 2021-2023?", 20210101, 20231231, []),
    ("How many deals last year?", 20250101, 20251231, []),
    ("How many deals this year?", 20260101, 20261231, []),
    ("How many deals in the last 2 years?", 20241120, 20261120, []),
    ("How many deals in H1 2024?", 20240101, 20240630, []),
    ("How many deals in Q3 2024?", 20240701, 20240930, []),
    ("How many deals in June 2025?", 20250601, 20250630, []),
    ("How many deals before 2022?", None, 20211231, []),
    ("How many deals after 2024?", 20250101, None, []),
    ("How many deals in 2024 or 2025?", None, None, [2024, 2025]),
    ("How many deals between late 2023 and mid-2025?", 20230901, 20250831, []),
    ("How many deals in early 2024?", 20240101, 20240430, []),
    ("How many deals since late 2023?", 20230901, None, []),
    ("How many deals from June 2023 to late 2024?", 20230601, 20241231, []),
])
def test_dates(parser: QuestionParser, question: str, date_from: int | None, date_to: int | None,
               years: list[int]) -> None:
    f = parse(parser, question).filters
    assert (f.date_from, f.date_to, f.years) == (date_from, date_to, years)


def test_a_part_of_a_year_is_read_as_a_third_of_it_and_says_so(parser: QuestionParser) -> None:
    query = parse(parser, "List the Chinese obesity licences signed between late 2023 and mid-2025.")
    assert (query.filters.date_from, query.filters.date_to, query.filters.years) == (20230901, 20250831, [])
    assert "“late 2023” read as September–December 2023; “mid 2025” read as May–August 2025" in query.notes


def test_a_name_with_a_digit_is_an_asset_code_not_a_company(parser: QuestionParser) -> None:
    query = parse(parser, "Which companies have licensed Alteogen's ALT-B4 hyaluronidase platform?")
    assert query.operation == "list"
    assert query.filters.party.companies == ["Alteogen"] and query.filters.keywords == ["ALT-B4"]
    assert not query.filters.counterparty.companies
    # a capitalised name without a digit is still an unknown company: nothing matches it
    assert parse(parser, "How much did Biohaven pay?").filters.licensee.companies == ["Biohaven"]


def test_a_mechanism_class_stands_for_its_targets(parser: QuestionParser) -> None:
    f = parse(parser, "List the Chinese obesity and incretin licences signed in 2024.").filters
    assert f.keywords == ["GLP-1", "GIP"] and f.therapy_areas == ["cardiometabolic"]


def test_which_assets_were_licensed_lists_the_deals(parser: QuestionParser) -> None:
    f = parse(parser, "Which Chinese PD-1 or PD-L1 x VEGF bispecifics have been licensed to Western companies?")
    assert f.operation == "list"
    assert f.filters.licensor.countries == CN and f.filters.modalities == ["bispecific antibody"]
    assert f.filters.keywords == ["PD-1", "PD-L1", "VEGF"]
    assert parser.parse("Which regulators have been asked about BIOSECURE?", TODAY) is None


def test_relative_dates_follow_the_given_today(parser: QuestionParser) -> None:
    query = parser.parse("How many deals last year?", dt.date(2024, 3, 1))
    assert query is not None and (query.filters.date_from, query.filters.date_to) == (20230101, 20231231)
    assert any("2023" in n for n in query.notes)


@pytest.mark.parametrize(("question", "expected"), [
    ("How many deals over $1bn?", [("total", "gt", 1000.0)]),
    ("How many deals worth more than $1.5 billion?", [("total", "gt", 1500.0)]),
    ("How many deals with at least $500m upfront?", [("upfront", "gte", 500.0)]),
    ("How many deals with upfront payments above $100m?", [("upfront", "gt", 100.0)]),
    ("How many $2bn+ deals?", [("total", "gte", 2000.0)]),
    ("How many deals under $50m in upfront?", [("upfront", "lt", 50.0)]),
    ("How many deals with milestones of at most $300m?", [("milestones", "lte", 300.0)]),
    ("How many deals with upfront between $100m and $500m?", [("upfront", "gte", 100.0), ("upfront", "lte", 500.0)]),
    ("How many billion-dollar deals?", [("total", "gte", 1000.0)]),
])
def test_value_thresholds(parser: QuestionParser, question: str, expected: list[tuple[str, str, float]]) -> None:
    values = parse(parser, question).filters.values
    assert [(v.measure, v.comparator, v.amount) for v in values] == expected


@pytest.mark.parametrize(("question", "field", "value"), [
    ("How many ADC deals?", "modalities", ["ADC"]),
    ("How many antibody-drug conjugate deals?", "modalities", ["ADC"]),
    ("How many bispecific deals?", "modalities", ["bispecific antibody"]),
    ("How many T-cell engager deals?", "modalities", ["bispecific antibody"]),
    ("How many CAR-T deals?", "modalities", ["cell therapy"]),
    ("How many siRNA deals?", "modalities", ["siRNA"]),
    ("How many obesity deals?", "therapy_areas", ["cardiometabolic"]),
    ("How many cancer deals?", "therapy_areas", ["oncology"]),
    ("How many autoimmune deals?", "therapy_areas", ["immunology"]),
    ("How many GLP-1 deals?", "keywords", ["GLP-1"]),
    ("How many PD-1 deals?", "keywords", ["PD-1"]),
    ("How many AI deals?", "deal_types", ["AI research"]),
    ("How many NewCo deals?", "deal_types", ["NewCo"]),
    ("How many acquisitions?", "deal_types", ["acquisition"]),
    ("How many option deals?", "deal_types", ["option"]),
    ("How many co-development deals?", "deal_types", ["co-development"]),
    ("How many preclinical deals?", "stages", ["preclinical"]),
    ("How many phase 3 deals?", "stages", ["phase 3"]),
])
def test_vocabularies(parser: QuestionParser, question: str, field: str, value: list[str]) -> None:
    assert getattr(parse(parser, question).filters, field) == value


@pytest.mark.parametrize(("question", "operation", "measure", "group_by", "limit"), [
    ("How many deals in 2025?", "count", None, None, None),
    ("Number of ADC deals", "count", None, None, None),
    ("Total upfront of ADC deals in 2024", "sum", "upfront", None, None),
    ("How much did Merck pay for Chinese ADCs?", "sum", "total", None, None),
    ("Sum of milestones in Japanese deals", "sum", "milestones", None, None),
    ("Average upfront of oncology deals", "avg", "upfront", None, None),
    ("Median deal value of bispecific deals", "median", "total", None, None),
    ("Top 5 deals by upfront", "top", "upfront", None, 5),
    ("What were the three largest ADC deals?", "top", "total", None, 3),
    ("Biggest ADC deal ever", "top", "total", None, 1),
    ("What were the five smallest Korean deals by upfront?", "top", "upfront", None, 5),
    ("Which deals did CSPC sign?", "list", None, None, None),
    ("List Genentech deals", "list", None, None, None),
    ("Show me oncology deals over $5bn", "list", None, None, None),
    ("Number of deals per year involving Chinese licensors", "count", None, "year", None),
    ("Trend of China out-licensing upfronts since 2020", "sum", "upfront", "year", None),
    ("Deals over $1bn by therapy area in 2025", "count", None, "therapy_area", None),
    ("Count of licensing deals by modality in 2024", "count", None, "modality", None),
    ("Average upfront by deal type", "avg", "upfront", "deal_type", None),
    ("How many deals by stage in 2024?", "count", None, "stage", None),
    ("How many deals by licensee country for Chinese licensors in 2025?", "count", None, "licensee_country", None),
    ("Top 3 licensees by upfront paid to Chinese companies", "sum", "upfront", "licensee", 3),
    ("Which Western pharma paid the most upfront to Chinese biotechs in 2025?", "sum", "upfront", "licensee", None),
    ("Which companies did the most AI deals?", "count", None, "company", None),
    # what a superlative ranks may be a party, a value the records know, or nothing named
    ("Which licensee paid the most?", "sum", "total", "licensee", None),
])
def test_operations(parser: QuestionParser, question: str, operation: str, measure: str | None,
                    group_by: str | None, limit: int | None) -> None:
    query = parse(parser, question)
    assert (query.operation, query.measure, query.group_by, query.limit) == (operation, measure, group_by, limit)


def test_a_comparison_asking_for_more_deals_or_more_of_a_measure_stays_analytic(parser: QuestionParser) -> None:
    assert parse(parser, "Compare Pfizer and Merck: which signed more ADC deals in 2024?").operation == "count"
    query = parse(parser, "Pfizer vs Merck: which paid more upfront?")
    assert (query.operation, query.measure) == ("sum", "upfront")


def test_a_superlative_over_what_the_records_know_stays_analytic(parser: QuestionParser) -> None:
    for question in ("Which country licensed the most ADCs in 2025?", "What are the most common deal structures?",
                     "Who paid the most in 2025?", "Which therapy area had the most deals?"):
        assert parser.parse(question, TODAY) is not None, question


def test_top_order(parser: QuestionParser) -> None:
    assert parse(parser, "What were the five smallest Korean deals by upfront?").order == "asc"
    assert parse(parser, "Top 5 deals by upfront").order == "desc"


def test_comparisons(parser: QuestionParser) -> None:
    query = parse(parser, "How does the average upfront compare between oncology and immunology deals?")
    assert (query.operation, query.measure) == ("avg", "upfront")
    assert [(g.label, g.filters.therapy_areas) for g in query.compare] == [("oncology", ["oncology"]),
                                                                          ("immunology", ["immunology"])]
    query = parse(parser, "ADC vs bispecific deal counts in 2025")
    assert query.operation == "count" and [g.label for g in query.compare] == ["ADC", "bispecific antibody"]
    assert query.filters.date_from == 20250101
    query = parse(parser, "Compare 2024 and 2025 China out-licensing total value")
    assert [g.label for g in query.compare] == ["2024", "2025"] and query.filters.licensor.countries == CN
    query = parse(parser, "Compare Chinese and Korean out-licensing deals by upfront in 2024")
    china, korea = query.compare
    assert china.filters.licensor.countries == CN and china.filters.licensee.exclude_countries == GREATER_CHINA
    assert korea.filters.licensor.countries == ["South Korea"]
    assert korea.filters.licensee.exclude_countries == ["South Korea"]
    query = parse(parser, "AstraZeneca versus Novartis: total upfront paid since 2023")
    assert [g.label for g in query.compare] == ["AstraZeneca", "Novartis"] and query.operation == "sum"


def test_ambiguous_size_is_stated(parser: QuestionParser) -> None:
    query = parse(parser, "What were the biggest deals last year?")
    assert (query.operation, query.measure, query.limit) == ("top", "total", 5)
    assert any("total deal value" in n and "upfront" in n for n in query.notes)


def test_query_is_a_json_schema_an_llm_could_fill() -> None:
    schema = DealQuery.model_json_schema()
    assert set(schema["properties"]) >= {"operation", "measure", "filters", "group_by", "compare", "limit"}
    query = DealQuery.model_validate_json(
        '{"operation": "sum", "measure": "upfront", "filters": {"licensee": {"companies": ["MSD"]}, '
        '"modalities": ["adc"], "date_from": 20240101}}')
    assert query.filters.modalities == ["ADC"]


@pytest.mark.parametrize(("payload", "message"), [
    ('{"operation": "sum"}', "needs a measure"),
    ('{"operation": "count", "filters": {"licensor": {"countries": ["Atlantis"]}}}', "not one of"),
    ('{"operation": "count", "filters": {"deal_types": ["merger"]}}', "deal type 'merger'"),
    ('{"operation": "count", "filters": {"date_from": 20250101, "date_to": 20240101}}', "after date_to"),
    ('{"operation": "count", "group_by": "colour"}', "group_by"),
    ('{"operation": "count", "measure": "upfront; DROP TABLE deals"}', "measure"),
    ('{"operation": "count", "compare": [{"label": "a"}]}', "at least two groups"),
])
def test_invalid_queries_are_refused_with_a_reason(payload: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DealQuery.model_validate_json(payload)


@pytest.mark.parametrize("question", ["How many further programmes can GSK take options on?",
                                      "How many patients were enrolled in the trial behind the Pfizer deal?"])
def test_counting_something_other_than_deals_is_not_analytic(parser: QuestionParser, question: str) -> None:
    assert parser.parse(question, TODAY) is None


def test_a_named_side_missing_from_the_records_sends_the_comparison_to_retrieval(analytics_on_corpus) -> None:
    question = ("How did the upfront in Novartis's 2023 DLL3 CAR-T licence from Legend compare with what Janssen "
                "paid Legend for Carvykti rights?")
    assert analytics_on_corpus.parse(question, TODAY) is not None  # understood as a comparison…
    assert analytics_on_corpus.answer(question, today=TODAY) is None  # …but one side is not a record
    categories = analytics_on_corpus.answer("Compare ADC and siRNA deal counts in 2019", today=TODAY)
    assert categories is not None  # an empty category is a figure (zero), not a gap


@pytest.fixture(scope="module")
def analytics_on_corpus(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from advisor.advisor import Advisor
    from advisor.analytics import DealAnalytics
    from advisor.config import Settings

    advisor = Advisor.from_settings(Settings(data_dir=tmp_path_factory.mktemp("corpus-deals"), embedder="hash"))
    assert advisor.ingest([REPO / "corpus" / "deals"]).ok
    return DealAnalytics(advisor.store.catalog)
