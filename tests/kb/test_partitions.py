"""Vector partitions: one Chroma collection per access level and language, queried without a filter.

A role must never get a passage above its level, whichever way the vectors are laid out: checked
with fake collections (which partitions are queried, with what `where`), through real embedded
Chroma, across a change of a document's access level, and on a store built before partitions
(one collection for everything) before and after its migration.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.index import ingest_paths
from kb import partitions as partitions_module
from kb.schema import ACCESS_LEVELS, ROLES, access_for_role
from kb.partitions import LAYOUT_META, PARTITIONS_META, partition_name
from kb.store import KnowledgeBase, SearchFilter
from tests.ingest import samples

LANGUAGES = ("fr", "en")


class RecordingCollection:
    """Stands in for a Chroma partition: records each query, answers with its own ids."""

    def __init__(self, name: str, calls: list) -> None:
        self.name, self.calls = name, calls

    def query(self, query_embeddings, n_results, where, include):
        self.calls.append((self.name, where))
        ids = [f"{self.name}/{n}" for n in range(n_results)]
        return {"ids": [ids], "distances": [[0.1 + 0.01 * n for n in range(n_results)]]}


@pytest.fixture
def recorded(fake_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch):
    """A store whose six partitions are fakes; yields (kb, calls)."""
    import json

    names = {partition_name("passerelle", a, lang): [a, lang] for a in ACCESS_LEVELS for lang in LANGUAGES}
    fake_kb.set_meta(PARTITIONS_META, json.dumps(names))
    fake_kb.set_meta(LAYOUT_META, "partitioned:passerelle")
    calls: list = []
    monkeypatch.setattr(KnowledgeBase, "_partition", lambda self, name, create=False: RecordingCollection(name, calls))
    return fake_kb, calls


@pytest.mark.parametrize("role", ROLES)
def test_a_role_queries_only_the_partitions_it_may_read_with_no_filter(recorded, role: str) -> None:
    kb, calls = recorded
    hits = kb.nearest([0.0] * 32, 5, SearchFilter.for_role(role))
    allowed = {partition_name("passerelle", a, lang) for a in access_for_role(role) for lang in LANGUAGES}
    assert {name for name, _ in calls} == allowed and len(calls) == len(allowed)
    assert all(where is None for _, where in calls), "a partition query must not filter on access"
    assert len(hits) == 5 and {cid.split("/")[0] for cid, _ in hits} <= allowed


def test_language_and_user_filters_reach_the_partitions(recorded) -> None:
    kb, calls = recorded
    kb.nearest([0.0] * 32, 3, SearchFilter.for_role("staff", language="en", doc_type="report"))
    assert {name for name, _ in calls} == {"passerelle--public--en", "passerelle--internal--en"}
    assert all(where == {"doc_type": {"$eq": "report"}} for _, where in calls)


def test_partition_names_are_valid_chroma_names_for_any_value() -> None:
    assert partition_name("passerelle", "public", "fr") == "passerelle--public--fr"
    odd = partition_name("passerelle", "Très secret", "pt-BR")
    assert odd.startswith("passerelle--x") and odd.replace("-", "").isalnum()
    assert odd != partition_name("passerelle", "Très secrète", "pt-BR")


# ----- through real embedded Chroma ---------------------------------------------------------
def _write_corpus(folder: Path, access_of_secret: str = "restricted") -> None:
    docs = {"public.md": ("public", "fr"), "public-en.md": ("public", "en"), "interne.md": ("internal", "fr"),
            "secret.md": (access_of_secret, "fr"), "secret-en.md": ("restricted", "en")}
    for name, (access, lang) in docs.items():
        body = "\n\n".join(f"Paragraphe {n} du document {name} sur la cybersécurité et la formation." for n in range(40))
        samples.write_md(folder, name, f"---\ntitle: {name}\nlanguage: {lang}\naccess: {access}\n---\n# {name}\n\n{body}\n")


def _check_levels(kb: KnowledgeBase) -> int:
    """Every hit of every role is at a level it may read; returns the hits seen."""
    rng = np.random.default_rng(3)
    access = {cid: row["access"] for cid, row in kb.chunks_by_id(sorted(kb.vector_ids())).items()}
    seen = 0
    for role in ROLES:
        for _ in range(5):
            hits = kb.nearest(rng.normal(size=32), 50, SearchFilter.for_role(role))
            assert {access[cid] for cid, _ in hits} <= set(access_for_role(role)), role
            seen += len(hits)
    return seen


def test_roles_never_get_a_passage_above_their_level_through_chroma(tmp_path: Path, fake_kb: KnowledgeBase,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write_corpus(tmp_path / "c")
    ingest_paths([tmp_path / "c"], fake_kb.settings, kb=fake_kb, progress=False)
    assert fake_kb.partitioned
    assert set(fake_kb.partitions().values()) == {("public", "fr"), ("public", "en"), ("internal", "fr"),
                                                  ("restricted", "fr"), ("restricted", "en")}
    for name, (access, language) in fake_kb.partitions().items():  # each partition holds its own level only
        got = fake_kb._partition(name).get(include=["metadatas"])
        assert got["ids"] and {(m["access"], m["language"]) for m in got["metadatas"]} == {(access, language)}
    assert _check_levels(fake_kb) > 0

    # The restricted document becomes public: its vectors leave the restricted partition.
    _write_corpus(tmp_path / "c", access_of_secret="public")
    ingest_paths([tmp_path / "c"], fake_kb.settings, kb=fake_kb, progress=False)
    secret = fake_kb._partition(partition_name("passerelle", "restricted", "fr")).get(include=["metadatas"])
    assert not secret["ids"]
    assert fake_kb.vector_ids() == set(fake_kb.chunks_by_id(sorted(fake_kb.vector_ids())))
    reader_hits = fake_kb.nearest(fake_kb.embeddings.embed_query("secret.md"), 200, SearchFilter.for_role("reader"))
    assert any("secret.md" in row["path"] for row in fake_kb.chunks_by_id([c for c, _ in reader_hits]).values())
    assert _check_levels(fake_kb) > 0


# ----- a store built before partitions ------------------------------------------------------
def _make_single_collection_store(kb: KnowledgeBase) -> set[str]:
    """Turn a store into the layout of earlier versions: every vector in the named collection,
    no partition listed in the catalog. Returns the vector ids."""
    records = {}
    for name in kb.partitions():
        got = kb._partition(name).get(include=["embeddings", "documents", "metadatas"])
        records.update(zip(got["ids"], zip(got["embeddings"], got["documents"], got["metadatas"])))
        kb._chroma_client().delete_collection(name)
    ids = sorted(records)
    kb.collection.upsert(ids=ids, embeddings=[records[i][0] for i in ids], documents=[records[i][1] for i in ids],
                         metadatas=[records[i][2] for i in ids])
    with kb.catalog.db:
        kb.catalog.db.execute("DELETE FROM meta WHERE key IN (?, ?)", (PARTITIONS_META, LAYOUT_META))
    kb.close()
    return set(ids)


def _hits(kb: KnowledgeBase, role: str) -> list[str]:
    return [cid for cid, _ in kb.nearest(kb.embeddings.embed_query("cybersécurité formation"), 30, SearchFilter.for_role(role))]


def test_a_single_collection_store_is_searched_then_migrated_by_the_next_ingestion(
        tmp_path: Path, fake_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write_corpus(tmp_path / "c")
    ingest_paths([tmp_path / "c"], fake_kb.settings, kb=fake_kb, progress=False)
    expected = {role: _hits(fake_kb, role) for role in ROLES}
    ids = _make_single_collection_store(fake_kb)

    old = KnowledgeBase(fake_kb.settings, embeddings=DeterministicFakeEmbedding(size=32))
    assert not old.partitioned and old.partitions() == {} and old.collection.count() == len(ids) >= 6
    assert {role: _hits(old, role) for role in ROLES} == expected  # searched as before, filtered
    assert _check_levels(old) > 0

    # An ingestion interrupted in the middle of the migration leaves both layouts searchable.
    monkeypatch.setattr(partitions_module, "MIGRATION_BATCH", len(ids) // 3)
    real_delete = type(old.collection).delete
    deletes = []

    def failing_delete(self, *args, **kwargs):
        deletes.append(1)
        if len(deletes) == 2:
            raise RuntimeError("killed during the migration")
        return real_delete(self, *args, **kwargs)

    monkeypatch.setattr(type(old.collection), "delete", failing_delete)
    with pytest.raises(RuntimeError, match="killed"):
        ingest_paths([tmp_path / "c"], old.settings, kb=old, progress=False)
    monkeypatch.setattr(type(old.collection), "delete", real_delete)
    assert not old.partitioned and old.partitions() and old.vector_ids() == ids
    assert {role: _hits(old, role) for role in ROLES} == expected
    assert _check_levels(old) > 0

    report = ingest_paths([tmp_path / "c"], old.settings, kb=old, progress=False)
    assert report.failed == 0 and report.unchanged == 5
    assert old.partitioned and old.collection.count() == 0
    assert old.vector_ids() == ids
    assert {role: _hits(old, role) for role in ROLES} == expected
    assert _check_levels(old) > 0


def test_the_other_language_search_of_an_answer_reuses_the_first_one(recorded) -> None:
    kb, calls = recorded
    vector = [0.5] * 32
    first, english = kb.nearest_each(vector, [(40, SearchFilter.for_role("official")),
                                              (20, SearchFilter.for_role("official", language="en"))])
    assert len(calls) == 6, "each partition is queried once, as deep as the deepest search"
    assert len(first) == 40 and len(english) == 20 and all("--en/" in cid for cid, _ in english)
    kb.nearest(vector, 20, SearchFilter.for_role("official", language="en"))
    assert len(calls) == 9, "a later search queries again (the store may have changed)"


def test_a_move_interrupted_between_the_two_stores_leaves_no_vector_in_the_wrong_partition(
        tmp_path: Path, fake_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write_corpus(tmp_path / "c")
    ingest_paths([tmp_path / "c"], fake_kb.settings, kb=fake_kb, progress=False)
    _write_corpus(tmp_path / "c", access_of_secret="public")  # restricted -> public, same text

    def killed(*args, **kwargs):
        raise RuntimeError("killed before the catalog commit")

    with monkeypatch.context() as patch:
        patch.setattr(type(fake_kb.catalog), "write_document_rows", killed)
        with pytest.raises(RuntimeError, match="killed"):
            ingest_paths([tmp_path / "c"], fake_kb.settings, kb=fake_kb, progress=False)
    public = fake_kb._partition(partition_name("passerelle", "public", "fr"))
    assert any(m["access"] == "public" and "secret" in m["path"] for m in public.get(include=["metadatas"])["metadatas"])

    after = KnowledgeBase(fake_kb.settings, embeddings=fake_kb.embeddings)
    with after.ingest_lock():
        after.recover()  # the catalog still says restricted: the public copies go
    catalog = {cid: (row["access"], row["language"]) for cid, row in after.chunks_by_id(sorted(after.vector_ids())).items()}
    for name, pair in after.partitions().items():
        held = after._partition(name).get(include=[])["ids"]
        assert all(catalog[cid] == pair for cid in held), name
    assert _check_levels(after) > 0
    ingest_paths([tmp_path / "c"], after.settings, kb=after, progress=False)
    restricted = after._partition(partition_name("passerelle", "restricted", "fr")).get(include=[])["ids"]
    assert not restricted
    assert after.vector_ids() == set(after.chunks_by_id(sorted(after.vector_ids())))
