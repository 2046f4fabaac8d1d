"""`python -m ingest backup DIR` / `restore DIR`: a restored store answers the same questions with
the same citations, embedded and on a Chroma server; PostgreSQL through pg_dump/pg_restore."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.__main__ import main
from kb.settings import Settings
from tests.conftest import CORPUS, PROJECT_ROOT

QUESTIONS = (
    "What is Azerbaijan's EGDI score?",
    "Quels sont les axes du New Deal technologique ?",
    "Quelle est la durée du protocole d'accord avec la SENUM ?",
)
DOCUMENTS = ("briefs/azerbaijan-egovernment-brief.html", "strategie/new-deal-technologique.md",
             "protocoles/protocole-senum.pdf")


def _corpus(root: Path) -> Path:
    for name in DOCUMENTS:
        source = CORPUS / name
        target = root / "corpus" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        sidecar = source.with_name(source.name + ".meta.yaml")
        if sidecar.exists():
            shutil.copy(sidecar, target.with_name(target.name + ".meta.yaml"))
    return root / "corpus"


def _citations(settings: Settings) -> list[list[tuple]]:
    from bot.answering import answer
    from kb.store import KnowledgeBase

    kb = KnowledgeBase(settings)
    try:
        return [[(s.path, s.start, s.end, s.quote) for s in answer(q, role="official", kb=kb).sources]
                for q in QUESTIONS]
    finally:
        kb.close()


def _ingest(settings: Settings, root: Path) -> None:
    from ingest.index import ingest_paths
    from kb.store import KnowledgeBase

    report = ingest_paths([_corpus(root)], settings, kb=KnowledgeBase(settings), progress=False)
    assert report.failed == 0 and report.added == len(DOCUMENTS)


@pytest.mark.real_model
def test_embedded_backup_restores_the_same_answers_users_and_ratings(tmp_path, monkeypatch, capsys,
                                                                     real_model_path) -> None:
    from bot.feedback import record_feedback
    from bot.users import add_user, list_users

    monkeypatch.chdir(tmp_path)
    for name in ("PASSERELLE_CHROMA_HOST", "PASSERELLE_DATABASE_URL", "PASSERELLE_STORE"):
        monkeypatch.delenv(name, raising=False)
    original = Settings.from_env({}, store=tmp_path / "store")
    _ingest(original, tmp_path)
    add_user(original, "awa.diop", "une phrase de passe assez longue", "official")
    record_feedback(original, question=QUESTIONS[0], answer={"answer": "…"}, role="official", rating="up")
    before = _citations(original)
    assert before[0], "the EGDI question must cite the brief"

    assert main(["backup", str(tmp_path / "backup"), "--store", str(original.store)]) == 0
    assert "Vectors:" in capsys.readouterr().out
    restored = Settings.from_env({}, store=tmp_path / "restored")
    assert main(["restore", str(tmp_path / "backup"), "--store", str(restored.store)]) == 0
    assert _citations(restored) == before
    assert list_users(restored) == list_users(original)
    assert (restored.store / "feedback.sqlite3").read_bytes() != b""
    assert main(["--check", "--store", str(restored.store)]) == 0

    capsys.readouterr()
    assert main(["restore", str(tmp_path / "backup"), "--store", str(restored.store)]) == 1
    assert "the target is not empty (catalog.sqlite3" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "backup"), "--store", str(restored.store), "--force"]) == 0
    assert _citations(restored) == before


def test_backup_and_restore_refuse_bad_folders(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("PASSERELLE_CHROMA_HOST", raising=False)
    monkeypatch.delenv("PASSERELLE_DATABASE_URL", raising=False)
    assert main(["backup", str(tmp_path / "b"), "--store", str(tmp_path / "nothing")]) == 1
    assert "no knowledge base in" in capsys.readouterr().err
    (tmp_path / "half").mkdir()
    assert main(["restore", str(tmp_path / "half"), "--store", str(tmp_path / "s")]) == 1
    assert "holds no finished backup (manifest.json is missing)" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "catalog.sqlite3").touch()
    assert main(["backup", str(tmp_path / "full"), "--store", str(tmp_path / "store")]) == 1
    assert "is not empty: give a new folder" in capsys.readouterr().err


@pytest.mark.server
@pytest.mark.real_model
def test_server_backup_exports_vectors_and_restores_them_into_an_empty_server(tmp_path, monkeypatch, capsys,
                                                                             real_model_path) -> None:
    from tests.kb.chroma_servers import TokenServer

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PASSERELLE_DATABASE_URL", raising=False)
    first = TokenServer(tmp_path / "chroma-1", secrets.token_hex(16)).start()
    second = TokenServer(tmp_path / "chroma-2", secrets.token_hex(16)).start()
    try:
        original = first.settings(tmp_path / "catalog-1")
        _ingest(original, tmp_path)
        before = _citations(original)
        for name, value in first.env().items():
            monkeypatch.setenv(name, value)
        assert main(["backup", str(tmp_path / "backup"), "--store", str(original.store)]) == 0
        manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
        assert manifest["modes"] == {"catalog": "sqlite", "vectors": "server"}
        assert sum(c["count"] for c in manifest["collections"]) > 0 and (tmp_path / "backup" / "vectors").is_dir()

        for name, value in second.env().items():
            monkeypatch.setenv(name, value)
        restored = second.settings(tmp_path / "catalog-2")
        assert main(["restore", str(tmp_path / "backup"), "--store", str(restored.store)]) == 0
        assert _citations(restored) == before
        assert main(["--check", "--store", str(restored.store)]) == 0
        capsys.readouterr()
        shutil.rmtree(restored.store)  # an empty catalog folder, but the server still holds vectors
        assert main(["restore", str(tmp_path / "backup"), "--store", str(restored.store)]) == 1
        assert "vectors in the Chroma collection 'passerelle--" in capsys.readouterr().err

        monkeypatch.delenv("PASSERELLE_CHROMA_HOST")
        assert main(["restore", str(tmp_path / "backup"), "--store", str(tmp_path / "elsewhere")]) == 1
        assert "taken from server mode but this store uses embedded mode" in capsys.readouterr().err
    finally:
        first.kill()
        second.kill()


@pytest.mark.server
def test_postgresql_catalog_is_dumped_and_restored_by_url(postgres_url: str, tmp_path) -> None:
    import psycopg

    admin = postgres_url.rsplit("/", 1)[0] + "/postgres"
    suffix = secrets.token_hex(4)
    with psycopg.connect(admin, autocommit=True) as db:
        for name in (f"src_{suffix}", f"dst_{suffix}"):
            db.execute(f"CREATE DATABASE {name}")
    source, target = (postgres_url.rsplit("/", 1)[0] + f"/{n}_{suffix}" for n in ("src", "dst"))
    with psycopg.connect(source) as db:
        db.execute("CREATE TABLE documents (doc_id text PRIMARY KEY, title text)")
        db.execute("INSERT INTO documents VALUES ('a.md', 'Protocole'), ('b.md', 'Feuille de route')")
    env = {k: v for k, v in os.environ.items() if k != "PASSERELLE_CHROMA_HOST"}
    env.update(PYTHONPATH=str(PROJECT_ROOT), PASSERELLE_DATABASE_URL=source, PASSERELLE_STORE=str(tmp_path / "s1"))

    def run(*args, url):
        done = subprocess.run([sys.executable, "-m", "ingest", *args], cwd=tmp_path, capture_output=True, text=True,
                              env={**env, "PASSERELLE_DATABASE_URL": url, "PASSERELLE_STORE": str(tmp_path / "s2")},
                              timeout=120)
        return done.returncode, done.stdout + done.stderr

    code, out = run("backup", str(tmp_path / "backup"), url=source)
    assert code == 0, out
    assert (tmp_path / "backup" / "catalog.pgdump").stat().st_size > 0
    code, out = run("restore", str(tmp_path / "backup"), url=target)
    assert code == 0, out
    with psycopg.connect(target) as db:
        assert db.execute("SELECT doc_id, title FROM documents ORDER BY 1").fetchall() == [
            ("a.md", "Protocole"), ("b.md", "Feuille de route")]
        db.execute("DELETE FROM documents WHERE doc_id = 'a.md'")
    code, out = run("restore", str(tmp_path / "backup"), url=target)
    assert code == 1 and "the target is not empty" in out and "public.documents" in out
    code, out = run("restore", str(tmp_path / "backup"), "--force", url=target)
    assert code == 0, out
    with psycopg.connect(target) as db:
        assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 2
