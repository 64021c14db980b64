"""Export an answer or an edited draft, with its references, as Markdown or DOCX."""

from __future__ import annotations

import io
import re

from advisor.types import Citation

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def references(citations: list[Citation]) -> list[str]:
    out = []
    for c in citations:
        where = f", p. {c.page}" if c.page else ""
        date = f" ({c.published}{where})" if c.published else where
        out.append(f"[{c.n}] {c.title}{date}" + (f" — {c.url}" if c.url else ""))
    return out


def to_markdown(text: str, citations: list[Citation], *, title: str = "") -> str:
    """The text as written, then a References section (skipped when the text already lists them)."""
    parts = [f"# {title}", ""] if title else []
    parts.append(text.strip())
    if citations and "References" not in text and "## Sources" not in text:
        parts += ["", "## References", "", *(f"- {line}" for line in references(citations))]
    return "\n".join(parts) + "\n"


def to_docx(text: str, citations: list[Citation], *, title: str = "") -> bytes:
    """A Word document: headings and paragraphs from the text, then the references list."""
    import docx

    document = docx.Document()
    if title:
        document.add_heading(title, level=1)
    for block in re.split(r"\n\s*\n", text.strip()):
        block = block.strip()
        match = _HEADING.match(block)
        if match:
            document.add_heading(match.group(2), level=min(len(match.group(1)), 4))
        elif block:
            document.add_paragraph(block)
    if citations and "References" not in text and "## Sources" not in text:
        document.add_heading("References", level=2)
        for line in references(citations):
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
