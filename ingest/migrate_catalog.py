"""`python -m ingest.migrate_catalog`: copy a store's SQLite catalog into an empty PostgreSQL database."""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import logging
import sys
from pathlib import Path

from kb.logs import configure_logging
from kb.settings import Settings, SettingsError

DESCRIPTION = """\
Copy the catalog of a knowledge base (documents, passages, sentence vectors, commitments,
meta) from its SQLite file into an empty PostgreSQL database, so that app servers pointed at
that database (PASSERELLE_DATABASE_URL) share it. Nothing is re-embedded: the vectors stay in
Chroma under the same ids, and PostgreSQL builds its own keyword index from the copied text.
The SQLite file is only read. Run it while no ingestion is running.
"""

EPILOG = """\
exit codes: 0 copied; 1 nothing copied (the message says why).
examples:
  python -m ingest.migrate_catalog --to postgresql://passerelle:PASSWORD@db.example:5432/passerelle
  python -m ingest.migrate_catalog --store /srv/passerelle/data --to "$PASSERELLE_DATABASE_URL"
then set PASSERELLE_DATABASE_URL to the same address for the app servers and `python -m ingest`.
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="python -m ingest.migrate_catalog", description=DESCRIPTION,
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", metavar="DIR", type=Path,
                        help="knowledge-base folder holding catalog.sqlite3 (default: data/, or PASSERELLE_STORE)")
    parser.add_argument("--to", metavar="URL", required=True,
                        help="postgresql://user:password@host:port/database of an empty database")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(store=args.store, database_url=args.to)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    configure_logging(settings.log_level)
    from kb.catalog import CATALOG_FILE, StoreError
    from kb.catalog_migration import copy_catalog
    from kb.catalog_postgres import PostgresCatalog
    from kb.catalog_sqlite import SqliteCatalog
    from kb.store import model_label

    if not (settings.store / CATALOG_FILE).is_file():
        print(f"error: {settings.store} holds no {CATALOG_FILE}: give the store folder with --store", file=sys.stderr)
        return 1
    model = model_label(settings.embedding_model)
    source, target = SqliteCatalog(settings.store, model), PostgresCatalog(str(settings.database_url), model)
    try:
        counts = copy_catalog(source, target)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        source.close()
        target.close()
    logging.getLogger(__name__).info("catalog copied to=%s", target.location)
    print(f"Copied the catalog of {settings.store} into {target.location}: {counts['documents']} documents, "
          f"{counts['chunks']} passages, {counts['sentences']} sentences, {counts['mentions']} commitments.\n"
          "Point the app servers and `python -m ingest` at it with PASSERELLE_DATABASE_URL.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
