"""The local model in its own process, for real (SmolLM2 through llama-cpp-python's server): the start-up
self-check, restarts after a real signal, and an API that keeps answering, with citations, while the model dies.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from advisor.generate import LLMError
from advisor.generate.local_model import LocalModelChat, ModelProcess, exit_reason
from tests.conftest import DEALS_HEADER, REPO, running_server, write_article

pytestmark = pytest.mark.model
HELLO = [{"role": "user", "content": "Name a colour."}]


def _wait(predicate, timeout: float, what: str) -> None:  # noqa: ANN001 - a callable returning truthy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_exit_reasons_name_the_signal() -> None:
    assert exit_reason(-signal.SIGSEGV) == "killed by SIGSEGV"
    assert exit_reason(-signal.SIGILL) == "killed by SIGILL"
    assert exit_reason(1) == "exited with status 1"


def test_a_killed_model_process_is_restarted_and_answers_again(smol_gguf: Path, tmp_path: Path) -> None:
    process = ModelProcess("smol", lambda: smol_gguf, n_ctx=1024, log_file=tmp_path / "model.log",
                           backoff_s=(0.5,), startup_timeout_s=120)
    chat = LocalModelChat(process, timeout=60)
    try:
        status = process.start(wait=True, timeout=180)
        assert status.state == "ready" and status.pid, status
        first = "".join(chat.chat(HELLO, max_tokens=8, temperature=0.0, stream=True))
        assert first.strip()
        os.kill(status.pid, signal.SIGKILL)
        # while it is down, a call fails at once (the caller answers from the sources), it does not hang
        _wait(lambda: process.state != "ready", 10, "the supervisor to notice the kill")
        if process.state != "ready":
            with pytest.raises(LLMError, match="local model is (restarting|starting)"):
                list(chat.chat(HELLO, max_tokens=8, temperature=0.0, stream=True))
        _wait(lambda: process.state == "ready", 120, "the model process to come back")
        again = process.status()
        assert again.restarts == 1 and again.pid != status.pid
        # greedy decoding: the restarted process writes what the first one did
        assert "".join(chat.chat(HELLO, max_tokens=8, temperature=0.0, stream=True)) == first
    finally:
        chat.close()
    assert process.state == "stopped" and process.status().pid is None


def test_a_model_that_fails_its_self_check_is_not_served_and_the_log_says_what_to_do(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + os.urandom(4096))  # the magic, then garbage: llama.cpp cannot load it
    process = ModelProcess("broken", lambda: broken, log_file=tmp_path / "model.log", backoff_s=(0.1,))
    with caplog.at_level(logging.ERROR, logger="advisor.generate.local_model"):
        status = process.start(wait=True, timeout=120)
    assert status.state == "failed", status
    assert "start-up check" in status.detail and "ADVISOR_GENERATOR=extractive" in status.detail
    assert status.restarts == 0  # a model that never ran is not restarted in a loop
    lines = [r.getMessage() for r in caplog.records if "start-up check" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0]
    with pytest.raises(LLMError, match="local model is failed"):
        list(LocalModelChat(process).chat(HELLO, max_tokens=4, temperature=0.0, stream=False))


# --- the API over HTTP, with the model process killed under it ----------------------------------------------------
@pytest.fixture(scope="module")
def model_server(tmp_path_factory: pytest.TempPathFactory, smol_gguf: Path) -> Iterator[tuple[str, int]]:
    """`advisor serve` with the local model (SmolLM2) in its own process; yields the URL and the server's pid."""
    root = tmp_path_factory.mktemp("model-api")
    corpus = root / "corpus"
    corpus.mkdir()
    write_article(corpus, "az-cspc", """
        ## The deal
        In June 2025 AstraZeneca agreed an AI research partnership with CSPC Pharmaceutical worth up to $5.3bn.
        Only $110m of the AstraZeneca and CSPC deal was paid upfront, with the rest tied to milestones.

        ## The platform
        CSPC contributes an AI platform that combines physics-based modelling with machine learning.
        The collaboration targets small molecules, with immunology as a focus.
        """)
    (corpus / "deals.csv").write_text(DEALS_HEADER)
    env = {**os.environ, "ADVISOR_DATA_DIR": str(root / "data"), "ADVISOR_EMBEDDER": "hash",
           "ADVISOR_MIN_EVIDENCE_SCORE": "0.25", "PYTHONPATH": str(REPO), "ADVISOR_UI_ENABLED": "false",
           "ADVISOR_ANONYMOUS_REQUESTS_PER_MINUTE": "1000", "ADVISOR_GENERATOR": "llamacpp",
           "ADVISOR_LLM_MODEL": str(smol_gguf), "ADVISOR_LLM_N_CTX": "2048", "ADVISOR_LLM_MAX_TOKENS": "200",
           "ADVISOR_LLM_N_THREADS": "1"}
    ingest = subprocess.run([sys.executable, "-m", "advisor.cli", "ingest", str(corpus)], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    with running_server(env, root / "server.log") as served:
        yield served


def _model(url: str) -> dict:
    return httpx.get(url + "/healthz", timeout=5).json()["model"]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _stream(url: str, body: dict) -> Iterator[tuple[str, object]]:
    with httpx.stream("POST", url + "/v1/ask/stream", json=body, timeout=120) as response:
        assert response.status_code == 200
        event = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                yield str(event), json.loads(line[5:])


def test_a_prospect_is_answered_at_once_while_the_model_loads(model_server: tuple[str, int]) -> None:
    url, _ = model_server
    answer = httpx.post(url + "/v1/ask", json={"question": "How much did AstraZeneca pay CSPC upfront?"},
                        timeout=30).json()
    assert answer["covered"] and "$110m" in answer["text"] and answer["writer"] == "extractive"


def test_killing_the_model_mid_answer_leaves_a_complete_cited_answer_and_a_running_api(
        model_server: tuple[str, int]) -> None:
    url, server_pid = model_server
    _wait(lambda: _model(url)["state"] == "ready", 180, "the model process to pass its self-check")
    model_pids = _children(server_pid)
    assert len(model_pids) == 1, model_pids
    question = {"question": "What did AstraZeneca agree with CSPC in June 2025, and what was paid upfront?",
                "writer": "llm"}
    events: list[tuple[str, object]] = []
    for kind, data in _stream(url, question):
        events.append((kind, data))
        if kind == "sources":  # the model is being asked now: kill it under the answer
            time.sleep(0.3)
            os.kill(model_pids[0], signal.SIGKILL)
    kinds = [k for k, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "answer"
    answer = events[-1][1]
    assert isinstance(answer, dict)
    assert "".join(str(d) for k, d in events if k == "delta") == answer["text"]
    assert answer["covered"] and answer["citations"] and "$110m" in answer["text"]
    assert any("language model was unavailable" in n for n in answer["notes"]), answer["notes"]
    cited = {int(n) for g in re.findall(r"\[([\d, ]+)\]", answer["text"]) for n in g.split(",")}
    assert cited == {c["n"] for c in answer["citations"]}
    # the API is still up, reports the restart, and the model answers again
    assert httpx.get(url + "/healthz", timeout=5).status_code == 200
    _wait(lambda: _model(url)["state"] == "ready" and _model(url)["restarts"] == 1, 180, "the restarted model")
    assert _children(server_pid) != model_pids
    metrics = httpx.get(url + "/metrics", timeout=5).text
    assert re.search(r'advisor_model_restarts_total\{model="smollm2[^"]*"\} 1\.0', metrics), metrics
    assert re.search(r'advisor_model_ready\{model="smollm2[^"]*"\} 1\.0', metrics)
    later = httpx.post(url + "/v1/ask", json=question, timeout=120).json()
    assert later["covered"] and "first_token_ms" in later["timings_ms"]  # the model streamed this one
    assert not any("unavailable" in n for n in later["notes"])


def test_chat_completions_choose_the_writer_by_model_name(model_server: tuple[str, int]) -> None:
    url, _ = model_server
    names = [m["id"] for m in httpx.get(url + "/v1/models", timeout=5).json()["data"]]
    assert names == ["advisor", "advisor-extractive", "advisor-llm"]
    _wait(lambda: _model(url)["state"] == "ready", 180, "the model")
    body = {"messages": [{"role": "user", "content": "How much did AstraZeneca pay CSPC upfront?"}]}
    quick = httpx.post(url + "/v1/chat/completions", json={**body, "model": "advisor-extractive"}, timeout=60).json()
    assert "$110m" in quick["choices"][0]["message"]["content"]
    assert quick["advisor"]["writer"] == "extractive"
    slow = httpx.post(url + "/v1/chat/completions", json={**body, "model": "advisor-llm"}, timeout=120).json()
    assert slow["advisor"]["covered"] and slow["citations"]
    notes = slow["advisor"]["notes"]
    assert not any("unavailable" in n for n in notes), notes
    # the model wrote it, or wrote something verification dropped entirely (SmolLM2 is tiny): asked either way
    assert slow["advisor"]["writer"] != "extractive" or any("model's draft" in n for n in notes), slow
