"""The chat handler's streaming helper: drafts as they grow, then the answer, errors raised."""

from __future__ import annotations

import time

import pytest

from bot.answer import QuestionError
from bot.reply import Answer
from ui import chat


def test_drafts_then_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chat, "DRAFT_REFRESH_S", 0.0)
    final = Answer("Composition : 8 membres. [1]", False, "fr", mode="generated")

    def ask(on_draft):
        for text in ("Compo", "Composition :", "Composition : 8 membres."):
            on_draft(text)
            time.sleep(0.05)  # tokens arrive one by one
        return final

    events = list(chat.drafts_then_answer(ask))
    assert events[-1] == (None, final)
    drafts = [draft for draft, _ in events[:-1]]
    assert drafts == ["Compo", "Composition :", "Composition : 8 membres."]


def test_the_worker_error_reaches_the_handler() -> None:
    def ask(on_draft):
        raise QuestionError("La question est vide : écrivez une question.")

    with pytest.raises(QuestionError, match="La question est vide"):
        list(chat.drafts_then_answer(ask))


def test_an_empty_question_is_shown_as_an_error_in_the_chat(fake_kb) -> None:
    steps = [(c[-1]["content"], cards) for c, _, cards, _ in
             chat.respond(fake_kb.settings, fake_kb, "reader", "   ", [], [], {}, "fr")]
    assert steps[-1][0] == "⚠️ La question est vide : écrivez une question."


def test_earlier_answers_keep_their_cards_folded_under_their_question() -> None:
    from ui.chat import earlier_cards

    turns = [{"question": "Q1 <b>?</b>", "cards": "<div id='src-1-1'>c1</div>"},
             {"question": "Q2", "cards": "<div id='src-3-1'>c3</div>"}]
    html = earlier_cards(turns, "fr")
    assert html.index("src-3-1") < html.index("src-1-1"), "newest first"
    assert html.count("<details class='src-earlier'>") == 2 and "Sources de la question « Q1 &lt;b&gt;?&lt;/b&gt; »" in html
