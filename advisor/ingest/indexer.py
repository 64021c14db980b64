"""Incremental, idempotent, crash-safe ingestion.

The catalog is the truth; Chroma and BM25 are derived. Order of writes per batch: upsert vectors,
then commit the catalog, then delete stale vectors. A run killed anywhere leaves the catalog
describing either the old or the new state of each file, and a `dirty` flag that makes the next
run reconcile Chroma with the catalog before doing anything else.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from advisor.embed import Embedder
from advisor.index.catalog import WriterBusy
from advisor.index.store import IndexStore
from advisor.ingest.chunker import chunk_document
from advisor.ingest.loaders import is_supported, load_file
from advisor.ingest.meta import LoadError
from advisor.types import Chunk, Document

log = logging.getLogger(__name__)
FaultHook = Callable[[str], None]
# Bump when loaders or chunking change what a file becomes: every file is then re-read (chunks whose
# text and metadata did not change keep their ids and are not re-embedded).
INGEST_VERSION = "10"  # 10: in a PDF or text file, only a Markdown heading ("# Title") starts a block, not any "#"
# (9: a word hyphenated at the margin of a PDF or text file made whole)
# (8: PDF headings told by type size and weight)
# (7: tables of figures in PDFs and text files read as tables)
# (6: PDF running headers and footers dropped, sentences joined across pages, page turns kept)
# (5: hard-wrapped Markdown and text keep whole sentences; 4: "incl." ends no sentence)


@dataclass
class IngestReport:
    files: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    duplicates: int = 0
    moved: int = 0
    removed: int = 0
    missing: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    record_errors: list[str] = field(default_factory=list)
    chunks_added: int = 0
    chunks_updated: int = 0
    chunks_removed: int = 0
    chunks_unchanged: int = 0
    embedded: int = 0
    reused: int = 0  # vectors an interrupted run had stored, taken over instead of embedded again
    repaired: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.record_errors

    def summary(self) -> str:
        return (
            f"{self.files} files ({self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.duplicates} duplicate, {self.removed} removed, {len(self.failed)} failed); chunks: "
            f"{self.chunks_added} added, {self.chunks_updated} updated, {self.chunks_removed} removed, "
            f"{self.chunks_unchanged} skipped unchanged; {self.embedded} embedded"
            + (f", {self.reused} reused from an interrupted run" if self.reused else "") + f"; {self.seconds:.2f} s"
        )


@dataclass
class _Pending:
    path: str
    content_hash: str
    docs: list[Document]
    chunks: list[Chunk]
    errors: list[str]
    is_new: bool


IngestBusy = WriterBusy  # the name callers know


def _key(path: Path) -> str:
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def walk(paths: Sequence[Path], report: IngestReport) -> Iterator[Path]:
    for root in paths:
        if root.is_file():
            yield root
        elif root.is_dir():
            for path in sorted(root.rglob("*")):
                # hidden files and folders *inside* the folder given are skipped; where that folder lives is not
                # our business (a corpus under ~/.cache or .advisor/ must still be read)
                hidden = any(p.startswith(".") for p in path.relative_to(root).parts)
                if path.is_file() and is_supported(path) and not hidden:
                    yield path
        else:
            report.failed.append((str(root), "path not found; check the spelling"))


def _under(key: str, roots: Sequence[Path]) -> bool:
    return any(key == _key(r) or key.startswith(_key(r).rstrip("/") + "/") for r in roots)


class Indexer:
    def __init__(self, store: IndexStore, embedder: Embedder, *, target_words: int = 170,
                 max_words: int = 230, overlap_sentences: int = 1, batch_chunks: int = 256,
                 max_file_bytes: int = 50_000_000, fault: FaultHook | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.chunking = {"target_words": target_words, "max_words": max_words,
                         "overlap_sentences": overlap_sentences}
        self.batch_chunks, self.max_file_bytes = batch_chunks, max_file_bytes
        self._fingerprint = f"{INGEST_VERSION}:{target_words}:{max_words}:{overlap_sentences}\n".encode()
        self._fault = fault or (lambda _event: None)

    def ingest(self, paths: Sequence[Path], *, prune: bool = False, progress: bool = False) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        catalog = self.store.catalog
        with self.store.catalog.writer(self.store.dir / "ingest.lock"):
            self.store.check_embedder(self.embedder.name)
            staged: set[str] = set()
            if catalog.get_state("dirty") == "1":
                fixed, staged = self.repair()
                report.repaired = fixed + len(staged)
            generation = catalog.generation
            known = catalog.files()
            on_disk = {_key(p): p for p in walk(paths, report)}
            report.files = len(on_disk)
            pending: list[_Pending] = []
            claimed: dict[str, list[str]] = {}
            for key, path in tqdm(sorted(on_disk.items()), desc="reading", unit="file",
                                  disable=not progress, leave=False):
                self._scan(key, path, known, on_disk, pending, claimed, report)
            self._settle(pending, claimed, report)
            if pending:
                catalog.set_state("dirty", "1")
                self._write(pending, report, progress, staged)
            for key in sorted(set(catalog.files()) - set(on_disk)):
                if not _under(key, paths):
                    continue
                if prune:
                    catalog.set_state("dirty", "1")
                    dropped = catalog.remove_file(key)
                    self._delete_vectors(dropped)
                    report.removed += 1
                    report.chunks_removed += len(dropped)
                elif key not in report.missing:
                    report.missing.append(key)
            if staged:
                self.drop_unclaimed(staged)
            if catalog.generation != generation or report.repaired:
                self.store.rebuild_lexical()
            catalog.set_state("dirty", "0")
        report.seconds = time.perf_counter() - started
        return report

    # scanning --------------------------------------------------------------------------------
    def _scan(self, key: str, path: Path, known: dict, on_disk: dict, pending: list[_Pending],
              claimed: dict[str, list[str]], report: IngestReport) -> None:
        catalog = self.store.catalog
        try:
            size = path.stat().st_size
            if size > self.max_file_bytes:
                report.failed.append((key, f"{size:,} bytes, over the {self.max_file_bytes:,}-byte limit for one "
                                           "file: split it, or raise ADVISOR_MAX_FILE_BYTES"))
                return
            data = path.read_bytes()
        except OSError as exc:
            report.failed.append((key, f"cannot read: {exc.strerror}"))
            return
        content_hash = hashlib.sha256(self._fingerprint + data).hexdigest()
        record = known.get(key)
        if record is not None and record.content_hash == content_hash:
            report.unchanged += 1
            report.chunks_unchanged += len(catalog.chunk_ids_for_hash(content_hash))
            report.record_errors.extend(record.errors)
            return
        others = [p for p in catalog.paths_with_hash(content_hash) if p != key]
        live = [p for p in others if p in on_disk or Path(p).exists()]
        if live:  # identical content under another path: store it once
            catalog.set_state("dirty", "1")
            self._delete_vectors(catalog.set_file(key, content_hash, [], docs=None, chunks=None))
            report.duplicates += 1
            return
        if others and record is None:  # the file moved: keep its chunks
            catalog.rename_file(others[0], key)
            report.moved += 1
            report.unchanged += 1
            return
        try:
            docs, errors = load_file(path)
        except LoadError as exc:
            report.failed.append((key, exc.reason))
            return
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run; say what happened
            log.exception("unexpected error loading %s", key)
            report.failed.append((key, f"{type(exc).__name__}: {exc}"))
            return
        old_hash = record.content_hash if record else None
        kept_docs = []
        for doc in docs:
            owner = catalog.doc_owner(doc.doc_id)
            if owner not in (None, old_hash, content_hash):  # another file's id: never taken over
                where = ", ".join(catalog.paths_with_hash(owner or "")) or "another file"
                errors.append(f"{key}: document id {doc.doc_id!r} is already used by {where}; give it a unique id")
                continue
            claimed.setdefault(doc.doc_id, []).append(key)
            kept_docs.append(doc)
        pending.append(_Pending(key, content_hash, kept_docs, [], errors, record is None))

    def _settle(self, pending: list[_Pending], claimed: dict[str, list[str]], report: IngestReport) -> None:
        """An id two files of this run both bring, and no file owned before, is refused in each of them, naming
        the others: which one is right is not ours to guess (the first in path order used to win, so a new file
        could displace a public record). Then each file is chunked."""
        for item in pending:
            for doc in [d for d in item.docs if len(claimed.get(d.doc_id, [])) > 1]:
                others = ", ".join(k for k in claimed[doc.doc_id] if k != item.path)
                item.errors.append(f"{item.path}: document id {doc.doc_id!r} is also used by {others}; neither is "
                                   "indexed until one of them is given a unique id")
                item.docs.remove(doc)
            item.chunks = [c for d in item.docs for c in chunk_document(d, **self.chunking)]
            report.record_errors.extend(item.errors)

    # writing ---------------------------------------------------------------------------------
    def _write(self, pending: list[_Pending], report: IngestReport, progress: bool, staged: set[str]) -> None:
        """Embed and upsert in batches of at most `batch_chunks`, committing each file to the catalog as soon as all
        its vectors are stored. A large file spans many batches; if the run dies, the vectors already stored for it
        (`staged`: in Chroma, not yet in the catalog) are found by the next run and not embedded again."""
        catalog = self.store.catalog
        existing = catalog.all_chunk_ids()
        work: list[Chunk] = []  # chunks whose vectors still have to be stored, in file order
        ends: list[tuple[int, _Pending]] = []  # each file, with the position in `work` after its last chunk
        for item in pending:
            stored = catalog.chunk_metas(c.chunk_id for c in item.chunks if c.chunk_id in existing)
            for c in item.chunks:
                if c.chunk_id in existing:
                    if stored.get(c.chunk_id) != json.dumps(c.meta):
                        work.append(c)  # same text, new metadata: its stored vector is upserted again
                        report.chunks_updated += 1
                    else:
                        report.chunks_unchanged += 1
                elif c.chunk_id in staged:
                    report.reused += 1  # stored by an interrupted run
                    report.chunks_added += 1
                else:
                    work.append(c)
                    report.chunks_added += 1
            ends.append((len(work), item))
        to_embed = sum(1 for c in work if c.chunk_id not in existing)
        bar = tqdm(total=to_embed, desc="embedding", unit="chunk", disable=not progress, leave=False)
        done = 0
        for lo in [*range(0, len(work), self.batch_chunks)] or [0]:
            batch = work[lo:lo + self.batch_chunks]
            new = [c for c in batch if c.chunk_id not in existing]
            moved = [c for c in batch if c.chunk_id in existing]
            vectors = self._embed(new, bar)
            report.embedded += len(new)
            if moved:
                old = self.store.vectors.vectors([c.chunk_id for c in moved])
                vectors = np.vstack([vectors, np.stack([old[c.chunk_id] for c in moved])])
            upserts = new + moved
            if upserts:
                self.store.vectors.upsert([c.chunk_id for c in upserts], vectors, [c.text for c in upserts],
                                          [c.meta for c in upserts])
                self._fault("after_upsert")
            done = lo + len(batch)
            while ends and ends[0][0] <= done:
                self._commit(ends.pop(0)[1], report)
        bar.close()

    def _commit(self, item: _Pending, report: IngestReport) -> None:
        dropped = self.store.catalog.set_file(item.path, item.content_hash, item.errors, docs=item.docs,
                                              chunks=item.chunks)
        self._delete_vectors(dropped)
        report.chunks_removed += len(dropped)
        if item.is_new:
            report.new += 1
        else:
            report.changed += 1
        self._fault("after_file")

    def _embed(self, chunks: list[Chunk], bar: tqdm) -> np.ndarray:
        if not chunks:
            return np.zeros((0, getattr(self.embedder, "dim", 0)), dtype=np.float32)
        parts = []
        step = 256  # large calls let the embedder sort by length and pad less
        for lo in range(0, len(chunks), step):
            parts.append(self.embedder.embed([c.embed_text() for c in chunks[lo:lo + step]]))
            bar.update(len(chunks[lo:lo + step]))
        self.store.check_embedder(self.embedder.name)
        return np.vstack(parts)

    def _delete_vectors(self, ids: set[str]) -> None:
        if ids:
            self.store.vectors.delete(sorted(ids))

    def delete_document(self, doc_id: str) -> int:
        """Remove a document from every index; returns the chunks removed (0: no such document).

        The source file stays recorded as ingested, so the document returns only if the file changes:
        delete or edit the file as well to make the removal permanent.
        """
        with self.store.catalog.writer(self.store.dir / "ingest.lock"):
            if self.store.catalog.document(doc_id) is None:
                return 0
            self.store.catalog.set_state("dirty", "1")
            dropped = self.store.catalog.remove_document(doc_id)
            self._delete_vectors(dropped)
            self.store.rebuild_lexical()
            self.store.catalog.set_state("dirty", "0")
        return len(dropped)

    # repair ----------------------------------------------------------------------------------
    def repair(self) -> tuple[int, set[str]]:
        """Make the vector index hold every catalog chunk, with the catalog's metadata, after an interrupted run.

        Returns the chunks re-embedded, and the vectors the catalog does not know (`staged`): stored by the
        interrupted run for files it did not get to commit. The caller reuses those its files still need and deletes
        the rest (`drop_unclaimed`).
        """
        catalog = self.store.catalog
        in_vectors = self.store.vectors.ids()
        in_catalog = catalog.all_chunk_ids()
        orphans = in_vectors - in_catalog
        missing = sorted(in_catalog - in_vectors)
        if missing:
            chunks = list(catalog.iter_chunks(missing))
            vectors = self.embedder.embed([c.embed_text() for c in chunks])
            self.store.vectors.upsert([c.chunk_id for c in chunks], vectors, [c.text for c in chunks],
                                      [c.meta for c in chunks])
        present = sorted(in_catalog & in_vectors)
        for lo in range(0, len(present), 2000):
            chunks = list(catalog.iter_chunks(present[lo:lo + 2000]))
            self.store.vectors.update_metas([c.chunk_id for c in chunks], [c.meta for c in chunks])
        log.warning("repaired index after an interrupted run: %d vectors stored ahead of the catalog kept for reuse, "
                    "%d re-embedded", len(orphans), len(missing))
        return len(missing), orphans

    def drop_unclaimed(self, staged: set[str]) -> int:
        """Delete the staged vectors that no file claimed in this run; returns how many."""
        unclaimed = staged - self.store.catalog.all_chunk_ids()
        self._delete_vectors(unclaimed)
        return len(unclaimed)
