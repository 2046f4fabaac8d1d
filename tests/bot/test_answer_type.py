"""The kind of fact a question asks for, and whether a sentence states one."""

from __future__ import annotations

import pytest

from bot.answer import AnswerConfig, _unknown_share, answer
from bot.query import parse_query
from bot.answer_type import answer_type
from evals.corpus import holds
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
        ("Quel jour exactement le Demo Day aura-t-il lieu ?", "day"),
        ("On what date were the focal points appointed?", "day"),
        ("Date de clôture de l'appel GovTech ?", "date"),
        ("Que signifie le sigle CEAC ?", "definition"),
        ("What does SENUM stand for?", "definition"),
        ("Comment s'appelle le directeur général de SENUM ?", "name"),
        ("Quel est le nom de code de l'évaluation de sécurité ?", "name"),
        ("What is the name of the CEAC focal point?", "name"),
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
        ("Combien de candidatures ?", "143 candidatures reçues au 30 avril 2026",
         "La CEAC lance l'appel à candidatures le 27 mars 2026."),  # a date is not a count
        ("Combien de participants ?", "Elle a réuni trente-quatre participants, soit trois de plus.",
         "Il comprend une présentation de chaque participant."),  # "une" is an article, not a number
        ("À quelle fréquence ?", "Il se réunit deux fois par an.", "Il se réunit à Dakar."),
        ("What share of procedures?", "90 % des démarches accessibles en ligne",
         "Il fixe un cap à l'horizon 2034."),
        ("Quelle est la durée du protocole ?", "conclu pour une durée de deux (2) ans", "conclu à Dakar"),
        ("Combien coûte le Demo Day ?", "une enveloppe de 380 millions FCFA", "un Demo Day en octobre 2026"),
        ("Que signifie le sigle CEAC ?", "- CEAC : Commission d'évaluation, d'appui et de coordination des start-up",
         "Adressez-vous au point focal de la CEAC."),
        ("Que signifie le sigle CEAC ?", "La Commission d'évaluation, d'appui et de coordination des start-up (CEAC) lance",
         "La CEAC et l'IDDA ont signé."),
        # Capitalised institutions and places are no name; an apposition, a quote or a naming verb is.
        ("Comment s'appelle la signature mobile ?", "Azerbaijan offers a mobile digital signature, ASAN İmza, which relies",
         "Pour Sénégal Numérique SA : le directeur général, à Dakar."),
        ("Quel est le nom de code de l'évaluation ?", "« Opération Baobab » désigne l'évaluation.",
         "L'évaluation de sécurité de SENUM s'est tenue en février et mars 2026."),
        ("What is the name of the one-stop centres?", 'one-stop service centres, known as "ASAN xidmət"',
         "The ASAN agency operates the one-stop centres."),
        # A name must come with what it names.
        ("Comment s'appelle le directeur général de SENUM ?", "Le directeur général, appelé « M. X », copréside.",
         "Azerbaijan offers a mobile digital signature, ASAN İmza, which relies on a SIM card."),
        # A count must count what is asked: days, not agents.
        ("Combien de jours de congés sont accordés aux agents ?", "Les agents disposent de 25 jours de congés.",
         "La Cellule de coordination compte cinq agents."),
        ("How many members sit on the committee?", "composé de quatre membres", "il se réunit deux fois par an"),
        ("Combien d'entre elles iront à Bakou ?", "5 start-up suivront un programme à Bakou", "Elles iront à Bakou."),
        # Which side is counted matters: the Senegalese selection is no count of Azerbaijani start-ups.
        ("Combien de start-up azerbaïdjanaises viendront à Dakar ?", "accueillir 4 start-up azerbaïdjanaises à Dakar",
         "la CEAC procède à la sélection de 15 start-up"),
        ("How many Azerbaijani civil servants will be trained?", "12 civil servants from Azerbaijan will train",
         "Immersion of 20 Senegalese civil servants in Baku"),
        # "jours de congés" are days of leave, not days before a mission.
        ("Combien de jours de congés annuels ?", "25 jours de congés par an",
         "au moins 45 jours avant la date de départ"),
        # The number must count the noun asked about, not one of its modifiers.
        ("Combien de mentors sénégalais sont mobilisés ?", "la CEAC mobilise 12 mentors sénégalais",
         "sélectionner 15 start-up sénégalaises labellisées"),
        ("How many Senegalese mentors will the CEAC assign?", "12 mentors from Senegal",
         "select 15 Senegalese start-ups"),
        # "Quel jour" wants a day, not a month.
        ("Quel jour le Demo Day aura-t-il lieu ?", "le Demo Day du 14 octobre 2026", "un Demo Day en octobre 2026"),
        # Lists and tables put the number after the label it counts.
        ("Combien de start-up seront accompagnées en 2026 ?",
         "• Start-up accompagnées dans le cadre des défis d'innovation publique : 15 en 2026.",
         "• Administrations ayant bénéficié d'un diagnostic de cybersécurité : 10 en 2026."),
        # An article counts one, but only right before the noun.
        ("Combien de réunions faut-il suivre le premier mois ?", "assistez à au moins une réunion de la commission",
         "une séance de travail prépare les réunions"),
    ],
)
def test_whether_a_sentence_states_the_fact(question: str, states: str, does_not: str) -> None:
    kind = answer_type(question)
    assert kind is not None
    assert kind.stated(states)
    assert not kind.stated(does_not)


