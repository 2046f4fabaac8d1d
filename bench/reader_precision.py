"""The reader's precision: fp32, bf16 and int8 dynamic quantisation on the same units.

    python -m bench.reader_precision [--store DIR] [--questions FILE] [--limit 16] [--json FILE]

Gathers the units the answer path would read for each question (`bot.selection.candidates`,
the first `AnswerConfig.reader_candidates`), then scores them with the committed reader
weights in each precision, alternated question by question, one torch thread. Prints the CPU
milliseconds per question and, against the precision the reader uses on this CPU ("auto":
bf16 with native bf16 instructions, else fp32), the mean and largest logit difference and
the share of questions whose best unit stays the same. int8 is
`torch.ao.quantization.quantize_dynamic` of the encoder's linear layers with per-channel
weights, over fp32 activations.
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers or chromadb is imported: they read it then

import argparse
import json
import logging
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

log = logging.getLogger("bench.reader_precision")

PRECISIONS = ("fp32", "bf16", "int8")


def agreement(logits: Sequence[np.ndarray], reference: Sequence[np.ndarray]) -> dict[str, float]:
    """Mean and largest absolute logit difference over all units, and the share of questions
    (with units) whose best unit is the same, of `logits` against `reference`."""
    pairs = [(a, b) for a, b in zip(logits, reference) if len(a)]
    if not pairs:
        return {"mean_abs_diff": 0.0, "max_abs_diff": 0.0, "same_best_unit": 1.0}
    diff = np.abs(np.concatenate([a - b for a, b in pairs]))
    same = sum(int(np.argmax(a)) == int(np.argmax(b)) for a, b in pairs) / len(pairs)
    return {"mean_abs_diff": round(float(diff.mean()), 3), "max_abs_diff": round(float(diff.max()), 3),
            "same_best_unit": round(same, 3)}


def reader_in(precision: str) -> Any:
    """A reader with the committed weights in `precision` (one of PRECISIONS), loaded."""
    import torch

    from bot.answering.reader import Reader

    reader = Reader(bf16=precision == "bf16", cache_size=0)
    network, _ = reader._load()
    if precision == "int8":
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            network.encoder = quantize_dynamic(network.encoder, {torch.nn.Linear: per_channel_dynamic_qconfig},
                                               dtype=torch.qint8)
    return reader


def reading_inputs(store: Path | None, questions: list[dict[str, Any]]) -> list[tuple[str, list, list]]:
    """(question, (context, unit) pairs, cosines) the answer path would read for each question."""
    from bot.answering import AnswerConfig, gather_evidence, knowledge_base, search_filter
    from bot.answering.query import parse_query
    from bot.answering.selection import candidates, reader_context, to_read
    from kb.settings import Settings

    kb = knowledge_base(Settings.from_env(store=store))
    config = AnswerConfig(reader=True)
    rows = []
    for q in questions:
        query = parse_query(q["question"])
        evidence = gather_evidence(kb, query, search_filter(q.get("role", "reader"), q.get("filters") or None),
                                   config=config, for_reader=True)
        chosen = to_read(candidates(kb, evidence, config), config)
        rows.append((evidence.query, [(reader_context(c.passage), c.unit.reading) for c in chosen],
                     [c.cosine for c in chosen]))
    return rows


def measure(inputs: list[tuple[str, list, list]]) -> dict[str, Any]:
    """CPU ms per question of each precision and its agreement with the one used on this CPU."""
    import torch

    from kb.embeddings import cpu_has_native_bf16

    torch.set_num_threads(1)
    readers = {p: reader_in(p) for p in PRECISIONS}
    for reader in readers.values():
        reader.score(*inputs[0])
    cpu: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    logits: dict[str, list[np.ndarray]] = {p: [] for p in PRECISIONS}
    for i, (question, units, cosines) in enumerate(inputs):
        for p in PRECISIONS if i % 2 == 0 else reversed(PRECISIONS):
            used = time.process_time()
            logits[p].append(readers[p].score(question, units, cosines).logits)
            cpu[p].append((time.process_time() - used) * 1000)
    default = "bf16" if cpu_has_native_bf16() else "fp32"
    return {"questions": len(inputs), "default": default,
            "rows": {p: {"cpu_ms_p50": round(statistics.median(cpu[p]), 1), **agreement(logits[p], logits[default])}
                     for p in PRECISIONS}}


def format_report(result: dict[str, Any]) -> str:
    """A Markdown table of `measure`'s figures."""
    lines = [f"| precision | CPU ms per question (p50) | logit diff mean / max vs {result['default']} | "
             "same best unit |", "|---|---|---|---|"]
    for p, r in result["rows"].items():
        mark = " (used)" if p == result["default"] else ""
        lines.append(f"| {p}{mark} | {r['cpu_ms_p50']} | {r['mean_abs_diff']} / {r['max_abs_diff']} | "
                     f"{r['same_best_unit']} |")
    lines.append(f"\n{result['questions']} questions, one torch thread, precisions alternated")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print it."""
    from evals.corpus import BLIND_QUESTIONS, load_questions

    parser = argparse.ArgumentParser(prog="python -m bench.reader_precision", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="store to read from (default: PASSERELLE_STORE or data/)")
    parser.add_argument("--questions", type=Path, default=BLIND_QUESTIONS, help="JSONL question set (default: blind)")
    parser.add_argument("--limit", type=int, default=16, help="questions, spread evenly (default: 16)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if args.limit < 1:
        parser.error("--limit must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    rows = [q for q in load_questions(args.questions) if not q.get("history")]
    inputs = [i for i in reading_inputs(args.store, rows[:: max(1, len(rows) // args.limit)][: args.limit]) if i[1]]
    if not inputs:
        print("no question had units to read: is the store empty?", file=sys.stderr)
        return 1
    result = measure(inputs)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(format_report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
