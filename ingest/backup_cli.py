"""`python -m ingest backup DIR` and `python -m ingest restore DIR [--force]`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kb.logs import configure_logging
from kb.settings import Settings, SettingsError

DESCRIPTION = """\
backup: save the whole knowledge base into DIR (a new or empty folder): the catalog, the
vectors, the users file and the ratings, taken while no ingestion runs (it holds the
ingestion lock). Embedded store: the SQLite files through SQLite's backup API and the Chroma
folder. Chroma server (PASSERELLE_CHROMA_HOST): every vector exported page by page (ids,
embeddings, texts, metadata). PostgreSQL catalog (PASSERELLE_DATABASE_URL): pg_dump -Fc.

restore: put a backup back into the store of the current settings. The target must be empty
(no catalog, vectors, users or ratings; an empty database) unless --force, which replaces what
it holds. Stop the app servers first and start them again afterwards.
"""

EPILOG = """\
exit codes: 0 done; 1 nothing was done or the backup/restore failed (the message says why).
examples:
  python -m ingest backup /srv/backups/passerelle-2026-12-06
  PASSERELLE_STORE=/srv/new-store python -m ingest restore /srv/backups/passerelle-2026-12-06
  python -m ingest restore /srv/backups/passerelle-2026-12-06 --force   # over an existing store
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of both commands."""
    parser = argparse.ArgumentParser(prog="python -m ingest", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("backup", "save the knowledge base into DIR"), ("restore", "restore the backup in DIR")):
        command = commands.add_parser(name, help=text, description=DESCRIPTION, epilog=EPILOG,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_argument("folder", metavar="DIR", type=Path, help="the backup folder")
        command.add_argument("--store", metavar="DIR", type=Path,
                             help="knowledge-base folder (default: data/, or PASSERELLE_STORE)")
        if name == "restore":
            command.add_argument("--force", action="store_true",
                                 help="replace what the target store already holds")
    return parser


def main(argv: list[str]) -> int:
    """Run `backup` or `restore`; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(store=args.store)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    configure_logging(logging.WARNING)
    from ingest.backup import backup, restore
    from kb.store import StoreError

    try:
        if args.command == "backup":
            print(backup(settings, args.folder).summary("Backup written to"))
        else:
            print(restore(settings, args.folder, force=args.force).summary("Restored from"))
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 1
    return 0
