"""Issue 24's target measurement: are documents of the new kinds answered as well as the same
content written as text?

The five illustrative documents of `evals/data/newformats/files/` (a scanned PDF without a text
layer, an .xlsx workbook, a .pptx deck, an .eml thread, an .odt text; built by
`evals.make_newformats`) and their text-born twins (`evals/data/newformats/twins/`, the same
content as Markdown or text) are each ingested with the sample corpus into a throwaway store. The
40 questions of `evals/data/newformats_questions.jsonl` are asked of both stores through the
default answer path (`bot.answer`, role official). Printed, per kind and overall, for the files
and their twins side by side: the expected fact in the first unit shown and anywhere in the units
shown (targets: >= 0.80, twins within 0.05), how often a quoted old date or figure of the thread
comes first; and the OCR character accuracy of the scan against the text it was rendered from
(target >= 0.97).

    python -m evals.newformats [--base CORPUS_STORE] [--work FOLDER] [--json FILE] [--questions FILE]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from evals.corpus import EVAL_DATA, holds, load_questions
from evals.make_newformats import FILES, KINDS, ROOT, TWINS, scan_reference
from ingest.blocks import LoadError

log = logging.getLogger(__name__)

QUESTIONS = EVAL_DATA / "newformats_questions.jsonl"
SCAN = ROOT / FILES / "pv-commission-cybersecurite-2026-10.pdf"
TARGET_FACT, TARGET_GAP, TARGET_OCR = 0.80, 0.05, 0.97
VARIANTS = {"files": FILES, "twins": TWINS}


def build_store(store: Path, folders: list[Path], base: Path | None) -> Any:
    """A store at `store` of the sample corpus plus `folders`; the corpus part is copied from
    `base` when given (an up-to-date store of corpus/), else ingested."""
    from ingest.index import ingest_paths
    from kb.settings import PROJECT_ROOT, Settings
    from kb.store import KnowledgeBase

    if store.exists():
        shutil.rmtree(store)
    if base is not None:
        shutil.copytree(base, store, ignore=shutil.ignore_patterns("ocr-cache"))
    # Embedded, whatever the environment says: a store of the evaluation's own.
    settings = replace(Settings.from_env(store=store), chroma_host=None)
    started = time.monotonic()
    report = ingest_paths([PROJECT_ROOT / "corpus", *folders], settings, progress=False)
    if report.failed:
        raise RuntimeError(f"ingesting {store.name} failed for {report.failed} file(s): {report.errors[:3]}")
    log.info("%s store: %d documents added in %.0f s", store.name, report.added, time.monotonic() - started)
    return KnowledgeBase(settings)


def ask(kb: Any, questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each question through the default answer path; what was shown and whether it holds the fact."""
    from bot.answering import answer

    rows = []
    for q in questions:
        result = answer(q["question"], q.get("history") or (), q.get("filters") or None, role=q["role"], kb=kb)
        cited = [s for s in result.sources if s.cited]
        first = cited[0].quote if cited else ""
        shown = "\n".join([result.answer] + [s.quote for s in cited])
        rows.append({
            "id": q["id"], "kind": q["category"], "outcome": result.outcome,
            "first": holds(first, q["expected"]), "any": holds(shown, q["expected"]),
            "old_first": bool(q.get("not_first")) and holds(first, q["not_first"]),
            "first_source": cited[0].path if cited else None,
            "answerable": q.get("answerable", True), "declined": result.abstained,
        })
    return rows


def _share(rows: list[dict[str, Any]], key: str) -> float | None:
    return round(sum(r[key] for r in rows) / len(rows), 3) if rows else None


def summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per kind and overall: the share of answerable questions whose fact is in the first unit /
    any unit; overall, how many unanswerable ones (near misses) were declined."""
    answerable = [r for r in rows if r.get("answerable", True)]
    groups = {kind: [r for r in answerable if r["kind"] == kind] for kind in KINDS}
    groups["all"] = answerable
    figures = {kind: {"questions": len(group), "fact_in_first_unit_shown": _share(group, "first"),
                      "fact_in_units_shown": _share(group, "any"),
                      "old_value_first": sum(r["old_first"] for r in group)} for kind, group in groups.items()}
    unanswerable = [r for r in rows if not r.get("answerable", True)]
    if unanswerable:
        figures["all"]["unanswerable_declined"] = f"{sum(r['declined'] for r in unanswerable)}/{len(unanswerable)}"
    return figures


def ocr_accuracy(scan: Path = SCAN) -> dict[str, Any]:
    """Character accuracy of each OCR'd page of the scan (as ingestion indexes it) against the text
    it was rendered from, with Tesseract's mean confidence; overall weighted by page length."""
    from evals.scans import character_accuracy
    from ingest.load import load_document
    from ingest.ocr import OcrOptions

    started = time.monotonic()
    doc = load_document(scan, max_bytes=20 * 2**20, ocr=OcrOptions())
    seconds = time.monotonic() - started
    pages, weighted, total = [], 0.0, 0
    for number, reference in enumerate(scan_reference(), start=1):
        read = "\n\n".join(doc.text[b.start : b.end] for b in doc.blocks if b.page == number)
        accuracy = character_accuracy(reference, read)
        confidence = next((p.confidence for p in doc.ocr if p.page == number), None)
        pages.append({"page": number, "accuracy": round(accuracy, 4),
                      "confidence": round(confidence, 1) if confidence is not None else None})
        weighted += accuracy * len(reference)
        total += len(reference)
    return {"pages": pages, "accuracy": round(weighted / total, 4), "seconds": round(seconds, 1)}


