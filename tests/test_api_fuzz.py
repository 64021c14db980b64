"""The live API against its own OpenAPI description: schemathesis generates valid and invalid requests for every
operation and checks every response (no 5xx, declared status codes, content types, headers, schemas, Allow on
405). A bounded number of examples per operation runs here; `make fuzz` runs the long campaign and writes its
figures to benchmarks/results/fuzz.json."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from benchmarks.fuzz import fuzz, own_server

EXAMPLES = int(os.environ.get("ADVISOR_FUZZ_EXAMPLES", "15"))


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[str]:
    with own_server() as url:
        yield url


def test_no_request_breaks_the_contract(fuzz_server: str) -> None:
    figures = fuzz(fuzz_server, examples=EXAMPLES)
    for who, run in figures["runs"].items():
        assert run["operations"] >= 11 and run["test_cases"] > 0, (who, run)
        assert run["exit_code"] == 0 and run["failures"] == 0, (who, run["failure_kinds"], run["output_tail"])
    assert figures["server_errors_5xx"] == 0 and figures["requests"] > 500


def test_the_description_declares_errors_and_streams(fuzz_server: str) -> None:
    spec = httpx.get(fuzz_server + "/openapi.json").json()
    stream = spec["paths"]["/v1/ask/stream"]["post"]["responses"]
    assert list(stream["200"]["content"]) == ["text/event-stream"]
    for code in ("401", "413", "422", "429"):
        assert stream[code]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
