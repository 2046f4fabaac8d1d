"""Writing documents one at a time against in batches, into a copy of a kept store.

    python -m bench.write_batch --store DIR --pool-stores DIR [DIR ...] [--rounds 6] [--passages 1000]
                                [--json FILE]

Copies the embedded store DIR (e.g. a `bench.scale --keep-stores` store) to a temporary folder
and writes synthetic documents into it (`bench.synthetic`, vectors precomputed from the pool
stores' sentence vectors: no model runs), about `--passages` passages per round, alternately
one document at a time (`KnowledgeBase.replace_document`, as ingestion writes) and all of the
round's documents together (`KnowledgeBase.replace_documents`: one catalog commit per step and
one Chroma upsert per partition for the batch), the order swapped every round. Prints passages
per second of wall time and per CPU second of this process (embedded Chroma's threads
included) for each way; the copy is removed after.
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before chromadb is imported: it reads it then

import argparse
import dataclasses
import itertools
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("bench.write_batch")

WAYS = ("one by one", "batched")
# Document numbers far above those of a bench.scale build, so no document replaces one of the store.
FIRST_NUMBER = 9_000_000


def compare_writes(kb, synthetic, rounds: int, passages: int) -> dict[str, dict[str, float]]:
    """Write about `passages` passages per round into `kb`, alternately one document at a time
    and batched (order swapped each round); per way the passages written and their speed."""
    from kb.store import DocumentWrite

    numbers = itertools.count(FIRST_NUMBER)
    totals = {way: {"passages": 0, "wall_s": 0.0, "cpu_s": 0.0} for way in WAYS}
    with kb.ingest_lock():
        for number in range(rounds):
            for way in (WAYS if number % 2 == 0 else WAYS[::-1]):
                writes, count = [], 0
                while count < passages:
                    p = synthetic.make(next(numbers))
                    writes.append(DocumentWrite(p.doc, p.chunks, p.chunk_vectors, p.spans, p.sentence_vectors))
                    count += len(p.chunks)
                kb.check_dimension(len(writes[0].vectors[0]))
                wall, cpu = time.perf_counter(), time.process_time()
                if way == "batched":
                    kb.replace_documents(writes)
                else:
                    for write in writes:
                        kb.replace_document(*write)
                total = totals[way]
                total["passages"] += count
                total["wall_s"] += time.perf_counter() - wall
                total["cpu_s"] += time.process_time() - cpu
    for total in totals.values():
        total["passages_per_s"] = round(total["passages"] / max(total["wall_s"], 1e-9), 1)
        total["passages_per_cpu_s"] = round(total["passages"] / max(total["cpu_s"], 1e-9), 1)
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.write_batch", description=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True, help="an embedded store, copied first (never written)")
    parser.add_argument("--pool-stores", type=Path, nargs="+", required=True,
                        help="embedded stores whose sentences and sentence vectors make the pool (as bench.scale's)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds, each way once per round (default 6)")
    parser.add_argument("--passages", type=int, default=1000, help="passages written per way and round (default 1000)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from bench.synthetic import SyntheticDocuments, pool_from_stores
    from kb.settings import Settings, SettingsError
    from kb.store import KnowledgeBase

    if args.rounds < 1 or args.passages < 1:
        print("--rounds and --passages: give positive numbers", file=sys.stderr)
        return 1
    for folder in (args.store, *args.pool_stores):
        if not (folder / "catalog.sqlite3").is_file():
            print(f"{folder} is not an embedded store (no catalog.sqlite3)", file=sys.stderr)
            return 1
    try:
        settings = dataclasses.replace(Settings.from_env(), chroma_host=None, database_url=None)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 1

    def store(folder: Path) -> Any:
        return KnowledgeBase(dataclasses.replace(settings, store=folder))

    pool = pool_from_stores([store(folder) for folder in args.pool_stores])
    with tempfile.TemporaryDirectory(prefix="passerelle-writes-") as temporary:
        copy = Path(temporary) / "store"
        shutil.copytree(args.store, copy)
        kb = store(copy)
        before = kb.chunk_count()
        totals = compare_writes(kb, SyntheticDocuments(pool, settings.chunk_size, settings.chunk_overlap, seed=7),
                                args.rounds, args.passages)
        kb.close()
    print(f"Writes into a copy of {args.store} ({before:,} passages), {args.rounds} rounds of about "
          f"{args.passages:,} passages each way, alternated; vectors precomputed (no model)\n")
    print("| way | passages | passages/s (wall) | passages per CPU second |\n|---|---|---|---|")
    for way, total in totals.items():
        print(f"| {way}{' (baseline)' if way == WAYS[0] else ''} | {total['passages']:,} | "
              f"{total['passages_per_s']:,} | {total['passages_per_cpu_s']:,} |")
    if args.json:
        args.json.write_text(json.dumps({"store_passages": before, "ways": totals}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
