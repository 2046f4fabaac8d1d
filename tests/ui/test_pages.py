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
