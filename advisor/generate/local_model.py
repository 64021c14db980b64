"""The local GGUF model in its own process, supervised, so a native crash in llama.cpp never takes the API down.

`ModelProcess` starts llama-cpp-python's OpenAI-compatible server (advisor.generate.model_server) on a free
loopback port, evaluates one short prompt before calling it ready (the start-up self-check; with the system
prompt, which also leaves it in the KV cache for every later answer), and restarts it with backoff when it
dies. A process that fails its first self-check is not retried: on a machine where the build cannot run, a
restart loop would only burn CPU. `LocalModelChat` is the ChatModel the LLM generator talks to; while the
process is not ready it fails at once with LLMError, and the caller answers from the sources instead of waiting.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from advisor.generate import LLMError
from advisor.generate.openai_compat import OpenAIChat
from advisor.models import ModelError

log = logging.getLogger(__name__)
State = Literal["stopped", "starting", "ready", "restarting", "failed"]
_CHECK_MESSAGES = [{"role": "user", "content": "Say OK."}]


@dataclass(frozen=True)
class ModelStatus:
    name: str
    state: State
    restarts: int
    detail: str
    pid: int | None

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "state": self.state, "restarts": self.restarts, "detail": self.detail}


def exit_reason(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ModelProcess:
    def __init__(self, name: str, resolve_model: Callable[[], Path], *, n_ctx: int = 4096, n_threads: int = 2,
                 n_batch: int = 512, flash_attn: bool = False, log_file: Path | None = None,
                 startup_timeout_s: float = 600.0, backoff_s: Sequence[float] = (1, 2, 5, 10, 30, 60),
                 max_failed_restarts: int = 8, host: str = "127.0.0.1") -> None:
        self.name = name
        self._resolve = resolve_model
        self.n_ctx, self.n_threads, self.n_batch, self.flash_attn = n_ctx, n_threads, n_batch, flash_attn
        self.log_file = log_file
        self.startup_timeout_s = startup_timeout_s
        self.backoff_s = tuple(backoff_s)
        self.max_failed_restarts = max_failed_restarts
        self.host = host
        self.check_messages: list[dict[str, str]] = list(_CHECK_MESSAGES)
        self.base_url = ""
        self.restarts = 0
        self._state: State = "stopped"
        self._detail = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._settled = threading.Event()  # set when the first start ends ready or failed

    # --- what callers see -------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self._state

    def status(self) -> ModelStatus:
        proc = self._proc
        return ModelStatus(self.name, self._state, self.restarts, self._detail,
                           proc.pid if proc is not None and proc.poll() is None else None)

    def start(self, *, wait: bool = False, timeout: float | None = None) -> ModelStatus:
        """Start supervising (once); with `wait`, return when the first start is ready or has failed."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._settled.clear()
                self._set("starting", "loading the model")
                self._thread = threading.Thread(target=self._supervise, name=f"model-{self.name}", daemon=True)
                self._thread.start()
        if wait:
            self._settled.wait(timeout)
        return self.status()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._terminate(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
        self._set("stopped", "")

    # --- the supervising thread -------------------------------------------------------------------
    def _set(self, state: State, detail: str) -> None:
        self._state, self._detail = state, detail

    def _supervise(self) -> None:
        failed_restarts = 0
        ever_ready = False
        while not self._stopping.is_set():
            try:
                path = self._resolve()
            except ModelError as exc:
                self._give_up(f"the local model cannot be loaded: {exc}")
                return
            problem = self._spawn_and_check(path)
            if self._stopping.is_set():
                return
            if problem is None:
                ever_ready, failed_restarts = True, 0
                self._set("ready", f"pid {self._proc.pid if self._proc else '?'}")
                self._settled.set()
                log.info("local model %s ready at %s", self.name, self.base_url)
                code = self._proc.wait() if self._proc else None
                if self._stopping.is_set():
                    return
                self.restarts += 1
                log.error("the local model process %s; answering from the sources while it restarts",
                          exit_reason(code))
                self._set("restarting", f"the model process {exit_reason(code)}")
            elif not ever_ready:
                self._give_up(f"the local model failed its start-up check ({problem}): serving answers from the "
                              "sources only. Rebuild llama.cpp for this CPU's baseline (`rm -rf ~/.cache/advisor/"
                              "wheels && make install`), see the model log, or set ADVISOR_GENERATOR=extractive")
                return
            else:
                failed_restarts += 1
                self.restarts += 1
                if failed_restarts >= self.max_failed_restarts:
                    self._give_up(f"the local model failed {failed_restarts} restarts in a row ({problem}): serving "
                                  "answers from the sources only; restart `advisor serve` to try again")
                    return
                self._set("restarting", problem)
            delay = self.backoff_s[min(failed_restarts, len(self.backoff_s) - 1)] if self.backoff_s else 0
            self._stopping.wait(delay)

    def _give_up(self, message: str) -> None:
        log.error("%s", message)
        self._terminate(5.0)
        self._set("failed", message)
        self._settled.set()

    def _spawn_and_check(self, path: Path) -> str | None:
        """Start the process and evaluate one short prompt; None when it answered, else what went wrong."""
        self._terminate(5.0)  # a process that failed its check may still be running
        port = _free_port(self.host)
        self.base_url = f"http://{self.host}:{port}"
        args = [sys.executable, "-m", "advisor.generate.model_server", "--model", str(path), "--host", self.host,
                "--port", str(port), "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads),
                "--n_threads_batch", str(self.n_threads), "--n_batch", str(self.n_batch),
                "--flash_attn", str(self.flash_attn), "--seed", "0", "--model_alias", self.name, "--verbose", "False",
                # its default cancels a streaming answer when the next request arrives; ours wait their turn
                "--interrupt_requests", "False"]
        env = {**os.environ, "ADVISOR_PARENT_PID": str(os.getpid())}
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        out = self._open_log()
        try:
            self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env)
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        return self._self_check()

    def _open_log(self):  # noqa: ANN202 - a file object or DEVNULL
        if self.log_file is None:
            return subprocess.DEVNULL
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        return self.log_file.open("ab")

    def _self_check(self) -> str | None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + self.startup_timeout_s
        with httpx.Client(timeout=httpx.Timeout(30.0, connect=2.0)) as client:
            while True:
                if proc.poll() is not None:
                    return f"the process {exit_reason(proc.returncode)} while loading"
                if self._stopping.is_set():
                    return "stopped"
                if time.monotonic() > deadline:
                    self._terminate(5.0)
                    return f"not listening after {self.startup_timeout_s:.0f} s"
                try:
                    if client.get(f"{self.base_url}/v1/models").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                self._stopping.wait(0.2)
            try:
                reply = client.post(f"{self.base_url}/v1/chat/completions", timeout=max(30.0, self.startup_timeout_s),
                                    json={"model": self.name, "messages": self.check_messages, "max_tokens": 2,
                                          "temperature": 0.0})
            except httpx.TransportError as exc:
                proc.poll()
                return (f"the process {exit_reason(proc.returncode)} while evaluating a test prompt"
                        if proc.returncode is not None else f"the test prompt failed: {exc!r}")
        if reply.status_code != 200 or not reply.json().get("choices"):
            self._terminate(5.0)
            return f"the test prompt was answered with HTTP {reply.status_code}: {reply.text[:200]}"
        return None

    def _terminate(self, timeout: float) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