def table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The files and their twins side by side, a row per kind."""
    lines = ["| kind | questions | first unit: files | twins | any unit: files | twins | quoted old value first: files | twins |",
             "|---|---|---|---|---|---|---|---|"]
    files, twins = results["files"], results["twins"]
    for kind in [*KINDS, "all"]:
        f, t = files[kind], twins[kind]
        lines.append(f"| {kind} | {f['questions']} | {f['fact_in_first_unit_shown']} | {t['fact_in_first_unit_shown']} | "
                     f"{f['fact_in_units_shown']} | {t['fact_in_units_shown']} | {f['old_value_first']} | {t['old_value_first']} |")
    if "unanswerable_declined" in files["all"]:
        lines.append(f"unanswerable questions declined: files {files['all']['unanswerable_declined']}, "
                     f"twins {twins['all']['unanswerable_declined']}")
    return "\n".join(lines)


def verdicts(results: dict[str, Any]) -> list[str]:
    """One line per target: the figure, the target and whether it is met."""
    f, t = results["files"]["all"], results["twins"]["all"]
    lines = []
    for key, label in (("fact_in_first_unit_shown", "first unit"), ("fact_in_units_shown", "any unit")):
        gap = round(t[key] - f[key], 3)
        lines.append(f"{label}: files {f[key]} (target >= {TARGET_FACT}: {'met' if f[key] >= TARGET_FACT else 'NOT met'}), "
                     f"twins {t[key]}, gap {gap} (target <= {TARGET_GAP}: {'met' if abs(gap) <= TARGET_GAP else 'NOT met'})")
    if "ocr" in results:
        accuracy = results["ocr"]["accuracy"]
        lines.append(f"OCR character accuracy: {accuracy} (target >= {TARGET_OCR}: "
                     f"{'met' if accuracy >= TARGET_OCR else 'NOT met'}); pages {results['ocr']['pages']}, "
                     f"{results['ocr']['seconds']} s")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.newformats", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, help="an up-to-date store of corpus/ to copy (saves ingesting it twice)")
    parser.add_argument("--work", type=Path, help="folder for the two stores (default: a temporary folder, removed)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS,
                        help="question set (default: the 40 questions; evals/data/newformats_questions_blind.jsonl "
                             "holds 10 written later, 2 of them unanswerable)")
    parser.add_argument("--no-ocr", action="store_true", help="skip the OCR accuracy measurement")
    parser.add_argument("--limit", type=int, help="first N questions only (a quick look)")
    parser.add_argument("--json", type=Path, help="write the figures and each question's result here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("sentence_transformers", "kb.embeddings", "bot", "httpx", "chromadb", "ingest"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.base is not None and not (args.base / "catalog.sqlite3").is_file():
        print(f"{args.base}: not a store (no catalog.sqlite3)", file=sys.stderr)
        return 1
    try:
        results, per_question = run(args.base, args.work, load_questions(args.questions)[: args.limit], ocr=not args.no_ocr)
    except (LoadError, RuntimeError) as exc:  # OCR over its time limit, a document that failed to go in
        print(f"evals.newformats: {exc}", file=sys.stderr)
        return 1
    print(table(results))
    print("\n".join(verdicts(results)), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**results, "questions": per_question}, indent=2, ensure_ascii=False),
                             encoding="utf-8")
    return 0


def run(base: Path | None, work: Path | None, questions: list[dict[str, Any]],
        ocr: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OCR accuracy and both variants' figures; (results, each question's result per variant)."""
    results: dict[str, Any] = {"ocr": ocr_accuracy()} if ocr else {}
    per_question: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="passerelle-newformats-") as scratch:
        work = work or Path(scratch)
        if base is None:  # the corpus ingested once, copied for both variants
            base = work / "corpus"
            build_store(base, [], None)
        for variant, folder in VARIANTS.items():
            kb = build_store(work / variant, [ROOT / folder], base)
            per_question[variant] = ask(kb, questions)
            results[variant] = summary(per_question[variant])
    return results, per_question


if __name__ == "__main__":
    sys.exit(main())
