"""The reader's answers on the corpus question sets: calibration and side-by-side figures.

Retrieval and the reader's scores do not depend on the threshold, so every question is
read once (`trace`) and each configuration is then decided from the trace (`outcomes`).
Rows of `compare`, on the same retrieved passages:

- reader: the product's answer (reader picks the units and abstains below its threshold);
- scorer: the previous rule stack (`AnswerConfig(reader=False)`), run in full;
- cosine: the candidate sentence the embedding model ranks first, never abstaining.

    python -m evals.reader [--calibrate] [--sets dev blind test]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from bot.answering import (Answer, AnswerConfig, Evidence, compose_units, search_filter, choose_units, declined,
                        gather_evidence, read)
from bot.answering.query import parse_query
from evals.corpus import BLIND_QUESTIONS, DEV_QUESTIONS, QUESTIONS, Outcome, load_questions, run_questions, score
from kb.schema import access_for_role
from kb.store import KnowledgeBase

log = logging.getLogger(__name__)

SETS = {"dev": DEV_QUESTIONS, "blind": BLIND_QUESTIONS, "test": QUESTIONS}
MARGINS = (0.5, 1.0, 1.5, 2.0)


@dataclass
class Traced:
    """One question read once: its evidence with the reader's candidates."""

    question: dict[str, Any]
    evidence: Evidence
    seconds: float
    from_commitments: Answer | None = None


def trace(kb: KnowledgeBase, questions: Sequence[dict[str, Any]], config: AnswerConfig = AnswerConfig()) -> list[Traced]:
    """Retrieve and read every question (questions about commitments are answered from them)."""
    from bot.roadmap import answer_from_commitments
    from bot.answering.route import route

    result = []
    for q in questions:
        started = time.perf_counter()
        where = search_filter(q.get("role", "reader"), q.get("filters"))
        query = parse_query(q["question"], q.get("history") or ())
        from_commitments = None
        if route(kb, query, where) == "commitments":
            from_commitments = answer_from_commitments(kb, query.commitments, where, query.language, None)
        evidence = gather_evidence(kb, query, where, config=config)
        read(kb, evidence, config)
        result.append(Traced(q, evidence, time.perf_counter() - started, from_commitments))
    return result


def _leaks(kb: KnowledgeBase, q: dict[str, Any], result: Answer) -> list[str]:
    access = {r.path: r.access for r in kb.documents().values()}
    allowed = access_for_role(q.get("role", "reader"))
    return [s.path for s in result.sources if access.get(s.path) not in allowed]


def outcomes(kb: KnowledgeBase, traced: Sequence[Traced], config: AnswerConfig, k: int = 5) -> list[Outcome]:
    """The answers `config` gives on traced questions, as `evals.corpus` scores them."""
    result = []
    for t in traced:
        ev = t.evidence
        if t.from_commitments is not None:
            answer = t.from_commitments
        else:
            units = choose_units(ev, config)
            answer = compose_units(kb, units, ev, k, ev.language) if units else declined(kb, ev, k)
        result.append(Outcome(t.question, answer, t.seconds, _leaks(kb, t.question, answer)))
    return result


def cosine_outcomes(kb: KnowledgeBase, traced: Sequence[Traced]) -> list[Outcome]:
    """Baseline: the single candidate sentence with the best embedding cosine, always answered."""
    result = []
    for t in traced:
        sentences = [c for c in t.evidence.candidates if c.unit.kind == "sentence"]
        if not sentences:
            answer = Answer("", True, t.evidence.language, [])
        else:
            best = max(sentences, key=lambda c: c.cosine)
            answer = compose_units(kb, [best], t.evidence, 5, t.evidence.language)
        result.append(Outcome(t.question, answer, t.seconds, []))
    return result


def calibrate(kb: KnowledgeBase, traced: Sequence[Traced], base: AnswerConfig = AnswerConfig()) -> tuple[AnswerConfig, dict[str, Any]]:
    """The reader threshold with the fewest wrong decisions on `traced` (ties: fewer wrong
    abstentions, then the most facts), then the margin with the most facts at that threshold."""
    bests = sorted({round(c.logit, 2) for t in traced for c in t.evidence.candidates[:1]})
    thresholds = sorted({round((a + b) / 2, 3) for a, b in zip(bests, bests[1:])} | {-10.0, 10.0})
    chosen: tuple[tuple, AnswerConfig, dict] | None = None
    for threshold in thresholds:
        config = replace(base, reader_threshold=threshold)
        figures = score(outcomes(kb, traced, config))
        key = (-(figures["wrong_abstentions"] + figures["wrong_answers"]), -figures["wrong_abstentions"],
               figures["fact_in_answer"] or 0)
        if chosen is None or key > chosen[0]:
            chosen = (key, config, figures)
    assert chosen is not None
    config = chosen[1]
    by_margin = {}
    for margin in MARGINS:
        figures = score(outcomes(kb, traced, replace(config, reader_margin=margin)))
        by_margin[margin] = figures["fact_in_answer"] or 0
    margin = max(MARGINS, key=lambda m: (by_margin[m], -m))
    config = replace(config, reader_margin=margin)
    log.info("calibrated reader_threshold=%s reader_margin=%s", config.reader_threshold, margin)
    return config, {"reader_threshold": config.reader_threshold, "reader_margin": margin, "fact_by_margin": by_margin}


ROW_KEYS = ("fact_in_answer", "abstention_precision", "abstention_recall", "wrong_abstentions", "wrong_answers",
            "gold@5", "citation_precision", "restricted_leaks")


def compare(kb: KnowledgeBase, questions: Sequence[dict[str, Any]], config: AnswerConfig) -> dict[str, Any]:
    """Reader, previous scorer and plain cosine on the same questions, same run."""
    config = replace(config, reader=True)
    traced = trace(kb, questions, config)
    answered = outcomes(kb, traced, config)
    rows = {
        "reader": score(answered),
        "scorer": score(run_questions(kb, list(questions), replace(config, reader=False))),
        "cosine": score(cosine_outcomes(kb, traced)),
    }
    citations = [sum(s.cited for s in o.result.sources) for o in answered if not o.result.abstained]
    rows["reader"]["citations_per_answer"] = round(sum(citations) / len(citations), 2) if citations else None
    return rows


def format_rows(name: str, rows: dict[str, Any], keys: Sequence[str] = ROW_KEYS) -> str:
    """A markdown table of `compare`'s rows (or any rows of figures), a column per key."""
    lines = [f"| {name} | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for label, figures in rows.items():
        lines.append(f"| {label} | " + " | ".join(str(figures.get(key)) for key in keys) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("data"), help="store built from corpus/ (default: data)")
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS), help="question sets to run")
    parser.add_argument("--calibrate", action="store_true", help="print the threshold and margin the dev set chooses")
    parser.add_argument("--prerank", choices=("scorer", "cosine"), help="order of the units sent to the reader")
    parser.add_argument("--candidates", type=int, help="units sent to the reader")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from kb.settings import Settings

    kb = KnowledgeBase(Settings.from_env(store=args.store))
    config = AnswerConfig()
    if args.prerank:
        config = replace(config, prerank=args.prerank)
    if args.candidates:
        config = replace(config, reader_candidates=args.candidates)
    results: dict[str, Any] = {}
    if args.calibrate:
        config, results["calibration"] = calibrate(kb, trace(kb, load_questions(DEV_QUESTIONS), config), config)
        print(json.dumps(results["calibration"]))
    for name in args.sets:
        rows = compare(kb, load_questions(SETS[name]), config)
        results[name] = rows
        print(format_rows(name, rows) + "\n")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
