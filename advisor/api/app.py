"""FastAPI application factory: middleware, error handling and routes. Routes translate HTTP and call
the Advisor and Records; no retrieval, SQL or prompt logic lives here."""


# No `from __future__ import annotations` here: FastAPI must resolve the locally defined dependency
# aliases in route signatures at definition time.
import functools
import hashlib
import itertools
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, FastAPI, File, Header, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from advisor import __version__
from advisor.advisor import Advisor, InputError
from advisor.api import metrics as m
from advisor.api import openai_compat
from advisor.api.middleware import LimitsAndMetrics
from advisor.api.schemas import ERROR_RESPONSES, AskBody, ChatBody, FeedbackBody, LeadBody
from advisor.config import Audience, Settings
from advisor.index.catalog import WriterBusy
from advisor.limits import Guards, RateLimited
from advisor.mcp_tools import build_mcp, mcp_http_app
from advisor.records import NotFound, Records, records_path
from advisor.roles import Role, UnknownKey, audience_for, can_admin
from advisor.types import Answer, SourceView, Turn

log = logging.getLogger(__name__)
T = TypeVar("T")
# /v1/chat/completions model names → who writes the answer (None: the caller's audience default)
CHAT_MODELS: dict[str, Any] = {"advisor": None, "advisor-extractive": "extractive", "advisor-llm": "llm"}
# one server-sent event, as a client parses it: its name and its data line (JSON text)
SSE_EVENT = {"type": "object", "required": ["event", "data"],
             "properties": {"event": {"enum": ["sources", "delta", "answer"]}, "data": {"type": "string"}}}
SSE_CHUNK = {"type": "object", "required": ["data"], "properties": {"data": {"type": "string"}}}
UPLOADS = "/v1/ingest"  # the one route with the upload body limit (settings.max_upload_bytes)


