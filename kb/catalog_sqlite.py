"""The SQLite catalog: one file under the store folder, its keyword index an FTS5 table.

The keyword index holds `kb.text.keyword_terms` of each chunk (title, section and text) and
ranks with BM25 (Chroma's own sparse index is Cloud-only). A file lock beside the catalog
keeps ingestions one at a time on this machine.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from kb.catalog import (
    CATALOG_FILE,
    SCHEMA_VERSION,
    TOTAL_TERM,
    StoreBusyError,
    analyzer_terms,
    kept_terms,
    organisations_column,
)
from kb.catalog_sql import SqlCatalog
from kb.files import private_file, private_folder
from kb.schema import Chunk, LoadedDocument, date_to_int
from kb.search_filter import SearchFilter
from kb.text import KEYWORD_ANALYZER_VERSION, keyword_terms

log = logging.getLogger(__name__)

# term_stats counts, per access level and language, the passages holding each keyword term;
# the row of the empty term (TOTAL_TERM) counts all passages. Kept at ingestion, so a question's
# term statistics are a few index lookups instead of counting matches over the whole index.
TERM_STATS_VERSION = "1"
LOCK_FILE = ".ingest.lock"
# Present while a reset runs: a reset cut short is finished by the next `recover()`, so the
# old catalog is never trusted once its vectors may be gone.
RESET_MARKER = ".reset-pending"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, file_hash TEXT NOT NULL, title TEXT NOT NULL,
    doc_type TEXT NOT NULL, date TEXT NOT NULL, organisations TEXT NOT NULL, language TEXT NOT NULL,
    access TEXT NOT NULL, illustrative INTEGER NOT NULL, supersedes TEXT, chunks INTEGER NOT NULL,
    ingested_at REAL NOT NULL, text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id), ordinal INTEGER NOT NULL,
    text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, section TEXT NOT NULL,
    page INTEGER, access TEXT NOT NULL, doc_type TEXT NOT NULL, date_int INTEGER NOT NULL,
    language TEXT NOT NULL, organisations TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(terms, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS pending (chunk_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS mentions (
    doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL, action TEXT NOT NULL, owner TEXT NOT NULL, commission TEXT,
    deadline TEXT, deadline_text TEXT NOT NULL, status TEXT NOT NULL, quote TEXT NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, page INTEGER, section TEXT NOT NULL, access TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'commitment', vector BLOB,
    PRIMARY KEY (doc_id, ordinal)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS term_stats (
    term TEXT NOT NULL, access TEXT NOT NULL, language TEXT NOT NULL, passages INTEGER NOT NULL,
    PRIMARY KEY (term, access, language)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sentences (
    doc_id TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (doc_id, start)
) WITHOUT ROWID;
"""
# Tables renamed since a store may have been built: old name -> current name.
_RENAMED_TABLES = {"roadmap_items": "mentions"}
_CHUNK_INSERT = (
    'INSERT INTO chunks (chunk_id, doc_id, ordinal, text, start, "end", section, page, '
    "access, doc_type, date_int, language, organisations) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _rename_legacy_tables(db: sqlite3.Connection) -> None:
    """Give tables of an older store their current name (their rows are kept)."""
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    with db:
        for old, new in _RENAMED_TABLES.items():
            if old in names and new not in names:
                db.execute(f"ALTER TABLE {old} RENAME TO {new}")


# Columns added since a store may have been built: table -> (column, definition).
_ADDED_COLUMNS = {"mentions": (("kind", "TEXT NOT NULL DEFAULT 'commitment'"), ("vector", "BLOB"))}


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Give tables of an older store the columns added since (existing rows take the default)."""
    with db:
        for table, columns in _ADDED_COLUMNS.items():
            present = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
            for name, definition in columns:
                if name not in present:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")


class SqliteCatalog(SqlCatalog):
    """The SQLite catalog of the knowledge base in `root`, built with `model`."""

    def __init__(self, root: Path, model: str) -> None:
        self.root = root
        self.model = model
        self._db: sqlite3.Connection | None = None

    # ----- opening -----------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return (self.root / CATALOG_FILE).is_file()

    @property
    def location(self) -> str:
        return str(self.root)

    @property
    def db(self) -> sqlite3.Connection:
        """The catalog connection (created on first use)."""
        if self._db is None:
            db = sqlite3.connect(private_file(self.root / CATALOG_FILE), check_same_thread=False, timeout=30)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            _rename_legacy_tables(db)
            db.executescript(_SCHEMA)
            _add_missing_columns(db)
            self._db = db
            with db:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            self._check_model()
            self._check_analyzer(db)
            self._check_term_stats(db)
        return self._db

    def open(self) -> None:
        self.db

    def _check_analyzer(self, db: sqlite3.Connection) -> None:
        if self.get_meta("keyword_analyzer") == KEYWORD_ANALYZER_VERSION:
            return
        # The analyzer changed (or the catalog is new): rebuild keyword terms from the
        # stored chunk texts, which needs no model.
        with db:
            db.execute("DELETE FROM chunks_fts")
            rows = db.execute(
                "SELECT c.rowid, c.text, c.section, d.title FROM chunks c JOIN documents d USING (doc_id)"
            ).fetchall()
            db.executemany(
                "INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)",
                [(r["rowid"], analyzer_terms(r["title"], r["section"], r["text"])) for r in rows],
            )
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('keyword_analyzer', ?)", (KEYWORD_ANALYZER_VERSION,)
            )
        if rows:
            log.info("keyword index rebuilt chunks=%d analyzer=%s", len(rows), KEYWORD_ANALYZER_VERSION)

    def _check_term_stats(self, db: sqlite3.Connection) -> None:
        """Count the term statistics from the keyword index when they are missing (a store built
        before them) or the analyzer changed; no model is needed."""
        wanted = f"{TERM_STATS_VERSION}/{KEYWORD_ANALYZER_VERSION}"
        if self.get_meta("term_stats") == wanted:
            return
        counts: Counter[tuple[str, str, str]] = Counter()
        rows = db.execute("SELECT f.terms, c.access, c.language FROM chunks_fts f JOIN chunks c ON c.rowid = f.rowid")
        for terms, access, language in rows:
            counts.update((term, access, language) for term in {TOTAL_TERM, *terms.split()})
        with db:
            db.execute("DELETE FROM term_stats")
            db.executemany("INSERT INTO term_stats VALUES (?,?,?,?)", [(*key, n) for key, n in counts.items()])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('term_stats', ?)", (wanted,))
        if counts:
            log.info("term statistics counted terms=%d", len(counts))

    def _count_terms(self, access: str, language: str, term_lists: Sequence[str], sign: int) -> None:
        """Add (sign 1) or remove (sign -1) passages' keyword terms to the statistics (inside a transaction)."""
        counts: Counter[str] = Counter()
        for terms in term_lists:
            counts.update({TOTAL_TERM, *terms.split()})
        self.db.executemany(
            "INSERT INTO term_stats VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET passages = passages + excluded.passages",
            [(term, access, language, sign * n) for term, n in counts.items()],
        )
        if sign < 0:
            self.db.executemany("DELETE FROM term_stats WHERE term=? AND access=? AND language=? AND passages<=0",
                                [(term, access, language) for term in counts])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # ----- primitives ----------------------------------------------------------------
    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute(sql, params).fetchall()]

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.db.execute(sql, params)

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.db.executemany(sql, rows)

    def _iterate(self, sql: str) -> Iterator[tuple[Any, ...]]:
        for row in self.db.execute(sql):
            yield tuple(row)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db:
            yield

    # ----- keyword index ---------------------------------------------------------------
    def keyword_search(self, query: str, k: int, where: SearchFilter) -> list[tuple[str, float]]:
        """BM25 search over the FTS5 index, over the rarest of the query's terms when all of
        them would match more than `KEYWORD_POSTINGS_BUDGET` passages."""
        terms = self._searched_terms(sorted(set(keyword_terms(query))), where)
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)
        condition, params = where.to_sql("c")
        rows = self.db.execute(
            f"SELECT c.chunk_id, bm25(chunks_fts) AS rank FROM chunks_fts "
            f"JOIN chunks c ON c.rowid = chunks_fts.rowid "
            f"WHERE chunks_fts MATCH ? AND {condition} ORDER BY rank LIMIT ?",
            [match, *params, k],
        ).fetchall()
        # FTS5's bm25() is negative (lower is better); flip it so higher is better.
        return [(r["chunk_id"], -r["rank"]) for r in rows]

    def _searched_terms(self, terms: list[str], where: SearchFilter) -> list[str]:
        """`terms`, or the rarest of them whose passages add up to the postings budget, read
        from the term statistics (`kept_terms`)."""
        if len(terms) < 2:
            return terms
        marks = ",".join("?" * len(terms))
        rows = self.db.execute(
            f"SELECT term, SUM(passages), SUM(CASE WHEN access IN ({','.join('?' * len(where.access))}) "
            f"AND language = COALESCE(?, language) THEN passages ELSE 0 END) FROM term_stats "
            f"WHERE term IN ({marks}) GROUP BY term",
            [*where.access, where.language, *terms],
        ).fetchall()
        return kept_terms(terms, {t: (n, allowed) for t, n, allowed in rows}, self.postings_budget)

    def term_frequencies(
        self, terms: Sequence[str], where: SearchFilter, language: str = ""
    ) -> tuple[dict[str, int], int, int]:
        unique = list(dict.fromkeys(terms))
        if self.stored_statistics_apply(where):
            return self._stored_term_frequencies(unique, where, language)
        condition, params = where.to_sql("c")
        total, in_language = self.db.execute(
            f"SELECT COUNT(*), COALESCE(SUM(c.language = ?), 0) FROM chunks c WHERE {condition}", [language, *params]
        ).fetchone()
        if not unique:
            return {}, total, in_language
        # One statement for all terms: each row of the VALUES list is matched as a phrase.
        values = ",".join(["(?)"] * len(unique))
        rows = self.db.execute(
            f"WITH wanted(term) AS (VALUES {values}) "
            f"SELECT wanted.term, (SELECT COUNT(*) FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
            f"WHERE chunks_fts MATCH '\"' || wanted.term || '\"' AND {condition}) FROM wanted",
            [*unique, *params],
        ).fetchall()
        counts = {term: count for term, count in rows}
        return {term: counts[term] for term in unique}, total, in_language

    def _delete_chunk_rows(self, doc_id: str) -> None:
        rows = self.db.execute(
            "SELECT c.access, c.language, f.terms FROM chunks c JOIN chunks_fts f ON f.rowid = c.rowid WHERE c.doc_id=?",
            (doc_id,),
        ).fetchall()
        if rows:  # a document's passages share its access level and language
            self._count_terms(rows[0][0], rows[0][1], [r[2] for r in rows], -1)
        self._execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE doc_id=?)", (doc_id,))
        super()._delete_chunk_rows(doc_id)

    def _insert_chunks(self, doc: LoadedDocument, chunks: Sequence[Chunk]) -> None:
        meta = doc.meta
        orgs = organisations_column(meta.organisations)
        term_lists = []
        for c in chunks:
            cur = self.db.execute(_CHUNK_INSERT, (
                c.chunk_id, doc.doc_id, c.ordinal, c.text, c.start, c.end, c.section, c.page,
                meta.access, meta.doc_type, date_to_int(meta.date), meta.language, orgs,
            ))
            term_lists.append(analyzer_terms(meta.title, c.section, c.text))
            self.db.execute("INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)", (cur.lastrowid, term_lists[-1]))
        if chunks:
            self._count_terms(meta.access, meta.language, term_lists, 1)

    def _insert_chunk_rows(self, rows: list[Sequence[Any]], titles: dict[str, str]) -> None:
        for row in rows:  # columns of _CHUNK_INSERT: access is the 9th, language the 12th
            cur = self.db.execute(_CHUNK_INSERT, row)
            terms = analyzer_terms(titles.get(row[1], ""), row[6], row[3])
            self.db.execute("INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)", (cur.lastrowid, terms))
            self._count_terms(row[8], row[11], [terms], 1)

    # ----- lock and reset ------------------------------------------------------------------
    @contextlib.contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """A file lock beside the catalog (one machine)."""
        handle = open(private_file(self.root / LOCK_FILE), "a+")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise StoreBusyError(
                        f"another ingestion ({holder}) is writing to {self.root}; wait for it to finish"
                    ) from None
                raise
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            yield
        finally:
            handle.close()

    def mark_reset(self) -> None:
        self.close()
        private_folder(self.root)
        _durable_touch(self.root / RESET_MARKER)

    @property
    def reset_marked(self) -> bool:
        return (self.root / RESET_MARKER).exists()

    def destroy(self) -> None:
        self.close()
        for name in (CATALOG_FILE, CATALOG_FILE + "-wal", CATALOG_FILE + "-shm"):
            with contextlib.suppress(FileNotFoundError):
                (self.root / name).unlink()
        with contextlib.suppress(FileNotFoundError):
            (self.root / RESET_MARKER).unlink()


def _durable_touch(path: Path) -> None:
    """Create `path` and make its existence survive a crash (file and folder synced)."""
    with open(path, "w") as handle:
        os.fsync(handle.fileno())
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
