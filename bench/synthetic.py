"""Diverse synthetic documents for the scale benchmark, with vectors that cost no model run.

Text. Every sentence of PIAF's French Wikipedia paragraphs (761 paragraphs, 191 articles) and of
the sample corpus forms a pool (French and English kept apart). A synthetic document takes the
title of a PIAF article plus a number, and 10 to 40 paragraphs of 3 to 8 sentences drawn at random
from the pool of its language: no two passages are copies, and the keyword index sees the real
vocabulary and term frequencies of encyclopedic French (copies of one text, the worst case for
BM25, are avoided).

Vectors. Each pool sentence is embedded once with the real model (the passage prompt) and
cached on disk (`<cache>/pool-<hash>.npy`, minutes on 2 cores the first time), or, with
`--pool-stores`, taken with its text from the sentence vectors of existing stores built with the
same model (the PIAF store of `evals.piaf` and a corpus store: no model run at all). A
passage's vector is the normalised mean of its sentences' vectors, with a little noise, and a
sentence keeps its own vector: the geometry is that of real French sentences, so the vector
index faces realistic neighbourhoods, but no passage is embedded for itself.

The sample corpus itself is embedded once too (its chunks and sentences as ingestion embeds
them, cached the same way) and written into every store, so the corpus questions find their
answers among the synthetic passages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterator

import numpy as np

from ingest.load import load_document
from ingest.split import answer_sentences, split_document
from kb.schema import ACCESS_LEVELS, DOC_TYPES, Block, DocumentMeta, LoadedDocument
from kb.text import sentence_spans

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PIAF = REPO_ROOT.parent / "shared" / "benchmarks" / "piaf" / "piaf-v1.0.json"
CORPUS = REPO_ROOT / "corpus"
# Share of synthetic documents at each access level, and in English (the rest French).
ACCESS_SHARES = (0.5, 0.3, 0.2)
ENGLISH_SHARE = 0.1
ORGANISATIONS = ("MCTN", "SENUM", "ASAN", "CEAC", "IDDA", "MDDT")
SYNTHETIC_PREFIX = "synthetic/"


@dataclass
class Prepared:
    """A document ready to write: its chunks and every vector, computed before the write."""

    doc: LoadedDocument
    chunks: list
    chunk_vectors: np.ndarray
    spans: list[tuple[int, int]]
    sentence_vectors: np.ndarray


@dataclass
class Pool:
    """Sentences by language with one vector each, and the PIAF article titles."""

    sentences: dict[str, list[str]]
    vectors: dict[str, np.ndarray]
    titles: list[str]


def pool_from_stores(stores: list) -> Pool:
    """The sentence pool read from knowledge bases built with the same model (e.g. the PIAF
    store of `evals.piaf` and a store of the corpus): each sentence with the vector ingestion
    stored for it, so no model runs."""
    sentences: dict[str, list[str]] = {"fr": [], "en": []}
    vectors: dict[str, list] = {"fr": [], "en": []}
    titles = []
    for kb in stores:
        for record in kb.documents().values():
            language = "en" if record.language == "en" else "fr"
            text = kb.document_text(record.doc_id) or ""
            titles.append(record.title)
            for start, end, vector in kb.sentences_in(record.doc_id, 0, len(text)):
                if 30 <= end - start <= 400:
                    sentences[language].append(text[start:end])
                    vectors[language].append(vector)
    return Pool(sentences, {lang: _normalised(np.asarray(v, dtype=np.float32)) for lang, v in vectors.items()},
                sorted(set(titles)))


def _piaf_sentences(piaf: Path) -> tuple[list[str], list[str]]:
    data = json.loads(piaf.read_text(encoding="utf-8"))["data"]
    sentences = []
    for article in data:
        for paragraph in article["paragraphs"]:
            text = paragraph["context"]
            sentences.extend(text[s:e] for s, e in sentence_spans(text) if 30 <= e - s <= 400)
    return sentences, [article["title"].replace("_", " ") for article in data]


def corpus_documents(corpus: Path = CORPUS) -> list[LoadedDocument]:
    """The sample corpus as ingestion loads it (sidecar metadata included)."""
    from ingest.index import IngestReport, discover

    paths = discover([corpus], IngestReport())
    return [load_document(path, max_bytes=1 << 30) for path in paths]


def _cached_vectors(texts: list[str], embeddings, cache: Path, label: str, stored=None) -> np.ndarray:
    """Vectors of `texts` from the model, computed once and kept in `cache`; `stored(texts)`,
    when given, returns them without the model (or None)."""
    key = hashlib.sha256(json.dumps([label, texts], ensure_ascii=False).encode()).hexdigest()[:16]
    path = cache / f"{label.split(':')[0]}-{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = stored() if stored else None
    if vectors is None:
        log.info("embedding %d texts once for the bench cache=%s", len(texts), path)
        vectors = np.asarray(embeddings.embed_documents(texts), dtype=np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def build_pool(embeddings, model: str, cache: Path, corpus_docs: list[LoadedDocument], piaf: Path = DEFAULT_PIAF) -> Pool:
    """The sentence pool with its cached vectors."""
    french, titles = _piaf_sentences(piaf)
    english: list[str] = []
    for doc in corpus_docs:
        target = english if doc.meta.language == "en" else french
        target.extend(doc.text[s:e] for s, e, _ in answer_sentences(doc) if 30 <= e - s <= 400)
    sentences = {"fr": sorted(set(french)), "en": sorted(set(english))}
    vectors = {lang: _cached_vectors(texts, embeddings, cache, f"pool:{model}:{lang}") for lang, texts in sentences.items()}
    return Pool(sentences, vectors, titles)


def _vectors_in_store(source, layout) -> np.ndarray | None:
    """The vectors of the corpus chunks and sentences as a store of the corpus holds them, in
    `prepare_corpus`'s order; None when the store lacks any (built from another corpus version)."""
    chunk_vectors = source.chunk_vectors([c.chunk_id for _, chunks, _ in layout for c in chunks])
    vectors = []
    for doc, chunks, spans in layout:
        stored = {start: vector for start, _, vector in source.sentences_in(doc.doc_id, 0, len(doc.text))}
        if any(c.chunk_id not in chunk_vectors for c in chunks) or any(s not in stored for s, _ in spans):
            log.info("the corpus store lacks vectors of %s: embedding the corpus", doc.doc_id)
            return None
        vectors.extend(chunk_vectors[c.chunk_id] for c in chunks)
        vectors.extend(stored[s] for s, _ in spans)
    return np.asarray(vectors, dtype=np.float32)


