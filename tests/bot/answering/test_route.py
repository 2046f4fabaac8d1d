"""The router (`bot.answering.route.route`): the commitments or the documents, on the real corpus store."""

from __future__ import annotations

from datetime import date

import pytest

from bot.answering.query import parse_query
from bot.answering.route import route
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
    ],
)
def test_route(corpus_store: KnowledgeBase, question: str, target: str) -> None:
    query = parse_query(question, today=TODAY)
    assert route(corpus_store, query, SearchFilter.for_role("official")) == target
