"""The hybrid retriever as a LangChain BaseRetriever (imported only by callers that want LangChain)."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from advisor.retrieve import Filters
from advisor.types import Hit


class AdvisorRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain retriever, for chains and tools that expect one."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hybrid: Any
    filters: Filters = Filters()
    k: int = 8

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        return [to_langchain(hit) for hit in self.hybrid.search(query, self.filters, self.k)]


def to_langchain(hit: Hit) -> LCDocument:
    meta = {k: v for k, v in hit.chunk.meta.items()}
    meta.update(chunk_id=hit.chunk.chunk_id, score=hit.score)
    return LCDocument(page_content=hit.chunk.text, metadata=meta, id=hit.chunk.chunk_id)
