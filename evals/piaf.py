"""PIAF v1.0 retrieval benchmark: BM25 alone, dense alone and the product's hybrid.

Every PIAF paragraph becomes one small Markdown document (front matter: the article
title, doc_type report, language fr, access public) ingested by the product's own
ingestion into a store under the work folder; the gold document of a question is its
paragraph. Scoring is at document level: a document's rank is the rank of its first
chunk. The three rankings are computed over the same store in the same run:

- bm25: `KnowledgeBase.keyword_search` (the catalog's keyword index: SQLite FTS5, or PostgreSQL
  full-text search with `--database-url`);
- dense: `bot.answering.retrieve.dense_search` with the query embedded with the query prompt;
- hybrid: `bot.answering.retrieve.retrieve` (fusion + diversification), the path `bot.answer` uses,
  with role admin so no access filter applies.

The store folder is keyed by a hash of the PIAF file, the keyword analyzer version, the
embedding model and the chunking settings, so a re-run reuses it and only embeds the
questions.

With `--database-url postgresql://…` the same store is read through a PostgreSQL catalog
(the store's SQLite catalog is copied into that database first when it holds none), so both
catalogs are compared on one Chroma store.

    python -m evals.piaf [--piaf PATH] [--work DIR] [--limit N] [--database-url URL]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import dataclasses
import hashlib
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from kb.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from bot.answering.retrieve import FusionConfig

log = logging.getLogger(__name__)

DEFAULT_PIAF = PROJECT_ROOT.parent / "shared" / "benchmarks" / "piaf" / "piaf-v1.0.json"
DEFAULT_WORK = PROJECT_ROOT / "data" / "eval-piaf"
ROLE = "admin"
CUTOFFS = (1, 5, 10)
MRR_AT = 10
# Chunks fetched per query for the single-retriever rankings, so that 10 distinct
# documents remain when a long paragraph was split in two.
DEPTH = 20
METRICS = ("R@1", "R@5", "R@10", "MRR@10")
ROWS = ("bm25", "dense", "hybrid")
ROW_LABELS = {
    "bm25": "BM25 (keyword index)",
    "dense": "dense (embedding model)",
    "hybrid": "**hybrid (fuse + diversify)**",
}
# Measured elsewhere on the same data (R@5 and MRR@10 from the issue; R@1/R@10 of BM25
# from shared/benchmarks/README.md); None = not reported.
REFERENCE = (
    ("ref. BM25 (rank-bm25)", {"R@1": 0.653, "R@5": 0.822, "R@10": 0.862, "MRR@10": 0.725}),
    ("ref. dense multilingual-e5-small", {"R@1": None, "R@5": 0.864, "R@10": None, "MRR@10": 0.744}),
    ("ref. plain RRF of the two", {"R@1": None, "R@5": 0.877, "R@10": None, "MRR@10": 0.770}),
)
TARGETS = {"R@5": 0.90, "MRR@10": 0.78}
_STORE_MARK = "piaf-store.json"


@dataclass(frozen=True)
class PiafSet:
    """Paragraphs (article title, text) and questions (text, index of the gold paragraph)."""

    paragraphs: list[tuple[str, str]]
    questions: list[tuple[str, int]]
    limit: int | None = None
    """The question limit applied (None: the whole set)."""


def load_piaf(path: Path, limit: int | None = None) -> PiafSet:
    """Read a SQuAD-v1 PIAF file; with `limit`, keep that many questions spread evenly
    over the set, their paragraphs and as many distractor paragraphs of their articles
    (a small store, quick to build: a smoke test, not comparable with the full figures)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    paragraphs: list[tuple[str, str]] = []
    questions: list[tuple[str, int]] = []
    article_of: list[int] = []
    for a, article in enumerate(data["data"]):
        title = str(article.get("title") or "").replace("_", " ").strip() or f"Article {a + 1}"
        for paragraph in article["paragraphs"]:
            index = len(paragraphs)
            paragraphs.append((title, paragraph["context"]))
            article_of.append(a)
            for qa in paragraph["qas"]:
                text = " ".join(str(qa["question"]).split())
                if text:
                    questions.append((text, index))
    if limit is None or limit >= len(questions):
        return PiafSet(paragraphs, questions)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    step = len(questions) / limit
    chosen = [questions[int(i * step)] for i in range(limit)]
    # The gold paragraphs, plus other paragraphs of the same articles as distractors
    # (same topic, hardest to tell apart) up to twice as many documents as questions.
    keep = {p for _, p in chosen}
    target = 2 * len(keep)
    for article in dict.fromkeys(article_of[p] for _, p in chosen):
        for i in range(len(paragraphs)):
            if len(keep) >= target:
                break
            if article_of[i] == article and i not in keep:
                keep.add(i)
                break
    kept = sorted(keep)
    new_index = {old: new for new, old in enumerate(kept)}
    return PiafSet([paragraphs[i] for i in kept], [(q, new_index[p]) for q, p in chosen], limit)


