"""Shared fixtures: settings on temporary stores, fake and real embeddings."""

from __future__ import annotations

import kb  # noqa: F401  (offline environment before any heavy import)

import os
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from kb.settings import DEFAULT_MODEL_DIR, Settings
from kb.store import KnowledgeBase

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture
def fake_settings(tmp_path: Path) -> Settings:
    """Settings on an empty temporary store, labelled with a fake model."""
    return Settings.from_env({}, store=tmp_path / "store", embedding_model="fake-embedding")


@pytest.fixture
def fake_kb(fake_settings: Settings) -> KnowledgeBase:
    """A knowledge base whose embeddings are deterministic fakes (fast, no model)."""
    kb_ = KnowledgeBase(fake_settings, embeddings=DeterministicFakeEmbedding(size=32))
    yield kb_
    kb_.close()


@pytest.fixture(scope="session")
def real_model_path() -> Path:
    """The rebuilt multilingual-e5-small folder (built by `make install`, or here if missing)."""
    from kb.e5_build import build_model

    return build_model(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="session")
def corpus_store(tmp_path_factory: pytest.TempPathFactory, real_model_path: Path) -> KnowledgeBase:
    """The sample corpus ingested once with the real model into a temporary store."""
    from ingest.index import ingest_paths

    settings = Settings.from_env({}, store=tmp_path_factory.mktemp("corpus-store") / "store")
    kb_ = KnowledgeBase(settings)
    cwd = Path.cwd()
    os.chdir(PROJECT_ROOT)  # document ids are paths relative to the working directory
    try:
        report = ingest_paths([CORPUS], settings, kb=kb_, progress=False)
    finally:
        os.chdir(cwd)
    assert report.failed == 0, report.errors
    return kb_


def free_port() -> int:
    """A TCP port nobody listens on at the moment, on 127.0.0.1."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process, seconds: float = 120) -> None:
    """Wait until something listens on 127.0.0.1:`port`; fail if `process` dies or time runs out."""
    import socket
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"the server exited with code {process.returncode} before listening")
            time.sleep(0.3)
    process.kill()
    pytest.fail(f"nothing listened on port {port} within {seconds:.0f} s")
