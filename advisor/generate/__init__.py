"""Generator seam: turn a question and its evidence into text citing that evidence as [n]."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from advisor.types import Citation, Hit, Turn

if TYPE_CHECKING:
    from advisor.config import Settings
    from advisor.generate.extractive import ExtractiveGenerator


@dataclass
class Draft:
    text: str
    citations: list[Citation] = field(default_factory=list)
    # how well the best evidence sentence covers the question's terms, 0..1 (feeds the coverage gate)
    coverage: float = 0.0


@dataclass
class DraftStream:
    """A draft whose text arrives in pieces. `citations` and `coverage` are known before any text, so the
    caller can gate on evidence before a model is asked anything; `pieces` is lazy."""

    citations: list[Citation]
    coverage: float
    pieces: Iterable[str]


class Generator(Protocol):
    def generate(self, question: str, hits: list[Hit], *, max_sentences: int | None = None) -> Draft:
        """Text citing `hits` as [n] (1-based, in citation order); at most `max_sentences` when given."""
        ...

    def stream(self, question: str, hits: list[Hit], *, max_sentences: int | None = None) -> DraftStream:
        """The same, as text pieces produced lazily."""
        ...


@runtime_checkable
class Condenser(Protocol):
    def condense(self, question: str, history: list[Turn]) -> str | None:
        """A follow-up rewritten as a standalone query, or None when it cannot."""
        ...


@runtime_checkable
class Translator(Protocol):
    def translate(self, question: str) -> str | None:
        """A question written in another language, in English; None when it cannot."""
        ...


class ChatModel(Protocol):
    """A chat-completion backend: llama.cpp in process, an OpenAI-compatible endpoint, or a scripted fake."""

    name: str

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float,
             stream: bool, timeout: float | None = None) -> Iterator[str]:
        """The reply as text pieces: many when `stream`, one otherwise. `timeout`: seconds this call may wait for
        its reply before it fails with LLMError (None: the backend's own limit; an in-process model ignores it)."""
        ...


def make_generator(settings: Settings, extractive: ExtractiveGenerator) -> Generator:
    """The generator the settings name (LLM ones read `extractive`'s evidence selection); nothing heavy is
    loaded until it is first used or warmed up."""
    if settings.generator == "extractive":
        return extractive
    from advisor.generate.llm import LLMGenerator

    chat: ChatModel
    if settings.generator == "llamacpp":
        from advisor.generate.local_model import LocalModelChat, ModelProcess
        from advisor.models import ensure

        # the model runs in its own supervised process: a crash in native code cannot take the API with it
        process = ModelProcess(Path(settings.llm_model).stem if settings.llm_model.endswith(".gguf")
                               else settings.llm_model,
                               lambda: ensure(settings.llm_model, settings.models_dir),
                               n_ctx=settings.llm_n_ctx, n_threads=settings.llm_n_threads,
                               flash_attn=settings.llm_flash_attn, log_file=settings.data_dir / "logs" / "model.log",
                               startup_timeout_s=settings.llm_startup_timeout_s)
        chat = LocalModelChat(process, timeout=settings.llm_timeout_s)
    else:
        from advisor.generate.openai_compat import OpenAIChat

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        chat = OpenAIChat(settings.llm_base_url or "", settings.llm_api_model or "", api_key=key,
                          timeout=settings.llm_timeout_s)
    return LLMGenerator(chat, extractive, prompts_dir=settings.prompts_dir, max_tokens=settings.llm_max_tokens,
                        temperature=settings.llm_temperature, evidence_sentences=settings.llm_evidence_sentences,
                        condense=settings.llm_condense, translate=settings.llm_translate,
                        translate_timeout_s=settings.llm_translate_timeout_s)


class LLMError(RuntimeError):
    """A language model call failed (endpoint unreachable, refused, malformed reply); the message says why."""
