"""`python -m bot feedback`: export the thumbs up / down given in the web chat."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kb.settings import Settings

from bot.feedback import FeedbackError, export_csv, feedback_location, has_feedback

log = logging.getLogger(__name__)

DESCRIPTION = """\
Export the ratings users gave to answers in the web chat (thumbs up / down with an
optional comment), with the question, the answer, its sources, the user's role and
the time. They are stored in feedback.sqlite3 inside the store folder or, when
PASSERELLE_DATABASE_URL is set, in the feedback table of that PostgreSQL database.
"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `feedback` subcommand."""
    parser = commands.add_parser("feedback", help="export users' ratings of answers as CSV",
                                 description=DESCRIPTION,
                                 epilog="example:\n  python -m bot feedback --csv > feedback.csv",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", action="store_true", required=True,
                        help="print the ratings as CSV for a spreadsheet: ';'-separated, UTF-8 with a byte-order "
                             "mark, one header line, cells that would be formulas prefixed with '")
    parser.add_argument("--lang", choices=("fr", "en"), default="fr",
                        help="language of the headers, roles and ratings (default: fr)")
    parser.add_argument("--output", metavar="FILE", type=Path, help="write to FILE instead of standard output")
    parser.add_argument("--store", metavar="DIR", type=Path, help="knowledge-base folder (default: data/, or PASSERELLE_STORE)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Export the feedback; a store with no ratings yet gives just the header."""
    try:
        if not has_feedback(settings):
            print(f"note: no ratings yet in {feedback_location(settings)}", file=sys.stderr)
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                count = export_csv(settings, out, args.lang)
        else:
            count = export_csv(settings, sys.stdout, args.lang)
    except FeedbackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 1
    log.info("exported feedback rows=%d", count)
    return 0
