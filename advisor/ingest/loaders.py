"""Loaders, one per format: each turns a file into Documents or raises LoadError saying why not."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from advisor.ingest.deals import load_deal_file
from advisor.ingest.layout import (
    LIST_ITEM,
    Run,
    continues,
    heading_levels,
    mark_headings,
    page_furniture,
    unwrap_lines,
    without_furniture,
)
from advisor.ingest.meta import LoadError, normalise, parse_yaml, read_sidecar, read_text, slug
from advisor.types import Document

Loaded = tuple[list[Document], list[str]]  # documents, per-record errors (file still ingests)


def _document(path: Path, text: str, raw: dict[str, Any], *, default_type: str, title: str,
              pages: list[tuple[int, int, int]] | None = None) -> Document:
    text = text.strip("\n")
    if not text.strip():
        raise LoadError(path, "no text found in the file")
    raw = {**raw, **read_sidecar(path)}
    meta = normalise(raw, path, default_title=title, default_type=default_type)
    doc_id = str(raw.get("id") or slug(path.stem))
    return Document(doc_id=doc_id, text=text, meta=meta, pages=pages or [])


# a line that starts a Markdown block of its own: a heading, a list item, a table row, a quote, a rule or a setext
# underline, HTML, a code fence
_BLOCK_START = re.compile(r"\s*(?:#{1,6}(?:\s|$)|[-*+•]\s|\d+[.)]\s|\||>|(?:-{3,}|\*{3,}|_{3,}|={3,})\s*$|```|~~~|<)")
# a line no following line joins: a heading, a table row, HTML, a code fence, a hard break (two spaces, a backslash)
_BLOCK_END = re.compile(r"\s*(?:#|\||<|```|~~~)|.*(?:  |\\)$")


def unwrap_markdown(text: str) -> str:
    """Markdown's own reading of line breaks: inside a paragraph or a list item a single line break is a space,
    so a file an editor hard-wrapped at 80 columns keeps whole sentences. Blank lines, headings, list items, table
    rows, quotes, rules, HTML and fenced or indented code keep their lines; so does a hard break."""
    out: list[str] = []
    fence = code = in_list = False
    for line in text.split("\n"):
        stripped = line.strip()
        previous = out[-1] if out else ""
        indented = line.startswith(("    ", "\t"))
        if stripped.startswith(("```", "~~~")):
            fence = not fence
        elif fence or not stripped or (code and indented):
            pass  # inside code, or a blank line: kept as it is
        else:
            # indented code: four spaces after a blank line, unless it continues a list item
            code = indented and not previous.strip() and not in_list
            if not indented:
                in_list = bool(LIST_ITEM.match(line))
            if not code and previous.strip() and not _BLOCK_START.match(line) and not _BLOCK_END.match(previous):
                out[-1] = f"{previous.rstrip()} {stripped}"
                continue
        out.append(line)
    return "\n".join(out)


def load_markdown(path: Path) -> Loaded:
    text = read_text(path)
    raw: dict[str, Any] = {}
    match = re.match(r"^---[ \t]*\n(.*?)\n---[ \t]*(?:\n|$)", text, re.S)
    if match:
        raw = parse_yaml(match.group(1), path)
        text = text[match.end():]
    text = unwrap_markdown(text)
    heading = re.search(r"^#\s+(.+)$", text, re.M)
    title = heading.group(1).strip() if heading else path.stem.replace("-", " ")
    return [_document(path, text, raw, default_type="article", title=title)], []


def load_text(path: Path) -> Loaded:
    text = read_text(path)
    first = next((line.strip() for line in text.splitlines() if line.strip()), path.stem)
    title = first if len(first) <= 120 else path.stem
    return [_document(path, unwrap_lines(text), {}, default_type="note", title=title)], []


_DROP_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe",
              "svg", "button", "template")
_BOILERPLATE = re.compile(r"cookie|consent|banner|newsletter|subscribe|share|breadcrumb|sidebar|promo", re.I)
_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre", "td", "th", "dt", "dd")


def load_html(path: Path) -> Loaded:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_bytes(), "lxml")
    raw: dict[str, Any] = {}
    for tag in soup.find_all("meta"):
        name = tag.get("name") or tag.get("property")
        if name and tag.get("content") is not None:
            raw[str(name).removeprefix("og:").removeprefix("article:")] = str(tag["content"])
    if "source_urls" in raw:
        raw["source_urls"] = raw["source_urls"].split()
    title = soup.title.get_text(strip=True) if soup.title else path.stem
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        marker = " ".join([*(tag.get("class") or []), str(tag.get("id") or ""), str(tag.get("role") or "")])
        if marker.strip() and _BOILERPLATE.search(marker) and tag.name not in ("main", "article", "body"):
            tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    lines: list[str] = []
    for el in root.find_all(_BLOCKS):
        if el.find_parent(_BLOCKS) is not None:
            continue
        content = re.sub(r"\s+", " ", el.get_text(" ", strip=True))
        if not content:
            continue
        if el.name[0] == "h" and el.name[1:].isdigit():
            lines.append("#" * int(el.name[1:]) + " " + content)
        elif el.name == "li":
            lines.append("- " + content)
        else:
            lines.append(content)
    text = "\n\n".join(lines) if lines else root.get_text("\n", strip=True)
    return [_document(path, text, raw, default_type="article", title=title)], []


def _collect(runs: list[Run]) -> Callable[..., None]:
    """A pypdf text visitor that keeps each run of text with its font and its size as printed."""
    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if not text.strip():
            return
        try:  # the size as printed: the font size scaled by the text and page matrices
            printed = abs(float(size) * float(tm[3]) * float(cm[3])) or float(size)
        except (IndexError, TypeError, ValueError):
            printed = 0.0  # unknown: never read as a heading
        name = font.get("/BaseFont", "") if isinstance(font, dict) else ""
        runs.append(Run(text, str(name), printed))
    return visit


def load_pdf(path: Path) -> Loaded:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path))
        runs: list[Run] = []
        raw_pages = [page.extract_text(visitor_text=_collect(runs)) or "" for page in reader.pages]
        info: dict[str, object] = dict(reader.metadata or {})
    except (PyPdfError, ValueError, OSError, KeyError, TypeError) as exc:
        raise LoadError(path, f"not a readable PDF ({type(exc).__name__}: {exc}); re-export or remove it") from exc
    furniture = page_furniture(raw_pages)
    levels = heading_levels(runs)
    text, pages, cursor = "", [], 0
    for number, page_text in enumerate(raw_pages, start=1):
        body = unwrap_lines(mark_headings(without_furniture(page_text, furniture), levels))
        if not body:
            continue
        if text:
            # a sentence the page break cut goes on, as a wrapped line does
            text += " " if continues(text[text.rfind("\n") + 1:], body) else "\n\n"
            cursor = len(text)
        text += body
        pages.append((number, cursor, len(text)))
    if not text.strip():
        raise LoadError(path, "the PDF has no extractable text (a scan?); OCR it first")
    raw = {"title": str(info.get("/Title") or ""), "publisher": str(info.get("/Author") or "")}
    return [_document(path, text, {k: v for k, v in raw.items() if v}, default_type="report",
                      title=path.stem.replace("-", " "), pages=pages)], []


def load_docx(path: Path) -> Loaded:
    import docx

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(path, f"not a readable DOCX ({exc}); re-save it from Word") from exc
    lines: list[str] = []
    for para in document.paragraphs:
        content = para.text.strip()
        if not content:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        level = re.match(r"Heading (\d)", style)
        if level:
            lines.append("#" * int(level.group(1)) + " " + content)
        elif style.startswith("Title"):
            lines.append("# " + content)
        elif "List" in style:
            lines.append("- " + content)
        else:
            lines.append(content)
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                lines.append(" | ".join(cells))
    props = document.core_properties
    raw: dict[str, Any] = {"title": props.title or "", "publisher": props.author or ""}
    if props.created:
        raw["published"] = props.created.date()
    return [_document(path, "\n\n".join(lines), {k: v for k, v in raw.items() if v},
                      default_type="document", title=path.stem.replace("-", " "))], []


LOADERS: dict[str, Callable[[Path], Loaded]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".csv": load_deal_file,
    ".jsonl": load_deal_file,
}


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS and not path.name.endswith(".meta.yaml")


def load_file(path: Path) -> Loaded:
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(path, f"unsupported file type {path.suffix!r}; supported: {', '.join(sorted(LOADERS))}")
    return loader(path)
