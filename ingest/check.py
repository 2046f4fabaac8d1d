"""`python -m ingest --check`: do the catalog and Chroma hold the same passages?

Every passage of the catalog must have exactly one vector, every vector a passage, and each
vector must carry its passage's text, document and access level (the access level is what
the role filter reads inside Chroma). The check walks the catalog document by document and
Chroma page by page (every collection of the store: the named one and its partitions), so it
works on the embedded store, on a Chroma server, and on either catalog. It holds the ingestion
lock, so an ingestion running at the same time cannot show up as a difference.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kb.chroma_client import chroma_calls, pages, store_collections
from kb.store import KnowledgeBase

# Ids listed per kind of difference in the printed report (the JSON report lists them all).
SHOWN = 20
BATCH = 500


@dataclass
class CheckReport:
    """Differences between the catalog and Chroma (all empty: the stores agree)."""

    passages: int = 0
    vectors: int = 0
    orphan_vectors: list[str] = field(default_factory=list)
    missing_vectors: list[str] = field(default_factory=list)
    duplicate_vectors: list[str] = field(default_factory=list)
    duplicate_passages: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        """True when nothing differs."""
        return not any(self.differences().values())

    def differences(self) -> dict[str, list[str]]:
        """Each kind of difference with the ids concerned."""
        return {
            "vectors without a passage in the catalog (orphans)": self.orphan_vectors,
            "passages without a vector": self.missing_vectors,
            "ids stored in more than one Chroma collection": self.duplicate_vectors,
            "passages stored twice (same document and offsets, another id)": self.duplicate_passages,
            "vectors whose text, document or access level differ from the catalog": self.mismatched,
        }

    def as_json(self) -> dict[str, Any]:
        """The report as `--check --json` prints it."""
        return {"consistent": self.consistent, "passages": self.passages, "vectors": self.vectors,
                "orphan_vectors": self.orphan_vectors, "missing_vectors": self.missing_vectors,
                "duplicate_vectors": self.duplicate_vectors, "duplicate_passages": self.duplicate_passages,
                "mismatched": self.mismatched}

    def lines(self) -> list[str]:
        """The human-readable report."""
        head = (f"Catalog: {self.passages} passages; Chroma: {self.vectors} vectors. "
                + ("The two stores agree." if self.consistent else "The two stores differ:"))
        out = [head]
        for kind, ids in self.differences().items():
            if ids:
                shown = ", ".join(ids[:SHOWN]) + (f" … and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")
                out.append(f"  {len(ids)} {kind}: {shown}")
        if not self.consistent:
            out.append("Run `python -m ingest` to finish an interrupted ingestion; if differences remain, "
                       "rebuild with `python -m ingest --reset`.")
        return out


def check_store(kb: KnowledgeBase) -> CheckReport:
    """Compare the catalog of `kb` with its Chroma collections (holding the ingestion lock)."""
    with kb.ingest_lock():
        catalog = _catalog_passages(kb)
        with chroma_calls(kb.settings, "checking the store"):
            vectors = _chroma_vectors(kb)
    return compare(catalog, vectors)


def compare(catalog: dict[str, dict[str, Any]], vectors: dict[str, list[dict[str, Any]]]) -> CheckReport:
    """The differences between catalog passages (id -> row) and Chroma records (id -> one
    record per collection holding it, each with `document` and `metadata`)."""
    report = CheckReport(passages=len(catalog), vectors=sum(len(v) for v in vectors.values()))
    report.orphan_vectors = sorted(set(vectors) - set(catalog))
    report.missing_vectors = sorted(set(catalog) - set(vectors))
    report.duplicate_vectors = sorted(cid for cid, found in vectors.items() if len(found) > 1)
    places: dict[tuple, list[str]] = defaultdict(list)
    for cid, row in catalog.items():
        places[(row["doc_id"], row["start"], row["end"])].append(cid)
    report.duplicate_passages = sorted(cid for ids in places.values() if len(ids) > 1 for cid in ids)
    for cid in sorted(set(catalog) & set(vectors)):
        row = catalog[cid]
        for record in vectors[cid]:
            meta = record["metadata"] or {}
            if (record["document"] != row["text"] or meta.get("doc_id") != row["doc_id"]
                    or meta.get("access") != row["access"]):
                report.mismatched.append(cid)
                break
    return report


def _catalog_passages(kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
    ids = [cid for doc_id in kb.documents() for cid in sorted(kb.chunk_ids_of(doc_id))]
    rows: dict[str, dict[str, Any]] = {}
    for n in range(0, len(ids), BATCH):
        rows.update(kb.chunks_by_id(ids[n:n + BATCH]))
    return rows


def _chroma_vectors(kb: KnowledgeBase) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for collection in store_collections(kb.chroma, kb.settings.collection):
        for batch in pages(collection, ["documents", "metadatas"]):
            for cid, document, metadata in zip(batch["ids"], batch["documents"], batch["metadatas"]):
                found[cid].append({"collection": collection.name, "document": document, "metadata": metadata})
    return dict(found)
