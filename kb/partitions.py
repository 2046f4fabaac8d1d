"""Vector partitions: one Chroma collection per access level and language.

Chroma answers a query with a `where` clause by first listing every row the clause allows, which
grows with the store; a query without one walks its HNSW graph. So the vectors of each access
level and language live in their own collection (`<collection>--<access>--<language>`, listed in
the catalog's meta row `vector_partitions`), and a search queries only the partitions the
caller's filter allows, with no clause on either, merging them by distance. Other user filters
(type, dates, organisation) still go to Chroma as a `where` clause, inside those partitions.

A store built before partitions keeps its vectors in the single collection named
`Settings.collection` until the next ingestion moves them (`migrate_vectors`); until then it is
searched there with the full filter as well, so no vector is ever missed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from kb.catalog import StoreError
from kb.chroma_client import guarded
from kb.search_filter import SearchFilter

log = logging.getLogger(__name__)

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



class VectorPartitions:
    """The partitioned vector side of `kb.store.KnowledgeBase` (a mixin: it uses the catalog's
    meta rows and chunk rows, the Chroma client and the named collection)."""

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

    def _drop_misplaced(self, rows: dict[str, dict[str, Any]]) -> None:
        """Delete catalogued chunks' vectors from every partition but the one of their catalog
        row (a document moved to another access level or language, interrupted mid-way)."""
        for name, pair in self.partitions().items():
            misplaced = [cid for cid, row in rows.items() if (row["access"], row["language"]) != pair]
            handle = self._partition(name) if misplaced else None
            if handle is not None:
                handle.delete(ids=misplaced)

    @guarded("searching the vectors")
    def nearest(self, vector: Sequence[float], k: int, where: SearchFilter) -> list[tuple[str, float]]:
        """The `k` vectors nearest to `vector` among those `where` allows: (chunk_id, cosine
        distance), nearest first. Only the partitions of the allowed access levels and language
        are queried, with no filter on either (in parallel on a Chroma server)."""
        return self.nearest_each(vector, [(k, where)])[0]

    @guarded("searching the vectors")
    def nearest_each(self, vector: Sequence[float],
                     searches: Sequence[tuple[int, SearchFilter]]) -> list[list[tuple[str, float]]]:
        """`nearest` for several (k, filter) searches of one vector: a partition several of
        them read is queried once, as deep as the deepest (an answer searches its question's
        languages, then the other language alone)."""
        embedding = [list(map(float, vector))]
        plans = [self._targets(where) for _, where in searches]
        depth: dict[tuple[str | None, str], tuple[int, dict[str, Any] | None]] = {}
        for (k, _), targets in zip(searches, plans):
            for name, clause in targets:
                key = (name, json.dumps(clause, sort_keys=True))
                depth[key] = (max(k, depth.get(key, (0, None))[0]), clause)
        keys = [key for key, (k, _) in depth.items() if k > 0]

        def query(key: tuple[str | None, str]) -> list[tuple[str, float]]:
            k, clause = depth[key]
            handle = self.collection if key[0] is None else self._partition(key[0])
            if handle is None:
                return []
            result = handle.query(query_embeddings=embedding, n_results=k, where=clause, include=["distances"])
            return [(cid, float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]

        if self.settings.uses_chroma_server and len(keys) > 1:
            with ThreadPoolExecutor(max_workers=min(8, len(keys))) as pool:
                hits = dict(zip(keys, pool.map(query, keys)))
        else:
            hits = {key: query(key) for key in keys}
        results = []
        for (k, _), targets in zip(searches, plans):
            found: dict[str, float] = {}
            for name, clause in targets:
                for cid, distance in hits.get((name, json.dumps(clause, sort_keys=True)), [])[:k]:
                    found[cid] = min(distance, found.get(cid, 2.0))
            results.append(sorted(found.items(), key=lambda item: item[1])[:max(k, 0)])
        return results

    def _targets(self, where: SearchFilter) -> list[tuple[str | None, dict[str, Any] | None]]:
        """(partition, `where` clause) pairs a search under `where` reads; None names the single
        collection of a store not yet migrated, searched with the whole filter."""
        residual = where.chroma_residual()
        targets: list[tuple[str | None, dict[str, Any] | None]] = [
            (name, residual) for name, (access, language) in self.partitions().items()
            if access in where.access and where.language in (None, language)
        ]
        if not self.partitioned:
            targets.append((None, where.to_chroma()))
        return targets

    @guarded("reading vectors")
    def chunk_vectors(self, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored vectors of the given chunks, by id (those found in any collection)."""
        found: dict[str, list[float]] = {}
        for handle in self._vector_collections():
            got = handle.get(ids=list(chunk_ids), include=["embeddings"])
            found.update(zip(got["ids"], got["embeddings"]))
        return found

    @guarded("moving vectors into partitions")
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

    @guarded("listing the vectors")
    def vector_records(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every vector's (text, metadata) by id, over all partitions (for consistency checks)."""
        records: dict[str, tuple[str, dict[str, Any]]] = {}
        for handle in self._vector_collections():
            got = handle.get(include=["documents", "metadatas"])
            records.update(zip(got["ids"], zip(got["documents"], got["metadatas"])))
        return records

    @guarded("listing the vectors")
    def vector_ids(self) -> set[str]:
        """Every id in Chroma, over all partitions (for consistency checks)."""
        ids: set[str] = set()
        for handle in self._vector_collections():
            ids.update(handle.get(include=[])["ids"])
        return ids
