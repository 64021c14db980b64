"""Answers, citations and sources as the HTML and Markdown the UI shows. No Gradio here."""

from __future__ import annotations

import re
from html import escape
from typing import Literal

from advisor.types import Answer, Citation, SourceView
from ui.chart import svg_chart

_CITE = re.compile(r"\[(\d{1,3})\]")
_HEADING = re.compile(r"(?m)^#{1,6}\s+")
_SAFE_URL = re.compile(r"^https?://", re.I)
_LOGO = ('<svg class="mr-logo" viewBox="0 0 40 40" aria-hidden="true"><circle cx="20" cy="20" r="17"/>'
         '<ellipse cx="20" cy="20" rx="7.5" ry="17"/><path d="M3 20h34M6 11.5h28M6 28.5h28"/></svg>')


def header(firm: str, tagline: str) -> str:
    """The page header: a meridian-globe mark, the firm's name and one line on what this is."""
    return (f'<header class="mr-header"><div class="mr-brand">{_LOGO}<div><div class="mr-name">{escape(firm)}</div>'
            f'<p class="mr-tag">{escape(tagline)}</p></div></div></header>')


def answer_markdown(answer: Answer) -> str:
    """The answer for a chat bubble, each [n] a link that opens citation n in the sources panel."""
    titles = {c.n: c.title for c in answer.citations}

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in titles or not answer.answer_id:
            return match.group(0)
        return (f'<a class="cite-ref" href="#cite-{answer.answer_id}-{n}" '
                f'title="{escape(titles[n])}">{n}</a>')

    text = _CITE.sub(link, answer.text)
    chart = svg_chart(answer.chart)
    return f'{text}\n\n<div class="mr-chart-wrap">{chart}</div>' if chart else text


def reading(titles: tuple[str, ...]) -> str:
    """What the chat bubble says while the answer is being written from the sources found."""
    if not titles:
        return "_Looking through our sources…_"
    named = "; ".join(titles[:3]) + ("; …" if len(titles) > 3 else "")
    many = "source" if len(titles) == 1 else "sources"
    return f"_Reading {len(titles)} {many} ({named}) and writing a cited answer…_"


def citation_choices(answer: Answer | None) -> list[tuple[str, str]]:
    """(label, value) pairs for the list of an answer's citations."""
    if answer is None:
        return []
    return [(f"[{c.n}]  {c.title}" + (f" · {c.published}" if c.published else ""), str(c.n))
            for c in answer.citations]


def _link(url: str, text: str, css: str = "") -> str:
    if not _SAFE_URL.match(url or ""):
        return escape(text)
    cls = f' class="{css}"' if css else ""
    return f'<a{cls} href="{escape(url)}" target="_blank" rel="noopener noreferrer">{escape(text)}</a>'


def _lead_in(before: str, truncated: bool) -> str:
    """Context before a passage, starting at a sentence or line where possible."""
    if truncated:
        head = before[:240]
        cut = max(head.rfind("\n"), head.rfind(". ") + 1)
        before = before[cut + 1:] if cut > 0 else "…" + before[before.find(" ") + 1:]
    return escape(_HEADING.sub("", before))


def _trail(after: str, truncated: bool) -> str:
    """Context after a passage, ending at a sentence or line where possible."""
    if truncated:
        end = max(after.rfind("\n"), after.rfind(". ") + 1)
        after = after[:end] if end > len(after) - 240 else after[:after.rfind(" ")] + "…"
    return escape(_HEADING.sub("", after))


def _meta_line(view: SourceView) -> str:
    parts = [view.publisher, view.published, view.doc_type.replace("-", " ").capitalize()]
    badge = ' <span class="src-badge">Internal</span>' if view.audience == "internal" else ""
    return " · ".join(escape(p) for p in parts if p) + badge


def source_card(citation: Citation, view: SourceView) -> str:
    """A citation's passage highlighted in its document, with title, date and link."""
    cut_before = view.char_start - len(view.before) > 0
    cut_after = len(view.after) >= 600
    original = _link(view.url, "Open the original source ↗", "src-open") if _SAFE_URL.match(view.url) else ""
    page = f'<span class="src-page">page {citation.page}</span>' if citation.page else ""
    return (
        '<article class="src-card">'
        f'<div class="src-head"><span class="src-num">{citation.n}</span>'
        f'<div><h3 class="src-title">{_link(view.url, view.title)}</h3>'
        f'<div class="src-meta">{_meta_line(view)} {page}</div></div></div>'
        f'<blockquote class="src-context">{_lead_in(view.before, cut_before)}'
        f'<mark class="src-passage">{escape(view.passage)}</mark>{_trail(view.after, cut_after)}</blockquote>'
        f'<div class="src-foot">{original}</div>'
        "</article>"
    )


def sources_placeholder(answer: Answer | None = None) -> str:
    """What the sources panel says before a citation is opened."""
    if answer is not None and not answer.citations:
        text = "This answer cites no sources. A Meridian consultant can look into the question with you."
    elif answer is not None:
        text = "Select a citation number to read the exact passage in its original context."
    else:
        text = ("Every sentence in an answer carries a numbered citation. Select one to read the exact passage "
                "it rests on, highlighted in its original document.")
    return f'<div class="src-empty"><div class="src-empty-icon">❝</div><p>{escape(text)}</p></div>'


def draft_sources(citations: list[Citation]) -> str:
    """The passages a draft cites, one quoted card per citation."""
    if not citations:
        return '<div class="src-empty"><p>No sources cited.</p></div>'
    items = []
    for c in citations:
        badge = ' <span class="src-badge">Internal</span>' if c.audience == "internal" else ""
        meta = " · ".join(escape(x) for x in (c.published, c.doc_type) if x)
        items.append(f'<li class="draft-src"><span class="src-num">{c.n}</span><div>'
                     f'<div class="src-title">{_link(c.url, c.title)}{badge}</div>'
                     f'<div class="src-meta">{meta}</div>'
                     f'<blockquote class="src-quote">“{escape(c.passage)}”</blockquote></div></li>')
    return f'<ol class="draft-srcs">{"".join(items)}</ol>'


def draft_outcome(answer: Answer) -> tuple[str, Literal["info", "ok"]]:
    """What a consultant should know about a fresh draft."""
    if not answer.covered:
        return "Our sources don't cover this question, so there is nothing to draft from. Try wider filters.", "info"
    internal = any(c.audience == "internal" for c in answer.citations)
    note = " It cites internal sources: remove them before sending to a client." if internal else ""
    n = len(answer.citations)
    if answer.writer != "extractive":
        note = f" Written by the local model ({answer.writer}), every sentence checked against its source.{note}"
    elif any("language model was unavailable" in n for n in answer.notes):
        note = f" The local model was unavailable, so it is quoted from the sources.{note}"
    return f"Draft ready with {n} cited passage{'' if n == 1 else 's'}. Edit it, then export.{note}", "ok"


def status(message: str, kind: Literal["info", "ok", "error"] = "info") -> str:
    """A one-line status message."""
    if not message:
        return ""
    return f'<div class="status status-{kind}" role="status">{escape(message)}</div>'
