"""The real API over HTTP: `advisor serve` in a subprocess on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import REPO, free_port, wait_for_http


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.conftest import DEALS_HEADER, write_article

    root = tmp_path_factory.mktemp("api")
    corpus = root / "corpus"
    corpus.mkdir()
    write_article(corpus, "az-cspc", "AstraZeneca agreed a $5.3bn AI research deal with CSPC in June 2025. "
                                      "Only $110m of the AstraZeneca and CSPC deal was paid upfront.")
    write_article(corpus, "fees", "Under the Lantern Protocol our success fee is never below 1.5% of upfront.",
                  audience="internal")
    (corpus / "deals.csv").write_text(DEALS_HEADER)  # header only: a valid, empty deals file is not an error
    env = {**os.environ, "ADVISOR_DATA_DIR": str(root / "data"), "ADVISOR_EMBEDDER": "hash",
           "ADVISOR_MIN_EVIDENCE_SCORE": "0.25", "PYTHONPATH": str(REPO)}
    ingest = subprocess.run([sys.executable, "-m", "advisor.cli", "ingest", str(corpus)], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "advisor.cli", "serve", "--port", str(port)], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=open(root / "server.log", "w"))  # noqa: SIM115
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/healthz")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_healthz_reports_the_index(server: str) -> None:
    body = httpx.get(server + "/healthz").json()
    assert body["status"] == "ok" and body["chunks"] >= 2


def test_ask_returns_a_cited_answer(server: str) -> None:
    response = httpx.post(server + "/v1/ask", json={"question": "How much did AstraZeneca pay CSPC upfront?"},
                          timeout=30)
    assert response.status_code == 200
    answer = response.json()
    assert answer["covered"] and "$110m" in answer["text"]
    citation = answer["citations"][0]
    assert {"doc_id", "title", "url", "published", "passage", "char_start", "char_end"} <= set(citation)
    assert citation["doc_id"] == "az-cspc"


def test_anonymous_callers_get_public_sources_only(server: str) -> None:
    answer = httpx.post(server + "/v1/ask", json={"question": "What is the Lantern Protocol success fee?"},
                        timeout=30).json()
    assert "Lantern" not in answer["text"]
    refused = httpx.post(server + "/v1/ask", json={"question": "fees?", "audience": "internal"}, timeout=30)
    assert refused.status_code == 422


@pytest.mark.parametrize("payload", [{"question": ""}, {"question": "x" * 2001}, {"nope": 1},
                                     {"question": "ok", "filters": {"date_from": "yesterday"}}])
def test_bad_requests_get_a_4xx_that_says_why(server: str, payload: dict) -> None:
    response = httpx.post(server + "/v1/ask", json=payload, timeout=30)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_malformed_json_is_a_4xx(server: str) -> None:
    response = httpx.post(server + "/v1/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


