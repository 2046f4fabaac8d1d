"""Backup and restore of the whole knowledge base, embedded or on servers.

A backup is a folder:

- `manifest.json`: the format, when and from what it was made (catalog and vector modes,
  collection, embedding model), and each Chroma collection saved. It is written last, so a
  folder without it is an unfinished backup and `restore` refuses it.
- `store/`: the files of the store folder that exist: `catalog.sqlite3` and `feedback.sqlite3`
  copied with SQLite's backup API (a consistent snapshot even while the app writes a
  rating), `users.json` copied as is.
- embedded Chroma: `store/chroma/`, the Chroma folder copied while the ingestion lock is held
  (the app only reads it; its SQLite file through the backup API).
- Chroma server: `vectors/<collection>.jsonl` (id, text, metadata per line) and
  `vectors/<collection>.f32` (the embeddings in the same order, little-endian float32), read
  from the server page by page, for the named collection and its partitions.
- PostgreSQL catalog (`PASSERELLE_DATABASE_URL`): `catalog.pgdump`, from `pg_dump -Fc`.

Both directions hold the target store's ingestion lock, so no ingestion writes meanwhile.
`restore` refuses a store that already holds a catalog, vectors, users or ratings unless
`force`; stop the app servers before restoring (they keep the old store open).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.pg_dump import database_tables, dump_database, restore_database
from kb.catalog import StoreError
from kb.chroma_client import chroma_calls, pages, store_collections
from kb.files import private_file, private_folder
from kb.store import CHROMA_DIR, KnowledgeBase
from kb.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
# The store folder's files that a backup keeps (the feedback and users files are bot's, named here
# because ingest does not import bot).
SQLITE_FILES = ("catalog.sqlite3", "feedback.sqlite3")
PLAIN_FILES = ("users.json",)
DUMP = "catalog.pgdump"


class BackupError(StoreError):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass
class BackupReport:
    """What a backup or a restore copied."""

    folder: Path
    files: list[str] = field(default_factory=list)
    vectors: int = 0
    collections: list[str] = field(default_factory=list)
    database: bool = False
    seconds: float = 0.0

    def summary(self, verb: str) -> str:
        """One paragraph for the CLI."""
        parts = [f"{verb} {self.folder} in {self.seconds:.1f} s.", f"Files: {', '.join(self.files) or 'none'}."]
        parts.append(f"Vectors: {self.vectors} in {len(self.collections)} Chroma collection(s).")
        if self.database:
            parts.append("Catalog database: PostgreSQL dump.")
        return "\n".join(parts)


def _modes(settings: Settings) -> dict[str, str]:
    return {"catalog": "postgresql" if settings.uses_database_server else "sqlite",
            "vectors": "server" if settings.uses_chroma_server else "embedded"}


def backup(settings: Settings, folder: Path) -> BackupReport:
    """Save the knowledge base of `settings` into the new or empty `folder`."""
    started = time.monotonic()
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: give a new folder for the backup")
    kb = KnowledgeBase(settings)
    if not kb.exists and not settings.uses_database_server:
        raise BackupError(f"no knowledge base in {settings.store}: nothing to back up")
    report = BackupReport(folder)
    private_folder(folder / "store")
    with kb.ingest_lock():
        report.files = _copy_store_files(settings.store, folder / "store")
        if settings.uses_database_server:
            dump_database(settings.database_url, folder / DUMP)
            report.database = True
        saved = _export_vectors(kb, folder) if settings.uses_chroma_server else _copy_chroma(settings.store, folder)
    report.collections = [c["name"] for c in saved]
    report.vectors = sum(c["count"] for c in saved)
    manifest = {"format": FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "modes": _modes(settings), "collection": settings.collection, "embedding_model": kb.model,
                "files": report.files, "collections": saved, "database": report.database}
    _write_json(folder / MANIFEST, manifest)
    report.seconds = time.monotonic() - started
    return report


def restore(settings: Settings, folder: Path, force: bool = False) -> BackupReport:
    """Put the backup in `folder` back into the store of `settings` (empty, unless `force`)."""
    started = time.monotonic()
    manifest = read_manifest(Path(folder))
    _check_modes(manifest, settings)
    kb = KnowledgeBase(settings)  # the catalog is not opened: that would create a file
    private_folder(settings.store)
    report = BackupReport(Path(folder))
    with kb.ingest_lock():
        occupied = _occupied(settings, kb)
        if occupied and not force:
            raise BackupError(f"the target is not empty ({'; '.join(occupied)}): restore into an empty store, "
                              "or add --force to replace what it holds")
        _clear_store_files(settings.store)
        report.files = _copy_store_files(Path(folder) / "store", settings.store)
        if manifest["database"]:
            restore_database(settings.database_url, Path(folder) / DUMP, force=force)
            report.database = True
        if settings.uses_chroma_server:
            report.vectors = _import_vectors(kb, Path(folder), manifest["collections"])
        else:
            report.vectors = _restore_chroma(Path(folder), settings.store, manifest["collections"])
    report.collections = [c["name"] for c in manifest["collections"]]
    report.seconds = time.monotonic() - started
    return report


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a finished backup (BackupError for anything else)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} holds no finished backup ({MANIFEST} is missing)") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder / MANIFEST} cannot be read: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder} is a backup of format {manifest.get('format')!r}; this version reads {FORMAT}")
    return manifest


def _check_modes(manifest: dict[str, Any], settings: Settings) -> None:
    made, here = manifest["modes"], _modes(settings)
    hints = {"vectors": "PASSERELLE_CHROMA_HOST", "catalog": "PASSERELLE_DATABASE_URL"}
    for key, variable in hints.items():
        if made[key] != here[key]:
            raise BackupError(f"the backup's {key} were taken from {made[key]} mode but this store uses {here[key]} "
                              f"mode: set or unset {variable} as when the backup was made")


def _occupied(settings: Settings, kb: KnowledgeBase) -> list[str]:
    """What the target store already holds (empty list: nothing)."""
    found = [name for name in (*SQLITE_FILES, *PLAIN_FILES) if (settings.store / name).exists()]
    if settings.uses_database_server:
        tables = database_tables(settings.database_url)
        if tables:
            found.append(f"{len(tables)} tables in the database, e.g. {', '.join(tables[:3])}")
    if settings.uses_chroma_server:
        with chroma_calls(settings, "looking at the target"):
            counts = {c.name: c.count() for c in store_collections(kb.chroma, settings.collection)}
        found += [f"{n} vectors in the Chroma collection {name!r}" for name, n in counts.items() if n]
    elif (settings.store / CHROMA_DIR).exists() and any((settings.store / CHROMA_DIR).iterdir()):
        found.append(f"a Chroma folder {settings.store / CHROMA_DIR}")
    return found


def _copy_store_files(source: Path, target: Path) -> list[str]:
    copied = []
    for name in SQLITE_FILES:
        if (source / name).is_file():
            _sqlite_copy(source / name, target / name)
            copied.append(name)
    for name in PLAIN_FILES:
        if (source / name).is_file():
            shutil.copy(source / name, private_file(target / name))
            copied.append(name)
    return copied


def _clear_store_files(store: Path) -> None:
    for name in (*SQLITE_FILES, *PLAIN_FILES):
        for suffix in ("", "-wal", "-shm"):
            (store / (name + suffix)).unlink(missing_ok=True)


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database, taken with SQLite's backup API."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(private_file(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _copy_chroma(store: Path, folder: Path) -> list[dict[str, Any]]:
    """Copy the embedded Chroma folder (no writer runs: the caller holds the ingestion lock)."""
    source, target = store / CHROMA_DIR, folder / "store" / CHROMA_DIR
    if not source.is_dir():
        return []
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.sqlite3", "*.sqlite3-wal", "*.sqlite3-shm"))
    for database in source.glob("*.sqlite3"):
        _sqlite_copy(database, target / database.name)
    return _embedded_collections(target)


def _embedded_collections(folder: Path) -> list[dict[str, Any]]:
    """Name and count of each collection in the Chroma folder `folder`, read from its SQLite file
    (opening it with chromadb could migrate or lock it)."""
    database = folder / "chroma.sqlite3"
    if not database.is_file():
        return []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT c.name, COUNT(e.id) FROM collections c LEFT JOIN segments s ON s.collection = c.id "
                          "AND s.scope = 'METADATA' LEFT JOIN embeddings e ON e.segment_id = s.id "
                          "GROUP BY c.name ORDER BY c.name").fetchall()
    return [{"name": name, "count": count} for name, count in rows]


def _restore_chroma(folder: Path, store: Path, collections: list[dict[str, Any]]) -> int:
    target = store / CHROMA_DIR
    shutil.rmtree(target, ignore_errors=True)
    source = folder / "store" / CHROMA_DIR
    if source.is_dir():
        shutil.copytree(source, target)
        target.chmod(0o700)
    return sum(c["count"] for c in collections)


def _export_vectors(kb: KnowledgeBase, folder: Path) -> list[dict[str, Any]]:
    """Every record of the store's collections on the Chroma server, into `folder/vectors`."""
    saved = []
    private_folder(folder / "vectors")
    with chroma_calls(kb.settings, "exporting the vectors"):
        for collection in store_collections(kb.chroma, kb.settings.collection):
            count, dimension = 0, None
            with open(folder / "vectors" / f"{collection.name}.jsonl", "w", encoding="utf-8") as rows, \
                    open(folder / "vectors" / f"{collection.name}.f32", "wb") as vectors:
                for batch in pages(collection, ["embeddings", "documents", "metadatas"]):
                    embeddings = np.asarray(batch["embeddings"], dtype="<f4")
                    dimension = int(embeddings.shape[1])
                    vectors.write(embeddings.tobytes())
                    for cid, text, meta in zip(batch["ids"], batch["documents"], batch["metadatas"]):
                        rows.write(json.dumps({"id": cid, "document": text, "metadata": meta}, ensure_ascii=False) + "\n")
                    count += len(batch["ids"])
            space = ((collection.configuration or {}).get("hnsw") or {}).get("space", "cosine")
            saved.append({"name": collection.name, "count": count, "dimension": dimension,
                          "metadata": collection.metadata, "space": space})
    return saved


