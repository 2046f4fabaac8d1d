"""The PostgreSQL catalog's keyword ranking (`kb.catalog_postgres`): BM25 over the full-text index,
in SQL. `?` placeholders (the shared SQL's style); `{condition}` is the search filter's SQL."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from kb.catalog import kept_terms

# BM25 parameters (FTS5's defaults, so both catalogs rank alike).
BM25_K1, BM25_B = 1.2, 0.75

# A chunk's index reduced to the question's lexemes (`{lexemes}`, a text[]), positions kept: they
# are weighted A (to_tsvector writes D) and the rest filtered out, a copy of the tsvector instead
# of a row per lexeme. Unnesting the whole index of every matched chunk and joining it row by row
# cost 0.2-0.7 s a question at 1k passages (about 1,000 matched chunks); the scores are the same.
QUESTION_LEXEMES = "ts_filter(setweight(c.fts, 'A', {lexemes}), '{{{{a}}}}')"


# BM25 over the full-text index: the query's lexemes under both configurations, each weighted by
# its inverse document frequency among the chunks the filter allows (counted through the GIN
# index), summed over the chunks that hold any of them with their term frequency saturated and
# normalised by the chunk's number of lexemes. ts_rank_cd has no IDF: measured on PIAF, it found
# the right paragraph among the first 5 for 0.51 of 1,000 questions, BM25 here 0.85 (FTS5 0.86).
BM25_COUNTED = (
    "WITH words AS (SELECT DISTINCT lexeme FROM unnest(to_tsvector('passerelle_french', ?) "
    "|| to_tsvector('passerelle_english', ?)) WHERE strpos(lexeme, E'\\\\') = 0), "
    "stats AS (SELECT COUNT(*)::float8 AS n, GREATEST(AVG(c.fts_length), 1)::float8 AS avglen "
    "FROM chunks c WHERE {condition}), "
    "weighted AS (SELECT w.lexeme, ln(1 + (s.n - f.df + 0.5) / (f.df + 0.5)) AS idf FROM words w CROSS JOIN stats s "
    "CROSS JOIN LATERAL (SELECT COUNT(*)::float8 AS df FROM chunks c "
    "WHERE c.fts @@ quote_literal(w.lexeme)::tsquery AND {condition}) f WHERE f.df > 0), "
    "query AS (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS q, array_agg(lexeme) AS lexemes "
    "FROM weighted) "
    f"SELECT c.chunk_id, SUM(w.idf * array_length(u.positions, 1) * {BM25_K1 + 1} / (array_length(u.positions, 1) "
    f"+ {BM25_K1} * (1 - {BM25_B} + {BM25_B} * c.fts_length / s.avglen))) AS rank "
    "FROM query CROSS JOIN stats s CROSS JOIN chunks c "
    f"CROSS JOIN LATERAL unnest({QUESTION_LEXEMES.format(lexemes='query.lexemes')}) u "
    "JOIN weighted w ON w.lexeme = u.lexeme WHERE c.fts @@ query.q AND {condition} "
    "GROUP BY c.chunk_id ORDER BY rank DESC, c.chunk_id LIMIT ?"
)


# The question's lexemes (as `BM25_COUNTED` finds them) with their passages in lexeme_stats: in the
# whole store (`total`, what a match costs) and among those the filter allows (`allowed`, BM25's
# document frequency); the row of the empty lexeme gives the allowed passages and their lexemes.
LEXEME_STATS = (
    "WITH words AS (SELECT DISTINCT lexeme FROM unnest(to_tsvector('passerelle_french', ?) "
    "|| to_tsvector('passerelle_english', ?)) WHERE strpos(lexeme, E'\\\\') = 0 UNION SELECT '') "
    "SELECT w.lexeme, COALESCE(SUM(s.passages), 0) AS total, "
    "COALESCE(SUM(s.passages) FILTER (WHERE s.access = ANY(?::text[]) AND s.language = COALESCE(?, s.language)), 0) AS allowed, "
    "COALESCE(SUM(s.lexemes) FILTER (WHERE s.access = ANY(?::text[]) AND s.language = COALESCE(?, s.language)), 0) "
    "AS lexemes FROM words w LEFT JOIN lexeme_stats s ON s.lexeme = w.lexeme GROUP BY w.lexeme"
)
# BM25 as `BM25_COUNTED` computes it, with the statistics given: the passages holding any lexeme of the
# match (the rarest ones), each scored by all the question's lexemes with their IDF.
BM25_STORED = (
    f"SELECT c.chunk_id, SUM(w.idf * array_length(u.positions, 1) * {BM25_K1 + 1} / (array_length(u.positions, 1) "
    f"+ {BM25_K1} * (1 - {BM25_B} + {BM25_B} * c.fts_length / ?::float8))) AS rank "
    f"FROM chunks c CROSS JOIN LATERAL unnest({QUESTION_LEXEMES.format(lexemes='?::text[]')}) u "
    "JOIN unnest(?::text[], ?::float8[]) AS w(lexeme, idf) ON w.lexeme = u.lexeme "
    "WHERE c.fts @@ (SELECT string_agg(quote_literal(l), ' | ')::tsquery FROM unnest(?::text[]) l) AND {condition} "
    "GROUP BY c.chunk_id ORDER BY rank DESC, c.chunk_id LIMIT ?"
)


class KeywordStatistics(NamedTuple):
    """What `BM25_STORED` ranks with: the average passage length, the question's lexemes held
    by an allowed passage with their IDF, and those matched (the rarest within the budget)."""

    avglen: float
    lexemes: list[str]
    idf: list[float]
    matched: list[str]


def stored_statistics(rows: list[dict[str, Any]], budget: float) -> KeywordStatistics | None:
    """`LEXEME_STATS`' rows as BM25's statistics, matching lexemes within `budget` postings
    (`kb.catalog.kept_terms`); None when no allowed passage holds a lexeme of the question."""
    by_lexeme = {r["lexeme"]: (int(r["total"]), int(r["allowed"])) for r in rows if r["lexeme"]}
    total = next((r for r in rows if not r["lexeme"]), None)
    n = int(total["allowed"]) if total else 0
    scored = {lexeme: df for lexeme, (_, df) in by_lexeme.items() if df > 0}
    if not n or not scored:
        return None
    return KeywordStatistics(
        avglen=max(int(total["lexemes"]) / n, 1.0),
        lexemes=list(scored),
        idf=[math.log(1 + (n - df + 0.5) / (df + 0.5)) for df in scored.values()],
        matched=kept_terms(sorted(scored), by_lexeme, budget),
    )
