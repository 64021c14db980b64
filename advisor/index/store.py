"""The on-disk index as one object: catalog (truth), vector index and lexical index (derived)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from advisor.config import Settings
from advisor.index.catalog import Catalog
from advisor.index.lexical import LexicalIndex
from advisor.index.vectors import ChromaIndex, VectorIndex

log = logging.getLogger(__name__)


class IndexStore:
    """Opens what it needs lazily: an unchanged re-ingest never opens the vector store."""

    def __init__(self, settings: Settings, *, vectors: VectorIndex | None = None) -> None:
        self.settings = settings
        self.dir = settings.index_dir
        self.catalog = Catalog(self.catalog_location)
        self._vectors = vectors
        self._lexical: LexicalIndex | None = None

    @property
    def catalog_location(self) -> Path | str:
        """ADVISOR_DATABASE_URL (shared by replicas), or a SQLite file in the index dir."""
        return self.settings.database_url or self.dir / "catalog.sqlite3"

    @property
    def vectors(self) -> VectorIndex:
        if self._vectors is None:
            s = self.settings
            self._vectors = ChromaIndex.open(path=self.dir / "chroma", url=s.chroma_url, name=s.collection,
                                             store_documents=s.chroma_store_documents)
        return self._vectors

    @property
    def lexical_dir(self) -> Path:
        return self.dir / "bm25"

    def lexical(self) -> LexicalIndex:
        """The BM25 index matching the catalog's generation; rebuilt and saved when stale or missing."""
        generation = self.catalog.recent_generation()
        if self._lexical is not None and self._lexical.generation == generation:
            return self._lexical
        loaded = LexicalIndex.load(self.lexical_dir)
        if loaded is None or loaded.generation != generation:
            loaded = self.rebuild_lexical()
        self._lexical = loaded
        return loaded

    def rebuild_lexical(self) -> LexicalIndex:
        chunks = list(self.catalog.iter_chunks())
        index = LexicalIndex.build([c.chunk_id for c in chunks], [c.embed_text() for c in chunks],
                                   self.catalog.generation)
        index.save(self.lexical_dir)
        self._lexical = index
        log.info("lexical index rebuilt: %d chunks, generation %d", index.size, index.generation)
        return index

    def check_embedder(self, name: str) -> None:
        """Refuse to mix vectors from two embedders in one index."""
        built_with = self.catalog.get_state("embedder")
        if not built_with:
            self.catalog.set_state("embedder", name)
        elif built_with != name:
            raise RuntimeError(
                f"the index in {self.dir} was built with embedder {built_with!r}, not {name!r}: "
                "run `advisor ingest --rebuild PATH...` or point ADVISOR_DATA_DIR elsewhere"
            )

    def wipe(self) -> None:
        """Delete the whole index (catalog, vectors, lexical) so the next ingest starts clean."""
        self.catalog.clear()
        self.catalog.close()
        if self.settings.chroma_url:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            from advisor.index.vectors import urlparse

            parsed = urlparse(self.settings.chroma_url if "://" in self.settings.chroma_url
                              else f"http://{self.settings.chroma_url}")
            client = chromadb.HttpClient(host=parsed.hostname or "127.0.0.1", port=parsed.port or 8000,
                                         settings=ChromaSettings(anonymized_telemetry=False))
            try:
                client.delete_collection(self.settings.collection)
            except Exception as exc:  # noqa: BLE001 - a missing collection is what we want anyway
                log.info("no collection to delete: %s", exc)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.catalog = Catalog(self.catalog_location)
        self._vectors = None
        self._lexical = None
