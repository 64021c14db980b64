"""The advisor as Model Context Protocol tools: `ask`, `search`, `deals`, `get_source`.

One MCPServer (the official `mcp` SDK) serves both transports: stdio (`advisor mcp`, for an AI assistant on the
consultant's machine; the key comes from ADVISOR_MCP_KEY in the assistant's MCP config) and streamable HTTP at
`/mcp` on the API (the key in `X-API-Key` or `Authorization: Bearer`, as for the REST API). The caller's role comes
from the same key table: no key, or a prospect key, reaches public sources only. Tools translate; the Advisor does
the work, in a worker thread.
"""

from __future__ import annotations

from typing import Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from advisor.advisor import Advisor, InputError
from advisor.config import Audience, Settings
from advisor.limits import Guards, RateLimited
from advisor.records import NotFound
from advisor.roles import Role, UnknownKey, audience_for
from advisor.types import Answer

INSTRUCTIONS = ("Cited answers about pharma and biotech partnering in Asia (licensing deals with Chinese and other "
                "Asian biotechs, AI research partnerships, IP exposure, BIOSECURE, Japan as a market), from the "
                "firm's articles and deal records. Use `ask` for an answer with numbered citations, `search` for "
                "passages, `deals` for counts, sums and rankings over the deal records, `get_source` to read a "
                "cited passage in its document. An answer that says the sources don't cover a question means it.")


def _key_from(headers: Any) -> str | None:
    key = headers.get("x-api-key")
    if key:
        return str(key)
    authorization = headers.get("authorization") or ""
    return authorization.removeprefix("Bearer ").strip() or None


def _citations(answer: Answer) -> list[dict[str, Any]]:
    return [{"n": c.n, "doc_id": c.doc_id, "title": c.title, "url": c.url, "published": c.published,
             "passage": c.passage, "char_start": c.char_start, "char_end": c.char_end} for c in answer.citations]


def build_mcp(advisor: Advisor, settings: Settings, *, stdio_key: str | None = None,
              guards: Guards | None = None) -> MCPServer:
    """The tools on one Advisor. Over HTTP the key is read from each request; over stdio it is `stdio_key`."""
    server = MCPServer(name="advisor", title="Meridian Asia advisor", instructions=INSTRUCTIONS)
    guards = guards or Guards.from_settings(settings)

    def caller(ctx: Context) -> Audience:
        headers = ctx.headers
        key = _key_from(headers) if headers is not None else stdio_key
        request = getattr(ctx.request_context, "request", None)
        client = getattr(getattr(request, "client", None), "host", None) or "stdio"
        try:
            role: Role = guards.admit(key, client, settings, count_anonymous=headers is not None)
        except (UnknownKey, RateLimited) as exc:
            raise ToolError(str(exc)) from exc
        return audience_for(role)

    def audience_of(ctx: Context, wanted: Audience | None) -> Audience:
        allowed = caller(ctx)
        if wanted == "internal" and allowed == "public":
            raise ToolError("internal sources need a consultant API key")
        return "public" if wanted == "public" else allowed

    async def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
        except (InputError, NotFound, ValueError) as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    async def ask(question: str, ctx: Context,
                  audience: Literal["public", "internal"] | None = None) -> dict[str, Any]:
        """Answer a question about pharma and biotech in Asia. Every sentence of `text` carries [n] markers that
        refer to `citations` (document id, title, date, link and the exact passage); `covered` is false when the
        sources don't answer it, and the text then says so instead of guessing."""
        who = audience_of(ctx, audience)
        answer: Answer = await run(advisor.ask, question, audience=who)
        return {"text": answer.text, "covered": answer.covered, "route": answer.route, "audience": who,
                "citations": _citations(answer)}

    @server.tool()
    async def search(query: str, ctx: Context, k: int = 8) -> dict[str, Any]:
        """The passages that best match `query` (hybrid dense and keyword retrieval), best first, each with its
        document id, title, date, link, section and text; no answer is composed."""
        who = audience_of(ctx, None)
        hits = await run(advisor.search, query, audience=who, k=max(1, min(k, 20)))
        return {"audience": who, "passages": [
            {"doc_id": h.chunk.doc_id, "title": h.chunk.meta.get("title", ""), "published": h.chunk.meta.get(
                "published_str", h.chunk.meta.get("published", "")), "url": h.chunk.meta.get("source_url", ""),
             "section": h.chunk.section, "text": h.chunk.text, "score": round(h.score, 4)} for h in hits]}

    @server.tool()
    async def deals(question: str, ctx: Context) -> dict[str, Any]:
        """Count, sum, average, rank, list or compare deals in the structured deal records, e.g. "top 5 China
        out-licensing deals by upfront in 2025". Returns the computed figure, the answer with citations to the
        records, the structured query as read, and the rows behind the figure."""
        who = audience_of(ctx, None)
        result = await run(advisor.deals, question, audience=who)
        if result is None:
            raise ToolError("not a question over the deal records (counting, summing, ranking, listing or comparing "
                            "deals); use `ask` for it")
        return result

    @server.tool()
    async def get_source(doc_id: str, ctx: Context, char_start: int | None = None,
                         char_end: int | None = None) -> dict[str, Any]:
        """A passage shown in its document (title, date, link, the passage and the text around it); with no span,
        the document's opening."""
        who = audience_of(ctx, None)
        view = await run(advisor.source, doc_id, audience=who, char_start=char_start, char_end=char_end)
        return view.model_dump()

    return server


def mcp_http_app(server: MCPServer, settings: Settings) -> Starlette:
    """The streamable HTTP transport at /mcp; its session manager must run inside the host app's lifespan."""
    allowed = {settings.host, "127.0.0.1", "localhost"}
    # a loopback server is the one a web page could reach through DNS rebinding: only its own host names pass
    security = TransportSecuritySettings(enable_dns_rebinding_protection=settings.host in ("127.0.0.1", "localhost"),
                                         allowed_hosts=[f"{h}:*" for h in allowed] + sorted(allowed),
                                         allowed_origins=[f"http://{h}:*" for h in allowed])
    return server.streamable_http_app(streamable_http_path="/mcp", transport_security=security, host=settings.host)
