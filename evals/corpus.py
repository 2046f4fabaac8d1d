"""Evaluation on Passerelle's own corpus: the question sets in `evals/data/`.

Each question (JSON line) has: id, category, question, history, role, filters,
answerable, gold (document paths), expected (fact strings, any of which must appear).
"""

from __future__ import annotations

import json
import logging
import re
import statistics
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from bot.answering import Answer, AnswerConfig, answer
from bot.answering.retrieve import FusionConfig
from kb.schema import access_for_role
from kb.store import KnowledgeBase

log = logging.getLogger(__name__)

EVAL_DATA = Path(__file__).resolve().parent / "data"
QUESTIONS = EVAL_DATA / "corpus_questions.jsonl"
DEV_QUESTIONS = EVAL_DATA / "dev_questions.jsonl"
# Written for the reader issue before the reader was run on them (never tuned on).
BLIND_QUESTIONS = EVAL_DATA / "blind_questions.jsonl"


def load_questions(path: Path) -> list[dict[str, Any]]:
    """The question set at `path` (one JSON object per line)."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def normalise(text: str) -> str:
    """Case-, accent- and spacing-insensitive form used to look for expected facts."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("\u00a0", " ").replace("\u202f", " "))
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip()


def first_cited(result: Answer) -> tuple[str, str]:
    """The quote and document path of the first cited source ("" when none is cited)."""
    cited = [s for s in result.sources if s.cited]
    return (cited[0].quote, cited[0].path) if cited else ("", "")


def holds(text: str, facts: Iterable[str]) -> bool:
    """True when `text` contains one of `facts`."""
    norm = normalise(text)
    return any(normalise(f) in norm for f in facts if f)


@dataclass
class Outcome:
    """One question's result."""

    question: dict[str, Any]
    result: Answer
    seconds: float
    leaked: list[str] = field(default_factory=list)

    @property
    def gold_ranks(self) -> list[int]:
        gold = set(self.question.get("gold") or ())
        return [i for i, s in enumerate(self.result.sources, start=1) if s.path in gold]

    @property
    def fact_in_answer(self) -> bool:
        return not self.result.abstained and holds(self.result.answer, self.question.get("expected") or ())

    def citation_correct(self) -> bool | None:
        """Does the citation attached to the fact's sentence quote the fact? None if no fact."""
        if not self.fact_in_answer:
            return None
        facts = self.question["expected"]
        quotes = {s.n: s.quote for s in self.result.sources if s.cited}
        for piece in re.finditer(r"(.*?)\s*\[(\d+)\]", self.result.answer):
            if holds(piece.group(1), facts):
                return holds(quotes.get(int(piece.group(2)), ""), facts)
        return False


def run_questions(
    kb: KnowledgeBase, questions: list[dict[str, Any]], config: AnswerConfig = AnswerConfig(), k: int = 5,
    fusion: FusionConfig = FusionConfig(),
) -> list[Outcome]:
    """Ask every question through `bot.answer` and check what each role was shown."""
    access = {r.path: r.access for r in kb.documents().values()}
    outcomes = []
    for q in questions:
        started = time.perf_counter()
        result = answer(q["question"], history=q.get("history") or (), filters=q.get("filters") or None,
                        role=q.get("role", "reader"), k=k, kb=kb, config=config, fusion=fusion)
        seconds = time.perf_counter() - started
        allowed = access_for_role(q.get("role", "reader"))
        leaked = [s.path for s in result.sources if access.get(s.path) not in allowed]
        outcomes.append(Outcome(q, result, seconds, leaked))
    return outcomes


