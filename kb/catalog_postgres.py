"""The PostgreSQL catalog: one database shared by every app server (`PASSERELLE_DATABASE_URL`).

- Connections come from a `psycopg_pool.ConnectionPool` that checks each connection before
  lending it, so a restarted server is reconnected to on the next request; a request whose
  connection dies (server stopped or restarting) fails with `CatalogUnavailableError`.
- The schema is created and migrated here (`_MIGRATIONS`, a `schema_version` row in
  `catalog_meta`), under an advisory lock so two servers starting at once do not race.
- Keyword side: PostgreSQL full-text search. Each chunk's title, section and text go into a
  `tsvector` built with its language's configuration (`passerelle_french`, or
  `passerelle_english` for English chunks), both built on the `unaccent` dictionary so
  "Sénégal" and "Senegal" match; a question is searched as any of its words under both
  configurations, ranked by BM25 computed from the index
  (`kb.catalog_postgres_keyword`). The terms
  of `kb.text.keyword_terms` are kept too (a GIN-indexed array) for `term_frequencies`.
- The ingest lock is a session advisory lock, so it holds across machines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from typing import Any, Iterable, Iterator, Sequence

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from kb.catalog import (
    CatalogUnavailableError,
    StoreBusyError,
    StoreError,
    index_text,
    organisations_column,
)
from kb.catalog_postgres_keyword import (
    BM25_COUNTED, BM25_STORED, LEXEME_STATS, KeywordStatistics, stored_statistics,
)
from kb.catalog_sql import SqlCatalog, column_list
from kb.schema import Chunk, LoadedDocument, date_to_int
from kb.search_filter import SearchFilter
from kb.text import KEYWORD_ANALYZER_VERSION, keyword_terms

log = logging.getLogger(__name__)

POOL_MAX = 8
# Seconds a request waits for a pooled connection, and a new connection for the server,
# before failing with CatalogUnavailableError.
POOL_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5
# Advisory lock keys (one database = one knowledge base): schema migrations, ingestions.
SCHEMA_LOCK = 0x70617373
INGEST_LOCK = 0x70617374
# An ingestion that changed the passage count by more than this share (or the first one)
# analyses the tables: without the planner's statistics the keyword ranking scanned every
# passage in key order instead of the GIN index (0.4 s a question at 10k passages).
ANALYZE_CHANGE = 0.1
_CONFIGS = {"en": "passerelle_english"}
_DEFAULT_CONFIG = "passerelle_french"

_TEXT_SEARCH = """
CREATE EXTENSION IF NOT EXISTS unaccent;
DROP TEXT SEARCH CONFIGURATION IF EXISTS passerelle_french;
CREATE TEXT SEARCH CONFIGURATION passerelle_french (COPY = pg_catalog.french);
ALTER TEXT SEARCH CONFIGURATION passerelle_french
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
DROP TEXT SEARCH CONFIGURATION IF EXISTS passerelle_english;
CREATE TEXT SEARCH CONFIGURATION passerelle_english (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION passerelle_english
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
"""
_TABLES = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, file_hash TEXT NOT NULL, title TEXT NOT NULL,
    doc_type TEXT NOT NULL, date TEXT NOT NULL, organisations TEXT NOT NULL, language TEXT NOT NULL,
    access TEXT NOT NULL, illustrative INTEGER NOT NULL, supersedes TEXT, chunks INTEGER NOT NULL,
    ingested_at DOUBLE PRECISION NOT NULL, text TEXT NOT NULL
);
CREATE TABLE chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id), ordinal INTEGER NOT NULL,
    text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, section TEXT NOT NULL,
    page INTEGER, access TEXT NOT NULL, doc_type TEXT NOT NULL, date_int INTEGER NOT NULL,
    language TEXT NOT NULL, organisations TEXT NOT NULL,
    fts TSVECTOR NOT NULL, fts_length INTEGER GENERATED ALWAYS AS (length(fts)) STORED, terms TEXT[] NOT NULL
);
CREATE INDEX chunks_doc ON chunks (doc_id);
CREATE INDEX chunks_fts ON chunks USING GIN (fts);
CREATE INDEX chunks_terms ON chunks USING GIN (terms);
CREATE TABLE pending (chunk_id TEXT PRIMARY KEY);
CREATE TABLE mentions (
    doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL, action TEXT NOT NULL, owner TEXT NOT NULL, commission TEXT,
    deadline TEXT, deadline_text TEXT NOT NULL, status TEXT NOT NULL, quote TEXT NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, page INTEGER, section TEXT NOT NULL, access TEXT NOT NULL,
    PRIMARY KEY (doc_id, ordinal)
);
CREATE TABLE sentences (
    doc_id TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, vector BYTEA NOT NULL,
    PRIMARY KEY (doc_id, start)
);
"""
# Term statistics kept at ingestion, so that a question reads its statistics by key instead of
# counting over the index (which grows with the store): per access level and language,
# term_stats counts the passages holding each `keyword_terms` term (for `term_frequencies`, as
# SQLite's table does) and lexeme_stats those holding each full-text lexeme (BM25's document
# frequencies); their empty-term rows count all passages, and lexeme_stats' also sums their
# lexemes (BM25's average length). Rows that fall to 0 are kept: they read as 0.
_TERM_STATS = """
CREATE TABLE term_stats (
    term TEXT NOT NULL, access TEXT NOT NULL, language TEXT NOT NULL, passages BIGINT NOT NULL,
    PRIMARY KEY (term, access, language)
);
CREATE TABLE lexeme_stats (
    lexeme TEXT NOT NULL, access TEXT NOT NULL, language TEXT NOT NULL, passages BIGINT NOT NULL,
    lexemes BIGINT NOT NULL, PRIMARY KEY (lexeme, access, language)
);
"""
_COUNT_TERMS = (
    "INSERT INTO term_stats (term, access, language, passages) "
    "SELECT t, c.access, c.language, {sign} COUNT(*) FROM chunks c, unnest(c.terms || ARRAY['']) t "
    "WHERE {rows} GROUP BY 1, 2, 3 "
    "ON CONFLICT (term, access, language) DO UPDATE SET passages = term_stats.passages + excluded.passages"
)
_COUNT_LEXEMES = (
    "INSERT INTO lexeme_stats (lexeme, access, language, passages, lexemes) "
    "SELECT u.lexeme, c.access, c.language, {sign} COUNT(*), 0 FROM chunks c, unnest(c.fts) u "
    "WHERE {rows} GROUP BY 1, 2, 3 UNION ALL "
    "SELECT '', c.access, c.language, {sign} COUNT(*), {sign} SUM(c.fts_length) FROM chunks c "
    "WHERE {rows} GROUP BY 2, 3 "
    "ON CONFLICT (lexeme, access, language) DO UPDATE SET passages = lexeme_stats.passages + excluded.passages, "
    "lexemes = lexeme_stats.lexemes + excluded.lexemes"
)
# Schema migrations, applied in order above the recorded `schema_version`. Never edit one
# that has shipped: add the next.
_MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, _TEXT_SEARCH + _TABLES),
    (2, _TERM_STATS + ";\n".join(sql.format(sign="", rows="TRUE") for sql in (_COUNT_TERMS, _COUNT_LEXEMES))),
    # A mention is a commitment or a later report that one was done (kb.commitments.Mention.kind),
    # with the e5 vector of its action (bot.roadmap_links compares them).
    (3, "ALTER TABLE mentions ADD COLUMN kind TEXT NOT NULL DEFAULT 'commitment'; "
        "ALTER TABLE mentions ADD COLUMN vector BYTEA;"),
)
SCHEMA_VERSION = _MIGRATIONS[-1][0]
_TABLE_NAMES = ("chunks", "sentences", "mentions", "pending", "documents", "catalog_meta", "term_stats", "lexeme_stats")
_CHUNK_INSERT = (
    f"INSERT INTO chunks ({column_list('chunks')}, fts, terms) "
    f"VALUES ({','.join('?' * 13)}, to_tsvector(?::regconfig, ?), ?)"
)


