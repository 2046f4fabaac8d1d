"""Ingestion reading speed per kind of document: the formats read before issue 24 (the corpus's
Markdown, text, PDF, Word and HTML) as the baseline, beside the new kinds generated here.

    python -m bench.ingest_speed [--repeat 3] [--json FILE]

Times what ingestion does before embedding (load, structure, split into passages and answer
sentences, extract commitments): embedding costs the same per passage whatever the format and is
timed by bench.embedding_speed. Prints one Markdown row per kind: files, units (pages, rows,
slides, messages: what the kind is counted in), units per second, and thousands of extracted
characters per second, the measure all kinds share. The scanned PDF goes through the real
Tesseract (pages per second on this machine's cores).
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BASELINE = (".md", ".txt", ".pdf", ".docx", ".html")

log = logging.getLogger("bench.ingest_speed")


def _units(doc, suffix: str) -> tuple[int, str]:
    """How many units a document holds, and their name."""
    if suffix in (".pdf", ".pptx", ".odp"):
        return len({b.page for b in doc.blocks if b.page is not None}) or 1, "pages" if suffix == ".pdf" else "slides"
    if suffix in (".xlsx", ".ods", ".csv"):
        return sum(1 for b in doc.blocks if doc.text[b.start:b.start + 1] == "|"), "rows"
    if suffix in (".eml", ".msg"):  # the message and the earlier ones it quotes
        return sum(1 for b in doc.indexed_blocks() if b.starts_chunk), "messages"
    return len(doc.text) // 2000 or 1, "pages of 2,000 characters"


def read_once(path: Path, ocr) -> tuple[object, float]:
    """Load, split and extract the commitments of one file; (document, seconds)."""
    from ingest.load import load_document
    from ingest.roadmap import extract_commitments
    from ingest.split import answer_sentences, split_document

    started = time.perf_counter()
    doc = load_document(path, max_bytes=50 * 2**20, ocr=ocr)
    split_document(doc)
    answer_sentences(doc)
    extract_commitments(doc)
    return doc, time.perf_counter() - started


def new_kind_files(folder: Path) -> dict[str, list[Path]]:
    """One generated file of each new kind (tests/ingest/format_samples.py builds them), plus
    a tracker sheet of 2,000 rows."""
    import datetime as dt

    import openpyxl

    from tests.ingest import format_samples as samples
    from tests.ingest.msg_writer import write_msg

    files = {
        "spreadsheet .xlsx": [samples.write_xlsx(folder)], "spreadsheet .ods": [samples.write_ods(folder)],
        "spreadsheet .csv": [samples.write_csv(folder)], "slides .pptx": [samples.write_pptx(folder)],
        "slides .odp": [samples.write_odp(folder)], "OpenDocument .odt": [samples.write_odt(folder)],
        "e-mail .eml": [samples.write_eml(folder)], "thread .txt": [samples.write_thread_txt(folder)],
        "e-mail .msg": [write_msg(folder / "atelier.msg", sender="Fatou Sall", sender_email="fatou.sall@senum.example",
                                  subject="RE: Atelier interopérabilité", body=samples.THREAD_BODY,
                                  sent=dt.datetime(2026, 3, 19, 9, 15, tzinfo=dt.timezone.utc))],
        "scanned .pdf (OCR)": [samples.write_scan(folder)],
    }
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Action", "Responsable", "Échéance", "Statut"])
    for n in range(2000):
        sheet.append([f"Action de suivi numéro {n} du programme", "SENUM" if n % 2 else "ASAN",
                      f"2026-{n % 12 + 1:02d}-15", "en cours"])
    book.save(folder / "tracker-2000.xlsx")
    files["tracker .xlsx (2,000 rows)"] = [folder / "tracker-2000.xlsx"]
    return files


def baseline_files() -> dict[str, list[Path]]:
    """The corpus's files of the formats read before issue 24, by suffix."""
    found: dict[str, list[Path]] = {}
    for path in sorted((REPO_ROOT / "corpus").rglob("*")):
        if path.suffix in BASELINE and path.is_file():
            found.setdefault(f"corpus {path.suffix}", []).append(path)
    return found


def measure(files: dict[str, list[Path]], repeat: int, ocr) -> list[dict]:
    """One row per kind: the best of `repeat` runs over its files."""
    rows = []
    for kind, paths in files.items():
        best, units, chars, name = float("inf"), 0, 0, ""
        for _ in range(repeat):
            total, units, chars = 0.0, 0, 0
            for path in paths:
                doc, seconds = read_once(path, ocr)
                total += seconds
                count, name = _units(doc, path.suffix.lower())
                units += count
                chars += len(doc.text)
            best = min(best, total)
        rows.append({"kind": kind, "files": len(paths), "units": units, "unit": name, "seconds": round(best, 4),
                     # Three significant digits: a scanned page takes seconds, a CSV row microseconds.
                     "units_per_s": float(f"{units / best:.3g}"), "kchars_per_s": float(f"{chars / best / 1000:.3g}")})
        log.info("measured kind=%r seconds=%.3f", kind, best)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints the table and optionally writes JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per kind, the best one kept (OCR: once)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from ingest.ocr import OcrOptions, missing_tools

    if missing_tools("fra+eng"):
        print(f"error: OCR needs {', '.join(missing_tools('fra+eng'))} (make install installs it)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="passerelle-bench-") as scratch:
        new = new_kind_files(Path(scratch))
        scanned = {k: new.pop(k) for k in [k for k in new if "OCR" in k]}
        ocr = OcrOptions()  # no cache: every page is read
        rows = ([{**r, "baseline": True} for r in measure(baseline_files(), args.repeat, ocr)]
                + [{**r, "baseline": False} for r in measure(new, args.repeat, ocr)]
                + [{**r, "baseline": False} for r in measure(scanned, 1, ocr)])
    print("| Kind | Before issue 24 | Files | Units | Units/s | 1,000 chars/s |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['kind']} | {'yes' if r['baseline'] else 'new'} | {r['files']} | {r['units']} {r['unit']} | "
              f"{r['units_per_s']:g} | {r['kchars_per_s']:g} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