def score(outcomes: list[Outcome]) -> dict[str, Any]:
    """Metrics of a run: retrieval, answer, citations, abstention, leaks, latency."""
    answerable = [o for o in outcomes if o.question.get("answerable", True)]
    unanswerable = [o for o in outcomes if not o.question.get("answerable", True)]
    abstained = [o for o in outcomes if o.result.abstained]
    correct_abstentions = [o for o in abstained if not o.question.get("answerable", True)]
    citations = [c for c in (o.citation_correct() for o in answerable) if c is not None]
    cited = [(o, s) for o in answerable if not o.result.abstained for s in o.result.sources if s.cited]
    latencies = sorted(o.seconds * 1000 for o in outcomes)

    def ratio(part: int, whole: int) -> float | None:
        return round(part / whole, 3) if whole else None

    by_category: dict[str, dict[str, Any]] = {}
    for category in sorted({o.question["category"] for o in outcomes}):
        group = [o for o in outcomes if o.question["category"] == category]
        ans = [o for o in group if o.question.get("answerable", True)]
        by_category[category] = {
            "questions": len(group),
            "gold@5": ratio(sum(1 for o in ans if o.gold_ranks and o.gold_ranks[0] <= 5), len(ans)),
            "fact_in_answer": ratio(sum(o.fact_in_answer for o in ans), len(ans)),
            "abstained": ratio(sum(o.result.abstained for o in group), len(group)),
        }
    return {
        "questions": len(outcomes),
        "answerable": len(answerable),
        "gold@1": ratio(sum(1 for o in answerable if o.gold_ranks and o.gold_ranks[0] == 1), len(answerable)),
        "gold@5": ratio(sum(1 for o in answerable if o.gold_ranks and o.gold_ranks[0] <= 5), len(answerable)),
        "fact_in_answer": ratio(sum(o.fact_in_answer for o in answerable), len(answerable)),
        "citation_precision": ratio(sum(citations), len(citations)),
        "cited_from_gold": ratio(sum(1 for o, s in cited if s.path in set(o.question.get("gold") or ())), len(cited)),
        "abstention_precision": ratio(len(correct_abstentions), len(abstained)),
        "abstention_recall": ratio(len(correct_abstentions), len(unanswerable)),
        "wrong_abstentions": sum(1 for o in abstained if o.question.get("answerable", True)),
        "wrong_answers": sum(1 for o in unanswerable if not o.result.abstained),
        "restricted_leaks": sum(len(o.leaked) for o in outcomes),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "p95": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1) if latencies else None,
        },
        "by_category": by_category,
    }


def failures(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """The questions that went wrong, for reading."""
    rows = []
    for o in outcomes:
        q = o.question
        ok = o.result.abstained if not q.get("answerable", True) else o.fact_in_answer
        if not ok or o.leaked:
            rows.append({"id": q["id"], "category": q["category"], "question": q["question"],
                         "expected": q.get("expected"), "abstained": o.result.abstained,
                         "answer": o.result.answer[:300], "leaked": o.leaked})
    return rows


def format_corpus(metrics: dict[str, Any]) -> str:
    """Markdown table of the corpus metrics next to their targets."""
    targets = {
        "gold@1": None, "gold@5": 0.95, "fact_in_answer": 0.85, "citation_precision": 0.95,
        "cited_from_gold": None, "abstention_precision": 0.9, "abstention_recall": 0.9,
    }
    lines = ["| metric | value | target |", "|---|---|---|"]
    for name, target in targets.items():
        lines.append(f"| {name} | {metrics[name]} | {'≥ ' + str(target) if target else '—'} |")
    lines.append(f"| restricted passages shown to a lower role | {metrics['restricted_leaks']} | 0 |")
    lines.append(f"| wrong abstentions / wrong answers | {metrics['wrong_abstentions']} / {metrics['wrong_answers']} | — |")
    lat = metrics["latency_ms"]
    lines.append(f"| bot.answer latency p50 / p95 (ms, warm) | {lat['p50']} / {lat['p95']} | ≤ 150 / ≤ 400 |")
    lines += ["", "| category | questions | gold@5 | fact in answer | abstained |", "|---|---|---|---|---|"]
    for category, row in metrics["by_category"].items():
        lines.append(f"| {category} | {row['questions']} | {row['gold@5']} | {row['fact_in_answer']} | {row['abstained']} |")
    return "\n".join(lines)
