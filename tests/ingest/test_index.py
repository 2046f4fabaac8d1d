"""Incremental, idempotent indexing with fake embeddings and the real embedded Chroma."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.index import IngestError, ingest_paths
from kb.store import KnowledgeBase, SearchFilter, StoreBusyError, StoreMismatchError
from tests.ingest import samples


def make_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    samples.write_md(corpus)
    samples.write_html(corpus / "briefs")
    samples.write_docx(corpus / "reunions")
    pdf = samples.write_pdf(corpus / "reunions")
    samples.write_sidecar(pdf, samples.SIDECAR)
    return corpus


def consistent(kb: KnowledgeBase) -> set[str]:
    """Catalog, keyword index and vectors hold the same chunk ids; returns them."""
    catalog = {r[0] for r in kb.catalog.db.execute("SELECT chunk_id FROM chunks")}
    fts = kb.catalog.db.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0]
    assert fts == len(catalog)
    assert kb.vector_ids() == catalog
    assert kb.catalog.db.execute("SELECT COUNT(*) FROM pending").fetchone()[0] == 0
    return catalog


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # document ids are paths relative to the working directory
    return make_corpus(tmp_path)


def test_first_run_then_nothing_to_do(corpus: Path, fake_kb: KnowledgeBase) -> None:
    first = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    assert first.as_json()["documents"] == {
        "added": 4, "updated": 0, "unchanged": 0, "removed": 0, "failed": 0, "total": 4,
    }
    ids = consistent(fake_kb)
    assert first.chunks_added == len(ids) == first.chunks_total
    assert fake_kb.collection.metadata == {"embedding_model": "fake-embedding", "embedding_dimension": 32}
    second = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    assert second.as_json()["documents"]["unchanged"] == 4
    assert second.chunks_added == second.chunks_removed == 0
    assert consistent(fake_kb) == ids


def test_unchanged_run_does_not_load_the_model(corpus: Path, fake_kb: KnowledgeBase) -> None:
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    fresh = KnowledgeBase(fake_kb.settings)  # no embeddings given: loading one would fail for "fake-embedding"
    report = ingest_paths([corpus], fake_kb.settings, kb=fresh, progress=False)
    assert report.unchanged == 4 and fresh._embeddings is None


def test_changed_file_replaces_its_chunks(corpus: Path, fake_kb: KnowledgeBase) -> None:
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    before = consistent(fake_kb)
    path = corpus / "protocole.md"
    path.write_text(path.read_text(encoding="utf-8").replace("50 agents", "75 agents"), encoding="utf-8")
    report = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    assert (report.updated, report.unchanged) == (1, 3)
    after = consistent(fake_kb)
    assert report.chunks_removed == len(before - after) >= 1
    assert report.chunks_added == len(after - before) >= 1
    where = SearchFilter.for_role("admin")
    texts = [fake_kb.chunks_by_id([cid])[cid]["text"] for cid, _ in fake_kb.keyword_search("agents former", 5, where)]
    assert any("75 agents" in t for t in texts) and not any("50 agents" in t for t in texts)


def test_sidecar_change_counts_as_a_change(corpus: Path, fake_kb: KnowledgeBase) -> None:
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    pdf = next(corpus.rglob("*.pdf"))
    samples.write_sidecar(pdf, samples.SIDECAR.replace("access: internal", "access: restricted"))
    report = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    assert report.updated == 1
    assert {r.access for r in fake_kb.documents().values() if r.path.endswith(".pdf")} == {"restricted"}


def test_deleted_file_is_pruned_only_with_prune(corpus: Path, fake_kb: KnowledgeBase) -> None:
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    html = next(corpus.rglob("*.html"))
    html.unlink()
    kept = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    assert kept.removed == 0 and kept.total == 4
    pruned = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, prune=True, progress=False)
    assert pruned.removed == 1 and pruned.total == 3 and pruned.chunks_removed >= 1
    assert not any(r.path.endswith(".html") for r in fake_kb.documents().values())
    consistent(fake_kb)


def test_prune_of_one_subfolder_keeps_the_rest(corpus: Path, fake_kb: KnowledgeBase) -> None:
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    report = ingest_paths([corpus / "briefs"], fake_kb.settings, kb=fake_kb, prune=True, progress=False)
    assert report.removed == 0 and report.total == 4


def test_bad_files_are_reported_and_the_rest_goes_in(corpus: Path, fake_kb: KnowledgeBase) -> None:
    (corpus / "vide.txt").write_bytes(b"")
    (corpus / "casse.pdf").write_bytes(b"%PDF-1.4 not really")
    (corpus / "notes.key").write_bytes(b"PK")
    (corpus / "lien-mort.md").symlink_to(corpus / "absent.md")
    (corpus / "boucle").symlink_to(corpus, target_is_directory=True)  # a symlink loop is not followed
    report = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    assert report.added == 4 and report.failed == 4
    errors = {Path(e["path"]).name: e["error"] for e in report.errors}
    assert errors["vide.txt"] == "empty file"
    assert "corrupt or unreadable PDF" in errors["casse.pdf"]
    assert "unsupported file type .key" in errors["notes.key"]
    assert "cannot read the file" in errors["lien-mort.md"]


def test_dry_run_writes_nothing(corpus: Path, fake_kb: KnowledgeBase) -> None:
    report = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, dry_run=True, progress=False)
    assert report.added == 4 and report.chunks_added > 0
    assert not fake_kb.root.exists()


def test_missing_path_is_an_error(tmp_path: Path, fake_kb: KnowledgeBase) -> None:
    with pytest.raises(IngestError, match="absent: no such file or folder"):
        ingest_paths([tmp_path / "absent"], fake_kb.settings, kb=fake_kb, progress=False)


def test_reset_rebuilds_from_scratch(corpus: Path, fake_kb: KnowledgeBase) -> None:
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    ids = consistent(fake_kb)
    report = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, reset=True, progress=False)
    assert report.added == 4 and consistent(fake_kb) == ids


def test_another_model_is_refused_with_the_fix(corpus: Path, fake_kb: KnowledgeBase) -> None:
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    other = KnowledgeBase(fake_kb.settings.with_overrides(embedding_model="another-model"))
    with pytest.raises(StoreMismatchError, match="--reset"):
        other.documents()


def test_second_writer_is_refused_while_one_runs(corpus: Path, fake_kb: KnowledgeBase) -> None:
    with fake_kb.ingest_lock():
        other = KnowledgeBase(fake_kb.settings, embeddings=DeterministicFakeEmbedding(size=32))
        with pytest.raises(StoreBusyError, match="another ingestion .*pid"):
            ingest_paths([corpus], fake_kb.settings, kb=other, progress=False)


def test_interrupted_write_is_repaired_on_next_run(corpus: Path, fake_kb: KnowledgeBase) -> None:
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    ids = consistent(fake_kb)
    # Simulate a crash after vectors were written but before the catalog committed.
    orphan = "deadbeef0000-orphan"
    with fake_kb.catalog.db:
        fake_kb.catalog.db.execute("INSERT INTO pending VALUES (?)", (orphan,))
    partition = fake_kb._partition(next(iter(fake_kb.partitions())))
    partition.upsert(ids=[orphan], embeddings=[[0.1] * 32], documents=["x"], metadatas=[{"access": "public"}])
    assert orphan in fake_kb.vector_ids()
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    assert consistent(fake_kb) == ids


def test_an_e_mail_attachment_is_a_document_kept_in_line_with_its_message(corpus: Path, fake_kb: KnowledgeBase) -> None:
    from email.message import EmailMessage

    from tests.ingest.format_samples import write_eml_with_attachment

    mail = write_eml_with_attachment(corpus / "courriels")
    first = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    attached = "corpus/courriels/inscriptions.eml#inscrits.csv"
    assert first.added == 6 and attached in fake_kb.documents()
    record = fake_kb.documents()[attached]
    assert record.path == "corpus/courriels/inscriptions.eml" and record.title.startswith("inscrits.csv — ")
    assert ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False).unchanged == 5
    # The message sent again without its file: the attachment goes with it.
    message = EmailMessage()
    message["From"], message["Subject"], message["Date"] = "Awa Diop", "Inscriptions", "Tue, 24 Mar 2026 08:30:00 +0000"
    message.set_content("La liste suivra.")
    mail.write_bytes(bytes(message))
    second = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    assert (second.updated, second.removed) == (1, 1) and attached not in fake_kb.documents()
    consistent(fake_kb)
    # A message deleted: pruning removes it and what it carried.
    write_eml_with_attachment(corpus / "courriels")
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    mail.unlink()
    pruned = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, prune=True, progress=False)
    assert pruned.removed == 2 and not any("inscriptions" in d for d in fake_kb.documents())
    consistent(fake_kb)


def test_a_quoted_message_is_indexed_once_and_not_when_its_original_is_stored(corpus: Path,
                                                                               fake_kb: KnowledgeBase) -> None:
    from email.message import EmailMessage

    from kb.schema import QUOTED_HEADING
    from tests.ingest.format_samples import write_eml

    def quoted_passages() -> list[str]:
        rows = fake_kb.catalog.db.execute("SELECT text FROM chunks WHERE section LIKE ?", (QUOTED_HEADING + "%",))
        return [row[0] for row in rows]

    write_eml(corpus / "courriels")
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    first = quoted_passages()
    assert any("30 septembre 2026" in text for text in first) and any("Three experts" in text for text in first)
    # Rashad's message exported on its own, then the reply again (changed): his quoted copy goes.
    original = EmailMessage()
    original["From"], original["Subject"] = "Rashad Aliyev <r.aliyev@idda.example>", "Re: Atelier interopérabilité"
    original["Date"] = "Tue, 17 Mar 2026 16:02:00 +0000"
    original.set_content("Dear Fatou,\n\nThe end of September does not suit our experts. Could the workshop move to "
                         "14 October 2026?\n\nThree experts of the IDDA's interoperability unit will come to Dakar.\n")
    (corpus / "courriels" / "reponse-idda.eml").write_bytes(bytes(original))
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    mail = corpus / "courriels" / "atelier.eml"
    mail.write_bytes(mail.read_bytes().replace(b"Cordialement", b"Bien cordialement"))
    assert ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False).updated == 1
    after = quoted_passages()
    assert not any("Three experts" in text for text in after), "its original is in the store"
    assert any("30 septembre 2026" in text for text in after), "a quoted message found nowhere else stays"
    consistent(fake_kb)


def test_a_good_file_replaced_by_a_hostile_one_keeps_its_passages(corpus: Path, fake_kb: KnowledgeBase) -> None:
    from tests.ingest.format_samples import write_xlsx

    sheet = write_xlsx(corpus / "suivi")
    ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    before = fake_kb.chunk_ids_of("corpus/suivi/suivi.xlsx")
    assert before
    sheet.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))  # saved again with a password
    report = ingest_paths([corpus], fake_kb.settings, kb=fake_kb, progress=False)
    assert report.failed == 1 and "password-protected" in report.errors[0]["error"]
    assert fake_kb.chunk_ids_of("corpus/suivi/suivi.xlsx") == before, "nothing already indexed is lost"
    consistent(fake_kb)
