"""The PostgreSQL catalog through a real PostgreSQL cluster: ingestion, keyword search in French
and English, the embedding-model check, the schema version, the ingest lock, the two-store
write protocol and the copy of a SQLite catalog (`python -m ingest.migrate_catalog`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import psycopg
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.index import ingest_paths
from kb.settings import Settings
from kb.store import KnowledgeBase, SearchFilter, StoreBusyError, StoreError, StoreMismatchError
from tests.conftest import CORPUS, PROJECT_ROOT
from tests.ingest import samples

pytestmark = pytest.mark.server

DOCS = {
    "cyber.md": ("fr", "public", "Cybersécurité des établissements publics",
                 "Les établissements publics sénégalais renforcent leur cybersécurité. "
                 "Des formations à la sécurité numérique sont prévues pour les agents de l'État."),
    "training.md": ("en", "public", "Civil servants training",
                    "The trainings of Azerbaijani civil servants cover cloud computing and data protection. "
                    "Each session is certified by the ministry."),
    "secret.md": ("fr", "restricted", "Budget réservé",
                  "Le budget réservé à l'incubateur de Bakou atteint deux millions d'euros."),
}


def kb_on(settings: Settings, database_url: str, model: str = "fake-embedding") -> KnowledgeBase:
    """A knowledge base with fake embeddings whose catalog is the database at `database_url`."""
    pg = dataclasses.replace(settings, database_url=database_url, embedding_model=model)
    return KnowledgeBase(pg, embeddings=DeterministicFakeEmbedding(size=32))


def write_docs(folder: Path) -> Path:
    for name, (language, access, title, text) in DOCS.items():
        samples.write_md(folder, name, f"---\ntitle: {title}\nlanguage: {language}\naccess: {access}\n"
                                       f"date: 2026-03-01\n---\n# {title}\n\n{text}\n")
    return folder


def consistent(kb: KnowledgeBase) -> set[str]:
    """Chunk ids, after checking both stores hold the same and nothing is pending."""
    catalog = set(kb.chunk_documents())
    assert catalog == kb.vector_ids()
    assert kb.catalog.pending() == []
    return catalog


@pytest.fixture
def pg_kb(fake_settings: Settings, database_url: str) -> KnowledgeBase:
    kb = kb_on(fake_settings, database_url)
    yield kb
    kb.close()


@pytest.fixture
def filled(pg_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KnowledgeBase:
    monkeypatch.chdir(tmp_path)
    report = ingest_paths([write_docs(tmp_path / "docs")], pg_kb.settings, kb=pg_kb, progress=False)
    assert report.failed == 0 and report.added == len(DOCS), report.errors
    return pg_kb


def names(kb: KnowledgeBase, hits: list[tuple[str, float]]) -> list[str]:
    rows = kb.chunks_by_id([cid for cid, _ in hits])
    return [Path(rows[cid]["path"]).name for cid, _ in hits]


def test_an_ingestion_writes_both_stores_and_a_rerun_changes_nothing(filled: KnowledgeBase) -> None:
    assert filled.exists and filled.catalog.location.startswith("postgresql://127.0.0.1:")
    ids = consistent(filled)
    assert len(ids) == filled.chunk_count() >= len(DOCS)
    assert {Path(r.path).name for r in filled.documents().values()} == set(DOCS)
    report = ingest_paths([Path("docs")], filled.settings, kb=filled, progress=False)
    assert report.unchanged == len(DOCS) and report.added == 0
    assert consistent(filled) == ids
    (Path("docs") / "secret.md").unlink()
    report = ingest_paths([Path("docs")], filled.settings, kb=filled, progress=False, prune=True)
    assert report.removed == 1 and "secret.md" not in {Path(r.path).name for r in filled.documents().values()}
    assert consistent(filled) < ids
    statistics_match_the_index(filled, ["cybersecurite des etablissements", "budget Bakou", "Who certifies the training?"])


def statistics_match_the_index(kb: KnowledgeBase, questions: list[str]) -> None:
    """The stored term statistics give what counting over the index gives: term frequencies,
    the passage count, and BM25 (hits and scores) for every role and language."""
    from kb.schema import ROLES
    from kb.text import keyword_terms

    assert kb.chunk_count() == len(kb.chunk_documents())
    for role in ROLES:
        for language in (None, "en", "fr"):
            where = SearchFilter.for_role(role, language=language)
            counted = dataclasses.replace(where, exclude_documents=("no-such-document",))  # forces counting
            for question in questions:
                terms = keyword_terms(question)
                assert kb.term_frequencies(terms, where, "fr") == kb.term_frequencies(terms, counted, "fr")
                stored, by_count = kb.keyword_search(question, 10, where), kb.catalog.counted_keyword_search(question, 10, where)
                assert [cid for cid, _ in stored] == [cid for cid, _ in by_count], (question, where)
                assert [round(s, 9) for _, s in stored] == [round(s, 9) for _, s in by_count]


def test_keyword_search_in_french_and_english_ignores_accents_and_follows_the_role(filled: KnowledgeBase) -> None:
    admin, reader = SearchFilter.for_role("admin"), SearchFilter.for_role("reader")
    # No accents in the question, accents in the document, and another form of the words.
    assert names(filled, filled.keyword_search("cybersecurite des etablissements", 5, admin))[0] == "cyber.md"
    assert names(filled, filled.keyword_search("Quelle formation pour l'ÉTABLISSEMENT ?", 5, admin))[0] == "cyber.md"
    # English stemming: "training" finds "trainings", "certifies" finds "certified".
    assert names(filled, filled.keyword_search("Who certifies the training?", 5, admin))[0] == "training.md"
    assert names(filled, filled.keyword_search("budget Bakou", 5, admin)) == ["secret.md"]
    assert filled.keyword_search("budget Bakou", 5, reader) == []
    assert filled.keyword_search("?!", 5, admin) == filled.keyword_search("of the and", 5, admin) == []
    scores = [score for _, score in filled.keyword_search("sécurité établissements agents", 5, admin)]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_term_frequencies_and_reads_match_the_sqlite_catalog_on_the_corpus(
    fake_settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.text import keyword_terms

    monkeypatch.chdir(PROJECT_ROOT)
    lite = KnowledgeBase(fake_settings, embeddings=DeterministicFakeEmbedding(size=32))
    pg = kb_on(dataclasses.replace(fake_settings, store=fake_settings.store.with_name("pg-store")), database_url)
    for kb in (lite, pg):
        assert ingest_paths([CORPUS], kb.settings, kb=kb, progress=False).failed == 0
    terms = keyword_terms(" ".join(p.text for p in lite.passage_texts(SearchFilter.for_role("admin"))[:30]))
    terms = terms[:300] + ["senum", "zzzunknownterm"]
    for where in (SearchFilter.for_role("reader"), SearchFilter.for_role("staff", language="en"),
                  SearchFilter.for_role("official", doc_type="meeting_notes")):
        assert pg.term_frequencies(terms, where, "fr") == lite.term_frequencies(terms, where, "fr")
        assert pg.passage_texts(where) == lite.passage_texts(where)
        assert pg.mentions(where) == lite.mentions(where)
        assert {k: dataclasses.replace(r, ingested_at=0) for k, r in pg.documents(where).items()} == {
            k: dataclasses.replace(r, ingested_at=0) for k, r in lite.documents(where).items()}
    assert pg.mentions(SearchFilter.for_role("admin")), "the corpus states commitments"
    questions = ["Quels sont les objectifs du programme de coopération numérique ?", "Who chairs the cybersecurity commission?",
                 "formation des agents de l'État à la cybersécurité", "Sénégal Azerbaïdjan"]
    statistics_match_the_index(pg, questions)
    # Past the postings budget only the rarest lexemes are matched, every lexeme still scoring:
    # the hits are passages holding the rarest one, ranked as the full query ranks them.
    admin = SearchFilter.for_role("admin")
    full = pg.keyword_search(questions[0], 500, admin)
    pg.catalog.postings_budget = 1
    pruned = pg.keyword_search(questions[0], 500, admin)
    assert 0 < len(pruned) < len(full)
    ranked = dict(full)
    assert [ranked[cid] for cid, _ in pruned] == [score for _, score in pruned]
    lite.close()
    pg.close()


def test_the_ranking_query_ranks_as_the_one_that_unnested_every_lexeme(
    fake_settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 25: each matched passage's index is reduced to the question's lexemes before the
    # join; the old query (bench.pg_keyword.UNNEST_ALL) unpacked all of them. Same hits, same scores.
    from bench.pg_keyword import old_keyword_search
    from evals.corpus import QUESTIONS, load_questions

    monkeypatch.chdir(PROJECT_ROOT)
    pg = kb_on(fake_settings, database_url)
    assert ingest_paths([CORPUS], pg.settings, kb=pg, progress=False).failed == 0
    questions = [q["question"] for q in load_questions(QUESTIONS)[:15]] + ["Sénégal Azerbaïdjan", "cloud data protection"]
    compared = 0
    for budget in (float("inf"), 40):
        pg.catalog.postings_budget = budget
        for where in (SearchFilter.for_role("admin"), SearchFilter.for_role("reader", language="en")):
            for question in questions:
                new, old = pg.keyword_search(question, 40, where), old_keyword_search(pg.catalog, question, 40, where)
                assert [cid for cid, _ in new] == [cid for cid, _ in old], (question, where, budget)
                assert [round(s, 9) for _, s in new] == [round(s, 9) for _, s in old]
                compared += bool(new)
    assert compared > 40, "most questions find passages"
    pg.close()


def test_an_ingestion_that_changes_many_passages_analyses_the_tables(
    filled: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the planner's statistics the keyword ranking scanned every passage (issue 25).
    import kb.catalog_postgres

    def analysed_passages() -> float:
        with psycopg.connect(str(filled.settings.database_url)) as connection:
            return connection.execute("SELECT reltuples FROM pg_class WHERE relname = 'chunks'").fetchone()[0]

    assert analysed_passages() == filled.chunk_count() > 0, "the first ingestion analyses"
    samples.write_md(tmp_path / "docs", "more.md", "---\ntitle: Plus\nlanguage: fr\n---\n# Plus\n\n"
                     "Un nouveau centre de données ouvre à Dakar pour les administrations publiques.\n")
    monkeypatch.setattr(kb.catalog_postgres, "ANALYZE_CHANGE", 10.0)  # a small change: not analysed
    before = filled.chunk_count()
    assert ingest_paths([tmp_path / "docs"], filled.settings, kb=filled, progress=False).added == 1
    assert analysed_passages() == before < filled.chunk_count()
    monkeypatch.setattr(kb.catalog_postgres, "ANALYZE_CHANGE", 0.1)  # the default: one passage more is 25 %
    samples.write_md(tmp_path / "docs", "encore.md", "---\ntitle: Encore\nlanguage: fr\n---\n# Encore\n\n"
                     "Le centre de données de Dakar accueille aussi les collectivités locales.\n")
    assert ingest_paths([tmp_path / "docs"], filled.settings, kb=filled, progress=False).added == 1
    assert analysed_passages() == filled.chunk_count() > before + 1


def test_a_catalog_of_schema_1_gets_its_term_statistics_counted(filled: KnowledgeBase, database_url: str) -> None:
    filled.close()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DROP TABLE term_stats, lexeme_stats")
        connection.execute("ALTER TABLE mentions DROP COLUMN kind, DROP COLUMN vector")
        connection.execute("UPDATE catalog_meta SET value = '1' WHERE key = 'schema_version'")
    older = kb_on(filled.settings, database_url)
    assert older.get_meta("schema_version") == "3"
    statistics_match_the_index(older, ["cybersecurite des etablissements", "budget Bakou", "training certified"])
    older.close()


def test_a_catalog_of_another_embedding_model_is_refused_until_reset(filled: KnowledgeBase) -> None:
    other = kb_on(filled.settings, str(filled.settings.database_url), model="another-model")
    with pytest.raises(StoreMismatchError, match="'fake-embedding'.*'another-model'.*--reset"):
        other.documents()
    other.close()
    other = kb_on(filled.settings, str(filled.settings.database_url), model="another-model")
    report = ingest_paths([Path("docs")], other.settings, kb=other, progress=False, reset=True)
    assert report.added == len(DOCS)
    assert other.get_meta("embedding_model") == "another-model"
    consistent(other)
    other.close()


def test_the_schema_is_versioned_and_a_newer_one_is_refused(pg_kb: KnowledgeBase, database_url: str) -> None:
    assert not pg_kb.exists
    assert pg_kb.documents() == {} and pg_kb.exists
    from kb.catalog_postgres import SCHEMA_VERSION

    assert pg_kb.get_meta("schema_version") == str(SCHEMA_VERSION) == "3", "2: term statistics; 3: mentions.kind and mentions.vector"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("UPDATE catalog_meta SET value = '99' WHERE key = 'schema_version'")
    newer = kb_on(pg_kb.settings, database_url)
    with pytest.raises(StoreError, match="schema version 99, newer"):
        newer.chunk_count()
    newer.close()


def test_the_ingest_lock_holds_across_machines(pg_kb: KnowledgeBase, tmp_path: Path) -> None:
    # Another store folder stands for another machine: only the database is shared.
    elsewhere = kb_on(dataclasses.replace(pg_kb.settings, store=tmp_path / "other-machine"),
                      str(pg_kb.settings.database_url))
    with pg_kb.ingest_lock():
        with pytest.raises(StoreBusyError, match=r"another ingestion \(pid \d+ on .*\) is writing to postgresql://"):
            with elsewhere.ingest_lock():
                pass
    with elsewhere.ingest_lock():  # released with its holder
        pass
    elsewhere.close()


def test_an_interrupted_write_is_repaired_through_postgres(filled: KnowledgeBase) -> None:
    ids = consistent(filled)
    orphan = "deadbeef0000-orphan"
    with filled.catalog.transaction():
        filled.catalog.add_pending([orphan])
    filled.collection.upsert(ids=[orphan], embeddings=[[0.1] * 32], documents=["x"], metadatas=[{"access": "public"}])
    assert filled.recover() == 1
    assert consistent(filled) == ids


def test_quoted_copies_settle_whatever_the_order_through_postgres(pg_kb: KnowledgeBase, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.ingest.format_samples import write_eml, write_quoted_original

    monkeypatch.chdir(tmp_path)
    thread = "mails/atelier.eml"
    write_eml(tmp_path / "mails")
    ingest_paths([Path("mails")], pg_kb.settings, kb=pg_kb, progress=False)
    everything = pg_kb.quoted_openings()[thread]
    assert len(everything) == 2  # Fatou's first message and Rashad's answer, each quoted once
    # Rashad's answer ingested after the reply: the store's keyword search finds the reply's copy.
    original = write_quoted_original(tmp_path / "mails")
    ingest_paths([Path("mails")], pg_kb.settings, kb=pg_kb, progress=False)
    left = pg_kb.quoted_openings()
    assert set(left) == {thread} and len(left[thread]) == 1 and "Rashad" not in next(iter(left[thread]))
    consistent(pg_kb)
    original.unlink()
    report = ingest_paths([Path("mails")], pg_kb.settings, kb=pg_kb, prune=True, progress=False)
    assert report.removed == 1 and pg_kb.quoted_openings() == {thread: everything}
    consistent(pg_kb)


def test_the_migration_copies_a_sqlite_catalog_without_reembedding(
    fake_kb: KnowledgeBase, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ingest.migrate_catalog import main

    monkeypatch.chdir(tmp_path)
    ingest_paths([write_docs(tmp_path / "docs")], fake_kb.settings, kb=fake_kb, progress=False)
    fake_kb.close()
    monkeypatch.setenv("PASSERELLE_EMBEDDING_MODEL", "fake-embedding")
    assert main(["--store", str(fake_kb.root), "--to", database_url]) == 0
    out = capsys.readouterr().out
    assert f"{len(DOCS)} documents" in out and "PASSERELLE_DATABASE_URL" in out and "@" not in out
    pg = kb_on(fake_kb.settings, database_url)
    lite = KnowledgeBase(fake_kb.settings, embeddings=DeterministicFakeEmbedding(size=32))
    ids = sorted(lite.chunk_documents())
    assert sorted(consistent(pg)) == ids, "the same Chroma store, no vector added"
    assert pg.chunks_by_id(ids) == lite.chunks_by_id(ids)
    for table in ("documents", "chunks", "mentions"):  # read back the way a copy reads, row for row
        assert sorted(pg.catalog.table_rows(table)) == sorted(lite.catalog.table_rows(table))
    some = next(iter(lite.documents().values()))
    assert [(a, b, list(v)) for a, b, v in pg.sentences_in(some.doc_id, 0, 10**6)] == [
        (a, b, list(v)) for a, b, v in lite.sentences_in(some.doc_id, 0, 10**6)]
    assert names(pg, pg.keyword_search("cybersecurite", 3, SearchFilter.for_role("admin")))[0] == "cyber.md"
    with psycopg.connect(database_url) as connection:  # analysed: served at once with planned queries
        assert connection.execute("SELECT reltuples FROM pg_class WHERE relname = 'chunks'").fetchone()[0] == len(ids)
    # A second copy would mix two catalogs: refused, nothing written.
    assert main(["--store", str(fake_kb.root), "--to", database_url]) == 1
    assert "is not empty; give an empty database" in capsys.readouterr().err
    assert main(["--store", str(tmp_path / "nowhere"), "--to", database_url]) == 1
    assert "holds no catalog.sqlite3" in capsys.readouterr().err
    pg.close()
    lite.close()
