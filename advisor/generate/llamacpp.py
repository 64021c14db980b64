"""A ChatModel running a GGUF model in process with llama-cpp-python.

Prefix reuse: llama.cpp keeps the KV cache of the last prompt and, on the next call, evaluates only the
tokens after the longest common prefix. Every call starts with the same system prompt, so those tokens
are evaluated once (at warm-up) and reused by every answer and condense call after it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from advisor.models import ModelError, resolve

log = logging.getLogger(__name__)


class LlamaCppChat:
    def __init__(self, model: str, models_dir: Path, *, n_ctx: int = 4096, n_threads: int = 2,
                 n_batch: int = 512, flash_attn: bool = False) -> None:
        self.model = model
        self.flash_attn = flash_attn
        self.models_dir = models_dir
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_batch = n_batch
        self.name = Path(model).stem if model.endswith(".gguf") else model
        self._llm: Any = None
        # one llama.cpp context serves one request at a time
        self._lock = threading.Lock()

    def load(self) -> Any:
        if self._llm is None:
            path = resolve(self.model, self.models_dir)  # sha256-verified for registry models
            # OMP_WAIT_POLICY=PASSIVE is set when `advisor` is imported (see advisor/__init__.py): spinning
            # OpenMP threads measured 15 s vs 7 s to first token for SmolLM2 on a loaded 2-core machine.
            try:
                from llama_cpp import Llama
            except ImportError:
                raise ModelError("llama-cpp-python is not installed: run `make install` (it builds llama.cpp from "
                                 "source, about 6 minutes)") from None
            log.info("loading %s (n_ctx=%d, n_threads=%d)", path, self.n_ctx, self.n_threads)
            self._llm = Llama(model_path=str(path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                              n_threads_batch=self.n_threads, n_batch=self.n_batch, flash_attn=self.flash_attn, seed=0,
                              verbose=False)
        return self._llm

    def warm_up(self, system_prompt: str | None = None) -> None:
        """Load the model; with a system prompt, evaluate it so the first question reuses its KV cache."""
        llm = self.load()
        if system_prompt:
            with self._lock:
                llm.create_chat_completion(messages=[{"role": "system", "content": system_prompt},
                                                     {"role": "user", "content": "Hello."}], max_tokens=1)

    def count_tokens(self, text: str) -> int:
        return len(self.load().tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        """Tokens of a chat prompt laid out by the model's own chat template (counted, not evaluated)."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self.load()
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            return sum(self.count_tokens(m["content"]) for m in messages)
        vocab = llm.tokenizer()
        formatter = Jinja2ChatFormatter(template=template, eos_token=vocab.decode([llm.token_eos()]),
                                        bos_token=vocab.decode([llm.token_bos()]))
        return self.count_tokens(formatter(messages=cast(Any, messages)).prompt)

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float,
             stream: bool, timeout: float | None = None) -> Iterator[str]:
        with self._lock:
            llm = self.load()
            if not stream:
                reply = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=temperature)
                yield reply["choices"][0]["message"].get("content") or ""
                return
            for chunk in llm.create_chat_completion(messages=messages, max_tokens=max_tokens,
                                                    temperature=temperature, stream=True):
                piece = chunk["choices"][0].get("delta", {}).get("content")
                if piece:
                    yield piece
