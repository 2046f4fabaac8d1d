"""The knowledge base on disk: Chroma for vectors, a SQLite catalog beside it.

The catalog holds the document manifest (file hashes for incremental ingestion), the
extracted texts, every chunk, and the keyword side of retrieval as an FTS5 index with
BM25 ranking (Chroma's own sparse index is Cloud-only). Access level, type, date,
language and organisations are columns of both sides, so filters run inside each query.

Consistency between the two stores: a chunk id is written to the `pending` table before
it is written to Chroma, and old ids go to `pending` in the same transaction that
replaces a document in the catalog. `recover()` deletes from Chroma every pending id the
catalog does not hold, so a crash at any point is repaired by the next ingestion.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from kb.commitments import Mention
from kb.schema import Chunk, LoadedDocument, access_for_role, chunk_metadata, date_to_int
from kb.settings import Settings
from kb.text import KEYWORD_ANALYZER_VERSION, keyword_terms

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from langchain_chroma import Chroma

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite3"
CHROMA_DIR = "chroma"
LOCK_FILE = ".ingest.lock"
# Present while `reset()` runs: a reset cut short is finished by the next `recover()`, so the
# old catalog is never trusted once its vectors may be gone.
RESET_MARKER = ".reset-pending"
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


@dataclass(frozen=True)
class SearchFilter:
    """Restrictions applied inside both the dense and the keyword query."""

    access: tuple[str, ...] = ("public",)
    doc_type: str | None = None
    since: date | None = None
    until: date | None = None
    organisation: str | None = None
    language: str | None = None

    @classmethod
    def for_role(cls, role: str, **filters: Any) -> "SearchFilter":
        """The filter for a caller's role plus optional user filters."""
        return cls(access=access_for_role(role), **filters)

    def to_chroma(self) -> dict[str, Any]:
        """A Chroma `where` clause."""
        clauses: list[dict[str, Any]] = [{"access": {"$in": list(self.access)}}]
        if self.doc_type:
            clauses.append({"doc_type": {"$eq": self.doc_type}})
        if self.since:
            clauses.append({"date_int": {"$gte": date_to_int(self.since)}})
        if self.until:
            clauses.append({"date_int": {"$lte": date_to_int(self.until)}})
            if not self.since:
                clauses.append({"date_int": {"$gt": 0}})
        if self.organisation:
            clauses.append({"organisations": {"$contains": self.organisation}})
        if self.language:
            clauses.append({"language": {"$eq": self.language}})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def to_sql(self, alias: str = "c") -> tuple[str, list[Any]]:
        """A SQL condition on the catalog's chunks table, with its parameters."""
        marks = ",".join("?" * len(self.access))
        parts = [f"{alias}.access IN ({marks})"]
        params: list[Any] = list(self.access)
        if self.doc_type:
            parts.append(f"{alias}.doc_type = ?")
            params.append(self.doc_type)
        if self.since:
            parts.append(f"{alias}.date_int >= ?")
            params.append(date_to_int(self.since))
        if self.until:
            parts.append(f"{alias}.date_int BETWEEN 1 AND ?")
            params.append(date_to_int(self.until))
        if self.organisation:
            parts.append(f"{alias}.organisations LIKE ?")
            params.append(f"%|{self.organisation}|%")
        if self.language:
            parts.append(f"{alias}.language = ?")
            params.append(self.language)
        return " AND ".join(parts), params


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
CREATE TABLE IF NOT EXISTS roadmap_items (
    doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL, action TEXT NOT NULL, owner TEXT NOT NULL, commission TEXT,
    deadline TEXT, deadline_text TEXT NOT NULL, status TEXT NOT NULL, quote TEXT NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, page INTEGER, section TEXT NOT NULL, access TEXT NOT NULL,
    PRIMARY KEY (doc_id, ordinal)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sentences (
    doc_id TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (doc_id, start)
) WITHOUT ROWID;
"""


def model_label(model: str) -> str:
    """A location-independent name for an embedding model (folder name for local paths)."""
    path = Path(model)
    return f"local:{path.name}" if path.is_dir() else model


class KnowledgeBase:
    """Handle on one knowledge base: the catalog, and Chroma opened lazily."""

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None) -> None:
        self.settings = settings
        self.root = Path(settings.store)
        self.model = model_label(settings.embedding_model)
        self._embeddings = embeddings
        self._db: sqlite3.Connection | None = None
        self._vectors: "Chroma | None" = None
        self._client: Any = None

    # ----- opening -----------------------------------------------------------------
    @property
    def exists(self) -> bool:
        """True when a catalog file is present."""
        return (self.root / CATALOG_FILE).is_file()

    @property
    def db(self) -> sqlite3.Connection:
        """The catalog connection (created on first use)."""
        if self._db is None:
            self.root.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.root / CATALOG_FILE, check_same_thread=False, timeout=30)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            self._db = db
            self._check_model(db)
            self._check_analyzer(db)
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

    @property
    def embeddings(self) -> Embeddings:
        """The embedding model (loaded on first use)."""
        if self._embeddings is None:
            from kb.embeddings import load_embeddings

            self._embeddings = load_embeddings(
                self.settings.embedding_model, self.settings.embedding_precision
            )
        return self._embeddings

    @property
    def vectors(self) -> "Chroma":
        """The LangChain vector store over the Chroma collection (opened on first use)."""
        if self._vectors is None:
            from langchain_chroma import Chroma

            self.db  # the catalog's model check runs before anything touches Chroma
            client = self._chroma_client()
            try:
                vectors = Chroma(
                    client=client,
                    collection_name=self.settings.collection,
                    embedding_function=self._embeddings or _LazyEmbeddings(self),
                    collection_metadata={"embedding_model": self.model},
                    collection_configuration={"hnsw": {"space": "cosine"}},
                )
            except Exception as exc:  # chromadb raises many types; all mean "cannot open"
                raise StoreError(f"cannot open the Chroma collection {self.settings.collection!r}: {exc}") from exc
            recorded = (vectors._collection.metadata or {}).get("embedding_model")
            if recorded and recorded != self.model:
                raise StoreMismatchError(
                    f"the Chroma collection {self.settings.collection!r} holds vectors of {recorded!r}, "
                    f"but this run uses {self.model!r}; run `python -m ingest --reset` to rebuild it"
                )
            self._vectors = vectors
        return self._vectors

    def _chroma_client(self) -> Any:
        if self._client is not None:
            return self._client
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        try:
            if self.settings.uses_chroma_server:
                self._client = chromadb.HttpClient(
                    host=self.settings.chroma_host, port=self.settings.chroma_port, settings=chroma_settings
                )
                self._client.heartbeat()
            else:
                self._client = chromadb.PersistentClient(
                    path=str(self.root / CHROMA_DIR), settings=chroma_settings
                )
        except Exception as exc:
            where = (
                f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port}"
                if self.settings.uses_chroma_server
                else f"the embedded Chroma store in {self.root / CHROMA_DIR}"
            )
            raise StoreError(f"cannot reach {where}: {exc}") from exc
        return self._client

    def close(self) -> None:
        """Close the catalog connection."""
        if self._db is not None:
            self._db.close()
            self._db = None

    # ----- reading -----------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        """Every document of the catalog by id."""
        rows = self.db.execute(
            "SELECT doc_id, path, file_hash, title, doc_type, date, organisations, language, access, "
            "illustrative, supersedes, chunks, ingested_at FROM documents ORDER BY path"
        ).fetchall()
        return {r["doc_id"]: _record(r) for r in rows}

    def document_text(self, doc_id: str) -> str | None:
        """The extracted text of a document (the text chunk offsets point into)."""
        row = self.db.execute("SELECT text FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return row["text"] if row else None

    def chunk_count(self) -> int:
        """Number of chunks in the catalog."""
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

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
        and how many of those are in `language`."""
        condition, params = where.to_sql("c")
        total, in_language = self.db.execute(
            f"SELECT COUNT(*), COALESCE(SUM(c.language = ?), 0) FROM chunks c WHERE {condition}", [language, *params]
        ).fetchone()
        counts: dict[str, int] = {}
        for term in dict.fromkeys(terms):
            counts[term] = self.db.execute(
                f"SELECT COUNT(*) FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
                f"WHERE chunks_fts MATCH ? AND {condition}",
                [f'"{term}"', *params],
            ).fetchone()[0]
        return counts, total, in_language

    def get_meta(self, key: str) -> str | None:
        """A value of the catalog's meta table."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row["value"] if row else None

    # ----- writing -----------------------------------------------------------------
    @contextlib.contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """Exclusive right to write the store; a second writer gets StoreBusyError at once."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / LOCK_FILE, "a+")
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

    def recover(self) -> int:
        """Repair the effects of an interrupted ingestion; returns the orphan vectors removed."""
        if (self.root / RESET_MARKER).exists():
            log.warning("finishing an interrupted reset store=%s", self.root)
            self.reset()
            return 0
        pending = [r[0] for r in self.db.execute("SELECT chunk_id FROM pending")]
        if not pending:
            return 0
        known = set(self.chunks_by_id(pending))
        orphans = [cid for cid in pending if cid not in known]
        if orphans:
            self.vectors.delete(ids=orphans)
        with self.db:
            self.db.execute("DELETE FROM pending")
        log.info("recovered interrupted ingestion orphans_removed=%d", len(orphans))
        return len(orphans)

    def replace_document(
        self,
        doc: LoadedDocument,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
        sentences: Sequence[tuple[int, int]] = (),
        sentence_vectors: Sequence[Sequence[float]] = (),
        items: Sequence[Mention] = (),
    ) -> tuple[int, int]:
        """Write a document's chunks and vectors, replacing its previous version.

        `sentences` are (start, end) offsets into the document text with their vectors,
        kept in the catalog for extractive answers; `items` are the roadmap commitments
        the document states, written in the same transaction with the document's access
        level. Returns (chunks added, chunks removed), counting only ids that changed.
        """
        db = self.db
        old_ids = {r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc.doc_id,))}
        new_ids = [c.chunk_id for c in chunks]
        fresh = [i for i, c in enumerate(chunks) if c.chunk_id not in old_ids]
        with db:
            db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(new_ids[i],) for i in fresh])
            # Chroma is about to get this version's metadata for ids the catalog may keep: until
            # the catalog commit below, the document counts as changed whatever its file holds.
            db.execute("UPDATE documents SET file_hash = '' WHERE doc_id=?", (doc.doc_id,))
        if chunks:
            # All chunks are upserted, not only fresh ones: offsets and metadata may have moved.
            self.vectors._collection.upsert(
                ids=new_ids,
                embeddings=[list(map(float, v)) for v in vectors],
                documents=[c.text for c in chunks],
                metadatas=[chunk_metadata(doc, c) for c in chunks],
            )
        stale = sorted(old_ids - set(new_ids))
        meta = doc.meta
        orgs = "|" + "|".join(meta.organisations) + "|" if meta.organisations else ""
        with db:
            db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(cid,) for cid in stale])
            self._delete_chunk_rows(doc.doc_id)
            db.executemany(
                'INSERT INTO sentences (doc_id, start, "end", vector) VALUES (?,?,?,?)',
                [
                    (doc.doc_id, start, end, _pack(vector))
                    for (start, end), vector in zip(sentences, sentence_vectors)
                ],
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
            self._write_commitments(doc.doc_id, meta.access, items)
            for c in chunks:
                cur = db.execute(
                    'INSERT INTO chunks (chunk_id, doc_id, ordinal, text, start, "end", section, page, '
                    "access, doc_type, date_int, language, organisations) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        c.chunk_id, doc.doc_id, c.ordinal, c.text, c.start, c.end, c.section, c.page,
                        meta.access, meta.doc_type, date_to_int(meta.date), meta.language, orgs,
                    ),
                )
                db.execute(
                    "INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)",
                    (cur.lastrowid, _terms(meta.title, c.section, c.text)),
                )
        if stale:
            self.vectors.delete(ids=stale)
        with db:
            db.executemany("DELETE FROM pending WHERE chunk_id=?", [(cid,) for cid in [*new_ids, *stale]])
        return len(fresh), len(stale)

    def remove_document(self, doc_id: str) -> int:
        """Delete a document and its chunks from both stores; returns chunks removed."""
        db = self.db
        ids = [r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))]
        with db:
            db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(cid,) for cid in ids])
            self._delete_chunk_rows(doc_id)
            db.execute("DELETE FROM roadmap_items WHERE doc_id=?", (doc_id,))
            db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
        if ids:
            self.vectors.delete(ids=ids)
        with db:
            db.execute("DELETE FROM pending")
        return len(ids)

    def replace_commitments(self, doc: LoadedDocument, items: Sequence[Mention]) -> None:
        """Replace the commitments a catalogued document states (re-extraction without re-embedding)."""
        with self.db:
            if self.db.execute("SELECT 1 FROM documents WHERE doc_id=?", (doc.doc_id,)).fetchone():
                self._write_commitments(doc.doc_id, doc.meta.access, items)

    def _write_commitments(self, doc_id: str, access: str, items: Sequence[Mention]) -> None:
        self.db.execute("DELETE FROM roadmap_items WHERE doc_id=?", (doc_id,))
        self.db.executemany(
            'INSERT INTO roadmap_items (doc_id, ordinal, action, owner, commission, deadline, deadline_text, status, '
            'quote, start, "end", page, section, access) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
            [
                (doc_id, n, i.action, i.owner, i.commission, i.deadline.isoformat() if i.deadline else None,
                 i.deadline_text, i.status, i.quote, i.start, i.end, i.page, i.section, access)
                for n, i in enumerate(items)
            ],
        )

    def commitments(self, access: Sequence[str]) -> list[dict[str, Any]]:
        """The commitments stated by the documents readable at these access levels, with their
        document's title, path and date; newest document first, then document order."""
        marks = ",".join("?" * len(access))
        rows = self.db.execute(
            f'SELECT r.doc_id, r.ordinal, r.action, r.owner, r.commission, r.deadline, r.deadline_text, r.status, '
            f'r.quote, r.start, r."end", r.page, r.section, r.access, d.title, d.path, d.date, d.doc_type '
            f"FROM roadmap_items r JOIN documents d USING (doc_id) WHERE r.access IN ({marks}) "
            f"ORDER BY d.date DESC, r.doc_id, r.ordinal",
            list(access),
        ).fetchall()
        return [dict(r) for r in rows]

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the catalog's meta table."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _delete_chunk_rows(self, doc_id: str) -> None:
        self.db.execute(
            "DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE doc_id=?)", (doc_id,)
        )
        self.db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        self.db.execute("DELETE FROM sentences WHERE doc_id=?", (doc_id,))

    def check_dimension(self, dimension: int) -> None:
        """Record the vector dimension on first write; refuse vectors of another size."""
        recorded = self.get_meta("embedding_dimension")
        if recorded is None:
            collection = self.vectors._collection
            if (collection.metadata or {}).get("embedding_dimension") not in (None, dimension):
                raise StoreMismatchError(
                    f"the Chroma collection {self.settings.collection!r} holds vectors of another size; "
                    "run `python -m ingest --reset` to rebuild it"
                )
            # The collection records the dimension too, so a shared Chroma server knows it.
            collection.modify(metadata={"embedding_model": self.model, "embedding_dimension": dimension})
            with self.db:
                self.db.execute("INSERT INTO meta VALUES ('embedding_dimension', ?)", (str(dimension),))
        elif int(recorded) != dimension:
            raise StoreMismatchError(
                f"the store holds {recorded}-dimension vectors but the model gives {dimension}; "
                "run `python -m ingest --reset` to rebuild it"
            )

    def mark_ingested(self) -> None:
        """Record the time of the last completed ingestion."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('last_ingest_at', ?)", (str(time.time()),))

    def reset(self) -> None:
        """Delete everything: the Chroma collection and the catalog (resumable, see RESET_MARKER)."""
        self.close()
        self.root.mkdir(parents=True, exist_ok=True)
        _durable_touch(self.root / RESET_MARKER)
        client = self._chroma_client()
        with contextlib.suppress(Exception):  # an absent collection has nothing to delete
            client.delete_collection(self.settings.collection)
        self._vectors = None
        for name in (CATALOG_FILE, CATALOG_FILE + "-wal", CATALOG_FILE + "-shm"):
            with contextlib.suppress(FileNotFoundError):
                (self.root / name).unlink()
        (self.root / RESET_MARKER).unlink()

    def vector_ids(self) -> set[str]:
        """Every id in the Chroma collection (for consistency checks)."""
        return set(self.vectors._collection.get(include=[])["ids"])


class _LazyEmbeddings(Embeddings):
    """Stands in for the embedding model so opening Chroma does not load it."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._kb.embeddings.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._kb.embeddings.embed_query(text)


def _durable_touch(path: Path) -> None:
    """Create `path` and make its existence survive a crash (file and folder synced)."""
    with open(path, "w") as handle:
        os.fsync(handle.fileno())
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


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
