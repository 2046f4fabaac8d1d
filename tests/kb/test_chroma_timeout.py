"""A Chroma server that stops answering (SIGSTOP: alive, port open, silent) against the client's
timeout (`Settings.chroma_timeout_s`): the search fails with ChromaUnreachableError in about the
timeout, not never, and works again once the server resumes."""

from __future__ import annotations

import secrets
import signal
import time

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.index import ingest_paths
from kb.chroma_client import ChromaUnreachableError
from kb.store import KnowledgeBase, SearchFilter
from tests.kb.chroma_servers import TokenServer
from tests.kb.test_chroma_token import _small_corpus

pytestmark = pytest.mark.server

TIMEOUT_S = 2.0


def test_a_server_that_stops_answering_fails_the_search_after_the_timeout_then_serves_again(
        tmp_path, monkeypatch) -> None:
    server = TokenServer(tmp_path / "chroma-data", secrets.token_hex(16)).start()
    try:
        monkeypatch.chdir(tmp_path)
        settings = server.settings(tmp_path / "catalog", embedding_model="fake-embedding",
                                   chroma_timeout_s=TIMEOUT_S)
        kb = KnowledgeBase(settings, embeddings=DeterministicFakeEmbedding(size=32))
        assert ingest_paths([_small_corpus(tmp_path / "corpus")], settings, kb=kb, progress=False).added == 2
        vector, where = kb.embeddings.embed_query("protocole"), SearchFilter.for_role("official")
        before = kb.nearest(vector, 5, where)
        assert before
        server.process.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(ChromaUnreachableError, match=r"unreachable.*does not answer.*Timeout"):
                kb.nearest(vector, 5, where)
            waited = time.monotonic() - started
        finally:
            server.process.send_signal(signal.SIGCONT)
        assert TIMEOUT_S * 0.9 <= waited < TIMEOUT_S + 5, waited
        assert kb.nearest(vector, 5, where) == before  # the same handle, no restart
    finally:
        server.kill()
