"""A quoted earlier message is indexed once whatever the order of ingestion (`ingest.quotes`):
with fake embeddings and the real embedded Chroma, then through `python -m ingest` with the real
model."""

from __future__ import annotations

import json
import logging
from email.message import EmailMessage
from pathlib import Path

import pytest

from ingest.index import IngestReport, ingest_paths
from ingest.quotes import LEFT_OUT_META, UNSETTLED_META
from kb.schema import QUOTED_HEADING
from kb.settings import Settings
from kb.store import KnowledgeBase
from tests.ingest.format_samples import THREAD_BODY, write_eml, write_quoted_original, write_thread_txt
from tests.ingest.test_cli_e2e import report as json_report, run_ingest
from tests.ingest.test_index import consistent

THREAD = "corpus/courriels/atelier.eml"
ORIGINAL = "corpus/courriels/reponse-idda.eml"
RASHAD = "Three experts of the IDDA"  # said by Rashad's message only: the original, or a quoted copy
FATOU = "30 septembre 2026"  # said by Fatou's first message, which only the reply quotes


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # document ids are paths relative to the working directory
    return tmp_path / "corpus"


def ingest(corpus: Path, kb: KnowledgeBase, prune: bool = False) -> IngestReport:
    return ingest_paths([corpus], kb.settings, kb=kb, prune=prune, progress=False)


def holders(kb: KnowledgeBase, words: str) -> dict[str, list[str]]:
    """The documents with a passage holding `words`, each with those passages' sections."""
    found: dict[str, list[str]] = {}
    for doc_id, section in kb.catalog.db.execute("SELECT doc_id, section FROM chunks WHERE text LIKE ? ORDER BY doc_id",
                                                 (f"%{words}%",)):
        found.setdefault(doc_id, []).append(section)
    return found


def quoted(section: str) -> bool:
    return section.startswith(QUOTED_HEADING)


def write_forward(folder: Path, name: str = "atelier-transfert.eml") -> Path:
    """Another reply quoting Rashad's message (and, inside it, Fatou's first one)."""
    message = EmailMessage()
    message["From"], message["Subject"] = "Awa Diop <awa.diop@mctn.example>", "Re: Atelier interopérabilité"
    message["Date"] = "Fri, 20 Mar 2026 08:30:00 +0000"
    earlier = THREAD_BODY[THREAD_BODY.index("Le mar. 17 mars"):]
    message.set_content(f"Bonjour,\n\nPour information, la réponse de l'IDDA ci-dessous.\n\nAwa Diop\n\n{earlier}")
    path = folder / name
    path.write_bytes(bytes(message))
    return path


def test_an_original_ingested_after_the_reply_takes_the_place_of_its_quoted_copy(
        corpus: Path, fake_kb: KnowledgeBase) -> None:
    write_eml(corpus / "courriels")
    ingest(corpus, fake_kb)
    assert set(holders(fake_kb, RASHAD)) == {THREAD} and all(map(quoted, holders(fake_kb, RASHAD)[THREAD]))
    write_quoted_original(corpus / "courriels")
    report = ingest(corpus, fake_kb)
    # The reply is not counted as a changed file, but its quoted copy's passages went.
    assert (report.added, report.updated, report.unchanged) == (1, 0, 1)
    assert report.chunks_removed >= 1 and report.chunks_total == fake_kb.chunk_count()
    found = holders(fake_kb, RASHAD)
    assert list(found) == [ORIGINAL] and len(found[ORIGINAL]) == 1 and not quoted(found[ORIGINAL][0])
    assert set(holders(fake_kb, FATOU)) == {THREAD}, "a quoted message found nowhere else stays"
    ids = consistent(fake_kb)
    again = ingest(corpus, fake_kb)  # the reply written again still counts as its file: unchanged
    assert (again.unchanged, again.added, again.updated, again.chunks_added, again.chunks_removed) == (2, 0, 0, 0, 0)
    assert consistent(fake_kb) == ids