class EventStream(StreamingResponse):
    media_type = "text/event-stream"


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def create_app(settings: Settings, *, advisor: Advisor | None = None, records: Records | None = None,
               guards: Guards | None = None) -> FastAPI:
    # cheap to build (models load in warm_up), so the UI can be handed the same objects at once
    the_advisor_ = advisor or Advisor.from_settings(settings)
    records_ = records or Records(records_path(settings))
    state: dict[str, Any] = {}
    guards_ = guards or Guards.from_settings(settings)  # one set of per-client limits for the API and the UI
    registry = m.Metrics(model_status=the_advisor_.model_status)

    # the same tools for AI assistants: MCP over streamable HTTP at /mcp, keys and limits as for the REST API
    mcp_server = build_mcp(the_advisor_, settings, guards=guards_)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202 - FastAPI's lifespan protocol
        await run_in_threadpool(the_advisor_.warm_up)
        state["advisor"], state["records"] = the_advisor_, records_
        state["answering"] = anyio.CapacityLimiter(settings.answer_concurrency)
        async with mcp_server.session_manager.run():
            yield
        await run_in_threadpool(the_advisor_.close)

    app = FastAPI(title="advisor", version=__version__, lifespan=lifespan, responses=ERROR_RESPONSES,
                  description="Answers about pharma and biotech in Asia, every sentence cited to its source.")
    ui_mounted = False
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "X-API-Key"])

    app.add_middleware(LimitsAndMetrics, registry=registry, max_header_bytes=settings.max_header_bytes,
                       max_body_bytes=settings.max_request_bytes, route_body_bytes={UPLOADS: settings.max_upload_bytes})

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.headers)

    @app.exception_handler(RateLimited)
    async def _rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        return _error(429, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(WriterBusy)
    async def _busy(request: Request, exc: WriterBusy) -> JSONResponse:
        return _error(409, f"{exc}; retry when it has finished", {"Retry-After": "5"})

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return _error(422, str(exc))

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
                    for e in exc.errors()]
        return JSONResponse(status_code=422, content={"error": "; ".join(problems) or "invalid request",
                                                      "detail": problems})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 413:  # the body limit in force on this route, counted on the bytes read
            return _error(413, f"request body is over the limit for {request.url.path}: {exc.detail}")
        return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}))  # e.g. Allow on a 405

    def role(request: Request, authorization: Annotated[str | None, Header()] = None,
             x_api_key: Annotated[str | None, Header()] = None) -> Role:
        key = x_api_key or (authorization.removeprefix("Bearer ").strip() if authorization else None)
        client = request.client.host if request.client else "unknown"  # the peer, or a trusted proxy's client
        # who may continue a conversation: the same key (never stored, only its digest) or, without one, the address
        request.state.owner = f"key:{hashlib.sha256(key.encode()).hexdigest()[:32]}" if key else f"addr:{client}"
        try:
            return guards_.admit(key, client, settings)
        except UnknownKey as exc:
            raise ApiError(401, str(exc)) from exc

    Caller = Annotated[Role, Depends(role)]

    def admin(who: Caller) -> Role:
        if not can_admin(who):
            raise ApiError(403, "this needs an admin API key")
        return who

    def the_advisor() -> Advisor:
        return the_advisor_

    def the_records() -> Records:
        return records_

    def checked(body: AskBody, who: Role, owner: str) -> tuple[Audience, str | None]:
        """The audience this caller gets and the conversation to continue; 403/404 before any work."""
        allowed = audience_for(who)
        audience: Audience = "public" if body.audience == "public" or allowed == "public" else "internal"
        if body.audience == "internal" and allowed == "public":
            raise ApiError(403, "internal sources need a consultant API key")
        conversation = body.conversation_id
        if conversation and not the_records().has_conversation(conversation, client=owner, audience=audience):
            raise ApiError(404, f"conversation {conversation} not found; omit conversation_id to start one")
        return audience, conversation

    def record(answer: Answer, audience: Audience, conversation: str | None, who: Role, owner: str) -> None:
        records = the_records()
        records.log_answer(conversation or records.new_conversation(audience=audience, role=who, client=owner),
                           answer)
        registry.answered(answer.route, answer.covered)

    def answer_for(body: AskBody, who: Role, owner: str) -> Answer:
        audience, conversation = checked(body, who, owner)
        answer = the_advisor().ask(body.question, audience=audience, filters=body.filters.to_filters(),
                                   history=body.history, writer=body.writer)
        record(answer, audience, conversation, who, owner)
        return answer

    def live_events(body: AskBody, who: Role, owner: str) -> Iterator[dict[str, Any]]:
        """The advisor's events as they happen; the final answer is recorded (and carries its id) first.

        The first event is computed before this returns, so bad input is still a 4xx, not a broken stream.
        """
        audience, conversation = checked(body, who, owner)
        events = the_advisor().stream(body.question, audience=audience, filters=body.filters.to_filters(),
                                      history=body.history, writer=body.writer)
        first = next(events)

        def rest() -> Iterator[dict[str, Any]]:
            for event in itertools.chain([first], events):
                if event["event"] == "answer":
                    answer = Answer.model_validate(event["data"])
                    record(answer, audience, conversation, who, owner)
                    event = {"event": "answer", "data": answer.to_json_dict()}
                yield event
        return rest()

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/ui/" if ui_mounted else "/docs")

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        current = state.get("advisor")
        counts = current.store.catalog.counts() if current else {}
        out = {"status": "ok" if current else "starting", "version": __version__, **counts}
        if current:  # which evidence gate answers: the packaged fit, this index's own calibration, or an override
            out["gate"] = {"threshold": current.gate.threshold, "source": current.gate.source}
        model = the_advisor_.model_status()
        if model is not None:  # answers are served either way: extractive while the model is not ready
            out["model"] = model
        return out

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        """Readiness for a load balancer: 200 once warm and the shared catalog answers; 503 (with why) before."""
        current = state.get("advisor")
        if current is None:
            return _error(503, "starting: loading the index and models")
        try:
            generation = await run_in_threadpool(lambda: current.store.catalog.generation)
        except Exception as exc:  # noqa: BLE001 - any failure to read the catalog means: send traffic elsewhere
            return _error(503, f"the catalog cannot be read: {type(exc).__name__}: {exc}")
        # ready while the heading and sentence cache still warms (answers are right, a little slower until then)
        return JSONResponse({"status": "ready", "generation": generation, "warming": current.texts.warming})

    @app.get("/widget.js", include_in_schema=False)
    async def widget() -> Response:
        """The website widget: one <script> tag on any page (see ui/widget/widget.js)."""
        return Response(_widget_script(settings), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=300"})

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> Response:
        return Response(registry.render(), media_type=m.CONTENT_TYPE)

    async def answering(fn: Callable[..., T], *args: Any) -> T:
        """Answer work runs on at most `answer_threads` threads; later requests wait their turn in order."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=state.get("answering"))

    @app.post("/v1/ask", response_model=Answer)
    async def ask(body: AskBody, who: Caller, request: Request) -> Response:
        answer = await answering(answer_for, body, who, request.state.owner)
        # already a validated Answer: serialise it once instead of re-validating it through response_model
        return Response(answer.model_dump_json(), media_type="application/json")

    @app.post("/v1/ask/stream", response_class=EventStream, responses={200: {
        "description": "server-sent events: `sources`, then `delta`s, then `answer` (the Answer as JSON)",
        "content": {"text/event-stream": {"schema": SSE_EVENT}}}})
    async def ask_stream(body: AskBody, who: Caller, request: Request) -> StreamingResponse:
        events = await answering(live_events, body, who, request.state.owner)
        # a sync iterator: Starlette pulls each event in a worker thread as the model produces it
        return EventStream((_sse(e["event"], e["data"]) for e in events), headers={"Cache-Control": "no-cache"})

    @app.post("/v1/chat/completions", responses={200: {
        "description": "a chat completion; with `stream: true`, server-sent chunks ending in `data: [DONE]`",
        "content": {"application/json": {"schema": {"type": "object"}},
                    "text/event-stream": {"schema": SSE_CHUNK}}}})
    async def chat(body: ChatBody, who: Caller, request: Request) -> Response:
        turns = [Turn(role=msg.role, content=msg.text()[:8000]) for msg in body.messages
                 if msg.role in ("user", "assistant")]
        if not turns or turns[-1].role != "user":
            raise ApiError(422, "the last message must come from the user")
        ask_body = AskBody(question=turns[-1].content[:2000] or " ", history=turns[:-1][-20:],
                           writer=CHAT_MODELS.get(body.model))
        if body.stream:
            events = await answering(live_events, ask_body, who, request.state.owner)
            return EventStream(openai_compat.stream_events_as_chunks(events, body.model))
        answer = await answering(answer_for, ask_body, who, request.state.owner)
        return JSONResponse(openai_compat.completion(answer, body.model))

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "advisor"}
                                           for name in CHAT_MODELS]}

    @app.get("/v1/sources/{doc_id}", response_model=SourceView)
    async def source(doc_id: str, who: Caller, char_start: int | None = None,
                     char_end: int | None = None) -> SourceView:
        return the_advisor().source(doc_id, audience=audience_for(who), char_start=char_start, char_end=char_end)

    @app.post("/v1/feedback")
    async def feedback(body: FeedbackBody, who: Caller) -> dict[str, str]:
        correction = body.correction
        if correction and audience_for(who) != "internal":
            raise ApiError(403, "corrections need a consultant API key")
        if correction and body.rating != "down":
            raise ApiError(422, "a correction goes with rating 'down'")
        the_records().add_feedback(body.answer_id, body.rating, body.reason)
        if correction is None:
            return {"status": "recorded"}
        correction_id = the_records().add_correction(
            body.answer_id, facts=correction.facts, source=correction.source, uncovered=correction.uncovered,
            note=correction.note or body.reason)
        return {"status": "recorded", "correction_id": correction_id}

    @app.post("/v1/leads")
    async def lead(body: LeadBody, who: Caller) -> dict[str, str]:
        lead_id = the_records().add_lead(name=body.name, email=body.email, company=body.company, consent=True,
                                         conversation_id=body.conversation_id, message=body.message)
        return {"status": "recorded", "lead_id": lead_id}

    @app.post(UPLOADS, max_body_size=settings.max_upload_bytes)
    async def ingest(files: Annotated[list[UploadFile], File()], who: Annotated[Role, Depends(admin)]) -> Any:
        folder = settings.data_dir / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        saved: list[Path] = []
        for upload in files:
            name = Path(upload.filename or "").name
            if not name or name.startswith("."):
                raise ApiError(422, f"file name {upload.filename!r} is not usable; give the file a name")
            target = folder / name
            target.write_bytes(await upload.read())
            saved.append(target)
        report = await run_in_threadpool(the_advisor().ingest, saved)
        return {"summary": report.summary(), "failed": [{"path": p, "reason": r} for p, r in report.failed],
                "record_errors": report.record_errors, "new": report.new, "changed": report.changed,
                "chunks_added": report.chunks_added}

    @app.delete("/v1/documents/{doc_id}")
    async def delete_document(doc_id: str, who: Annotated[Role, Depends(admin)]) -> dict[str, Any]:
        removed = await run_in_threadpool(the_advisor().indexer().delete_document, doc_id)
        if not removed:
            raise NotFound(f"document {doc_id} not found")
        return {"status": "deleted", "doc_id": doc_id, "chunks_removed": removed}

    app.router.routes.extend(mcp_http_app(mcp_server, settings).routes)
    ui_mounted = _mount_ui(app, settings, the_advisor_, records_, guards_)
    app.openapi = _errors_as_json(app.openapi)  # type: ignore[method-assign]
    return app


def _errors_as_json(build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """FastAPI gives an operation's declared error responses the operation's own media type; ours are always JSON,
    also on the event-stream routes."""
    def openapi() -> dict[str, Any]:
        spec = build()
        for operation in (op for path in spec.get("paths", {}).values() for op in path.values()):
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if code.startswith(("4", "5")) and "application/json" not in content and content:
                    response["content"] = {"application/json": next(iter(content.values()))}
        return spec
    return openapi


def app_for_worker() -> FastAPI:
    """The app of one worker process of `advisor serve --workers N` (settings from env vars and config file)."""
    from advisor.config import load_settings

    settings = load_settings()
    # the anonymous rate limit is counted in each process: share it out so the whole server keeps to it
    per_worker = max(1, settings.anonymous_requests_per_minute // settings.workers)
    return create_app(settings.model_copy(update={"anonymous_requests_per_minute": per_worker}))


def _mount_ui(app: FastAPI, settings: Settings, advisor: Advisor, records: Records, guards: Guards) -> bool:
    """The Gradio UI at /ui, on the same Advisor, when enabled and installed. True when mounted."""
    if not settings.ui_enabled:
        return False
    try:
        from ui.app import mount_ui
    except ImportError as exc:
        log.warning("UI not mounted (%s): install the project with `make install`", exc)
        return False
    mount_ui(app, advisor, records, settings, path="/ui", guards=guards)  # with the firm's theme and CSS
    return True


WIDGET = Path(__file__).resolve().parents[2] / "ui" / "widget" / "widget.js"


@functools.cache
def _widget_script_for(title: str, starters: tuple[str, ...]) -> str:
    config = json.dumps({"title": title, "starters": list(starters)}).replace("</", "<\\/")
    return WIDGET.read_text(encoding="utf-8").replace("/*CONFIG*/{}", config, 1)


def _widget_script(settings: Settings) -> str:
    return _widget_script_for(settings.widget_title, tuple(settings.starters))


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message, "detail": message}, headers=headers)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
