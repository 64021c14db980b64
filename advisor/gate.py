"""The evidence gate: do the retrieved sources answer this question, or do we say they don't?

It reads the evidence by meaning as well as by words. Its features, each 0..1:

- `dense`: the question's cosine similarity with the best-matching chunk (from retrieval);
- `coverage`: how much of the question's weighted terms the best evidence sentence holds, read in context
  (from the extractive selection);
- `heading`: the question's cosine similarity with the best of the top hits' section headings, read under
  their document title ("What a NewCo deal is" answers "what's a NewCo deal?" in other words);
- `sentence`: the question's cosine similarity with the best-matching sentence of the top hits (the answer is a
  sentence, and a chunk can match a question on its topic while no sentence of it says what was asked);
- `withheld` (a public caller only): how much nearer the question is to a document the caller may not see than to
  any it may, in cosine similarity (0 when no nearer): "what did you recommend to the client…" is about what the
  firm's internal notes hold, however much public writing shares its topic;
- `missing`: how much the question's meaning rests on the terms none of the top hits holds, read by the embedder
  (1 - the similarity of the question with itself without the term; the largest): "how many employees does
  Kailera have?" finds Kailera and no employees (0.17), while "why are Chinese companies apparently so good at
  ADCs?" misses only "apparently" (0.003), a word of manner that says nothing about what the sources must hold.

A calibrated gate is a logistic model over these features, fitted by `python -m evals.calibrate` on labelled
questions (answerable or not) and stored per embedder in `advisor/data/calibration.json`; its score is the
probability that the sources answer the question. An embedder with no fitted model (the hash embedder of the
tests) gets the older linear score over `dense` and `coverage`, whose threshold a setting may override.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advisor.embed import Embedder
from advisor.types import Hit

log = logging.getLogger(__name__)
CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.json"
INDEX_CALIBRATION = "calibration.json"  # an index's own calibration, in its data dir (`advisor calibrate`)
UNCALIBRATED_THRESHOLD = 0.35
FEATURES = ("dense", "coverage", "heading", "sentence", "missing", "withheld")
HEADING_HITS = 3  # the headings of this many top hits are compared with the question


@dataclass(frozen=True)
class Gate:
    """`weights` and `bias` make a logistic model (score = probability); without them the score is
    `dense_weight * dense + (1 - dense_weight) * coverage`. Either way: covered when score >= threshold."""

    threshold: float
    dense_weight: float = 0.5
    source: str = "uncalibrated default"
    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0

    @property
    def semantic(self) -> bool:
        """Whether the gate reads the heading feature (so the advisor computes it)."""
        return bool(self.weights.get("heading"))

    def score(self, features: dict[str, float]) -> float:
        if not self.weights:
            return self.dense_weight * features.get("dense", 0.0) + (1 - self.dense_weight) * features.get(
                "coverage", 0.0)
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-z))


def fingerprint(entry: dict) -> str:
    """What identifies a fitted gate: its weights and bias (an index's calibration is only valid for the fit it
    was made from)."""
    return json.dumps({"weights": entry.get("weights", {}), "bias": entry.get("bias", 0.0)}, sort_keys=True)


def fitted_entry(embedder_name: str, path: Path = CALIBRATION_FILE) -> dict | None:
    """The calibration file's entry for this embedder (None when the file or the entry is absent)."""
    return json.loads(path.read_text()).get("embedders", {}).get(embedder_name) if path.is_file() else None


