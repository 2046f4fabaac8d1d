"""Selective answering on questions nobody tuned on: how often the answer path is right,
how often it says it is sure, and how often it declines what it should.

Three answer paths on the same questions, same run:

- **default**: the reader with the calibrator (`bot.answering.abstain`): answered, to check or not in
  the documents;
- **reader, one threshold**: the reader deciding alone with its single threshold
  (`AnswerConfig(calibrated=False)`);
- **scorer**: the plain sentence scorer (`AnswerConfig(reader=False)`, the escape hatch),
  the default before this one (then with hand-written cues, since removed).

The reader is run once per question for both reader rows (`evals.reader.trace`). Figures:
the expected fact in the first unit shown (answered, or first of the passages to check) and
in any unit shown;
answered coverage of the answerable questions and answered precision (an answered
unanswerable question counts as wrong); unanswerable questions never answered; off-topic
questions declined as not in the documents. For the default path, the **risk–coverage curve** of
its confidence (`risk_coverage`): the answerable and unanswerable questions ranked by how sure the
calibrator is, and at each share of them answered, how often the first unit would be right; also
over every corpus set asked together.

    python -m evals.answers [--sets blind blind4 blind5 blind6 blind7 blind8 newkinds offtopic] [--piaf test] [--limit N]
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
from typing import Any, Callable, Sequence

from bot.answering import Answer, AnswerConfig, answer, search_filter
from evals.reader import format_rows
from evals.corpus import BLIND_QUESTIONS, EVAL_DATA, first_cited, holds, load_questions, normalise
from kb.store import KnowledgeBase

log = logging.getLogger(__name__)

SETS = {
    "blind": BLIND_QUESTIONS,
    # Written on 7 December 2026 before the bot was run on it, to choose defaults on.
    "blind4": EVAL_DATA / "blind4_questions.jsonl",
    # Written on 7 December 2026 before the bot was run on it.
    "blind5": EVAL_DATA / "blind5_questions.jsonl",
    # Written on 7 December 2026 before the bot was run on it.
    "blind6": EVAL_DATA / "blind6_questions.jsonl",
    # Written on 7 December 2026 before the bot was run on it.
    "blind7": EVAL_DATA / "blind7_questions.jsonl",
    # Written on 8 December 2026 before the bot was run on it.
    "blind8": EVAL_DATA / "blind8_questions.jsonl",
    "newkinds": EVAL_DATA / "newkinds_questions.jsonl",
    "offtopic": EVAL_DATA / "offtopic_questions.jsonl",
}
NEWKINDS_DOCS = EVAL_DATA / "newkinds"
PATHS = {
    "default": AnswerConfig(reader=True),
    "reader, one threshold": AnswerConfig(reader=True, calibrated=False),
    "scorer": AnswerConfig(reader=False),
}


@dataclass
class Asked:
    """One question's answer under one path, and what the question expects."""

    kind: str  # "answerable" | "unanswerable" | "offtopic"
    result: Answer
    right: Callable[[str], bool]
    seconds: float

    @property
    def first_shown(self) -> str:
        """The quote of the first cited source: the answer's first unit (answered or to check)."""
        return first_cited(self.result)[0]

    @property
    def shown(self) -> str:
        """Every quote cited (answered or to check); nothing for a decline."""
        return "\n".join([self.result.answer] + [s.quote for s in self.result.sources if s.cited])

    @property
    def answered(self) -> bool:
        return not self.result.abstained


