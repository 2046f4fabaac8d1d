"""Filters and access levels apply inside both the keyword and the dense query."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ingest.index import ingest_paths
from kb.store import KnowledgeBase, SearchFilter
from tests.ingest import samples

DOCS = {
    "public.md": ("public", "protocol", "2025-12-24", "[SENUM]", "fr"),
    "interne.md": ("internal", "meeting_notes", "2026-02-10", "[CEAC]", "fr"),
    "secret.md": ("restricted", "report", "2026-03-01", "[MCTN, SENUM]", "fr"),
    "english.md": ("public", "strategy", "2026-04-15", "[MCTN]", "en"),
}


@pytest.fixture
def filled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_kb: KnowledgeBase) -> KnowledgeBase:
    monkeypatch.chdir(tmp_path)
    for name, (access, doc_type, day, orgs, lang) in DOCS.items():
        samples.write_md(tmp_path / "c", name, (
            f"---\ntitle: {name}\ndoc_type: {doc_type}\ndate: {day}\norganisations: {orgs}\n"
            f"language: {lang}\naccess: {access}\n---\n# Cybersécurité {name}\n\n"
            f"La cybersécurité des plateformes est suivie par le comité ({name}).\n"
        ))
    ingest_paths([tmp_path / "c"], fake_kb.settings, kb=fake_kb, progress=False)
    return fake_kb


def keyword_docs(kb: KnowledgeBase, where: SearchFilter) -> set[str]:
    hits = kb.keyword_search("cybersécurité plateformes comité", 10, where)
    return {Path(row["path"]).name for row in kb.chunks_by_id([cid for cid, _ in hits]).values()}


def dense_docs(kb: KnowledgeBase, where: SearchFilter) -> set[str]:
    hits = kb.nearest(kb.embeddings.embed_query("cybersécurité plateformes"), 10, where)
    records = kb.vector_records()
    return {Path(records[cid][1]["path"]).name for cid, _ in hits}


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("reader", {"public.md", "english.md"}),
        ("staff", {"public.md", "english.md", "interne.md"}),
        ("official", set(DOCS)),
        ("admin", set(DOCS)),
    ],
)
def test_roles_filter_both_sides(filled: KnowledgeBase, role: str, visible: set[str]) -> None:
    where = SearchFilter.for_role(role)
    assert keyword_docs(filled, where) == visible
    assert dense_docs(filled, where) == visible


# Each user filter with the documents an admin then sees.
USER_FILTERS = [
    ({"doc_type": "meeting_notes"}, {"interne.md"}),
    ({"since": date(2026, 2, 1)}, {"interne.md", "secret.md", "english.md"}),
    ({"until": date(2026, 2, 10)}, {"public.md", "interne.md"}),
    ({"since": date(2026, 2, 1), "until": date(2026, 3, 31)}, {"interne.md", "secret.md"}),
    ({"organisation": "SENUM"}, {"public.md", "secret.md"}),
    ({"language": "en"}, {"english.md"}),
]


@pytest.mark.parametrize(("filters", "expected"), USER_FILTERS)
def test_user_filters_on_both_sides(filled: KnowledgeBase, filters: dict, expected: set[str]) -> None:
    where = SearchFilter.for_role("admin", **filters)
    assert keyword_docs(filled, where) == expected
    assert dense_docs(filled, where) == expected


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown role 'guest'"):
        SearchFilter.for_role("guest")


@pytest.mark.parametrize(("filters", "expected"), [({}, set(DOCS)), *USER_FILTERS])
def test_document_listings_apply_the_same_filters(filled: KnowledgeBase, filters: dict, expected: set[str]) -> None:
    where = SearchFilter.for_role("admin", **filters)
    assert {Path(r.path).name for r in filled.documents(where).values()} == expected
    for record in filled.documents().values():
        found = filled.document_by_path(record.path, where)
        assert (found == record) if Path(record.path).name in expected else found is None
    assert {Path(p.path).name for p in filled.passage_texts(where)} == expected


def test_document_listings_follow_the_role(filled: KnowledgeBase) -> None:
    where = SearchFilter.for_role("reader")
    assert {Path(r.path).name for r in filled.documents(where).values()} == {"public.md", "english.md"}
    assert filled.document_by_path("secret.md", where) is None


def _term_frequencies_one_query_per_term(kb: KnowledgeBase, terms: list[str], where: SearchFilter) -> dict[str, int]:
    """What `term_frequencies` computed before it became one statement: one MATCH per term."""
    condition, params = where.to_sql("c")
    return {
        term: kb.catalog.db.execute(
            f"SELECT COUNT(*) FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
            f"WHERE chunks_fts MATCH ? AND {condition}",
            [f'"{term}"', *params],
        ).fetchone()[0]
        for term in dict.fromkeys(terms)
    }


def test_term_frequencies_match_one_query_per_term_on_the_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_kb: KnowledgeBase
) -> None:
    from kb.text import keyword_terms
    from tests.conftest import CORPUS, PROJECT_ROOT

    monkeypatch.chdir(PROJECT_ROOT)
    report = ingest_paths([CORPUS], fake_kb.settings, kb=fake_kb, progress=False)
    assert report.failed == 0, report.errors
    text = " ".join(row["text"] for row in fake_kb.catalog.db.execute("SELECT text FROM chunks LIMIT 40"))
    terms = keyword_terms(text)[:300] + ["senum", "zzzunknownterm", "senum"]
    assert len(set(terms)) > 100
    for where in (
        SearchFilter.for_role("reader"),
        SearchFilter.for_role("admin"),
        SearchFilter.for_role("staff", language="en"),
        SearchFilter.for_role("official", since=date(2026, 1, 1), doc_type="meeting_notes"),
    ):
        counts, total, in_language = fake_kb.term_frequencies(terms, where, language="fr")
        assert counts == _term_frequencies_one_query_per_term(fake_kb, terms, where)
        assert list(counts) == list(dict.fromkeys(terms))
        assert 0 <= in_language <= total
    assert any(counts.values()) and counts["zzzunknownterm"] == 0
    assert fake_kb.term_frequencies([], SearchFilter.for_role("admin"))[0] == {}


def test_a_store_of_an_older_version_keeps_its_commitments_under_the_new_table_name(fake_kb: KnowledgeBase) -> None:
    import sqlite3

    from kb.catalog import CATALOG_FILE

    fake_kb.root.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(fake_kb.root / CATALOG_FILE) as old:
        old.execute("CREATE TABLE roadmap_items (doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL, action TEXT NOT NULL, "
                    "owner TEXT NOT NULL, commission TEXT, deadline TEXT, deadline_text TEXT NOT NULL, status TEXT NOT NULL, "
                    'quote TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, page INTEGER, '
                    "section TEXT NOT NULL, access TEXT NOT NULL, PRIMARY KEY (doc_id, ordinal)) WITHOUT ROWID")
        old.execute("INSERT INTO roadmap_items VALUES ('d1', 0, 'Publier', 'SENUM', NULL, NULL, '', 'planned', 'q', 0, 1, "
                    "NULL, '', 'internal')")
    tables = {r[0] for r in fake_kb.catalog.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "mentions" in tables and "roadmap_items" not in tables
    assert fake_kb.catalog.db.execute("SELECT action FROM mentions").fetchall()[0][0] == "Publier"


def test_term_statistics_follow_replacements_removals_and_older_stores(filled: KnowledgeBase, tmp_path: Path) -> None:
    from dataclasses import replace

    from kb.schema import ROLES
    from kb.text import keyword_terms

    terms = keyword_terms("cybersécurité plateformes comité public secret interne english budget zzzinconnu")

    def check(kb: KnowledgeBase) -> None:
        for role in ROLES:
            for language in (None, "en"):
                where = SearchFilter.for_role(role, language=language)
                counted = replace(where, exclude_documents=("no-such-document",))  # forces the counting path
                assert kb.term_frequencies(terms, where, "fr") == kb.term_frequencies(terms, counted, "fr")
        assert kb.term_frequencies(terms, SearchFilter.for_role("admin"), "fr")[1] == kb.chunk_count()
        assert kb.chunk_count() == len(kb.chunk_documents())  # the stored count is the rows' count

    check(filled)
    assert filled.term_frequencies(["secret"], SearchFilter.for_role("reader"))[0] == {"secret": 0}
    samples.write_md(tmp_path / "c", "secret.md", "---\ntitle: secret.md\naccess: public\n---\n# Budget\n\nLe budget secret.\n")
    (tmp_path / "c" / "english.md").unlink()
    report = ingest_paths([tmp_path / "c"], filled.settings, kb=filled, prune=True, progress=False)
    assert report.updated == 1 and report.removed == 1
    check(filled)
    assert filled.term_frequencies(["secret"], SearchFilter.for_role("reader"))[0]["secret"] > 0
    with filled.catalog.db:  # a store built before the statistics existed
        filled.catalog.db.execute("DELETE FROM term_stats")
        filled.catalog.db.execute("DELETE FROM meta WHERE key='term_stats'")
    filled.close()
    check(KnowledgeBase(filled.settings, embeddings=filled.embeddings))


def _keyword_search_every_term(kb: KnowledgeBase, query: str, k: int, where: SearchFilter) -> list[tuple[str, float]]:
    """What `keyword_search` ran before the postings budget: BM25 over every term of the query."""
    from kb.text import keyword_terms

    match = " OR ".join(f'"{t}"' for t in sorted(set(keyword_terms(query))))
    condition, params = where.to_sql("c")
    rows = kb.catalog.db.execute(
        "SELECT c.chunk_id, bm25(chunks_fts) FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
        f"WHERE chunks_fts MATCH ? AND {condition} ORDER BY 2 LIMIT ?", [match, *params, k],
    ).fetchall()
    return [(cid, -rank) for cid, rank in rows]


KEYWORD_QUESTIONS = (
    "Quels sont les objectifs du programme de coopération numérique ?",
    "Who chairs the cybersecurity commission?",
    "Quel est le budget du centre de données de Diamniadio ?",
    "formation des agents de l'État à la cybersécurité",
)


def test_keyword_search_ranks_as_before_within_the_postings_budget_and_keeps_the_rarest_terms_past_it(
    monkeypatch: pytest.MonkeyPatch, fake_kb: KnowledgeBase
) -> None:
    from kb.catalog import kept_terms
    from kb.text import keyword_terms
    from tests.conftest import CORPUS, PROJECT_ROOT

    monkeypatch.chdir(PROJECT_ROOT)
    assert ingest_paths([CORPUS], fake_kb.settings, kb=fake_kb, progress=False).failed == 0
    roles = [SearchFilter.for_role(role) for role in ("reader", "official")] + [SearchFilter.for_role("admin", language="en")]
    for question in KEYWORD_QUESTIONS:
        for where in roles:
            assert fake_kb.keyword_search(question, 20, where) == _keyword_search_every_term(fake_kb, question, 20, where)
    # Past the budget only the rarest terms are matched: every hit holds one, and the search
    # finds what a search of those terms alone finds.
    question, where = KEYWORD_QUESTIONS[0], SearchFilter.for_role("official")
    terms = sorted(set(keyword_terms(question)))
    postings = {t: (n, n) for t, n in fake_kb.term_frequencies(terms, SearchFilter.for_role("admin"))[0].items()}
    budget = min(n for n, _ in postings.values() if n) + 1
    fake_kb.catalog.postings_budget = budget
    kept = kept_terms(terms, postings, budget)
    assert 1 <= len(kept) < len([t for t in terms if postings[t][0]])
    pruned = fake_kb.keyword_search(question, 20, where)
    assert pruned and pruned == _keyword_search_every_term(fake_kb, " ".join(kept), 20, where)
    for row in fake_kb.chunks_by_id([cid for cid, _ in pruned]).values():
        assert set(keyword_terms(f"{row['title']} {row['section']} {row['text']}")) & set(kept)


def test_kept_terms_keeps_every_term_within_the_budget_else_the_rarest_the_filter_allows() -> None:
    from kb.catalog import kept_terms

    postings = {"rare": (3, 3), "hidden": (2, 0), "mid": (40, 10), "common": (900, 500), "absent": (0, 0)}
    terms = sorted(postings)
    assert kept_terms(terms, postings, 10_000) == terms  # within the budget: the query as it was
    assert kept_terms(terms, postings, 50) == ["mid", "rare"]  # "hidden" holds nothing the filter allows
    assert kept_terms(terms, postings, 1) == ["rare"]  # at least the rarest
    assert kept_terms(["hidden", "absent"], postings, 1) == []


# ----- writing several documents at once (`replace_documents`) -----------------------------------
def _write(kb: KnowledgeBase, number: int, access: str = "public", language: str = "fr", version: int = 1):
    """A `DocumentWrite` of note `number` (its text depends on `version`), vectors from the fake model."""
    from ingest.split import answer_sentences, split_document
    from kb.schema import Block, DocumentMeta, LoadedDocument
    from kb.store import DocumentWrite

    paragraphs = [f"La note {number} traite du point {n} de la coopération numérique, version {version if n % 2 else 1}. "
                  f"Le comité {n} suit l'échéance {2026 + n % 3}." for n in range(6)]
    text, blocks = "", []
    for paragraph in paragraphs:
        start = len(text) + (2 if text else 0)
        text = f"{text}\n\n{paragraph}" if text else paragraph
        blocks.append(Block(start, len(text), "paragraph", ("Partie",)))
    meta = DocumentMeta(title=f"Note {number}", doc_type="report", language=language, access=access,
                        date=date(2026, 1, number % 28 + 1))
    doc = LoadedDocument(doc_id=f"notes/{number}.md", path=f"notes/{number}.md", file_hash=f"{number}-{version}-{access}",
                         text=text, blocks=blocks, meta=meta)
    chunks = split_document(doc, 200, 20)
    spans = [(s, e) for s, e, _ in answer_sentences(doc)]
    return DocumentWrite(doc, chunks, kb.embeddings.embed_documents([c.text for c in chunks]), spans,
                         kb.embeddings.embed_documents([text[s:e] for s, e in spans]))


def _state(kb: KnowledgeBase) -> dict:
    """Both stores' contents, after checking they agree and no write is pending."""
    def rows(sql: str) -> list[tuple]:
        return sorted(tuple(r) for r in kb.catalog.db.execute(sql))

    chunks = {r[0]: r[1:] for r in rows('SELECT chunk_id, doc_id, ordinal, text, start, "end", access, language FROM chunks')}
    vectors = kb.vector_records()
    assert set(vectors) == set(chunks), "the two stores disagree"
    assert rows("SELECT c.chunk_id FROM chunks_fts f JOIN chunks c ON c.rowid = f.rowid") == sorted((c,) for c in chunks)
    assert not kb.catalog.pending()
    return {"documents": rows("SELECT doc_id, file_hash, access, language, chunks FROM documents"), "chunks": chunks,
            "vectors": vectors, "sentences": rows('SELECT doc_id, start, "end", vector FROM sentences'),
            "partitions": kb.partitions()}


