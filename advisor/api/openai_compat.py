"""Shape Answers as OpenAI chat-completion responses and stream chunks."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from advisor.export import references
from advisor.types import Answer


def message_text(answer: Answer) -> str:
    """The answer with its references appended, so plain chat clients show the sources too."""
    if not answer.citations:
        return answer.text
    return answer.text + "\n\nSources:\n" + "\n".join(references(answer.citations))


def completion(answer: Answer, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{answer.answer_id or uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": message_text(answer)},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": [c.model_dump() for c in answer.citations],
        "advisor": {"answer_id": answer.answer_id, "covered": answer.covered, "route": answer.route},
    }


def stream_chunks(answer: Answer, model: str) -> Iterator[str]:
    """Server-sent events in the OpenAI streaming format, ending with [DONE]."""
    chunk_id = f"chatcmpl-{answer.answer_id or uuid.uuid4().hex}"
    created = int(time.time())

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body)}\n\n"

    yield event({"role": "assistant", "content": ""})
    text = message_text(answer)
    step = 24
    for lo in range(0, len(text), step):
        yield event({"content": text[lo:lo + step]})
    yield event({}, "stop", citations=[c.model_dump() for c in answer.citations])
    yield "data: [DONE]\n\n"
