"""Shared fixtures: settings on temporary stores, fake and real embeddings."""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import os
import tempfile
from collections.abc import Iterator
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
    from tools.e5_build import build_model

    return build_model(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="session")
def corpus_store(tmp_path_factory: pytest.TempPathFactory, real_model_path: Path) -> KnowledgeBase:
    """The sample corpus ingested once with the real model into a temporary store."""
    kb_, report = ingest_from(PROJECT_ROOT, [CORPUS], tmp_path_factory.mktemp("corpus-store") / "store")
    assert report.failed == 0, report.errors
    return kb_


def ingest_from(root: Path, paths: list[Path], store: Path):
    """Ingest `paths` with the real model into a new store at `store`, from the folder `root`
    (document ids are paths relative to the working directory); (knowledge base, report)."""
    from ingest.index import ingest_paths

    settings = Settings.from_env({}, store=store)
    kb_ = KnowledgeBase(settings)
    cwd = Path.cwd()
    os.chdir(root)
    try:
        report = ingest_paths(paths, settings, kb=kb_, progress=False)
    finally:
        os.chdir(cwd)
    return kb_, report


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


def stop(process, seconds: float = 30) -> None:
    """Terminate a server started by a test; kill it if it has not exited after `seconds`."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()


USERS = {"lecteur": "reader", "agent": "staff", "officiel": "official", "gestion": "admin"}
"""Accounts of `login_server`; each one's password is `PASSWORDS[name]`."""
PASSWORDS = {name: f"mot-de-passe-{name}-2026" for name in USERS}


def _serve_app(corpus_store: KnowledgeBase, root: Path, users: bool = False, **env_extra: str):
    """Start `python app.py` over a copy of the ingested corpus in `root`; yields its description."""
    import shutil
    import subprocess
    import sys
    from types import SimpleNamespace

    store = root / "store"
    shutil.copytree(corpus_store.root, store)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_STORE": str(store),
           "PASSERELLE_PORT": str(port), "PASSERELLE_CORPUS": str(root / "corpus"), **env_extra}
    if users:
        from bot.users import add_user
        from kb.settings import Settings

        for name, role in USERS.items():
            add_user(Settings.from_env({}, store=store), name, PASSWORDS[name], role)
    log_file = open(root / "app.log", "w")
    server = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=log_file,
                              stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, server)
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", store=store, corpus=root / "corpus",
                              log=root / "app.log", env=env)
    finally:
        stop(server)
        log_file.close()


@pytest.fixture(scope="session")
def app_server(corpus_store: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory):
    """The app without logins (the local reader), uploads allowed, over a copy of the corpus store.

    The copy keeps uploads and feedback made through the server away from the shared
    `corpus_store`; uploads land in a temporary corpus folder.
    """
    yield from _serve_app(corpus_store, tmp_path_factory.mktemp("app"), PASSERELLE_ALLOW_UPLOAD="1")


@pytest.fixture(scope="session")
def login_server(corpus_store: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory):
    """The app with a users file (`USERS`, `PASSWORDS`): it asks for a login."""
    yield from _serve_app(corpus_store, tmp_path_factory.mktemp("login-app"), users=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session (tests.postgres); its URL with the password."""
    from tests.postgres import postgres_cluster

    # Not under pytest's tmp folder: that one is root's alone, and the cluster runs as postgres.
    with postgres_cluster(Path(tempfile.mkdtemp(prefix="passerelle-pg-"))) as url:
        yield url
