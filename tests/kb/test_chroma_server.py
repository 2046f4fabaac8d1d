"""The same code against a real `chroma run` server on 127.0.0.1 (the multi-machine path)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.answering.retrieve import dense_search
from ingest.index import ingest_paths
from kb.settings import Settings
from kb.store import KnowledgeBase, SearchFilter, StoreError
from tests.conftest import CORPUS, free_port, wait_for_port

pytestmark = [pytest.mark.server, pytest.mark.real_model]


@pytest.fixture
def chroma_server(tmp_path: Path):
    chroma = Path(sys.executable).with_name("chroma")
    port = free_port()
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process, 60)
    yield port
    process.terminate()
    process.wait(timeout=20)


def test_ingest_and_search_through_a_chroma_server(chroma_server: int, tmp_path: Path, monkeypatch, real_model_path) -> None:
    monkeypatch.chdir(tmp_path)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("briefs/azerbaijan-egovernment-brief.html", "strategie/new-deal-technologique.md"):
        target = corpus / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / name, target)
        sidecar = CORPUS / (name + ".meta.yaml")
        if sidecar.exists():
            shutil.copy(sidecar, target.with_name(target.name + ".meta.yaml"))
    settings = Settings.from_env(
        {"PASSERELLE_CHROMA_HOST": "127.0.0.1", "PASSERELLE_CHROMA_PORT": str(chroma_server)},
        store=tmp_path / "catalog",
    )
    kb = KnowledgeBase(settings)
    report = ingest_paths([corpus], settings, kb=kb, progress=False)
    assert report.added == 2 and report.failed == 0

    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    def count() -> int:  # vectors live in one collection per access level and language
        return sum(client.get_collection(name).count() for name in kb.partitions())

    assert count() == report.chunks_total > 0
    assert not (tmp_path / "catalog" / "chroma").exists(), "vectors must live in the server, not on disk here"

    hits = dense_search(kb, kb.embeddings.embed_query("EGDI score of Azerbaijan"), 2, SearchFilter.for_role("reader"))
    assert any("0.7607" in row["text"] for row in kb.chunks_by_id([cid for cid, _ in hits]).values())
    again = ingest_paths([corpus], settings, kb=kb, progress=False)
    assert again.unchanged == 2 and count() == report.chunks_total


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"PASSERELLE_CHROMA_HOST": "127.0.0.1", "PASSERELLE_CHROMA_PORT": str(free_port())}, store=tmp_path / "c",
        embedding_model="fake-embedding",
    )
    with pytest.raises(StoreError, match=r"unreachable: the Chroma server at 127.0.0.1:\d+ does not answer"):
        KnowledgeBase(settings).vectors