def _import_vectors(kb: KnowledgeBase, folder: Path, collections: list[dict[str, Any]], page: int = 1000) -> int:
    """Re-create the saved collections on the Chroma server (replacing the store's own)."""
    client = kb.chroma
    written = 0
    with chroma_calls(kb.settings, "importing the vectors"):
        for existing in store_collections(client, kb.settings.collection):
            client.delete_collection(existing.name)
        for saved in collections:
            collection = client.create_collection(saved["name"], metadata=saved["metadata"] or None,
                                                  configuration={"hnsw": {"space": saved["space"]}},
                                                  embedding_function=None)
            if not saved["count"]:
                continue
            matrix = np.fromfile(folder / "vectors" / f"{saved['name']}.f32", dtype="<f4")
            matrix = matrix.reshape(saved["count"], saved["dimension"])
            with open(folder / "vectors" / f"{saved['name']}.jsonl", encoding="utf-8") as rows:
                records = [json.loads(line) for line in rows]
            for start in range(0, len(records), page):
                chunk = records[start:start + page]
                collection.add(ids=[r["id"] for r in chunk], documents=[r["document"] for r in chunk],
                               metadatas=[r["metadata"] for r in chunk],
                               embeddings=matrix[start:start + len(chunk)].tolist())
            written += len(records)
    return written


def _write_json(path: Path, data: dict[str, Any]) -> None:
    private_file(path)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