class LocalModelChat:
    """A ChatModel over the supervised model process (OpenAI-compatible HTTP on loopback)."""

    def __init__(self, process: ModelProcess, *, timeout: float = 120.0) -> None:
        self.process = process
        self.name = process.name
        self.timeout = timeout
        self._client: OpenAIChat | None = None

    def warm_up(self, system_prompt: str | None = None) -> None:
        """Start the model process in the background; its self-check evaluates the system prompt, so every
        answer after it reuses that prefix. Answers don't wait for it: until it is ready they are extractive."""
        if system_prompt:
            self.process.check_messages = [{"role": "system", "content": system_prompt},
                                           {"role": "user", "content": "Hello."}]
        self.process.start(wait=False)

    def close(self) -> None:
        self.process.stop()
        if self._client is not None:
            self._client.close()

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float,
             stream: bool, timeout: float | None = None) -> Iterator[str]:
        if self.process.state == "stopped":  # used outside a server (CLI, scripts): wait for the model once
            self.process.start(wait=True)
        status = self.process.status()
        if status.state != "ready":
            raise LLMError(f"the local model is {status.state}" + (f" ({status.detail})" if status.detail else ""))
        url = f"{self.process.base_url}/v1"
        if self._client is None or not self._client.url.startswith(url):
            if self._client is not None:
                self._client.close()
            self._client = OpenAIChat(url, self.name, timeout=self.timeout)
        yield from self._client.chat(messages, max_tokens=max_tokens, temperature=temperature, stream=stream,
                                     timeout=timeout)
