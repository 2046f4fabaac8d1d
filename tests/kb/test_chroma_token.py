"""The Chroma server lets in only Passerelle: token authentication, measured against real servers."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import httpx
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.index import ingest_paths
from kb.chroma_client import ChromaTokenError
from kb.partitions import partition_name
from kb.store import KnowledgeBase, SearchFilter
from tests.conftest import free_port, stop, wait_for_port
from tests.kb.chroma_servers import TokenServer

pytestmark = pytest.mark.server

API = "/api/v2/tenants/default_tenant/databases/default_database"


@pytest.fixture
def token_server(tmp_path):
    server = TokenServer(tmp_path / "chroma-data", secrets.token_hex(16)).start()
    yield server
    server.kill()


def _small_corpus(folder):
    folder.mkdir()
    (folder / "protocole.md").write_text(
        "---\ntitle: Protocole test\naccess: restricted\n---\n# Durée\n\nLe protocole est conclu pour trois ans.\n",
        encoding="utf-8")
    (folder / "note.md").write_text(
        "---\ntitle: Note publique\naccess: public\n---\n# Objet\n\nLa note décrit la plateforme de données.\n",
        encoding="utf-8")
    return folder


def test_only_a_client_with_the_token_gets_anything(token_server: TokenServer, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    corpus = _small_corpus(tmp_path / "corpus")
    settings = token_server.settings(tmp_path / "catalog", embedding_model="fake-embedding")
    kb = KnowledgeBase(settings, embeddings=DeterministicFakeEmbedding(size=32))
    report = ingest_paths([corpus], settings, kb=kb, progress=False)
    assert report.added == 2 and report.chunks_total > 0
    hits = kb.nearest(kb.embeddings.embed_query("protocole"), 5, SearchFilter.for_role("official"))
    records = kb.vector_records()
    assert {records[cid][1]["title"] for cid, _ in hits} == {"Protocole test", "Note publique"}
    # chromadb's own server fails these without kb.chroma_server's engine (EmbeddingsAsArrays).
    restricted = kb._partition(partition_name(settings.collection, "restricted", "fr"))
    got = restricted.get(limit=2, include=["embeddings"])
    assert len(got["embeddings"]) >= 1 and len(got["embeddings"][0]) == 32
    near = restricted.query(query_embeddings=[list(got["embeddings"][0])], n_results=1, include=["embeddings"])
    assert near["ids"][0] == got["ids"][:1] and len(near["embeddings"][0][0]) == 32

    base = f"http://127.0.0.1:{token_server.port}{API}"
    collection_id = restricted.id
    query = {"query_embeddings": [[0.1] * 32], "n_results": 5, "include": ["documents", "metadatas"]}
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"X-Chroma-Token": token_server.token[:-1]}):
        listing = httpx.get(f"{base}/collections", headers=headers)
        assert listing.status_code in (401, 403), listing.text
        answer = httpx.post(f"{base}/collections/{collection_id}/query", json=query, headers=headers)
        assert answer.status_code in (401, 403)
        got = httpx.post(f"{base}/collections/{collection_id}/get", json={"limit": 10}, headers=headers)
        assert got.status_code in (401, 403)
        for response in (listing, answer, got):
            assert "trois ans" not in response.text and "passerelle" not in response.text
    # With the token the same requests answer, so the refusals above are the token's doing.
    good = {"Authorization": f"Bearer {token_server.token}"}
    names = [c["name"] for c in httpx.get(f"{base}/collections", headers=good).json()]
    assert restricted.name in names and all(n.startswith(settings.collection) for n in names)
    assert "trois ans" in httpx.post(f"{base}/collections/{collection_id}/query", json=query, headers=good).text


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_passerelle_without_the_right_token_is_told_what_to_set(token_server: TokenServer, tmp_path, token) -> None:
    settings = token_server.settings(tmp_path / "catalog", token=token, embedding_model="fake-embedding")
    with pytest.raises(ChromaTokenError, match="refused the token.*set PASSERELLE_CHROMA_TOKEN"):
        KnowledgeBase(settings, embeddings=DeterministicFakeEmbedding(size=32)).vectors


def test_the_server_refuses_to_start_without_a_token(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PASSERELLE_CHROMA_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "kb.chroma_server", "--path", str(tmp_path / "d")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "set PASSERELLE_CHROMA_TOKEN" in done.stderr
    assert not (tmp_path / "d").exists()


def test_chroma_run_itself_has_no_authentication(tmp_path) -> None:
    """Why `kb.chroma_server` exists: chromadb 1.5.9's `chroma run` ignores Chroma's auth
    settings and answers anyone. If this fails, `chroma run` gained authentication: use it."""
    chroma = os.path.join(os.path.dirname(sys.executable), "chroma")
    port = free_port()
    env = {**os.environ, "CHROMA_SERVER_AUTHN_PROVIDER": "chromadb.auth.token_authn.TokenAuthenticationServerProvider",
           "CHROMA_SERVER_AUTHN_CREDENTIALS": "s3cret-token"}
    process = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "d"), "--host", "127.0.0.1", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process, 60)
        listing = httpx.get(f"http://127.0.0.1:{port}{API}/collections")
        assert listing.status_code == 200
    finally:
        stop(process)
