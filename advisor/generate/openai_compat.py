"""A ChatModel for any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, OpenAI, Azure) over httpx."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx

from advisor.generate import LLMError

log = logging.getLogger(__name__)


class OpenAIChat:
    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 120.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"LLM base URL must start with http:// or https://, got {base_url!r}: "
                             "set ADVISOR_LLM_BASE_URL (e.g. http://localhost:11434/v1)")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.name = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=10.0), transport=transport)

    def close(self) -> None:
        self._client.close()

    def _body(self, messages: list[dict[str, str]], max_tokens: int, temperature: float,
              stream: bool) -> dict[str, Any]:
        return {"model": self.name, "messages": messages, "max_tokens": max_tokens, "temperature": temperature,
                "stream": stream}

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float,
             stream: bool, timeout: float | None = None) -> Iterator[str]:
        body = self._body(messages, max_tokens, temperature, stream)
        limit = httpx.Timeout(timeout, connect=min(timeout, 10.0)) if timeout else httpx.USE_CLIENT_DEFAULT
        try:
            if not stream:
                response = self._client.post(self.url, json=body, timeout=limit)
                self._check(response)
                yield _content(response.json(), "message")
                return
            with self._client.stream("POST", self.url, json=body, timeout=limit) as response:
                if response.status_code >= 400:
                    response.read()
                self._check(response)
                yield from _sse_pieces(response.iter_lines())
        except httpx.TimeoutException as exc:
            raise LLMError(f"the LLM endpoint {self.url} did not answer within the time allowed ({exc!r})") from exc
        except httpx.TransportError as exc:
            raise LLMError(f"could not reach the LLM endpoint {self.url}: {exc!r}; check ADVISOR_LLM_BASE_URL and "
                           "that the server is running") from exc

    def _check(self, response: httpx.Response) -> None:
        if response.status_code in (401, 403):
            raise LLMError(f"the LLM endpoint {self.url} refused the key (HTTP {response.status_code}): "
                           "check ADVISOR_LLM_API_KEY")
        if response.status_code == 404:
            raise LLMError(f"{self.url} not found (HTTP 404): ADVISOR_LLM_BASE_URL should end in /v1, and "
                           f"ADVISOR_LLM_API_MODEL ({self.name!r}) must exist there")
        if response.status_code >= 400:
            raise LLMError(f"the LLM endpoint {self.url} answered HTTP {response.status_code}: "
                           f"{response.text[:300]}")


def _content(payload: dict[str, Any], key: str) -> str:
    try:
        return payload["choices"][0][key].get("content") or "" if payload.get("choices") else ""
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise LLMError(f"the LLM endpoint answered an unexpected shape: {str(payload)[:300]}") from exc


def _sse_pieces(lines: Iterator[str]) -> Iterator[str]:
    """Text deltas from an OpenAI streaming response ("data: {...}" lines, ending with "data: [DONE]")."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            payload = json.loads(data)
        except json.JSONDecodeError as exc:
            raise LLMError(f"the LLM endpoint streamed a malformed event: {data[:200]}") from exc
        if "error" in payload:
            raise LLMError(f"the LLM endpoint reported an error mid-stream: {str(payload['error'])[:300]}")
        piece = _content(payload, "delta")
        if piece:
            yield piece
