from pathlib import Path

import pytest

from advisor.ingest.deals import load_deal_file
from advisor.ingest.loaders import load_file
from advisor.ingest.meta import LoadError
from tests.conftest import DEALS_HEADER, write_article

DEAL_ROW = ("D9,2024-01-05,Hansoh,China,GSK,United Kingdom,licence,HS-20093,ADC,oncology,phase 1,"
            "Global ex-China,85,1485,1570,tiered,https://example.com/d9,note\n")


def test_markdown_front_matter_becomes_metadata(tmp_path: Path) -> None:
    path = write_article(tmp_path, "a-doc", "Some text about licensing deals in China.",
                         companies="AstraZeneca, CSPC", published="2025-06-20")
    [doc], errors = load_file(path)
    assert errors == []
    assert doc.doc_id == "a-doc"
    assert doc.meta["published"] == 20250620
    assert doc.meta["audience"] == "public"
    assert doc.meta["source_url"] == "https://example.com/a-doc"
    assert doc.meta["companies"] == ["astrazeneca", "cspc"]
    assert "licensing deals" in doc.text and "---" not in doc.text


def test_unmarked_document_is_internal(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Meeting note\n\nThe client wants a Japan partner.")
    [doc], _ = load_file(path)
    assert doc.meta["audience"] == "internal"
    assert doc.meta["title"] == "Meeting note"


def test_sidecar_metadata_applies_to_any_format(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("A public note on Japanese drug pricing.")
    (tmp_path / "note.txt.meta.yaml").write_text("audience: public\ntitle: Pricing note\npublished: 2024-04-01\n")
    [doc], _ = load_file(path)
    assert (doc.meta["audience"], doc.meta["title"], doc.meta["published"]) == ("public", "Pricing note", 20240401)


def test_bad_front_matter_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: [unclosed\n---\nbody text here\n")
    with pytest.raises(LoadError, match=r"bad\.md.*line"):
        load_file(path)


def test_bad_date_says_the_format(tmp_path: Path) -> None:
    path = tmp_path / "bad-date.md"
    path.write_text("---\npublished: June 2025\n---\nbody text here\n")
    with pytest.raises(LoadError, match="YYYY-MM-DD"):
        load_file(path)


def test_html_keeps_main_text_only(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("""<html><head><title>Japan entry</title><meta name="audience" content="public">
    <meta name="published" content="2025-02-03"><script>var tracking = 'SCRIPTTEXT';</script></head>
    <body><nav><a href="/">Home NAVTEXT</a></nav><div class="cookie-banner">We use cookies COOKIETEXT</div>
    <main><article><h1>Japan entry</h1><p>PMDA consultations come first.</p><ul><li>Plan phase 1.</li></ul>
    </article></main><footer>FOOTERTEXT</footer></body></html>""")
    [doc], _ = load_file(path)
    assert "PMDA consultations come first." in doc.text
    assert "- Plan phase 1." in doc.text
    assert "# Japan entry" in doc.text
    for noise in ("SCRIPTTEXT", "NAVTEXT", "COOKIETEXT", "FOOTERTEXT"):
        assert noise not in doc.text
    assert doc.meta["audience"] == "public" and doc.meta["published"] == 20250203


def _pdf(path: Path, pages: list[str]) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    _pdf(path, ["First page text about China licensing deals.", "Second page text about Japan and PMDA."])
    [doc], _ = load_file(path)
    assert [p[0] for p in doc.pages] == [1, 2]
    start, end = doc.pages[1][1:]
    assert "Japan and PMDA" in doc.text[start:end]


def _printed(path: Path, paragraphs: list[str]) -> None:
    """A report as printed: a running header from page 2, 'Page n of N' at the foot of every page, paragraphs
    flowing across page breaks."""
    from fpdf import FPDF

    class Report(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.cell(0, 6, "Meridian Asia Advisory | Licensing note")
                self.ln(10)

        def footer(self) -> None:
            self.set_y(-15)
            self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Report()
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for text in paragraphs:
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.output(str(path))


def test_pdf_drops_running_headers_and_footers_and_joins_sentences_across_pages(tmp_path: Path) -> None:
    path = tmp_path / "note.pdf"
    filler = [f"Paragraph {i} says that licensing deal number {i} closed on time and on budget." for i in range(60)]
    cut = ("The upfront payment for the regional rights was agreed after long talks between the two companies "
           "and their advisers, and it is the sentence this test follows across the page break of the printed "
           "report, word for word, until its final full stop.")
    _printed(path, filler[:29] + [cut] + filler[29:])
    [doc], _ = load_file(path)
    assert len(doc.pages) >= 2
    assert "Page 1 of" not in doc.text and "Meridian Asia Advisory | Licensing note" not in doc.text
    assert cut in doc.text  # whole, though the printed page broke it
    assert [p[0] for p in doc.pages] == list(range(1, len(doc.pages) + 1))
    assert all(start < end and doc.text[start:end].strip() for _, start, end in doc.pages)
    at = doc.text.index(cut)
    assert any(at < start < at + len(cut) for _, start, _ in doc.pages)  # the page turned inside the sentence
    assert "Paragraph 59 says" in doc.text[doc.pages[-1][1]:]


def test_pdf_keeps_a_line_like_the_footer_inside_the_text(tmp_path: Path) -> None:
    path = tmp_path / "short.pdf"
    _pdf(path, ["Summary\nPage 1 of the term sheet sets the upfront.\nMore text on the first page.",
                "Second page text about Japan and PMDA.\nClosing words."])
    [doc], _ = load_file(path)
    assert "Page 1 of the term sheet sets the upfront." in doc.text


def test_corrupt_pdf_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n this is not really a pdf \x00\x01")
    with pytest.raises(LoadError, match="broken.pdf"):
        load_file(path)


def test_docx_headings_and_paragraphs(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Korea note"
    document.add_heading("Korean out-licensing", level=2)
    document.add_paragraph("Yuhan licensed lazertinib to Janssen in 2018.")
    path = tmp_path / "korea.docx"
    document.save(str(path))
    [doc], _ = load_file(path)
    assert "## Korean out-licensing" in doc.text
    assert "Yuhan licensed lazertinib" in doc.text
    assert doc.meta["title"] == "Korea note"


def test_deal_rows_render_as_text_with_fields_as_metadata(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(DEALS_HEADER + DEAL_ROW)
    [doc], errors = load_deal_file(path)
    assert errors == []
    assert doc.doc_id == "D9"
    assert "Hansoh (China) and GSK (United Kingdom)" in doc.text
    assert "upfront $85m" in doc.text and "total $1,570m ($1.57bn)" in doc.text
    assert doc.meta["deal_upfront_usd_m"] == 85.0 and doc.meta["doc_type"] == "deal"
    assert doc.meta["published"] == 20240105
    assert "announced a licence deal on 5 January 2024." in doc.text
    path.write_text(DEALS_HEADER + DEAL_ROW.replace(",licence,", ",option,"))
    assert "announced an option deal" in load_deal_file(path)[0][0].text


def test_malformed_csv_row_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    bad = DEAL_ROW.replace("D9", "D10").replace(",85,", ",-5,")
    wrong_country = DEAL_ROW.replace("D9", "D11").replace("China", "Atlantis")
    path.write_text(DEALS_HEADER + DEAL_ROW + bad + wrong_country)
    docs, errors = load_deal_file(path)
    assert [d.doc_id for d in docs] == ["D9"]
    assert errors[0].startswith(f"{path}:3:") and "upfront_usd_m" in errors[0]
    assert errors[1].startswith(f"{path}:4:") and "Atlantis" in errors[1]


def test_total_below_upfront_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(DEALS_HEADER + DEAL_ROW + DEAL_ROW.replace("D9", "D12").replace(",1570,", ",50,"))
    _, errors = load_deal_file(path)
    assert len(errors) == 1 and "less than upfront" in errors[0]


def test_jsonl_deals_with_a_broken_line(tmp_path: Path) -> None:
    import csv
    import io
    import json

    row = next(csv.DictReader(io.StringIO(DEALS_HEADER + DEAL_ROW)))
    path = tmp_path / "deals.jsonl"
    path.write_text(json.dumps(row) + "\n{not json\n")
    docs, errors = load_deal_file(path)
    assert len(docs) == 1
    assert errors == [f"{path}:2: not valid JSON (Expecting property name enclosed in double quotes)"]


def test_missing_csv_columns_fail_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("deal_id,announced\nD1,2025-01-01\n")
    with pytest.raises(LoadError, match="header lacks column"):
        load_deal_file(path)


def test_a_binary_file_that_decodes_as_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "firmware.txt"
    path.write_bytes(bytes(range(1, 32)) * 200 + b"some words")  # every byte valid UTF-8, mostly control codes
    with pytest.raises(LoadError, match="binary file"):
        load_file(path)
    text = tmp_path / "fine.txt"
    text.write_text("Tabs\tand\nnew lines\r\nand a form feed\f are text.")
    assert load_file(text)[0]


def test_an_unclosed_csv_quote_is_reported_where_it_opens(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    broken = DEAL_ROW.replace("D9,", "D10,").replace(",note\n", ',"an unclosed note\n')
    path.write_text(DEALS_HEADER + DEAL_ROW + broken + DEAL_ROW.replace("D9,", "D11,") * 3)
    docs, errors = load_deal_file(path)
    assert [d.doc_id for d in docs] == ["D9"]
    assert len(errors) == 1 and f"{path}:3:" in errors[0] and "close the quote" in errors[0]


def test_an_oversized_cell_is_a_row_error_not_a_document(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(DEALS_HEADER + DEAL_ROW + DEAL_ROW.replace("D9,", "D12,").replace(",note\n", f",{'x' * 100_000}\n"))
    docs, errors = load_deal_file(path)
    assert [d.doc_id for d in docs] == ["D9"]
    assert len(errors) == 1 and f"{path}:3:" in errors[0] and "100,000 characters" in errors[0]


WRAPPED_MD = """---
id: wrapped
audience: public
---

# Licensing terms

Upfront payments for Chinese assets rose in 2025, and the largest
deals paid more than $1bn at signing. Royalties stayed in the
low double digits.

- Step-downs cut royalties when patent cover lapses or biosimilars
  arrive on the market.
- Anti-stacking clauses share third-party royalties.

| Term | Typical |
|---|---|
| Upfront | $50m |

```
keep
  this layout
```

    indented code
    stays as lines

A hard break@@
stays a break.
""".replace("@@", "  ")  # two trailing spaces: a hard line break


def test_hard_wrapped_markdown_keeps_whole_sentences(tmp_path: Path) -> None:
    from advisor.text import sentence_spans

    path = tmp_path / "wrapped.md"
    path.write_text(WRAPPED_MD)
    [doc], _ = load_file(path)
    sentences = [doc.text[a:b] for a, b in sentence_spans(doc.text)]
    assert ("Upfront payments for Chinese assets rose in 2025, and the largest deals paid more than $1bn at "
            "signing.") in sentences
    assert "Royalties stayed in the low double digits." in sentences
    assert ("- Step-downs cut royalties when patent cover lapses or biosimilars arrive on the market."
            in doc.text.splitlines())  # a list item's wrapped line continues it; the next item starts its own
    assert "- Anti-stacking clauses share third-party royalties." in doc.text.splitlines()
    assert "# Licensing terms" in doc.text.splitlines()
    assert "| Term | Typical |\n|---|---|\n| Upfront | $50m |" in doc.text  # tables, code and breaks keep their lines
    assert "```\nkeep\n  this layout\n```" in doc.text
    assert "    indented code\n    stays as lines" in doc.text
    assert "A hard break  \nstays a break." in doc.text


def test_hard_wrapped_text_file_keeps_whole_sentences_and_its_list(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Partner call notes\n\nThe licensor wants to keep Greater China and asked for a larger upfront\n"
                    "than the term sheet offered. We agreed to revert next week.\n"
                    "Open points:\n- data access\n- the royalty step-downs on\n  biosimilar entry\n")
    [doc], _ = load_file(path)
    lines = doc.text.splitlines()
    assert ("The licensor wants to keep Greater China and asked for a larger upfront than the term sheet offered. "
            "We agreed to revert next week.") in lines
    assert lines[-3:] == ["Open points:", "- data access", "- the royalty step-downs on biosimilar entry"]
