"""Copy a catalog into another, empty one (SQLite into PostgreSQL when a deployment moves to
server mode): every table row is copied, the keyword index is rebuilt by the target, and
nothing is re-embedded (the vectors stay in Chroma, under the same chunk ids)."""

from __future__ import annotations

import itertools
import logging
from typing import Any, Iterator

from kb.catalog import LOCAL_META, TABLE_COLUMNS, Catalog, StoreError

log = logging.getLogger(__name__)

BATCH_ROWS = 2000
# Documents first: the other tables refer to them.
COPIED_TABLES = ("documents", "chunks", "mentions", "sentences")


def copy_catalog(source: Catalog, target: Catalog) -> dict[str, int]:
    """Copy every row of `source` into `target`, which must be empty and built with the same
    embedding model; returns the rows copied by table. The copy is one transaction of the target."""
    source.open()
    if source.pending():
        raise StoreError(f"the catalog {source.location} holds an interrupted ingestion; run `python -m ingest` "
                         "once to finish it, then copy it")
    target.open()
    held = target.chunk_count() or len(target.documents())
    if held:
        raise StoreError(f"the catalog {target.location} is not empty; give an empty database")
    counts: dict[str, int] = {}
    with target.transaction():
        for key, value in source.table_rows("meta"):
            if key not in LOCAL_META and key != "embedding_model":
                target.set_meta(key, value)
        for table in COPIED_TABLES:
            counts[table] = sum(target.insert_rows(table, batch) for batch in _batches(source.table_rows(table)))
            log.info("copied table=%s rows=%d", table, counts[table])
    copied = {"documents": len(target.documents()), "chunks": target.chunk_count()}
    target.analyse_if_changed()  # the copy is served at once: plan its queries with statistics
    if any(copied[t] != counts[t] for t in copied):
        raise StoreError(f"the copy into {target.location} is incomplete ({copied} of {counts}); drop it and run again")
    return counts


def _batches(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    while batch := list(itertools.islice(rows, BATCH_ROWS)):
        yield batch