def test_documents_written_together_equal_documents_written_one_by_one(tmp_path: Path, fake_kb: KnowledgeBase) -> None:
    """A batch of new, changed (chunks left behind), moved (another access level) and English
    documents leaves both stores as writing them one at a time does, with the same counts."""
    other = KnowledgeBase(fake_kb.settings.__class__.from_env({}, store=tmp_path / "one-by-one",
                                                              embedding_model="fake-embedding"),
                          embeddings=fake_kb.embeddings)
    first = [_write(fake_kb, n) for n in (1, 2, 3)]
    second = [_write(fake_kb, 1, version=2), _write(fake_kb, 2, access="restricted"), _write(fake_kb, 4),
              _write(fake_kb, 5, language="en", access="internal")]
    fake_kb.check_dimension(32)
    other.check_dimension(32)
    counts = [fake_kb.replace_documents(first), fake_kb.replace_documents(second)]
    alone = [[other.replace_document(*w) for w in first], [other.replace_document(*w) for w in second]]
    assert counts == alone
    assert counts[1][0][0] > 0 and counts[1][0][1] > 0, "the changed note adds and leaves chunks"
    assert _state(fake_kb) == _state(other)
    assert _state(fake_kb)["documents"][1][2] == "restricted"
    other.close()


class _Died(BaseException):
    """Stands for the process dying: nothing after it runs, the open transaction is lost."""


