"""The knowledge base: Chroma for vectors, the catalog (`kb.catalog`: SQLite or PostgreSQL) beside it.

Consistency between the two stores: a chunk id is written to the `pending` table before
it is written to Chroma, and old ids go to `pending` in the same transaction that
replaces a document in the catalog. `recover()` deletes from Chroma every pending id the
catalog does not hold, so a crash at any point is repaired by the next ingestion. Several
documents written together (`replace_documents`) follow the same steps, each step for all of them.

Vectors live in one Chroma collection per access level and language (`kb.partitions`), so a
search reads only what the caller may read without a filter over the whole index; a store built
before is moved into them by the next ingestion (`recover`).

Chroma is reached through public APIs only: chromadb's collections for queries, upserts of
precomputed embeddings and deletes; LangChain's `Chroma` (`vectors`) wraps the named collection
(`bot.answering.retrieve.PassageRetriever` is the LangChain retriever over the partitions).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Sequence

from kb.catalog import (
    CATALOG_FILE,
    CatalogAccess,
    DocumentRecord,
    EmptyStoreError,
    PassageText,
    StoreBusyError,
    StoreError,
    StoreMismatchError,
    open_catalog,
)
from kb.chroma_client import ChromaUnreachableError, connect, guarded, mapped_error
from kb.commitments import Mention
from kb.files import private_folder
from kb.partitions import LAYOUT_META, PARTITIONED, VectorPartitions, partition_name
from kb.schema import Chunk, LoadedDocument, chunk_metadata
from kb.search_filter import SearchFilter
from kb.settings import Settings

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from langchain_chroma import Chroma

__all__ = [
    "CATALOG_FILE", "ChromaUnreachableError", "DocumentRecord", "DocumentWrite", "EmptyStoreError", "KnowledgeBase",
    "PassageText",
    "SearchFilter", "StoreBusyError", "StoreError", "StoreMismatchError", "model_label",
]

log = logging.getLogger(__name__)

CHROMA_DIR = "chroma"
# Chunks per Chroma upsert when documents are written together (below chromadb's batch limit).
UPSERT_BATCH = 1000


def model_label(model: str) -> str:
    """A location-independent name for an embedding model (folder name for local paths)."""
    path = Path(model)
    return f"local:{path.name}" if path.is_dir() else model


class KnowledgeBase(VectorPartitions, CatalogAccess):
    """Handle on one knowledge base: the catalog chosen by `settings` (its reads are
    `CatalogAccess`'s), and Chroma opened lazily, its vectors in partitions (`kb.partitions`)."""

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None) -> None:
        self.root = Path(settings.store)
        self.model = model_label(settings.embedding_model)
        self.catalog = open_catalog(settings, self.model)
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

            self.catalog.open()  # the catalog's model check runs before anything touches Chroma
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
            except StoreError:
                raise
            except Exception as exc:  # chromadb raises many types; all mean "cannot open"
                mapped = mapped_error(self.settings, exc, "opening the collection")
                if mapped is not None:
                    raise mapped from exc
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

    @property
    def chroma(self) -> Any:
        """The chromadb client of this store, server or embedded (opened on first use)."""
        return self._chroma_client()

    def _chroma_client(self) -> Any:
        if self._client is None:
            # The embedded folder is only created when there is no server.
            folder = self.root / CHROMA_DIR if self.settings.uses_chroma_server else private_folder(self.root / CHROMA_DIR)
            self._client = connect(self.settings, folder)
        return self._client

    # ----- writing -----------------------------------------------------------------
    @guarded("recovering an interrupted ingestion")
    def recover(self) -> int:
        """Repair the effects of an interrupted ingestion and move the vectors of a store
        built before partitions into them; returns the orphan vectors removed."""
        if self.catalog.reset_marked:
            log.warning("finishing an interrupted reset store=%s", self.catalog.location)
            self.reset()
            return 0
        pending = self.catalog.pending()
        orphans: list[str] = []
        if pending:
            known = self.chunks_by_id(pending)
            orphans = [cid for cid in pending if cid not in known]
            self._delete_vectors(orphans)
            self._drop_misplaced(known)
        self.migrate_vectors()
        if not pending:
            return 0
        with self.catalog.transaction():
            self.catalog.clear_pending()
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
        mention_vectors: Sequence[Sequence[float]] = (),
    ) -> tuple[int, int]:
        """Write a document's chunks and vectors, replacing its previous version.

        `sentences` are (start, end) offsets into the document text with their vectors,
        kept in the catalog for extractive answers; `mentions` are the roadmap commitments
        the document states, written in the same transaction with the document's access
        level, and `mention_vectors` the e5 vectors of their actions (`meaning_text`). Returns (chunks added, chunks removed), counting only ids that changed.
        """
        write = DocumentWrite(doc, chunks, vectors, sentences, sentence_vectors, mentions, mention_vectors)
        return self.replace_documents([write])[0]

    @guarded("writing a document")
    def replace_documents(self, writes: Sequence["DocumentWrite"]) -> list[tuple[int, int]]:
        """`replace_document` for several documents at once, with the same two-store protocol
        but one catalog transaction per step and one Chroma upsert per partition for them all
        (a write's fixed cost, a commit or a Chroma call, is paid once per batch, not per
        document). Returns (chunks added, chunks removed) per document, in order. A batch
        naming one document twice is written one document at a time."""
        if len({w.doc.doc_id for w in writes}) < len(writes):
            return [added for w in writes for added in self.replace_documents([w])]
        plans = [_WritePlan.of(w, self.chunk_ids_of(w.doc.doc_id), self._partition_of) for w in writes]
        with self.catalog.transaction():
            for plan in plans:
                self.catalog.add_pending(plan.written_pending)
                # Chroma is about to get this version's metadata for ids the catalog may keep: until
                # the catalog commit below, the document counts as changed whatever its file holds.
                self.catalog.forget_hash(plan.write.doc.doc_id)
        for partition, group in _grouped([plan for plan in plans if plan.write.chunks], lambda plan: plan.partition):
            self._upsert(partition, group)
        self._write_rows(plans)
        self._delete_left(plans)
        return [(plan.fresh, plan.stale) for plan in plans]

    def _write_rows(self, plans: Sequence["_WritePlan"]) -> None:
        """The catalog rows of every document of `plans`, and the ids they leave as pending, in one transaction."""
        catalog = self.catalog
        with catalog.transaction():
            for plan in plans:
                w = plan.write
                catalog.add_pending(plan.leaving)
                catalog.write_document_rows(w.doc, w.chunks, w.sentences, w.sentence_vectors, w.mentions,
                                            w.mention_vectors)

    def _delete_left(self, plans: Sequence["_WritePlan"]) -> None:
        """Delete the vectors the documents of `plans` left (the catalog no longer names them),
        then empty the journal of their writes."""
        for old_partition, group in _grouped([plan for plan in plans if plan.leaving], lambda plan: plan.old_partition):
            self._delete_vectors([cid for plan in group for cid in plan.leaving], old_partition)
        with self.catalog.transaction():
            self.catalog.clear_pending([cid for plan in plans for cid in (*plan.new_ids, *plan.leaving)])

    def _upsert(self, partition: tuple[str, str], plans: Sequence["_WritePlan"]) -> None:
        """Every chunk of `plans` into `partition`, `UPSERT_BATCH` at a time."""
        # All chunks are upserted, not only fresh ones: offsets and metadata may have moved.
        rows = [(c, v, plan.write.doc) for plan in plans for c, v in zip(plan.write.chunks, plan.write.vectors, strict=True)]
        handle = self._partition_for(*partition)
        for first in range(0, len(rows), UPSERT_BATCH):
            batch = rows[first:first + UPSERT_BATCH]
            ids = [c.chunk_id for c, _, _ in batch]
            handle.upsert(ids=ids, embeddings=[list(map(float, v)) for _, v, _ in batch],
                          documents=[c.text for c, _, _ in batch], metadatas=[chunk_metadata(d, c) for c, _, d in batch])
            if not self.partitioned:  # the old copies must not be migrated over the new ones
                self.collection.delete(ids=ids)

    @guarded("removing a document")
    def remove_document(self, doc_id: str) -> int:
        """Delete a document and its chunks from both stores; returns chunks removed."""
        ids = sorted(self.chunk_ids_of(doc_id))
        partition = self._partition_of(ids)
        with self.catalog.transaction():
            self.catalog.add_pending(ids)
            self.catalog.delete_document_rows(doc_id)
        self._delete_vectors(ids, partition)
        with self.catalog.transaction():
            self.catalog.clear_pending()
        return len(ids)

    def _partition_of(self, chunk_ids: Sequence[str] | set[str]) -> tuple[str, str] | None:
        """(access, language) of the document the catalogued chunks belong to (None: no chunk)."""
        first = next(iter(chunk_ids), None)
        row = self.chunks_by_id([first]).get(first) if first else None
        return (row["access"], row["language"]) if row else None

    @guarded("checking the vector size")
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

    @guarded("resetting the store")
    def reset(self) -> None:
        """Delete everything: the Chroma collection and the catalog (resumable: the catalog marks
        the reset first, and `recover()` finishes one cut short)."""
        self.catalog.mark_reset()
        client = self._chroma_client()
        prefix = f"{self.settings.collection}--"
        names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
        for name in [self.settings.collection, *(n for n in names if n.startswith(prefix))]:
            try:
                client.delete_collection(name)
            except Exception as exc:  # an absent collection has nothing to delete; a dead server stops the reset
                mapped = mapped_error(self.settings, exc, "resetting the store")
                if mapped is not None:
                    raise mapped from exc
        self._vectors = self._chroma_handle = None
        self._partition_handles = {}
        self.catalog.destroy()


