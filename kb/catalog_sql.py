"""The SQL both catalog implementations share (standard SQL that SQLite and PostgreSQL both run).

Statements use `?` placeholders (those of `SearchFilter.to_sql`); an implementation whose
driver wants another style converts them in its `_fetchall` / `_execute` primitives. What
differs (connections, schema, the keyword index, locks) stays in the implementations.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from abc import abstractmethod
from typing import Any, Iterable, Iterator, Sequence

from kb.catalog import (
    KEYWORD_POSTINGS_BUDGET,
    TABLE_COLUMNS,
    TOTAL_TERM,
    Catalog,
    DocumentRecord,
    PassageText,
    document_record,
    model_mismatch,
    pack_vector,
    unpack_vector,
)
from kb.commitments import Mention
from kb.schema import QUOTED_HEADING, Chunk, LoadedDocument
from kb.search_filter import SearchFilter

DOCUMENT_COLUMNS = (
    "doc_id, path, file_hash, title, doc_type, date, organisations, language, access, "
    "illustrative, supersedes, chunks, ingested_at"
)
_MENTION_INSERT = (
    'INSERT INTO mentions (doc_id, ordinal, action, owner, commission, deadline, deadline_text, status, '
    'quote, start, "end", page, section, access, kind, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)'
)


def column_list(table: str) -> str:
    """The columns of `table` in `TABLE_COLUMNS` order, quoted where SQL needs it."""
    return ", ".join(f'"{c}"' if c == "end" else c for c in TABLE_COLUMNS[table])


def _upsert(table: str, key: str) -> str:
    columns = TABLE_COLUMNS[table]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return (f"INSERT INTO {table} ({column_list(table)}) VALUES ({','.join('?' * len(columns))}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {updates}")


class SqlCatalog(Catalog):
    """The catalog methods whose SQL is the same on SQLite and PostgreSQL."""

    META_TABLE = "meta"
    # Postings a keyword search ranks at most (`KEYWORD_POSTINGS_BUDGET`); an instance may set
    # another (a benchmark compares with no limit).
    postings_budget: float = KEYWORD_POSTINGS_BUDGET

    # ----- primitives ----------------------------------------------------------------
    @abstractmethod
    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a query, as dicts by column name."""

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement (inside the current transaction if any)."""

    @abstractmethod
    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each parameter row (inside the current transaction if any)."""

    @abstractmethod
    def _iterate(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """Rows of a query as tuples, fetched a batch at a time."""

    @abstractmethod
    def _insert_chunks(self, doc: LoadedDocument, chunks: Sequence[Chunk]) -> None:
        """Insert a document's chunk rows and their keyword index."""

    @abstractmethod
    def _insert_chunk_rows(self, rows: list[Sequence[Any]], titles: dict[str, str]) -> None:
        """Insert chunk rows in `TABLE_COLUMNS['chunks']` order (a migration) and their keyword index;
        `titles` gives each document's title."""

    def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self._fetchall(sql, params)
        return rows[0] if rows else None

    def _delete_chunk_rows(self, doc_id: str) -> None:
        self._execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        self._execute("DELETE FROM sentences WHERE doc_id=?", (doc_id,))

    # ----- checks shared at opening ----------------------------------------------------
    def _check_model(self) -> None:
        """Record the embedding model on first use; refuse a catalog built with another."""
        with self.transaction():
            self._execute(f"INSERT INTO {self.META_TABLE} VALUES ('embedding_model', ?) ON CONFLICT (key) DO NOTHING",
                          (self.model,))
        recorded = self.get_meta("embedding_model")
        if recorded != self.model:
            raise model_mismatch(self.location, str(recorded), self.model)

    # ----- reading -----------------------------------------------------------------
    def documents(self, where: SearchFilter | None = None) -> dict[str, DocumentRecord]:
        condition, params = where.to_document_sql("d") if where else ("1=1", [])
        rows = self._fetchall(f"SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE {condition} ORDER BY path", params)
        return {r["doc_id"]: document_record(r) for r in rows}

    def document_by_path(self, path: str, where: SearchFilter) -> DocumentRecord | None:
        condition, params = where.to_document_sql("d")
        row = self._fetchone(f"SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.path=? AND {condition}",
                             [path, *params])
        return document_record(row) if row else None

    def document_text(self, doc_id: str) -> str | None:
        row = self._fetchone("SELECT text FROM documents WHERE doc_id=?", (doc_id,))
        return row["text"] if row else None

    def chunk_count(self) -> int:
        """Read from the term statistics' total rows, which every write keeps in the same
        transaction as the passages: a few index lookups at any store size, and never stale
        when several app servers share the catalog (nothing is cached here to invalidate)."""
        row = self._fetchall("SELECT COALESCE(SUM(passages), 0) AS n FROM term_stats WHERE term = ?", (TOTAL_TERM,))
        return int(row[0]["n"])

    def _stored_term_frequencies(self, unique: list[str], where: SearchFilter,
                                 language: str) -> tuple[dict[str, int], int, int]:
        """`term_frequencies` from the term statistics (`where` restricts access and language only)."""
        marks = ",".join("?" * (len(unique) + 1))
        rows = self._fetchall(
            f"SELECT term, language, SUM(passages) AS n FROM term_stats WHERE term IN ({marks}) "
            f"AND access IN ({','.join('?' * len(where.access))}) AND language = COALESCE(?, language) "
            "GROUP BY term, language",
            [*unique, TOTAL_TERM, *where.access, where.language],
        )
        counts: Counter[str] = Counter()
        for row in rows:
            counts[row["term"]] += int(row["n"])
        in_language = sum(int(r["n"]) for r in rows if r["term"] == TOTAL_TERM and r["language"] == language)
        return {term: counts[term] for term in unique}, counts[TOTAL_TERM], in_language

    @staticmethod
    def stored_statistics_apply(where: SearchFilter) -> bool:
        """Do the stored term statistics answer for `where` (it restricts access and language only)?"""
        return where == SearchFilter(access=where.access, language=where.language)

    def passage_texts(self, where: SearchFilter) -> list[PassageText]:
        condition, params = where.to_sql("c")
        rows = self._fetchall(
            "SELECT c.text, d.title, d.path, d.date FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
            f"WHERE {condition} ORDER BY d.path, c.ordinal",
            params,
        )
        return [PassageText(r["text"], r["title"], r["path"], r["date"]) for r in rows]

    def chunk_ids_of(self, doc_id: str) -> set[str]:
        return {r["chunk_id"] for r in self._fetchall("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))}

    def quoted_openings(self) -> dict[str, dict[str, str]]:
        # The heading has no LIKE wildcard (% or _) of its own.
        rows = self._fetchall("SELECT doc_id, section, text FROM chunks WHERE section LIKE ? ORDER BY doc_id, ordinal",
                              (QUOTED_HEADING + "%",))
        found: dict[str, dict[str, str]] = {}
        for row in rows:
            found.setdefault(row["doc_id"], {}).setdefault(row["section"], row["text"])
        return found

    def chunk_documents(self) -> dict[str, str]:
        return {r["chunk_id"]: r["doc_id"] for r in self._fetchall("SELECT chunk_id, doc_id FROM chunks")}

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self._fetchall(
            f"SELECT c.chunk_id, c.doc_id, c.ordinal, c.text, c.start, c.\"end\", c.section, c.page, "
            f"c.access, c.doc_type, c.language, d.title, d.path, d.date, d.organisations "
            f"FROM chunks c JOIN documents d USING (doc_id) WHERE c.chunk_id IN ({marks})",
            list(chunk_ids),
        )
        return {r["chunk_id"]: r for r in rows}

    def sentences_in(self, doc_id: str, start: int, end: int) -> list[tuple[int, int, Any]]:
        rows = self._fetchall(
            'SELECT start, "end", vector FROM sentences WHERE doc_id=? AND start>=? AND "end"<=? ORDER BY start',
            (doc_id, start, end),
        )
        return [(r["start"], r["end"], unpack_vector(r["vector"])) for r in rows]

    def get_meta(self, key: str) -> str | None:
        row = self._fetchone(f"SELECT value FROM {self.META_TABLE} WHERE key=?", (key,))
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._execute(f"INSERT INTO {self.META_TABLE} VALUES (?, ?) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def mentions(self, where: SearchFilter) -> list[dict[str, Any]]:
        condition, params = where.to_document_sql("d")
        return self._fetchall(
            f'SELECT r.doc_id, r.ordinal, r.action, r.owner, r.commission, r.deadline, r.deadline_text, r.status, '
            f'r.quote, r.start, r."end", r.page, r.section, r.access, r.kind, d.title, d.path, d.date, d.doc_type, d.language '
            f"FROM mentions r JOIN documents d USING (doc_id) WHERE {condition} "
            f"ORDER BY d.date DESC, r.doc_id, r.ordinal",
            params,
        )

    def mention_vectors(self, where: SearchFilter) -> dict[tuple[str, int], Any]:
        import numpy as np

        condition, params = where.to_document_sql("d")
        rows = self._fetchall(
            "SELECT r.doc_id, r.ordinal, r.vector FROM mentions r JOIN documents d USING (doc_id) "
            f"WHERE r.vector IS NOT NULL AND {condition}",
            params,
        )
        vectors = {}
        for row in rows:
            vector = unpack_vector(row["vector"])
            norm = float(np.linalg.norm(vector))
            if norm > 0:
                vectors[(row["doc_id"], row["ordinal"])] = vector / norm
        return vectors

    # ----- writing -----------------------------------------------------------------
    def replace_mentions(self, doc: LoadedDocument, mentions: Sequence[Mention],
                         vectors: Sequence[Sequence[float]] = ()) -> None:
        with self.transaction():
            if self._fetchone("SELECT 1 AS found FROM documents WHERE doc_id=?", (doc.doc_id,)):
                self._write_mentions(doc.doc_id, doc.meta.access, mentions, vectors)

    def _write_mentions(self, doc_id: str, access: str, mentions: Sequence[Mention],
                        vectors: Sequence[Sequence[float]] = ()) -> None:
        self._execute("DELETE FROM mentions WHERE doc_id=?", (doc_id,))
        packed = [pack_vector(v) for v in vectors] if len(vectors) == len(mentions) else [None] * len(mentions)
        self._executemany(_MENTION_INSERT, [
            (doc_id, n, i.action, i.owner, i.commission, i.deadline.isoformat() if i.deadline else None,
             i.deadline_text, i.status, i.quote, i.start, i.end, i.page, i.section, access, i.kind, packed[n])
            for n, i in enumerate(mentions)
        ])

    def mark_ingested(self) -> None:
        self.set_meta("last_ingest_at", str(time.time()))

    def write_document_rows(
        self, doc: LoadedDocument, chunks: Sequence[Chunk], sentences: Sequence[tuple[int, int]],
        sentence_vectors: Sequence[Sequence[float]], mentions: Sequence[Mention],
        mention_vectors: Sequence[Sequence[float]] = (),
    ) -> None:
        meta = doc.meta
        self._delete_chunk_rows(doc.doc_id)
        self._executemany(
            'INSERT INTO sentences (doc_id, start, "end", vector) VALUES (?,?,?,?)',
            [(doc.doc_id, start, end, pack_vector(v)) for (start, end), v in zip(sentences, sentence_vectors)],
        )
        self._execute(_upsert("documents", "doc_id"), (
            doc.doc_id, doc.path, doc.file_hash, meta.title, meta.doc_type,
            meta.date.isoformat() if meta.date else "", json.dumps(list(meta.organisations)),
            meta.language, meta.access, int(meta.illustrative), meta.supersedes, len(chunks),
            time.time(), doc.text,
        ))
        self._write_mentions(doc.doc_id, meta.access, mentions, mention_vectors)
        self._insert_chunks(doc, chunks)

    def delete_document_rows(self, doc_id: str) -> None:
        self._delete_chunk_rows(doc_id)
        self._execute("DELETE FROM mentions WHERE doc_id=?", (doc_id,))
        self._execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))

    def add_pending(self, chunk_ids: Sequence[str]) -> None:
        self._executemany("INSERT INTO pending VALUES (?) ON CONFLICT (chunk_id) DO NOTHING",
                          [(cid,) for cid in chunk_ids])

    def pending(self) -> list[str]:
        return [r["chunk_id"] for r in self._fetchall("SELECT chunk_id FROM pending")]

    def clear_pending(self, chunk_ids: Sequence[str] | None = None) -> None:
        if chunk_ids is None:
            self._execute("DELETE FROM pending")
        else:
            self._executemany("DELETE FROM pending WHERE chunk_id=?", [(cid,) for cid in chunk_ids])

    def forget_hash(self, doc_id: str) -> None:
        self._execute("UPDATE documents SET file_hash = '' WHERE doc_id=?", (doc_id,))

    # ----- migration -------------------------------------------------------------------
    def table_rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        name = self.META_TABLE if table == "meta" else table
        return self._iterate(f"SELECT {column_list(table)} FROM {name}")

    def insert_rows(self, table: str, rows: Iterable[Sequence[Any]]) -> int:
        batch = [tuple(r) for r in rows]
        with self.transaction():
            if table == "chunks":
                titles = {r["doc_id"]: r["title"] for r in self._fetchall("SELECT doc_id, title FROM documents")}
                self._insert_chunk_rows(batch, titles)
            else:
                name = self.META_TABLE if table == "meta" else table
                marks = ",".join("?" * len(TABLE_COLUMNS[table]))
                self._executemany(f"INSERT INTO {name} ({column_list(table)}) VALUES ({marks})", batch)
        return len(batch)
