"""The question read once (`bot.query.parse_query`): what each later stage reads from it."""

from __future__ import annotations

from datetime import date

import pytest

from bot.query import Query, QuestionError, parse_query

TODAY = date(2026, 3, 1)


def test_a_question_is_read_into_the_fields_the_stages_use() -> None:
    query = parse_query("Combien de réunions la CEAC a-t-elle tenues en 2026, après le 19 mai ?", today=TODAY)
    assert isinstance(query, Query)
    assert query.language == "fr"
    assert query.search == query.question and not query.follow_up
    assert query.kind is not None and query.kind.name == "count"
    assert query.asked_years == {"2026"}
    assert query.named_days == {(5, 19)}
    assert query.acronyms == {"CEAC"}
    assert "CEAC" in query.names
    assert query.commitments is None
    assert not query.wants_list


def test_the_cue_asking_for_the_kind_of_fact_is_not_salient() -> None:
    query = parse_query("Que signifie le sigle CEAC ?")
    words = [word for word, _ in query.salient]
    assert "signifie" not in words and "CEAC" in words
    assert ("CEAC", True) in query.salient


def test_a_follow_up_searches_with_the_subject_of_the_conversation() -> None:
    query = parse_query("Et pour la CEAC ?", ["Quelles sont les obligations de la SENUM ?"])
    assert query.follow_up
    assert query.search.startswith("Quelles sont les obligations de la CEAC ?")
    # The question itself is kept as asked: the kind of fact and the names are its own.
    assert query.question == "Et pour la CEAC ?"


def test_commitment_and_list_questions_are_recognised_once() -> None:
    late = parse_query("Qu'est-ce qui est en retard ?", today=TODAY)
    assert late.commitments is not None and late.commitments.status == "late"
    before = parse_query("What is due before June?", today=TODAY)
    assert before.commitments is not None and before.commitments.before == date(2026, 6, 1)
    assert before.language == "en"
    assert parse_query("Quelles sont les décisions de la réunion du 17 février ?").wants_list


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "La question est vide"), (None, "La question est vide"),
     ("What is the deadline? " * 200, "The question is longer than 2000 characters")],
)
def test_unusable_questions_are_refused_with_a_message(question: str, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        parse_query(question)
