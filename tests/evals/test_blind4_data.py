"""The `blind4` set of `evals.answers` stays sound: written from the documents alone, so each
expected fact must be in a document its question cites, as the project's loader reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.corpus import EVAL_DATA, holds, load_questions
from ingest.load import load_document

BLIND4 = EVAL_DATA / "blind4_questions.jsonl"
ROOT = EVAL_DATA.parents[1]
KEYS = ["id", "category", "question", "history", "role", "filters", "answerable", "gold", "expected"]
CATEGORIES = {"fact", "paraphrase", "en_to_fr", "fr_to_en", "table", "list", "unanswerable"}


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    return load_questions(BLIND4)


def other_sets() -> list[dict]:
    """Every question of the other sets in evals/data (conversation turns included)."""
    found = []
    for path in sorted(EVAL_DATA.glob("*.jsonl")):
        if path == BLIND4:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            found += [row] if "question" in row else row.get("turns", [])
    return found


def test_forty_questions_with_every_key_and_the_planned_mix(questions):
    assert [q["id"] for q in questions] == [f"f{n:03d}" for n in range(1, 41)]
    for q in questions:
        assert list(q) == KEYS and q["category"] in CATEGORIES, q["id"]
        assert q["answerable"] == (q["category"] != "unanswerable"), q["id"]
    assert sum(not q["answerable"] for q in questions) == 10
    assert sum(q["category"] == "list" for q in questions) == 4


def test_no_id_or_question_is_shared_with_another_set(questions):
    others = other_sets()
    assert not {q["id"] for q in questions} & {o.get("id") for o in others}
    assert not {q["question"].casefold() for q in questions} & {o["question"].casefold() for o in others}


def test_unanswerable_questions_name_no_document_and_no_fact(questions):
    for q in questions:
        if not q["answerable"]:
            assert q["gold"] == [] and q["expected"] == [], q["id"]


def test_expected_facts_are_short_and_in_a_gold_document_as_loaded(questions):
    texts: dict[str, str] = {}
    problems = []
    for q in (q for q in questions if q["answerable"]):
        wanted = (2, 4) if q["category"] == "list" else (1, 4)
        if not wanted[0] <= len(q["expected"]) <= wanted[1] or any(len(e.split()) > 5 for e in q["expected"]):
            problems.append(f"{q['id']}: expected {q['expected']}")
        for gold in q["gold"]:
            if gold not in texts:
                texts[gold] = load_document(ROOT / gold, max_bytes=50_000_000).text
        for fact in q["expected"]:
            if not any(holds(texts[g], [fact]) for g in q["gold"]):
                problems.append(f"{q['id']}: {fact!r} not in {q['gold']}")
    assert len(texts) >= 15, sorted(texts)
    assert not problems, "\n".join(problems)


def test_the_set_is_one_of_those_evals_answers_asks():
    from evals.answers import SETS

    assert SETS["blind4"] == BLIND4
