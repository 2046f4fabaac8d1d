"""Starter questions are chosen for the viewer's role by asking the knowledge base (issue 23, item 9)."""

from __future__ import annotations

import time

import pytest

from bot.starters import FULL_ACCESS_ROLE, Asked, StarterCache, starter_questions, store_version, suits
from kb.store import KnowledgeBase
from tests.bot.test_onboarding import onboarding_kb  # noqa: F401 — fixture

PUBLIC, HIDDEN = "docs/guide.md", "docs/secret.md"


def asked(outcome: str | None, confidence: float | None = 0.5, source: str | None = PUBLIC) -> Asked:
    return Asked("Q ?", outcome, confidence, source)


@pytest.mark.parametrize(("mine", "broadest", "offered"), [
    (asked("answered", 0.9), None, True),
    (asked("to_check", 0.3), None, True),
    (asked("not_in_documents", 0.05, None), None, False),
    (asked("to_check", 0.3, None), None, False),  # nothing cited: nothing to show
    (asked("to_check", 0.3), asked("answered", 0.8, PUBLIC), True),  # the best answer is readable
    (asked("to_check", 0.3), asked("answered", 0.8, HIDDEN), False),  # the answer lies in a hidden document
    (asked("to_check", 0.5), asked("to_check", 0.2, HIDDEN), True),  # the role's own answer is surer
    (asked("answered", 0.7), asked("answered", 0.9, HIDDEN), True),
])
def test_a_question_suits_a_role_when_its_answer_is_readable(mine, broadest, offered) -> None:
    assert suits(mine, broadest, {PUBLIC}) is offered


def test_starters_keep_the_surest_candidates_in_order_and_ask_full_access_for_lower_roles(
        onboarding_kb: KnowledgeBase) -> None:  # noqa: F811
    script = {  # (question, role) -> (outcome, confidence, first source)
        ("A ?", "reader"): ("to_check", 0.2, "guide"), ("A ?", FULL_ACCESS_ROLE): ("to_check", 0.2, "guide"),
        ("B ?", "reader"): ("to_check", 0.3, "guide"), ("B ?", FULL_ACCESS_ROLE): ("answered", 0.9, "secret"),
        ("C ?", "reader"): ("not_in_documents", 0.0, None),
        ("D ?", "reader"): ("answered", 0.8, "guide"), ("D ?", FULL_ACCESS_ROLE): ("answered", 0.8, "guide"),
        ("E ?", "reader"): ("to_check", 0.6, "guide"), ("E ?", FULL_ACCESS_ROLE): ("to_check", 0.6, "guide"),
    }
    paths = {r.title: r.path for r in onboarding_kb.documents().values()}
    where = {"guide": paths["Guide de test"], "secret": paths["Note restreinte de test"]}
    calls = []

    def asker(kb, question, role):
        calls.append((question, role))
        outcome, confidence, doc = script[(question, role)]
        return Asked(question, outcome, confidence, where.get(doc))

    chosen = starter_questions(onboarding_kb, "reader", "fr", count=2, candidates=["A ?", "B ?", "C ?", "D ?", "E ?"],
                               asker=asker)
    assert chosen == ["D ?", "E ?"], "B's answer is restricted, C has none; of A, D, E the two surest, in order"
    assert ("C ?", FULL_ACCESS_ROLE) not in calls, "no full-access check for a question the role cannot use"
    calls.clear()
    script.update({(q, "official"): script[(q, FULL_ACCESS_ROLE)] for q in ("A ?", "B ?", "D ?", "E ?")})
    assert starter_questions(onboarding_kb, "official", "fr", count=6, candidates=["A ?", "B ?", "D ?", "E ?"],
                             asker=asker) == ["A ?", "B ?", "D ?", "E ?"]
    assert all(role == "official" for _, role in calls), "a full-access role is its own reference"


def test_cache_chooses_once_per_access_levels_and_again_when_the_store_changes(onboarding_kb: KnowledgeBase) -> None:  # noqa: F811
    chosen = []

    def choose(kb, role, language, asker):
        chosen.append((role, language))
        return [f"{role} {language} {len(chosen)}"]

    cache = StarterCache(onboarding_kb, choose)
    assert cache.ready("reader", "fr") is None, "nothing chosen yet: ready never waits"
    assert cache.get("reader", "fr") == ["reader fr 1"]
    assert cache.get("reader", "fr") == ["reader fr 1"] and len(chosen) == 1
    cache.warm(("fr",))
    assert [role for role, _ in chosen] == ["reader", "staff", "official"], "admin reads what official reads"
    assert cache.get("admin", "fr") == ["official fr 3"]
    version = store_version(onboarding_kb)
    onboarding_kb.set_meta("last_ingest_at", "1")  # an ingestion happened
    assert store_version(onboarding_kb) != version
    assert cache.ready("reader", "fr") == ["reader fr 1"], "the older choice is served while a new one is made"
    deadline = time.monotonic() + 10
    while cache.ready("reader", "fr") == ["reader fr 1"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.get("reader", "fr") == ["reader fr 4"] and chosen[-1] == ("reader", "fr")


def test_a_failing_choice_shows_no_starters_rather_than_an_error(onboarding_kb: KnowledgeBase) -> None:  # noqa: F811
    def choose(kb, role, language, asker):
        raise RuntimeError("the reader could not load")

    assert StarterCache(onboarding_kb, choose).get("reader", "fr") == []


def test_a_server_down_while_choosing_is_one_warning_and_the_choice_is_made_again(
        onboarding_kb: KnowledgeBase, caplog) -> None:  # noqa: F811
    from kb.chroma_client import ChromaUnreachableError

    calls = []

    def choose(kb, role, language, asker):
        calls.append(role)
        if len(calls) == 1:
            raise ChromaUnreachableError("the knowledge base is unreachable: the Chroma server does not answer")
        return ["Quel est l'objectif du programme ?"]

    cache = StarterCache(onboarding_kb, choose)
    with caplog.at_level("WARNING", logger="bot.starters"):
        assert cache.get("reader", "fr") == []
    assert [r.levelname for r in caplog.records if r.name == "bot.starters"] == ["WARNING"]
    assert "unreachable" in caplog.text and not any(r.exc_info for r in caplog.records)
    assert cache.get("reader", "fr") == ["Quel est l'objectif du programme ?"], "nothing cached from the failure"


@pytest.mark.real_model
@pytest.mark.slow
def test_through_the_real_model_a_restricted_answer_is_offered_to_officials_only(corpus_store: KnowledgeBase) -> None:
    budget = "Quelle enveloppe financière la partie sénégalaise propose-t-elle ?"  # only the restricted note says
    mctn = "Que fait le MCTN dans le programme ?"  # the public onboarding guide says
    candidates = [budget, mctn]
    assert starter_questions(corpus_store, "reader", "fr", candidates=candidates) == [mctn]
    assert starter_questions(corpus_store, "official", "fr", candidates=candidates) == candidates
