"""Onboarding and documents pages: escaped, localised."""

from __future__ import annotations

import datetime as dt

from bot.onboarding import GlossaryEntry, TimelineEvent
from kb.store import DocumentRecord
from ui.pages import documents_summary, documents_table, onboarding_html, upload_summary


def record(title: str, chunks: int = 3) -> DocumentRecord:
    return DocumentRecord("d/" + title, "corpus/" + title, "h", title, "report", "2026-02-01", ("SENUM",), "fr",
                          "public", True, None, chunks, 0.0)


def test_onboarding_html_escapes_document_text() -> None:
    page = onboarding_html({"report": [record("<script>x</script>")]},
                           [GlossaryEntry("CDP", "Commission <b>données</b>", "Guide", "corpus/g.md", "2026-03-02")],
                           [TimelineEvent("2026-02-01", "Réunion & suite", "meeting_notes", "corpus/r.md")], "fr")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Commission &lt;b&gt;données&lt;/b&gt;" in page and "Réunion &amp; suite" in page
    assert "Glossaire des sigles" in page and "Chronologie" in page


def test_documents_table_and_summary_in_both_languages() -> None:
    headers, rows = documents_table([record("A", 2), record("B", 5)], "en")
    assert headers == ["Title", "Type", "Date", "Access", "Passages", "File"]
    assert rows[1] == ["B", "report", "2026-02-01", "public", 5, "corpus/B"]
    when = dt.datetime(2026, 5, 4, 9, 30)
    assert documents_summary([record("A", 2)], when, "fr") == "1 documents, 2 passages. Dernière ingestion : 2026-05-04 09:30."
    assert documents_summary([], None, "en").endswith("Nothing ingested yet.")


def test_upload_summary_lists_rejections_escaped() -> None:
    text = upload_summary(["corpus/uploads/a.md"], [{"file": "<x>.pdf", "error": "not a PDF"}], "en")
    assert "1 file(s) ingested, 1 rejected." in text and "&lt;x&gt;.pdf" in text


def test_codes_show_as_labels_in_french() -> None:
    meeting = DocumentRecord("d/m", "corpus/m.md", "h", "Réunion", "meeting_notes", "2026-02-01", (), "fr",
                             "restricted", True, None, 1, 0.0)
    headers, rows = documents_table([meeting], "fr")
    assert rows[0][1:4] == ["compte rendu de réunion", "2026-02-01", "diffusion restreinte"]
    page = onboarding_html({"meeting_notes": [meeting]}, [], [TimelineEvent("2026-02-01", "R", "other", "r.md")], "fr")
    assert "<h3>Compte rendu de réunion</h3>" in page and "[autre document]" in page
    assert "meeting_notes" not in page and "[other]" not in page


def test_rejections_are_said_in_the_interface_language() -> None:
    corrupt = {"file": "scan.pdf", "error": "corrupt or unreadable PDF (PdfStreamError: Stream has ended unexpectedly)"}
    french = upload_summary([], [corrupt], "fr")
    assert "scan.pdf : fichier corrompu ou illisible (PDF)" in french and "PdfStreamError" not in french
    assert "scan.pdf: corrupt or unreadable file (PDF)" in upload_summary([], [corrupt], "en")
    too_big = {"file": "gros.docx", "error": "31.5 MB is over the 25 MB limit"}
    assert "31.5 Mo, au-delà de la limite de 25 Mo" in upload_summary([], [too_big], "fr")
    odd = {"file": "x.md", "error": "something nobody foresaw"}
    assert "fichier illisible (MD)" in upload_summary([], [odd], "fr")
