"""The catalog: the record of ingested files, documents and chunks, in SQLite (a file in the index dir) or in
PostgreSQL (ADVISOR_DATABASE_URL, shared by replicas). The vector and lexical indexes are derived from it and
repaired to match it after an interrupted run."""

from __future__ import annotations

import fcntl
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from advisor.db import database_url, engine_for, named, upgrade
from advisor.types import Chunk, Document


class WriterBusy(RuntimeError):
    """Another process holds the index's writer lock."""


@dataclass
class FileRecord:
    path: str
    content_hash: str
    errors: list[str]


class Catalog:
    """Files → documents → chunks, with a generation number bumped on every change."""

    def __init__(self, where: Path | str) -> None:
        """`where`: the SQLite file, or a database URL (postgresql://…)."""
        self.url = database_url(str(where), Path("."))
        self._engine = engine_for(self.url)
        self.postgres = self._engine.dialect.name == "postgresql"
        # the SQLite file (None on PostgreSQL), for tools that open it directly
        self.path = None if self.postgres else Path(self.url.removeprefix("sqlite:///"))
        upgrade(self._engine, "catalog")
        # chunks never change under their id (it hashes their text and metadata), so a read chunk can be kept
        self._chunks: dict[str, Chunk] = {}
        self._documents: dict[str, Document] = {}  # read documents, valid for _documents_generation
        self._documents_generation = -1
        self._recent, self._recent_read = -1, 0.0  # recent_generation's last read and when it was made

    CHUNK_CACHE = 50_000
    DOCUMENT_CACHE = 2_000
    RECHECK_S = 1.0  # how stale this process's view of another process's ingest may be

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[_Db]:
        """A write transaction: SQLite takes its write lock at once (BEGIN IMMEDIATE), so two writers queue
        instead of failing half-way; PostgreSQL's row locks do the same."""
        with self._engine.connect() as conn:
            if self.postgres:
                with conn.begin():
                    yield _Db(conn)
                return
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield _Db(conn)
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    @contextmanager
    def writer(self, lock_file: Path) -> Iterator[None]:
        """Held by whoever writes the index: one writer at a time, on any host (a PostgreSQL session lock) or on
        this one (a file lock next to a SQLite catalog). The second writer is refused at once, with a message."""
        if not self.postgres:
            lock_file.parent.mkdir(parents=True, exist_ok=True)
            with open(lock_file, "w") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError as exc:
                    raise WriterBusy(f"another `advisor ingest` is writing {lock_file.parent}; wait for it to "
                                     "finish") from exc
                yield
            return
        with self._engine.connect() as conn:  # the lock lives as long as this session: a killed writer frees it
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            if not conn.execute(text("SELECT pg_try_advisory_lock(4712)")).scalar():
                raise WriterBusy("another ingest (a replica or `advisor ingest` on some host) is writing the shared "
                                 "catalog; wait for it to finish")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(4712)"))

    def clear(self) -> None:
        """Forget everything: files, documents, chunks and state."""
        with self.transaction() as db:
            for table in ("chunks", "documents", "files", "state"):
                db.run(f"DELETE FROM {table}")

    def _q(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One read, outside any write transaction."""
        with self._engine.connect() as conn:
            return _Db(conn).all(sql, args)

    def _json(self, field: str, *, as_text: bool = True) -> str:
        """A field of a row's JSON `meta`: a scalar as text, or (as_text=False) a list as JSON text."""
        if self.postgres:
            return f"(meta::jsonb ->> '{field}')" if as_text else f"((meta::jsonb -> '{field}')::text)"
        return f"json_extract(meta, '$.{field}')"

    # state ---------------------------------------------------------------------------------
    def get_state(self, key: str, default: str = "") -> str:
        rows = self._q("SELECT value FROM state WHERE key=?", (key,))
        return rows[0][0] if rows else default

    def set_state(self, key: str, value: str, db: _Db | None = None) -> None:
        sql = "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        if db is not None:
            db.run(sql, (key, value))
            return
        with self.transaction() as fresh:
            fresh.run(sql, (key, value))

    @property
    def generation(self) -> int:
        return int(self.get_state("generation", "0"))

    def recent_generation(self) -> int:
        """The generation as read at most RECHECK_S ago: this process's own writes show at once, another
        process's ingest within RECHECK_S. Reading it on every call cost ~13% of a loaded server."""
        now = time.monotonic()
        if now - self._recent_read >= self.RECHECK_S:
            self._recent, self._recent_read = self.generation, now
        return self._recent

    def _bump(self, db: _Db) -> None:
        rows = db.all("SELECT value FROM state WHERE key = 'generation'")
        self.set_state("generation", str(int(rows[0][0]) + 1 if rows else 1), db)
        self._recent_read = 0.0  # the next recent_generation() reads it again

    # files ---------------------------------------------------------------------------------
    def files(self) -> dict[str, FileRecord]:
        rows = self._q("SELECT path, content_hash, errors FROM files")
        return {p: FileRecord(p, h, json.loads(e)) for p, h, e in rows}

    def paths_with_hash(self, content_hash: str) -> list[str]:
        return [r[0] for r in self._q("SELECT path FROM files WHERE content_hash=?", (content_hash,))]

    def doc_owner(self, doc_id: str) -> str | None:
        rows = self._q("SELECT content_hash FROM documents WHERE doc_id=?", (doc_id,))
        return rows[0][0] if rows else None

    def chunk_ids_for_hash(self, content_hash: str) -> set[str]:
        return {r[0] for r in self._q("SELECT chunk_id FROM chunks WHERE content_hash=?", (content_hash,))}

    def chunk_metas(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = list(ids)
        out: dict[str, str] = {}
        for lo in range(0, len(wanted), 500):
            batch = wanted[lo:lo + 500]
            out.update(self._q(f"SELECT chunk_id, meta FROM chunks WHERE chunk_id IN ({','.join('?' * len(batch))})",
                               batch))
        return out

    def set_file(self, path: str, content_hash: str, errors: list[str], *, docs: list[Document] | None,
                 chunks: list[Chunk] | None) -> set[str]:
        """Point `path` at `content_hash`; store its documents and chunks when given. Returns the chunk ids
        no longer referenced by any file (to delete from the derived indexes)."""
        with self.transaction() as db:
            old = db.one("SELECT content_hash FROM files WHERE path=?", (path,))
            db.run("INSERT INTO files (path, content_hash, errors) VALUES (?, ?, ?) ON CONFLICT (path) DO UPDATE "
                   "SET content_hash = excluded.content_hash, errors = excluded.errors",
                   (path, content_hash, json.dumps(errors)))
            if docs is not None and chunks is not None:
                self._store(db, content_hash, docs, chunks)
            dropped = self._release(db, old[0]) if old and old[0] != content_hash else set()
            self._bump(db)
        return dropped

    def remove_file(self, path: str) -> set[str]:
        with self.transaction() as db:
            old = db.one("SELECT content_hash FROM files WHERE path=?", (path,))
            db.run("DELETE FROM files WHERE path=?", (path,))
            dropped = self._release(db, old[0]) if old else set()
            self._bump(db)
        return dropped

    def remove_document(self, doc_id: str) -> set[str]:
        """Drop one document and its chunks (a file's other documents stay). Returns the chunk ids dropped."""
        with self.transaction() as db:
            ids = {r[0] for r in db.all("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))}
            db.run("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            db.run("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            self._bump(db)
        return ids

    def rename_file(self, old_path: str, new_path: str) -> None:
        with self.transaction() as db:
            db.run("UPDATE files SET path=? WHERE path=?", (new_path, old_path))
            self._bump(db)

    def _store(self, db: _Db, content_hash: str, docs: list[Document], chunks: list[Chunk]) -> None:
        new_ids = sorted({c.chunk_id for c in chunks})
        # chunks whose text survives an edit keep their id; they move to the new content hash
        db.run("DELETE FROM chunks WHERE content_hash=?", (content_hash,))
        if new_ids:
            db.many("DELETE FROM chunks WHERE chunk_id=?", [(i,) for i in new_ids])
        db.run("DELETE FROM documents WHERE content_hash=?", (content_hash,))
        if docs:
            db.many("INSERT INTO documents (doc_id, content_hash, text, meta, pages) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (doc_id) DO UPDATE SET content_hash = excluded.content_hash, text = excluded.text, "
                    "meta = excluded.meta, pages = excluded.pages",
                    [(d.doc_id, content_hash, d.text, json.dumps(d.meta), json.dumps(d.pages)) for d in docs])
        if chunks:
            db.many("INSERT INTO chunks (chunk_id, doc_id, content_hash, text, char_start, char_end, section, meta) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(c.chunk_id, c.doc_id, content_hash, c.text, c.char_start, c.char_end, c.section,
                      json.dumps(c.meta)) for c in chunks])

    def _release(self, db: _Db, content_hash: str) -> set[str]:
        if db.one("SELECT 1 FROM files WHERE content_hash=? LIMIT 1", (content_hash,)):
            return set()
        ids = {r[0] for r in db.all("SELECT chunk_id FROM chunks WHERE content_hash=?", (content_hash,))}
        db.run("DELETE FROM chunks WHERE content_hash=?", (content_hash,))
        db.run("DELETE FROM documents WHERE content_hash=?", (content_hash,))
        return ids

    # reading -------------------------------------------------------------------------------
    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self._q("SELECT chunk_id FROM chunks")}

    def iter_chunks(self, ids: Iterable[str] | None = None) -> Iterator[Chunk]:
        """Every chunk (by id), or the given ones in the order given (ids not in the catalog are skipped)."""
        if ids is None:
            rows = self._q(
                "SELECT chunk_id, doc_id, text, char_start, char_end, section, meta FROM chunks ORDER BY chunk_id")
            for cid, doc_id, body, start, end, section, meta in rows:
                yield Chunk(cid, doc_id, body, start, end, json.loads(meta), section)
            return
        wanted = list(ids)
        found = {cid: self._chunks[cid] for cid in wanted if cid in self._chunks}
        missing = [cid for cid in wanted if cid not in found]
        for lo in range(0, len(missing), 500):  # one query for what a search needs, not one per chunk
            batch = missing[lo:lo + 500]
            fetched = self._q(
                "SELECT chunk_id, doc_id, text, char_start, char_end, section, meta FROM chunks WHERE chunk_id IN "
                f"({','.join('?' * len(batch))})", batch)
            for cid, doc_id, body, start, end, section, meta in fetched:
                found[cid] = Chunk(cid, doc_id, body, start, end, json.loads(meta), section)
        if len(self._chunks) > self.CHUNK_CACHE:
            self._chunks.clear()
        self._chunks.update((cid, chunk) for cid, chunk in found.items())
        for cid in wanted:
            if cid in found:
                yield found[cid]

    def next_chunks(self, chunk_id: str, n: int) -> list[Chunk]:
        """The `n` chunks of the same document that start after `chunk_id` does, in document order ([] for an
        unknown id). Chunk ids are "<doc id>#<hash>", so the primary key's range finds a document's chunks."""
        if n <= 0:
            return []
        rows = self._q("SELECT doc_id, char_start FROM chunks WHERE chunk_id=?", (chunk_id,))
        if not rows:
            return []
        doc_id, start = rows[0]
        ids = [r[0] for r in self._q(
            "SELECT chunk_id FROM chunks WHERE chunk_id >= ? AND chunk_id < ? AND doc_id = ? AND char_start > ? "
            "ORDER BY char_start, chunk_id LIMIT ?", (f"{doc_id}#", f"{doc_id}$", doc_id, start, n))]
        return list(self.iter_chunks(ids))

    def documents_of_type(self, doc_type: str) -> tuple[int, list[tuple[str, str, dict[str, Any], str]]]:
        """(generation, [(doc id, text, meta, first chunk id)]) for one doc type, read as one snapshot."""
        doc_type_of = self._json("doc_type")
        with self.transaction() as db:
            row = db.one("SELECT value FROM state WHERE key = 'generation'")
            docs = db.all(f"SELECT doc_id, text, meta FROM documents WHERE {doc_type_of} = ?", (doc_type,))
            first: dict[str, tuple[int, str]] = {}
            for doc_id, chunk_id, start in db.all(
                    "SELECT c.doc_id, c.chunk_id, c.char_start FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
                    f"WHERE {doc_type_of.replace('meta', 'd.meta')} = ?", (doc_type,)):
                if doc_id not in first or start < first[doc_id][0]:
                    first[doc_id] = (start, chunk_id)
        generation = int(row[0]) if row else 0
        return generation, [(d, t, json.loads(m), first.get(d, (0, ""))[1]) for d, t, m in docs]

    def superseded(self) -> dict[str, str]:
        """doc id of each superseded document -> doc id of the document that replaces it."""
        supersedes = self._json("supersedes")
        rows = self._q(f"SELECT {supersedes}, doc_id FROM documents WHERE {supersedes} IS NOT NULL")
        return {old: new for old, new in rows}

    def filter_fields(self) -> Iterator[tuple[str, str, int, str, list[str], list[str], list[str]]]:
        """(chunk id, audience, published, doc type, company keys, therapy areas, regions) of every chunk, streamed."""
        j = self._json
        rows = self._q(
            f"SELECT chunk_id, {j('audience')}, {j('published')}, {j('doc_type')}, {j('company_keys', as_text=False)}, "
            f"{j('therapy_areas', as_text=False)}, {j('regions', as_text=False)} FROM chunks")
        for cid, audience, published, doc_type, companies, areas, regions in rows:
            yield (cid, audience or "", int(published or 0), doc_type or "",
                   json.loads(companies) if companies else [], json.loads(areas) if areas else [],
                   json.loads(regions) if regions else [])

    def document(self, doc_id: str) -> Document | None:
        """The document as stored. Read ones are kept until the generation changes: at once for this
        process's own writes, within RECHECK_S for another process's ingest."""
        generation = self.recent_generation()
        if generation != self._documents_generation:
            self._documents.clear()
            self._documents_generation = generation
        if doc_id in self._documents:
            return self._documents[doc_id]
        rows = self._q("SELECT text, meta, pages FROM documents WHERE doc_id=?", (doc_id,))
        if not rows:
            return None
        body, meta, pages = rows[0]
        document = Document(doc_id, body, json.loads(meta), [tuple(p) for p in json.loads(pages)])
        if len(self._documents) > self.DOCUMENT_CACHE:
            self._documents.clear()
        self._documents[doc_id] = document
        return document

    def counts(self) -> dict[str, int]:
        rows = self._q("SELECT (SELECT COUNT(*) FROM files), (SELECT COUNT(*) FROM documents), "
                       "(SELECT COUNT(*) FROM chunks)")
        files, documents, chunks = rows[0]
        return {"files": int(files), "documents": int(documents), "chunks": int(chunks)}

    def doc_stats(self) -> list[tuple[str, str, int]]:
        """(doc_type, audience, count) over documents."""
        rows = self._q(f"SELECT {self._json('doc_type')}, {self._json('audience')}, COUNT(*) FROM documents "
                       "GROUP BY 1, 2 ORDER BY 1, 2")
        return [(r[0] or "", r[1] or "", r[2]) for r in rows]


class _Db:
    """A connection with `?` placeholders (SQLite's, and what the catalog's SQL is written in)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def all(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        result = self.conn.execute(*named(sql, args))
        return [tuple(row) for row in result] if result.returns_rows else []

    def one(self, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = self.all(sql, args)
        return rows[0] if rows else None

    def run(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.conn.execute(*named(sql, args))

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        clause, _ = named(sql, rows[0])
        self.conn.execute(clause, [named(sql, row)[1] for row in rows])
