"""What every public suite shares: finding the datasets, stable sampling, cached indexes, result shape.

A suite turns a public dataset into documents, indexes them once per (suite, corpus subset, embedder, ingest version)
under `cache_dir`, and measures ours and the naive baseline on the same documents in the same run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from advisor.advisor import Advisor
from advisor.config import Audience, Settings
from advisor.embed import Embedder, make_embedder
from advisor.ingest.indexer import INGEST_VERSION
from advisor.retrieve import Filters, HybridRetriever
from evals.baseline import NaiveBaseline, baseline_for
from evals.metrics import percentile
from evals.system import AdvisorSystem, Retrieved

log = logging.getLogger(__name__)

DATASETS_ENV = "ADVISOR_EVAL_DATASETS"
REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")
CALIBRATION_QUESTIONS = 100  # labelled questions held apart from a sample to choose the gate threshold on


def default_datasets_dir() -> Path:
    """`$ADVISOR_EVAL_DATASETS`, else `../shared/datasets` next to the repository."""
    env = os.environ.get(DATASETS_ENV)
    return Path(env) if env else REPO.parent / "shared" / "datasets"


def missing(datasets_dir: Path, *relative: str) -> str | None:
    """A skip reason naming the first absent path, or None when all are present."""
    for rel in relative:
        path = datasets_dir / rel
        if not path.exists():
            return (f"dataset file {path} not found: point --datasets (or ${DATASETS_ENV}) at the folder "
                    "holding the public datasets")
    return None


def result(suite: str, *, status: str = "ok", reason: str = "", sample: int | None, n_queries: int = 0,
           systems: dict[str, dict[str, float]] | None = None, notes: list[str] | None = None,
           per_query: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The shape the runner, report and compare consume."""
    out: dict[str, Any] = {"suite": suite, "status": status, "reason": reason, "sample": sample,
                           "n_queries": n_queries, "systems": systems or {}, "notes": notes or []}
    if per_query is not None:
        out["per_query"] = per_query
    return out


def skipped(suite: str, reason: str, sample: int | None) -> dict[str, Any]:
    return result(suite, status="skipped", reason=reason, sample=sample)


def stable_key(suite: str, item_id: str) -> str:
    return hashlib.sha1(f"{suite}:{item_id}".encode()).hexdigest()


def stable_sample(suite: str, items: Sequence[T], sample: int | None, key: Callable[[T], str]) -> list[T]:
    """Seeded and stable: items ordered by a hash of (suite, id), the first `sample` kept.

    A smaller sample is a prefix of a larger one, and adding items to the dataset does not reshuffle the rest.
    """
    if sample is not None and sample <= 0:
        raise ValueError(f"sample must be greater than 0, got {sample}")
    ordered = sorted(items, key=lambda item: stable_key(suite, key(item)))
    return ordered if sample is None else ordered[:sample]


def slug(text: str, limit: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit] or "doc"


@dataclass(frozen=True)
class CorpusDoc:
    """One dataset document as the advisor will ingest it (a Markdown file with front matter)."""

    doc_id: str
    title: str
    text: str
    published: str = ""
    doc_type: str = "article"


def corpus_file(folder: Path, doc_id: str, fmt: str) -> Path:
    """Where `write_corpus` puts a document: its id as a slug, a digest (two ids may slug alike), the format."""
    return folder / f"{slug(doc_id)}-{hashlib.sha1(doc_id.encode()).hexdigest()[:8]}.{fmt}"


def write_corpus(docs: Iterable[CorpusDoc], folder: Path, fmt: str = "md") -> list[Path]:
    """One file per document: `.md` with front matter giving its dataset id, title and `audience: public`, or with
    `fmt="pdf"` the text printed as a paged PDF (`evals.suites.pdf`) with the same metadata in a sidecar.

    Files are rewritten only when their content changes, so a re-run leaves the ingest nothing to do; files of
    documents no longer in the set are deleted. Returns the paths, one per document.
    """
    if fmt not in ("md", "pdf"):
        raise ValueError(f"unknown corpus format {fmt!r}: use 'md' or 'pdf'")
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    written: set[Path] = set()
    for doc in docs:
        if "#" in doc.doc_id:
            raise ValueError(f"document id {doc.doc_id!r} contains '#', which chunk ids reserve")
        front: dict[str, Any] = {"id": doc.doc_id, "title": doc.title, "audience": "public",
                                 "doc_type": doc.doc_type}
        if doc.published:
            front["published"] = doc.published
        meta = yaml.safe_dump(front, allow_unicode=True, sort_keys=True)
        path = corpus_file(folder, doc.doc_id, fmt)
        if fmt == "md":
            files = {path: f"---\n{meta}---\n\n{doc.text.strip()}\n".encode()}
        else:
            from evals.suites.pdf import render_pdf
            files = {path: render_pdf(doc.title, doc.text), path.with_name(path.name + ".meta.yaml"): meta.encode()}
        for target, content in files.items():
            if not target.is_file() or target.read_bytes() != content:
                target.write_bytes(content)
        written.update(files)
        paths.append(path)
    for stale in {p for p in folder.iterdir() if p.is_file()} - written:
        stale.unlink()
    return paths


