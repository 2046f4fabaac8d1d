"""The `blind4` set of `evals.answers` stays sound: written from the documents alone, so each
expected fact must be in a document its question cites, as the project's loader reads it."""

from __future__ import annotations

import pytest

from evals.corpus import EVAL_DATA, load_questions
from tests.evals import blind_sets

BLIND4 = EVAL_DATA / "blind4_questions.jsonl"


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    return load_questions(BLIND4)


def test_forty_questions_with_every_key_and_the_planned_mix(questions):
    blind_sets.check_mix(questions, "f")


def test_no_id_or_question_is_shared_with_another_set(questions):
    blind_sets.check_no_overlap(questions, BLIND4)


def test_unanswerable_questions_name_no_document_and_no_fact(questions):
    blind_sets.check_unanswerable_name_nothing(questions)


def test_expected_facts_are_short_and_in_a_gold_document_as_loaded(questions):
    blind_sets.check_expected_facts(questions)


def test_the_set_is_one_of_those_evals_answers_asks():
    from evals.answers import SETS

    assert SETS["blind4"] == BLIND4
