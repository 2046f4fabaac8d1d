"""Checks shared by the data tests of the blind sets `evals.answers` asks (`blind4`, `blind5`, `blind6`,
`blind7`, `blind8`; `test_blind_sets_data.py`).

Each set is written from the documents alone, before the bot is run on it; these checks keep it
sound: the planned mix, no overlap with the other sets, and every expected fact in a gold document
of the evaluation store (corpus/ plus evals/data/newkinds/) as the project's loader reads it.
"""

from __future__ import annotations

import json
from pathlib import Path

from evals.corpus import EVAL_DATA, holds
from ingest.load import load_document

ROOT = EVAL_DATA.parents[1]
KEYS = ["id", "category", "question", "history", "role", "filters", "answerable", "gold", "expected"]
CATEGORIES = {"fact", "paraphrase", "en_to_fr", "fr_to_en", "table", "list", "unanswerable"}
# The documents evals.answers ingests into its store: a gold document elsewhere could never be found.
STORE_FOLDERS = ("corpus/", "evals/data/newkinds/")


def other_sets(own: Path) -> list[dict]:
    """Every question of the other sets in evals/data (conversation turns included)."""
    found = []
    for path in sorted(EVAL_DATA.glob("*.jsonl")):
        if path == own:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            found += [row] if "question" in row else row.get("turns", [])
    return found


def check_mix(questions: list[dict], prefix: str) -> None:
    """Forty questions with ids PREFIX001..PREFIX040, every key, 10 unanswerable and 4 lists."""
    assert [q["id"] for q in questions] == [f"{prefix}{n:03d}" for n in range(1, 41)]
    for q in questions:
        assert list(q) == KEYS and q["category"] in CATEGORIES, q["id"]
        assert q["answerable"] == (q["category"] != "unanswerable"), q["id"]
    assert sum(not q["answerable"] for q in questions) == 10
    assert sum(q["category"] == "list" for q in questions) == 4


def check_no_overlap(questions: list[dict], own: Path) -> None:
    """No id and no question (case aside) is shared with another set."""
    others = other_sets(own)
    assert not {q["id"] for q in questions} & {o.get("id") for o in others}
    assert not {q["question"].casefold() for q in questions} & {o["question"].casefold() for o in others}


def check_unanswerable_name_nothing(questions: list[dict]) -> None:
    """An unanswerable question cites no document and expects no fact."""
    for q in questions:
        if not q["answerable"]:
            assert q["gold"] == [] and q["expected"] == [], q["id"]


def expected_fact_problems(questions: list[dict]) -> tuple[dict[str, str], list[str]]:
    """The gold documents' loaded texts, and what is wrong with the answerable questions' facts."""
    texts: dict[str, str] = {}
    problems = []
    for q in (q for q in questions if q["answerable"]):
        wanted = (2, 4) if q["category"] == "list" else (1, 4)
        if not wanted[0] <= len(q["expected"]) <= wanted[1] or any(len(e.split()) > 5 for e in q["expected"]):
            problems.append(f"{q['id']}: expected {q['expected']}")
        for gold in q["gold"]:
            if not gold.startswith(STORE_FOLDERS):
                problems.append(f"{q['id']}: {gold} is not in the evaluation store")
            elif gold not in texts:
                texts[gold] = load_document(ROOT / gold, max_bytes=50_000_000).text
        for fact in q["expected"]:
            if not any(holds(texts.get(g, ""), [fact]) for g in q["gold"]):
                problems.append(f"{q['id']}: {fact!r} not in {q['gold']}")
    return texts, problems


def check_expected_facts(questions: list[dict], documents: int = 15) -> None:
    """Short expected facts, each in a gold document as loaded, over at least `documents` documents."""
    texts, problems = expected_fact_problems(questions)
    assert len(texts) >= documents, sorted(texts)
    assert not problems, "\n".join(problems)
