#!/usr/bin/env python3
"""Build the generated documents in corpus/docs/ from our own Markdown sources.

Sources (Markdown with YAML front matter) live in corpus/docs_src/:

* jp-market-entry-checklist.md  -> corpus/docs/jp-market-entry-checklist.html
  A realistic web page: <head> with <title> and <meta name=...> tags carrying the
  front matter, plus navigation, a cookie banner, a script block and a footer
  around the article, which sits inside <main><article>.  An HTML loader must
  therefore extract only the main text.

* asia-licensing-outlook-2026.md -> corpus/docs/asia-licensing-outlook-2026.pdf
  A multi-page PDF rendered with fpdf2 (core Helvetica font, bold headings,
  page numbers in the footer, title/author metadata), plus a sidecar
  corpus/docs/asia-licensing-outlook-2026.pdf.meta.yaml with the front matter.

Run from the repository root:  python corpus/build_docs.py
Dependencies: PyYAML and fpdf2 only.  Output is deterministic: the PDF creation
date is fixed from the document's `published` field.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import sys
import unicodedata
from pathlib import Path

import yaml
from fpdf import FPDF

CORPUS_DIR = Path(__file__).resolve().parent
SRC_DIR = CORPUS_DIR / "docs_src"
OUT_DIR = CORPUS_DIR / "docs"

HTML_SOURCE = "jp-market-entry-checklist.md"
PDF_SOURCE = "asia-licensing-outlook-2026.md"

SITE_NAME = "Meridian Asia Advisory"


# ---------------------------------------------------------------------------
# Source parsing
# ---------------------------------------------------------------------------

def read_source(path: Path) -> tuple[dict, str]:
    """Split a Markdown file into (front matter dict, body text)."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n(.*)\Z", text, re.S)
    if not match:
        raise ValueError(f"{path}: missing YAML front matter")
    meta = yaml.safe_load(match.group(1)) or {}
    body = match.group(2).strip("\n")
    required = ["id", "title", "published", "publisher", "audience", "doc_type", "topics"]
    missing = [key for key in required if key not in meta]
    if missing:
        raise ValueError(f"{path}: front matter lacks {missing}")
    if meta["id"] != path.stem:
        raise ValueError(f"{path}: id {meta['id']!r} does not match file name")
    return meta, body


def parse_blocks(body: str) -> list[tuple[str, object]]:
    """Parse the small Markdown subset we write into a list of blocks.

    Block kinds: ("h1"|"h2"|"h3", text), ("p", text), ("ul", [items]), ("ol", [items]).
    """
    blocks: list[tuple[str, object]] = []
    para: list[str] = []
    list_kind: str | None = None
    items: list[str] = []

    def flush_para() -> None:
        if para:
            blocks.append(("p", " ".join(line.strip() for line in para)))
            para.clear()

    def flush_list() -> None:
        nonlocal list_kind
        if list_kind:
            blocks.append((list_kind, list(items)))
            items.clear()
            list_kind = None

    for raw in body.splitlines():
        line = raw.rstrip()
        heading = re.match(r"^(#{1,3})\s+(.*)$", line)
        bullet = re.match(r"^\s*[-*]\s+(.*)$", line)
        numbered = re.match(r"^\s*\d+\.\s+(.*)$", line)
        if not line.strip():
            flush_para()
            flush_list()
        elif heading:
            flush_para()
            flush_list()
            blocks.append((f"h{len(heading.group(1))}", heading.group(2).strip()))
        elif bullet or numbered:
            flush_para()
            kind = "ul" if bullet else "ol"
            if list_kind and list_kind != kind:
                flush_list()
            list_kind = kind
            items.append((bullet or numbered).group(1).strip())
        elif list_kind and raw.startswith("  "):
            items[-1] += " " + line.strip()  # continuation of a list item
        else:
            flush_list()
            para.append(line)
    flush_para()
    flush_list()
    return blocks


def as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def iso_date(value) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    return str(value)


# ---------------------------------------------------------------------------
# HTML rendering
# ---------------------------------------------------------------------------

def inline_html(text: str) -> str:
    """Escape text and render **bold** spans."""
    escaped = html.escape(text, quote=False)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)