@pytest.mark.parametrize(
    ("question", "counted"),
    [
        ("Combien de mentors sénégalais la CEAC mobilise-t-elle ?", ("mentors", "senegalais")),
        ("How many Azerbaijani civil servants will be trained?", ("servants", "azerbaijani", "civil")),
        ("How many people attended the meeting?", ("people",)),
        ("How many people made up the delegation?", ("people",)),
        ("Combien de grandes ambitions le New Deal se fixe-t-il ?", ("ambitions", "grandes")),
        ("Combien d'entre elles iront à Bakou ?", ()),
    ],
)
def test_what_a_count_question_counts_noun_first(question: str, counted: tuple[str, ...]) -> None:
    kind = answer_type(question)
    assert kind is not None and kind.counted == counted


@pytest.mark.parametrize(
    ("question", "compound"),
    [
        ("Combien de jours de congés annuels ?", "conges"),
        ("Combien de bourses d'échange la commission propose-t-elle ?", "echange"),
        ("Combien de jours de la semaine ?", ""),
        ("How many days of leave?", ""),
    ],
)
def test_what_the_counted_noun_is_of(question: str, compound: str) -> None:
    kind = answer_type(question)
    assert kind is not None and kind.compound == compound


def test_unknown_words_only_names_when_the_documents_are_in_another_language() -> None:
    # "terminating" and "notice" are absent from French documents that do answer; "Kazakhstan" is
    # absent because the documents know nothing of it.
    counts = {"notic": 0, "appli": 0, "terminating": 0, "ceac": 5, "memorandum": 2, "kazakhstan": 0, "index": 3}
    question = "What notice period applies to terminating the CEAC memorandum?"
    salient = parse_query(question).salient
    assert _unknown_share(salient, counts) > 0
    assert _unknown_share(salient, counts, names_only=True) == 0
    assert _unknown_share(parse_query("What is the Kazakhstan index?").salient, counts, names_only=True) == 1.0


# ----- end to end: real model, real Chroma, sample corpus -----------------------------
# These pin the sentence scorer's cues, which order the reader's candidates and stand as the
# baseline of `make bench`; with `reader=False` they alone choose the quote and abstain.
LEGACY = AnswerConfig(reader=False)

@pytest.mark.real_model
def test_acronym_question_quotes_its_expansion(corpus_store: KnowledgeBase) -> None:
    result = answer("Que signifie le sigle CEAC ?", kb=corpus_store, config=LEGACY)
    assert not result.abstained, result.answer
    assert holds(result.answer, ["Commission d'évaluation, d'appui et de coordination des start-up"])


@pytest.mark.real_model
def test_frequency_question_quotes_the_frequency_not_a_nearby_sentence(corpus_store: KnowledgeBase) -> None:
    # "dix jours avant chacune de ses réunions" is closer to the words of the question.
    result = answer("À quelle fréquence le comité de pilotage conjoint se réunit-il ?", kb=corpus_store, config=LEGACY)
    assert not result.abstained
    assert holds(result.answer, ["deux fois par an", "twice a year"]), result.answer


