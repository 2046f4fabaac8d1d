"""Several app servers, one knowledge base (issue 25 items 2 and 4), through real processes: a
throwaway PostgreSQL cluster (catalog, users, ratings), a `chroma run` server (vectors) and two
`python app.py` on two ports, each over an empty store folder of its own."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.conftest import PROJECT_ROOT, free_port, stop, wait_for_port
from tests.kb.conftest import drop_database, new_database

pytestmark = [pytest.mark.server, pytest.mark.real_model, pytest.mark.timeout(900, func_only=True)]

PASSWORD = "une phrase de passe pour deux serveurs"


def _document(folder: Path, number: int, code: str, access: str = "public") -> Path:
    """An illustrative note stating one project's code word; its sidecar sets the access level."""
    path = folder / f"projet-{number:02d}.md"
    path.write_text(
        f"# Fiche du projet pilote numéro {number}\n\n"
        f"Le projet pilote numéro {number} de la coopération numérique porte le nom de code {code}. "
        f"Il est suivi par la commission mixte chargée de la formation.\n", encoding="utf-8")
    path.with_name(path.name + ".meta.yaml").write_text(
        f"title: Fiche du projet pilote {number}\ndate: 2026-03-{number % 28 + 1:02d}\n"
        f"doc_type: report\naccess: {access}\nillustrative: true\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def _chroma(root: Path) -> Iterator[int]:
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen([str(chroma), "run", "--path", str(root / "chroma-data"), "--host", "127.0.0.1",
                                "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process, 60)
        yield port
    finally:
        stop(process)


@contextlib.contextmanager
def _app(root: Path, env: dict[str, str]) -> Iterator[SimpleNamespace]:
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    app_env = {**env, "PASSERELLE_STORE": str(root / "store"), "PASSERELLE_PORT": str(port),
               "PASSERELLE_CORPUS": str(root / "corpus")}
    with open(root / "app.log", "w") as log:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=app_env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, process, seconds=300)
            yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", env=app_env, log=root / "app.log")
        finally:
            stop(process)


@pytest.fixture(scope="module")
def shared(postgres_url: str, tmp_path_factory: pytest.TempPathFactory, real_model_path) -> Iterator[SimpleNamespace]:
    root = tmp_path_factory.mktemp("replicas")
    url = new_database(postgres_url)
    try:
        with _chroma(root) as chroma_port:
            env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_DATABASE_URL": url,
                   "PASSERELLE_CHROMA_HOST": "127.0.0.1", "PASSERELLE_CHROMA_PORT": str(chroma_port)}
            docs = root / "docs"
            docs.mkdir()
            _document(docs, 1, "BAOBAB-VERT")
            _ingest(env, root / "one" / "store", docs)  # the tables exist before the servers start
            _cli(env, root / "one" / "store", "-m", "bot", "users", "add", "agente", "--role", "staff",
                 "--password-stdin", input_text=f"{PASSWORD}\n")
            with _app(root / "one", env) as one, _app(root / "two", env) as two:
                yield SimpleNamespace(one=one, two=two, env=env, docs=docs, root=root)
    finally:
        drop_database(url)


def _cli(env: dict[str, str], store: Path, *args: str, input_text: str | None = None) -> str:
    done = subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, env={**env, "PASSERELLE_STORE": str(store)},
                          input=input_text, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _ingest(env: dict[str, str], store: Path, *paths: Path) -> str:
    return _cli(env, store, "-m", "ingest", *map(str, paths), "--quiet")


def stale_quotes(replies: list[str], versions: list[str]) -> tuple[list[str], list[str]]:
    """The quoted pieces about the projects in `replies`, and those that are not the text of any of
    `versions` (a document's texts over time): (quoted, stale)."""
    quoted = [piece.strip() for reply in replies for quote in re.findall(r"« (.+?) »", reply)
              for piece in quote.split("…") if "pilote" in piece and len(piece.strip()) > 20]
    return quoted, [piece for piece in quoted if not any(piece in " ".join(text.split()) for text in versions)]


def _ask(server: SimpleNamespace, question: str, auth: tuple[str, str] | None = ("agente", PASSWORD)) -> str:
    from gradio_client import Client

    return Client(server.url, auth=auth, verbose=False).predict(question, api_name="/chat")


def test_a_document_ingested_through_one_server_is_answered_by_the_other(shared) -> None:
    _document(shared.docs, 2, "KAPOK-BLEU")
    _document(shared.docs, 3, "FROMAGER-ROUGE", access="restricted")
    _ingest(shared.env, shared.root / "one" / "store", shared.docs)
    reply = _ask(shared.two, "Quel est le nom de code du projet pilote numéro 2 ?")
    assert "KAPOK-BLEU" in reply.split("**Sources**")[0], reply
    assert "Fiche du projet pilote 2" in reply, "cited with its title"
    for server in (shared.one, shared.two):  # the same role filter on both: staff never reads restricted text
        assert "FROMAGER-ROUGE" not in _ask(server, "Quel est le nom de code du projet pilote numéro 3 ?")


def test_one_user_logs_in_on_both_servers(shared) -> None:
    for server in (shared.one, shared.two):
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert client.post("/login", data={"username": "agente", "password": PASSWORD}).status_code == 200
            assert client.post("/login", data={"username": "agente", "password": "pas le bon mot de passe"}
                               ).status_code == 400


def test_answers_keep_flowing_while_an_ingestion_replaces_documents(shared) -> None:
    """Bounded version of item 4 (the 20-user, 60-second figure is `python -m bench.replicas`)."""
    batch = shared.root / "batch"
    batch.mkdir()
    for n in range(10, 20):
        _document(batch, n, f"ALPHA-{n}")
    _ingest(shared.env, shared.root / "two" / "store", batch)
    for n in range(10, 20):  # every document changes its code word: each is replaced
        _document(batch, n, f"BRAVO-{n}")

    versions = [p.read_text(encoding="utf-8") for p in sorted(batch.glob("*.md"))]
    versions += [text.replace("BRAVO", "ALPHA") for text in versions]
    versions += [p.read_text(encoding="utf-8") for p in shared.docs.glob("*.md")]
    errors: list[str] = []
    replies: list[str] = []
    stop_asking = threading.Event()

    def ask_until_done(offset: int) -> None:
        n = 10 + offset
        while not stop_asking.is_set():
            try:
                replies.append(_ask(shared.one if offset % 2 else shared.two,
                                    f"Quel est le nom de code du projet pilote numéro {n} ?"))
            except Exception as exc:  # noqa: BLE001 - any failure seen by a user counts
                errors.append(repr(exc)[:300])
            n = 10 + (n - 9) % 10

    askers = [threading.Thread(target=ask_until_done, args=(i,)) for i in range(4)]
    for asker in askers:
        asker.start()
    try:
        started = time.monotonic()
        _ingest(shared.env, shared.root / "one" / "store", batch)
        time.sleep(max(0.0, 3 - (time.monotonic() - started)))
    finally:
        stop_asking.set()
        for asker in askers:
            asker.join(timeout=120)
    assert errors == []
    assert replies, "the askers got answers"
    # Every quote shown is the text of a version of a document that was whole at some moment.
    quoted, stale = stale_quotes(replies, versions)
    assert quoted, "the answers quote the projects' notes"
    assert stale == []
    final = _ask(shared.two, "Quel est le nom de code du projet pilote numéro 14 ?")
    assert "BRAVO-14" in final.split("**Sources**")[0] and "ALPHA-14" not in final, final
