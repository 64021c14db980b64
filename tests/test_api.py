"""The real API over HTTP: `advisor serve` in a subprocess on 127.0.0.1, keys from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEALS_HEADER, REPO, free_port, running_server, wait_for_http, write_article

CONSULTANT = "consultant-key-0123456789abcdef"
ADMIN = "admin-key-0123456789abcdefghij"
PROSPECT = "prospect-key-0123456789abcdefg"


@pytest.fixture(scope="module")
def api_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A small ingested corpus and the environment a server over it runs with."""
    root = tmp_path_factory.mktemp("api")
    corpus = root / "corpus"
    corpus.mkdir()
    write_article(corpus, "az-cspc", "AstraZeneca agreed a $5.3bn AI research deal with CSPC in June 2025. "
                                      "Only $110m of the AstraZeneca and CSPC deal was paid upfront.")
    write_article(corpus, "fees", "Under the Lantern Protocol our success fee is never below 1.5% of upfront.",
                  audience="internal")
    write_article(corpus, "temp-note", "A temporary note about Korean biosimilar makers and Celltrion.")
    (corpus / "deals.csv").write_text(DEALS_HEADER)  # header only: a valid, empty deals file is not an error
    env = {**os.environ, "ADVISOR_DATA_DIR": str(root / "data"), "ADVISOR_EMBEDDER": "hash",
           "ADVISOR_MIN_EVIDENCE_SCORE": "0.25", "PYTHONPATH": str(REPO), "ADVISOR_UI_ENABLED": "false",
           "ADVISOR_ANONYMOUS_REQUESTS_PER_MINUTE": "1000", "ADVISOR_CORS_ORIGINS": '["https://meridian.example"]',
           "ADVISOR_API_KEYS": json.dumps({CONSULTANT: "consultant", ADMIN: "admin", PROSPECT: "prospect"})}
    ingest = subprocess.run([sys.executable, "-m", "advisor.cli", "ingest", str(corpus)], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    return root, env


@pytest.fixture(scope="module")
def server(api_env: tuple[Path, dict[str, str]]) -> Iterator[str]:
    root, env = api_env
    with running_server(env, root / "server.log") as (url, _):
        yield url


def _ask(server: str, question: str, key: str | None = None, **extra: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(server + "/v1/ask", json={"question": question, **extra}, headers=headers, timeout=30)


def test_healthz_reports_the_index(server: str) -> None:
    body = httpx.get(server + "/healthz").json()
    assert body["status"] == "ok" and body["chunks"] >= 3
    assert body["gate"] == {"threshold": 0.25, "source": "ADVISOR_MIN_EVIDENCE_SCORE"}
    ready = httpx.get(server + "/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready" and ready.json()["generation"] >= 1
    assert ready.json()["warming"] is False  # the hash embedder's gate reads no headings: nothing to warm


def test_ask_returns_a_cited_answer_and_records_it(server: str) -> None:
    answer = _ask(server, "How much did AstraZeneca pay CSPC upfront?").json()
    assert answer["covered"] and "$110m" in answer["text"]
    citation = answer["citations"][0]
    assert {"doc_id", "title", "url", "published", "passage", "char_start", "char_end"} <= set(citation)
    assert citation["doc_id"] == "az-cspc"
    assert answer["answer_id"] and answer["conversation_id"]
    feedback = httpx.post(server + "/v1/feedback", json={"answer_id": answer["answer_id"], "rating": "up",
                                                          "reason": "clear"})
    assert feedback.status_code == 200
    follow = _ask(server, "And the total value?", conversation_id=answer["conversation_id"],
                  history=[{"role": "user", "content": "How much did AstraZeneca pay CSPC upfront?"},
                           {"role": "assistant", "content": answer["text"]}]).json()
    assert "$5.3bn" in follow["text"] and follow["conversation_id"] == answer["conversation_id"]


def test_roles_keep_internal_sources_from_prospects(server: str) -> None:
    question = "What is the Lantern Protocol success fee?"
    for key in (None, PROSPECT):
        shown = _ask(server, question, key).json()
        assert "Lantern" not in shown["text"]
        assert all(c["audience"] == "public" for c in shown["citations"])
        by_id = httpx.get(server + "/v1/sources/fees", headers={"X-API-Key": key} if key else {})
        assert by_id.status_code == 404
    refused = _ask(server, question, PROSPECT, audience="internal")
    assert refused.status_code == 403
    consultant = _ask(server, question, CONSULTANT).json()
    assert "Lantern Protocol" in consultant["text"]
    assert httpx.get(server + "/v1/sources/fees", headers={"X-API-Key": CONSULTANT}).status_code == 200
    as_prospect = _ask(server, question, CONSULTANT, audience="public").json()
    assert "Lantern" not in as_prospect["text"]


def test_a_conversation_continues_only_for_whoever_started_it(server: str) -> None:
    started = _ask(server, "What is the Lantern Protocol success fee?", CONSULTANT).json()
    conversation = started["conversation_id"]
    for key in (None, PROSPECT, ADMIN):  # another caller cannot add to it, nor learn that it exists
        other = _ask(server, "And the retainer?", key, conversation_id=conversation)
        assert other.status_code == 404 and "not found" in other.json()["error"]
    same = _ask(server, "And the retainer?", CONSULTANT, conversation_id=conversation)
    assert same.status_code == 200 and same.json()["conversation_id"] == conversation
    as_public = _ask(server, "And the retainer?", CONSULTANT, conversation_id=conversation, audience="public")
    assert as_public.status_code == 404  # an internal conversation does not continue as a public one


def test_unknown_key_is_401_with_a_reason(server: str) -> None:
    response = _ask(server, "Japan?", "not-a-real-key")
    assert response.status_code == 401 and "unknown API key" in response.json()["error"]


def test_source_view_shows_the_passage_in_context(server: str) -> None:
    answer = _ask(server, "How much did AstraZeneca pay CSPC upfront?").json()
    c = answer["citations"][0]
    view = httpx.get(f"{server}/v1/sources/{c['doc_id']}",
                     params={"char_start": c["char_start"], "char_end": c["char_end"]}).json()
    assert view["passage"] == c["passage"]
    assert view["title"] and view["before"] is not None


def test_sse_events_arrive_in_order(server: str) -> None:
    events = []
    with httpx.stream("POST", server + "/v1/ask/stream", json={"question": "What did AstraZeneca agree with CSPC?"},
                      timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
            elif line.startswith("data: ") and events[-1] == "answer":
                final = json.loads(line.removeprefix("data: "))
    assert events[0] == "sources" and events[-1] == "answer"
    assert set(events[1:-1]) == {"delta"} and len(events) > 3
    assert final["citations"] and final["answer_id"]  # recorded before the last event went out
    # bad input is refused before the stream starts: a JSON 4xx, not a broken event stream
    missing = httpx.post(server + "/v1/ask/stream", json={"question": "Anything?", "conversation_id": "nope"},
                         timeout=30)
    assert missing.status_code == 404 and "not found" in missing.json()["error"]


def test_openai_client_non_streaming_and_streaming(server: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=server + "/v1", api_key=CONSULTANT)
    done = client.chat.completions.create(model="advisor", messages=[
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "How much did AstraZeneca pay CSPC upfront?"}])
    text = done.choices[0].message.content or ""
    assert "$110m" in text and "Sources:" in text
    assert done.model_extra and done.model_extra["citations"][0]["doc_id"] == "az-cspc"
    pieces, citations = [], None
    for chunk in client.chat.completions.create(model="advisor", stream=True, messages=[
            {"role": "user", "content": "How much did AstraZeneca pay CSPC upfront?"}]):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.model_extra and chunk.model_extra.get("citations"):
            citations = chunk.model_extra["citations"]
    assert "".join(pieces) == text
    assert citations and citations[0]["doc_id"] == "az-cspc"


@pytest.mark.parametrize("payload", [{"question": ""}, {"question": "x" * 2001}, {"nope": 1},
                                     {"question": "ok", "filters": {"date_from": "yesterday"}},
                                     {"question": "ok", "filters": {"date_from": 20250101, "date_to": 20240101}},
                                     {"question": "ok", "history": [{"role": "robot", "content": "x"}]}])
def test_bad_requests_get_a_4xx_that_says_why(server: str, payload: dict) -> None:
    response = httpx.post(server + "/v1/ask", json=payload, timeout=30)
    assert response.status_code == 422
    assert response.json()["error"]


def test_region_filter_over_http(server: str) -> None:
    bad = _ask(server, "Which deals?", filters={"regions": ["Atlantis"]})
    assert bad.status_code == 422 and "unknown region" in bad.json()["error"] and "Japan" in bad.json()["error"]
    question = "How much did AstraZeneca pay CSPC upfront?"
    china = _ask(server, question, filters={"regions": ["greater china"]})  # a group, any spelling
    assert china.status_code == 200 and {c["doc_id"] for c in china.json()["citations"]} == {"az-cspc"}
    japan = _ask(server, question, filters={"regions": ["Japan"]})  # no document is tagged Japan
    assert japan.status_code == 200 and not japan.json()["covered"] and not japan.json()["citations"]


def test_malformed_and_oversized_bodies(server: str) -> None:
    bad = httpx.post(server + "/v1/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 422 and bad.json()["error"]
    big = httpx.post(server + "/v1/ask", content=b"{" + b" " * 70_000 + b"}",
                     headers={"content-type": "application/json"})
    assert big.status_code == 413 and "limit" in big.json()["error"]
    chat = httpx.post(server + "/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "hi"}]})
    assert chat.status_code == 422

    def chunked(total: int) -> Iterator[bytes]:  # no Content-Length: the limit counts the bytes as they arrive
        yield b'{"question": "'
        for _ in range(total // 8192):
            yield b"x" * 8192
        yield b'"}'
    streamed = httpx.post(server + "/v1/ask", content=chunked(2_000_000), headers={"content-type": "application/json"},
                          timeout=30)
    assert streamed.status_code == 413 and "64000 bytes" in streamed.json()["error"]
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    headers = {f"x-filler-{i}": "y" * 1000 for i in range(40)}
    assert httpx.get(server + "/healthz", headers=headers).status_code == 431


def test_uploads_have_their_own_larger_limit(server: str) -> None:
    """An admin upload over the question limit is accepted; one over the upload limit is refused, still JSON."""
    note = ("Daiichi Sankyo noted that antibody-drug conjugate capacity in Japan grew. " * 1500).encode()  # ~110 kB
    files = {"files": ("adc-capacity-note.txt", note, "text/plain")}
    done = httpx.post(server + "/v1/ingest", files=files, headers={"X-API-Key": ADMIN}, timeout=120)
    assert len(note) > 64_000 and done.status_code == 200 and done.json()["new"] == 1


def test_wrong_methods_say_what_is_allowed_and_responses_carry_security_headers(server: str) -> None:
    wrong = httpx.get(server + "/v1/ask")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST" and wrong.json()["error"]
    for path in ("/healthz", "/v1/models"):
        headers = httpx.get(server + path).headers
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def _limited_server(env: dict[str, str], log: Path, **settings: str) -> AbstractContextManager[tuple[str, int]]:
    return running_server({**env, "ADVISOR_ANONYMOUS_REQUESTS_PER_MINUTE": "2", "ADVISOR_FAILED_KEY_ATTEMPTS": "3",
                           **settings}, log)


def test_forwarded_addresses_are_believed_only_from_trusted_proxies(
        api_env: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Rotating X-Forwarded-For does not reset a client's allowance unless the peer is a configured proxy."""
    _, env = api_env

    def codes(url: str) -> list[int]:
        return [httpx.post(url + "/v1/ask", json={"question": "CSPC?"}, timeout=30,
                           headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(4)]

    with _limited_server(env, tmp_path / "direct.log") as (url, _):
        direct = codes(url)
        guesses = [httpx.get(url + "/v1/sources/az-cspc", headers={"X-API-Key": f"guess-{i}"}).status_code
                   for i in range(5)]
        right_key_now = httpx.get(url + "/v1/sources/az-cspc", headers={"X-API-Key": CONSULTANT})
    with _limited_server(env, tmp_path / "proxied.log", ADVISOR_TRUSTED_PROXIES='["127.0.0.1"]') as (url, _):
        proxied = codes(url)
    assert direct == [200, 200, 429, 429]
    assert guesses == [401, 401, 401, 429, 429]  # wrong keys are throttled per client, as in the UI
    assert right_key_now.status_code == 429 and int(right_key_now.headers["retry-after"]) > 0
    assert proxied == [200, 200, 200, 200]  # behind a trusted proxy, each forwarded client has its own allowance


def test_leads_need_consent(server: str) -> None:
    base = {"name": "Ana", "email": "ana@example.com", "company": "Heron Bio"}
    assert httpx.post(server + "/v1/leads", json={**base, "consent": False}).status_code == 422
    assert httpx.post(server + "/v1/leads", json={**base, "consent": True}).json()["status"] == "recorded"


def test_admin_ingests_and_deletes(server: str, tmp_path: Path) -> None:
    note = "Takeda licensed fruquintinib from Hutchmed for $400m upfront in January 2023."
    files = {"files": ("hutchmed-note.txt", note.encode(), "text/plain")}
    assert httpx.post(server + "/v1/ingest", files=files, headers={"X-API-Key": CONSULTANT}).status_code == 403
    done = httpx.post(server + "/v1/ingest", files=files, headers={"X-API-Key": ADMIN}, timeout=60).json()
    assert done["new"] == 1 and done["chunks_added"] == 1
    asked = _ask(server, "What did Takeda pay Hutchmed for fruquintinib?", CONSULTANT).json()
    assert "$400m" in asked["text"]  # uploaded notes are internal until marked public
    gone = httpx.delete(server + "/v1/documents/temp-note", headers={"X-API-Key": ADMIN})
    assert gone.status_code == 200 and gone.json()["chunks_removed"] >= 1
    assert httpx.delete(server + "/v1/documents/temp-note", headers={"X-API-Key": ADMIN}).status_code == 404
    assert httpx.get(server + "/v1/sources/temp-note", headers={"X-API-Key": ADMIN}).status_code == 404


def test_an_ingest_by_another_process_is_answered_without_an_error(
        server: str, api_env: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """The CLI writes the index the server reads (embedded Chroma): the first question after it is still a 200
    (Chroma's first read of the new vectors fails in the serving process; retrieval takes the ANN path that time)."""
    _, env = api_env
    _ask(server, "What did AstraZeneca agree with CSPC?")  # the server holds the vectors of the index as it was
    write_article(tmp_path, "lotus-note", "Lotus Biologics signed a $75m upfront antibody licence with Heron in 2025.")
    done = subprocess.run([sys.executable, "-m", "advisor.cli", "ingest", str(tmp_path)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answers = [_ask(server, "What did Lotus Biologics sign with Heron?") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "$75m" in answers[-1].json()["text"]


def test_metrics_and_cors(server: str) -> None:
    _ask(server, "What did AstraZeneca agree with CSPC?")
    text = httpx.get(server + "/metrics").text
    assert 'advisor_http_requests_total{method="POST",path="/v1/ask",status="200"}' in text
    assert "advisor_answers_total" in text
    preflight = httpx.options(server + "/v1/ask", headers={"Origin": "https://meridian.example",
                                                          "Access-Control-Request-Method": "POST"})
    assert preflight.headers.get("access-control-allow-origin") == "https://meridian.example"
    assert httpx.get(server + "/docs").status_code == 200


def test_anonymous_rate_limit(settings, mini_corpus) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from advisor.advisor import Advisor
    from advisor.api import create_app

    limited = settings.model_copy(update={"anonymous_requests_per_minute": 2, "ui_enabled": False})
    advisor = Advisor.from_settings(limited)
    advisor.ingest([mini_corpus])
    with TestClient(create_app(limited, advisor=advisor)) as client:
        codes = [client.post("/v1/ask", json={"question": "Japan PMDA"}).status_code for _ in range(3)]
        once_published = client.post("/v1/ask", json={"question": "Japan PMDA"},
                                     headers={"X-API-Key": "dev-consultant-key"})
    assert codes == [200, 200, 429]
    assert once_published.status_code == 401  # no key works unless it is configured, in development too


def test_a_server_without_keys_makes_its_own_and_listens_on_loopback(
        api_env: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Started as the README says, with no ADVISOR_API_KEYS: a random consultant key, printed once; 127.0.0.1."""
    _, env = api_env
    env = {k: v for k, v in env.items() if k != "ADVISOR_API_KEYS"}
    port = free_port()
    log_path = tmp_path / "nokeys.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "advisor.cli", "serve", "--port", str(port), "--host",
                                 "0.0.0.0"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)  # noqa: S104
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(url + "/healthz")
            printed = log_path.read_text()
            key = printed.split("consultant key is ", 1)[1].split()[0]
            question = {"question": "What is the Lantern Protocol success fee?", "audience": "internal"}
            with_key = httpx.post(url + "/v1/ask", json=question, headers={"X-API-Key": key}, timeout=30)
            published = [httpx.post(url + "/v1/ask", json=question, headers={"X-API-Key": k}, timeout=30).status_code
                         for k in ("dev-consultant-key", "dev-admin-key")]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert len(key) >= 24 and "listening on 127.0.0.1 only, not 0.0.0.0" in printed
    assert with_key.status_code == 200 and "1.5%" in with_key.json()["text"]
    assert published == [401, 401]


def test_production_refuses_to_start_without_keys(api_env: tuple[Path, dict[str, str]]) -> None:
    _, env = api_env
    env = {**{k: v for k, v in env.items() if k != "ADVISOR_API_KEYS"}, "ADVISOR_ENVIRONMENT": "production"}
    run = subprocess.run([sys.executable, "-m", "advisor.cli", "serve", "--port", str(free_port())], env=env,
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "production needs API keys" in run.stderr


def test_several_workers_serve_the_api(api_env: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """`serve --workers 2`: two processes on one port, each answering from the same index."""
    _, env = api_env
    port = free_port()
    log = open(tmp_path / "workers.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "advisor.cli", "serve", "--port", str(port), "--workers", "2"],
                            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/healthz")
        answers = [_ask(url, "What did AstraZeneca agree with CSPC?") for _ in range(6)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert all(a.status_code == 200 for a in answers)
    assert all("$5.3bn" in a.json()["text"] for a in answers)
    started = (tmp_path / "workers.log").read_text()
    assert started.count("Started server process") == 2, started[-2000:]


def test_several_workers_refuse_to_run_the_ui(tmp_path: Path) -> None:
    env = {**os.environ, "ADVISOR_EMBEDDER": "hash", "ADVISOR_DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    env.pop("ADVISOR_UI_ENABLED", None)
    done = subprocess.run([sys.executable, "-m", "advisor.cli", "serve", "--port", str(free_port()), "--workers", "2"],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "ADVISOR_UI_ENABLED=false" in done.stderr


def test_the_load_generator_reads_answers_and_errors_over_one_connection(server: str) -> None:
    """benchmarks/load.py's minimal HTTP client: answers, a 4xx and a 422 in a row on one kept-alive connection."""
    import asyncio

    from benchmarks.load import Connection

    async def three() -> list[tuple[int, bytes]]:
        connection = Connection(server)
        try:
            return [await connection.post("/v1/ask", {"question": "How much did AstraZeneca pay CSPC upfront?"}),
                    await connection.post("/v1/ask", {"question": "x" * 5000}),
                    await connection.post("/v1/ask", {"wrong": "field"}),
                    await connection.post("/v1/ask", {"question": "What did AstraZeneca agree with CSPC?"})]
        finally:
            await connection.close()

    (ok, ok_body), (long, long_body), (bad, _), (again, again_body) = asyncio.run(three())
    assert ok == 200 and "$110m" in json.loads(ok_body)["text"]
    assert long in (413, 422) and "question" in json.loads(long_body)["error"].lower()
    assert bad == 422
    assert again == 200 and json.loads(again_body)["citations"]
