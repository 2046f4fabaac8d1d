"""PIAF retrieval through both catalogs, side by side (issue 25): the SQLite catalog (FTS5) as the
baseline, then the same store's catalog copied into a throwaway PostgreSQL cluster (full-text
search, BM25), over the same Chroma vectors.

    python -m bench.catalogs [--questions 1200] [--work DIR]

Target: the fused (hybrid) recall@5 through PostgreSQL within 0.01 of SQLite's. Builds the PIAF
store on first use (as `python -m evals.piaf` does), then scores the same questions twice.
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

log = logging.getLogger("bench.catalogs")


def main(argv: list[str] | None = None) -> int:
    """Run evals.piaf on both catalogs; print one table."""
    from evals.piaf import DEFAULT_PIAF, DEFAULT_WORK, run_piaf

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=1200, help="PIAF questions scored (default 1200)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="the PIAF store folder (evals.piaf --work)")
    parser.add_argument("--json", type=Path, default=None, help="also write both results to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from tests.kb.conftest import new_database
    from tests.postgres import postgres_cluster

    results = {"sqlite": run_piaf(DEFAULT_PIAF, args.work, questions=args.questions)}
    with postgres_cluster(Path(tempfile.mkdtemp(prefix="passerelle-pg-"))) as server:
        results["postgresql"] = run_piaf(DEFAULT_PIAF, args.work, questions=args.questions,
                                         database_url=new_database(server))
    print(f"\nPIAF v1.0, {args.questions} questions on the whole store, the same Chroma vectors\n")
    print("| catalog | keyword R@5 | hybrid R@1 | hybrid R@5 | hybrid MRR@10 | seconds |\n|---|---|---|---|---|---|")
    for name, result in results.items():
        rows = result["rows"]
        print(f"| {name}{' (baseline)' if name == 'sqlite' else ''} | {rows['bm25']['R@5']:.3f} | "
              f"{rows['hybrid']['R@1']:.3f} | {rows['hybrid']['R@5']:.3f} | {rows['hybrid']['MRR@10']:.3f} | "
              f"{sum(result.get('seconds', {}).values()):.0f} |")
    gap = results["sqlite"]["rows"]["hybrid"]["R@5"] - results["postgresql"]["rows"]["hybrid"]["R@5"]
    print(f"\nHybrid recall@5 gap: {gap:+.3f} (target: PostgreSQL within 0.01 of SQLite): {'met' if gap <= 0.01 else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
