"""`python -m ingest` end to end: the real model, the real embedded Chroma, the sample corpus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, PROJECT_ROOT
from tests.ingest import samples

pytestmark = pytest.mark.real_model


def run_ingest(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **(env or {})}
    environment.pop("PASSERELLE_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args], cwd=cwd, env=environment,
        capture_output=True, text=True, timeout=900,
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, real_model_path: Path) -> Path:
    """A copy of the sample corpus, ingested once with the real model."""
    root = tmp_path_factory.mktemp("e2e")
    shutil.copytree(CORPUS, root / "corpus")
    result = run_ingest("corpus", "--store", "store", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    (root / "first.json").write_text(result.stdout)
    return root


def report(result: subprocess.CompletedProcess) -> dict:
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"--json must print exactly one object, got: {result.stdout!r}"
    return json.loads(lines[0])


def corpus_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".meta.yaml")]


def test_corpus_goes_in_whole(workspace: Path) -> None:
    first = json.loads((workspace / "first.json").read_text())
    assert set(first) == {"documents", "chunks", "errors", "ocr", "seconds"}
    assert first["ocr"] == [], "the corpus has no scanned page"
    assert set(first["documents"]) == {"added", "updated", "unchanged", "removed", "failed", "total"}
    assert set(first["chunks"]) == {"added", "removed", "total"}
    n = len(corpus_files(workspace / "corpus"))
    assert n >= 15
    assert first["documents"]["added"] == first["documents"]["total"] == n
    assert first["documents"]["failed"] == 0 and first["errors"] == []
    assert first["chunks"]["added"] == first["chunks"]["total"] >= n


def test_second_run_adds_nothing(workspace: Path) -> None:
    again = report(run_ingest("corpus", "--store", "store", "--json", cwd=workspace))
    first = json.loads((workspace / "first.json").read_text())
    assert again["documents"]["unchanged"] == first["documents"]["total"]
    assert again["documents"]["added"] == again["documents"]["updated"] == 0
    assert again["chunks"] == {"added": 0, "removed": 0, "total": first["chunks"]["total"]}


def test_store_is_searchable_in_both_languages(workspace: Path) -> None:
    from kb.settings import Settings
    from kb.store import KnowledgeBase, SearchFilter

    kb = KnowledgeBase(Settings.from_env({}, store=workspace / "store"))
    where = SearchFilter.for_role("official")
    hits = kb.nearest(kb.embeddings.embed_query("What is Azerbaijan's E-Government Development Index score?"), 3, where)
    texts = [row["text"] for row in kb.chunks_by_id([cid for cid, _ in hits]).values()]
    assert any("0.7607" in text or "0,7607" in text for text in texts)
    rows = kb.chunks_by_id([cid for cid, _ in kb.keyword_search("durée du protocole SENUM", 5, where)])
    assert any("protocole-senum" in r["path"] for r in rows.values())
    kb.close()


def test_modified_file_replaced_and_deleted_file_pruned(workspace: Path) -> None:
    target = workspace / "corpus" / "guides" / "faq-personnel.md"
    target.write_text(target.read_text(encoding="utf-8") + "\n\nLe mot de passe du wifi est Teranga2026.\n",
                      encoding="utf-8")
    changed = report(run_ingest("corpus", "--store", "store", "--json", cwd=workspace))
    assert changed["documents"]["updated"] == 1 and changed["chunks"]["added"] >= 1

    gone = workspace / "corpus" / "briefs" / "partnership-summary-en.md"
    gone.unlink()
    kept = report(run_ingest("corpus", "--store", "store", "--json", cwd=workspace))
    assert kept["documents"]["removed"] == 0
    pruned = report(run_ingest("corpus", "--store", "store", "--json", "--prune", cwd=workspace))
    assert pruned["documents"]["removed"] == 1 and pruned["chunks"]["removed"] >= 1

    from kb.settings import Settings
    from kb.store import KnowledgeBase, SearchFilter

    kb = KnowledgeBase(Settings.from_env({}, store=workspace / "store"))
    hits = kb.keyword_search("Teranga2026 wifi", 3, SearchFilter.for_role("admin"))
    assert hits and "faq-personnel" in kb.chunks_by_id([hits[0][0]])[hits[0][0]]["path"]
    assert not any("partnership-summary-en" in r.path for r in kb.documents().values())
    catalog = {r[0] for r in kb.catalog.db.execute("SELECT chunk_id FROM chunks")}
    assert kb.vector_ids() == catalog
    kb.close()


def test_bad_files_reported_rest_ingested_exit_2(workspace: Path, tmp_path: Path) -> None:
    folder = tmp_path / "arrivee"
    folder.mkdir()
    samples.write_pdf(folder, "protege.pdf", password="secret")
    (folder / "ancien.txt").write_bytes("Compte rendu rédigé à Dakar : décisions prises.".encode("cp1252"))
    (folder / "image.txt").write_bytes(bytes(range(256)) * 10)
    result = run_ingest(str(folder), "--store", "store", "--json", cwd=workspace)
    assert result.returncode == 2
    out = report(result)
    assert out["documents"]["added"] == 1 and out["documents"]["failed"] == 2
    errors = {Path(e["path"]).name: e["error"] for e in out["errors"]}
    assert "encrypted PDF" in errors["protege.pdf"] and "binary content" in errors["image.txt"]
    assert "Traceback" not in result.stderr


def test_other_model_refused_with_reset_hint(workspace: Path) -> None:
    result = run_ingest("corpus", "--store", "store", cwd=workspace,
                        env={"PASSERELLE_EMBEDDING_MODEL": "intfloat/multilingual-e5-base"})
    assert result.returncode == 1
    assert "--reset" in result.stderr and "Traceback" not in result.stderr


def test_help_explains_every_option(workspace: Path) -> None:
    result = run_ingest("--help", cwd=workspace)
    assert result.returncode == 0
    for option in ("--store", "--prune", "--reset", "--dry-run", "--json", "PASSERELLE_STORE"):
        assert option in result.stdout


def test_missing_path_is_a_clear_error(workspace: Path) -> None:
    result = run_ingest("nulle-part", "--store", "store", cwd=workspace)
    assert result.returncode == 1 and "nulle-part: no such file or folder" in result.stderr
