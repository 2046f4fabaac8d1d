"""Outlook .msg e-mails (ingest/outlook.py, read by python-oxmsg), written by the tests' own
compound-file writer (tests/ingest/msg_writer.py): read like an .eml, hostile files refused with
their message, and a real store answering from the newest message of a thread."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from ingest.load import LoadError, load_document
from ingest.split import answer_sentences
from tests.ingest import format_samples as samples
from kb.schema import QUOTED_HEADING
from tests.ingest.msg_writer import compound_file, write_msg

SENT = dt.datetime(2026, 3, 19, 9, 15, tzinfo=dt.timezone.utc)
ATTACHED = "Nom;Institution;Fonction\n" + "".join(f"Agent {n};SENUM;Analyste\n" for n in range(300))


def _msg(folder: Path, name: str = "atelier.msg", **fields) -> Path:
    values = {"sender": "Fatou Sall", "sender_email": "fatou.sall@senum.example",
              "subject": "RE: Atelier interopérabilité", "body": samples.THREAD_BODY, "sent": SENT,
              "attachments": [("participants.csv", ATTACHED.encode())], **fields}
    return write_msg(folder / name, **values)


def _load(path: Path):
    return load_document(path, max_bytes=20 * 2**20)


def test_a_msg_is_read_like_an_eml_quotes_marked_attachment_a_document(tmp_path: Path) -> None:
    doc = _load(_msg(tmp_path))
    assert doc.meta.title == "Atelier interopérabilité" and doc.meta.date == dt.date(2026, 3, 19)
    headings = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "heading"]
    assert headings == ['2026-03-19 09:15 — "Fatou Sall" <fatou.sall@senum.example> — RE: Atelier interopérabilité']
    # The two quoted messages are sections of their own, oldest first, marked quoted, out of the blocks
    # the register reads.
    assert doc.text.index("30 septembre") < doc.text.index("Could the workshop") < doc.text.index("14 octobre")
    quoted = [doc.text[b.start : b.end] for b in doc.quoted_blocks if b.kind == "heading"]
    assert [q.split(" — ")[0] for q in quoted] == [QUOTED_HEADING] * 2 and "Rashad Aliyev" in quoted[1]
    own = " ".join(doc.text[b.start : b.end] for b in doc.blocks)
    assert "14 octobre 2026" in own and "30 septembre" not in own and "Could the workshop" not in own
    indexed = " ".join(doc.text[s:e] for s, e, _ in answer_sentences(doc))
    # The attachment (over 4 KB: stored in the file's regular sectors, not the mini stream) is a document.
    [attached] = doc.attachments
    assert attached.doc_id == f"{doc.doc_id}#participants.csv" and "| Agent 299 | SENUM | Analyste |" in attached.text
    assert "Pièces jointes / Attachments : participants.csv" in indexed


def test_an_html_only_msg_is_read_from_its_html(tmp_path: Path) -> None:
    from tests.ingest.msg_writer import BINARY, INT32, STRING, _properties

    # The HTML body is bytes in the message's internet code page (65001: UTF-8), as Outlook saves it.
    tree = _properties([(0x001A, STRING, "IPM.Note"), (0x0037, STRING, "Comité technique"), (0x3FDE, INT32, 65001),
                        (0x1013, BINARY, "<p>Le comité technique se réunit le <b>5 mai 2026</b>.</p>".encode())],
                       b"\0" * 32)
    path = tmp_path / "html.msg"
    path.write_bytes(compound_file(tree))
    doc = _load(path)
    assert "Le comité technique se réunit le" in doc.text and "5 mai 2026" in doc.text and "<b>" not in doc.text


@pytest.mark.parametrize("what, data, message", [
    ("text named .msg", "Réunion le 12 mars.".encode(), "not an Outlook message (.msg files are compound OLE files)"),
    ("an OLE signature then noise (as a password-protected Office file)",
     b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random.Random(3).randbytes(20_000), "corrupt or unreadable .msg"),
    ("a compound file without the message's properties", compound_file({"autre": b"rien"}), "corrupt or unreadable .msg"),
])
def test_hostile_msg_files_get_their_message(tmp_path: Path, what: str, data: bytes, message: str) -> None:
    path = tmp_path / "mauvais.msg"
    path.write_bytes(data)
    with pytest.raises(LoadError) as caught:
        _load(path)
    assert message in str(caught.value), what


def test_an_encrypted_msg_says_so(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as caught:
        _load(_msg(tmp_path, message_class="IPM.Note.SMIME"))
    assert "encrypted or rights-protected e-mail" in str(caught.value)


def test_a_cut_msg_is_refused_with_its_message(tmp_path: Path) -> None:
    path = _msg(tmp_path)
    path.write_bytes(path.read_bytes()[:1500])
    with pytest.raises(LoadError) as caught:
        _load(path)
    assert "corrupt or unreadable .msg" in str(caught.value)


@pytest.mark.real_model
def test_a_store_answers_from_the_newest_message_of_a_msg_thread(tmp_path: Path, real_model_path: Path) -> None:
    from bot.answering import answer
    from tests.conftest import ingest_from

    _msg(tmp_path / "docs")
    kb, report = ingest_from(tmp_path, [Path("docs")], tmp_path / "store")
    try:
        assert report.failed == 0 and report.added == 2, report.errors  # the message and its attachment
        result = answer("Quelle date a été retenue pour l'atelier sur l'interopérabilité ?", role="staff", kb=kb,
                        today=dt.date(2026, 4, 1))
        cited = [s for s in result.sources if s.cited]
        assert cited and cited[0].path == "docs/atelier.msg" and "14 octobre 2026" in cited[0].quote, cited
        assert "30 septembre" not in " ".join(s.quote for s in cited), "a replaced date is no answer"
    finally:
        kb.close()