def test_a_batch_cut_short_after_its_vectors_is_repaired_and_rewritten(fake_kb: KnowledgeBase, monkeypatch) -> None:
    """Killed between the Chroma upsert and the catalog commit of a batch: no catalog row of the
    batch is kept, `recover` removes the vectors the catalog does not name, and writing the
    batch again gives the store a clean write gives."""
    fake_kb.check_dimension(32)
    fake_kb.replace_documents([_write(fake_kb, 1), _write(fake_kb, 2)])
    before = _state(fake_kb)
    batch = [_write(fake_kb, 1, version=2), _write(fake_kb, 3), _write(fake_kb, 4, access="internal")]
    catalog_class = type(fake_kb.catalog)
    real = catalog_class.write_document_rows
    written: list[str] = []

    def dies_on_the_second(self, doc, *args):
        written.append(doc.doc_id)
        if len(written) == 2:
            raise _Died
        return real(self, doc, *args)

    monkeypatch.setattr(catalog_class, "write_document_rows", dies_on_the_second)
    with pytest.raises(_Died):
        fake_kb.replace_documents(batch)
    monkeypatch.undo()
    assert len(fake_kb.vector_records()) > len(before["vectors"]), "the batch's vectors were written first"
    fake_kb.close()

    after = KnowledgeBase(fake_kb.settings, embeddings=fake_kb.embeddings)
    assert after.recover() > 0
    repaired = _state(after)
    assert repaired["chunks"] == before["chunks"] and set(repaired["vectors"]) == set(before["vectors"])
    assert [d[1] for d in repaired["documents"]] == ["", "2-1-public"], "note 1 counts as changed until rewritten"
    after.replace_documents(batch)
    clean = KnowledgeBase(fake_kb.settings.__class__.from_env({}, store=fake_kb.root.parent / "clean",
                                                              embedding_model="fake-embedding"),
                          embeddings=fake_kb.embeddings)
    clean.check_dimension(32)
    clean.replace_documents([_write(fake_kb, 1), _write(fake_kb, 2)])
    clean.replace_documents(batch)
    assert _state(after) == _state(clean)
    after.close()
    clean.close()


def test_a_batch_naming_a_document_twice_keeps_its_last_version(fake_kb: KnowledgeBase) -> None:
    fake_kb.check_dimension(32)
    counts = fake_kb.replace_documents([_write(fake_kb, 1), _write(fake_kb, 1, version=2, access="internal")])
    assert counts[0][0] > 0 and counts[1][1] > 0
    assert _state(fake_kb)["documents"] == [("notes/1.md", "1-2-internal", "internal", "fr", len(_write(fake_kb, 1).chunks))]
