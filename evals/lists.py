"""List and summary questions: does the answer quote the section that holds the list?

Each question of `evals/data/list_questions.jsonl` names the items its answer should hold
(`expected_items`: the parts of a list, the decisions of a meeting). Figures per answer
path, on the store of the sample corpus plus the new-kinds documents (`evals.answers`):

- the share of expected items in the first unit shown (the answer's first quote, or the
  first passage to check), averaged over the questions, and the share of questions whose
  first unit holds them all;
- the share of expected items anywhere in what is shown (the answer and every cited quote);
- whether the first unit comes from the expected document, its mean length, and the outcomes.

Rows: the default path, and the same without section units (`AnswerConfig.section_candidates=0`).

    python -m evals.lists [--store bench-results/newkinds-store] [--json FILE] [--show]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from bot.answering import Answer, AnswerConfig, answer, search_filter
from evals.answers import newkinds_store
from evals.corpus import EVAL_DATA, first_cited, load_questions, normalise
from evals.reader import format_rows
from kb.store import KnowledgeBase

log = logging.getLogger(__name__)

LIST_QUESTIONS = EVAL_DATA / "list_questions.jsonl"
PATHS = {"default": AnswerConfig(reader=True), "without sections": AnswerConfig(reader=True, section_candidates=0)}
KEYS = ("items_in_first_unit", "all_items_in_first_unit", "items_shown", "first_unit_from_gold",
        "first_unit_chars", "answered", "to_check", "not_in_documents")


def item_share(text: str, items: Sequence[str]) -> float:
    """Share of `items` found in `text` (case-, accent- and spacing-insensitive)."""
    norm = normalise(text)
    return sum(normalise(item) in norm for item in items) / len(items) if items else 0.0


def figures(questions: Sequence[dict[str, Any]], results: Sequence[Answer]) -> dict[str, Any]:
    """The figures of one path over the questions (results in the same order)."""
    n = len(questions) or 1
    first_shares, shown_shares, from_gold, lengths = [], [], 0, []
    for q, result in zip(questions, results):
        quote, path = first_cited(result)
        items = q["expected_items"]
        first_shares.append(item_share(quote, items))
        shown = "\n".join([result.answer] + [s.quote for s in result.sources if s.cited])
        shown_shares.append(item_share(shown, items))
        from_gold += path in q.get("gold", [])
        lengths.append(len(quote))
    outcomes = Counter(result.outcome for result in results)
    return {
        "items_in_first_unit": round(sum(first_shares) / n, 3),
        "all_items_in_first_unit": round(sum(s == 1.0 for s in first_shares) / n, 3),
        "items_shown": round(sum(shown_shares) / n, 3),
        "first_unit_from_gold": round(from_gold / n, 3),
        "first_unit_chars": round(sum(lengths) / n),
        "answered": outcomes.get("answered", 0),
        "to_check": outcomes.get("to_check", 0),
        "not_in_documents": outcomes.get("not_in_documents", 0),
    }


def run(kb: KnowledgeBase, questions: Sequence[dict[str, Any]], config: AnswerConfig) -> list[Answer]:
    """Every question answered on `kb` under `config`, in order."""
    results = []
    for q in questions:
        role = q.get("role", "reader")
        results.append(answer(q["question"], q.get("history") or (), role=role, kb=kb, config=config,
                              where=search_filter(role, q.get("filters"))))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.lists", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("bench-results") / "newkinds-store",
                        help="store of corpus/ plus evals/data/newkinds/ (built when missing)")
    parser.add_argument("--questions", type=Path, default=LIST_QUESTIONS)
    parser.add_argument("--show", action="store_true", help="print each question's items found and first unit")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    questions = load_questions(args.questions)
    kb = newkinds_store(args.store)
    rows: dict[str, Any] = {}
    for name, config in PATHS.items():
        results = run(kb, questions, config)
        rows[name] = figures(questions, results)
        if args.show:
            for q, result in zip(questions, results):
                quote, path = first_cited(result)
                print(f"{q['id']} [{name}] {result.outcome} items={item_share(quote, q['expected_items']):.2f} "
                      f"{Path(path).name}: {quote[:160]!r}")
    print(format_rows(f"list and summary questions ({len(questions)})", rows, KEYS), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
