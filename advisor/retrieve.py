"""Hybrid retrieval: dense (Chroma) + lexical (BM25) fused by reciprocal rank, with metadata filters.

The audience filter is applied on both sides *and* checked again on every hit: nothing internal
reaches a public caller even if one index were stale.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from advisor.analytics.vocab import EUROPE, GREATER_CHINA, NORTH_AMERICA
from advisor.config import Audience
from advisor.embed import Embedder
from advisor.index.store import IndexStore
from advisor.ingest.deals import COUNTRIES
from advisor.text import company_key
from advisor.types import Chunk, Hit

log = logging.getLogger(__name__)

# a region filter names a country or one of these groups; a document matches when its `regions` list (for a
# deal record: the two parties' countries) names the group itself or any country in it
REGION_GROUPS: dict[str, tuple[str, ...]] = {
    "Greater China": GREATER_CHINA,
    "Europe": ("Europe", *EUROPE),
    "North America": NORTH_AMERICA,
}


REGIONS = (*REGION_GROUPS, *COUNTRIES, "Global")
_CANONICAL = {name.lower(): name for name in (*REGIONS, "Europe")}


def region_values(regions: tuple[str, ...]) -> list[str]:
    """The `regions` metadata values (stored lower-cased, like every list field) that satisfy a region filter."""
    out: dict[str, None] = {}
    for region in regions:
        name = _CANONICAL.get(region.strip().lower(), region.strip())
        for value in REGION_GROUPS.get(name, (name,)):
            out[value.lower()] = None
    return list(out)


@dataclass(frozen=True)
class Filters:
    """What a caller may see and wants to see. `audience='public'` restricts to public documents."""

    audience: Audience = "public"
    doc_types: tuple[str, ...] = ()
    date_from: int | None = None  # YYYYMMDD
    date_to: int | None = None
    companies: tuple[str, ...] = ()
    therapy_areas: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # countries or REGION_GROUPS names

    def _lists(self) -> tuple[tuple[str, list[str]], ...]:
        return (("company_keys", [company_key(c) for c in self.companies]),
                ("therapy_areas", [t.lower() for t in self.therapy_areas]),
                ("regions", region_values(self.regions)))

    def where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.audience == "public":
            clauses.append({"audience": "public"})
        if self.doc_types:
            clauses.append({"doc_type": {"$in": list(self.doc_types)}})
        if self.date_from:
            clauses.append({"published": {"$gte": self.date_from}})
        if self.date_to:
            clauses.append({"published": {"$lte": self.date_to}})
        for field_name, values in self._lists():
            if values:
                ors = [{field_name: {"$contains": v}} for v in values]
                clauses.append(ors[0] if len(ors) == 1 else {"$or": ors})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def allows(self, meta: dict[str, Any]) -> bool:
        if self.audience == "public" and meta.get("audience") != "public":
            return False
        if self.doc_types and meta.get("doc_type") not in self.doc_types:
            return False
        published = int(meta.get("published", 0) or 0)
        if self.date_from and published < self.date_from:
            return False
        if self.date_to and published > self.date_to:
            return False
        return all(not values or set(values) & set(meta.get(name) or []) for name, values in self._lists())


@dataclass
class _Table:
    """Per-row metadata aligned with the lexical index, for fast filter masks."""

    generation: int
    public: np.ndarray
    published: np.ndarray
    doc_type: np.ndarray
    superseded: dict[str, str]
    ids: list[str]
    row_of: dict[str, int]
    postings: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def mask(self, filters: Filters) -> np.ndarray:
        mask = np.ones(len(self.public), dtype=bool)
        if filters.audience == "public":
            mask &= self.public
        if filters.doc_types:
            mask &= np.isin(self.doc_type, list(filters.doc_types))
        if filters.date_from:
            mask &= self.published >= filters.date_from
        if filters.date_to:
            mask &= self.published <= filters.date_to
        for name, values in filters._lists():
            if values:
                rows = np.zeros(len(mask), dtype=bool)
                for value in values:
                    rows[self.postings.get(name, {}).get(value, np.array([], dtype=np.int64))] = True
                mask &= rows
        return mask


SUPERSEDED_WEIGHT = 0.5


class HybridRetriever:
    def __init__(self, store: IndexStore, embedder: Embedder, *, candidates: int = 40, rrf_k: int = 60,
                 max_cached_vectors: int = 250_000, exact_below: int = 20_000) -> None:
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.max_cached_vectors = max_cached_vectors
        self.exact_below = exact_below
        self._table: _Table | None = None
        self._vectors: np.ndarray | None = None
        self._vectors_generation = -1
        # the internal chunks' row numbers and vectors, copied once per index generation
        self._withheld_rows: tuple[int, np.ndarray, np.ndarray] = (-1, np.zeros(0, dtype=np.int64),
                                                                   np.zeros((0, 0), dtype=np.float32))

    def _rows(self) -> _Table:
        lexical = self.store.lexical()
        if self._table is not None and self._table.generation == lexical.generation:
            return self._table
        position = {cid: row for row, cid in enumerate(lexical.ids)}
        n = len(lexical.ids)
        public = np.zeros(n, dtype=bool)
        published = np.zeros(n, dtype=np.int64)
        doc_type = np.empty(n, dtype=object)
        postings: dict[str, dict[str, list[int]]] = {"company_keys": {}, "therapy_areas": {}, "regions": {}}
        for cid, audience, date, kind, companies, areas, regions in self.store.catalog.filter_fields():
            row = position.get(cid)
            if row is None:
                continue
            public[row] = audience == "public"
            published[row] = date
            doc_type[row] = kind
            for name, values in (("company_keys", companies), ("therapy_areas", areas), ("regions", regions)):
                for value in values:
                    postings[name].setdefault(value, []).append(row)
        self._table = _Table(lexical.generation, public, published, doc_type, self.store.catalog.superseded(),
                             lexical.ids, position,
                             {k: {v: np.array(r, dtype=np.int64) for v, r in d.items()} for k, d in postings.items()})
        return self._table

    def _dense(self, vector: np.ndarray, filters: Filters, table: _Table, mask: np.ndarray) -> list[tuple[str, float]]:
        """Dense candidates that pass the filters.

        When the filters keep most of the index (a public caller, say), an unfiltered ANN query over-fetched
        and masked in memory is several times faster than Chroma's metadata pre-filter. Narrow filters
        (a company, a date range) score the allowed rows exactly against vectors held in memory: Chroma's
        pre-filter takes hundreds of milliseconds at 100k chunks. An index of up to `exact_below` chunks is
        always scored exactly in memory. Either way only allowed rows come back.
        """
        kept_share = float(mask.mean()) if len(mask) else 1.0
        small = len(table.ids) <= self.exact_below  # exact search over a small index beats an ANN round trip
        if (kept_share < 0.5 or small) and self._matrix(table) is not None:
            rows = np.flatnonzero(mask)
            if len(rows) == 0:
                return []
            sims = self._matrix(table)[rows] @ np.asarray(vector, dtype=np.float32)  # type: ignore[index]
            best = np.argsort(-sims)[: self.candidates]
            return [(table.ids[int(rows[i])], float(sims[i])) for i in best]
        if filters.where() is None or kept_share >= 0.5:
            wanted = self.candidates if kept_share >= 1.0 else int(self.candidates / max(kept_share, 0.5) * 1.5)
            raw = self.store.vectors.query(vector, wanted)
            allowed = [(cid, sim) for cid, sim in raw
                       if (row := table.row_of.get(cid)) is not None and mask[row]][: self.candidates]
            if len(allowed) >= min(self.candidates, int(mask.sum())) // 2:
                return allowed
        return self.store.vectors.query(vector, self.candidates, where=filters.where())

    def _matrix(self, table: _Table) -> np.ndarray | None:
        """All chunk vectors in row order, fetched once per index generation (None above the size cap)."""
        if self._vectors_generation == table.generation:
            return self._vectors
        self._vectors, self._vectors_generation = None, table.generation
        if len(table.ids) > self.max_cached_vectors:
            return None
        matrix = np.zeros((len(table.ids), 0), dtype=np.float32)
        for lo in range(0, len(table.ids), 5000):
            page = table.ids[lo:lo + 5000]
            found = self.store.vectors.vectors(page)
            if matrix.shape[1] == 0 and found:
                matrix = np.zeros((len(table.ids), len(next(iter(found.values())))), dtype=np.float32)
            for offset, cid in enumerate(page):
                if cid in found:
                    matrix[lo + offset] = found[cid]
        self._vectors = matrix
        return matrix

    def _withheld(self, vector: np.ndarray, table: _Table) -> float:
        """The question's best cosine similarity with a chunk a public caller may not see (0.0 when there is none):
        a question nearer the internal documents than any public one is about what they hold."""
        nearest = self._nearest_withheld(vector, table, 1)
        return nearest[0][1] if nearest else 0.0

    def _nearest_withheld(self, vector: np.ndarray, table: _Table, n: int) -> list[tuple[str, float]]:
        """The `n` chunks a public caller may not see that are nearest the question (chunk id, cosine similarity),
        from the vectors held in memory, or one filtered query above the size cap."""
        matrix = self._matrix(table)
        if matrix is None:
            return self.store.vectors.query(vector, n, where={"audience": {"$ne": "public"}})
        if self._withheld_rows[0] != table.generation:
            rows = np.flatnonzero(~table.public)
            self._withheld_rows = (table.generation, rows, matrix[rows])
        _, rows, vectors = self._withheld_rows
        if not len(rows):
            return []
        sims = vectors @ np.asarray(vector, dtype=np.float32)
        top = np.argsort(-sims)[:n]
        return [(table.ids[rows[i]], float(sims[i])) for i in top]

    def nearest_withheld(self, vector: np.ndarray, n: int) -> list[str]:
        """The ids of the `n` chunks a public caller may not see nearest the question's vector. For a check made on
        the public answer's behalf only: what they say is never shown to the public."""
        return [cid for cid, _ in self._nearest_withheld(vector, self._rows(), n)]

    def following(self, chunk: Chunk, n: int) -> list[Chunk]:
        """Up to `n` chunks that follow `chunk` in its document, for whoever was allowed to see `chunk`.

        Every filter a hit passed reads document metadata, which a document's chunks share; a neighbour must
        still carry the same document id and audience, so even an inconsistent catalog never shows an internal
        chunk after a public one.
        """
        return [c for c in self.store.catalog.next_chunks(chunk.chunk_id, n)
                if c.doc_id == chunk.doc_id and c.meta.get("audience") == chunk.meta.get("audience")]

    def superseded_by(self, doc_id: str) -> str | None:
        return self._rows().superseded.get(doc_id)

    def warm_up(self) -> None:
        self._matrix(self._rows())
        warm = getattr(self.embedder, "warm_up", None)
        if warm:
            warm()

    def search_asks(self, query: str, asks: list[str], filters: Filters, k: int,
                    timings: dict[str, float] | None = None, *, vectors: np.ndarray | None = None) -> list[Hit]:
        """A compound question's hits: the whole question's and each ask's, interleaved rank by rank (first of
        each, then second of each…) without repeats, so one ask's evidence does not crowd out another's. The
        question and its asks are embedded in one model call (`vectors`, when the caller has them already)."""
        timings = timings if timings is not None else {}
        if vectors is None:
            started = time.perf_counter()
            vectors = self.embedder.embed([query, *asks])
            timings["embed_asks_ms"] = (time.perf_counter() - started) * 1e3
        ranked = [self.search(text, filters, k, timings if i == 0 else None, vector=vector)
                  for i, (text, vector) in enumerate(zip([query, *asks], vectors, strict=True))]
        merged: dict[str, Hit] = {}
        for rank in range(max(len(r) for r in ranked)):
            for results in ranked:
                if rank < len(results):
                    merged.setdefault(results[rank].chunk.chunk_id, results[rank])
        return list(merged.values())

    def search(self, query: str, filters: Filters, k: int, timings: dict[str, float] | None = None, *,
               vector: np.ndarray | None = None) -> list[Hit]:
        """The top `k` hits by rank fusion of dense and BM25 search; `vector` is the query's embedding, when the
        caller has it already (several queries embedded in one call)."""
        timings = timings if timings is not None else {}
        t0 = time.perf_counter()
        embedded = vector is None
        vector = self.embedder.embed([query])[0] if vector is None else vector
        t1 = time.perf_counter()
        table = self._rows()
        mask = table.mask(filters)
        dense = self._dense(vector, filters, table, mask)
        t2 = time.perf_counter()
        lexical = self.store.lexical()
        lex_rows = lexical.search(query, self.candidates, mask=mask)
        t3 = time.perf_counter()
        fused: dict[str, float] = {}
        for rank, (cid, _) in enumerate(dense):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        lex_scores = {}
        for rank, (row, score) in enumerate(lex_rows):
            cid = lexical.ids[row]
            lex_scores[cid] = score
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        dense_sim = dict(dense)
        # a document replaced by a newer one only surfaces when nothing better matches
        for cid in fused:
            if cid.split("#", 1)[0] in table.superseded:
                fused[cid] *= SUPERSEDED_WEIGHT
        ranked = sorted(fused, key=lambda c: -fused[c])
        hits: list[Hit] = []
        for chunk in self.store.catalog.iter_chunks(ranked[: k * 2]):
            if not filters.allows(chunk.meta):
                log.error("filter leak blocked: chunk %s does not match %s", chunk.chunk_id, filters)
                continue
            cid = chunk.chunk_id
            hits.append(Hit(chunk, fused[cid], dense_sim.get(cid), lex_scores.get(cid)))
            if len(hits) == k:
                break
        if embedded:
            timings["embed_ms"] = (t1 - t0) * 1e3
        timings.update(dense_ms=(t2 - t1) * 1e3, lexical_ms=(t3 - t2) * 1e3,
                       fuse_ms=(time.perf_counter() - t3) * 1e3)
        if dense:
            timings["top_dense_similarity"] = dense[0][1]
        if filters.audience == "public":
            timings["top_withheld_similarity"] = self._withheld(vector, table)
        return hits
