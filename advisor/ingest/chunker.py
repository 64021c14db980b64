"""Structure-aware chunking: headings and paragraphs first, sentences only when a paragraph is too long.

A chunk is always a contiguous span of its document's text, so `doc.text[start:end] == chunk.text`
and every quoted passage can be checked against the document.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from advisor.text import is_heading, sentence_spans
from advisor.types import Chunk, Document


@dataclass
class _Unit:
    start: int
    end: int
    words: int
    kind: str  # "heading" | "sentence"
    block_start: bool  # first sentence of a paragraph (a natural break)
    section: str


def _units(doc: Document) -> list[_Unit]:
    text = doc.text
    units: list[_Unit] = []
    headings: dict[int, str] = {}
    page_starts = {start for _, start, _ in doc.pages}
    for block in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        first_line = block.group(0).split("\n", 1)[0]
        if is_heading(first_line) and "\n" not in block.group(0):
            level = len(first_line) - len(first_line.lstrip().lstrip("#"))
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = first_line.strip().lstrip("#").strip()
            units.append(_Unit(block.start(), block.end(), len(first_line.split()), "heading", True,
                               " > ".join(headings[k] for k in sorted(headings) if k > 1)))
            continue
        section = " > ".join(headings[k] for k in sorted(headings) if k > 1)
        for i, (s, e) in enumerate(sentence_spans(text, block.start(), block.end())):
            is_break = i == 0 or s in page_starts
            units.append(_Unit(s, e, len(text[s:e].split()), "sentence", is_break, section))
    return units


def _page_of(doc: Document, offset: int) -> int:
    for number, start, end in doc.pages:
        if start <= offset < end:
            return number
    return doc.pages[-1][0] if doc.pages else 0


def page_at(meta: dict[str, Any], offset: int) -> int | None:
    """The page a document offset inside a chunk is on (`meta`: the chunk's metadata); None for unpaged formats."""
    try:
        page = int(meta.get("page") or 0)
    except (TypeError, ValueError):
        return None
    if page <= 0:
        return None
    for turn in str(meta.get("page_turns") or "").split(","):
        at, _, number = turn.partition(":")
        if at.isdigit() and number.isdigit() and int(at) <= offset:
            page = int(number)
    return page


def chunk_id(doc: Document, text: str, occurrence: int) -> str:
    """Stable id from what the chunk is: same document, text and metadata give the same id."""
    payload = json.dumps([doc.doc_id, text, doc.meta, occurrence], sort_keys=True, ensure_ascii=False)
    return f"{doc.doc_id}#{hashlib.sha1(payload.encode()).hexdigest()[:16]}"


def chunk_document(doc: Document, *, target_words: int = 170, max_words: int = 230,
                   overlap_sentences: int = 1) -> list[Chunk]:
    if doc.meta.get("doc_type") == "deal":
        spans = [(0, len(doc.text), "")]
    else:
        spans = _pack(_units(doc), target_words, max_words, overlap_sentences)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for start, end, section in spans:
        text = doc.text[start:end]
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        meta = {**doc.meta, "doc_id": doc.doc_id, "char_start": start, "char_end": end}
        if doc.pages:
            meta["page"] = _page_of(doc, start)
            turns = [f"{page_start}:{number}" for number, page_start, _ in doc.pages if start < page_start < end]
            if turns:  # the chunk runs onto later pages: where each begins, for the page of a passage inside it
                meta["page_turns"] = ",".join(turns)
        if section:
            meta["section"] = section
        chunks.append(Chunk(chunk_id=chunk_id(doc, text, occurrence), doc_id=doc.doc_id, text=text,
                            char_start=start, char_end=end, meta=meta, section=section))
    return chunks


def _pack(units: list[_Unit], target: int, limit: int, overlap: int) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    current: list[_Unit] = []

    def words() -> int:
        return sum(u.words for u in current)

    def flush(keep_overlap: bool) -> None:
        nonlocal current
        body = [u for u in current if u.kind == "sentence"]
        if body:
            section = next((u.section for u in current if u.kind == "sentence"), "")
            spans.append((current[0].start, current[-1].end, section))
        tail = current[-overlap:] if keep_overlap and overlap else []
        current = [u for u in tail if u.kind == "sentence"] if body else current
        if sum(u.words for u in current) > target // 2:
            current = []

    for unit in units:
        if unit.kind == "heading":
            if words() >= target // 3:
                flush(keep_overlap=False)
            elif current and all(u.kind == "heading" for u in current):
                current = []  # consecutive headings: keep only the nearest
            current.append(unit)
            continue
        if current and unit.block_start and words() >= target:
            flush(keep_overlap=False)
        elif current and words() + unit.words > limit:
            flush(keep_overlap=True)
        current.append(unit)
    if current:
        flush(keep_overlap=False)
    return spans
