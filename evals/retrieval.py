"""Where retrieval puts the passage that holds the answer, stage by stage.

For every answerable question: the rank of the first passage holding the gold answer in
the dense ranking, the keyword ranking, their plain fusion, and the list the answer path
reads (`gather_evidence(for_reader=True).reading`); then whether the reader was given a
unit of it. A passage holds the answer when it contains an expected fact (the corpus sets)
or is the gold paragraph and contains the gold text (PIAF).

    python -m evals.retrieval [--sets dev blind test newkinds] [--piaf dev test] [--limit N]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from bot.answering import AnswerConfig, gather_evidence, read, search_filter
from bot.answering.query import parse_query
from bot.answering.retrieve import FusionConfig, dense_search, fuse
from bot.answering.route import route
from evals.corpus import holds, load_questions, normalise
from kb.store import KnowledgeBase, SearchFilter

log = logging.getLogger(__name__)

DEPTH = 40
METHODS = ("dense", "keyword", "fused", "answer path")


@dataclass
class Ranks:
    """Rank (1-based, None when absent) of the first passage holding the answer, per method,
    the answer path's cut-off (passages read), whether a unit the reader read holds the answer
    and whether its first unit does (the unit's own text, not its passage)."""

    ranks: dict[str, int | None]
    cutoff: int
    unit_read: bool
    first_unit: bool


def question_ranks(kb: KnowledgeBase, question: str, history: Sequence[Any], where: SearchFilter,
                   holds_answer: Callable[[dict[str, Any]], bool], config: AnswerConfig,
                   with_units: bool = True) -> Ranks | None:
    """The `Ranks` of one question, or None when it is a question about commitments."""
    query = parse_query(question, history)
    if route(kb, query, where) == "commitments":
        return None
    vector = np.asarray(kb.embeddings.embed_query(query.search), dtype=np.float32)
    dense = dense_search(kb, vector, DEPTH, where)
    keyword = kb.keyword_search(query.search, DEPTH, where)
    fused = fuse(dense, keyword, FusionConfig())
    rows = kb.chunks_by_id(list({cid for cid, _ in dense} | {cid for cid, _ in keyword}))
    good = {cid for cid, row in rows.items() if holds_answer(row)}

    def first(ids: Sequence[str]) -> int | None:
        return next((i for i, cid in enumerate(ids, start=1) if cid in good), None)

    evidence = gather_evidence(kb, query, where, config=config, for_reader=True)
    path_ids = [p.chunk_id for p in evidence.reading]
    good |= {p.chunk_id for p in evidence.reading if holds_answer(p.__dict__)}
    ranks = {"dense": first([c for c, _ in dense]), "keyword": first([c for c, _ in keyword]),
             "fused": first([c for c, _ in fused]), "answer path": first(path_ids)}
    unit_read = first_unit = False
    if with_units:
        read(kb, evidence, config)
        holding = [holds_answer(_unit_row(kb, c)) for c in evidence.candidates]
        unit_read = any(holding)
        first_unit = bool(holding) and holding[0]
    return Ranks(ranks, len(path_ids), unit_read, first_unit)


def _unit_row(kb: KnowledgeBase, candidate: Any) -> dict[str, Any]:
    """A read unit as a row the answer test reads: its quote and its reading (a table row with
    its header's labels), in its document."""
    quote = (kb.document_text(candidate.passage.doc_id) or "")[candidate.unit.start : candidate.unit.end]
    return {"text": f"{quote}\n{candidate.unit.reading}", "doc_id": candidate.passage.doc_id}


def summarise(results: Sequence[Ranks], cutoff: int) -> dict[str, Any]:
    """Share at rank 1 and within `cutoff` per method, and the reader's share."""
    n = max(1, len(results))
    table: dict[str, Any] = {"questions": len(results)}
    for method in METHODS:
        ranks = [r.ranks[method] for r in results]
        table[method] = {"rank1": round(sum(r == 1 for r in ranks) / n, 3),
                         f"top{cutoff}": round(sum(r is not None and r <= cutoff for r in ranks) / n, 3)}
    table["answer path"]["read"] = round(sum(r.ranks["answer path"] is not None for r in results) / n, 3)
    table["units read hold it"] = round(sum(r.unit_read for r in results) / n, 3)
    table["first unit holds it"] = round(sum(r.first_unit for r in results) / n, 3)
    return table


def corpus_set(kb: KnowledgeBase, path: Path, config: AnswerConfig, limit: int | None) -> dict[str, Any]:
    """The ranks of the answerable questions of a corpus question set."""
    results = []
    questions = [q for q in load_questions(path) if q.get("answerable") and q.get("expected")][:limit]
    for q in questions:
        expected = q["expected"]
        r = question_ranks(kb, q["question"], q.get("history") or (), search_filter(q.get("role", "reader"), q.get("filters")),
                           lambda row, e=expected: holds(row["text"], e), config)
        if r is not None:
            results.append(r)
    return summarise(results, config.passages_for_sentences)


def piaf_set(split: str, config: AnswerConfig, limit: int | None, work: Path) -> dict[str, Any]:
    """The ranks of PIAF `split` questions over a store of every PIAF paragraph."""
    from evals.piaf import DEFAULT_PIAF, build_store
    from evals.piaf_reader import evenly, load

    store, data, gold_of = build_store(DEFAULT_PIAF, work)
    doc_of_text = {normalise(data.paragraphs[i][1]): doc for doc, i in gold_of.items()}
    paragraphs, questions = load()
    where = search_filter("reader", None)
    results = []
    for q in evenly([q for q in questions if q.split == split], limit):
        gold_doc = doc_of_text.get(normalise(paragraphs[q.paragraph].text))
        answer = normalise(q.answer)
        r = question_ranks(store, q.text, (), where,
                           lambda row, d=gold_doc, a=answer: row["doc_id"] == d and a in normalise(row["text"]), config)
        if r is not None:
            results.append(r)
    return summarise(results, config.passages_for_sentences)


def format_table(name: str, table: dict[str, Any], cutoff: int) -> str:
    """One markdown table per set."""
    lines = [f"| {name} ({table['questions']} answerable) | rank 1 | in top {cutoff} |", "|---|---|---|"]
    for method in METHODS:
        row = table[method]
        lines.append(f"| {method} | {row['rank1']} | {row[f'top{cutoff}']} |")
    lines.append(f"| answer path: passage read (incl. other language) | | {table['answer path']['read']} |")
    lines.append(f"| a unit the reader read holds it | | {table['units read hold it']} |")
    lines.append(f"| the reader's first unit holds it | {table['first unit holds it']} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from evals.corpus import EVAL_DATA
    from evals.reader import SETS

    sets = dict(SETS, newkinds=EVAL_DATA / "newkinds_questions.jsonl")
    parser = argparse.ArgumentParser(prog="python -m evals.retrieval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("bench-results") / "newkinds-store",
                        help="store of corpus/ plus evals/data/newkinds/ (built when missing)")
    parser.add_argument("--sets", nargs="*", default=["dev", "blind", "test"], choices=list(sets))
    parser.add_argument("--piaf", nargs="*", default=[], choices=("dev", "test"), help="PIAF splits to run")
    parser.add_argument("--limit", type=int, help="questions per set (PIAF: spread evenly)")
    parser.add_argument("--work", type=Path, default=Path("bench-results") / "piaf", help="folder of the PIAF store")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from evals.answers import newkinds_store

    config = AnswerConfig(reader=True)
    cutoff = config.passages_for_sentences
    results: dict[str, Any] = {}
    if args.sets:
        kb = newkinds_store(args.store)
        for name in args.sets:
            if not sets[name].is_file():
                log.warning("question set %s not found: %s", name, sets[name])
                continue
            results[name] = corpus_set(kb, sets[name], config, args.limit)
            print(format_table(name, results[name], cutoff) + "\n", flush=True)
    for split in args.piaf:
        results[f"piaf-{split}"] = piaf_set(split, config, args.limit, args.work)
        print(format_table(f"PIAF {split}", results[f"piaf-{split}"], cutoff) + "\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
