"""A dataset document printed as a paged PDF, the way a filing reaches a firm: a running header from page 2, a
"Page n of N" footer on every page, paragraphs flowing across page breaks. Used by the `cuad_pdf` suite to measure
the advisor on the same public contracts read through its PDF loader, with page-level citations.

The truth for page citations comes from the printed file itself (`page_words`): what each page shows, read back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from evals.suites.common import norm_words

# the core PDF fonts print Latin-1 only: typographic punctuation becomes its plain form, anything else a "?"
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                        "\u2022": "-", "\u00a0": " ", "\u2026": "..."})
_FIXED_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # the same document prints the same bytes


def latin1(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def render_pdf(title: str, text: str) -> bytes:
    """`text` (paragraphs one per line, blank lines ignored) on US Letter pages with header and footer."""
    from fpdf import FPDF

    class Filing(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font("Helvetica", "I", 8)
                self.cell(0, 6, latin1(title)[:90], align="L")
                self.ln(9)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", "", 8)
            self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Filing(orientation="P", unit="mm", format="Letter")
    pdf.alias_nb_pages()
    pdf.set_margins(left=25, top=20, right=25)
    pdf.set_auto_page_break(auto=True, margin=22)
    pdf.set_title(latin1(title))
    pdf.set_creation_date(_FIXED_DATE)
    pdf.add_page()
    pdf.set_font("Times", "", 11)
    for line in text.splitlines():
        if line.strip():
            pdf.multi_cell(0, 5, latin1(" ".join(line.split())), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    return bytes(pdf.output())


def page_words(path: Path, title: str = "") -> list[list[str]]:
    """What each page of a PDF shows, as normalised words (index 0 is page 1), without the header and footer
    `render_pdf` printed there for `title`: the text of the page, as the truth for page citations."""
    from pypdf import PdfReader

    pages = [norm_words(page.extract_text() or "") for page in PdfReader(str(path)).pages]
    header = norm_words(latin1(title)[:90])
    for number, words in enumerate(pages, start=1):
        footer = norm_words(f"Page {number} of {len(pages)}")
        if words[len(words) - len(footer):] == footer:
            del words[len(words) - len(footer):]
        if number > 1 and header and words[:len(header)] == header:
            del words[:len(header)]
    return pages


def starts_on(passage: str, page: Sequence[str], next_page: Sequence[str] = ()) -> bool:
    """Whether `passage` starts on the page whose words are `page`: its first words (up to 6) are there in a run,
    or it begins with the page's last words and goes on with the next page's first ones."""
    words = norm_words(passage)[:6]
    if not words:
        return False
    n = len(words)
    if any(list(page[i:i + n]) == words for i in range(len(page) - n + 1)):
        return True
    for cut in range(1, n):
        if list(page[len(page) - cut:]) == words[:cut] and list(next_page[:n - cut]) == words[cut:]:
            return True
    return False
