"""The web app's event handlers, called as Gradio calls them, on an empty fake knowledge base."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest

from ui.handlers import Handlers, search_filters


@pytest.fixture
def on(fake_kb) -> Handlers:
    return Handlers(fake_kb.settings, fake_kb)


def test_search_filters_drop_empty_boxes() -> None:
    assert search_filters("", " 2026-01-01 ", "  ", None) == {"doc_type": None, "since": "2026-01-01", "until": None,
                                                              "language": None}


def test_without_logins_the_page_is_the_local_reader_s(on) -> None:
    assert on.session(None) == ("reader", None)
    assert on.session(SimpleNamespace(username="awa")) == ("reader", None), "no users file: nobody is signed in"
    status, page, *_, upload_box, upload_off = on.refresh("en", None)
    assert status.startswith("Demo mode") and "make ingest" in status
    assert upload_box["visible"] is False and upload_off["visible"] is True, "uploads are off unless allowed"


def test_comment_needs_a_rating_and_clear_empties_the_chat(on) -> None:
    assert on.comment(None, "utile", "fr") == ("Notez d'abord une réponse (pouce levé ou baissé).", "utile")
    chat, turns, cards, feedback, note = on.clear("en")
    assert (chat, turns, feedback, note) == ([], [], None, "") and "will show here" in cards


def test_roadmap_without_commitments_hides_the_timeline(on) -> None:
    owners, themes, chart, table = on.roadmap("fr", "", "", "", "", "", None)
    assert chart == gr.update(value=None, visible=False)
    assert "Aucun engagement" in table and owners["choices"] == [("—", "")]


def test_a_bad_date_filter_is_a_clear_error(on) -> None:
    with pytest.raises(gr.Error, match="2026-13-01"):
        on.matching_commitments("fr", "", "", "", "2026-13-01", "", None)


def test_uploads_are_refused_unless_allowed(on, fake_kb) -> None:
    with pytest.raises(gr.Error, match="reserved to administrators"):
        on.upload([], "en", None)
    allowed = Handlers(fake_kb.settings.with_overrides(allow_upload=True), fake_kb)
    assert allowed.upload([], "en", None) == "Choose one or more files first."
