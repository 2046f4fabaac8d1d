"""The catalog of a knowledge base: one interface, two implementations chosen once from `Settings`.

The catalog holds the document manifest (file hashes for incremental ingestion), the
extracted texts, every chunk, the keyword side of retrieval, the sentence vectors, the
roadmap mentions, a meta table (schema version, embedding model) and the `pending` table
of the two-store write protocol (see `kb.store`). Access level, type, date, language and
organisations are columns of both sides, so filters run inside each query.

- `kb.catalog_sqlite.SqliteCatalog`: a SQLite file under the store folder with an FTS5
  index (the default: nothing to install);
- `kb.catalog_postgres.PostgresCatalog`: a PostgreSQL database shared by several app
  servers (`PASSERELLE_DATABASE_URL`), with PostgreSQL full-text search.

`open_catalog` picks one; the code above `kb` only sees `KnowledgeBase`, whose catalog
methods are those of `CatalogAccess` below.
"""

from __future__ import annotations

import contextlib
import functools
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, NamedTuple, Sequence

from kb.commitments import Mention
from kb.schema import Chunk, LoadedDocument
from kb.search_filter import SearchFilter
from kb.text import keyword_terms

if TYPE_CHECKING:
    from kb.settings import Settings

CATALOG_FILE = "catalog.sqlite3"
SCHEMA_VERSION = "1"

# The columns of each table as the two implementations exchange them (`table_rows`,
# `insert_rows`): what a migration copies. The keyword index is rebuilt from them.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "documents": ("doc_id", "path", "file_hash", "title", "doc_type", "date", "organisations", "language",
                  "access", "illustrative", "supersedes", "chunks", "ingested_at", "text"),
    "chunks": ("chunk_id", "doc_id", "ordinal", "text", "start", "end", "section", "page", "access",
               "doc_type", "date_int", "language", "organisations"),
    "mentions": ("doc_id", "ordinal", "action", "owner", "commission", "deadline", "deadline_text", "status",
                 "quote", "start", "end", "page", "section", "access", "kind", "vector"),
    "sentences": ("doc_id", "start", "end", "vector"),
}
# Meta keys that describe one catalog's own index, never copied to another.
LOCAL_META = frozenset({"schema_version", "keyword_analyzer"})


class StoreError(Exception):
    """A problem with the knowledge base; the message says what to do."""


class StoreMismatchError(StoreError):
    """The store was built with another embedding model."""


class StoreBusyError(StoreError):
    """Another ingestion holds the store."""


class EmptyStoreError(StoreError):
    """The store is missing or holds no document."""


class CatalogUnavailableError(StoreError):
    """The catalog's database cannot be reached (server down or restarting)."""


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


def model_mismatch(location: str, recorded: str, model: str) -> StoreMismatchError:
    """The error for a catalog built with the embedding model `recorded` opened with `model`."""
    return StoreMismatchError(
        f"the store {location} was built with the embedding model {recorded!r}, "
        f"but this run uses {model!r}; run `python -m ingest --reset` to rebuild it "
        "with the new model, or set PASSERELLE_EMBEDDING_MODEL back"
    )


