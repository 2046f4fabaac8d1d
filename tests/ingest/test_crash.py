"""Crash-safe ingestion: SIGKILL at any moment, then a re-run, equals a clean ingestion.

The scenario is an incremental run over a store that already holds version A of a small
corpus copy: one file unchanged, one edited (some passages stay, some go), one deleted
(`--prune`), one new. `python -m ingest` (through `tests.ingest.crash_runner`, which only
numbers the write points) is killed with SIGKILL just after each durable write, in the
middle of some writes, and at random times; ingestion is then run again and the store
must equal a clean ingestion of version B: the same chunk ids in the catalog, in Chroma
and in the keyword index, no duplicates, no orphans, the manifest in agreement.

Real model and real embedded Chroma throughout; the test process loads the model once
for the re-runs and the reference, the killed runs are real processes.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ingest.index import ingest_paths
from kb.settings import Settings
from kb.store import CATALOG_FILE, KnowledgeBase, StoreBusyError
from tests.conftest import CORPUS, PROJECT_ROOT

pytestmark = [pytest.mark.real_model, pytest.mark.timeout(600)]

KEPT = "faq-personnel.md"
EDITED = "communique-mctn-2025-12-24.md"
DELETED = "follow-up-meeting-2026-05-19.txt"
ADDED = "partnership-summary-en.md"
INGEST_ARGS = ["docs", "--prune", "--quiet", "--json"]


def _version_a(folder: Path) -> None:
    (folder / "docs").mkdir(parents=True)
    shutil.copy(CORPUS / "guides" / KEPT, folder / "docs" / KEPT)
    shutil.copy(CORPUS / "briefs" / EDITED, folder / "docs" / EDITED)
    shutil.copy(CORPUS / "reunions" / DELETED, folder / "docs" / DELETED)


def _to_version_b(folder: Path) -> None:
    docs = folder / "docs"
    edited = docs / EDITED
    text = edited.read_text(encoding="utf-8")
    paragraphs = text.split("\n\n")
    # Drop one paragraph near the end and add a new one: earlier passages keep their ids,
    # later ones change, so the update has both kept and stale chunks.
    del paragraphs[-2]
    paragraphs.append("Un paragraphe ajouté après coup : la commission se réunira de nouveau à Bakou en octobre 2026.")
    edited.write_text("\n\n".join(paragraphs), encoding="utf-8")
    (docs / DELETED).unlink()
    shutil.copy(CORPUS / "briefs" / ADDED, docs / ADDED)


@pytest.fixture(scope="module")
def embeddings(real_model_path: Path):
    from kb.embeddings import load_embeddings

    settings = Settings.from_env({})
    return load_embeddings(settings.embedding_model, settings.embedding_precision)


def _ingest_in_process(workdir: Path, store: Path, embeddings) -> None:
    settings = Settings.from_env({}, store=store)
    kb = KnowledgeBase(settings, embeddings=embeddings)
    cwd = Path.cwd()
    os.chdir(workdir)  # document ids are paths relative to the working directory
    try:
        report = ingest_paths([Path("docs")], settings, prune=True, progress=False, kb=kb)
    finally:
        os.chdir(cwd)
        kb.close()
    assert report.failed == 0, report.errors


def snapshot(store: Path) -> dict[str, Any]:
    """Everything that must match a clean ingestion, after checking the store is self-consistent."""
    db = sqlite3.connect(store / CATALOG_FILE)
    try:
        chunk_rows = db.execute('SELECT rowid, chunk_id, doc_id, ordinal, start, "end", text FROM chunks').fetchall()
        chunk_ids = [r[1] for r in chunk_rows]
        assert len(chunk_ids) == len(set(chunk_ids)), "duplicate chunk ids in the catalog"
        fts_rowids = [r[0] for r in db.execute("SELECT rowid FROM chunks_fts")]
        assert len(fts_rowids) == len(set(fts_rowids)), "duplicate rows in the keyword index"
        assert set(fts_rowids) == {r[0] for r in chunk_rows}, "keyword index and catalog disagree"
        fts_ids = {r[0] for r in db.execute("SELECT c.chunk_id FROM chunks_fts f JOIN chunks c ON c.rowid = f.rowid")}
        documents = {
            r[0]: r[1:] for r in db.execute(
                "SELECT doc_id, path, file_hash, title, doc_type, date, access, language, chunks FROM documents")
        }
        per_doc = Counter(r[2] for r in chunk_rows)
        assert set(per_doc) <= set(documents), "chunks of a document the manifest does not list"
        for doc_id, row in documents.items():
            assert row[-1] == per_doc.get(doc_id, 0), f"manifest count of {doc_id} disagrees with its chunks"
        pending = db.execute("SELECT COUNT(*) FROM pending").fetchone()[0]
        assert pending == 0, "the pending journal was not emptied"
        sentences = dict(db.execute("SELECT doc_id, COUNT(*) FROM sentences GROUP BY doc_id").fetchall())
        assert set(sentences) <= set(documents), "sentence vectors of a document the manifest does not list"
    finally:
        db.close()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(store / "chroma"), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True))
    got: dict[str, list] = {"ids": [], "documents": [], "metadatas": []}
    for collection in client.list_collections():  # the named collection and its partitions
        if collection.name == "passerelle" or collection.name.startswith("passerelle--"):
            part = collection.get(include=["metadatas", "documents"])
            for key in got:
                got[key].extend(part[key])
    vector_ids = got["ids"]
    assert len(vector_ids) == len(set(vector_ids)), "duplicate ids in Chroma"
    assert set(vector_ids) == set(chunk_ids), (
        f"Chroma and the catalog disagree: orphan vectors {sorted(set(vector_ids) - set(chunk_ids))[:3]}, "
        f"missing vectors {sorted(set(chunk_ids) - set(vector_ids))[:3]}"
    )
    assert fts_ids == set(chunk_ids)
    return {
        "documents": documents,
        "chunks": sorted(r[1:] for r in chunk_rows),
        "vectors": sorted((i, d, sorted(m.items())) for i, d, m in zip(vector_ids, got["documents"], got["metadatas"])),
        "sentences": sentences,
    }


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, embeddings) -> dict[str, Any]:
    """Version A ingested (the starting store), and a clean ingestion of version B (the reference)."""
    base = tmp_path_factory.mktemp("crash")
    _version_a(base / "a")
    _ingest_in_process(base / "a", base / "store-a", embeddings)
    shutil.copytree(base / "a", base / "b")
    _to_version_b(base / "b")
    _ingest_in_process(base / "b", base / "reference", embeddings)
    reference = snapshot(base / "reference")
    assert len(reference["documents"]) == 3 and len(reference["chunks"]) >= 10
    before = snapshot(base / "store-a")
    assert set(before["documents"]) != set(reference["documents"])
    return {"base": base, "reference": reference}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSERELLE_")}
    return {**env, "PYTHONPATH": str(PROJECT_ROOT), **extra}


def _trial_store(scenario: dict[str, Any], name: str) -> Path:
    store = scenario["base"] / name
    shutil.copytree(scenario["base"] / "store-a", store)
    return store


def _crash_run(scenario, store: Path, event: int, delay_ms: float = 0, log: Path | None = None,
               args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = _env(CRASH_RUNNER_DELAY_MS=str(delay_ms), **({"CRASH_RUNNER_LOG": str(log)} if log else {}))
    return subprocess.run(
        [sys.executable, "-m", "tests.ingest.crash_runner", str(event), *INGEST_ARGS, *args, "--store", str(store)],
        cwd=scenario["base"] / "b", env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def write_points(scenario) -> tuple[list[tuple[int, str]], float]:
    """The write operations of an uninterrupted run as the crash runner numbers them, and its duration."""
    log = scenario["base"] / "points.log"
    store = _trial_store(scenario, "count-points")
    started = time.monotonic()
    result = _crash_run(scenario, store, -1, log=log)
    duration = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert snapshot(store) == scenario["reference"], "the instrumented run itself must be correct"
    events = [(int(n), label) for n, label in (line.split(" ", 1) for line in log.read_text().splitlines())]
    return events, duration


def _kill_trials(events: list[tuple[int, str]]) -> list[tuple[str, int, float]]:
    """(label, event, delay ms): before the first write; just after each Chroma write, after the
    journal commit before the first upsert and after the catalog commit before each Chroma delete;
    in the middle of a Chroma upsert and of a Chroma delete."""
    writes = [label[6:] for _, label in events if label.startswith("after ")]
    chroma = [i for i, label in enumerate(writes) if label.startswith("chroma")]
    chosen = sorted({*chroma, chroma[0] - 1, *(i - 1 for i in chroma if writes[i] == "chroma delete")})
    trials = [("before the first write", 0, 0.0)]
    trials += [(f"after write #{i} ({writes[i]})", 2 * i + 1, 0.0) for i in chosen]
    upsert = next(n for n, label in events if label == "before chroma upsert")
    delete = next(n for n, label in events if label == "before chroma delete")
    trials += [("during a Chroma upsert", upsert, 2.0), ("during a Chroma delete", delete, 1.0)]
    return trials


def _check_trials(scenario, embeddings, trials, extra_args: tuple[str, ...] = ()) -> None:
    failures, log = [], []
    for label, event, delay in trials:
        store = _trial_store(scenario, f"trial-{len(list(scenario['base'].glob('trial-*')))}")
        killed = _crash_run(scenario, store, event, delay, args=extra_args)
        assert killed.returncode == -signal.SIGKILL, f"{label}: not killed ({killed.returncode}) {killed.stderr[-500:]}"
        _ingest_in_process(scenario["base"] / "b", store, embeddings)  # the re-run, without --reset
        try:
            assert snapshot(store) == scenario["reference"]
            log.append(f"ok   {label}")
        except AssertionError as exc:
            failures.append(f"{label}: {str(exc)[:300]}")
            log.append(f"FAIL {label}")
    print("\n".join(log))
    assert not failures, "\n".join(failures)


def test_sigkill_at_any_write_then_rerun_equals_clean_ingestion(scenario, write_points, embeddings) -> None:
    events, _ = write_points
    trials = _kill_trials(events)
    assert len(trials) >= 10, events
    _check_trials(scenario, embeddings, trials)


def test_sigkill_during_reset_then_rerun_equals_clean_ingestion(scenario, embeddings) -> None:
    """`--reset` killed after it dropped the vectors but before the catalog: the next plain run
    must not trust the old catalog (it would skip every file and leave the store without vectors)."""
    _check_trials(scenario, embeddings, [("--reset, after the collection was deleted", 1, 0.0)],
                  extra_args=("--reset",))


def test_sigkill_at_random_times_then_rerun_equals_clean_ingestion(scenario, write_points, embeddings) -> None:
    """Plain `python -m ingest`, no hooks: killed from outside after random delays."""
    _, duration = write_points
    rng = random.Random(5)
    # Over the second half of the run: the first part is mostly loading the model.
    delays = sorted(rng.uniform(0.5, 1.0) * duration for _ in range(2))
    outcomes = []
    for number, delay in enumerate(delays):
        store = _trial_store(scenario, f"timed-{number}")
        process = subprocess.Popen([sys.executable, "-m", "ingest", *INGEST_ARGS, "--store", str(store)],
                                   cwd=scenario["base"] / "b", env=_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        outcomes.append((round(delay, 2), process.wait(timeout=60)))
        _ingest_in_process(scenario["base"] / "b", store, embeddings)
        assert snapshot(store) == scenario["reference"], f"killed after {delay:.2f} s"
    print(f"full run {duration:.1f} s; kills (delay s, exit code): {outcomes}")


def test_a_second_ingestion_stops_with_a_clear_message(tmp_path: Path, real_model_path: Path) -> None:
    """Two ingestions at once never interleave: the second stops at once and says why."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "guides" / KEPT, docs / KEPT)
    store = tmp_path / "store"
    first = subprocess.Popen([sys.executable, "-m", "ingest", "docs", "--quiet", "--json", "--store", str(store)],
                             cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lock = store / ".ingest.lock"
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().startswith("pid ")):
            assert first.poll() is None and time.monotonic() < deadline, "the first ingestion never took the lock"
            time.sleep(0.05)
        second = subprocess.run([sys.executable, "-m", "ingest", "docs", "--quiet", "--store", str(store)],
                                cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
        assert first.poll() is None, "the first ingestion should still be running"
        assert second.returncode == 1
        assert second.stderr.strip() == (
            f"error: another ingestion (pid {first.pid}) is writing to {store}; wait for it to finish"
        )
    finally:
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert '"added": 1' in out
    snapshot(store)


def test_lock_is_exclusive_in_process(fake_kb: KnowledgeBase) -> None:
    other = KnowledgeBase(fake_kb.settings)
    with fake_kb.ingest_lock():
        with pytest.raises(StoreBusyError, match=r"another ingestion \(pid \d+\) is writing to .*; wait for it to finish"):
            with other.ingest_lock():
                pass
    with other.ingest_lock():  # released: the next one gets it
        pass


class _Died(BaseException):
    """Stands for the process dying: nothing after it runs, the open transaction is lost."""


def test_crash_after_the_vectors_then_file_reverted_leaves_no_stale_access(tmp_path: Path, fake_kb: KnowledgeBase,
                                                                          monkeypatch) -> None:
    """A crash between the Chroma upsert and the catalog commit, then the file put back as it
    was: Chroma must not keep the metadata (here the access level) of the version that died."""
    docs = tmp_path / "docs"
    docs.mkdir()
    note = docs / "note.md"
    body = "# Note\n\nLe budget de l'opération Baobab est de deux millions.\n"
    restricted = f"---\ntitle: Note\naccess: restricted\ndoc_type: report\nlanguage: fr\n---\n{body}"
    note.write_text(restricted, encoding="utf-8")
    ingest_paths([docs], fake_kb.settings, kb=fake_kb, progress=False)

    note.write_text(restricted.replace("access: restricted", "access: public"), encoding="utf-8")
    kb = KnowledgeBase(fake_kb.settings, embeddings=fake_kb.embeddings)

    def die(self, doc_id):
        raise _Died

    monkeypatch.setattr(type(kb.catalog), "_delete_chunk_rows", die)
    with pytest.raises(_Died):
        ingest_paths([docs], kb.settings, kb=kb, progress=False)
    monkeypatch.undo()
    kb.close()

    note.write_text(restricted, encoding="utf-8")  # reverted before the next run
    after = KnowledgeBase(fake_kb.settings, embeddings=fake_kb.embeddings)
    ingest_paths([docs], after.settings, kb=after, progress=False)
    catalog = {r[0]: r[1] for r in after.catalog.db.execute("SELECT chunk_id, access FROM chunks")}
    stored = after.vector_records()
    assert {i: m["access"] for i, (_, m) in stored.items()} == catalog
    assert set(catalog.values()) == {"restricted"}