def render_html(meta: dict, body: str) -> str:
    blocks = parse_blocks(body)
    # The title is rendered from the front matter; drop a leading "# Title" line.
    if blocks and blocks[0][0] == "h1":
        blocks = blocks[1:]

    meta_tags = {
        "id": meta["id"],
        "title": meta["title"],
        "published": iso_date(meta["published"]),
        "publisher": meta["publisher"],
        "audience": meta["audience"],
        "doc_type": meta["doc_type"],
        "topics": ",".join(as_list(meta.get("topics"))),
        "regions": ",".join(as_list(meta.get("regions"))),
        "companies": ",".join(as_list(meta.get("companies"))),
        "therapy_areas": ",".join(as_list(meta.get("therapy_areas"))),
        "source_urls": " ".join(as_list(meta.get("source_urls"))),
    }
    head_meta = "\n".join(
        f'    <meta name="{name}" content="{html.escape(value, quote=True)}">'
        for name, value in meta_tags.items()
    )

    article: list[str] = [f"        <h1>{inline_html(meta['title'])}</h1>"]
    for kind, content in blocks:
        if kind in ("h1", "h2", "h3"):
            level = "h2" if kind == "h1" else kind
            article.append(f"        <{level}>{inline_html(content)}</{level}>")
        elif kind == "p":
            article.append(f"        <p>{inline_html(content)}</p>")
        else:
            article.append(f"        <{kind}>")
            for item in content:
                article.append(f"          <li>{inline_html(item)}</li>")
            article.append(f"        </{kind}>")
    article_html = "\n".join(article)

    title = html.escape(meta["title"], quote=False)
    year = iso_date(meta["published"])[:4]
    return f"""<!DOCTYPE html>
<html lang="en-GB">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title} | {SITE_NAME}</title>
{head_meta}
    <link rel="stylesheet" href="/assets/site.css">
    <style>
      .cookie-banner {{ position: fixed; bottom: 0; left: 0; right: 0; padding: 1rem;
                        background: #1d2b3a; color: #fff; }}
      nav.site-nav ul {{ list-style: none; display: flex; gap: 1.5rem; }}
    </style>
  </head>
  <body>
    <div id="cookie-banner" class="cookie-banner" role="dialog" aria-label="Cookie consent">
      <p>We use cookies to understand how visitors use our website and to improve our content.
        You can accept all cookies or manage your preferences at any time.</p>
      <button type="button" id="cookie-accept">Accept all cookies</button>
      <button type="button" id="cookie-manage">Manage preferences</button>
    </div>
    <header class="site-header">
      <a class="logo" href="/">{SITE_NAME}</a>
      <nav class="site-nav" aria-label="Main menu">
        <ul>
          <li><a href="/">Home</a></li>
          <li><a href="/services/">Services</a></li>
          <li><a href="/insights/">Insights</a></li>
          <li><a href="/japan/">Japan market entry</a></li>
          <li><a href="/china-licensing/">China licensing</a></li>
          <li><a href="/about/">About us</a></li>
          <li><a href="/contact/">Contact</a></li>
        </ul>
      </nav>
    </header>
    <main id="content">
      <article>
{article_html}
      </article>
    </main>
    <aside class="newsletter-signup">
      <h2>Subscribe to Asia Partnering Insights</h2>
      <p>Get our monthly briefing on licensing, regulation and market access across Asia
        delivered to your inbox.</p>
      <form action="/newsletter/subscribe" method="post">
        <input type="email" name="email" placeholder="Your work email">
        <button type="submit">Subscribe</button>
      </form>
    </aside>
    <footer class="site-footer">
      <p>&copy; {year} {SITE_NAME}. All rights reserved.</p>
      <p><a href="/privacy/">Privacy policy</a> | <a href="/cookies/">Cookie policy</a> |
        <a href="/terms/">Terms of use</a></p>
      <p>This page is for general information and does not constitute legal, regulatory or
        investment advice.</p>
    </footer>
    <script>
      (function () {{
        var banner = document.getElementById("cookie-banner");
        var accepted = window.localStorage && localStorage.getItem("cookie-consent") === "yes";
        if (accepted) {{ banner.style.display = "none"; }}
        document.getElementById("cookie-accept").addEventListener("click", function () {{
          if (window.localStorage) {{ localStorage.setItem("cookie-consent", "yes"); }}
          banner.style.display = "none";
        }});
        window.dataLayer = window.dataLayer || [];
        window.dataLayer.push({{ event: "page_view", page_type: "insight" }});
      }})();
    </script>
  </body>
</html>
"""


# ---------------------------------------------------------------------------
# PDF rendering
# ---------------------------------------------------------------------------

_ASCII_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
    "\u2013": "-", "\u2014": " - ", "\u2015": " - ", "\u2212": "-",
    "\u2010": "-", "\u2011": "-", "\u2012": "-",
    "\u2026": "...", "\u2022": "-", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "\u00d7": "x", "\u2192": "->", "\u2264": "<=", "\u2265": ">=",
    "\u20ac": "EUR ", "\u00a3": "GBP ", "\u00a5": "JPY ",
}


def to_ascii(text: str) -> str:
    """Make text safe for the core Helvetica font (plain ASCII)."""
    for src, dst in _ASCII_MAP.items():
        text = text.replace(src, dst)
    text = unicodedata.normalize("NFKD", text)
    text = text.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[ \t]{2,}", " ", text)