class Catalog(ABC):
    """What the knowledge base needs from its catalog. Row writes (`write_document_rows`,
    `delete_document_rows`, the pending table, `forget_hash`) run inside `transaction()`."""

    model: str

    # ----- opening -----------------------------------------------------------------
    @property
    @abstractmethod
    def exists(self) -> bool:
        """True when the catalog has been created (opening never creates it here)."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the catalog lives, for messages (never a password)."""

    @abstractmethod
    def open(self) -> None:
        """Connect, create or migrate the schema and check the embedding model (idempotent)."""

    @abstractmethod
    def close(self) -> None:
        """Close the catalog's connections."""

    # ----- reading -----------------------------------------------------------------
    @abstractmethod
    def documents(self, where: SearchFilter | None = None) -> dict[str, DocumentRecord]:
        """Every document of the catalog by id, in path order; only those `where` allows if given."""

    @abstractmethod
    def document_by_path(self, path: str, where: SearchFilter) -> DocumentRecord | None:
        """The document at `path` if `where` allows it, else None (one row, not the whole table)."""

    @abstractmethod
    def document_text(self, doc_id: str) -> str | None:
        """The extracted text of a document (the text chunk offsets point into)."""

    @abstractmethod
    def chunk_count(self) -> int:
        """Number of chunks in the catalog."""

    @abstractmethod
    def passage_texts(self, where: SearchFilter) -> list[PassageText]:
        """The text of every chunk `where` allows, with its document's title, path and date,
        in path then chunk order."""

    @abstractmethod
    def chunk_ids_of(self, doc_id: str) -> set[str]:
        """The ids of a document's chunks."""

    @abstractmethod
    def quoted_openings(self) -> dict[str, dict[str, str]]:
        """The e-mails that hold quoted copies of earlier messages: by document id, each section
        headed `kb.schema.QUOTED_HEADING` that has passages, with the text of its first passage."""

    @abstractmethod
    def chunk_documents(self) -> dict[str, str]:
        """The document id of every chunk, by chunk id (for evaluations and checks)."""

    @abstractmethod
    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Catalog rows of the given chunks, joined with their document's fields."""

    @abstractmethod
    def sentences_in(self, doc_id: str, start: int, end: int) -> list[tuple[int, int, Any]]:
        """Sentences of a document within [start, end): (start, end, float32 vector)."""

    @abstractmethod
    def keyword_search(self, query: str, k: int, where: SearchFilter) -> list[tuple[str, float]]:
        """Ranked keyword search: (chunk_id, score) best first (higher is better), filter applied inside."""

    @abstractmethod
    def term_frequencies(
        self, terms: Sequence[str], where: SearchFilter, language: str = ""
    ) -> tuple[dict[str, int], int, int]:
        """How many passages `where` allows contain each keyword term (`kb.text.keyword_terms`),
        how many it allows, and how many of those are in `language`."""

    @abstractmethod
    def get_meta(self, key: str) -> str | None:
        """A value of the catalog's meta table."""

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the catalog's meta table."""

    @abstractmethod
    def mentions(self, where: SearchFilter) -> list[dict[str, Any]]:
        """The commitments as each document `where` allows states them, with their document's
        title, path and date; newest document first, then document order."""

    @abstractmethod
    def mention_vectors(self, where: SearchFilter) -> dict[tuple[str, int], Any]:
        """The e5 vector of the action of each mention `where` allows, keyed (doc_id,
        ordinal), unit length; mentions written without one (an older store) are absent."""

    @abstractmethod
    def replace_mentions(self, doc: LoadedDocument, mentions: Sequence[Mention],
                         vectors: Sequence[Sequence[float]] = ()) -> None:
        """Replace the commitments a catalogued document states, with their actions' vectors
        (re-extraction without re-embedding the document)."""

    @abstractmethod
    def mark_ingested(self) -> None:
        """Record the time of the last completed ingestion."""

    def analyse_if_changed(self) -> None:
        """Refresh the query planner's statistics when the passages changed much since it last
        did (after an ingestion or a copy). Only PostgreSQL's catalog needs it."""

    # ----- the write protocol ------------------------------------------------------
    @abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """A transaction: the row writes inside it are committed together or not at all."""

    @abstractmethod
    def write_document_rows(
        self, doc: LoadedDocument, chunks: Sequence[Chunk], sentences: Sequence[tuple[int, int]],
        sentence_vectors: Sequence[Sequence[float]], mentions: Sequence[Mention],
        mention_vectors: Sequence[Sequence[float]] = (),
    ) -> None:
        """Replace a document's rows: sentences, the document, its commitments, its chunks
        and their keyword index."""

    @abstractmethod
    def delete_document_rows(self, doc_id: str) -> None:
        """Delete a document, its chunks, sentences and commitments."""

    @abstractmethod
    def add_pending(self, chunk_ids: Sequence[str]) -> None:
        """Record chunk ids whose vectors are about to be written or deleted."""

    @abstractmethod
    def pending(self) -> list[str]:
        """The chunk ids of writes that may not have finished."""

    @abstractmethod
    def clear_pending(self, chunk_ids: Sequence[str] | None = None) -> None:
        """Forget pending ids (all of them when None)."""

    @abstractmethod
    def forget_hash(self, doc_id: str) -> None:
        """Make a document count as changed until its new rows are committed."""

    @abstractmethod
    def ingest_lock(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive right to write the store; a second writer gets StoreBusyError at once."""

    # ----- reset and migration -----------------------------------------------------
    @abstractmethod
    def mark_reset(self) -> None:
        """Durably record that a reset has begun (finished by the next `recover`)."""

    @property
    @abstractmethod
    def reset_marked(self) -> bool:
        """True while a reset has begun and not finished."""

    @abstractmethod
    def destroy(self) -> None:
        """Delete the whole catalog and the reset mark; the next use starts an empty one."""

    @abstractmethod
    def table_rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        """Every row of `table`, as values in `TABLE_COLUMNS[table]` order."""

    @abstractmethod
    def insert_rows(self, table: str, rows: Iterable[Sequence[Any]]) -> int:
        """Insert rows given in `TABLE_COLUMNS[table]` order (keyword index included); returns the count."""


def open_catalog(settings: "Settings", model: str) -> Catalog:
    """The catalog `settings` names: PostgreSQL when `database_url` is set, else SQLite under `store`."""
    if settings.uses_database_server:
        from kb.catalog_postgres import PostgresCatalog

        return PostgresCatalog(str(settings.database_url), model)
    from kb.catalog_sqlite import SqliteCatalog

    return SqliteCatalog(Path(settings.store), model)


def _delegate(name: str) -> Any:
    interface = getattr(Catalog, name)

    @functools.wraps(interface)
    def method(self: "CatalogAccess", *args: Any, **kwargs: Any) -> Any:
        return getattr(self.catalog, name)(*args, **kwargs)

    return method


class CatalogAccess:
    """The catalog's public methods on an object holding one as `self.catalog` (`KnowledgeBase`)."""

    catalog: Catalog

    @property
    def exists(self) -> bool:
        """True when the catalog has been created."""
        return self.catalog.exists

    documents = _delegate("documents")
    document_by_path = _delegate("document_by_path")
    document_text = _delegate("document_text")
    chunk_count = _delegate("chunk_count")
    passage_texts = _delegate("passage_texts")
    chunk_ids_of = _delegate("chunk_ids_of")
    quoted_openings = _delegate("quoted_openings")
    chunk_documents = _delegate("chunk_documents")
    chunks_by_id = _delegate("chunks_by_id")
    sentences_in = _delegate("sentences_in")
    keyword_search = _delegate("keyword_search")
    term_frequencies = _delegate("term_frequencies")
    get_meta = _delegate("get_meta")
    set_meta = _delegate("set_meta")
    mentions = _delegate("mentions")
    mention_vectors = _delegate("mention_vectors")
    replace_mentions = _delegate("replace_mentions")
    mark_ingested = _delegate("mark_ingested")
    ingest_lock = _delegate("ingest_lock")
    close = _delegate("close")


# ----- helpers shared by the implementations -----------------------------------------
# The term statistics' row that counts every passage (a keyword term is never empty).
TOTAL_TERM = ""
# Postings (passages holding a term, summed over the question's terms) a keyword search ranks at
# most. BM25 scores every passage that matches, so a question of common words costs time in
# proportion to the store; past this budget the most common terms (the lowest IDF) are left out
# of the match, the rarest kept, so the cost stays bounded as the store grows. Measured on the
# 40 corpus questions (`bench.scale` stores, SQLite): up to 10k passages no question reaches it
# (the 10 best hits are those of the unlimited search); 4,000 changed them for half the
# questions at 10k for 2 ms less.
KEYWORD_POSTINGS_BUDGET = 10_000


def kept_terms(terms: list[str], postings: dict[str, tuple[int, int]], budget: float) -> list[str]:
    """The terms a keyword search matches: all `terms` when the passages holding them (the
    first of each term's `postings`, the store's) add up to at most `budget`; else the rarest
    ones within it (at least one) among those a passage the filter allows holds (the second)."""
    if sum(postings.get(t, (0, 0))[0] for t in terms) <= budget:
        return terms
    kept: list[str] = []
    spent = 0
    for n, term in sorted((postings[t][0], t) for t in terms if postings.get(t, (0, 0))[1] > 0):
        if kept and spent + n > budget:
            break
        kept.append(term)
        spent += n
    return sorted(kept)


def index_text(title: str, section: str, text: str) -> str:
    """What the keyword index reads of a chunk: its document's title, its section, its text."""
    return f"{title}\n{section}\n{text}"


def analyzer_terms(title: str, section: str, text: str) -> str:
    """The chunk's `kb.text.keyword_terms`, space-separated."""
    return " ".join(keyword_terms(index_text(title, section, text)))


def pack_vector(vector: Sequence[float]) -> bytes:
    """A sentence vector as stored: float16 bytes (halves the catalog; scoring needs no more)."""
    import numpy as np

    return np.asarray(vector, dtype=np.float16).tobytes()


def unpack_vector(blob: Any) -> Any:
    """A stored sentence vector as a float32 array."""
    import numpy as np

    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


def organisations_column(organisations: Sequence[str]) -> str:
    """The chunks' organisations column: `|A|B|`, so a LIKE '%|A|%' matches one name exactly."""
    return "|" + "|".join(organisations) + "|" if organisations else ""


def document_record(row: dict[str, Any]) -> DocumentRecord:
    """A `DocumentRecord` from a documents row read by column name."""
    return DocumentRecord(
        doc_id=row["doc_id"], path=row["path"], file_hash=row["file_hash"], title=row["title"],
        doc_type=row["doc_type"], date=row["date"], organisations=tuple(json.loads(row["organisations"])),
        language=row["language"], access=row["access"], illustrative=bool(row["illustrative"]),
        supersedes=row["supersedes"], chunks=row["chunks"], ingested_at=row["ingested_at"],
    )
