"""The router (`bot.answering.route`): the commitments or the documents, on the real corpus store; a
question about one action (a topic, no filter) goes to the documents."""

from __future__ import annotations

from datetime import date

import pytest

from bot.answering.query import parse_query
from bot.answering import answer
from bot.answering.route import about_one_action, route
from bot.roadmap import recognise
from kb.store import KnowledgeBase, SearchFilter

TODAY = date(2026, 6, 15)


@pytest.mark.real_model
@pytest.mark.parametrize(
    ("question", "target"),
    [
        ("Qu'est-ce qui est en retard ?", "commitments"),
        ("Quelles sont les échéances de la SENUM ?", "commitments"),
        ("Qui copréside la commission mixte cybersécurité ?", "documents"),
        # A question about commitments of something no document names goes to the documents,
        # which decline it, rather than to an unrelated list of commitments.
        ("Quels engagements le Sénégal a-t-il pris avec l'Estonie ?", "documents"),
        # About one action (`about_one_action`): the passages that state it answer.
        ("Quelle est l'échéance actuelle du portail pilote de démarches en ligne ?", "documents"),
    ],
)
def test_route(corpus_store: KnowledgeBase, question: str, target: str) -> None:
    query = parse_query(question, today=TODAY)
    assert route(corpus_store, query, SearchFilter.for_role("official")) == target


def test_a_question_filtering_the_commitments_is_not_about_one_action() -> None:
    assert about_one_action(recognise("Who is responsible for the cybersecurity training?", TODAY))
    assert about_one_action(recognise("Quelle est l'échéance actuelle du portail pilote ?", TODAY))
    assert not about_one_action(recognise("Qu'est-ce qui est en retard ?", TODAY))
    assert not about_one_action(recognise("Quelles sont les échéances de la SENUM ?", TODAY))
    assert not about_one_action(recognise("What is due before June?", TODAY))


@pytest.mark.real_model
def test_a_question_about_one_action_is_answered_by_the_passage_that_states_it(corpus_store: KnowledgeBase) -> None:
    # "Qui doit" reads like a commitment, but the staff FAQ's rule on incidents is none: the
    # documents answer, with the sentence that states it, not a list of commitments.
    incident = answer("Qui doit être prévenu quand on soupçonne un incident de sécurité ?", role="staff",
                      kb=corpus_store, today=TODAY)
    assert not incident.answer.startswith("D'après les engagements"), incident.answer
    first = next(s for s in incident.sources if s.cited)
    assert "faq-personnel" in first.path and "24 heures" in first.quote, first
