"""The SQLite catalog of a knowledge base: documents, chunks, keyword index, sentences, roadmap rows.

The catalog holds the document manifest (file hashes for incremental ingestion), the
extracted texts, every chunk, and the keyword side of retrieval as an FTS5 index with
BM25 ranking (Chroma's own sparse index is Cloud-only). Access level, type, date,
language and organisations are columns of both sides, so filters run inside each query.
Every SQL statement of the knowledge base lives here; `kb.store` adds the vector index.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Sequence

from kb.commitments import Mention
from kb.files import private_file
from kb.schema import Chunk, LoadedDocument, date_to_int
from kb.search_filter import SearchFilter
from kb.text import KEYWORD_ANALYZER_VERSION, keyword_terms

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite3"
SCHEMA_VERSION = "1"


class StoreError(Exception):
    """A problem with the knowledge base; the message says what to do."""


class StoreMismatchError(StoreError):
    """The store was built with another embedding model."""


class StoreBusyError(StoreError):
    """Another ingestion holds the store."""


class EmptyStoreError(StoreError):
    """The store is missing or holds no document."""


@dataclass(frozen=True)
class DocumentRecord:
    """A document as the catalog knows it."""

    doc_id: str
    path: str
    file_hash: str
    title: str
    doc_type: str
    date: str
    organisations: tuple[str, ...]
    language: str
    access: str
    illustrative: bool
    supersedes: str | None
    chunks: int
    ingested_at: float


class PassageText(NamedTuple):
    """A chunk's text with its document's title, path and date."""

    text: str
    title: str
    path: str
    date: str


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
# term_stats counts, per access level and language, the passages holding each keyword term;
# the row of the empty term counts all passages. Kept at ingestion, so a question's term
# statistics are a few index lookups instead of counting matches over the whole index.
TOTAL_TERM = ""
TERM_STATS_VERSION = "1"
# Tables renamed since a store may have been built: old name -> current name.
_RENAMED_TABLES = {"roadmap_items": "mentions"}


def _rename_legacy_tables(db: sqlite3.Connection) -> None:
    """Give tables of an older store their current name (their rows are kept)."""
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    with db:
        for old, new in _RENAMED_TABLES.items():
            if old in names and new not in names:
                db.execute(f"ALTER TABLE {old} RENAME TO {new}")


_DOCUMENT_COLUMNS = (
    "doc_id, path, file_hash, title, doc_type, date, organisations, language, access, "
    "illustrative, supersedes, chunks, ingested_at"
)


class Catalog:
    """Handle on the SQLite catalog of the knowledge base in `root`, built with `model`."""

    def __init__(self, root: Path, model: str) -> None:
        self.root = root
        self.model = model
        self._db: sqlite3.Connection | None = None

    # ----- opening -----------------------------------------------------------------
    @property
    def exists(self) -> bool:
        """True when a catalog file is present."""
        return (self.root / CATALOG_FILE).is_file()

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
            self._db = db
            self._check_model(db)
            self._check_analyzer(db)
            self._check_term_stats(db)
        return self._db

    def _check_model(self, db: sqlite3.Connection) -> None:
        with db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            row = db.execute("SELECT value FROM meta WHERE key='embedding_model'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('embedding_model', ?)", (self.model,))
            elif row["value"] != self.model:
                raise StoreMismatchError(
                    f"the store {self.root} was built with the embedding model {row['value']!r}, "
                    f"but this run uses {self.model!r}; run `python -m ingest --reset` to rebuild it "
                    "with the new model, or set PASSERELLE_EMBEDDING_MODEL back"
                )

    def _check_analyzer(self, db: sqlite3.Connection) -> None:
        row = db.execute("SELECT value FROM meta WHERE key='keyword_analyzer'").fetchone()
        if row is not None and row["value"] == KEYWORD_ANALYZER_VERSION:
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
                [(r["rowid"], _terms(r["title"], r["section"], r["text"])) for r in rows],
            )
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('keyword_analyzer', ?)", (KEYWORD_ANALYZER_VERSION,)
            )
        if rows:
            log.info("keyword index rebuilt chunks=%d analyzer=%s", len(rows), KEYWORD_ANALYZER_VERSION)

    def _check_term_stats(self, db: sqlite3.Connection) -> None:
        """Count the term statistics from the keyword index when they are missing (a store built
        before them) or the analyzer changed; no model is needed."""
        row = db.execute("SELECT value FROM meta WHERE key='term_stats'").fetchone()
        wanted = f"{TERM_STATS_VERSION}/{KEYWORD_ANALYZER_VERSION}"
        if row is not None and row["value"] == wanted:
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
        """Close the catalog connection."""
        if self._db is not None:
            self._db.close()
            self._db = None

    # ----- reading -----------------------------------------------------------------
    def documents(self, where: SearchFilter | None = None) -> dict[str, DocumentRecord]:
        """Every document of the catalog by id, in path order; only those `where` allows if given."""
        condition, params = where.to_document_sql("d") if where else ("1", [])
        rows = self.db.execute(
            f"SELECT {_DOCUMENT_COLUMNS} FROM documents d WHERE {condition} ORDER BY path", params
        ).fetchall()
        return {r["doc_id"]: _record(r) for r in rows}

    def document_by_path(self, path: str, where: SearchFilter) -> DocumentRecord | None:
        """The document at `path` if `where` allows it, else None (one row, not the whole table)."""
        condition, params = where.to_document_sql("d")
        row = self.db.execute(
            f"SELECT {_DOCUMENT_COLUMNS} FROM documents d WHERE d.path=? AND {condition}", [path, *params]
        ).fetchone()
        return _record(row) if row else None

    def document_text(self, doc_id: str) -> str | None:
        """The extracted text of a document (the text chunk offsets point into)."""
        row = self.db.execute("SELECT text FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return row["text"] if row else None

    def chunk_count(self) -> int:
        """Number of chunks in the catalog."""
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def passage_texts(self, where: SearchFilter) -> list[PassageText]:
        """The text of every chunk `where` allows, with its document's title, path and date,
        in path then chunk order."""
        condition, params = where.to_sql("c")
        rows = self.db.execute(
            "SELECT c.text, d.title, d.path, d.date FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
            f"WHERE {condition} ORDER BY d.path, c.ordinal",
            params,
        ).fetchall()
        return [PassageText(*r) for r in rows]

    def chunk_ids_of(self, doc_id: str) -> set[str]:
        """The ids of a document's chunks."""
        return {r[0] for r in self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))}

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Catalog rows of the given chunks, joined with their document's fields."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.db.execute(
            f"SELECT c.chunk_id, c.doc_id, c.ordinal, c.text, c.start, c.\"end\", c.section, c.page, "
            f"c.access, c.doc_type, c.language, d.title, d.path, d.date, d.organisations "
            f"FROM chunks c JOIN documents d USING (doc_id) WHERE c.chunk_id IN ({marks})",
            list(chunk_ids),
        ).fetchall()
        return {r["chunk_id"]: dict(r) for r in rows}

    def sentences_in(self, doc_id: str, start: int, end: int) -> list[tuple[int, int, "Any"]]:
        """Sentences of a document within [start, end): (start, end, float32 vector)."""
        rows = self.db.execute(
            'SELECT start, "end", vector FROM sentences WHERE doc_id=? AND start>=? AND "end"<=? ORDER BY start',
            (doc_id, start, end),
        ).fetchall()
        return [(r[0], r[1], _unpack(r[2])) for r in rows]

    def keyword_search(self, query: str, k: int, where: SearchFilter) -> list[tuple[str, float]]:
        """BM25 search over the keyword index: (chunk_id, score) best first, filter applied inside."""
        terms = sorted(set(keyword_terms(query)))
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

    def term_frequencies(
        self, terms: Sequence[str], where: SearchFilter, language: str = ""
    ) -> tuple[dict[str, int], int, int]:
        """How many passages `where` allows contain each keyword term, how many it allows,
        and how many of those are in `language`. From the term statistics when `where` only
        restricts access levels and language, else counted in the keyword index."""
        unique = list(dict.fromkeys(terms))
        if where == SearchFilter(access=where.access, language=where.language):
            marks = ",".join("?" * (len(unique) + 1))
            rows = self.db.execute(
                f"SELECT term, language, SUM(passages) FROM term_stats WHERE term IN ({marks}) "
                f"AND access IN ({','.join('?' * len(where.access))}) AND language = COALESCE(?, language) "
                "GROUP BY term, language",
                [*unique, TOTAL_TERM, *where.access, where.language],
            ).fetchall()
            counts: Counter[str] = Counter()
            for term, row_language, n in rows:
                counts[term] += n
            in_language = sum(n for term, row_language, n in rows if term == TOTAL_TERM and row_language == language)
            return {term: counts[term] for term in unique}, counts[TOTAL_TERM], in_language
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

    def get_meta(self, key: str) -> str | None:
        """A value of the catalog's meta table."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row["value"] if row else None

    # ----- writing -----------------------------------------------------------------
    def replace_mentions(self, doc: LoadedDocument, mentions: Sequence[Mention]) -> None:
        """Replace the commitments a catalogued document states (re-extraction without re-embedding)."""
        with self.db:
            if self.db.execute("SELECT 1 FROM documents WHERE doc_id=?", (doc.doc_id,)).fetchone():
                self._write_mentions(doc.doc_id, doc.meta.access, mentions)

    def _write_mentions(self, doc_id: str, access: str, mentions: Sequence[Mention]) -> None:
        self.db.execute("DELETE FROM mentions WHERE doc_id=?", (doc_id,))
        self.db.executemany(
            'INSERT INTO mentions (doc_id, ordinal, action, owner, commission, deadline, deadline_text, status, '
            'quote, start, "end", page, section, access) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
            [
                (doc_id, n, i.action, i.owner, i.commission, i.deadline.isoformat() if i.deadline else None,
                 i.deadline_text, i.status, i.quote, i.start, i.end, i.page, i.section, access)
                for n, i in enumerate(mentions)
            ],
        )

    def mentions(self, where: SearchFilter) -> list[dict[str, Any]]:
        """The commitments as each document `where` allows states them, with their document's
        title, path and date; newest document first, then document order."""
        condition, params = where.to_document_sql("d")
        rows = self.db.execute(
            f'SELECT r.doc_id, r.ordinal, r.action, r.owner, r.commission, r.deadline, r.deadline_text, r.status, '
            f'r.quote, r.start, r."end", r.page, r.section, r.access, d.title, d.path, d.date, d.doc_type '
            f"FROM mentions r JOIN documents d USING (doc_id) WHERE {condition} "
            f"ORDER BY d.date DESC, r.doc_id, r.ordinal",
            params,
        ).fetchall()
        return [dict(r) for r in rows]

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the catalog's meta table."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _delete_chunk_rows(self, doc_id: str) -> None:
        rows = self.db.execute(
            "SELECT c.access, c.language, f.terms FROM chunks c JOIN chunks_fts f ON f.rowid = c.rowid WHERE c.doc_id=?",
            (doc_id,),
        ).fetchall()
        if rows:  # a document's passages share its access level and language
            self._count_terms(rows[0][0], rows[0][1], [r[2] for r in rows], -1)
        self.db.execute(
            "DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE doc_id=?)", (doc_id,)
        )
        self.db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        self.db.execute("DELETE FROM sentences WHERE doc_id=?", (doc_id,))

    def _write_document_rows(
        self,
        doc: LoadedDocument,
        chunks: Sequence[Chunk],
        sentences: Sequence[tuple[int, int]],
        sentence_vectors: Sequence[Sequence[float]],
        mentions: Sequence[Mention],
    ) -> None:
        """Replace a document's catalog rows (call inside a transaction): sentences, the
        document, its commitments, its chunks and their keyword terms."""
        db = self.db
        meta = doc.meta
        orgs = "|" + "|".join(meta.organisations) + "|" if meta.organisations else ""
        self._delete_chunk_rows(doc.doc_id)
        db.executemany(
            'INSERT INTO sentences (doc_id, start, "end", vector) VALUES (?,?,?,?)',
            [(doc.doc_id, start, end, _pack(v)) for (start, end), v in zip(sentences, sentence_vectors)],
        )
        db.execute(
            "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                doc.doc_id, doc.path, doc.file_hash, meta.title, meta.doc_type,
                meta.date.isoformat() if meta.date else "", json.dumps(list(meta.organisations)),
                meta.language, meta.access, int(meta.illustrative), meta.supersedes, len(chunks),
                time.time(), doc.text,
            ),
        )
        self._write_mentions(doc.doc_id, meta.access, mentions)
        term_lists = []
        for c in chunks:
            cur = db.execute(
                'INSERT INTO chunks (chunk_id, doc_id, ordinal, text, start, "end", section, page, '
                "access, doc_type, date_int, language, organisations) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    c.chunk_id, doc.doc_id, c.ordinal, c.text, c.start, c.end, c.section, c.page,
                    meta.access, meta.doc_type, date_to_int(meta.date), meta.language, orgs,
                ),
            )
            term_lists.append(_terms(meta.title, c.section, c.text))
            db.execute("INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)", (cur.lastrowid, term_lists[-1]))
        if chunks:
            self._count_terms(meta.access, meta.language, term_lists, 1)

    def _delete_document_rows(self, doc_id: str) -> None:
        """Delete a document, its chunks and its commitments (call inside a transaction)."""
        self._delete_chunk_rows(doc_id)
        self.db.execute("DELETE FROM mentions WHERE doc_id=?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))

    def _add_pending(self, chunk_ids: Sequence[str]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(cid,) for cid in chunk_ids])

    def _pending(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT chunk_id FROM pending")]

    def _clear_pending(self, chunk_ids: Sequence[str] | None = None) -> None:
        if chunk_ids is None:
            self.db.execute("DELETE FROM pending")
        else:
            self.db.executemany("DELETE FROM pending WHERE chunk_id=?", [(cid,) for cid in chunk_ids])

    def _forget_hash(self, doc_id: str) -> None:
        self.db.execute("UPDATE documents SET file_hash = '' WHERE doc_id=?", (doc_id,))

    def mark_ingested(self) -> None:
        """Record the time of the last completed ingestion."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('last_ingest_at', ?)", (str(time.time()),))


def _pack(vector: Sequence[float]) -> bytes:
    import numpy as np

    # float16 halves the catalog size; sentence scoring does not need more precision.
    return np.asarray(vector, dtype=np.float16).tobytes()


def _unpack(blob: bytes) -> Any:
    import numpy as np

    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


def _terms(title: str, section: str, text: str) -> str:
    return " ".join(keyword_terms(f"{title}\n{section}\n{text}"))


def _record(row: sqlite3.Row) -> DocumentRecord:
    return DocumentRecord(
        doc_id=row["doc_id"], path=row["path"], file_hash=row["file_hash"], title=row["title"],
        doc_type=row["doc_type"], date=row["date"], organisations=tuple(json.loads(row["organisations"])),
        language=row["language"], access=row["access"], illustrative=bool(row["illustrative"]),
        supersedes=row["supersedes"], chunks=row["chunks"], ingested_at=row["ingested_at"],
    )
