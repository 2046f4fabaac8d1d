"""Latency of a warm `bot.answer`: on a large store (20,000 chunks), and before/after the
answer path's speed-ups on the same questions in the same run (24 units read all at once or in
stages, today's 8 units in stages, and with the reader's remembered logits):

    python -m evals.latency [--store DIR] [--questions FILE] [--limit 30] [--passes 2] [--threads N]

The large store is made from the sample corpus: every document is copied under new ids
until the store holds the requested number of chunks, and each copy's vectors are the
original ones with a little noise, so no new embedding is needed and the copies do not
all tie. Chroma's index and the keyword index then have the real size to search.
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers or chromadb is imported: they read it then

import argparse
import json
import logging
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bot.answering import AnswerConfig, answer
from bot.answering.cores import core_share
from evals.corpus import BLIND_QUESTIONS, load_questions
from ingest.load import load_document
from ingest.split import answer_sentences, split_document
from kb.settings import Settings
from kb.store import KnowledgeBase

log = logging.getLogger(__name__)


def build_large_store(source: KnowledgeBase, work_dir: Path, chunks: int = 20_000, seed: int = 7) -> KnowledgeBase:
    """A store of about `chunks` chunks made of noisy copies of `source`'s documents."""
    settings = Settings.from_env({}, store=work_dir / f"large-{chunks}", embedding_model=source.settings.embedding_model)
    large = KnowledgeBase(settings, embeddings=source.embeddings)
    if large.exists and large.chunk_count() >= chunks:
        return large
    large.reset()
    large = KnowledgeBase(settings, embeddings=source.embeddings)
    rng = np.random.default_rng(seed)
    records = list(source.documents().values())
    originals: list[tuple[Any, list, np.ndarray, list, np.ndarray]] = []
    for record in records:
        doc = load_document(Path(record.path), max_bytes=1 << 30)
        doc_chunks = split_document(doc, settings.chunk_size, settings.chunk_overlap)
        by_id = source.chunk_vectors([c.chunk_id for c in doc_chunks])
        chunk_vectors = np.asarray([by_id[c.chunk_id] for c in doc_chunks], dtype=np.float32)
        spans = [(s, e) for s, e, _ in answer_sentences(doc)]
        stored = {start: vector for start, _, vector in source.sentences_in(doc.doc_id, 0, len(doc.text))}
        sentence_vectors = np.asarray([stored[s] for s, _ in spans], dtype=np.float32)
        originals.append((doc, doc_chunks, chunk_vectors, spans, sentence_vectors))
    per_round = sum(len(o[1]) for o in originals)
    rounds = -(-chunks // per_round)
    started = time.monotonic()
    with large.ingest_lock():
        for copy in range(rounds):
            for doc, _, chunk_vectors, spans, sentence_vectors in originals:
                clone = type(doc)(**{**doc.__dict__, "doc_id": f"{doc.doc_id}#copie-{copy}",
                                     "path": f"{doc.path}#copie-{copy}"})
                clone_chunks = split_document(clone, settings.chunk_size, settings.chunk_overlap)
                large.replace_document(
                    clone, clone_chunks, _noisy(chunk_vectors, rng), spans, _noisy(sentence_vectors, rng)
                )
            log.info("large store round=%d/%d chunks=%d", copy + 1, rounds, large.chunk_count())
    log.info("large store built chunks=%d seconds=%.0f", large.chunk_count(), time.monotonic() - started)
    return large


def _noisy(vectors: np.ndarray, rng: np.random.Generator, scale: float = 0.02) -> np.ndarray:
    noisy = vectors + rng.normal(0, scale, vectors.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def measure(kb: KnowledgeBase, questions: list[dict[str, Any]], repeat: int = 1) -> dict[str, float]:
    """p50/p95 (ms) of warm `bot.answer` calls over `questions`."""
    answer(questions[0]["question"], role="official", kb=kb)  # warm-up: model and indexes
    times = []
    for _ in range(repeat):
        for q in questions:
            started = time.perf_counter()
            answer(q["question"], history=q.get("history") or (), filters=q.get("filters") or None,
                   role=q.get("role", "reader"), kb=kb)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"calls": len(times), "p50": round(statistics.median(times), 1),
            "p95": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1)}


# ----- before / after, same run -----------------------------------------------------
VARIANTS = {
    # A first-time question: the reader reads 24 units (and 4 sections) all at once (the first
    # reader), or, today's default, the best 8 units and 3 sections 8 at a time until one is
    # clearly an answer (`AnswerConfig.reader_candidates`, PASSERELLE_READER_FIRST), or the same
    # 4 at a time (measured, not kept: README); by default, units its probe guesses far below the
    # best after 8 layers are not read to the end (`AnswerConfig.reader_prune`), where the
    # rows before it read every unit whole.
    "24 units at once": AnswerConfig(reader=True, reader_cache=False, reader_first=0,
                                     reader_candidates=24, section_candidates=4, reader_prune=False),
    "8 units, every unit read whole": AnswerConfig(reader=True, reader_cache=False, reader_prune=False),
    "default (8 units, 8 at a time)": AnswerConfig(reader=True, reader_cache=False),
    "8 units, 4 at a time": AnswerConfig(reader=True, reader_cache=False, reader_first=4),
    "default, remembered logits": AnswerConfig(reader=True, reader_cache=True),
}
DEFAULT = "default (8 units, 8 at a time)"


