"""The PostgreSQL catalog's keyword search, its ranking query before and after issue 25's fix,
alternated on the same questions in the same run.

    python -m bench.pg_keyword [--sizes 1000 10000] [--questions 20] [--no-analyze]

A throwaway PostgreSQL cluster (`tests.postgres`) gets a catalog with the sample corpus, then
grows through `--sizes` passages with `bench.scale`'s synthetic documents (PIAF and corpus
sentences recombined; the catalog only: no model runs, no Chroma). At each size every corpus
question runs `PostgresCatalog.keyword_search` (the lexeme statistics, then the BM25 ranking)
once with the old ranking query (`UNNEST_ALL`: every lexeme of every matched passage unpacked
and joined to the question's) and once with the current one (the passage's index reduced to the
question's lexemes first), alternated, and prints p50/p95 of both in CPU ms (this process plus
PostgreSQL's backends) and wall ms, and how many questions got other hits or scores. Each
write ends as an ingestion does (`mark_ingested`, which analyses the tables when the passages
changed much); `--no-analyze` skips that, as before the fix (the planner then has no statistics
until autovacuum runs: the old query joined row by row, and scanned every passage).
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("bench.pg_keyword")

# The ranking query before issue 25's fix (kept to measure against and to test that the current
# one ranks alike): the whole tsvector of each matched passage unnested, joined to the question.
UNNEST_ALL = (
    "SELECT c.chunk_id, SUM(w.idf * array_length(u.positions, 1) * 2.2 / (array_length(u.positions, 1) "
    "+ 1.2 * (1 - 0.75 + 0.75 * c.fts_length / ?::float8))) AS rank "
    "FROM chunks c CROSS JOIN LATERAL unnest(c.fts) u "
    "JOIN unnest(?::text[], ?::float8[]) AS w(lexeme, idf) ON w.lexeme = u.lexeme "
    "WHERE c.fts @@ (SELECT string_agg(quote_literal(l), ' | ')::tsquery FROM unnest(?::text[]) l) AND {condition} "
    "GROUP BY c.chunk_id ORDER BY rank DESC, c.chunk_id LIMIT ?"
)


def old_keyword_search(catalog, query: str, k: int, where) -> list[tuple[str, float]]:
    """`PostgresCatalog.keyword_search` with the old ranking query (filters on access and
    language only, as the stored statistics apply)."""
    stats = catalog.keyword_statistics(query, where)
    if stats is None:
        return []
    condition, params = where.to_sql("c")
    rows = catalog._fetchall(UNNEST_ALL.format(condition=condition),
                             [stats.avglen, stats.lexemes, stats.idf, stats.matched, *params, k])
    return [(r["chunk_id"], float(r["rank"])) for r in rows]


def text_pool():
    """`bench.synthetic`'s sentence pool with placeholder vectors (the catalog keeps sentence
    vectors but no search here reads them)."""
    from bench.synthetic import DEFAULT_PIAF, Pool, _piaf_sentences, corpus_documents
    from ingest.split import answer_sentences

    french, titles = _piaf_sentences(DEFAULT_PIAF)
    english: list[str] = []
    for doc in corpus_documents():
        target = english if doc.meta.language == "en" else french
        target.extend(doc.text[s:e] for s, e, _ in answer_sentences(doc) if 30 <= e - s <= 400)
    sentences = {"fr": sorted(set(french)), "en": sorted(set(english))}
    vectors = {lang: np.full((len(texts), 4), 0.5, dtype=np.float32) for lang, texts in sentences.items()}
    return Pool(sentences, vectors, titles)


def write(catalog, documents, analyse: bool = True) -> int:
    """Write `documents` (doc, chunks, sentence spans) into the catalog, then record the
    ingestion as `python -m ingest` does (which analyses the tables when they changed much;
    not with `analyse` False); passages written."""
    written = 0
    with catalog.transaction():
        for doc, chunks, spans in documents:
            catalog.write_document_rows(doc, chunks, spans, [[0.5] * 4] * len(spans), [])
            written += len(chunks)
    if analyse:
        catalog.mark_ingested()
    return written


def measure(catalog, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Each question's keyword search with the old ranking then the current one: their
    (wall ms, CPU ms) laps, and the questions whose hits or scores differ."""
    from bench.scale import _Clock
    from bot.answering import search_filter
    from bot.answering.query import parse_query
    from bot.answering.retrieve import FusionConfig

    k = FusionConfig().candidates
    laps: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    differ = 0
    for q in questions:
        query = parse_query(q["question"], q.get("history") or ()).search
        where = search_filter(q.get("role", "reader"), q.get("filters") or None)
        if not catalog.stored_statistics_apply(where):
            continue  # other filters count their statistics (`counted_keyword_search`)
        hits = {}
        for side, search in (("old", old_keyword_search), ("new", type(catalog).keyword_search)):
            clock = _Clock()
            hits[side] = search(catalog, query, k, where)
            laps[side].append(clock.lap())
        if [(c, round(s, 9)) for c, s in hits["old"]] != [(c, round(s, 9)) for c, s in hits["new"]]:
            differ += 1
    return {"laps": laps, "differ": differ}


