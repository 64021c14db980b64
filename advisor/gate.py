"""The evidence gate: do the retrieved sources answer this question, or do we say they don't?

It reads the evidence by meaning as well as by words. Its features, each 0..1:

- `dense`: the question's cosine similarity with the best-matching chunk (from retrieval);
- `coverage`: how much of the question's weighted terms the best evidence sentence holds, read in context
  (from the extractive selection);
- `heading`: the question's cosine similarity with the best of the top hits' section headings, read under
  their document title ("What a NewCo deal is" answers "what's a NewCo deal?" in other words);
- `missing`: the weight share of the question's most important term that none of the top hits holds ("how many
  employees does Kailera have?" finds Kailera, and no employees).

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advisor.embed import Embedder
from advisor.types import Hit

log = logging.getLogger(__name__)
CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.json"
INDEX_CALIBRATION = "calibration.json"  # an index's own calibration, in its data dir (`advisor calibrate`)
UNCALIBRATED_THRESHOLD = 0.35
FEATURES = ("dense", "coverage", "heading", "missing")
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


class Headings:
    """The question's similarity to the top hits' section headings. A heading's vector is computed once and kept
    (an LRU of `size` headings): headings are few and short, and repeat across a section's chunks."""

    def __init__(self, embedder: Embedder, size: int = 20_000) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._warming: threading.Thread | None = None

    @staticmethod
    def text(hit: Hit) -> str:
        title = str(hit.chunk.meta.get("title", "")).strip()
        section = hit.chunk.section.strip()
        return f"{title}. {section}" if section and section != title else title

    def similarities(self, vector: np.ndarray, hits: Sequence[Hit]) -> list[float]:
        texts = [self.text(h) for h in hits]
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t and t not in self._vectors))
        if missing:
            computed = self._embedder.embed(missing)
            with self._lock:
                for text, vec in zip(missing, computed, strict=True):
                    self._vectors[text] = np.asarray(vec, dtype=np.float32)
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
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

    def warm_in_background(self, load: Callable[[], Sequence[Hit]]) -> None:
        """Warm the cache from `load()` in a daemon thread, stopped (between batches) at `stop()` or at exit."""
        def run() -> None:
            started = time.perf_counter()
            try:
                n = self.warm(load())
            except Exception:  # noqa: BLE001 - a cold cache only costs time; questions embed what they need
                log.exception("warming the heading cache failed; headings will be embedded as questions need them")
                return
            log.info("heading cache warm: %d headings embedded in %.1f s", n, time.perf_counter() - started)

        self._warming = threading.Thread(target=run, name="warm-headings", daemon=True)
        self._warming.start()
        atexit.register(self.stop)  # a model call cut off by interpreter exit aborts the process

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._warming is not None and self._warming is not threading.current_thread():
            self._warming.join(timeout)

    def warm(self, hits: Sequence[Hit], batch: int = 32) -> int:
        """Embed the headings of these hits ahead of the questions that will need them (at most `size`, in
        batches); returns how many were embedded."""
        texts = list(dict.fromkeys(t for t in (self.text(h) for h in hits) if t))[: self._size]
        done = 0
        for lo in range(0, len(texts), batch):
            if self._stop.is_set():
                break
            with self._lock:
                todo = [t for t in texts[lo:lo + batch] if t not in self._vectors]
            if todo:
                vectors = self._embedder.embed(todo)
                with self._lock:
                    for text, vec in zip(todo, vectors, strict=True):
                        self._vectors[text] = np.asarray(vec, dtype=np.float32)
                done += len(todo)
        return done

    def best(self, vector: np.ndarray, hits: Sequence[Hit], top: int = HEADING_HITS) -> float:
        sims = self.similarities(vector, hits[:top])
        return max(sims, default=0.0)


def features(dense: float, coverage: float, heading: float = 0.0, missing: float = 0.0) -> dict[str, float]:
    """The gate's features for one question (see the module docstring)."""
    return {"dense": float(dense), "coverage": float(coverage), "heading": float(heading), "missing": float(missing)}