@pytest.mark.real_model
@pytest.mark.xfail(strict=False, reason="fails at 32fea04 too on this machine (bf16 embeddings): the scorer quotes "
                   "'avant le 10 décembre 2025' from the roadmap; a near tie the scorer's cues cannot settle")
def test_english_question_answered_from_french_documents_despite_words_they_lack(corpus_store: KnowledgeBase) -> None:
    # "comments" appears in no document: the French minutes say "commentaires… transmis le 9 décembre".
    result = answer("On what date had the Senegalese comments on the draft memoranda been sent?",
                    role="official", kb=corpus_store, config=LEGACY)
    assert not result.abstained, result.answer
    assert holds(result.answer, ["9 décembre 2025"]), result.answer
    assert result.language == "en"


@pytest.mark.real_model
def test_typed_question_with_no_such_fact_abstains(corpus_store: KnowledgeBase) -> None:
    # The documents talk about the Demo Day at length, but never of what it costs.
    result = answer("Combien coûte l'organisation du Demo Day ?", kb=corpus_store, config=LEGACY)
    assert result.abstained, result.answer
    assert any("Demo Day" in s.quote for s in result.sources), "the closest passages are still listed"


@pytest.mark.real_model
def test_name_question_answered_by_a_name_and_not_by_the_role_alone(corpus_store: KnowledgeBase) -> None:
    named = answer("Comment s'appelle la signature électronique mobile proposée en Azerbaïdjan ?", kb=corpus_store, config=LEGACY)
    assert not named.abstained and holds(named.answer, ["ASAN İmza"]), named.answer
    # The documents give the director general's role many times, never a name.
    unnamed = answer("Comment s'appelle le directeur général de SENUM ?", role="official", kb=corpus_store, config=LEGACY)
    assert unnamed.abstained, unnamed.answer


@pytest.mark.real_model
def test_evidence_from_passages_that_never_name_the_question_acronym_does_not_count(corpus_store: KnowledgeBase) -> None:
    # DAGE appears only in a restricted note: the dated sentences staff may read are about
    # other services, however close their wording.
    question = "Avant quelle date la DAGE du MCTN doit-elle préparer le projet de convention de financement ?"
    assert answer(question, role="staff", kb=corpus_store, config=LEGACY).abstained
    official = answer(question, role="official", kb=corpus_store, config=LEGACY)
    assert not official.abstained and "DAGE" in official.sources[0].quote + official.answer, official.answer


@pytest.mark.real_model
def test_count_of_one_side_is_not_answered_by_the_other_sides_count(corpus_store: KnowledgeBase) -> None:
    # The documents count the Senegalese civil servants going to Baku, never Azerbaijani ones.
    assert answer("How many Azerbaijani civil servants will be trained in Dakar?", role="official",
                  kb=corpus_store, config=LEGACY).abstained
    senegalese = answer("How many Senegalese civil servants will go to Baku for the immersion?", role="official",
                        kb=corpus_store, config=LEGACY)
    assert not senegalese.abstained and holds(senegalese.answer, ["20"]), senegalese.answer


@pytest.mark.real_model
def test_a_sentence_about_another_year_is_no_support(corpus_store: KnowledgeBase) -> None:
    # The roadmap gives 5 procedures in 2026 and 20 in 2028, nothing for 2027.
    question = "Combien de démarches administratives la feuille de route prévoit-elle d'avoir dématérialisées à fin {}?"
    assert answer(question.format("2027 "), role="official", kb=corpus_store, config=LEGACY).abstained
    stated = answer(question.format("2028 "), role="official", kb=corpus_store, config=LEGACY)
    assert not stated.abstained and holds(stated.answer, ["20\ndémarches en 2028", "20 démarches en 2028"]), stated.answer


@pytest.mark.real_model
def test_count_given_after_its_label_is_quoted(corpus_store: KnowledgeBase) -> None:
    # The roadmap lists its indicators as "Start-up accompagnées … : 15 en 2026".
    result = answer("Combien de start-up doivent être accompagnées dans le cadre des défis d'innovation publique en 2026 ?",
                    role="official", kb=corpus_store, config=LEGACY)
    assert not result.abstained and holds(result.answer, ["15 en 2026"]), result.answer
