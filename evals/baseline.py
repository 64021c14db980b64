"""The baseline to beat: the LangChain tutorial RAG, run through the same `System` seam as ours.

What it is, on purpose: documents split by `RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`,
embedded with the *same* embedder as ours (wrapped as a LangChain `Embeddings`), stored in `langchain_chroma.Chroma`,
dense top-4, passages "stuffed" into the answer. No hybrid search, no evidence gate, no citation check, no
follow-up condensing: it never refuses.

Its answer without an LLM is the four stuffed passages themselves, cited [1]..[4] (generous: the gold answer is in the
text whenever retrieval found it). The `compose` argument is the seam where the same LLM as ours, with the
tutorial prompt, can write the answer once the advisor's settings configure an LLM generator.

Two deliberate departures from the tutorial, both about the data rather than the method: a document's title is
prepended to its text when the text does not already start with it (the tutorial's web loader keeps the page title
in the text, and BEIR embeds title + text), and a public caller only sees `audience: public` documents (a deployment
rule, so leakage is not counted against the baseline for a reason that has nothing to do with RAG quality).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings

from advisor.config import Audience, Settings
from advisor.embed import Embedder
from advisor.types import Answer, Citation, Document, Source, Turn
from evals.system import Retrieved

log = logging.getLogger(__name__)

BASELINE_NAME = "naive-baseline"
CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4
# bump when the way documents become chunks changes: the cached collection is then rebuilt
BASELINE_VERSION = "2"
_COLLECTION = "naive_baseline"
_ADD_BATCH = 512

Composer = Callable[[str, list[Retrieved]], str]
_SPACES = re.compile(r"\s+")


class EmbedderEmbeddings(Embeddings):
    """Our `Embedder` as a LangChain `Embeddings`; counts the document texts it embeds."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.documents_embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents_embedded += len(texts)
        return self.embedder.embed(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text])[0].tolist()


def stuff_passages(question: str, passages: list[Retrieved]) -> str:
    """The no-LLM answer: the retrieved passages, stuffed in rank order, cited [1]..[n]."""
    return "\n\n".join(f"{_SPACES.sub(' ', p.text).strip()} [{n}]" for n, p in enumerate(passages, start=1))


class NaiveBaseline:
    """Dense top-k over Chroma; answers are the stuffed passages. Implements `evals.system.System`."""

    name = BASELINE_NAME

    def __init__(self, store: Any, embeddings: EmbedderEmbeddings, *, compose: Composer | None = None,
                 top_k: int = TOP_K, chunks: int = 0) -> None:
        self.store = store
        self.embeddings = embeddings
        self.compose = compose or stuff_passages
        self.top_k = top_k
        self.chunks = chunks
        self.index_report: dict[str, float] = {}

    def _search(self, question: str, k: int, audience: Audience) -> list[tuple[LCDocument, float]]:
        if k <= 0:
            raise ValueError(f"k must be greater than 0, got {k}")
        where = {"audience": "public"} if audience == "public" else None
        return self.store.similarity_search_with_score(question, k=k, filter=where)

    def retrieve(self, question: str, *, k: int, audience: Audience = "internal") -> list[Retrieved]:
        # Chroma's default space is squared L2; on unit vectors cosine = 1 - d/2
        return [Retrieved(str(doc.metadata["doc_id"]), doc.page_content, 1.0 - float(dist) / 2)
                for doc, dist in self._search(question, k, audience)]

    def answer(self, question: str, *, audience: Audience = "public", history: list[Turn] | None = None) -> Answer:
        """Top-4 passages stuffed and cited; `history` is ignored, as in the tutorial's single-turn chain."""
        found = self._search(question, self.top_k, audience)
        passages = [Retrieved(str(d.metadata["doc_id"]), d.page_content, 1.0 - float(s) / 2) for d, s in found]
        citations = []
        for n, (doc, _) in enumerate(found, start=1):
            meta = doc.metadata
            citations.append(Citation(
                n=n, doc_id=str(meta["doc_id"]), title=str(meta.get("title", "")),
                audience=str(meta.get("audience", "")), chunk_id=str(meta.get("chunk_id", "")),
                passage=doc.page_content, char_start=int(meta.get("char_start", 0)),
                char_end=int(meta.get("char_end", 0))))
        sources = list({c.doc_id: Source(doc_id=c.doc_id, title=c.title) for c in citations}.values())
        return Answer(question=question, text=self.compose(question, passages), citations=citations, sources=sources,
                      covered=True, route="naive", audience=audience)


