"""The Chroma server killed under an answer and under an ingestion (issue 25, item 5), against
a real token-authenticated server killed with SIGKILL and started again on the same folder."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb.chroma_client import ChromaUnreachableError
from kb.settings import Settings
from tests.conftest import CORPUS, PROJECT_ROOT, free_port, stop, wait_for_port
from tests.kb.chroma_servers import TokenServer
from ui.i18n import t

pytestmark = pytest.mark.server

QUESTION = "What is Azerbaijan's EGDI score?"


def _copy_corpus(target: Path) -> Path:
    for name in ("briefs/azerbaijan-egovernment-brief.html", "strategie/new-deal-technologique.md"):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / name, target / name)
        sidecar = CORPUS / (name + ".meta.yaml")
        if sidecar.exists():
            shutil.copy(sidecar, target / (name + ".meta.yaml"))
    return target


def _chat_reply(settings: Settings, lang: str) -> str:
    from bot.answering import knowledge_base
    from ui.chat import respond

    *_, (chat, _turns, _cards, _box) = respond(settings, knowledge_base(settings), "reader", QUESTION, [], [], {}, lang)
    return chat[-1]["content"]


@pytest.mark.real_model
def test_an_answer_while_chroma_is_down_says_so_and_answers_resume_when_it_is_back(
        tmp_path: Path, monkeypatch, real_model_path) -> None:
    from bot.answering import answer
    from ingest.index import ingest_paths
    from kb.store import KnowledgeBase

    server = TokenServer(tmp_path / "chroma-data", secrets.token_hex(16)).start()
    app = None
    try:
        monkeypatch.chdir(tmp_path)
        corpus = _copy_corpus(tmp_path / "corpus")
        settings = server.settings(tmp_path / "catalog")
        assert ingest_paths([corpus], settings, kb=KnowledgeBase(settings), progress=False).failed == 0
        before = answer(QUESTION, settings=settings)
        assert before.sources and "0.7607" in _chat_reply(settings, "en")

        port = free_port()
        env = {**os.environ, **server.env(), "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_STORE": str(tmp_path / "catalog"),
               "PASSERELLE_PORT": str(port)}
        log = open(tmp_path / "app.log", "w")
        app = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "app.py")], cwd=tmp_path, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
        wait_for_port(port, app)
        from gradio_client import Client
        from gradio_client.exceptions import AppError

        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        assert "0.7607" in client.predict(QUESTION, api_name="/chat")

        server.kill()
        with pytest.raises(ChromaUnreachableError, match="knowledge base is unreachable"):
            answer(QUESTION, settings=settings)
        assert _chat_reply(settings, "fr") == f"⚠️ {t('kb_unreachable', 'fr')}"
        assert _chat_reply(settings, "en") == f"⚠️ {t('kb_unreachable', 'en')}"
        # The API answers in the question's language.
        with pytest.raises(AppError, match="^The knowledge base is unreachable"):
            client.predict(QUESTION, api_name="/chat")
        with pytest.raises(AppError, match="^La base de connaissances est injoignable"):
            client.predict("Quel est le score EGDI de l'Azerbaïdjan ?", api_name="/chat")

        server.start()
        after = answer(QUESTION, settings=settings)
        assert [(s.path, s.start, s.end) for s in after.sources] == [(s.path, s.start, s.end) for s in before.sources]
        assert "0.7607" in _chat_reply(settings, "en")
        assert "0.7607" in client.predict(QUESTION, api_name="/chat"), "the app must reconnect by itself"
        assert app.poll() is None
        logged = (tmp_path / "app.log").read_text()
        assert "Traceback" not in logged, logged[-4000:]
    finally:
        if app is not None:
            stop(app)
        server.kill()


def _many_documents(folder: Path, count: int) -> Path:
    folder.mkdir()
    for n in range(count):
        body = " ".join(f"Le point {k} du compte rendu {n} porte sur la plateforme numérique." for k in range(40))
        (folder / f"cr-{n:03d}.md").write_text(f"---\ntitle: Compte rendu {n}\naccess: internal\n---\n# Séance\n\n{body}\n",
                                               encoding="utf-8")
    return folder


def _ingest(args: list[str], env: dict[str, str], cwd: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.ingest.fake_model_runner", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def test_an_ingestion_stopped_by_chroma_dying_says_so_and_a_rerun_completes_it(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    server = TokenServer(tmp_path / "chroma-data", secrets.token_hex(16)).start()
    try:
        corpus = _many_documents(tmp_path / "corpus", 300)
        env = {**os.environ, **server.env(), "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_EMBEDDING_MODEL": "fake-embedding",
               "PASSERELLE_STORE": str(tmp_path / "catalog"), "PASSERELLE_EMBEDDING_BATCH_SIZE": "8"}
        env.pop("PASSERELLE_DATABASE_URL", None)
        watcher = chromadb.HttpClient(host="127.0.0.1", port=server.port, settings=ChromaSettings(
            anonymized_telemetry=False, chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
            chroma_client_auth_credentials=server.token))
        run = _ingest(["corpus", "--quiet"], env, tmp_path)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and run.poll() is None:
            collections = watcher.list_collections()
            if collections and collections[0].count() > 0:
                break
            time.sleep(0.05)
        assert run.poll() is None, "the ingestion ended before Chroma could be killed: give it more documents"
        server.kill()
        out, err = run.communicate(timeout=120)
        assert run.returncode == 1, err
        assert "the knowledge base is unreachable" in err and "run the same command again" in err
        assert "Traceback" not in err

        server.start()
        rerun = _ingest(["corpus", "--json"], env, tmp_path)
        out, err = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, err
        report = json.loads(out)
        assert report["documents"]["total"] == 300 and report["documents"]["failed"] == 0
        assert report["documents"]["added"] + report["documents"]["unchanged"] + report["documents"]["updated"] == 300

        check = subprocess.run([sys.executable, "-m", "ingest", "--check", "--json"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=300)
        assert check.returncode == 0, check.stdout + check.stderr
        result = json.loads(check.stdout)
        assert result["consistent"] and result["passages"] == result["vectors"] == report["chunks"]["total"] > 300
    finally:
        server.kill()


def test_check_against_a_dead_server_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_STORE": str(tmp_path / "catalog"),
           "PASSERELLE_CHROMA_HOST": "127.0.0.1", "PASSERELLE_CHROMA_PORT": str(free_port()),
           "PASSERELLE_EMBEDDING_MODEL": "fake-embedding"}
    env.pop("PASSERELLE_DATABASE_URL", None)
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "catalog.sqlite3").touch()
    check = subprocess.run([sys.executable, "-m", "ingest", "--check"], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 1 and "the knowledge base is unreachable" in check.stderr
    assert "Traceback" not in check.stderr
