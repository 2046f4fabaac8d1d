"""`python -m evals.commitment_updates`: does the register follow the latest word?

Two parts, both on documents read and extracted as ingestion does, their mentions' actions
embedded with the store's e5 model (no store is built):

- **sample corpus** (development material): the commitments and the late ones with the
  previous merge (words and owners only, no reports) and with the current one; the
  commitments a later statement reports done, listed; the groups joined by meaning, listed
  for review; `--dev` adds the similarity distributions the thresholds of
  `bot.roadmap_links` were chosen from (mentions the word merge puts together across
  documents against those it keeps apart);
- **held-out updates** (`evals/data/commitment_updates/` and `evals/data/commitment_updates_2/`,
  each written with its expected merges before any run, never used for tuning; the second was
  written after the first had been looked at): the corpus and one set's five documents merged
  together; each expected update merged into its commitment (with the deadline or status it
  must then show), and no wrong merge (a held-out statement joined to a commitment other
  than its own, or an unrelated one joined to any).
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers is imported: it reads it then

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

from kb.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

UPDATES = Path(__file__).resolve().parent / "data" / "commitment_updates"
EXPECTED = UPDATES / "expected.jsonl"
# The held-out sets, each scored on its own with the corpus.
HELD_OUT = (UPDATES, UPDATES.with_name("commitment_updates_2"))
TODAY = date(2026, 12, 7)


def mention_rows(folders: list[Path]) -> tuple[list[dict[str, Any]], list[str]]:
    """The mentions of every document under `folders` as the catalog returns them, and the
    texts to embed (one per row, in order)."""
    from evals.roadmap import load_corpus, mention_row
    from ingest.roadmap import extract_mentions, signature_date
    from kb.commitments import meaning_text

    documents = {}
    for folder in folders:
        documents.update(load_corpus(folder, PROJECT_ROOT))
    # A held-out set's README describes the set: it is no document of the programme.
    documents = {path: doc for path, doc in documents.items() if not path.endswith("/README.md")
                 or path.startswith("corpus/")}
    signed = signature_date((d.meta.doc_type, d.meta.date) for d in documents.values())
    rows, texts = [], []
    for path, doc in documents.items():
        meta = doc.meta
        for ordinal, item in enumerate(extract_mentions(doc, signed=signed)):
            rows.append({**mention_row(path, ordinal, meta, item),
                         "access": meta.access, "kind": item.kind, "language": meta.language})
            texts.append(meaning_text(item.action, item.owner))
    return rows, texts


def embed(texts: list[str], model: str) -> Any:
    """Unit vectors of `texts` as ingestion computes them (passages of the e5 model)."""
    import numpy as np

    from kb.embeddings import load_embeddings

    vectors = np.asarray(load_embeddings(model).embed_documents(texts), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def corpus_report(rows: list[dict[str, Any]], vectors: dict, today: date) -> dict[str, Any]:
    """Commitments and late ones before (word merge, no reports) and after; what a later
    statement reports done; the groups joined by meaning."""
    from bot.roadmap import merge

    before = merge([r for r in rows if r["kind"] == "commitment"], today)
    after = merge(rows, today, vectors)
    old_groups = {frozenset((s.path, s.start) for s in c.sources) for c in before}
    reported = [{"action": c.action, "owner": c.owner, "deadline": c.deadline.isoformat() if c.deadline else None,
                 "status": c.status, "history": c.history_text("en"),
                 "reports": [f"{s.title} ({s.date}): {' '.join(s.quote.split())}" for s in c.sources
                             if s.kind == "report"]}
                for c in after if any(s.kind == "report" for s in c.sources)]
    joined = [{"actions": sorted({s.quote[:90] for s in c.sources if s.kind == "commitment"}),
               "documents": sorted({s.path for s in c.sources})}
              for c in after
              if frozenset((s.path, s.start) for s in c.sources if s.kind == "commitment") not in old_groups]
    return {"today": today.isoformat(),
            "before": {"commitments": len(before), "late": sum(c.late for c in before)},
            "after": {"commitments": len(after), "late": sum(c.late for c in after)},
            "reported_done": reported, "joined_by_meaning": joined}


def dev_distributions(rows: list[dict[str, Any]], vectors: dict, today: date) -> dict[str, Any]:
    """Cosine of mentions of different documents that the word merge puts in one commitment
    (same) or in different ones (different): where a threshold can stand."""
    import numpy as np

    from bot.roadmap import merge

    commitments = [r for r in rows if r["kind"] == "commitment"]
    group = {}
    for n, item in enumerate(merge(commitments, today)):
        for source in item.sources:
            group[(source.path, source.start)] = n
    same, different = [], []
    for i, a in enumerate(commitments):
        for b in commitments[i + 1 :]:
            if a["doc_id"] == b["doc_id"]:
                continue
            value = float(np.dot(vectors[(a["doc_id"], a["ordinal"])], vectors[(b["doc_id"], b["ordinal"])]))
            (same if group[(a["path"], a["start"])] == group[(b["path"], b["start"])] else different).append(value)

    def summary(values: list[float]) -> dict[str, float]:
        array = np.asarray(values)
        return {"pairs": len(values), "min": round(float(array.min()), 3), "p10": round(float(np.percentile(array, 10)), 3),
                "median": round(float(np.median(array)), 3), "p99": round(float(np.percentile(array, 99)), 3),
                "max": round(float(array.max()), 3)}

    return {"same_commitment": summary(same), "different_commitments": summary(different)}


def load_expected(path: Path = EXPECTED) -> list[dict[str, Any]]:
    """The expected merges; a malformed line raises ValueError naming it."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
                items.append({"id": row["id"], "document": row["document"], "quote": row["quote"],
                              "commitment": row["commitment"], "deadline": row.get("deadline"),
                              "status": row.get("status")})
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not an expected merge ({exc})") from None
    return items