def _document(title: str, text: str) -> str:
    import yaml

    meta = {"title": title, "doc_type": "report", "language": "fr", "access": "public", "date": "2019-01-01"}
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n\n" + text.strip() + "\n"


def _store_key(piaf_bytes: bytes, settings: Settings, limit: int | None) -> str:
    from kb.store import model_label
    from kb.text import KEYWORD_ANALYZER_VERSION

    digest = hashlib.sha256(piaf_bytes)
    for part in (
        f"analyzer={KEYWORD_ANALYZER_VERSION}", f"model={model_label(settings.embedding_model)}",
        f"chunks={settings.chunk_size}/{settings.chunk_overlap}", f"limit={limit}",
    ):
        digest.update(b"\x00" + part.encode())
    return digest.hexdigest()[:16]


def build_store(piaf_path: Path, work_dir: Path, *, precision: str = "auto", limit: int | None = None) -> tuple[Any, PiafSet, dict[str, int]]:
    """The knowledge base of the PIAF paragraphs (built or reused), the data set, and
    the gold-paragraph index of every document id."""
    from ingest.index import ingest_paths
    from kb.store import KnowledgeBase

    piaf_path, work_dir = Path(piaf_path), Path(work_dir)
    raw = piaf_path.read_bytes()
    data = load_piaf(piaf_path, limit)
    settings = Settings.from_env(embedding_precision=precision)
    key = _store_key(raw, settings, data.limit)
    docs_dir = (work_dir / "docs" / key).resolve()
    store_dir = (work_dir / f"store-{key}").resolve()
    # Embedded Chroma under the work folder, whatever the environment says.
    settings = dataclasses.replace(settings, store=store_dir, chroma_host=None, database_url=None, collection="piaf")

    width = max(4, len(str(len(data.paragraphs))))
    names = [f"{i:0{width}d}" for i in range(len(data.paragraphs))]
    mark = store_dir / _STORE_MARK
    if not _store_complete(mark, len(names)):
        docs_dir.mkdir(parents=True, exist_ok=True)
        for name, (title, text) in zip(names, data.paragraphs):
            target = docs_dir / f"{name}.md"
            content = _document(title, text)
            if not target.is_file() or target.read_text(encoding="utf-8") != content:
                target.write_text(content, encoding="utf-8")
        log.info("ingesting PIAF paragraphs documents=%d store=%s", len(names), store_dir)
        started = time.monotonic()
        report = ingest_paths([docs_dir], settings, prune=True, progress=False)
        if report.failed:
            raise RuntimeError(f"PIAF ingestion failed for {report.failed} document(s): {report.errors[:3]}")
        log.info("ingested documents=%d chunks=%d seconds=%.1f", report.total, report.chunks_total,
                 time.monotonic() - started)
        mark.write_text(json.dumps({"piaf": str(piaf_path), "documents": len(names), "limit": data.limit}), encoding="utf-8")
    else:
        log.info("reusing PIAF store %s", store_dir)

    knowledge = KnowledgeBase(settings)
    gold_of: dict[str, int] = {}
    for doc_id, record in knowledge.documents().items():
        stem = Path(record.path).stem
        if stem.isdigit() and int(stem) < len(names):
            gold_of[doc_id] = int(stem)
    missing = len(names) - len(set(gold_of.values()))
    if missing or len(gold_of) != len(names):
        knowledge.close()
        mark.unlink(missing_ok=True)
        raise RuntimeError(
            f"the PIAF store {store_dir} holds {len(gold_of)} documents for {len(names)} paragraphs; "
            "delete the folder and run again"
        )
    return knowledge, data, gold_of


def _store_complete(mark: Path, documents: int) -> bool:
    try:
        return json.loads(mark.read_text(encoding="utf-8")).get("documents") == documents
    except (OSError, ValueError):
        return False


def _doc_ranking(chunk_ids: Sequence[str], doc_of_chunk: dict[str, str], depth: int = MRR_AT) -> list[str]:
    """Distinct documents in order of their first chunk, at most `depth`."""
    docs: list[str] = []
    for cid in chunk_ids:
        doc = doc_of_chunk.get(cid)
        if doc is not None and doc not in docs:
            docs.append(doc)
            if len(docs) == depth:
                break
    return docs


