"""`python -m ingest`: keep the knowledge base in line with the documents on disk."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then
from kb.logs import configure_logging
from kb.settings import Settings, SettingsError

log = logging.getLogger("ingest")

DESCRIPTION = """\
Ingest documents into the Passerelle knowledge base.

Reads Markdown (.md), text (.txt), PDF (.pdf), Word (.docx), OpenDocument text (.odt),
HTML (.html), spreadsheets (.xlsx, .ods, .csv), slides (.pptx, .odp) and e-mail (.eml, .msg),
splits them into passages, embeds them and stores them in Chroma with a keyword index
beside it. Re-running is safe: unchanged files are skipped (without loading the model),
changed files replace their previous version, and with --prune documents whose files
were deleted are removed. A bad file is reported on one line and the others still go in.

Metadata comes from YAML front matter (.md/.txt) or a sidecar NAME.ext.meta.yaml:
title, doc_type (protocol|strategy|meeting_notes|report|other), date (YYYY-MM-DD),
organisations (list), language (fr|en|...), access (public|internal|restricted),
illustrative (true|false), supersedes (a document id).
"""

EPILOG = """\
exit codes: 0 all files ingested; 1 the ingestion could not run; 2 some files failed;
3 (--check) the catalog and Chroma differ.
environment: PASSERELLE_STORE, PASSERELLE_EMBEDDING_MODEL, PASSERELLE_CHROMA_HOST,
PASSERELLE_CHROMA_PORT, PASSERELLE_CHROMA_TOKEN, PASSERELLE_DATABASE_URL, PASSERELLE_MAX_FILE_MB,
PASSERELLE_CHUNK_SIZE.
examples:
  python -m ingest                      # ingest corpus/ into data/
  python -m ingest corpus/ --prune      # also drop documents whose files are gone
  python -m ingest notes.docx --json    # one file, machine-readable report
  python -m ingest --check              # compare the catalog with Chroma, list what differs
  python -m ingest backup /srv/backups/2026-12-06    # the whole knowledge base (see backup --help)
  python -m ingest restore /srv/backups/2026-12-06   # into an empty store (see restore --help)
"""



def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="python -m ingest", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", type=Path,
                        help="files or folders to ingest (default: corpus/, or PASSERELLE_CORPUS)")
    parser.add_argument("--store", metavar="DIR", type=Path,
                        help="knowledge-base folder (default: data/, or PASSERELLE_STORE)")
    parser.add_argument("--prune", action="store_true",
                        help="remove documents under PATH whose files no longer exist")
    parser.add_argument("--reset", action="store_true",
                        help="delete the whole knowledge base first, then ingest from scratch "
                             "(needed after changing the embedding model)")
    parser.add_argument("--dry-run", action="store_true",
                        help="report what would be added, updated and removed, without writing anything")
    parser.add_argument("--json", action="store_true",
                        help="print exactly one JSON report on stdout (progress still goes to stderr)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, only warnings and errors")
    parser.add_argument("--check", action="store_true",
                        help="ingest nothing: check that every passage of the catalog has exactly one vector in "
                             "Chroma with its text and access level, and no vector lacks a passage; print what "
                             "differs and exit 3 if anything does")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("backup", "restore"):
        from ingest.backup_cli import main as backup_main

        return backup_main(argv)
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(store=args.store)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    configure_logging(logging.WARNING if args.quiet or args.json else settings.log_level)
    if args.check:
        if args.paths or args.reset or args.prune or args.dry_run:
            print("error: --check takes no PATH and no other action", file=sys.stderr)
            return 1
        return _check(settings, args.json)
    yield_cpu(settings)
    return _ingest(args, settings)


def yield_cpu(settings: Settings) -> None:
    """Lower this process's CPU priority by `settings.ingest_nice`: an ingestion can wait, the
    people asking the app servers on the same machine should not (issue 25's answers during an
    ingestion)."""
    if settings.ingest_nice and hasattr(os, "nice"):
        try:
            os.nice(settings.ingest_nice)
        except OSError as exc:  # not allowed here: ingest at the normal priority
            log.warning("could not lower the ingestion's priority: %s", exc)


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.index import IngestError, ingest_paths
    from kb.embeddings import EmbeddingModelError
    from kb.store import ChromaUnreachableError, StoreError

    try:
        report = ingest_paths(
            args.paths, settings, prune=args.prune, reset=args.reset, dry_run=args.dry_run,
            progress=not args.quiet and sys.stderr.isatty(),
        )
    except ChromaUnreachableError as exc:
        print(f"error: {exc}. What was written so far is kept: run the same command again once the "
              "Chroma server is back to finish", file=sys.stderr)
        return 1
    except (IngestError, StoreError, EmbeddingModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: what was written so far is kept; run again to finish", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        _summary(report)
    return 2 if report.failed else 0


def _check(settings: Settings, as_json: bool) -> int:
    from ingest.check import check_store
    from kb.store import CATALOG_FILE, KnowledgeBase, StoreError

    if not (settings.store / CATALOG_FILE).exists() and not settings.uses_database_server:
        print(f"error: no knowledge base in {settings.store}", file=sys.stderr)
        return 1
    try:
        report = check_store(KnowledgeBase(settings))
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print("\n".join(report.lines()))
    return 0 if report.consistent else 3


def _summary(report) -> None:
    title = "Dry run, nothing written" if report.dry_run else "Ingestion done"
    print(
        f"{title} in {report.seconds:.1f} s.\n"
        f"Documents: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed, {report.failed} failed; {report.total} in the store.\n"
        f"Passages: {report.chunks_added} added, {report.chunks_removed} removed; "
        f"{report.chunks_total} in the store."
    )
    for path, pages in _ocr_by_file(report.ocr).items():
        read = [p for p in pages if p["indexed"]]
        line = f"OCR {path}: {len(read)} of {len(pages)} scanned pages indexed"
        if read:
            line += f", mean confidence {sum(p['confidence'] for p in read) / len(read):.0f}"
        below = [str(p["page"]) for p in pages if not p["indexed"]]
        print(line + (f"; under the confidence floor, not indexed: page {', '.join(below)}" if below else ""))
    for error in report.errors:
        print(f"FAILED {error['path']}: {error['error']}")


def _ocr_by_file(pages: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for page in pages:
        grouped.setdefault(page["path"], []).append(page)
    return grouped


if __name__ == "__main__":
    sys.exit(main())