def split_documents(documents: Sequence[Document]) -> list[LCDocument]:
    """The tutorial's splitter over our documents; each chunk keeps its document id, title and audience."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True)
    inputs = []
    for doc in documents:
        title = doc.title.strip()
        head = doc.text.lstrip("# \n")[: len(title)]
        # joined by a space, not a blank line: the splitter would otherwise cut the title off as a chunk of its own
        prefix = f"{title.rstrip('.')}. " if title and title != doc.doc_id and head.lower() != title.lower() else ""
        inputs.append(LCDocument(page_content=prefix + doc.text, metadata={
            "doc_id": doc.doc_id, "title": title, "audience": str(doc.meta.get("audience", "internal")),
            "prefix_chars": len(prefix)}))
    splits = splitter.split_documents(inputs)
    for split in splits:
        meta = split.metadata
        # the span in the document's own text (the prepended title is not part of it)
        start = int(meta.pop("start_index", 0)) - int(meta.pop("prefix_chars", 0))
        meta["char_start"], meta["char_end"] = max(0, start), max(0, start + len(split.page_content))
        digest = hashlib.sha1(json.dumps([meta["doc_id"], meta["char_start"], split.page_content]).encode())
        meta["chunk_id"] = f"{meta['doc_id']}@{digest.hexdigest()[:16]}"
    return splits


def naive_baseline(settings: Settings, embedder: Embedder, documents: Sequence[Document], *, cache_dir: Path,
                   compose: Composer | None = None) -> NaiveBaseline:
    """Build (or reopen from `cache_dir`) the tutorial RAG over `documents`; an unchanged re-run embeds nothing.

    `settings` is where an LLM generator for `compose` will come from; today the stuffed passages are the answer.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    del settings  # the seam for an LLM composer; unused until the advisor configures one
    embeddings = EmbedderEmbeddings(embedder)
    splits = split_documents(documents)
    ids = [s.metadata["chunk_id"] for s in splits]
    fingerprint = hashlib.sha256(json.dumps(
        [BASELINE_VERSION, getattr(embedder, "name", "?"), CHUNK_SIZE, CHUNK_OVERLAP, ids]).encode()).hexdigest()
    cache_dir.mkdir(parents=True, exist_ok=True)
    manifest = cache_dir / "manifest.json"
    client = chromadb.PersistentClient(path=str(cache_dir / "chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma(collection_name=_COLLECTION, embedding_function=embeddings, client=client)
    cached = (manifest.is_file() and json.loads(manifest.read_text()).get("fingerprint") == fingerprint
              and client.get_collection(_COLLECTION).count() == len(splits))
    if not cached:
        manifest.unlink(missing_ok=True)
        store.reset_collection()
        for lo in range(0, len(splits), _ADD_BATCH):
            store.add_documents(splits[lo:lo + _ADD_BATCH], ids=ids[lo:lo + _ADD_BATCH])
        manifest.write_text(json.dumps({"fingerprint": fingerprint, "chunks": len(splits),
                                        "documents": len(documents)}))
    log.info("naive baseline: %d documents, %d chunks, %d embedded (cache %s)", len(documents), len(splits),
             embeddings.documents_embedded, "hit" if cached else "miss")
    return NaiveBaseline(store, embeddings, compose=compose, chunks=len(splits))


def corpus_documents(advisor: Any) -> list[Document]:
    """Every document an advisor's index holds, read from its catalog (the truth the other indexes derive from)."""
    catalog = advisor.store.catalog
    doc_ids = sorted({chunk.doc_id for chunk in catalog.iter_chunks()})
    return [doc for doc in (catalog.document(d) for d in doc_ids) if doc is not None]


def baseline_for(advisor: Any, cache_dir: Path, *, compose: Composer | None = None) -> NaiveBaseline:
    """The naive baseline over exactly the documents `advisor` has indexed, with the same embedder."""
    return naive_baseline(advisor.settings, advisor.embedder, corpus_documents(advisor), cache_dir=cache_dir,
                          compose=compose)
