"""The kind of fact a question asks for, and whether a sentence states one."""

from __future__ import annotations

import pytest

from bot.answer import _unknown_share, answer
from bot.answer_type import answer_type
from bot.eval.corpus import holds
from kb.store import KnowledgeBase


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("À quelle fréquence le comité de pilotage se réunit-il ?", "frequency"),
        ("How often does the technical committee meet?", "frequency"),
        ("Combien de temps dure l'immersion à Bakou ?", "duration"),
        ("What notice period applies to terminating the memorandum?", "duration"),
        ("Jusqu'à quel âge une entreprise peut-elle candidater ?", "duration"),
        ("Combien de candidatures l'appel a-t-il reçues ?", "count"),
        ("How many members sit on the committee?", "count"),
        ("Quelle part des démarches sera en ligne en 2034 ?", "percentage"),
        ("Combien coûte l'organisation du Demo Day ?", "money"),
        ("Quel est le montant de la contribution de la Banque mondiale ?", "money"),
        ("Quel rang l'Azerbaïdjan occupe-t-il dans le classement EGDI ?", "rank"),
        ("À quelle heure la cérémonie a-t-elle eu lieu ?", "time"),
        ("Quand le protocole prend-il fin ?", "date"),
        ("Date de clôture de l'appel GovTech ?", "date"),
        ("Que signifie le sigle CEAC ?", "definition"),
        ("What does SENUM stand for?", "definition"),
    ],
)
def test_the_kind_of_fact_asked_for(question: str, kind: str) -> None:
    found = answer_type(question)
    assert found is not None and found.name == kind
    assert found.cue and found.cue in question


@pytest.mark.parametrize("question", ["Qui copréside la commission mixte start-up/État ?",
                                      "Quelles décisions ont été prises ?", "What is ASAN?"])
def test_questions_that_name_no_kind(question: str) -> None:
    assert answer_type(question) is None


@pytest.mark.parametrize(
    ("question", "states", "does_not"),
    [
        ("Combien de candidatures ?", "143 applications received by 30 April 2026",
         "La CEAC lance l'appel le 27 mars 2026."),  # a date is not a count
        ("Combien de candidatures ?", "Elle a réuni trente-quatre participants, soit trois de plus.",
         "Il comprend une présentation de la start-up."),  # "une" is an article, not a number
        ("À quelle fréquence ?", "Il se réunit deux fois par an.", "Il se réunit à Dakar."),
        ("What share of procedures?", "90 % des démarches accessibles en ligne",
         "Il fixe un cap à l'horizon 2034."),
        ("Quelle est la durée du protocole ?", "conclu pour une durée de deux (2) ans", "conclu à Dakar"),
        ("Combien coûte le Demo Day ?", "une enveloppe de 380 millions FCFA", "un Demo Day en octobre 2026"),
        ("Que signifie le sigle CEAC ?", "- CEAC : Commission d'évaluation, d'appui et de coordination des start-up",
         "Adressez-vous au point focal de la CEAC."),
        ("Que signifie le sigle CEAC ?", "La Commission d'évaluation, d'appui et de coordination des start-up (CEAC) lance",
         "La CEAC et l'IDDA ont signé."),
    ],
)
def test_whether_a_sentence_states_the_fact(question: str, states: str, does_not: str) -> None:
    kind = answer_type(question)
    assert kind is not None
    assert kind.stated(states)
    assert not kind.stated(does_not)


def test_unknown_words_only_names_when_the_documents_are_in_another_language() -> None:
    # "terminating" and "notice" are absent from French documents that do answer; "Kazakhstan" is
    # absent because the documents know nothing of it.
    counts = {"notic": 0, "appli": 0, "terminating": 0, "ceac": 5, "memorandum": 2, "kazakhstan": 0, "index": 3}
    question = "What notice period applies to terminating the CEAC memorandum?"
    assert _unknown_share(question, counts) > 0
    assert _unknown_share(question, counts, names_only=True) == 0
    assert _unknown_share("What is the Kazakhstan index?", counts, names_only=True) == 1.0


# ----- end to end: real model, real Chroma, sample corpus -----------------------------
@pytest.mark.real_model
def test_acronym_question_quotes_its_expansion(corpus_store: KnowledgeBase) -> None:
    result = answer("Que signifie le sigle CEAC ?", kb=corpus_store)
    assert not result.abstained, result.answer
    assert holds(result.answer, ["Commission d'évaluation, d'appui et de coordination des start-up"])


@pytest.mark.real_model
def test_frequency_question_quotes_the_frequency_not_a_nearby_sentence(corpus_store: KnowledgeBase) -> None:
    # "dix jours avant chacune de ses réunions" is closer to the words of the question.
    result = answer("À quelle fréquence le comité de pilotage conjoint se réunit-il ?", kb=corpus_store)
    assert not result.abstained
    assert holds(result.answer, ["deux fois par an", "twice a year"]), result.answer


@pytest.mark.real_model
def test_english_question_answered_from_french_documents_despite_words_they_lack(corpus_store: KnowledgeBase) -> None:
    # "comments" appears in no document: the French minutes say "commentaires… transmis le 9 décembre".
    result = answer("On what date had the Senegalese comments on the draft memoranda been sent?",
                    role="official", kb=corpus_store)
    assert not result.abstained, result.answer
    assert holds(result.answer, ["9 décembre 2025"]), result.answer
    assert result.language == "en"


@pytest.mark.real_model
def test_typed_question_with_no_such_fact_abstains(corpus_store: KnowledgeBase) -> None:
    # The documents talk about the Demo Day at length, but never of what it costs.
    result = answer("Combien coûte l'organisation du Demo Day ?", kb=corpus_store)
    assert result.abstained, result.answer
    assert any("Demo Day" in s.quote for s in result.sources), "the closest passages are still listed"
