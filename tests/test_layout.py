"""Laid-out text: tables of figures read from a PDF page or a text file keep their rows and columns."""

from pathlib import Path

from advisor.advisor import Advisor
from advisor.config import Settings
from advisor.ingest.chunker import chunk_document
from advisor.ingest.layout import Run, heading_levels, mark_headings, tabulate, unwrap_lines
from advisor.ingest.loaders import load_file

STATEMENT = """Consolidated results. The table below sets out revenue and operating income.
(in millions of US dollars) 2024 2023 2022
Total revenue $ 12,345 $ 11,234 $ 10,100
Cost of sales (5,010) (4,870) (4,400)
Research and development
expense
2,900 2,750 2,500
Operating margin 25.3% 25.9% 25.8%
Revenue grew by 10% in 2024, driven by oncology sales in the United States."""


def test_a_table_of_figures_under_a_row_of_years_becomes_a_markdown_table() -> None:
    out = tabulate(STATEMENT.splitlines())
    assert out[0].startswith("Consolidated results.") and out[-1].startswith("Revenue grew by 10%")
    table = [line for line in out if line.startswith("|")]
    assert table == [
        "| (in millions of US dollars) | 2024 | 2023 | 2022 |",
        "|---|---|---|---|",
        "| Total revenue | $12,345 | $11,234 | $10,100 |",
        "| Cost of sales | (5,010) | (4,870) | (4,400) |",
        "| Research and development expense | 2,900 | 2,750 | 2,500 |",  # the label wrapped in its cell
        "| Operating margin | 25.3% | 25.9% | 25.8% |",
    ]


def test_figures_without_a_row_of_periods_above_them_stay_as_written() -> None:
    lines = ["Phase 1 enrolled 12 15", "Phase 2 enrolled 40 38", "The trial grew from 10 to 12 sites 2024 2025."]
    assert tabulate(lines) == lines
    # a row whose figures do not match the header's periods ends the table
    out = tabulate(["Year 2024 2023", "Revenue 5 4", "Headcount 120 110 90", "Closing words."])
    assert out.count("| Revenue | 5 | 4 |") == 1 and "Headcount 120 110 90" in out


def test_table_rows_are_never_joined_as_wrapped_lines() -> None:
    long_label = "Net cash provided by operating activities before working capital changes"
    text = unwrap_lines(f"Cash flow\n2025 2024\n{long_label} 1,200 1,100\nCapital expenditure (300) (250)")
    assert f"| {long_label} | 1,200 | 1,100 |" in text.splitlines()
    assert "| Capital expenditure | (300) | (250) |" in text.splitlines()


def _statement_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 5, "Consolidated results. The table below sets out revenue and operating income for the "
                   "last three fiscal years.", new_x="LMARGIN", new_y="NEXT")
    rows = [("(in millions of US dollars)", "2024", "2023", "2022"), ("Total revenue", "12,345", "11,234", "10,100"),
            ("Research and development expense", "2,900", "2,750", "2,500"),
            ("Operating income", "3,120", "2,905", "2,610")]
    with pdf.table() as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.multi_cell(0, 5, "Revenue grew by 10% in 2024, driven by oncology sales.", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def test_a_pdf_table_is_read_as_a_table_and_a_figure_is_quoted_with_its_row_and_column(tmp_path: Path) -> None:
    folder = tmp_path / "filings"
    folder.mkdir()
    _statement_pdf(folder / "annual-report.pdf")
    [doc], _ = load_file(folder / "annual-report.pdf")
    assert "| Research and development expense | 2,900 | 2,750 | 2,500 |" in doc.text  # wrapped in its cell
    advisor = Advisor.from_settings(Settings(data_dir=tmp_path / "data", embedder="hash", min_evidence_score=0.25))
    assert advisor.ingest([folder]).ok
    answer = advisor.ask("What was total revenue in 2023?", audience="internal")
    assert "Total revenue in millions of US dollars — 2024: 12,345; 2023: 11,234; 2022: 10,100" in answer.text
    assert "None of our sources states" not in answer.text  # the caption makes the figures money
    assert all(c.page == 1 for c in answer.citations)


def test_headings_are_told_by_type_size_and_weight() -> None:
    body = [Run(f"Body sentence number {i} about licensing deals in Asia.", "Helvetica", 10.5) for i in range(20)]
    runs = [Run("Annual report 2025", "Helvetica-Bold", 20), *body[:5],
            Run("Licensing strategy and the case for", "Helvetica-Bold", 14), Run("a wider Asia", "Helvetica-Bold", 14),
            *body[5:10], Run("Japan", "Helvetica-Bold", 11.5), *body[10:15],
            Run("Partner selection", "Helvetica-Bold", 10.5),
            Run("This bold sentence is emphasis.", "Helvetica-Bold", 14),
            Run("Revenue 2024 2023", "Helvetica-Bold", 14), Run("Later section", "Helvetica-Bold", 14), *body[15:]]
    levels = heading_levels(runs)
    assert levels == {"Annual report 2025": 1, "Licensing strategy and the case for": 2, "a wider Asia": 0,
                      "Japan": 3, "Partner selection": 4, "Later section": 2}
    page = "Licensing strategy and the case for\na wider Asia\nBody text.\nJapan\nMore body text."
    assert mark_headings(page, levels).splitlines() == [
        "## Licensing strategy and the case for a wider Asia", "Body text.", "### Japan", "More body text."]
    assert heading_levels([]) == {}


def test_a_pdf_keeps_its_headings_as_sections(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    filler = " ".join(f"Sentence {i} of the section says something about the market." for i in range(12))
    for text, style, size in [("Japan market review", "B", 20), ("Pricing", "B", 14), (filler, "", 10.5),
                              ("NHI price revisions", "B", 12), (filler, "", 10.5), ("Partnering", "B", 14),
                              ("Most Western biotechs enter Japan through a partner. " + filler, "", 10.5)]:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "japan.pdf"
    pdf.output(str(path))
    [doc], _ = load_file(path)
    assert doc.text.startswith("# Japan market review\n\n## Pricing\n\nSentence 0")
    assert "\n\n### NHI price revisions\n\n" in doc.text
    sections = {c.section for c in chunk_document(doc)}
    assert {"Pricing", "Pricing > NHI price revisions", "Partnering"} <= sections


def test_a_word_hyphenated_at_the_margin_is_made_whole_and_a_compound_keeps_its_hyphen() -> None:
    text = unwrap_lines("Western companies keep in-licensing Chinese assets because the licens-\n"
                        "ing terms are attractive and the co-owned patents and the co-\n"
                        "owned data stay with the first-in-\n"
                        "human trials run in Australia.")
    assert "the licensing terms" in text and "the co-owned data" in text and "first-in-human trials" in text


def test_only_a_markdown_heading_starts_a_block_of_its_own() -> None:
    text = unwrap_lines("The parties signed the agreement and the reseller form was completed for the\n#\n"
                        "Schedule 1 reseller information follows here.\n## Terms\nThe term is five years.")
    assert text.splitlines() == [  # a lone "#" is text: the long line it wraps from goes on through it
        "The parties signed the agreement and the reseller form was completed for the # Schedule 1 reseller "
        "information follows here.", "", "## Terms", "", "The term is five years."]
