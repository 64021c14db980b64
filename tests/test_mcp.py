"""The MCP tools through the SDK's own client, over both transports: streamable HTTP at /mcp on a real
`advisor serve`, and stdio from `advisor mcp` in a subprocess. Keys decide the role, as for the REST API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import DEALS_HEADER, REPO, running_server, write_public_and_internal

CONSULTANT = "mcp-consultant-key-0123456789abcdef"
PROSPECT = "mcp-prospect-key-0123456789abcdefgh"
FEE = "What is the Lantern Protocol success fee?"


@pytest.fixture(scope="module")
def mcp_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("mcp")
    corpus = root / "corpus"
    corpus.mkdir()
    write_public_and_internal(corpus)
    (corpus / "deals.csv").write_text(
        DEALS_HEADER
        + "D1,2025-06-13,CSPC Pharmaceutical Group,China,AstraZeneca,United Kingdom,AI research,AI small molecules,"
          "AI platform,immunology,discovery,Global,110,5220,5330,,https://example.com/d1,AI deal\n"
        + "D2,2025-05-20,3SBio,China,Pfizer,United States,licence,SSGJ-707,bispecific antibody,oncology,phase 2,"
          "Global ex-China,1250,4800,6050,tiered,https://example.com/d2,\n")
    (corpus / "deals.csv.meta.yaml").write_text("audience: public\npublisher: Meridian deal tracker\n")
    env = {**os.environ, "ADVISOR_DATA_DIR": str(root / "data"), "ADVISOR_EMBEDDER": "hash",
           "ADVISOR_MIN_EVIDENCE_SCORE": "0.25", "PYTHONPATH": str(REPO), "ADVISOR_UI_ENABLED": "false",
           "ADVISOR_API_KEYS": json.dumps({CONSULTANT: "consultant", PROSPECT: "prospect"})}
    done = subprocess.run([sys.executable, "-m", "advisor.cli", "ingest", str(corpus)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    env["MCP_TEST_LOG"] = str(root / "server.log")
    return env


@pytest.fixture(scope="module")
def mcp_url(mcp_env: dict[str, str]) -> Iterator[str]:
    with running_server(mcp_env, Path(mcp_env["MCP_TEST_LOG"])) as (url, _):
        yield url + "/mcp"


def _over_http(url: str, key: str | None):  # type: ignore[no-untyped-def]
    headers = {"X-API-Key": key} if key else {}
    return streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers, timeout=60))


def _over_stdio(env: dict[str, str], key: str | None) -> StdioServerParameters:
    child = {k: v for k, v in env.items() if k != "ADVISOR_MCP_KEY"}
    if key:
        child["ADVISOR_MCP_KEY"] = key
    return StdioServerParameters(command=sys.executable, args=["-m", "advisor.cli", "mcp"], env=child, cwd=REPO)


async def _calls(server: Any, calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], list[Any]]:
    """The tool names the server lists, and each call's result (structured content, or the error text)."""
    out = []
    async with Client(server) as client:
        tools = sorted(t.name for t in (await client.list_tools()).tools)
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            if result.is_error:
                out.append("error: " + " ".join(getattr(c, "text", "") for c in result.content))
            else:
                out.append(result.structured_content)
    return tools, out


CALLS = [("ask", {"question": FEE}),
         ("ask", {"question": "How much did AstraZeneca pay CSPC upfront?"}),
         ("search", {"query": "Lantern Protocol success fee", "k": 5}),
         ("get_source", {"doc_id": "fee-playbook"}),
         ("deals", {"question": "How many deals were signed in 2025?"}),
         ("ask", {"question": FEE, "audience": "internal"})]


def _check_public(tools: list[str], results: list[Any]) -> None:
    assert tools == ["ask", "deals", "get_source", "search"]
    fee, upfront, search, source, deals, widened = results
    assert "1.5%" not in json.dumps(fee) and not fee["covered"] and fee["audience"] == "public"
    assert upfront["covered"] and "$110m" in upfront["text"] and upfront["citations"][0]["doc_id"] in ("az-cspc", "D1")
    assert {p["doc_id"] for p in search["passages"]} <= {"az-cspc", "D1", "D2"}
    assert isinstance(source, str) and source.startswith("error:") and "not found" in source
    assert deals["matched"] == 2 and {r["deal_id"] for r in deals["rows"]} == {"D1", "D2"}
    assert isinstance(widened, str) and "consultant API key" in widened


def _check_consultant(results: list[Any]) -> None:
    fee, _, search, source, _, widened = results
    assert fee["covered"] and "1.5%" in fee["text"] and fee["citations"][0]["doc_id"] == "fee-playbook"
    assert "fee-playbook" in {p["doc_id"] for p in search["passages"]}
    assert source["doc_id"] == "fee-playbook" and "Lantern Protocol" in source["passage"]
    assert widened["audience"] == "internal" and "1.5%" in widened["text"]


def test_http_transport_keeps_internal_sources_to_consultants(mcp_url: str) -> None:
    for key in (None, PROSPECT):
        tools, results = anyio.run(_calls, _over_http(mcp_url, key), CALLS)
        _check_public(tools, results)
    _, results = anyio.run(_calls, _over_http(mcp_url, CONSULTANT), CALLS)
    _check_consultant(results)
    _, wrong = anyio.run(_calls, _over_http(mcp_url, "not-a-key"), CALLS[:1])
    assert isinstance(wrong[0], str) and "unknown API key" in wrong[0]


def test_stdio_transport_takes_its_role_from_the_configured_key(mcp_env: dict[str, str]) -> None:
    tools, results = anyio.run(_calls, _over_stdio(mcp_env, None), CALLS)
    _check_public(tools, results)
    _, results = anyio.run(_calls, _over_stdio(mcp_env, CONSULTANT), CALLS)
    _check_consultant(results)
    refused = subprocess.run([sys.executable, "-m", "advisor.cli", "mcp"], cwd=REPO, capture_output=True, text=True,
                             env={**mcp_env, "ADVISOR_MCP_KEY": "not-a-key"}, timeout=60)
    assert refused.returncode == 2 and "ADVISOR_MCP_KEY is not one of ADVISOR_API_KEYS" in refused.stderr