def compare(kb: KnowledgeBase, questions: list[dict[str, Any]], passes: int = 2) -> dict[str, Any]:
    """Warm `bot.answer` latency of each variant of `VARIANTS` on the same questions, the
    variants alternated question by question (so that a busy machine slows both alike), over
    `passes` passes: the first asks each question for the first time, later ones ask it
    again. Wall and CPU milliseconds, and how many answers differ between the variants
    (outcome, confidence or first quote)."""
    names = list(VARIANTS)
    answer(questions[0]["question"], role="official", kb=kb, config=VARIANTS[names[0]])  # warm-up
    runs: dict[str, Any] = {}
    changed = 0
    unlike = {name: 0 for name in names if name != DEFAULT}
    for n in range(1, passes + 1):
        wall: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}
        for i, q in enumerate(questions):
            shown = {}
            for name in names if i % 2 == 0 else reversed(names):
                started, used = time.perf_counter(), time.process_time()
                result = answer(q["question"], history=q.get("history") or (), filters=q.get("filters") or None,
                                role=q.get("role", "reader"), kb=kb, config=VARIANTS[name])
                wall[name].append((time.perf_counter() - started) * 1000)
                cpu[name].append((time.process_time() - used) * 1000)
                first = result.sources[0].quote if result.sources else ""
                shown[name] = (result.outcome, result.confidence, first)
            changed += len(set(shown.values())) > 1
            for name in unlike:
                # A confidence moved in its third decimal is not another answer.
                unlike[name] += shown[name][::2] != shown[DEFAULT][::2] or abs(
                    (shown[name][1] or 0.0) - (shown[DEFAULT][1] or 0.0)) > 0.01
        runs[f"pass {n}"] = {name: {**_percentiles(wall[name]), "cpu_p50": round(statistics.median(cpu[name]), 1)}
                             for name in names}
    return {"questions": len(questions), "passes": passes, "answers_changed": changed, "unlike_default": unlike, "runs": runs,
            "threads": core_share(kb.settings).cores}


def _percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50": round(statistics.median(ordered), 1),
            "p95": round(ordered[min(len(ordered) - 1, max(0, math.ceil(0.95 * len(ordered)) - 1))], 1)}


def format_comparison(result: dict[str, Any]) -> str:
    """A Markdown table of `compare`'s figures."""
    lines = ["| pass | variant | p50 (ms) | p95 (ms) | CPU p50 (ms) |", "|---|---|---|---|---|"]
    for run, variants in result["runs"].items():
        for name, r in variants.items():
            lines.append(f"| {run} | {name} | {r['p50']} | {r['p95']} | {r['cpu_p50']} |")
    lines.append(f"\n{result['questions']} questions x {result['passes']} passes; answers that differ between "
                 f"the variants: {result['answers_changed']}; target p50 <= 400 ms, p95 <= 800 ms; "
                 f"{os.cpu_count()} CPU(s), {result.get('threads', '?')} thread(s) for an answer running alone")
    if result.get("unlike_default"):
        lines.append("answers unlike the default's (outcome, first quote, or confidence by more than 0.01): " + ", ".join(
            f"{name} {count}" for name, count in result["unlike_default"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the before/after latency table; exit 1 with a message when the store is empty."""
    parser = argparse.ArgumentParser(prog="python -m evals.latency", description=compare.__doc__)
    parser.add_argument("--store", type=Path, help="store to answer from (default: PASSERELLE_STORE or data/)")
    parser.add_argument("--questions", type=Path, default=BLIND_QUESTIONS, help="JSONL question set (default: blind)")
    parser.add_argument("--limit", type=int, default=30, help="questions, spread evenly over the set (default: 30)")
    parser.add_argument("--passes", type=int, default=2, help="times each question is asked (default: 2)")
    parser.add_argument("--threads", type=int,
                        help="CPU threads an answer uses (default: PASSERELLE_ANSWER_THREADS, else every CPU; "
                             "the web app's answers share them when several run at once)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if args.limit < 1 or args.passes < 1:
        parser.error("--limit and --passes must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    kb = KnowledgeBase(Settings.from_env(store=args.store, answer_threads=args.threads))
    if not kb.exists or kb.chunk_count() == 0:
        print(f"the store {kb.root} is empty: run `python -m ingest` first", file=sys.stderr)
        return 1
    rows = [q for q in load_questions(args.questions) if not q.get("history")]
    step = max(1, len(rows) // args.limit)
    result = compare(kb, rows[::step][: args.limit], args.passes)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(format_comparison(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
