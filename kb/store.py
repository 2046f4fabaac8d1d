"""The knowledge base on disk: Chroma for vectors, the SQLite catalog (`kb.catalog`) beside it.

Consistency between the two stores: a chunk id is written to the `pending` table before
it is written to Chroma, and old ids go to `pending` in the same transaction that
replaces a document in the catalog. `recover()` deletes from Chroma every pending id the
catalog does not hold, so a crash at any point is repaired by the next ingestion.

Vectors are partitioned: one Chroma collection per access level and language
(`<collection>--<access>--<language>`), listed in the catalog's meta row `vector_partitions`.
A search queries only the partitions the caller's filter allows, with no `where` clause on
access or language, and merges them by distance: Chroma answers a filtered query by first
listing every row the filter allows, which grows with the store, while an unfiltered query
walks its HNSW graph. The collection named `Settings.collection` records the embedding model
and dimension; a store built before partitions keeps its vectors there until the next
ingestion moves them (`migrate_vectors`), and is searched with a filter until then.

Chroma is reached through public APIs only: chromadb's collections for queries, upserts of
precomputed embeddings and deletes; LangChain's `Chroma` (`vectors`) wraps the named collection
(`bot.retrieve.PassageRetriever` is the LangChain retriever over the partitions).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
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
# Catalog meta rows: the vector partitions ({collection name: [access, language]}), and
# "partitioned:<collection>" once no vector is left in the single collection of older stores.
PARTITIONS_META = "vector_partitions"
LAYOUT_META = "vector_layout"
PARTITIONED = "partitioned"
MIGRATION_BATCH = 1000


def partition_name(collection: str, access: str, language: str) -> str:
    """The Chroma collection holding the vectors of one access level in one language."""
    return f"{collection}--{_name_part(access)}--{_name_part(language)}"


def _name_part(value: str) -> str:
    # Chroma names allow [a-zA-Z0-9._-]; any other value gets a stable digest.
    if re.fullmatch(r"[a-z0-9]{1,40}", value):
        return value
    return "x" + hashlib.sha1(value.encode("utf-8")).hexdigest()[:12]


def model_label(model: str) -> str:
    """A location-independent name for an embedding model (folder name for local paths)."""
    path = Path(model)
    return f"local:{path.name}" if path.is_dir() else model


class KnowledgeBase(Catalog):
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

    # ----- partitions ---------------------------------------------------------------
    def partitions(self) -> dict[str, tuple[str, str]]:
        """Every vector partition: collection name -> (access level, language)."""
        raw = self.get_meta(PARTITIONS_META)
        return {name: (pair[0], pair[1]) for name, pair in json.loads(raw).items()} if raw else {}

    @property
    def partitioned(self) -> bool:
        """True when every vector lives in a partition (no single collection to search)."""
        return self.get_meta(LAYOUT_META) == f"{PARTITIONED}:{self.settings.collection}"

    def _partition(self, name: str, create: bool = False) -> Any:
        """The chromadb collection of a partition (None if it does not exist and `create` is off)."""
        handle = self._partition_handles.get(name)
        if handle is not None:
            return handle
        client = self._chroma_client()
        try:
            if create:
                handle = client.get_or_create_collection(
                    name, metadata={"embedding_model": self.model}, configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
            else:
                handle = client.get_collection(name, embedding_function=None)
        except Exception as exc:  # chromadb raises many types for a missing collection
            if create:
                raise StoreError(f"cannot open the Chroma collection {name!r}: {exc}") from exc
            return None
        self._partition_handles[name] = handle
        return handle

    def _partition_for(self, access: str, language: str) -> Any:
        """The partition of (access, language), registered in the catalog and created if new.

        Registered before any vector is written to it, so a reader that lists the partitions
        never misses one that holds vectors."""
        name = partition_name(self.settings.collection, access, language)
        known = self.partitions()
        if name not in known:
            known[name] = (access, language)
            self.set_meta(PARTITIONS_META, json.dumps({n: list(p) for n, p in sorted(known.items())}))
        return self._partition(name, create=True)

    def _vector_collections(self) -> list[Any]:
        """Every collection that may hold vectors: the partitions, and the single collection of
        a store not yet migrated."""
        handles = [h for h in map(self._partition, self.partitions()) if h is not None]
        return handles if self.partitioned else [*handles, self.collection]

    def _delete_vectors(self, ids: Sequence[str], where: tuple[str, str] | None = None) -> None:
        """Delete vectors by id from the partition of `where` (access, language), or from every
        collection when it is not known; the unmigrated single collection always."""
        if not ids:
            return
        if where is None:
            targets = self._vector_collections()
        else:
            targets = [self._partition(partition_name(self.settings.collection, *where))]
            if not self.partitioned:
                targets.append(self.collection)
        for handle in targets:
            if handle is not None:
                handle.delete(ids=list(ids))

    def nearest(self, vector: Sequence[float], k: int, where: SearchFilter) -> list[tuple[str, float]]:
        """The `k` vectors nearest to `vector` among those `where` allows: (chunk_id, cosine
        distance), nearest first. Only the partitions of the allowed access levels and language
        are queried, with no filter on either."""
        if k <= 0:
            return []
        embedding = [list(map(float, vector))]
        residual = where.chroma_residual()
        found: dict[str, float] = {}
        queries = []
        for name, (access, language) in self.partitions().items():
            if access in where.access and where.language in (None, language):
                queries.append((self._partition(name), residual))
        if not self.partitioned:
            queries.append((self.collection, where.to_chroma()))
        for handle, clause in queries:
            if handle is None:
                continue
            result = handle.query(query_embeddings=embedding, n_results=k, where=clause, include=["distances"])
            for cid, distance in zip(result["ids"][0], result["distances"][0]):
                found[cid] = min(float(distance), found.get(cid, 2.0))
        return sorted(found.items(), key=lambda item: item[1])[:k]

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored vectors of the given chunks, by id (those found in any collection)."""
        found: dict[str, list[float]] = {}
        for handle in self._vector_collections():
            got = handle.get(ids=list(chunk_ids), include=["embeddings"])
            found.update(zip(got["ids"], got["embeddings"]))
        return found

    def migrate_vectors(self) -> int:
        """Move the vectors of a store built before partitions into their partitions (call
        holding the ingestion lock); returns how many moved. Each batch is copied before it is
        deleted, so an interrupted migration is finished by the next one and searches, which
        query both sides until the end, never miss a vector."""
        if self.partitioned:
            return 0
        single = self.collection
        moved = 0
        while True:
            batch = single.get(limit=MIGRATION_BATCH, include=["embeddings", "documents", "metadatas"])
            if not batch["ids"]:
                break
            rows = self.chunks_by_id(batch["ids"])  # the catalog's access level, not the old metadata's
            groups: dict[tuple[str, str], list[int]] = {}
            for n, cid in enumerate(batch["ids"]):
                if cid in rows:
                    groups.setdefault((rows[cid]["access"], rows[cid]["language"]), []).append(n)
            for (access, language), picked in groups.items():
                metadatas = [{**batch["metadatas"][n], "access": access, "language": language} for n in picked]
                self._partition_for(access, language).upsert(
                    ids=[batch["ids"][n] for n in picked], embeddings=[batch["embeddings"][n] for n in picked],
                    documents=[batch["documents"][n] for n in picked], metadatas=metadatas,
                )
                moved += len(picked)
            single.delete(ids=batch["ids"])  # vectors with no catalog row are orphans: dropped
        self.set_meta(LAYOUT_META, f"{PARTITIONED}:{self.settings.collection}")
        if moved:
            log.info("vectors moved into partitions moved=%d partitions=%d", moved, len(self.partitions()))
        return moved

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
            known = set(self.chunks_by_id(pending))
            orphans = [cid for cid in pending if cid not in known]
            self._delete_vectors(orphans)
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
        with db:
            self._add_pending([new_ids[i] for i in fresh])
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
        # A document whose access level or language changed leaves its old partition whole.
        stale = sorted(old_ids if old_partition not in (None, new_partition) else old_ids - set(new_ids))
        with db:
            self._add_pending(stale)
            self._write_document_rows(doc, chunks, sentences, sentence_vectors, mentions)
        if stale:
            self._delete_vectors(stale, old_partition)
        with db:
            self._clear_pending([*new_ids, *stale])
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

    def vector_records(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every vector's (text, metadata) by id, over all partitions (for consistency checks)."""
        records: dict[str, tuple[str, dict[str, Any]]] = {}
        for handle in self._vector_collections():
            got = handle.get(include=["documents", "metadatas"])
            records.update(zip(got["ids"], zip(got["documents"], got["metadatas"])))
        return records

    def vector_ids(self) -> set[str]:
        """Every id in Chroma, over all partitions (for consistency checks)."""
        ids: set[str] = set()
        for handle in self._vector_collections():
            ids.update(handle.get(include=[])["ids"])
        return ids


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

