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
