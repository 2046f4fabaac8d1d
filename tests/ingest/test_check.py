"""`python -m ingest --check`: the catalog and Chroma compared, each kind of difference reported."""

from __future__ import annotations

import json

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.__main__ import main
from ingest.index import ingest_paths
from kb.settings import Settings
from kb.store import KnowledgeBase


@pytest.fixture
def ingested(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PASSERELLE_EMBEDDING_MODEL", "fake-embedding")
    monkeypatch.setenv("PASSERELLE_STORE", str(tmp_path / "store"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(3):
        (corpus / f"doc{n}.md").write_text(
            f"---\ntitle: Document {n}\naccess: internal\n---\n# Partie {n}\n\n"
            + " ".join(f"Phrase {k} du document {n} sur la coopération." for k in range(60)) + "\n",
            encoding="utf-8")
    settings = Settings.from_env()
    kb = KnowledgeBase(settings, embeddings=DeterministicFakeEmbedding(size=32))
    report = ingest_paths([corpus], settings, kb=kb, progress=False)
    assert report.failed == 0 and report.chunks_total >= 6
    return kb


def test_a_consistent_store_passes(ingested, capsys) -> None:
    assert main(["--check"]) == 0
    out = capsys.readouterr().out
    assert f"Catalog: {ingested.chunk_count()} passages; Chroma: {ingested.chunk_count()} vectors" in out
    assert "agree" in out


def test_each_difference_is_named_with_its_ids_and_exit_3(ingested, capsys) -> None:
    from kb.partitions import partition_name

    collection = ingested._partition(partition_name("passerelle", "internal", "fr"))  # where the vectors live
    some = sorted(ingested.vector_ids())
    gone, altered = some[0], some[1]
    kept = collection.get(ids=[some[2]], include=["embeddings", "documents", "metadatas"])
    collection.delete(ids=[gone])
    meta = collection.get(ids=[altered], include=["metadatas"])["metadatas"][0]
    collection.update(ids=[altered], metadatas=[{**meta, "access": "public"}])
    collection.add(ids=["orphan-1"], embeddings=[[0.0] * 32], documents=["texte"], metadatas=[{"doc_id": "x"}])
    other = ingested.chroma.get_or_create_collection("passerelle", embedding_function=None)
    other.add(ids=kept["ids"], embeddings=kept["embeddings"], documents=kept["documents"], metadatas=kept["metadatas"])

    assert main(["--check"]) == 3
    out = capsys.readouterr().out
    assert "The two stores differ" in out
    assert f"1 passages without a vector: {gone}" in out
    assert "1 vectors without a passage in the catalog (orphans): orphan-1" in out
    assert f"1 vectors whose text, document or access level differ from the catalog: {altered}" in out
    assert f"1 ids stored in more than one Chroma collection: {some[2]}" in out

    assert main(["--check", "--json"]) == 3
    report = json.loads(capsys.readouterr().out)
    assert report["consistent"] is False and report["missing_vectors"] == [gone]


def test_check_without_a_store_or_with_paths_is_a_clear_error(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PASSERELLE_STORE", str(tmp_path / "none"))
    assert main(["--check"]) == 1
    assert "no knowledge base in" in capsys.readouterr().err
    assert main(["--check", "corpus"]) == 1
    assert "--check takes no PATH" in capsys.readouterr().err


def test_a_passage_stored_under_two_ids_is_a_duplicate() -> None:
    from ingest.check import compare

    row = {"doc_id": "d.md", "start": 0, "end": 10, "text": "Texte", "access": "public"}
    record = [{"document": "Texte", "metadata": {"doc_id": "d.md", "access": "public"}}]
    report = compare({"a": row, "b": dict(row)}, {"a": record, "b": record})
    assert report.duplicate_passages == ["a", "b"] and not report.consistent
    assert compare({"a": row}, {"a": record}).consistent
