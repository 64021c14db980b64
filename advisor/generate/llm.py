"""An LLM generator over any ChatModel: compressed evidence in, text citing it as [n] out.

The model reads the best evidence sentences (the extractive selection, numbered and grouped by
passage), not whole chunks: on CPU, prompt processing is the cost, and fewer, better sentences also
leave a small model less to misquote. Its text is not trusted: the Advisor verifies every sentence
against the passage it cites (advisor.cite) before anyone sees it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from advisor import prompts
from advisor.generate import ChatModel, Draft, DraftStream
from advisor.generate.extractive import ExtractiveGenerator
from advisor.text import clean_markdown, other_script_share
from advisor.types import Citation, Hit, Turn

log = logging.getLogger(__name__)
_CONDENSE_TOKENS = 64
_TRANSLATE_TOKENS = 160


def escape_passage(text: str) -> str:
    """Passage text as inert data: markup cannot close the <passage>/<sources> wrapper or fake a chat turn."""
    text = clean_markdown(text)
    return text.replace("<", "‹").replace(">", "›")


def _attribute(text: str) -> str:
    return escape_passage(text).replace('"', "'")


def documents_from_citations(citations: list[Citation]) -> list[dict[str, Any]]:
    """Numbered passages grouped under their document (title and date once, not per passage)."""
    documents: list[dict[str, Any]] = []
    for c in citations:
        if not documents or documents[-1]["doc_id"] != c.doc_id:
            documents.append({"doc_id": c.doc_id, "title": _attribute(c.title), "published": c.published,
                              "passages": []})
        documents[-1]["passages"].append({"n": c.n, "text": escape_passage(c.passage)})
    return documents


def documents_from_hits(hits: list[Hit]) -> list[dict[str, Any]]:
    """Whole chunks as passages: what the prompt would hold without evidence compression (for measuring)."""
    return [{"doc_id": h.chunk.doc_id, "title": _attribute(str(h.chunk.meta.get("title", h.chunk.doc_id))),
             "published": "", "passages": [{"n": i, "text": escape_passage(h.chunk.text)}]}
            for i, h in enumerate(hits, start=1)]


def answer_messages(question: str, documents: list[dict[str, Any]], prompts_dir: Path,
                    max_sentences: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": prompts.render("system.j2", prompts_dir)},
            {"role": "user", "content": prompts.render("answer.j2", prompts_dir, question=question,
                                                       documents=documents, max_sentences=max_sentences)}]


def condense_messages(question: str, history: list[Turn], prompts_dir: Path) -> list[dict[str, str]]:
    turns = [{"role": t.role, "content": t.content[:1000]} for t in history[-6:]]
    return [{"role": "system", "content": prompts.render("system.j2", prompts_dir)},
            {"role": "user", "content": prompts.render("condense.j2", prompts_dir, history=turns,
                                                       question=question)}]


def clean_condensed(reply: str, question: str) -> str | None:
    """The first line of a condense reply, unquoted; None when it is empty or implausible."""
    line = next((x.strip() for x in reply.splitlines() if x.strip()), "")
    line = re.sub(r"^(standalone question|question)\s*:\s*", "", line, flags=re.I).strip().strip("\"'“”").strip()
    if len(line.split()) < 2 or len(line) > max(300, 3 * len(question)):
        return None
    return line


def translate_messages(question: str, prompts_dir: Path) -> list[dict[str, str]]:
    return [{"role": "system", "content": prompts.render("translate_system.j2", prompts_dir)},
            {"role": "user", "content": prompts.render("translate.j2", prompts_dir, question=question)}]


def clean_translation(reply: str, question: str) -> str | None:
    """The English question of a translate reply: its first line, unquoted; None when it is empty, still mostly in
    another script, or far longer than a translation would be."""
    line = next((x.strip() for x in reply.splitlines() if x.strip()), "")
    line = re.sub(r"^(english question|question|translation)\s*:\s*", "", line, flags=re.I).strip().strip("\"'“”")
    if len(line.split()) < 2 or len(line) > max(300, 4 * len(question)) or other_script_share(line) > 0.25:
        return None
    return line


class LLMGenerator:
    """Generator (and Condenser, and Translator) backed by a ChatModel; see the module docstring."""

    def __init__(self, chat: ChatModel, extractive: ExtractiveGenerator, *, prompts_dir: Path,
                 max_tokens: int = 320, temperature: float = 0.0, evidence_sentences: int = 6,
                 condense: bool = True, translate: bool = True, translate_timeout_s: float | None = None) -> None:
        self.chat = chat
        self.extractive = extractive
        self.prompts_dir = prompts_dir
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.evidence_sentences = evidence_sentences
        self.condense_enabled = condense
        self.translate_enabled = translate
        self.translate_timeout_s = translate_timeout_s
        self.max_sentences = extractive.max_sentences

    @property
    def name(self) -> str:
        return self.chat.name

    def warm_up(self) -> None:
        """Load the model and, for llama.cpp, evaluate the fixed system prompt once so later calls reuse it."""
        warm = getattr(self.chat, "warm_up", None)
        if warm is not None:
            warm(prompts.render("system.j2", self.prompts_dir))

    def messages(self, question: str, evidence: Draft, max_sentences: int | None = None) -> list[dict[str, str]]:
        return answer_messages(question, documents_from_citations(evidence.citations), self.prompts_dir,
                               max_sentences or self.max_sentences)

    def stream(self, question: str, hits: list[Hit], *, max_sentences: int | None = None) -> DraftStream:
        evidence = self.extractive.evidence(question, hits, max_sentences=self.evidence_sentences)
        if not evidence.citations:
            return DraftStream([], evidence.coverage, [])
        messages = self.messages(question, evidence, max_sentences)
        return DraftStream(evidence.citations, evidence.coverage, self._pieces(messages))

    def _pieces(self, messages: list[dict[str, str]]) -> Iterator[str]:
        # a generator, so the model is called only when the caller starts reading (after the evidence gate)
        yield from self.chat.chat(messages, max_tokens=self.max_tokens, temperature=self.temperature, stream=True)

    def generate(self, question: str, hits: list[Hit], *, max_sentences: int | None = None) -> Draft:
        evidence = self.extractive.evidence(question, hits, max_sentences=self.evidence_sentences)
        if not evidence.citations:
            return Draft("", [], evidence.coverage)
        text = "".join(self.chat.chat(self.messages(question, evidence, max_sentences), max_tokens=self.max_tokens,
                                      temperature=self.temperature, stream=False))
        return Draft(text, evidence.citations, evidence.coverage)

    def complete(self, template: str, *, max_tokens: int = 400, **variables: object) -> str:
        """One reply (not streamed) to a prompt file rendered as the user turn after the fixed system prompt."""
        messages = [{"role": "system", "content": prompts.render("system.j2", self.prompts_dir)},
                    {"role": "user", "content": prompts.render(template, self.prompts_dir, **variables)}]
        return "".join(self.chat.chat(messages, max_tokens=max_tokens, temperature=0.0, stream=False))

    def condense(self, question: str, history: list[Turn]) -> str | None:
        if not self.condense_enabled:
            return None
        reply = "".join(self.chat.chat(condense_messages(question, history, self.prompts_dir),
                                       max_tokens=_CONDENSE_TOKENS, temperature=0.0, stream=False))
        condensed = clean_condensed(reply, question)
        if condensed is None:
            log.info("condense reply not usable (%r); using the rule-based rewrite", reply[:120])
        return condensed

    def translate(self, question: str) -> str | None:
        if not self.translate_enabled:
            return None
        reply = "".join(self.chat.chat(translate_messages(question, self.prompts_dir),
                                       max_tokens=_TRANSLATE_TOKENS, temperature=0.0, stream=False,
                                       timeout=self.translate_timeout_s))
        english = clean_translation(reply, question)
        if english is None:
            log.info("translate reply not usable (%r); reading the question's Latin words", reply[:120])
        return english


class ScriptedChat:
    """A deterministic ChatModel for tests and demos: replies are queued; every request is kept in `requests`."""

    name = "scripted"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.requests: list[list[dict[str, str]]] = []

    def enqueue(self, *replies: str) -> None:
        self.replies.extend(replies)

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float,
             stream: bool, timeout: float | None = None) -> Iterator[str]:
        self.requests.append(messages)
        if not self.replies:
            raise RuntimeError("ScriptedChat has no reply queued: enqueue() one per expected call")
        reply = self.replies.pop(0)
        if stream:
            yield from re.findall(r"\S+\s*|\s+", reply)
        else:
            yield reply