def _metrics(ranks: Sequence[int | None]) -> dict[str, float]:
    n = max(len(ranks), 1)
    row = {f"R@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in CUTOFFS}
    row[f"MRR@{MRR_AT}"] = sum(1.0 / r for r in ranks if r is not None and r <= MRR_AT) / n
    return row


def _question_vectors(knowledge: Any, texts: list[str]) -> Any:
    """Query vectors of all questions in one batch, cached beside the store."""
    import numpy as np

    embeddings = knowledge.embeddings
    digest = hashlib.sha256("\x00".join(texts).encode("utf-8"))
    digest.update(f"{knowledge.model}|bf16={getattr(embeddings, 'uses_bf16', None)}".encode())
    cache = knowledge.root / f"questions-{digest.hexdigest()[:16]}.npy"
    if cache.is_file():
        vectors = np.load(cache)
        if vectors.shape[0] == len(texts):
            log.info("reusing question vectors %s", cache.name)
            return vectors
    if hasattr(embeddings, "encode_queries"):
        vectors = embeddings.encode_queries(texts, batch_size=64)
    else:  # any LangChain Embeddings
        vectors = np.asarray([embeddings.embed_query(t) for t in texts], dtype=np.float32)
    np.save(cache, np.asarray(vectors, dtype=np.float32))
    return vectors


def on_postgres(knowledge: Any, database_url: str) -> Any:
    """The same store with its catalog in the PostgreSQL database at `database_url`, copied
    there from the store's SQLite catalog when that database holds none."""
    from kb.catalog_migration import copy_catalog
    from kb.store import KnowledgeBase

    server = KnowledgeBase(dataclasses.replace(knowledge.settings, database_url=database_url))
    if not server.exists or server.chunk_count() == 0:
        counts = copy_catalog(knowledge.catalog, server.catalog)
        log.info("copied the PIAF catalog to PostgreSQL chunks=%d", counts["chunks"])
    elif server.chunk_count() != knowledge.chunk_count():
        raise RuntimeError(f"the database at {server.catalog.location} holds another catalog; give an empty one")
    knowledge.close()
    return server


def run_piaf(
    piaf_path: Path, work_dir: Path, *, precision: str = "auto", limit: int | None = None,
    fusion: "FusionConfig | None" = None, database_url: str | None = None, questions: int | None = None,
) -> dict:
    """Recall@1/5/10 and MRR@10 of BM25, dense and the product's hybrid on PIAF.

    `fusion` replaces the product's default `FusionConfig` for the hybrid row (to
    compare settings); by default the hybrid is exactly what `bot.answer` uses. With
    `database_url` the catalog is read from PostgreSQL (`on_postgres`). `questions` scores only
    that many questions spread over the set, on the whole store (unlike `limit`, which builds a
    smaller store).
    """
    from bot.answering.retrieve import FusionConfig, dense_search, retrieve
    from kb.store import SearchFilter

    fusion = fusion or FusionConfig()

    started = time.monotonic()
    knowledge, data, gold_of = build_store(piaf_path, work_dir, precision=precision, limit=limit)
    if database_url:
        knowledge = on_postgres(knowledge, database_url)
    try:
        seconds: dict[str, float] = {"store": time.monotonic() - started}
        where = SearchFilter.for_role(ROLE)
        doc_of_chunk = knowledge.chunk_documents()
        paragraph_doc = {p: d for d, p in gold_of.items()}
        asked = data.questions
        if questions is not None and questions < len(asked):
            asked = [asked[int(i * len(asked) / questions)] for i in range(questions)]
        texts = [q for q, _ in asked]
        golds = [paragraph_doc[p] for _, p in asked]

        t = time.monotonic()
        vectors = _question_vectors(knowledge, texts)
        seconds["embed_questions"] = time.monotonic() - t
        log.info("embedded questions=%d seconds=%.1f", len(texts), seconds["embed_questions"])

        ranks: dict[str, list[int | None]] = {row: [] for row in ROWS}
        spent = {row: 0.0 for row in ROWS}
        for i, (text, vector, gold) in enumerate(zip(texts, vectors, golds), start=1):
            t0 = time.monotonic()
            bm25 = [cid for cid, _ in knowledge.keyword_search(text, DEPTH, where)]
            t1 = time.monotonic()
            dense = [cid for cid, _ in dense_search(knowledge, vector, DEPTH, where)]
            t2 = time.monotonic()
            hybrid = [p.chunk_id for p in retrieve(knowledge, text, where, DEPTH, query_vector=vector, config=fusion)]
            t3 = time.monotonic()
            spent["bm25"] += t1 - t0
            spent["dense"] += t2 - t1
            spent["hybrid"] += t3 - t2
            for row, chunk_ids in (("bm25", bm25), ("dense", dense), ("hybrid", hybrid)):
                ranking = _doc_ranking(chunk_ids, doc_of_chunk)
                ranks[row].append(ranking.index(gold) + 1 if gold in ranking else None)
            if i % 500 == 0:
                log.info("scored questions=%d/%d", i, len(texts))
        seconds.update({row: round(value, 2) for row, value in spent.items()})
        seconds["total"] = time.monotonic() - started
        return {
            "fusion": dataclasses.asdict(fusion),
            "catalog": knowledge.catalog.location if database_url else "sqlite",
            "questions": len(texts),
            "sampled": len(texts) < len(data.questions),
            "limit": data.limit,
            "documents": len(gold_of),
            "chunks": len(doc_of_chunk),
            "rows": {row: _metrics(ranks[row]) for row in ROWS},
            "seconds": {k: round(v, 2) for k, v in seconds.items()},
        }
    finally:
        knowledge.close()


def _cell(value: float | None) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def format_piaf(result: dict) -> str:
    """A Markdown table of the three rows, the reference rows and the targets."""
    lines = [
        f"PIAF v1.0: {result['questions']} questions, {result['documents']} documents "
        f"({result.get('chunks', '?')} chunks), catalog {result.get('catalog', 'sqlite')}"
        + (" — a small sample (--limit), not comparable with the reference rows" if result.get("limit") else "")
        + (" — questions sampled (--questions)" if result.get("sampled") else ""),
        "",
        "| retriever | " + " | ".join(METRICS) + " |",
        "|---|" + "---|" * len(METRICS),
    ]
    labels = dict(ROW_LABELS)
    fusion = result.get("fusion")
    if fusion:
        from bot.answering.retrieve import FusionConfig

        product = fusion == dataclasses.asdict(FusionConfig())
        method = fusion.get("method", "?") + (f" k={fusion.get('rrf_k')}" if fusion.get("method") == "rrf" else "")
        labels["hybrid"] = f"**hybrid ({'product: ' if product else ''}{method} fusion + diversify)**"
    for row in ROWS:
        values = result["rows"][row]
        lines.append(f"| {labels[row]} | " + " | ".join(_cell(values.get(m)) for m in METRICS) + " |")
    for label, values in REFERENCE:
        lines.append(f"| {label} | " + " | ".join(_cell(values.get(m)) for m in METRICS) + " |")
    lines.append("| target for the hybrid | " + " | ".join(
        f"≥ {TARGETS[m]:.2f}" if m in TARGETS else "" for m in METRICS) + " |")
    hybrid = result["rows"]["hybrid"]
    met = all(hybrid[m] >= target for m, target in TARGETS.items())
    lines += ["", f"Targets {'met' if met else 'NOT met'} by the hybrid. Seconds: " + ", ".join(
        f"{k} {v:.1f}" for k, v in result.get("seconds", {}).items())]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.piaf",
        description="Recall@1/5/10 and MRR@10 of BM25, dense and hybrid retrieval on PIAF v1.0.",
    )
    parser.add_argument("--piaf", type=Path, default=DEFAULT_PIAF, help=f"PIAF JSON file (default: {DEFAULT_PIAF})")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK,
                        help=f"folder for the generated documents and the store, reused across runs (default: {DEFAULT_WORK})")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only N questions spread over the set (quick check)")
    parser.add_argument("--questions", type=int, default=None,
                        help="score only N questions spread over the set, on the whole store (quicker than --limit, "
                             "which builds a smaller store; figures comparable between runs with the same N)")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto", help="embedding precision")
    parser.add_argument("--fusion", choices=("convex", "rrf"), default=None,
                        help="fusion method of the hybrid row (default: the product's)")
    parser.add_argument("--database-url", metavar="URL", default=None,
                        help="read the catalog from this PostgreSQL database (postgresql://…), copying the store's "
                             "SQLite catalog there first if it holds none (default: the SQLite catalog)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.questions is not None and args.questions < 1:
        parser.error("--questions must be at least 1")
    if not args.piaf.is_file():
        parser.error(f"{args.piaf}: no such file")
    from bot.answering.retrieve import FusionConfig

    fusion = FusionConfig(method=args.fusion) if args.fusion else None
    result = run_piaf(args.piaf, args.work, precision=args.precision, limit=args.limit, fusion=fusion,
                      database_url=args.database_url, questions=args.questions)
    print(json.dumps(result, indent=2) if args.json else format_piaf(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
