"""Each role is offered starter questions it can be answered (issue 23, item 9): signed in as each
role (and as the anonymous visitor of an app without logins), every starter question on the home
page, clicked, opens the chat with a cited answer whose sources the role may read. A real server,
the real models and Debian's chromium, as in tests/ui/test_web_app.py."""

from __future__ import annotations

import re

import pytest

from bot.library import visible_documents
from tests.conftest import USERS
from tests.test_browser import browser  # noqa: F401 — fixture
from tests.ui.test_web_app import new_page, open_tab

pytestmark = [pytest.mark.server, pytest.mark.real_model, pytest.mark.slow]

# The first page of a server waits for its starters to be chosen: each candidate asked of the
# knowledge base, a second or so each on 2 cores, much more on a loaded machine.
CHOSEN_WITHIN_MS = 900_000


def starter_texts(page) -> list[str]:
    open_tab(page, "Accueil")
    buttons = page.locator("#starters button")
    buttons.first.wait_for(timeout=CHOSEN_WITHIN_MS)
    return buttons.all_inner_texts()


def click_starter(page, text: str) -> None:
    """Click the starter `text` on the home page and wait for its answer in the chat."""
    open_tab(page, "Accueil")
    page.locator("#starters button", has_text=text).first.click()
    page.wait_for_function("() => document.querySelector('[role=tab][aria-selected=true]').innerText === 'Discussion'")
    page.wait_for_function("q => document.querySelector('#chat').innerText.includes(q)", arg=text)
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=bot]').length === 1 && "
                           "!document.querySelector('#chat').innerText.includes('Recherche dans les documents')")


def cited_titles(page) -> list[str]:
    titles = page.locator("#source-cards .src-card .src-title").all_inner_texts()
    return [re.sub(r"^\[\d+\]\s*", "", t).strip() for t in titles]


def check_every_starter(page, role: str, corpus_store) -> list[str]:
    """Click each starter of the page as `role`: each gets a cited answer from documents the role reads."""
    readable = {r.title for r in visible_documents(corpus_store, role)}
    texts = starter_texts(page)
    assert 3 <= len(texts) <= 6, texts
    for text in texts:
        click_starter(page, text)
        reply = page.locator("#chat [data-testid='bot']").last
        assert reply.locator("a.cite").count() >= 1, f"{role}: {text!r} got no cited answer: {reply.inner_text()}"
        assert "Absent des documents" not in reply.inner_text(), f"{role}: {text!r}"
        titles = cited_titles(page)
        assert titles and set(titles) <= readable, f"{role}: {text!r} cites {set(titles) - readable}"
        page.get_by_role("button", name="Nouvelle conversation").click()  # each starter is asked on its own
        page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=bot]').length === 0")
    return texts


def test_the_visitor_without_logins_is_offered_public_answers(browser, app_server, corpus_store) -> None:  # noqa: F811
    page = new_page(browser, app_server.url)
    texts = check_every_starter(page, "reader", corpus_store)
    about = [t for t in texts if t.startswith("Que fait")]
    assert all(re.match(r"Que fait (la |le |l')[A-Z]", t) for t in about), about
    assert page.locator("#suggested button").all_inner_texts() == texts, "the chat offers the same ones"


def test_each_signed_in_role_is_offered_questions_it_can_be_answered(browser, login_server, corpus_store) -> None:  # noqa: F811
    offered = {}
    for user, role in USERS.items():
        page = new_page(browser, login_server.url, user=user)
        offered[role] = check_every_starter(page, role, corpus_store)
        page.context.close()
    assert offered["official"] == offered["admin"], "the same documents, the same starters"