def prepare_corpus(corpus_docs: list[LoadedDocument], embeddings, model: str, cache: Path, chunk_size: int,
                   chunk_overlap: int, source=None) -> list[Prepared]:
    """The sample corpus with vectors as ingestion computes them (cached; taken from the
    knowledge base `source` of the same corpus when given, else embedded)."""
    from ingest.index import _in_context

    texts: list[str] = []
    layout = []
    for doc in corpus_docs:
        chunks = split_document(doc, chunk_size, chunk_overlap)
        spans = answer_sentences(doc)
        texts.extend(c.embedding_text(doc.meta.title) for c in chunks)
        texts.extend(_in_context(doc.meta.title, section, doc.text[s:e]) for s, e, section in spans)
        layout.append((doc, chunks, [(s, e) for s, e, _ in spans]))
    stored = (lambda: _vectors_in_store(source, layout)) if source is not None else None
    vectors = _cached_vectors(texts, embeddings, cache, f"corpus:{model}", stored)
    prepared, offset = [], 0
    for doc, chunks, spans in layout:
        chunk_vectors = vectors[offset: offset + len(chunks)]
        offset += len(chunks)
        sentence_vectors = vectors[offset: offset + len(spans)]
        offset += len(spans)
        prepared.append(Prepared(doc, chunks, chunk_vectors, spans, sentence_vectors))
    return prepared


def _normalised(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


class SyntheticDocuments:
    """An endless, seeded stream of synthetic documents drawn from a `Pool`."""

    def __init__(self, pool: Pool, chunk_size: int, chunk_overlap: int, seed: int = 2026) -> None:
        self.pool = pool
        self.chunk_size, self.chunk_overlap = chunk_size, chunk_overlap
        self.rng = random.Random(seed)
        self.noise = np.random.default_rng(seed)

    def __iter__(self) -> Iterator[Prepared]:
        number = 0
        while True:
            number += 1
            yield self.make(number)

    def make(self, number: int) -> Prepared:
        """Synthetic document number `number` (its id and path say it is synthetic)."""
        rng = self.rng
        language = "en" if rng.random() < ENGLISH_SHARE else "fr"
        sentences, vectors = self.pool.sentences[language], self.pool.vectors[language]
        title = f"{rng.choice(self.pool.titles)} — dossier {number}"
        text, blocks, picked = "", [], []  # picked: (start, end, pool index) of every sentence
        for part in range(rng.randint(10, 40)):
            if text:
                text += "\n\n"
            start = len(text)
            for n, index in enumerate(rng.sample(range(len(sentences)), rng.randint(3, 8))):
                if n:
                    text += " "
                picked.append((len(text), len(text) + len(sentences[index]), index))
                text += sentences[index]
            blocks.append(Block(start, len(text), "paragraph", (f"Partie {part + 1}",)))
        meta = DocumentMeta(
            title=title, doc_type=rng.choice(DOC_TYPES), date=date(rng.randint(2018, 2026), rng.randint(1, 12), 1),
            organisations=tuple(rng.sample(ORGANISATIONS, rng.randint(0, 2))), language=language,
            access=rng.choices(ACCESS_LEVELS, ACCESS_SHARES)[0], illustrative=True,
        )
        doc = LoadedDocument(doc_id=f"{SYNTHETIC_PREFIX}{number:07d}", path=f"{SYNTHETIC_PREFIX}{number:07d}.md",
                             file_hash=f"synthetic-{number}", text=text, blocks=blocks, meta=meta)
        chunks = split_document(doc, self.chunk_size, self.chunk_overlap)
        chunk_vectors = np.stack([self._mean(picked, vectors, c.start, c.end) for c in chunks])
        spans = [(s, e) for s, e, _ in answer_sentences(doc)]
        sentence_vectors = np.stack([self._mean(picked, vectors, s, e) for s, e in spans])
        return Prepared(doc, chunks, chunk_vectors, spans, sentence_vectors)

    def _mean(self, picked: list[tuple[int, int, int]], vectors: np.ndarray, start: int, end: int) -> np.ndarray:
        """The normalised mean vector of the pool sentences overlapping [start, end), plus noise."""
        inside = [index for s, e, index in picked if s < end and e > start] or [picked[0][2]]
        mean = vectors[inside].mean(axis=0) + self.noise.normal(0, 0.01, vectors.shape[1])
        return _normalised(mean.astype(np.float32))