def corpus_label(doc_ids: Iterable[str], full: bool) -> str:
    """'full', or a digest of the subset's document ids: a different subset gets a different cache."""
    if full:
        return "full"
    ids = sorted(doc_ids)
    return f"subset{len(ids)}-{hashlib.sha1(chr(10).join(ids).encode()).hexdigest()[:10]}"


@dataclass
class Systems:
    """Ours and (optionally) the baseline over one cached corpus, with what building them cost."""

    advisor: Advisor
    ours: AdvisorSystem
    baseline: NaiveBaseline | None
    root: Path
    index_stats: dict[str, dict[str, float]] = field(default_factory=dict)

    def all(self) -> list[Any]:
        return [self.ours] + ([self.baseline] if self.baseline is not None else [])


def held_apart(suite: str, items: Sequence[dict[str, Any]], sample: int | None,
               answerable: Callable[[dict[str, Any]], bool], calibration: str = "questions") -> list[dict[str, Any]]:
    """Up to `CALIBRATION_QUESTIONS` of a suite's questions ({"id", "question", …}) outside the measured sample (the
    next ones in the stable order), labelled, to choose the gate's threshold on this suite's index the way a user
    would with `advisor calibrate --labelled`; none when `calibration` is "documents" or the whole suite is measured
    (nothing is left to hold apart)."""
    if calibration != "questions" or sample is None:
        return []
    rest = stable_sample(suite, items, None, lambda q: q["id"])[sample:sample + CALIBRATION_QUESTIONS]
    return [{"question": q["question"], "answerable": bool(answerable(q)), "audience": "public"} for q in rest]


def build_systems(settings: Settings, *, suite: str, docs: Sequence[CorpusDoc], label: str, cache_dir: Path,
                  with_baseline: bool, embedder: Embedder | None = None, calibrate: bool = True,
                  labelled: Sequence[dict[str, Any]] = (), fmt: str = "md") -> Systems:
    """Index `docs` for ours and the baseline under cache_dir/<suite>-<label>-<embedder>-ingest<version>; with
    `calibrate`, our gate's threshold is first fitted to that index, as `advisor calibrate` does: on `labelled`
    questions held apart from the measured ones when there are any, else from the index's own documents. `fmt`: the
    documents' file format (`write_corpus`)."""
    embedder = embedder or make_embedder(settings)
    warm = getattr(embedder, "warm_up", None)
    if warm is not None:
        warm()  # load the model outside the timed indexing
    root = cache_dir / f"{suite}-{label}-{slug(embedder.name, 40)}-ingest{INGEST_VERSION}"
    files = root / "docs"
    started = time.perf_counter()
    paths = write_corpus(docs, files, fmt)
    local = settings.model_copy(update={"data_dir": root / "advisor"})
    advisor = Advisor.from_settings(local, embedder=embedder)
    # the files one by one as well as their folder: a folder walk skips everything under a hidden directory (a
    # cache under .advisor/ would silently index nothing), and the folder lets prune drop stale documents
    report = advisor.ingest([files, *paths], prune=True)
    if not report.ok or report.files != len(docs):
        raise RuntimeError(f"ingesting the {suite} corpus from {files} failed: {report.files} of {len(docs)} files "
                           f"read; {report.failed[:3]} {report.record_errors[:3]}")
    advisor.warm_up()
    stats = {"advisor": {"index_s": round(time.perf_counter() - started, 2), "embedded": float(report.embedded),
                         "chunks": float(advisor.store.catalog.counts()["chunks"])}}
    calibration = self_calibrate(advisor, labelled) if calibrate else None
    if calibration is not None:
        stats["advisor"].update(gate_threshold=float(calibration["threshold"]),
                                packaged_threshold=float(calibration["packaged_threshold"]),
                                calibration_questions=float(len(labelled) if calibration["method"] == "questions"
                                                            else 0))
    baseline = None
    if with_baseline:
        started = time.perf_counter()
        baseline = baseline_for(advisor, root / "baseline")
        stats["naive-baseline"] = {"index_s": round(time.perf_counter() - started, 2),
                                   "embedded": float(baseline.embeddings.documents_embedded),
                                   "chunks": float(baseline.chunks)}
    return Systems(advisor, AdvisorSystem(advisor), baseline, root, stats)


