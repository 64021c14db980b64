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
        "advisor": _extras(answer),
    }


def _extras(answer: Answer) -> dict[str, Any]:
    return {"answer_id": answer.answer_id, "covered": answer.covered, "route": answer.route,
            "writer": answer.writer, "notes": answer.notes}


def stream_events_as_chunks(events: Iterator[dict[str, Any]], model: str) -> Iterator[str]:
    """The advisor's live `delta` events as OpenAI chunks; the references and citations come with the end."""
    chunk_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body)}\n\n"

    yield event({"role": "assistant", "content": ""})
    for item in events:
        if item["event"] == "delta":
            yield event({"content": item["data"]})
        elif item["event"] == "answer":
            answer = Answer.model_validate(item["data"])
            if answer.citations:
                yield event({"content": message_text(answer)[len(answer.text):]})
            yield event({}, "stop", citations=[c.model_dump() for c in answer.citations], advisor=_extras(answer))
    yield "data: [DONE]\n\n"
