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
