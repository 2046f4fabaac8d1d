"""Retrieval: dense (Chroma) and keyword (BM25) search fused, de-duplicated and diversified.

The caller's role and filters become a `SearchFilter` applied inside both queries, so a
passage the caller may not read is never fetched, on either side.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Sequence

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from kb.store import KnowledgeBase, SearchFilter
from kb.text import keyword_terms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusionConfig:
    """How the two rankings are combined.

    `method` "convex" (default): each candidate list's scores are min-max normalised to
    [0, 1] (the best candidate of a list gets 1, the worst 0, a candidate absent from a
    list 0) and the fused score is the weighted mean, with weights `dense_weight` and
    `keyword_weight`; fused scores lie in [0, 1]. `method` "rrf": weighted
    reciprocal-rank fusion, sum of weight / (`rrf_k` + rank).

    Defaults were chosen on PIAF (3,835 questions) with `python -m evals.piaf`: on the
    same store, convex with equal weights gives Recall@5 0.916 / MRR@10 0.817, RRF with
    k=60 0.901 / 0.795 (`--fusion rrf`).
    """

    rrf_k: int = 60
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    candidates: int = 40
    max_per_document: int = 2
    duplicate_overlap: float = 0.5
    duplicate_jaccard: float = 0.85
    method: str = "convex"


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with everything needed to cite it."""

    chunk_id: str
    doc_id: str
    path: str
    title: str
    doc_type: str
    date: str
    section: str
    page: int | None
    text: str
    start: int
    end: int
    language: str
    access: str
    score: float
    dense: float | None = None
    keyword: float | None = None

    def to_document(self) -> Document:
        """The passage as a LangChain Document (text plus metadata)."""
        metadata = {k: v for k, v in self.__dict__.items() if k != "text"}
        return Document(page_content=self.text, metadata=metadata, id=self.chunk_id)


_OTHER_LANGUAGE = {"fr": "en", "en": "fr"}


def dense_search(kb: KnowledgeBase, query_vector: Sequence[float], k: int, where: SearchFilter) -> list[tuple[str, float]]:
    """(chunk_id, cosine similarity) best first, among the vectors `where` allows: only the
    store's partitions of the allowed access levels and language are searched (`KnowledgeBase.nearest`)."""
    return dense_searches(kb, query_vector, [(k, where)])[0]


def dense_searches(kb: KnowledgeBase, query_vector: Sequence[float],
                   searches: Sequence[tuple[int, SearchFilter]]) -> list[list[tuple[str, float]]]:
    """`dense_search` for several (k, filter) pairs of one vector, each partition queried once."""
    # Chroma returns cosine distances for these collections; similarity = 1 - distance.
    return [[(cid, 1.0 - distance) for cid, distance in hits] for hits in kb.nearest_each(query_vector, searches)]


def fuse(
    dense: Sequence[tuple[str, float]], keyword: Sequence[tuple[str, float]], config: FusionConfig
) -> list[tuple[str, float]]:
    """Fusion of two rankings of (id, score) best first: (id, fused score) best first.

    See `FusionConfig` for the two methods. Ties keep the order of first appearance
    (dense list first).
    """
    scores: dict[str, float] = {}
    rankings = ((config.dense_weight, dense), (config.keyword_weight, keyword))
    if config.method == "rrf":
        for weight, ranking in rankings:
            for rank, (cid, _) in enumerate(ranking, start=1):
                scores[cid] = scores.get(cid, 0.0) + weight / (config.rrf_k + rank)
    elif config.method == "convex":
        total = sum(weight for weight, ranking in rankings if ranking) or 1.0
        for weight, ranking in rankings:
            for cid, value in _min_max(ranking):
                scores[cid] = scores.get(cid, 0.0) + weight * value / total
    else:
        raise ValueError(f"unknown fusion method {config.method!r}: use 'convex' or 'rrf'")
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


