"""FastAPI application factory. Routes stay thin: validate, call Advisor, return its Answer."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from advisor import __version__
from advisor.advisor import Advisor, InputError
from advisor.config import Settings
from advisor.retrieve import Filters
from advisor.types import Answer


class FilterBody(BaseModel):
    doc_types: list[str] = Field(default_factory=list, max_length=20)
    companies: list[str] = Field(default_factory=list, max_length=20)
    therapy_areas: list[str] = Field(default_factory=list, max_length=20)
    date_from: int | None = Field(default=None, ge=19000101, le=21001231, description="YYYYMMDD")
    date_to: int | None = Field(default=None, ge=19000101, le=21001231, description="YYYYMMDD")


class AskBody(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    audience: Literal["public"] = "public"
    filters: FilterBody = Field(default_factory=FilterBody)


def create_app(settings: Settings, *, advisor: Advisor | None = None) -> FastAPI:
    holder: dict[str, Advisor] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        holder["advisor"] = advisor or Advisor.from_settings(settings)
        await run_in_threadpool(holder["advisor"].warm_up)
        yield

    app = FastAPI(title="advisor", version=__version__, lifespan=lifespan)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"error": str(exc)})

    @app.get("/healthz")
    async def healthz() -> dict[str, object]:
        current = holder.get("advisor")
        counts = current.store.catalog.counts() if current else {}
        return {"status": "ok" if current else "starting", "version": __version__, **counts}

    @app.post("/v1/ask", response_model=Answer)
    async def ask(body: AskBody) -> Answer:
        # anonymous callers are prospects: public sources only (roles by API key come with the full API)
        f = body.filters
        filters = Filters(audience="public", doc_types=tuple(f.doc_types), companies=tuple(f.companies),
                          therapy_areas=tuple(f.therapy_areas), date_from=f.date_from, date_to=f.date_to)
        return await run_in_threadpool(holder["advisor"].ask, body.question, audience="public", filters=filters)

    return app