def load_gate(embedder_name: str, override: float | None, path: Path = CALIBRATION_FILE,
              index_path: Path | None = None) -> Gate:
    """The gate fitted for this embedder: the index's own calibration (`advisor calibrate`, in `index_path`) when
    there is one made from the current packaged fit, else the packaged one; `override` (ADVISOR_MIN_EVIDENCE_SCORE)
    replaces its threshold."""
    packaged = fitted_entry(embedder_name, path)
    entry, where = packaged, path
    if index_path is not None:
        own = fitted_entry(embedder_name, index_path)
        if own and packaged and fingerprint(own) == fingerprint(packaged):
            entry, where = own, index_path
        elif own:
            log.warning("%s was calibrated for another fit of the evidence gate: using the packaged gate; run "
                        "`advisor calibrate` again", index_path)
    if not entry:
        if override is None:
            log.warning("no calibrated evidence gate for embedder %s; using a linear score >= %.2f", embedder_name,
                        UNCALIBRATED_THRESHOLD)
        return Gate(UNCALIBRATED_THRESHOLD if override is None else override,
                    source="uncalibrated default" if override is None else "ADVISOR_MIN_EVIDENCE_SCORE")
    weights = {k: float(v) for k, v in entry.get("weights", {}).items() if k in FEATURES}
    source = "ADVISOR_MIN_EVIDENCE_SCORE" if override is not None else \
        f"calibrated on {entry.get('dataset', '?')}" + ("" if where == path else f" ({where})")
    return Gate(float(entry["threshold"]) if override is None else override,
                float(entry.get("dense_weight", 0.5)), source, weights, float(entry.get("bias", 0.0)))


class TextVectors:
    """Vectors of short texts the question is compared with (section headings, evidence sentences), computed once
    and kept (an LRU of `size` texts): they repeat across questions, and a warm cache makes the comparison a dot
    product. Texts not yet cached are embedded when a question needs them."""

    def __init__(self, embedder: Embedder, size: int = 100_000) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._warming: threading.Thread | None = None

    def similarities(self, vector: np.ndarray, texts: Sequence[str]) -> list[float]:
        """The cosine similarity of `vector` with each text (0.0 for an empty text)."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t and t not in self._vectors))
        if missing:
            self._store(missing, self._embedder.embed(missing))
        query = np.asarray(vector, dtype=np.float32)
        out = []
        with self._lock:
            for text in texts:
                vec = self._vectors.get(text)
                if vec is None:
                    out.append(0.0)
                    continue
                self._vectors.move_to_end(text)
                out.append(float(vec @ query))
        return out

    def _store(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            for text, vec in zip(texts, vectors, strict=True):
                self._vectors[text] = np.asarray(vec, dtype=np.float32)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)

    def warm_in_background(self, load: Callable[[], Iterable[str]]) -> None:
        """Warm the cache from `load()` in a daemon thread, stopped (between batches) at `stop()` or at exit."""
        def run() -> None:
            started = time.perf_counter()
            try:
                n = self.warm(load())
            except Exception:  # noqa: BLE001 - a cold cache only costs time; questions embed what they need
                log.exception("warming the text-vector cache failed; texts will be embedded as questions need them")
                return
            log.info("text-vector cache warm: %d headings and sentences embedded in %.1f s", n,
                     time.perf_counter() - started)

        self._warming = threading.Thread(target=run, name="warm-text-vectors", daemon=True)
        self._warming.start()
        atexit.register(self.stop)  # a model call cut off by interpreter exit aborts the process

    @property
    def warming(self) -> bool:
        """Whether the background warm-up is still running."""
        return self._warming is not None and self._warming.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background warm-up has finished (or `timeout` seconds)."""
        if self._warming is not None:
            self._warming.join(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._warming is not None and self._warming is not threading.current_thread():
            self._warming.join(timeout)

    def warm(self, texts: Iterable[str], batch: int = 32) -> int:
        """Embed these texts ahead of the questions that will need them (at most `size`, in batches); returns how
        many were embedded."""
        todo_all = list(dict.fromkeys(t for t in texts if t))[: self._size]
        done = 0
        for lo in range(0, len(todo_all), batch):
            if self._stop.is_set():
                break
            with self._lock:
                todo = [t for t in todo_all[lo:lo + batch] if t not in self._vectors]
            if todo:
                self._store(todo, self._embedder.embed(todo))
                done += len(todo)
        return done


def heading_text(hit: Hit) -> str:
    """A hit's section heading as the question is compared with it: under its document title."""
    title = str(hit.chunk.meta.get("title", "")).strip()
    section = hit.chunk.section.strip()
    return f"{title}. {section}" if section and section != title else title


def features(dense: float, coverage: float, heading: float = 0.0, missing: float = 0.0,
             sentence: float = 0.0, withheld: float = 0.0) -> dict[str, float]:
    """The gate's features for one question (see the module docstring)."""
    return {"dense": float(dense), "coverage": float(coverage), "heading": float(heading), "sentence": float(sentence),
            "missing": float(missing), "withheld": float(withheld)}