def plain_inline(text: str) -> str:
    """ASCII text for fpdf2's markdown mode: keep **bold**, neutralise the other
    markers fpdf2 would interpret (__italics__ and --underline--)."""
    text = to_ascii(text)
    text = re.sub(r"-{2,}", "-", text)
    return re.sub(r"_{2,}", "_", text)


class OutlookPDF(FPDF):
    """A4 report with a running header and numbered footer."""

    def __init__(self, short_title: str, publisher: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.short_title = to_ascii(short_title)
        self.publisher = to_ascii(publisher)

    def header(self) -> None:  # noqa: D401 - fpdf2 hook
        if self.page_no() == 1:
            return
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 6, f"{self.publisher} | {self.short_title}", align="L")
        self.ln(10)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:  # noqa: D401 - fpdf2 hook
        self.set_y(-15)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def fixed_creation_date(meta: dict) -> dt.datetime:
    published = meta["published"]
    if isinstance(published, dt.datetime):
        day = published.date()
    elif isinstance(published, dt.date):
        day = published
    else:
        day = dt.date.fromisoformat(str(published))
    return dt.datetime(day.year, day.month, day.day, 9, 0, 0, tzinfo=dt.UTC)


def render_pdf(meta: dict, body: str, out_path: Path) -> int:
    blocks = parse_blocks(body)
    if blocks and blocks[0][0] == "h1":
        blocks = blocks[1:]

    pdf = OutlookPDF(short_title="Asia licensing outlook 2026", publisher=meta["publisher"])
    pdf.alias_nb_pages()
    pdf.set_margins(left=20, top=18, right=20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_title(to_ascii(meta["title"]))
    pdf.set_author(to_ascii(meta["publisher"]))
    pdf.set_creator(f"{SITE_NAME} build_docs.py")
    pdf.set_producer("fpdf2")
    pdf.set_subject(to_ascii(f"{meta['doc_type']} - audience: {meta['audience']}"))
    pdf.set_keywords(to_ascii(", ".join(as_list(meta.get("topics")))))
    pdf.set_lang("en-GB")
    if hasattr(pdf, "set_creation_date"):
        pdf.set_creation_date(fixed_creation_date(meta))

    pdf.add_page()
    width = pdf.epw

    # Title block
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(width, 8.5, to_ascii(meta["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 10)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(
        width, 5,
        to_ascii(f"{meta['publisher']} | Published {iso_date(meta['published'])}"),
        new_x="LMARGIN", new_y="NEXT",
    )
    pdf.set_text_color(0, 0, 0)
    pdf.ln(4)

    for kind, content in blocks:
        # Keep headings with the text that follows: start a new page rather than
        # leave a heading stranded at the bottom of one.
        if kind in ("h1", "h2", "h3") and pdf.get_y() > pdf.page_break_trigger - 30:
            pdf.add_page()
        if kind in ("h1", "h2"):
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 14)
            pdf.multi_cell(width, 7, to_ascii(content), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        elif kind == "h3":
            pdf.ln(1.5)
            pdf.set_font("Helvetica", "B", 11.5)
            pdf.multi_cell(width, 6, to_ascii(content), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.5)
        elif kind == "p":
            pdf.set_font("Helvetica", "", 10.5)
            pdf.multi_cell(width, 5.4, plain_inline(content), markdown=True,
                           new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
        else:
            pdf.set_font("Helvetica", "", 10.5)
            for number, item in enumerate(content, start=1):
                marker = "-" if kind == "ul" else f"{number}."
                pdf.set_x(pdf.l_margin + 3)
                pdf.cell(6, 5.4, marker)
                pdf.multi_cell(width - 9, 5.4, plain_inline(item), markdown=True,
                               new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
            pdf.ln(1.5)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out_path))
    return pdf.pages_count


def write_sidecar(meta: dict, out_path: Path) -> None:
    """Write the front-matter fields next to the PDF (dates stay YAML dates)."""
    out_path.write_text(
        yaml.safe_dump(dict(meta), sort_keys=False, allow_unicode=True, width=1000),
        encoding="utf-8",
    )


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main(out_dir: Path = OUT_DIR) -> int:
    """Write the HTML page, the PDF and its sidecar into out_dir (default corpus/docs)."""
    out_dir.mkdir(parents=True, exist_ok=True)

    meta, body = read_source(SRC_DIR / HTML_SOURCE)
    html_path = out_dir / f"{meta['id']}.html"
    html_path.write_text(render_html(meta, body), encoding="utf-8")
    print(f"wrote {html_path}")

    meta, body = read_source(SRC_DIR / PDF_SOURCE)
    pdf_path = out_dir / f"{meta['id']}.pdf"
    pages = render_pdf(meta, body, pdf_path)
    sidecar = pdf_path.with_name(pdf_path.name + ".meta.yaml")
    write_sidecar(meta, sidecar)
    print(f"wrote {pdf_path} ({pages} pages)")
    print(f"wrote {sidecar}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR))