def test_both_orders_of_ingestion_give_the_same_store(corpus: Path, fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    other = KnowledgeBase(Settings.from_env({}, store=tmp_path / "other", embedding_model="fake-embedding"),
                          embeddings=fake_kb.embeddings)
    try:
        thread, original = write_eml(tmp_path / "thread"), write_quoted_original(tmp_path / "original")
        for kb, order in ((fake_kb, (thread, original)), (other, (original, thread))):
            for path in order:
                target = corpus / "courriels" / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
                ingest(corpus, kb)
        assert consistent(fake_kb) == consistent(other)
        assert fake_kb.quoted_openings() == other.quoted_openings() and set(other.quoted_openings()) == {THREAD}
        assert set(holders(other, RASHAD)) == {ORIGINAL}
    finally:
        other.close()


@pytest.mark.parametrize("gone", ["pruned", "rewritten"])
def test_an_original_that_goes_gives_the_quoted_copy_back(corpus: Path, fake_kb: KnowledgeBase, gone: str) -> None:
    original = write_quoted_original(corpus / "courriels")
    ingest(corpus, fake_kb)
    write_eml(corpus / "courriels")
    ingest(corpus, fake_kb)
    assert set(holders(fake_kb, RASHAD)) == {ORIGINAL}
    if gone == "pruned":
        original.unlink()
    else:  # the file now holds another message
        original.write_bytes(original.read_bytes().replace(b"Three experts of the IDDA", b"Two delegates"))
    report = ingest(corpus, fake_kb, prune=True)
    assert (report.removed, report.updated) == ((1, 0) if gone == "pruned" else (0, 1))
    assert set(holders(fake_kb, RASHAD)) == {THREAD} and all(map(quoted, holders(fake_kb, RASHAD)[THREAD]))
    assert json.loads(fake_kb.get_meta(LEFT_OUT_META)) == [], "no document leaves a message out any more"
    ids = consistent(fake_kb)
    again = ingest(corpus, fake_kb, prune=True)
    assert (again.chunks_added, again.chunks_removed) == (0, 0) and consistent(fake_kb) == ids


def test_only_the_replies_quoting_what_a_run_wrote_are_read_again(corpus: Path, fake_kb: KnowledgeBase,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import index

    write_eml(corpus / "courriels")
    ingest(corpus, fake_kb)
    read_again: list[str] = []
    stored_file = index._stored_file
    monkeypatch.setattr(index, "_stored_file", lambda kb, doc_id, record: read_again.append(doc_id)
                        or stored_file(kb, doc_id, record))
    (corpus / "note.md").write_text("# Note de suivi\n\nLe comité technique se réunit en avril.\n", encoding="utf-8")
    assert ingest(corpus, fake_kb).added == 1 and read_again == [], "a note that quotes no message of the reply"
    write_quoted_original(corpus / "courriels")
    assert ingest(corpus, fake_kb).added == 1 and read_again == [THREAD]
    assert set(holders(fake_kb, RASHAD)) == {ORIGINAL}
    (corpus / "note.md").unlink()
    assert ingest(corpus, fake_kb, prune=True).removed == 1 and read_again == [THREAD, THREAD], (
        "a run that removes a document reads again the replies that left a message out")


@pytest.mark.parametrize("write", [write_eml, write_thread_txt])
def test_what_a_written_text_is_searched_for_is_the_start_of_the_probe(tmp_path: Path, write) -> None:
    from ingest.load import load_document
    from ingest.quotes import PROBE_CHARS, _opening_key, _squashed, quoted_posts
    from ingest.split import split_document

    doc = load_document(write(tmp_path), max_bytes=2**20)
    first = {}
    for chunk in split_document(doc, 1000, 150):
        first.setdefault(chunk.section, chunk.text)
    posts = quoted_posts(doc)
    assert posts and len(posts) == len([section for section in first if quoted(section)])
    for post in posts:
        section = " > ".join(post[0].section)
        probe = _squashed(" ".join(doc.text[b.start : b.end] for b in post if b.kind != "heading")[:PROBE_CHARS])
        key = _opening_key(section, first[section])
        assert key and probe.startswith(key) and len(key) > len(probe) // 2, (key, probe)


def test_two_replies_quoting_one_message_in_one_run_keep_one_copy(corpus: Path, fake_kb: KnowledgeBase) -> None:
    thread = write_eml(corpus / "courriels")
    forward = write_forward(corpus / "courriels")
    ingest(corpus, fake_kb)  # one run, one group: neither was in the store when the other was read
    # The first by id leaves its copies out; the other keeps both quoted messages.
    assert set(holders(fake_kb, RASHAD)) == set(holders(fake_kb, FATOU)) == {THREAD}
    assert set(fake_kb.quoted_openings()) == {THREAD}
    assert json.loads(fake_kb.get_meta(LEFT_OUT_META)) == ["corpus/courriels/atelier-transfert.eml"]
    consistent(fake_kb)
    # The reply that kept them goes: the other indexes them again.
    thread.unlink()
    report = ingest(corpus, fake_kb, prune=True)
    assert report.removed == 1 and report.failed == 0
    assert set(holders(fake_kb, RASHAD)) == set(holders(fake_kb, FATOU)) == {"corpus/courriels/" + forward.name}
    consistent(fake_kb)


def test_a_run_cut_short_before_settling_is_settled_by_the_next(corpus: Path, fake_kb: KnowledgeBase,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import index

    write_eml(corpus / "courriels")
    ingest(corpus, fake_kb)
    write_quoted_original(corpus / "courriels")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(index, "settle_quotes", interrupted)
        with pytest.raises(KeyboardInterrupt):
            ingest(corpus, fake_kb)
    assert set(holders(fake_kb, RASHAD)) == {THREAD, ORIGINAL} and fake_kb.get_meta(UNSETTLED_META) == "1"
    report = ingest(corpus, fake_kb)  # nothing changed on disk
    assert report.unchanged == 2 and report.chunks_removed >= 1
    assert set(holders(fake_kb, RASHAD)) == {ORIGINAL} and fake_kb.get_meta(UNSETTLED_META) == "0"
    consistent(fake_kb)


@pytest.mark.parametrize("listed", [None, "{not a list"])
def test_a_store_without_a_readable_list_finds_the_replies_that_left_a_message_out(
        corpus: Path, fake_kb: KnowledgeBase, listed: str | None, caplog: pytest.LogCaptureFixture) -> None:
    write_quoted_original(corpus / "courriels")
    ingest(corpus, fake_kb)
    write_eml(corpus / "courriels")
    ingest(corpus, fake_kb)
    # A store written before the list existed has none; a damaged one is read as none.
    with fake_kb.catalog.transaction():
        if listed is None:
            fake_kb.catalog.db.execute("DELETE FROM meta WHERE key=?", (LEFT_OUT_META,))
        else:
            fake_kb.catalog.db.execute("UPDATE meta SET value=? WHERE key=?", (listed, LEFT_OUT_META))
    (corpus / "courriels" / "reponse-idda.eml").unlink()
    with caplog.at_level(logging.WARNING, logger="ingest.quotes"):
        report = ingest(corpus, fake_kb, prune=True)
    assert report.removed == 1 and set(holders(fake_kb, RASHAD)) == {THREAD}
    damaged = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
    assert damaged == ([] if listed is None else
                       ["the list of e-mails that left a quoted message out is unreadable: it is rebuilt"])
    consistent(fake_kb)


def test_a_reply_whose_file_cannot_be_read_is_left_as_it_was(corpus: Path, fake_kb: KnowledgeBase,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    thread = write_eml(corpus / "courriels")
    ingest(corpus, fake_kb)
    thread.unlink()  # gone from the folder, but not pruned: still in the store
    write_quoted_original(corpus / "courriels")
    with caplog.at_level(logging.WARNING, logger="ingest.index"):
        report = ingest(corpus, fake_kb)
    assert (report.added, report.failed, report.errors) == (1, 0, [])
    assert set(holders(fake_kb, RASHAD)) == {THREAD, ORIGINAL}, "its passages stay as they were"
    assert [r.getMessage() for r in caplog.records if "quoted" in r.getMessage()] == [
        f"quoted messages of {THREAD} left as they were: cannot read the file: No such file or directory"]
    consistent(fake_kb)


# ----- through `python -m ingest`, the real model and the real embedded Chroma --------------------
def ingest_command(*args: str, cwd: Path) -> dict:
    """`python -m ingest ARGS --store store --json` run in `cwd`; its JSON report."""
    result = run_ingest(*args, "--store", "store", "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json_report(result)


@pytest.mark.real_model
def test_the_command_keeps_one_copy_whatever_the_order(tmp_path: Path, real_model_path: Path) -> None:
    folder = tmp_path / "corpus" / "courriels"
    write_eml(folder)
    assert ingest_command("corpus", cwd=tmp_path)["documents"]["added"] == 1
    original = write_quoted_original(folder)
    second = ingest_command("corpus", cwd=tmp_path)
    assert (second["documents"]["added"], second["documents"]["unchanged"]) == (1, 1)
    kb = KnowledgeBase(Settings.from_env({}, store=tmp_path / "store"))
    try:
        assert set(holders(kb, RASHAD)) == {ORIGINAL} and set(kb.quoted_openings()) == {THREAD}
        assert ingest_command("--check", cwd=tmp_path)["consistent"] is True
        third = ingest_command("corpus", cwd=tmp_path)
        assert third["documents"]["unchanged"] == 2 and third["chunks"]["added"] == third["chunks"]["removed"] == 0
        original.unlink()
        pruned = ingest_command("corpus", "--prune", cwd=tmp_path)
        assert pruned["documents"]["removed"] == 1
        assert set(holders(kb, RASHAD)) == {THREAD}, "the quoted copy is the only one again"
        assert ingest_command("--check", cwd=tmp_path)["consistent"] is True
    finally:
        kb.close()