def figures(asked: Sequence[Asked]) -> dict[str, Any]:
    """The selective-answering figures of one path on one set."""
    answerable = [a for a in asked if a.kind == "answerable"]
    unanswerable = [a for a in asked if a.kind == "unanswerable"]
    offtopic = [a for a in asked if a.kind == "offtopic"]
    answered = [a for a in asked if a.answered]
    right = [a for a in answered if a.kind == "answerable" and a.right(a.result.answer + "\n" + a.first_shown)]

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 3) if whole else None

    seconds = sorted(a.seconds for a in asked)
    return {
        "questions": len(asked),
        "fact_in_first_unit_shown": share(sum(a.right(a.first_shown) for a in answerable), len(answerable)),
        # Anywhere in what is shown: the answer's quotes, or the passages to check.
        "fact_in_units_shown": share(sum(a.right(a.shown) for a in answerable), len(answerable)),
        "answered_coverage": share(sum(a.answered for a in answerable), len(answerable)),
        "answered_precision": share(len(right), len(answered)),
        "unanswerable_not_answered": share(sum(not a.answered for a in unanswerable), len(unanswerable)),
        "offtopic_not_in_documents": share(sum(a.result.outcome == "not_in_documents" for a in offtopic), len(offtopic)),
        "to_check": share(sum(a.result.outcome == "to_check" for a in asked), len(asked)),
        "p50_ms": round(1000 * seconds[len(seconds) // 2], 1) if seconds else None,
    }


# Shares of the questions answered, most confident first, at which the curve is printed.
COVERAGE_POINTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def _confidence(asked: Asked) -> float:
    """How sure the path is of the question's first unit; an answer without a calibrated
    confidence (the commitments register's) counts as sure when it answers."""
    confidence = asked.result.confidence
    if confidence is None:
        return 1.0 if asked.answered else 0.0
    return float(confidence)


def risk_coverage(asked: Sequence[Asked], points: Sequence[float] = COVERAGE_POINTS) -> dict[str, Any] | None:
    """The risk–coverage curve of one path's confidence (selective question answering): the
    answerable and unanswerable questions ranked most confident first; answering the first
    share `c` of them, `precision` is how many of those answers would be right (an answerable
    question whose first unit shown holds its fact; an unanswerable one is always wrong), `risk` its
    complement, `answerable_coverage` the share of the answerable questions answered right and
    `confidence` the threshold that share needs. `aurc` is the mean risk over every prefix
    (area under the curve: lower is better). None without such questions."""
    pool = sorted((a for a in asked if a.kind in ("answerable", "unanswerable")), key=_confidence, reverse=True)
    if not pool:
        return None
    # The first unit alone: what the confidence is about (a "to check" answer's text lists every unit).
    correct = [a.kind == "answerable" and a.right(a.first_shown) for a in pool]
    answerable = sum(a.kind == "answerable" for a in pool)
    running, risks = 0, []
    for k, ok in enumerate(correct, start=1):
        running += ok
        risks.append(1 - running / k)
    rows = []
    for share in points:
        k = min(len(pool), max(1, round(share * len(pool))))
        right = sum(correct[:k])
        rows.append({"coverage": share, "answered": k, "precision": round(right / k, 3), "risk": round(1 - right / k, 3),
                     "answerable_coverage": round(right / answerable, 3) if answerable else None,
                     "confidence": round(_confidence(pool[k - 1]), 3)})
    return {"questions": len(pool), "aurc": round(sum(risks) / len(risks), 3), "points": rows}


def format_curve(name: str, curve: dict[str, Any]) -> str:
    """A markdown table of a `risk_coverage` curve, a column per share answered."""
    points = curve["points"]
    lines = [f"| {name}: risk–coverage ({curve['questions']} questions, AURC {curve['aurc']}) | "
             + " | ".join(str(p["coverage"]) for p in points) + " |", "|---" * (len(points) + 1) + "|"]
    for key in ("precision", "answerable_coverage", "confidence"):
        lines.append(f"| {key} | " + " | ".join(str(p[key]) for p in points) + " |")
    return "\n".join(lines)


def ask(kb: KnowledgeBase, question: str, history: Any, role: str, where: Any, k: int = 5) -> dict[str, tuple[Answer, float]]:
    """One question under every path; the reader reads it once for both reader paths."""
    from bot.answering import compose_units, choose_units, decided, declined, gather_evidence, read
    from bot.answering.query import parse_query
    from bot.roadmap import answer_from_commitments
    from bot.answering.route import route

    started = time.perf_counter()
    query = parse_query(question, history)
    config = PATHS["default"]
    if route(kb, query, where) == "commitments":
        found = answer_from_commitments(kb, query.commitments, where, query.language, None)
        if found is not None:
            seconds = time.perf_counter() - started
            return {name: (found, seconds) for name in PATHS}
    evidence = gather_evidence(kb, query, where, k=k, config=config, for_reader=True)
    read(kb, evidence, config)
    read_at = time.perf_counter()
    result = {"default": (decided(kb, evidence, config, k, query.language), time.perf_counter() - started)}
    units = choose_units(evidence, PATHS["reader, one threshold"])
    single = compose_units(kb, units, evidence, k, query.language) if units else declined(kb, evidence, k)
    result["reader, one threshold"] = (single, read_at - started)
    started = time.perf_counter()
    scorer = answer(question, history, role=role, kb=kb, config=PATHS["scorer"], where=where, k=k)
    result["scorer"] = (scorer, time.perf_counter() - started)
    return result


def ask_all(kb: KnowledgeBase, items: Sequence[tuple[str, str, Any, str, Any, Callable[[str], bool]]],
            label: str, pooled: list[Asked] | None = None) -> dict[str, dict[str, Any]]:
    """Every (kind, question, history, role, search filter, right) under every path; the
    default path's figures carry its `risk_coverage` curve, and its answers are added to
    `pooled` when given (for the curve over several sets)."""
    asked: dict[str, list[Asked]] = {name: [] for name in PATHS}
    for i, (kind, question, history, role, where, right) in enumerate(items, start=1):
        for name, (result, seconds) in ask(kb, question, history, role, where).items():
            asked[name].append(Asked(kind, result, right, seconds))
        if i % 50 == 0:
            log.info("%s: %d/%d questions", label, i, len(items))
    rows = {name: figures(found) for name, found in asked.items()}
    rows["default"]["risk_coverage"] = risk_coverage(asked["default"])
    if pooled is not None:
        pooled.extend(asked["default"])
    log.info("%s: %s", label, rows)
    return rows


def corpus_items(path: Path, offtopic: bool = False) -> list[tuple[str, str, Any, str, Any, Callable[[str], bool]]]:
    """The questions of a corpus set as `ask_all` items (questions about commitments included)."""
    items = []
    for q in load_questions(path):
        expected = q.get("expected") or []
        kind = "offtopic" if offtopic or q.get("category") == "offtopic" else (
            "answerable" if q.get("answerable") else "unanswerable")
        role = q.get("role", "reader")
        items.append((kind, q["question"], q.get("history") or (), role, search_filter(role, q.get("filters")),
                      lambda shown, e=expected: bool(e) and holds(shown, e)))
    return items


def piaf_items(split: str, limit: int | None, work: Path) -> tuple[KnowledgeBase, list[Any]]:
    """PIAF `split` questions with their article (answerable) and without it (near misses)."""
    from evals.piaf import DEFAULT_PIAF, build_store
    from evals.piaf_reader import article_documents, evenly, load, own_article

    store, _, _ = build_store(DEFAULT_PIAF, work)
    articles = article_documents(store)
    paragraphs, questions = load()
    items = []
    reader = search_filter("reader", None)
    for q in evenly([q for q in questions if q.split == split], limit):
        gold = normalise(q.answer)
        right = (lambda shown, g=gold: g in normalise(shown))
        items.append(("answerable", q.text, (), "reader", reader, right))
        excluded = own_article(articles, paragraphs[q.paragraph])
        items.append(("unanswerable", q.text, (), "reader", replace(reader, exclude_documents=excluded), right))
    return store, items


KEYS = ("fact_in_first_unit_shown", "fact_in_units_shown", "answered_coverage", "answered_precision",
        "unanswerable_not_answered", "offtopic_not_in_documents", "to_check", "p50_ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.answers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("bench-results") / "newkinds-store",
                        help="store of corpus/ plus evals/data/newkinds/ (built when missing)")
    parser.add_argument("--sets", nargs="*", default=list(SETS), choices=list(SETS))
    parser.add_argument("--piaf", nargs="*", default=[], choices=("dev", "test"), help="PIAF splits (with and without their article)")
    parser.add_argument("--limit", type=int, help="PIAF questions per split (spread evenly)")
    parser.add_argument("--work", type=Path, default=Path("bench-results") / "piaf", help="folder of the PIAF store")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("sentence_transformers", "kb.embeddings", "bot", "httpx", "chromadb", "ingest"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    results: dict[str, Any] = {}
    if args.sets:
        kb = newkinds_store(args.store)
        pooled: list[Asked] = []
        for name in args.sets:
            results[name] = ask_all(kb, corpus_items(SETS[name], offtopic=name == "offtopic"), name, pooled)
            print(format_rows(name, results[name], KEYS) + "\n", flush=True)
            _print_curve(name, results[name]["default"]["risk_coverage"])
        if len(args.sets) > 1:
            results["corpus-sets"] = {"default": {"risk_coverage": risk_coverage(pooled)}}
            _print_curve("all corpus sets asked, default", results["corpus-sets"]["default"]["risk_coverage"])
    for split in args.piaf:
        store, items = piaf_items(split, args.limit, args.work)
        results[f"piaf-{split}"] = ask_all(store, items, f"PIAF {split}")
        print(format_rows(f"PIAF {split} (with and without the article)", results[f"piaf-{split}"], KEYS) + "\n", flush=True)
        _print_curve(f"PIAF {split}, default", results[f"piaf-{split}"]["default"]["risk_coverage"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def _print_curve(name: str, curve: dict[str, Any] | None) -> None:
    if curve is not None:
        print(format_curve(name, curve) + "\n", flush=True)


def newkinds_store(store: Path) -> KnowledgeBase:
    """The store of the sample corpus plus the five new-kinds documents (ingested incrementally)."""
    from ingest.index import ingest_paths
    from kb.settings import PROJECT_ROOT, Settings

    # Embedded, whatever the environment says: the bench's own store.
    settings = replace(Settings.from_env(store=store), chroma_host=None)
    report = ingest_paths([PROJECT_ROOT / "corpus", NEWKINDS_DOCS], settings, prune=True, progress=False)
    if report.failed:
        raise RuntimeError(f"ingesting the evaluation store failed for {report.failed} file(s): {report.errors[:3]}")
    return KnowledgeBase(settings)


if __name__ == "__main__":
    sys.exit(main())