def _pg(sql: str) -> str:
    """The shared SQL's `?` placeholders in psycopg's style."""
    return sql.replace("?", "%s")


def text_search_config(language: str) -> str:
    """The text search configuration a chunk in `language` is indexed with."""
    return _CONFIGS.get(language, _DEFAULT_CONFIG)


class PostgresCatalog(SqlCatalog):
    """The catalog in the PostgreSQL database at `url`, built with `model`."""

    META_TABLE = "catalog_meta"

    def __init__(self, url: str, model: str) -> None:
        self.url = url
        self.model = model
        self._pool: ConnectionPool | None = None
        self._ready = False
        self._open_lock = threading.RLock()
        self._local = threading.local()

    # ----- opening -----------------------------------------------------------------
    @property
    def location(self) -> str:
        try:
            parts = conninfo_to_dict(self.url)
        except psycopg.ProgrammingError:
            return "postgresql://(invalid address)"
        return f"postgresql://{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"

    @property
    def exists(self) -> bool:
        with self._connection(ensure_open=False) as conn:
            return conn.execute("SELECT to_regclass('documents') IS NOT NULL AS found").fetchone()["found"]

    def open(self) -> None:
        if self._ready or getattr(self._local, "opening", False):
            return
        with self._open_lock:
            if self._ready:
                return
            self._local.opening = True
            try:
                self._probe()
                self._migrate()
                self._check_model()
                self._check_analyzer()
                self._ready = True
            finally:
                self._local.opening = False

    def _probe(self) -> None:
        """Connect once directly, so a wrong address or password is reported as such."""
        try:
            psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc) from None

    def _migrate(self) -> None:
        with self._connection(ensure_open=False) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS catalog_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = conn.execute("SELECT value FROM catalog_meta WHERE key = 'schema_version'").fetchone()
            version = int(row["value"]) if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the catalog at {self.location} has schema version {version}, newer than this Passerelle "
                    f"knows ({SCHEMA_VERSION}); update Passerelle on this server"
                )
            for number, statements in _MIGRATIONS:
                if number > version:
                    conn.execute(statements)
                    log.info("catalog schema migrated to=%d at=%s", number, self.location)
            conn.execute("INSERT INTO catalog_meta VALUES ('schema_version', %s) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))

    def _check_analyzer(self) -> None:
        """Recompute the `keyword_terms` column when the analyzer changed (no model needed)."""
        if self.get_meta("keyword_analyzer") == KEYWORD_ANALYZER_VERSION:
            return
        with self.transaction():
            rows = self._fetchall("SELECT c.chunk_id, c.text, c.section, d.title FROM chunks c "
                                  "JOIN documents d USING (doc_id)")
            self._executemany("UPDATE chunks SET terms = ? WHERE chunk_id = ?", [
                (_terms(index_text(r["title"], r["section"], r["text"])), r["chunk_id"]) for r in rows
            ])
            self._execute("DELETE FROM term_stats")
            self._execute(_COUNT_TERMS.format(sign="", rows="TRUE"))
            self.set_meta("keyword_analyzer", KEYWORD_ANALYZER_VERSION)
        if rows:
            log.info("keyword terms rebuilt chunks=%d analyzer=%s", len(rows), KEYWORD_ANALYZER_VERSION)

    def close(self) -> None:
        with self._open_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
            self._ready = False

    # ----- connections -----------------------------------------------------------------
    def _get_pool(self) -> ConnectionPool:
        with self._open_lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self.url, min_size=1, max_size=POOL_MAX, timeout=POOL_TIMEOUT_S, open=False,
                    name="passerelle-catalog", check=ConnectionPool.check_connection,
                    kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": CONNECT_TIMEOUT_S,
                            "application_name": "passerelle"},
                )
                self._pool.open(wait=False)
            return self._pool

    def _unavailable(self, exc: BaseException) -> CatalogUnavailableError:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return CatalogUnavailableError(
            f"the PostgreSQL catalog at {self.location} is unreachable ({reason}); "
            "check that the server runs, then try again"
        )

    @contextlib.contextmanager
    def _connection(self, ensure_open: bool = True) -> Iterator[psycopg.Connection]:
        """The connection of the current transaction, or one from the pool; a lost server
        becomes CatalogUnavailableError."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        if ensure_open:
            self.open()
        try:
            with self._get_pool().connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise self._unavailable(exc) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if getattr(self._local, "conn", None) is not None:
            yield  # already inside one: its commit covers these writes
            return
        with self._connection() as conn, conn.transaction():
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._connection() as conn:
            return conn.execute(_pg(sql), params or None).fetchall()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._connection() as conn:
            conn.execute(_pg(sql), params or None)

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            with self._connection() as conn, conn.cursor() as cur:
                cur.executemany(_pg(sql), rows)

    def _iterate(self, sql: str) -> Iterator[tuple[Any, ...]]:
        with self._connection() as conn, conn.transaction():
            with conn.cursor(name="catalog_rows", row_factory=tuple_row) as cur:
                cur.itersize = 2000
                cur.execute(sql)
                yield from cur

    # ----- keyword index ---------------------------------------------------------------
    def keyword_search(self, query: str, k: int, where: SearchFilter) -> list[tuple[str, float]]:
        """Full-text search for any word of `query` under both configurations, ranked by BM25.

        With a filter on access and language only, BM25's statistics are read from
        lexeme_stats and the match is limited to the rarest lexemes within
        `KEYWORD_POSTINGS_BUDGET` (every lexeme still scores the passages found), so the cost
        stays bounded as the store grows; other filters count them over the index (`BM25_COUNTED`)."""
        if not self.stored_statistics_apply(where):
            return self.counted_keyword_search(query, k, where)
        stats = self.keyword_statistics(query, where)
        if stats is None:
            return []
        condition, params = where.to_sql("c")
        rows = self._fetchall(BM25_STORED.format(condition=condition),
                              [stats.avglen, stats.lexemes, stats.lexemes, stats.idf, stats.matched, *params, k])
        return [(r["chunk_id"], float(r["rank"])) for r in rows]

    def keyword_statistics(self, query: str, where: SearchFilter) -> KeywordStatistics | None:
        """BM25's statistics for `query` read from lexeme_stats (a filter on access and language
        only), and the lexemes matched within the postings budget; None when nothing matches."""
        allowed = [list(where.access), where.language]
        rows = self._fetchall(LEXEME_STATS, [query, query, *allowed, *allowed])
        return stored_statistics(rows, self.postings_budget)

    def counted_keyword_search(self, query: str, k: int, where: SearchFilter) -> list[tuple[str, float]]:
        """`keyword_search` with BM25's statistics counted over the index for `where` (any filter)."""
        condition, params = where.to_sql("c")
        rows = self._fetchall(BM25_COUNTED.format(condition=condition), [query, query, *params, *params, *params, k])
        return [(r["chunk_id"], float(r["rank"])) for r in rows]

    def term_frequencies(
        self, terms: Sequence[str], where: SearchFilter, language: str = ""
    ) -> tuple[dict[str, int], int, int]:
        unique = list(dict.fromkeys(terms))
        if self.stored_statistics_apply(where):
            return self._stored_term_frequencies(unique, where, language)
        condition, params = where.to_sql("c")
        row = self._fetchall(
            "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN c.language = ? THEN 1 ELSE 0 END), 0) AS in_language "
            f"FROM chunks c WHERE {condition}", [language, *params],
        )[0]
        total, in_language = int(row["total"]), int(row["in_language"])
        if not unique:
            return {}, total, in_language
        rows = self._fetchall(
            f"SELECT w.term, (SELECT COUNT(*) FROM chunks c WHERE c.terms @> ARRAY[w.term] AND {condition}) AS n "
            "FROM unnest(?::text[]) AS w(term)",
            [*params, unique],
        )
        counts = {r["term"]: int(r["n"]) for r in rows}
        return {term: counts[term] for term in unique}, total, in_language

    def _count_stats(self, rows: str, params: Sequence[Any], sign: str) -> None:
        """Add (sign '') or remove (sign '-') the chunks selected by `rows` from the term statistics."""
        for sql in (_COUNT_TERMS, _COUNT_LEXEMES):
            statement = sql.format(sign=sign, rows=rows)
            self._execute(statement, list(params) * statement.count("?"))

    def _delete_chunk_rows(self, doc_id: str) -> None:
        self._count_stats("c.doc_id = ?", [doc_id], "-")
        super()._delete_chunk_rows(doc_id)

    def _insert_chunks(self, doc: LoadedDocument, chunks: Sequence[Chunk]) -> None:
        meta = doc.meta
        orgs = organisations_column(meta.organisations)
        self._insert_chunk_rows([
            (c.chunk_id, doc.doc_id, c.ordinal, c.text, c.start, c.end, c.section, c.page,
             meta.access, meta.doc_type, date_to_int(meta.date), meta.language, orgs)
            for c in chunks
        ], {doc.doc_id: meta.title})

    def _insert_chunk_rows(self, rows: list[Sequence[Any]], titles: dict[str, str]) -> None:
        indexed = []
        for row in rows:
            text = index_text(titles.get(row[1], ""), row[6], row[3])
            indexed.append((*row, text_search_config(row[11]), text, _terms(text)))
        self._executemany(_CHUNK_INSERT, indexed)
        if indexed:
            self._count_stats("c.chunk_id = ANY(?)", [[row[0] for row in rows]], "")

    def mark_ingested(self) -> None:
        """Record the ingestion, then analyse the tables when the passages changed by more than
        `ANALYZE_CHANGE` since they were last analysed (autovacuum would, up to a minute later)."""
        super().mark_ingested()
        self.analyse_if_changed()

    def analyse_if_changed(self) -> None:
        analysed = self._fetchone("SELECT reltuples FROM pg_class WHERE oid = 'chunks'::regclass")
        before, now = float(analysed["reltuples"]) if analysed else -1.0, self.chunk_count()
        if before < 0 or abs(now - before) > ANALYZE_CHANGE * max(before, 1.0):
            self._execute("ANALYZE chunks, lexeme_stats, term_stats")
            log.info("catalog tables analysed passages=%d before=%d", now, max(before, 0))

    # ----- lock and reset ------------------------------------------------------------------
    @contextlib.contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """A session advisory lock on a connection of its own: it holds across machines and
        is released when the session ends, even if the ingestion dies."""
        holder = f"pid {os.getpid()} on {socket.gethostname()}"[:60]
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                   application_name=holder)
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc) from None
        try:
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (INGEST_LOCK,)).fetchone()[0]:
                row = conn.execute(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.objid = %s AND l.granted AND l.database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())", (INGEST_LOCK,),
                ).fetchone()
                raise StoreBusyError(
                    f"another ingestion ({row[0] if row and row[0] else 'another process'}) is writing to "
                    f"{self.location}; wait for it to finish"
                )
            yield
        finally:
            conn.close()

    def mark_reset(self) -> None:
        # No model check: a reset is how a store of another model is rebuilt.
        with self._connection(ensure_open=False) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS catalog_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("INSERT INTO catalog_meta VALUES ('reset_pending', '1') "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value")

    @property
    def reset_marked(self) -> bool:
        with self._connection(ensure_open=False) as conn:
            if conn.execute("SELECT to_regclass('catalog_meta') IS NULL AS absent").fetchone()["absent"]:
                return False
            return conn.execute("SELECT 1 FROM catalog_meta WHERE key = 'reset_pending'").fetchone() is not None

    def destroy(self) -> None:
        with self._connection(ensure_open=False) as conn, conn.transaction():
            conn.execute(f"DROP TABLE IF EXISTS {', '.join(_TABLE_NAMES)} CASCADE")
        self._ready = False


def _terms(text: str) -> list[str]:
    return sorted(set(keyword_terms(text)))
