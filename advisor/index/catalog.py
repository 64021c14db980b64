"""The catalog: SQLite record of ingested files, documents and chunks. The vector and lexical indexes
are derived from it and repaired to match it after an interrupted run."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.types import Chunk, Document

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, content_hash TEXT NOT NULL, errors TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS files_hash ON files(content_hash);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, text TEXT NOT NULL, meta TEXT NOT NULL,
    pages TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(content_hash);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, content_hash TEXT NOT NULL, text TEXT NOT NULL,
    char_start INTEGER NOT NULL, char_end INTEGER NOT NULL, section TEXT NOT NULL, meta TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(content_hash);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class FileRecord:
    path: str
    content_hash: str
    errors: list[str]


class Catalog:
    """Files → documents → chunks, with a generation number bumped on every change."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # chunks never change under their id (it hashes their text and metadata), so a read chunk can be kept
        self._chunks: dict[str, Chunk] = {}
        self._documents: dict[str, Document] = {}  # read documents, valid for _documents_generation
        self._documents_generation = -1
        self._recent, self._recent_read = -1, 0.0  # recent_generation's last read and when it was made

    CHUNK_CACHE = 50_000
    DOCUMENT_CACHE = 2_000
    RECHECK_S = 1.0  # how stale this process's view of another process's ingest may be

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # state ---------------------------------------------------------------------------------
    def get_state(self, key: str, default: str = "") -> str:
        row = self._db.execute("SELECT value FROM state WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_state(self, key: str, value: str, db: sqlite3.Connection | None = None) -> None:
        (db or self._db).execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, value))

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

    def _bump(self, db: sqlite3.Connection) -> None:
        self.set_state("generation", str(self.generation + 1), db)
        self._recent_read = 0.0  # the next recent_generation() reads it again

    # files ---------------------------------------------------------------------------------
    def files(self) -> dict[str, FileRecord]:
        rows = self._db.execute("SELECT path, content_hash, errors FROM files").fetchall()
        return {p: FileRecord(p, h, json.loads(e)) for p, h, e in rows}

    def paths_with_hash(self, content_hash: str) -> list[str]:
        rows = self._db.execute("SELECT path FROM files WHERE content_hash=?", (content_hash,))
        return [r[0] for r in rows]

    def doc_owner(self, doc_id: str) -> str | None:
        row = self._db.execute("SELECT content_hash FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return row[0] if row else None

    def chunk_ids_for_hash(self, content_hash: str) -> set[str]:
        rows = self._db.execute("SELECT chunk_id FROM chunks WHERE content_hash=?", (content_hash,))
        return {r[0] for r in rows}

    def chunk_metas(self, ids: Iterable[str]) -> dict[str, str]:
        out = {}
        for cid in ids:
            row = self._db.execute("SELECT meta FROM chunks WHERE chunk_id=?", (cid,)).fetchone()
            if row:
                out[cid] = row[0]
        return out

    def set_file(self, path: str, content_hash: str, errors: list[str], *, docs: list[Document] | None,
                 chunks: list[Chunk] | None) -> set[str]:
        """Point `path` at `content_hash`; store its documents and chunks when given. Returns the chunk ids
        no longer referenced by any file (to delete from the derived indexes)."""
        with self.transaction() as db:
            old = db.execute("SELECT content_hash FROM files WHERE path=?", (path,)).fetchone()
            db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", (path, content_hash, json.dumps(errors)))
            if docs is not None and chunks is not None:
                self._store(db, content_hash, docs, chunks)
            dropped = self._release(db, old[0]) if old and old[0] != content_hash else set()
            self._bump(db)
        return dropped

    def remove_file(self, path: str) -> set[str]:
        with self.transaction() as db:
            old = db.execute("SELECT content_hash FROM files WHERE path=?", (path,)).fetchone()
            db.execute("DELETE FROM files WHERE path=?", (path,))
            dropped = self._release(db, old[0]) if old else set()
            self._bump(db)
        return dropped

    def remove_document(self, doc_id: str) -> set[str]:
        """Drop one document and its chunks (a file's other documents stay). Returns the chunk ids dropped."""
        with self.transaction() as db:
            ids = {r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))}
            db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            self._bump(db)
        return ids

    def rename_file(self, old_path: str, new_path: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE files SET path=? WHERE path=?", (new_path, old_path))
            self._bump(db)

    def _store(self, db: sqlite3.Connection, content_hash: str, docs: list[Document], chunks: list[Chunk]) -> None:
        new_ids = {c.chunk_id for c in chunks}
        # chunks whose text survives an edit keep their id; they move to the new content hash
        db.execute("DELETE FROM chunks WHERE content_hash=?", (content_hash,))
        db.executemany("DELETE FROM chunks WHERE chunk_id=?", [(i,) for i in new_ids])
        db.execute("DELETE FROM documents WHERE content_hash=?", (content_hash,))
        db.executemany(
            "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?)",
            [(d.doc_id, content_hash, d.text, json.dumps(d.meta), json.dumps(d.pages)) for d in docs],
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(c.chunk_id, c.doc_id, content_hash, c.text, c.char_start, c.char_end, c.section,
              json.dumps(c.meta)) for c in chunks],
        )

    def _release(self, db: sqlite3.Connection, content_hash: str) -> set[str]:
        still_used = db.execute("SELECT 1 FROM files WHERE content_hash=? LIMIT 1", (content_hash,)).fetchone()
        if still_used:
            return set()
        ids = {r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE content_hash=?", (content_hash,))}
        db.execute("DELETE FROM chunks WHERE content_hash=?", (content_hash,))
        db.execute("DELETE FROM documents WHERE content_hash=?", (content_hash,))
        return ids

    # reading -------------------------------------------------------------------------------
    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT chunk_id FROM chunks")}

    def iter_chunks(self, ids: Iterable[str] | None = None) -> Iterator[Chunk]:
        """Every chunk (by id), or the given ones in the order given (ids not in the catalog are skipped)."""
        if ids is None:
            rows = self._db.execute(
                "SELECT chunk_id, doc_id, text, char_start, char_end, section, meta FROM chunks ORDER BY chunk_id")
            for cid, doc_id, text, start, end, section, meta in rows:
                yield Chunk(cid, doc_id, text, start, end, json.loads(meta), section)
            return
        wanted = list(ids)
        found = {cid: self._chunks[cid] for cid in wanted if cid in self._chunks}
        missing = [cid for cid in wanted if cid not in found]
        for lo in range(0, len(missing), 500):  # one query for what a search needs, not one per chunk
            batch = missing[lo:lo + 500]
            fetched = self._db.execute(
                "SELECT chunk_id, doc_id, text, char_start, char_end, section, meta FROM chunks WHERE chunk_id IN "
                f"({','.join('?' * len(batch))})", batch).fetchall()
            for cid, doc_id, text, start, end, section, meta in fetched:
                found[cid] = Chunk(cid, doc_id, text, start, end, json.loads(meta), section)
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
        row = self._db.execute("SELECT doc_id, char_start FROM chunks WHERE chunk_id=?", (chunk_id,)).fetchone()
        if row is None:
            return []
        doc_id, start = row
        ids = [r[0] for r in self._db.execute(
            "SELECT chunk_id FROM chunks WHERE chunk_id >= ? AND chunk_id < ? AND doc_id = ? AND char_start > ? "
            "ORDER BY char_start, chunk_id LIMIT ?", (f"{doc_id}#", f"{doc_id}$", doc_id, start, n))]
        return list(self.iter_chunks(ids))

    def documents_of_type(self, doc_type: str) -> tuple[int, list[tuple[str, str, dict[str, Any], str]]]:
        """(generation, [(doc id, text, meta, first chunk id)]) for one doc type, read as one snapshot."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()
            docs = db.execute("SELECT doc_id, text, meta FROM documents WHERE json_extract(meta, '$.doc_type') = ?",
                              (doc_type,)).fetchall()
            first: dict[str, tuple[int, str]] = {}
            for doc_id, chunk_id, start in db.execute(
                    "SELECT c.doc_id, c.chunk_id, c.char_start FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
                    "WHERE json_extract(d.meta, '$.doc_type') = ?", (doc_type,)):
                if doc_id not in first or start < first[doc_id][0]:
                    first[doc_id] = (start, chunk_id)
        generation = int(row[0]) if row else 0
        return generation, [(d, t, json.loads(m), first.get(d, (0, ""))[1]) for d, t, m in docs]

    def superseded(self) -> dict[str, str]:
        """doc id of each superseded document -> doc id of the document that replaces it."""
        rows = self._db.execute("SELECT json_extract(meta, '$.supersedes'), doc_id FROM documents "
                                "WHERE json_extract(meta, '$.supersedes') IS NOT NULL")
        return {old: new for old, new in rows}

    def filter_fields(self) -> Iterator[tuple[str, str, int, str, list[str], list[str], list[str]]]:
        """(chunk id, audience, published, doc type, company keys, therapy areas, regions) of every chunk, streamed."""
        rows = self._db.execute(
            "SELECT chunk_id, json_extract(meta, '$.audience'), json_extract(meta, '$.published'), "
            "json_extract(meta, '$.doc_type'), json_extract(meta, '$.company_keys'), "
            "json_extract(meta, '$.therapy_areas'), json_extract(meta, '$.regions') FROM chunks")
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
        row = self._db.execute("SELECT text, meta, pages FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        if row is None:
            return None
        document = Document(doc_id, row[0], json.loads(row[1]), [tuple(p) for p in json.loads(row[2])])
        if len(self._documents) > self.DOCUMENT_CACHE:
            self._documents.clear()
        self._documents[doc_id] = document
        return document

    def counts(self) -> dict[str, int]:
        q = self._db.execute
        return {
            "files": q("SELECT COUNT(*) FROM files").fetchone()[0],
            "documents": q("SELECT COUNT(*) FROM documents").fetchone()[0],
            "chunks": q("SELECT COUNT(*) FROM chunks").fetchone()[0],
        }

    def doc_stats(self) -> list[tuple[str, str, int]]:
        """(doc_type, audience, count) over documents."""
        rows = self._db.execute(
            "SELECT json_extract(meta, '$.doc_type'), json_extract(meta, '$.audience'), COUNT(*) "
            "FROM documents GROUP BY 1, 2 ORDER BY 1, 2")
        return [(r[0] or "", r[1] or "", r[2]) for r in rows]
