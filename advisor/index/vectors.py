"""Vector index seam and its Chroma implementation (embedded by default, a server when a URL is set)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

import numpy as np

from advisor.types import MetaValue

log = logging.getLogger(__name__)
T = TypeVar("T")
Where = dict[str, Any]


class VectorIndex(Protocol):
    def upsert(self, ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str],
               metas: Sequence[dict[str, MetaValue]]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: np.ndarray, k: int, where: Where | None = None) -> list[tuple[str, float]]:
        """(id, cosine similarity) of the k nearest, best first."""
        ...

    def update_metas(self, ids: Sequence[str], metas: Sequence[dict[str, MetaValue]]) -> None: ...

    def ids(self) -> set[str]: ...

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...


# Chroma holds what its filters need; the catalog holds everything else. Fewer keys, faster upserts.
FILTER_KEYS = ("doc_id", "audience", "doc_type", "published", "company_keys", "therapy_areas", "topics", "regions")


def _chroma_meta(meta: dict[str, MetaValue]) -> dict[str, MetaValue]:
    # Chroma rejects None and empty lists
    return {k: meta[k] for k in FILTER_KEYS if k in meta and meta[k] is not None and meta[k] != []}


class ChromaIndex:
    """A Chroma collection in cosine space; we always pass our own embeddings."""

    _PAGE = 5000

    def __init__(self, collection: Any, *, store_documents: bool = False,
                 reopen: Callable[[], Any] | None = None) -> None:
        self._col = collection
        # texts live in the catalog; keeping a copy in Chroma (and its full-text index) is optional
        self.store_documents = store_documents
        self._reopen = reopen

    def _read(self, read: Callable[[], T]) -> T:
        """A read; when the embedded store fails it because another process (`advisor ingest` while the server
        runs) wrote the files under it ("Error finding id", and it stays failing), the store is opened afresh
        from disk once and the read repeated."""
        from chromadb.errors import InternalError

        try:
            return read()
        except InternalError as exc:
            if self._reopen is None:
                raise
            log.warning("Chroma's view of the index is stale (%s): opening it again from disk", exc)
            self._col = self._reopen()
            return read()

    @classmethod
    def open(cls, *, path: Path | None = None, url: str | None = None, name: str = "advisor",
             store_documents: bool = False) -> ChromaIndex:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if url:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            client = chromadb.HttpClient(host=parsed.hostname or "127.0.0.1", port=parsed.port or 8000,
                                         ssl=parsed.scheme == "https", settings=chroma_settings)
        else:
            if path is None:
                raise ValueError("ChromaIndex.open needs a path for the embedded store or a server url")
            path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        collection = client.get_or_create_collection(
            name=name, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        if url or path is None:
            return cls(collection, store_documents=store_documents)
        where = str(path)

        def reopen() -> Any:
            # Chroma shares one System per path in a process and keeps serving its stale one: retire it (its
            # private registry; pinned chromadb<2) so the next client reads the files as they are now
            from chromadb.api.shared_system_client import SharedSystemClient

            system = SharedSystemClient._identifier_to_system.pop(where, None)
            SharedSystemClient._identifier_to_refcount.pop(where, None)
            if system is not None:
                system.stop()
            fresh = chromadb.PersistentClient(path=where, settings=chroma_settings)
            return fresh.get_or_create_collection(name=name, metadata={"hnsw:space": "cosine"},
                                                  embedding_function=None)

        return cls(collection, store_documents=store_documents, reopen=reopen)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str],
               metas: Sequence[dict[str, MetaValue]]) -> None:
        for lo in range(0, len(ids), self._PAGE):
            hi = lo + self._PAGE
            self._col.upsert(ids=list(ids[lo:hi]), embeddings=np.asarray(vectors[lo:hi], dtype=np.float32),
                             documents=list(texts[lo:hi]) if self.store_documents else None,
                             metadatas=[_chroma_meta(m) for m in metas[lo:hi]])

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for lo in range(0, len(ids), self._PAGE):
            self._col.delete(ids=ids[lo:lo + self._PAGE])

    def update_metas(self, ids: Sequence[str], metas: Sequence[dict[str, MetaValue]]) -> None:
        for lo in range(0, len(ids), self._PAGE):
            hi = lo + self._PAGE
            self._col.update(ids=list(ids[lo:hi]), metadatas=[_chroma_meta(m) for m in metas[lo:hi]])

    def query(self, vector: np.ndarray, k: int, where: Where | None = None) -> list[tuple[str, float]]:
        result = self._read(lambda: self._col.query(query_embeddings=[np.asarray(vector, dtype=np.float32)],
                                                    n_results=k, where=where or None, include=["distances"]))
        ids = result["ids"][0] if result["ids"] else []
        distances = result["distances"][0] if result.get("distances") else []
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            def page(at: int = offset) -> Any:  # reads self._col when called: a reopened store is the one read
                return self._col.get(include=[], limit=self._PAGE, offset=at)

            batch = self._read(page)["ids"]
            out.update(batch)
            if len(batch) < self._PAGE:
                return out
            offset += self._PAGE

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self._read(lambda: self._col.get(ids=list(ids), include=["embeddings"]))
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], got["embeddings"], strict=True)}

    def count(self) -> int:
        return int(self._read(self._col.count))
