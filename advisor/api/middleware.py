"""Header-size cap, security headers and per-route metrics as plain ASGI middleware.

Starlette's `@app.middleware("http")` wraps every request in extra tasks and memory streams; under 20
concurrent clients that costs measurable CPU on a 2-core machine, so this reads the scope and wraps `send`.
Body sizes are capped on the bytes actually read, chunked or not: a declared Content-Length over the limit is
answered before anything is read, and a body that outgrows it while arriving stops being read. Routes with their
own limit (uploads) are counted by FastAPI's per-route `max_body_size`; its plain-text 413 is sent here as the JSON
error body every other error has.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from advisor.api.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Every response: no MIME sniffing, no referrer beyond the origin, never framed by another site.
COMMON_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"strict-origin-when-cross-origin"),
                  (b"x-frame-options", b"DENY")]
# The Gradio UI: its own scripts and styles, no third-party origin, no framing. Gradio injects inline scripts and
# styles and evaluates its HTML components' templates as code (blocked without 'unsafe-eval': tests/test_ui.py
# fails on any CSP report), so those two allowances stay; what they could run is only what our own origin serves.
UI_POLICY = (b"default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
             b"img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
             b"frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'")
# API responses are data, never a page: nothing in them may load or run.
API_POLICY = b"default-src 'none'; frame-ancestors 'none'"
# The interactive API docs load Swagger UI's scripts from its CDN: only framing is restricted there.
DOCS_POLICY = b"frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the limit is {limit} bytes")


class LimitsAndMetrics:
    def __init__(self, app: ASGIApp, *, registry: Metrics, max_body_bytes: int, route_body_bytes: dict[str, int],
                 max_header_bytes: int = 16_384, ui_path: str = "/ui") -> None:
        self.app, self.registry, self.max_header_bytes, self.ui_path = app, registry, max_header_bytes, ui_path
        self.max_body_bytes, self.route_body_bytes = max_body_bytes, route_body_bytes

    def _policy(self, path: str) -> bytes:
        if path == self.ui_path or path.startswith(self.ui_path + "/"):
            return UI_POLICY
        if path.startswith(DOCS_PATHS):
            return DOCS_POLICY
        return API_POLICY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        extra = [*COMMON_HEADERS, (b"content-security-policy", self._policy(scope.get("path", "")))]

        replaced = started_response = False

        async def send_and_note(message: Message) -> None:
            nonlocal status, replaced, started_response
            if replaced:  # the body of a response already sent in its JSON form
                return
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                headers = dict(message.get("headers", ()))
                if status == 413 and not headers.get(b"content-type", b"").startswith(b"application/json"):
                    # Starlette's body limiter answers a body that outgrew its limit while being read in plain text
                    replaced = True
                    limit = scope.get(MAX_BODY_SIZE_SCOPE_KEY) or self.max_body_bytes
                    await _json(send_and_note_start, 413, f"request body is over the limit of {limit} bytes for "
                                                          f"{scope.get('path', '')}")
                    return
                present = {name.lower() for name, _ in message.get("headers", ())}
                message["headers"] = [*message.get("headers", ()), *(h for h in extra if h[0] not in present)]
            await send(message)

        async def send_and_note_start(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        try:
            header_bytes = sum(len(name) + len(value) + 4 for name, value in scope.get("headers", ()))
            length, path = _content_length(scope), scope.get("path", "")
            limit = self.route_body_bytes.get(path, self.max_body_bytes)
            if header_bytes > self.max_header_bytes:
                await _json(send_and_note, 431, f"request headers are {header_bytes} bytes; the limit is "
                                                f"{self.max_header_bytes}")
            elif length is not None and length > limit:
                await _json(send_and_note, 413, f"request body is over the limit of {limit} bytes for {path}")
            elif path in self.route_body_bytes:
                await self.app(scope, receive, send_and_note)
            else:
                read = 0

                async def counted() -> Message:
                    nonlocal read
                    message = await receive()
                    read += len(message.get("body", b""))
                    if read > limit:
                        raise BodyTooLarge(limit)
                    return message
                try:
                    await self.app(scope, counted, send_and_note)
                except BodyTooLarge:
                    if started_response:  # nothing more can be said
                        raise
                    await _json(send_and_note, 413, f"request body is over the limit of {limit} bytes for {path}")
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
