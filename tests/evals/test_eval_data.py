"""The evaluation question sets are consistent with the corpus they are asked about.

A question whose expected fact is not in its gold documents, or an "unanswerable"
question that names gold documents, would silently skew the calibration and the
benchmark; these checks catch such mistakes when the sets or the corpus change.
"""

from __future__ import annotations

import pytest

from evals.corpus import BLIND_QUESTIONS, DEV_QUESTIONS, QUESTIONS, holds, load_questions
from kb.schema import access_for_role

SETS = {"dev": DEV_QUESTIONS, "test": QUESTIONS, "blind": BLIND_QUESTIONS}
KEYS = ["id", "category", "question", "history", "role", "filters", "answerable", "gold", "expected"]


@pytest.fixture(scope="module")
def question_sets() -> dict[str, list[dict]]:
    return {name: load_questions(path) for name, path in SETS.items()}


def test_ids_are_unique_across_sets_and_lines_have_every_key(question_sets):
    ids = [q["id"] for questions in question_sets.values() for q in questions]
    assert len(ids) == len(set(ids))
    for questions in question_sets.values():
        for q in questions:
            assert list(q) == KEYS, q["id"]


def test_no_question_is_in_both_sets(question_sets):
    seen: dict[str, str] = {}
    for name, questions in question_sets.items():
        for q in questions:
            key = q["question"].casefold().strip()
            assert seen.setdefault(key, name) == name, f"{q['id']} is in {seen[key]} too"


def test_both_sets_have_answerable_and_unanswerable_questions(question_sets):
    for name, questions in question_sets.items():
        unanswerable = sum(not q["answerable"] for q in questions)
        assert 0.2 <= unanswerable / len(questions) <= 0.6, name


def test_expected_facts_are_in_a_gold_document_the_role_may_read(corpus_store):
    documents = corpus_store.documents()
    problems = []
    for name, path in SETS.items():
        for q in load_questions(path):
            gold = q["gold"]
            missing = [g for g in gold if g not in documents]
            if missing:
                problems.append(f"{name} {q['id']}: unknown gold {missing}")
                continue
            texts = [corpus_store.document_text(g) or "" for g in gold]
            if q["answerable"]:
                readable = [t for g, t in zip(gold, texts) if documents[g].access in access_for_role(q["role"])]
                if not q["expected"] or not any(holds(t, q["expected"]) for t in readable):
                    problems.append(f"{name} {q['id']}: expected fact in no readable gold document")
            elif q["category"] == "restricted":
                # Unanswerable for this role only: the fact is in a document the role may not read.
                if not any(holds(t, q["expected"]) for t in texts):
                    problems.append(f"{name} {q['id']}: restricted fact in no gold document")
                if any(documents[g].access in access_for_role(q["role"]) for g in gold):
                    problems.append(f"{name} {q['id']}: the role may read a gold document")
            elif gold or q["expected"]:
                problems.append(f"{name} {q['id']}: unanswerable but has gold or expected")
    assert not problems, "\n".join(problems)
