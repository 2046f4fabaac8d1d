"""The knowledge base on disk: Chroma for vectors, the SQLite catalog (`kb.catalog`) beside it.

Consistency between the two stores: a chunk id is written to the `pending` table before
it is written to Chroma, and old ids go to `pending` in the same transaction that
replaces a document in the catalog. `recover()` deletes from Chroma every pending id the
catalog does not hold, so a crash at any point is repaired by the next ingestion.

Vectors live in one Chroma collection per access level and language (`kb.partitions`), so a
search reads only what the caller may read without a filter over the whole index; a store built
before is moved into them by the next ingestion (`recover`).

Chroma is reached through public APIs only: chromadb's collections for queries, upserts of
precomputed embeddings and deletes; LangChain's `Chroma` (`vectors`) wraps the named collection
(`bot.retrieve.PassageRetriever` is the LangChain retriever over the partitions).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from kb.catalog import (
    CATALOG_FILE,
    Catalog,
    DocumentRecord,
    EmptyStoreError,
    PassageText,
    StoreBusyError,
    StoreError,
    StoreMismatchError,
)
from kb.commitments import Mention
from kb.files import private_file, private_folder
from kb.partitions import LAYOUT_META, PARTITIONED, VectorPartitions, partition_name
from kb.schema import Chunk, LoadedDocument, chunk_metadata
from kb.search_filter import SearchFilter
from kb.settings import Settings

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from langchain_chroma import Chroma

__all__ = [
    "CATALOG_FILE", "DocumentRecord", "EmptyStoreError", "KnowledgeBase", "PassageText", "SearchFilter",
    "StoreBusyError", "StoreError", "StoreMismatchError", "model_label",
]

log = logging.getLogger(__name__)

CHROMA_DIR = "chroma"
LOCK_FILE = ".ingest.lock"
# Present while `reset()` runs: a reset cut short is finished by the next `recover()`, so the
# old catalog is never trusted once its vectors may be gone.
RESET_MARKER = ".reset-pending"


def model_label(model: str) -> str:
    """A location-independent name for an embedding model (folder name for local paths)."""
    path = Path(model)
    return f"local:{path.name}" if path.is_dir() else model


class KnowledgeBase(VectorPartitions, Catalog):
    """Handle on one knowledge base: the catalog (its reads and row writes are `Catalog`'s),
    and Chroma opened lazily."""

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None) -> None:
        super().__init__(Path(settings.store), model_label(settings.embedding_model))
        self.settings = settings
        self._embeddings = embeddings
        self._vectors: "Chroma | None" = None
        self._chroma_handle: Any = None
        self._client: Any = None
        self._partition_handles: dict[str, Any] = {}

    # ----- opening -----------------------------------------------------------------
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
        """The LangChain vector store over the named Chroma collection (opened on first use); it
        holds vectors only in a store not yet migrated to partitions (see `nearest`)."""
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
                # The same collection through chromadb's own API, for what LangChain does not wrap.
                collection = client.get_collection(self.settings.collection, embedding_function=None)
            except Exception as exc:  # chromadb raises many types; all mean "cannot open"
                raise StoreError(f"cannot open the Chroma collection {self.settings.collection!r}: {exc}") from exc
            recorded = (collection.metadata or {}).get("embedding_model")
            if recorded and recorded != self.model:
                raise StoreMismatchError(
                    f"the Chroma collection {self.settings.collection!r} holds vectors of {recorded!r}, "
                    f"but this run uses {self.model!r}; run `python -m ingest --reset` to rebuild it"
                )
            self._vectors, self._chroma_handle = vectors, collection
        return self._vectors

    @property
    def collection(self) -> Any:
        """The chromadb collection behind `vectors` (opened on first use)."""
        self.vectors
        return self._chroma_handle

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
                    path=str(private_folder(self.root / CHROMA_DIR)), settings=chroma_settings
                )
        except Exception as exc:
            where = (
                f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port}"
                if self.settings.uses_chroma_server
                else f"the embedded Chroma store in {self.root / CHROMA_DIR}"
            )
            raise StoreError(f"cannot reach {where}: {exc}") from exc
        return self._client

    # ----- writing -----------------------------------------------------------------
    @contextlib.contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """Exclusive right to write the store; a second writer gets StoreBusyError at once."""
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

    def recover(self) -> int:
        """Repair the effects of an interrupted ingestion and move the vectors of a store
        built before partitions into them; returns the orphan vectors removed."""
        if (self.root / RESET_MARKER).exists():
            log.warning("finishing an interrupted reset store=%s", self.root)
            self.reset()
            return 0
        pending = self._pending()
        if pending:
            known = self.chunks_by_id(pending)
            orphans = [cid for cid in pending if cid not in known]
            self._delete_vectors(orphans)
            self._drop_misplaced(known)
        self.migrate_vectors()
        if not pending:
            return 0
        with self.db:
            self._clear_pending()
        log.info("recovered interrupted ingestion orphans_removed=%d", len(orphans))
        return len(orphans)

    def replace_document(
        self,
        doc: LoadedDocument,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
        sentences: Sequence[tuple[int, int]] = (),
        sentence_vectors: Sequence[Sequence[float]] = (),
        mentions: Sequence[Mention] = (),
    ) -> tuple[int, int]:
        """Write a document's chunks and vectors, replacing its previous version.

        `sentences` are (start, end) offsets into the document text with their vectors,
        kept in the catalog for extractive answers; `mentions` are the roadmap commitments
        the document states, written in the same transaction with the document's access
        level. Returns (chunks added, chunks removed), counting only ids that changed.
        """
        db = self.db
        old_ids = self.chunk_ids_of(doc.doc_id)
        old_partition = self._partition_of(old_ids)
        new_partition = (doc.meta.access, doc.meta.language)
        new_ids = [c.chunk_id for c in chunks]
        fresh = [i for i, c in enumerate(chunks) if c.chunk_id not in old_ids]
        # A document whose access level or language changed moves to another partition: every id
        # is pending, so an interruption leaves no vector in the partition the catalog does not name.
        moved = old_partition not in (None, new_partition)
        with db:
            self._add_pending(new_ids if moved else [new_ids[i] for i in fresh])
            # Chroma is about to get this version's metadata for ids the catalog may keep: until
            # the catalog commit below, the document counts as changed whatever its file holds.
            self._forget_hash(doc.doc_id)
        if chunks:
            # All chunks are upserted, not only fresh ones: offsets and metadata may have moved.
            self._partition_for(*new_partition).upsert(
                ids=new_ids,
                embeddings=[list(map(float, v)) for v in vectors],
                documents=[c.text for c in chunks],
                metadatas=[chunk_metadata(doc, c) for c in chunks],
            )
            if not self.partitioned:  # the old copies must not be migrated over the new ones
                self.collection.delete(ids=new_ids)
        stale = sorted(old_ids - set(new_ids))
        leaving = sorted(old_ids) if moved else stale  # a moved document leaves its old partition whole
        with db:
            self._add_pending(leaving)
            self._write_document_rows(doc, chunks, sentences, sentence_vectors, mentions)
        self._delete_vectors(leaving, old_partition)
        with db:
            self._clear_pending([*new_ids, *leaving])
        return len(fresh), len(stale)

    def remove_document(self, doc_id: str) -> int:
        """Delete a document and its chunks from both stores; returns chunks removed."""
        ids = sorted(self.chunk_ids_of(doc_id))
        partition = self._partition_of(ids)
        with self.db:
            self._add_pending(ids)
            self._delete_document_rows(doc_id)
        self._delete_vectors(ids, partition)
        with self.db:
            self._clear_pending()
        return len(ids)

    def _partition_of(self, chunk_ids: Sequence[str] | set[str]) -> tuple[str, str] | None:
        """(access, language) of the document the catalogued chunks belong to (None: no chunk)."""
        first = next(iter(chunk_ids), None)
        row = self.chunks_by_id([first]).get(first) if first else None
        return (row["access"], row["language"]) if row else None

    def check_dimension(self, dimension: int) -> None:
        """Record the vector dimension on first write; refuse vectors of another size."""
        recorded = self.get_meta("embedding_dimension")
        if recorded is None:
            collection = self.collection
            if (collection.metadata or {}).get("embedding_dimension") not in (None, dimension):
                raise StoreMismatchError(
                    f"the Chroma collection {self.settings.collection!r} holds vectors of another size; "
                    "run `python -m ingest --reset` to rebuild it"
                )
            # The collection records the dimension too, so a shared Chroma server knows it.
            collection.modify(metadata={"embedding_model": self.model, "embedding_dimension": dimension})
            self.set_meta("embedding_dimension", str(dimension))
            if not self.partitioned and collection.count() == 0:
                self.set_meta(LAYOUT_META, f"{PARTITIONED}:{self.settings.collection}")  # a new store: nothing to migrate
        elif int(recorded) != dimension:
            raise StoreMismatchError(
                f"the store holds {recorded}-dimension vectors but the model gives {dimension}; "
                "run `python -m ingest --reset` to rebuild it"
            )

    def reset(self) -> None:
        """Delete everything: the Chroma collection and the catalog (resumable, see RESET_MARKER)."""
        self.close()
        private_folder(self.root)
        _durable_touch(self.root / RESET_MARKER)
        client = self._chroma_client()
        prefix = f"{self.settings.collection}--"
        names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
        for name in [self.settings.collection, *(n for n in names if n.startswith(prefix))]:
            with contextlib.suppress(Exception):  # an absent collection has nothing to delete
                client.delete_collection(name)
        self._vectors = self._chroma_handle = None
        self._partition_handles = {}
        for name in (CATALOG_FILE, CATALOG_FILE + "-wal", CATALOG_FILE + "-shm"):
            with contextlib.suppress(FileNotFoundError):
                (self.root / name).unlink()
        (self.root / RESET_MARKER).unlink()

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