def score_updates(items: list[Any], expected: list[dict[str, Any]], folder: Path = UPDATES,
                  corpus_items: list[Any] | None = None, extracted: list[dict[str, Any]] | None = None
                  ) -> dict[str, Any]:
    """Expected updates merged (and showing the expected deadline/status), wrong merges, for the
    held-out set in `folder`. With `corpus_items` (the corpus merged alone), a held-out
    statement that also brings together commitments the corpus keeps apart (its own and
    another) is a wrong merge too, even though its own commitment is among them. With
    `extracted` (the set's mention rows), a statement extracted but left out of the register (a
    report or update the register found about nothing) is "missed" (an update) or "kept apart"
    (an unrelated one), not "not extracted"."""
    held_out = folder.relative_to(PROJECT_ROOT).as_posix()
    apart = {(s.path, s.start): n for n, c in enumerate(corpus_items or []) for s in c.sources if s.kind == "commitment"}
    results = []
    for case in expected:
        path = f"{held_out}/{case['document']}"
        found = [c for c in items for s in c.sources if s.path == path and case["quote"].lower() in s.quote.lower()]
        if not found:
            read = any(r["path"] == path and case["quote"].lower() in r["quote"].lower() for r in extracted or [])
            outcome = ("missed" if case["commitment"] else "kept apart") if read else "not extracted"
            results.append({"id": case["id"], "outcome": outcome})
            continue
        item = found[0]
        corpus = [s for s in item.sources if not s.path.startswith(held_out)]
        wanted = case["commitment"]
        bridged = len({apart[(s.path, s.start)] for s in corpus if (s.path, s.start) in apart}) > 1
        if wanted is None:
            outcome = "wrong merge" if corpus else "kept apart"
        elif bridged:
            outcome = "wrong merge"
        elif any(s.path == wanted["path"] and wanted["quote"].lower() in s.quote.lower() for s in corpus):
            outcome = "merged"
        else:
            outcome = "wrong merge" if corpus else "missed"
        checks = []
        if outcome == "merged" and case["deadline"] and (item.deadline is None or item.deadline.isoformat() != case["deadline"]):
            checks.append(f"deadline {item.deadline} instead of {case['deadline']}")
        if outcome == "merged" and case["status"] and item.status != case["status"]:
            checks.append(f"status {item.status} instead of {case['status']}")
        results.append({"id": case["id"], "outcome": outcome, "wrong_field": checks, "action": item.action,
                        "history": item.history_text("fr"),
                        "with": sorted({s.path for s in corpus})})
    updates = [r for r, c in zip(results, expected) if c["commitment"] is not None]
    return {
        "set": held_out,
        "updates_expected": len(updates),
        "updates_merged": sum(r["outcome"] == "merged" for r in updates),
        "updates_merged_and_right": sum(r["outcome"] == "merged" and not r["wrong_field"] for r in updates),
        "wrong_merges": sum(r["outcome"] == "wrong merge" for r in results),
        "unrelated_kept_apart": sum(r["outcome"] == "kept apart" for r in results),
        "unrelated": len(results) - len(updates),
        "cases": results,
    }