def main(argv: list[str] | None = None) -> int:
    """Grow a PostgreSQL catalog through the sizes; print old and new ranking times at each."""
    from bench.scale import _postgres
    from bench.synthetic import SyntheticDocuments, corpus_documents
    from evals.corpus import QUESTIONS, load_questions
    from ingest.split import answer_sentences, split_document
    from kb.catalog_postgres import PostgresCatalog
    from kb.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="passages (default 1000 10000)")
    parser.add_argument("--questions", type=int, default=20, help="corpus questions timed at each size (default 20)")
    parser.add_argument("--no-analyze", action="store_true",
                        help="skip the end-of-ingestion step that analyses the tables (as before issue 25's fix: "
                             "the planner then has statistics only once autovacuum has run)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    questions = load_questions(QUESTIONS)[: args.questions]
    stream = iter(SyntheticDocuments(text_pool(), settings.chunk_size, settings.chunk_overlap))
    print(f"PostgreSQL keyword search, {len(questions)} corpus questions, old (unnest every lexeme) and new "
          "ranking query alternated; ms p50/p95\n")
    print("| passages | old CPU | new CPU | old wall | new wall | questions with other hits or scores |\n|---|---|---|---|---|---|")
    with _postgres() as url:
        catalog = PostgresCatalog(url, "bench")
        corpus = [(d, split_document(d, settings.chunk_size, settings.chunk_overlap),
                   [(s, e) for s, e, _ in answer_sentences(d)]) for d in corpus_documents()]
        passages = write(catalog, corpus, analyse=not args.no_analyze)
        for size in sorted(args.sizes):
            batch = []
            while passages + sum(len(c) for _, c, _ in batch) < size:
                p = next(stream)
                batch.append((p.doc, p.chunks, p.spans))
            passages += write(catalog, batch, analyse=not args.no_analyze)
            result = measure(catalog, questions)
            old, new = (_summary(result["laps"][side]) for side in ("old", "new"))
            print(f"| {passages:,} | {old['cpu']} | {new['cpu']} | {old['wall']} | {new['wall']} | "
                  f"{result['differ']} of {len(result['laps']['old'])} |", flush=True)
        catalog.close()
    return 0


def _summary(laps: list[tuple[float, float]]) -> dict[str, str]:
    from bench.scale import _percentiles

    out = {}
    for name, index in (("wall", 0), ("cpu", 1)):
        p = _percentiles([lap[index] for lap in laps])
        out[name] = f"{p['p50']:.0f}/{p['p95']:.0f}"
    return out


if __name__ == "__main__":
    sys.exit(main())