def _min_max(ranking: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Scores of one list rescaled to [0, 1] (all 1.0 when they are all equal)."""
    if not ranking:
        return []
    values = [float(score) for _, score in ranking]
    low, high = min(values), max(values)
    if high - low <= 1e-12:
        return [(cid, 1.0) for cid, _ in ranking]
    return [(cid, (value - low) / (high - low)) for (cid, _), value in zip(ranking, values)]


def retrieve(
    kb: KnowledgeBase,
    query: str,
    where: SearchFilter,
    k: int = 8,
    *,
    query_vector: Sequence[float] | None = None,
    config: FusionConfig = FusionConfig(),
    language: str | None = None,
) -> list[Passage]:
    """The `k` best passages for `query` that `where` allows, fused, merged and diversified
    (overlaps and near-duplicates dropped, a few passages per document): the list shown as
    sources. The reading stage reads `rank_passages` instead, which keeps every passage."""
    ranked = rank_passages(kb, query, where, query_vector=query_vector, config=config, language=language)
    return diversify(ranked, k, config)


def rank_passages(
    kb: KnowledgeBase,
    query: str,
    where: SearchFilter,
    *,
    query_vector: Sequence[float] | None = None,
    config: FusionConfig = FusionConfig(),
    language: str | None = None,
) -> list[Passage]:
    """Every candidate passage for `query` that `where` allows, best first by fused score,
    with no cap per document and no de-duplication.

    With the question's `language`, passages in the other language are searched too (the
    model ranks passages in the question's language above equally relevant ones in the
    other language, so they may fall outside the first search) and fused like any other:
    no passage gets a top score for being the best of its language. Keywords cannot match
    across languages, so other-language passages rank low here; the reading stage reads
    the best of them anyway (`reading_passages`) and the reader judges them.
    """
    if query_vector is None:
        query_vector = kb.embeddings.embed_query(query)
    searches = [(config.candidates, where)]
    if _crosses_languages(where, config, language):
        searches.append((config.candidates // 2, replace(where, language=_OTHER_LANGUAGE[str(language)])))
    dense, *other = dense_searches(kb, query_vector, searches)
    keyword = kb.keyword_search(query, config.candidates, where)
    if other:
        dense = sorted(dict(dense + other[0]).items(), key=lambda item: item[1], reverse=True)
    fused = fuse(dense, keyword, config)
    rows = kb.chunks_by_id([cid for cid, _ in fused])
    # Defence in depth: the catalog's access level is checked again, whatever Chroma's metadata says.
    rows = {cid: row for cid, row in rows.items() if row["access"] in where.access}
    dense_by_id, keyword_by_id = dict(dense), dict(keyword)
    ranked = []
    for cid, score in fused:
        row = rows.get(cid)
        if row is None:  # a vector whose catalog row is gone (interrupted ingestion): skip it
            continue
        ranked.append(_passage(row, score, dense_by_id.get(cid), keyword_by_id.get(cid)))
    return ranked


def _crosses_languages(where: SearchFilter, config: FusionConfig, language: str | None) -> bool:
    """Is the other language searched too? Not when the filter fixes a language, the
    question's language has no other, or the fusion is not convex."""
    return bool(language and config.method == "convex" and where.language is None and language in _OTHER_LANGUAGE)


def reading_passages(ranked: Sequence[Passage], n: int, other_language: int, language: str | None) -> list[Passage]:
    """What the reader reads: the `n` best passages of the fused ranking, plus the best
    `other_language` passages in another language than `language` that are not among them,
    so that the reader, not the ranking, judges across languages."""
    chosen = list(ranked[:n])
    if language and other_language:
        others = [p for p in ranked[n:] if p.language != language][:other_language]
        chosen.extend(others)
    return chosen


def diversify(ranked: list[Passage], k: int, config: FusionConfig = FusionConfig()) -> list[Passage]:
    """Drop overlapping and near-duplicate passages; cap passages per document unless
    nothing else is left to fill the `k` slots."""
    chosen: list[Passage] = []
    overflow: list[Passage] = []
    terms: dict[str, set[str]] = {}
    per_doc: dict[str, int] = {}
    for passage in ranked:
        words = set(keyword_terms(passage.text))
        if any(_duplicate(passage, words, other, terms[other.chunk_id], config) for other in chosen):
            continue
        if per_doc.get(passage.doc_id, 0) >= config.max_per_document:
            overflow.append(passage)
            continue
        chosen.append(passage)
        terms[passage.chunk_id] = words
        per_doc[passage.doc_id] = per_doc.get(passage.doc_id, 0) + 1
        if len(chosen) == k:
            return chosen
    for passage in overflow:
        if len(chosen) == k:
            break
        chosen.append(passage)
    return sorted(chosen, key=lambda p: p.score, reverse=True)


def _duplicate(a: Passage, a_terms: set[str], b: Passage, b_terms: set[str], config: FusionConfig) -> bool:
    if a.doc_id == b.doc_id:
        overlap = min(a.end, b.end) - max(a.start, b.start)
        if overlap > config.duplicate_overlap * min(a.end - a.start, b.end - b.start):
            return True
    if not a_terms or not b_terms:
        return False
    return len(a_terms & b_terms) / len(a_terms | b_terms) >= config.duplicate_jaccard


def _passage(row: dict[str, Any], score: float, dense: float | None, keyword: float | None) -> Passage:
    return Passage(
        chunk_id=row["chunk_id"], doc_id=row["doc_id"], path=row["path"], title=row["title"],
        doc_type=row["doc_type"], date=row["date"], section=row["section"], page=row["page"],
        text=row["text"], start=row["start"], end=row["end"], language=row["language"],
        access=row["access"], score=score, dense=dense, keyword=keyword,
    )


class PassageRetriever(BaseRetriever):
    """LangChain retriever over the knowledge base, for use in any LangChain chain.

    The role is fixed when the retriever is built, so every query it runs is filtered.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: KnowledgeBase
    where: SearchFilter = SearchFilter()
    k: int = 8
    config: FusionConfig = FusionConfig()

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [p.to_document() for p in retrieve(self.kb, query, self.where, self.k, config=self.config)]

