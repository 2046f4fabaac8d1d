"""Latency of a warm `bot.answer` on a large store (20,000 chunks).

The large store is made from the sample corpus: every document is copied under new ids
until the store holds the requested number of chunks, and each copy's vectors are the
original ones with a little noise, so no new embedding is needed and the copies do not
all tie. Chroma's index and the keyword index then have the real size to search.
"""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from bot.answering import answer
from ingest.load import load_document
from ingest.split import answer_sentences, split_document
from kb.settings import Settings
from kb.store import KnowledgeBase

log = logging.getLogger(__name__)


def build_large_store(source: KnowledgeBase, work_dir: Path, chunks: int = 20_000, seed: int = 7) -> KnowledgeBase:
    """A store of about `chunks` chunks made of noisy copies of `source`'s documents."""
    settings = Settings.from_env({}, store=work_dir / f"large-{chunks}", embedding_model=source.settings.embedding_model)
    large = KnowledgeBase(settings, embeddings=source.embeddings)
    if large.exists and large.chunk_count() >= chunks:
        return large
    large.reset()
    large = KnowledgeBase(settings, embeddings=source.embeddings)
    rng = np.random.default_rng(seed)
    records = list(source.documents().values())
    originals: list[tuple[Any, list, np.ndarray, list, np.ndarray]] = []
    for record in records:
        doc = load_document(Path(record.path), max_bytes=1 << 30)
        doc_chunks = split_document(doc, settings.chunk_size, settings.chunk_overlap)
        by_id = source.chunk_vectors([c.chunk_id for c in doc_chunks])
        chunk_vectors = np.asarray([by_id[c.chunk_id] for c in doc_chunks], dtype=np.float32)
        spans = [(s, e) for s, e, _ in answer_sentences(doc)]
        stored = {start: vector for start, _, vector in source.sentences_in(doc.doc_id, 0, len(doc.text))}
        sentence_vectors = np.asarray([stored[s] for s, _ in spans], dtype=np.float32)
        originals.append((doc, doc_chunks, chunk_vectors, spans, sentence_vectors))
    per_round = sum(len(o[1]) for o in originals)
    rounds = -(-chunks // per_round)
    started = time.monotonic()
    with large.ingest_lock():
        for copy in range(rounds):
            for doc, _, chunk_vectors, spans, sentence_vectors in originals:
                clone = type(doc)(**{**doc.__dict__, "doc_id": f"{doc.doc_id}#copie-{copy}",
                                     "path": f"{doc.path}#copie-{copy}"})
                clone_chunks = split_document(clone, settings.chunk_size, settings.chunk_overlap)
                large.replace_document(
                    clone, clone_chunks, _noisy(chunk_vectors, rng), spans, _noisy(sentence_vectors, rng)
                )
            log.info("large store round=%d/%d chunks=%d", copy + 1, rounds, large.chunk_count())
    log.info("large store built chunks=%d seconds=%.0f", large.chunk_count(), time.monotonic() - started)
    return large


def _noisy(vectors: np.ndarray, rng: np.random.Generator, scale: float = 0.02) -> np.ndarray:
    noisy = vectors + rng.normal(0, scale, vectors.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def measure(kb: KnowledgeBase, questions: list[dict[str, Any]], repeat: int = 1) -> dict[str, float]:
    """p50/p95 (ms) of warm `bot.answer` calls over `questions`."""
    answer(questions[0]["question"], role="official", kb=kb)  # warm-up: model and indexes
    times = []
    for _ in range(repeat):
        for q in questions:
            started = time.perf_counter()
            answer(q["question"], history=q.get("history") or (), filters=q.get("filters") or None,
                   role=q.get("role", "reader"), kb=kb)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"calls": len(times), "p50": round(statistics.median(times), 1),
            "p95": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1)}