def self_calibrate(advisor: Advisor, labelled: Sequence[dict[str, Any]] = ()) -> dict[str, Any] | None:
    """This index's own gate calibration (on `labelled` questions when given, else from its documents): reused when
    it was made the same way for the index's current generation; None when the embedder has no fitted gate to
    calibrate (the hash embedder of the tests)."""
    from advisor.calibrate import BUDGET_CONFIDENCE, MAX_FALSE_REFUSAL, calibrate_index, calibrate_on_questions
    from advisor.gate import INDEX_CALIBRATION, fingerprint, fitted_entry

    label = f"{len(labelled)} questions held apart from the measured ones"
    entry = fitted_entry(advisor.embedder.name, Path(advisor.settings.data_dir) / INDEX_CALIBRATION)
    packaged = fitted_entry(advisor.embedder.name)
    same_way = entry is not None and (entry.get("dataset", "").startswith(label)
                                      and entry.get("max_false_refusal") == MAX_FALSE_REFUSAL
                                      and entry.get("budget_confidence") == BUDGET_CONFIDENCE if labelled
                                      else entry.get("method") == "documents")
    if entry and packaged and same_way and entry.get("generation") == advisor.store.catalog.generation \
            and fingerprint(entry) == fingerprint(packaged):
        return entry
    try:
        if labelled:
            try:
                return calibrate_on_questions(advisor, labelled, label=label)
            except ValueError as exc:
                log.info("not calibrated on the held-apart questions (%s): from the documents instead", exc)
        return calibrate_index(advisor)
    except ValueError as exc:
        log.info("gate not calibrated to this index: %s", exc)
        return None


class DeepRetrieval:
    """Our hybrid retrieval over the same index with a deeper candidate pool (for recall at depth, e.g. @100)."""

    def __init__(self, systems: Systems, candidates: int) -> None:
        base = systems.advisor
        self.name = systems.ours.name
        self.retriever = HybridRetriever(base.store, base.embedder, rrf_k=base.settings.rrf_k,
                                         candidates=max(candidates, base.settings.candidates))

    def retrieve(self, question: str, *, k: int, audience: Audience = "internal") -> list[Retrieved]:
        hits = self.retriever.search(question, Filters(audience=audience), k)
        return [Retrieved(h.chunk.doc_id, h.chunk.text, h.score) for h in hits]


class Stopwatch:
    """Per-system latencies in milliseconds."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = {}

    def time(self, name: str, fn: Callable[[], T]) -> T:
        started = time.perf_counter()
        out = fn()
        self.ms.setdefault(name, []).append((time.perf_counter() - started) * 1e3)
        return out

    def summary(self, name: str) -> dict[str, float]:
        values = self.ms.get(name, [])
        return {"latency_p50_ms": round(percentile(values, 50), 2), "latency_p95_ms": round(percentile(values, 95), 2),
                "query_s": round(sum(values) / 1e3, 2)}


def refusal_metrics(refused: Sequence[bool], should_refuse: Sequence[bool]) -> dict[str, float]:
    """Refusal as the positive class: precision, recall, and the share of all questions refused.

    A system that never refuses has no refusals to be precise about: its precision is reported as 0.
    """
    tp = sum(1 for r, s in zip(refused, should_refuse, strict=True) if r and s)
    n_refused = sum(refused)
    n_should = sum(should_refuse)
    precision = tp / n_refused if n_refused else 0.0
    recall = tp / n_should if n_should else 0.0
    return {"refusal_precision": round(precision, 4), "refusal_recall": round(recall, 4),
            "refusal_f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
            "refusal_rate": round(n_refused / len(refused), 4) if refused else 0.0}


def refused_when_first(refused: Sequence[bool], first: Sequence[bool]) -> dict[str, float]:
    """Of the answerable questions whose evidence retrieval ranked first, the share refused: the gate's own
    mistakes, where retrieval did its part (`first`: per answerable question, whether its evidence ranked first)."""
    picked = [r for r, f in zip(refused, first, strict=True) if f]
    return {"evidence_first": float(len(picked)),
            "refused_when_evidence_first": round(sum(picked) / len(picked), 4) if picked else 0.0}


_WORD = re.compile(r"[a-z0-9]+")


def norm_words(text: str) -> list[str]:
    """Lower-case alphanumeric tokens: punctuation, case and whitespace differences do not count."""
    return _WORD.findall(text.lower())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether any gold answer appears in `text` as a whole run of normalised words."""
    haystack = f" {' '.join(norm_words(text))} "
    return any(words and f" {' '.join(words)} " in haystack for words in (norm_words(a) for a in answers))


def mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def cache_note(stats: dict[str, dict[str, float]]) -> str:
    parts = [f"{name}: {int(s['chunks'])} chunks, {int(s['embedded'])} embedded in this run, {s['index_s']:.1f} s"
             for name, s in stats.items()]
    return "index " + "; ".join(parts)
