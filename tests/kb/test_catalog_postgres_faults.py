"""Faults of the PostgreSQL catalog against a real cluster of this module's own (it is killed and
restarted): PostgreSQL killed during `python -m ingest`, and restarted while requests run."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.index import ingest_paths
from kb.catalog import CatalogUnavailableError
from kb.settings import Settings
from kb.store import KnowledgeBase, SearchFilter
from tests.conftest import PROJECT_ROOT
from tests.kb.conftest import drop_database, new_database
from tests.postgres import postgres_cluster, restart_cluster, start_cluster, stop_cluster

pytestmark = pytest.mark.server

DOCUMENTS = 400


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[str]:
    """A cluster only these tests use, since they stop it."""
    with postgres_cluster(Path(tempfile.mkdtemp(prefix="passerelle-pg-faults-"))) as url:
        yield url


@pytest.fixture
def fault_db(own_cluster: str) -> Iterator[str]:
    url = new_database(own_cluster)
    yield url
    drop_database(url)


def _documents(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=2) as connection:
            if connection.execute("SELECT to_regclass('documents')").fetchone()[0] is None:
                return 0
            return connection.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    except psycopg.OperationalError:
        return 0


def _ingest(folder: Path, store: Path, url: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSERELLE_")}
    env.update(PYTHONPATH=str(PROJECT_ROOT), PASSERELLE_EMBEDDING_MODEL="fake-embedding",
               PASSERELLE_DATABASE_URL=url)
    return subprocess.Popen([sys.executable, "-m", "tests.ingest.fake_model_runner", "docs", "--quiet",
                             "--store", str(store)], cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_postgres_killed_during_an_ingestion_stops_it_cleanly_and_a_rerun_completes_it(
    fault_db: str, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(DOCUMENTS):
        (docs / f"note-{n:03d}.md").write_text(
            f"---\ntitle: Note {n}\nlanguage: fr\naccess: public\n---\n# Note {n}\n\n"
            f"La réunion numéro {n} a examiné le dossier {n * 7} de la coopération numérique.\n", encoding="utf-8")
    store = tmp_path / "store"
    process = _ingest(tmp_path, store, fault_db)
    deadline = time.monotonic() + 240
    while _documents(fault_db) < 30:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the ingestion did not start writing"
        time.sleep(0.1)
    stop_cluster(fault_db)
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        start_cluster(fault_db)
    assert process.returncode == 1, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "error: the PostgreSQL catalog at postgresql://127.0.0.1:" in stderr and "is unreachable" in stderr
    assert _documents(fault_db) < DOCUMENTS

    rerun = _ingest(tmp_path, store, fault_db)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err[-2000:]
    assert f"{DOCUMENTS} in the store" in out
    settings = Settings.from_env({}, store=store, embedding_model="fake-embedding", database_url=fault_db)
    kb = KnowledgeBase(settings, embeddings=DeterministicFakeEmbedding(size=32))
    catalog = kb.chunk_documents()
    vectors = [i for handle in kb._vector_collections() for i in handle.get(include=[])["ids"]]  # every partition
    assert len(vectors) == len(set(vectors)) == len(catalog), "no duplicate, no orphan, no passage without vector"
    assert set(vectors) == set(catalog) and kb.catalog.pending() == []
    assert len(kb.documents()) == DOCUMENTS
    kb.close()


def test_postgres_restarted_under_load_fails_requests_cleanly_and_the_pool_reconnects(
    fault_db: str, fake_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(20):
        (docs / f"n{n}.md").write_text(f"# Cybersécurité {n}\n\nLa cybersécurité de la plateforme {n}.\n",
                                       encoding="utf-8")
    settings = Settings.from_env({}, store=fake_settings.store, embedding_model="fake-embedding",
                                 database_url=fault_db)
    kb = KnowledgeBase(settings, embeddings=DeterministicFakeEmbedding(size=32))
    ingest_paths([docs], settings, kb=kb, progress=False)
    where = SearchFilter.for_role("admin")
    outcomes: list[tuple[float, str]] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                assert kb.keyword_search("cybersécurité plateforme", 5, where)
                assert len(kb.documents(where)) == 20
                outcomes.append((time.monotonic(), "ok"))
            except CatalogUnavailableError as exc:
                outcomes.append((time.monotonic(), f"unavailable: {exc}"))
            except Exception as exc:  # noqa: BLE001 - anything else is the failure this test looks for
                outcomes.append((time.monotonic(), f"UNEXPECTED {type(exc).__name__}: {exc}"))
            time.sleep(0.01)

    def long_request() -> None:
        # A request still running when the server goes down (a slow query stands for one).
        try:
            kb.catalog._fetchall("SELECT pg_sleep(30) AS slept")
            outcomes.append((time.monotonic(), "UNEXPECTED: the slow query survived the restart"))
        except CatalogUnavailableError as exc:
            outcomes.append((time.monotonic(), f"unavailable: {exc}"))
        except Exception as exc:  # noqa: BLE001
            outcomes.append((time.monotonic(), f"UNEXPECTED {type(exc).__name__}: {exc}"))

    threads = [threading.Thread(target=ask) for _ in range(6)] + [threading.Thread(target=long_request)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    restarted = time.monotonic()
    restart_cluster(fault_db)
    back = time.monotonic()
    deadline = back + 60
    while not any(t > back and o == "ok" for t, o in outcomes) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    kb.close()
    unexpected = [o for _, o in outcomes if o.startswith("UNEXPECTED")]
    assert not unexpected, unexpected[:3]
    failed = [o for _, o in outcomes if o.startswith("unavailable")]
    assert failed, "the request in flight failed"
    assert all("the PostgreSQL catalog at postgresql://127.0.0.1:" in o and "is unreachable" in o for o in failed)
    assert "@" not in "".join(failed), "no password in the messages"
    assert any(t < restarted and o == "ok" for t, o in outcomes)
    assert any(t > back and o == "ok" for t, o in outcomes), "the same knowledge base answers again"
    print(f"\nrequests ok {sum(o == 'ok' for _, o in outcomes)}, failed cleanly {len(failed)}: {failed[0]}")
