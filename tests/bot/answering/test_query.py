"""The question read once (`bot.answering.query.parse_query`): what each later stage reads from it."""

from __future__ import annotations

from datetime import date

import pytest

from bot.answering import AnswerConfig, answer
from bot.answering.conversation import stands_alone
from bot.answering.query import Query, QuestionError, parse_query
from evals.corpus import holds
from kb.store import KnowledgeBase

TODAY = date(2026, 3, 1)


def test_a_question_is_read_into_the_fields_the_stages_use() -> None:
    query = parse_query("Combien de réunions la CEAC a-t-elle tenues en 2026, après le 19 mai ?", today=TODAY)
    assert isinstance(query, Query)
    assert query.language == "fr"
    assert query.search == query.question and not query.follow_up
    assert "CEAC" in query.names
    assert query.commitments is None
    assert not query.wants_list


def test_the_salient_words_say_which_are_names() -> None:
    query = parse_query("Que signifie le sigle CEAC ?")
    assert ("CEAC", True) in query.salient and ("signifie", False) in query.salient
    assert ("Que", False) in query.salient, "the first word is no name"


def test_a_follow_up_searches_with_the_subject_of_the_conversation() -> None:
    query = parse_query("Et pour la CEAC ?", ["Quelles sont les obligations de la SENUM ?"])
    assert query.follow_up
    assert query.search.startswith("Quelles sont les obligations de la CEAC ?")
    # A follow-up asking something new is searched as asked, followed by what the subject is about:
    # the reader, which reads the search query, must answer the new question, not the earlier one.
    launched = parse_query("Quand a-t-il été lancé ?", ["Quels sont les quatre axes du New Deal technologique ?"])
    assert launched.search == "Quand a-t-il été lancé ? quatre axes du New Deal technologique"
    # The question itself is kept as asked: its names are its own.
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


# ----- follow-ups and topic switches (bot.answering.conversation) --------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "Who signed the memorandum with the CEAC?",  # a name: its own subject, however short
        "Que signifie MDDT ?",
        "Qui prend en charge les frais de mission ?",  # three content words, nothing pointing back
        "Dans quel délai SENUM doit-elle désigner son point focal ?",  # "-elle" repeats SENUM
        "Combien de candidatures l'appel GovTech a-t-il reçues ?",
        "How long does it take to get the electronic visa?",  # the "it" of "does it take" is no one
        "Qu'est-ce que la CEAC ?",
    ],
)
def test_a_question_with_its_own_subject_stands_alone(question: str) -> None:
    assert stands_alone(question)
    history = ["Comment la coopération contribue-t-elle aux axes du New Deal technologique ?", "Et l'axe 1 ?"]
    assert parse_query(question, history).search == question


@pytest.mark.parametrize(
    "question",
    [
        "Et combien y en a-t-il ?",  # continues the previous question
        "And when?",
        "Qui la préside ?",  # a pronoun standing for what was asked about
        "Who will appoint it?",
        "Combien de membres compte ce comité ?",  # a demonstrative
        "Combien de membres compte-t-elle ?",  # "-elle" with no noun it repeats
        "Par qui sa mise en œuvre est-elle pilotée ?",  # a possessive, no name
        "Combien de participants y ont assisté ?",
        "Où ?",  # nothing left once the question word is set aside
        "Qui arrête la liste ?",
    ],
)
def test_a_question_that_lacks_a_subject_is_a_follow_up(question: str) -> None:
    assert not stands_alone(question)
    first = "Quels sont les quatre axes du New Deal technologique ?"
    query = parse_query(question, [first])
    assert query.follow_up and query.search == f"{question} quatre axes du New Deal technologique"


def test_a_new_question_after_a_follow_up_does_not_inherit_the_old_subject() -> None:
    history = ["Quels sont les quatre axes du New Deal technologique ?", "Et combien y en a-t-il ?"]
    query = parse_query("Who signed the memorandum with the CEAC?", history)
    assert not query.follow_up and query.search == "Who signed the memorandum with the CEAC?"


def test_a_bare_follow_up_replaces_the_phrase_it_stands_for_in_either_language() -> None:
    first = "Qui copréside la commission cybersécurité ?"
    assert parse_query("And the training commission?", [first]).search.startswith(
        "Qui copréside la training commission ?")
    english = "Who co-chairs the start-up/State commission?"
    assert parse_query("And the digitalisation commission?", [english]).search.startswith(
        "Who co-chairs the digitalisation commission?")
    assert parse_query("What about IDDA?", ["Dans quel délai SENUM doit-elle désigner son point focal ?"]).search \
        .startswith("Dans quel délai IDDA doit-elle désigner son point focal ?")


def test_a_follow_up_borrows_the_last_subject_not_the_words_of_a_follow_up() -> None:
    # The replaced subject carries on: the members asked for are the training commission's.
    swapped = parse_query("Combien de membres compte-t-elle ?",
                          ["Qui copréside la commission cybersécurité ?", "And the training commission?"])
    assert swapped.search == "Combien de membres compte-t-elle ? copréside la training commission"
    # A follow-up that only asked something new leaves the subject as it was.
    chained = parse_query("Et qui l'a coprésidée ?", ["Quand a eu lieu la réunion de lancement ?",
                                                       "Combien de participants y ont assisté ?"])
    assert chained.search == "Et qui l'a coprésidée ? réunion de lancement"
    # After a topic switch, a follow-up is about the new topic.
    switched = parse_query("Qui le copréside ?", ["Que signifie CDP ?", "Et la CEAC ?",
                                                  "Quand le comité de pilotage conjoint s'est-il réuni ?"])
    assert switched.search == "Qui le copréside ? comité de pilotage conjoint s'est-il réuni"


@pytest.mark.real_model
def test_a_conversation_with_a_follow_up_and_a_topic_switch(corpus_store: KnowledgeBase) -> None:
    """Through the real model, reader and sample-corpus store: the follow-up is answered about the
    commission asked about before, and the new question after it is answered as in a fresh conversation."""
    reader = AnswerConfig(reader=True)
    history = ["Which joint commission still lacks an Azerbaijani co-chair?"]
    follow = answer("Who will appoint it?", history=history, role="official", kb=corpus_store, config=reader)
    first = next(s for s in follow.sources if s.cited)
    assert follow.outcome in ("answered", "to_check") and holds(first.quote, ["appointed by IDDA"]), follow.answer
    history.append("Who will appoint it?")
    switch = "Who signed the memorandum with the CEAC?"
    in_conversation = answer(switch, history=history, role="official", kb=corpus_store, config=reader)
    fresh = answer(switch, role="official", kb=corpus_store, config=reader)
    assert holds(in_conversation.answer, ["IDDA"]), in_conversation.answer
    assert in_conversation.answer == fresh.answer
