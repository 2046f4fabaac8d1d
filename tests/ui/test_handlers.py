"""The web app's event handlers, called as Gradio calls them, on an empty fake knowledge base."""

from __future__ import annotations

import html
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
    chat, turns, cards, feedback, note, *filters = on.clear("en")
    assert (chat, turns, feedback, note) == ([], [], None, "") and "will show here" in cards
    assert filters == ["", "", "", ""], "a new conversation clears the four filters"


def test_roadmap_without_commitments_hides_the_timeline(on) -> None:
    owners, themes, chart, table = on.roadmap("fr", "", "", "", "", "", None)
    assert chart == gr.update(value=None, visible=False)
    assert "Aucun engagement" in table and owners["choices"] == [("—", "")]


def test_a_bad_date_filter_is_a_clear_error(on) -> None:
    with pytest.raises(gr.Error) as caught:
        on.matching_commitments("fr", "", "", "", "2026-13-01", "2026-06-30", None)
    assert caught.value.message == ("Échéance à partir du : 2026-13-01 n'est pas une date AAAA-MM-JJ "
                                    "(par exemple 2026-03-01).")
    with pytest.raises(gr.Error) as caught:
        on.matching_commitments("en", "", "", "", "2026-03-01", "1er mars 2026", None)
    assert caught.value.message.startswith("Deadline before: 1er mars 2026 is not a YYYY-MM-DD date")


def test_a_bad_roadmap_date_shows_in_the_table_and_leaves_the_rest(on) -> None:
    owners, themes, chart, table = on.roadmap("fr", "", "", "", "1er mars 2026", "2026-06-30", None)
    table = html.unescape(table)
    assert (owners, themes, chart) == (gr.skip(), gr.skip(), gr.skip())
    assert "Échéance à partir du : 1er mars 2026 n'est pas une date" in table and "2026-06-30" not in table


def test_a_bad_chat_filter_is_answered_in_the_chat_naming_its_box(on) -> None:
    chat, turns, cards, box = next(on.respond("Qui ?", [], [], "", "01/01/2026", "", "", "fr", None))
    assert chat[-1]["content"] == "⚠️ Depuis : 01/01/2026 n'est pas une date AAAA-MM-JJ \\(par exemple 2026-03-01\\)."
    assert cards == gr.skip() and box == "Qui ?" and turns == []


def test_uploads_are_refused_unless_allowed(on, fake_kb) -> None:
    with pytest.raises(gr.Error, match="reserved to administrators"):
        on.upload([], "en", None)
    allowed = Handlers(fake_kb.settings.with_overrides(allow_upload=True), fake_kb)
    assert allowed.upload([], "en", None) == ("Choose one or more files first.", gr.skip())