def run(model: str, today: date, dev: bool, corpus_only: bool = False) -> dict[str, Any]:
    """Both parts (see the module docstring); `corpus_only` leaves the held-out set unread."""
    from bot.roadmap import merge

    corpus_rows, corpus_texts = mention_rows([PROJECT_ROOT / "corpus"])
    sets = [] if corpus_only else [(folder, *mention_rows([folder])) for folder in HELD_OUT]
    rows = corpus_rows + [r for _, set_rows, _ in sets for r in set_rows]
    matrix = embed(corpus_texts + [t for _, _, set_texts in sets for t in set_texts], model)
    vectors = {(r["doc_id"], r["ordinal"]): matrix[n] for n, r in enumerate(rows)}
    results = {"corpus": corpus_report(corpus_rows, vectors, today)}
    if dev:
        results["dev"] = dev_distributions(corpus_rows, vectors, today)
    if sets:
        alone = merge(corpus_rows, today, vectors)
        results["held_out"] = [score_updates(merge(corpus_rows + set_rows, today, vectors),
                                             load_expected(folder / "expected.jsonl"), folder, alone, set_rows)
                               for folder, set_rows, _ in sets]
        results["updates"] = results["held_out"][0]
    return results


def _updates_lines(updates: dict[str, Any]) -> list[str]:
    lines = [f"## Commitment updates (held out: {updates['set']}/)", "",
             "| updates merged / expected | with the right deadline or status | wrong merges | unrelated kept apart |",
             "|---|---|---|---|",
             f"| {updates['updates_merged']} / {updates['updates_expected']} | {updates['updates_merged_and_right']} | "
             f"{updates['wrong_merges']} | {updates['unrelated_kept_apart']} / {updates['unrelated']} |", ""]
    for case in updates["cases"]:
        detail = "; ".join(case.get("wrong_field", []))
        lines.append(f"- {case['id']}: {case['outcome']}{' (' + detail + ')' if detail else ''}"
                     f"{' — ' + case['history'] if case.get('history') else ''}"
                     f"{' — with ' + ', '.join(case['with']) if case.get('with') else ''}")
    return lines + [""]


def format_results(results: dict[str, Any]) -> str:
    """Markdown: the held-out figures, then the corpus lists."""
    corpus = results["corpus"]
    lines = [line for updates in results.get("held_out", []) for line in _updates_lines(updates)]
    lines += [f"## Sample corpus (today {corpus['today']})", "",
              "| merge | commitments | late |", "|---|---|---|",
              f"| before (words and owners, no reports) | {corpus['before']['commitments']} | {corpus['before']['late']} |",
              f"| after (+ meaning, + reports of work done) | {corpus['after']['commitments']} | {corpus['after']['late']} |",
              "", "Commitments a later statement reports done:"]
    for item in corpus["reported_done"]:
        lines.append(f"- {item['action']} ({item['owner']}) → {item['status']}; {item['history']}")
        lines += [f"    - {report}" for report in item["reports"]]
    lines += ["", "Groups joined by meaning:"]
    lines += [f"- {' ‖ '.join(item['actions'])}" for item in corpus["joined_by_meaning"]] or ["- none"]
    if "dev" in results:
        lines += ["", "Cosine of mentions of different documents (sample corpus, development):"]
        lines += [f"- {name}: {values}" for name, values in results["dev"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print it (exit 1 with a message on bad input)."""
    from kb.logs import configure_logging
    from kb.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m evals.commitment_updates", description=__doc__.split("\n\n")[0])
    parser.add_argument("--today", type=date.fromisoformat, default=TODAY,
                        help=f"judge lateness on this day (default: {TODAY.isoformat()}, so runs compare)")
    parser.add_argument("--dev", action="store_true", help="also print the similarity distributions on the corpus")
    parser.add_argument("--corpus-only", action="store_true",
                        help="only the sample corpus (development: the held-out documents are not read)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        results = run(Settings.from_env().embedding_model, args.today, args.dev, args.corpus_only)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_results(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
