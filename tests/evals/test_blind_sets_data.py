"""The fresh blind sets of `evals.answers` (`blind4`, `blind5`, `blind6`, `blind7`, `blind8`) stay sound:
each is written from the documents alone, so each expected fact must be in a document its question
cites, as the project's loader reads it."""

from __future__ import annotations

import pytest

from evals.corpus import EVAL_DATA, load_questions
from tests.evals import blind_sets

# (set name in evals.answers.SETS, id prefix)
BLIND_SETS = [("blind4", "f"), ("blind5", "g"), ("blind6", "h"), ("blind7", "i"), ("blind8", "j")]


def path_of(name: str):
    return EVAL_DATA / f"{name}_questions.jsonl"


@pytest.fixture(scope="module", params=BLIND_SETS, ids=[name for name, _ in BLIND_SETS])
def blind_set(request) -> tuple[str, str, list[dict]]:
    name, prefix = request.param
    return name, prefix, load_questions(path_of(name))


def test_forty_questions_with_every_key_and_the_planned_mix(blind_set):
    _, prefix, questions = blind_set
    blind_sets.check_mix(questions, prefix)


def test_no_id_or_question_is_shared_with_another_set(blind_set):
    name, _, questions = blind_set
    blind_sets.check_no_overlap(questions, path_of(name))


def test_unanswerable_questions_name_no_document_and_no_fact(blind_set):
    blind_sets.check_unanswerable_name_nothing(blind_set[2])


def test_expected_facts_are_short_and_in_a_gold_document_as_loaded(blind_set):
    blind_sets.check_expected_facts(blind_set[2])


def test_the_set_is_one_of_those_evals_answers_asks(blind_set):
    from evals.answers import SETS

    assert SETS[blind_set[0]] == path_of(blind_set[0])


def test_a_fact_missing_from_its_gold_document_or_a_gold_outside_the_store_is_reported():
    questions = load_questions(path_of("blind5"))
    first = next(q for q in questions if q["answerable"] and q["category"] != "list")
    moved = dict(first, id="x1", expected=["aucun document ne dit"])
    outside = dict(first, id="x2", gold=["evals/data/newformats/files/formations-2027.xlsx"])
    _, problems = blind_sets.expected_fact_problems([first, moved, outside])
    assert [p.split(":")[0] for p in problems] == ["x1", "x2", "x2"], problems