class DocumentWrite(NamedTuple):
    """One document for `KnowledgeBase.replace_documents`: the arguments of `replace_document`."""

    doc: LoadedDocument
    chunks: Sequence[Chunk]
    vectors: Sequence[Sequence[float]]
    sentences: Sequence[tuple[int, int]] = ()
    sentence_vectors: Sequence[Sequence[float]] = ()
    mentions: Sequence[Mention] = ()
    mention_vectors: Sequence[Sequence[float]] = ()


@dataclass(frozen=True)
class _WritePlan:
    """What writing one document changes: the ids it writes and leaves, and its partitions."""

    write: DocumentWrite
    new_ids: list[str]
    written_pending: list[str]  # recorded before the upsert
    leaving: list[str]  # recorded with the catalog rows, deleted from Chroma after them
    partition: tuple[str, str]
    old_partition: tuple[str, str] | None
    fresh: int
    stale: int

    @classmethod
    def of(cls, write: DocumentWrite, old_ids: set[str],
           partition_of: Callable[[set[str]], tuple[str, str] | None]) -> "_WritePlan":
        """The plan of `write` over a document whose catalogued chunk ids are `old_ids`."""
        old_partition = partition_of(old_ids)
        partition = (write.doc.meta.access, write.doc.meta.language)
        new_ids = [c.chunk_id for c in write.chunks]
        fresh = [cid for cid in new_ids if cid not in old_ids]
        stale = sorted(old_ids - set(new_ids))
        # A document whose access level or language changed moves to another partition: every id
        # is pending, so an interruption leaves no vector in the partition the catalog does not name.
        moved = old_partition not in (None, partition)
        return cls(write, new_ids, new_ids if moved else fresh, sorted(old_ids) if moved else stale,
                   partition, old_partition, len(fresh), len(stale))


def _grouped(plans: Sequence[_WritePlan], key: Callable[[_WritePlan], Any]) -> list[tuple[Any, list[_WritePlan]]]:
    """The plans by `key`, in order of first appearance."""
    groups: dict[Any, list[_WritePlan]] = {}
    for plan in plans:
        groups.setdefault(key(plan), []).append(plan)
    return list(groups.items())


class _LazyEmbeddings(Embeddings):
    """Stands in for the embedding model so opening Chroma does not load it."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._kb.embeddings.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._kb.embeddings.embed_query(text)
