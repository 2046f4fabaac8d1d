"""The `blind5` set of `evals.answers` stays sound, under the same checks as `blind4`: written from
the documents alone, so each expected fact must be in a document its question cites, as the
project's loader reads it."""

from __future__ import annotations

import pytest

from evals.corpus import EVAL_DATA, load_questions
from tests.evals import blind_sets

BLIND5 = EVAL_DATA / "blind5_questions.jsonl"


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    return load_questions(BLIND5)


def test_forty_questions_with_every_key_and_the_planned_mix(questions):
    blind_sets.check_mix(questions, "g")


def test_no_id_or_question_is_shared_with_another_set(questions):
    blind_sets.check_no_overlap(questions, BLIND5)


def test_unanswerable_questions_name_no_document_and_no_fact(questions):
    blind_sets.check_unanswerable_name_nothing(questions)


def test_expected_facts_are_short_and_in_a_gold_document_as_loaded(questions):
    blind_sets.check_expected_facts(questions)


def test_a_fact_missing_from_its_gold_document_or_a_gold_outside_the_store_is_reported(questions):
    first = next(q for q in questions if q["answerable"] and q["category"] != "list")
    moved = dict(first, id="x1", expected=["aucun document ne dit"])
    outside = dict(first, id="x2", gold=["evals/data/newformats/files/formations-2027.xlsx"])
    _, problems = blind_sets.expected_fact_problems([first, moved, outside])
    assert [p.split(":")[0] for p in problems] == ["x1", "x2", "x2"], problems


def test_the_set_is_one_of_those_evals_answers_asks():
    from evals.answers import SETS

    assert SETS["blind5"] == BLIND5
