"""Request-size cap and per-route metrics as plain ASGI middleware.

Starlette's `@app.middleware("http")` wraps every request in extra tasks and memory streams; under 20
concurrent clients that costs measurable CPU on a 2-core machine, so this reads the scope and wraps `send`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from advisor.api.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class LimitsAndMetrics:
    def __init__(self, app: ASGIApp, *, registry: Metrics, max_request_bytes: int) -> None:
        self.app, self.registry, self.max_request_bytes = app, registry, max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            length = _content_length(scope)
            if length is not None and length > self.max_request_bytes:
                await _json(send_and_note, 413, f"request body is {length} bytes; the limit is "
                                                f"{self.max_request_bytes}")
            else:
                await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")  # the router fills this in on the shared scope
            self.registry.observe(getattr(route, "path", "unmatched"), scope.get("method", ""), status,
                                  time.perf_counter() - started)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _json(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message, "detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
