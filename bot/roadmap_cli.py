"""`python -m bot roadmap`: the roadmap's commitments from the command line (table, CSV or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kb.schema import ROLES
from kb.settings import Settings
from kb.vocabulary import STATUSES

if TYPE_CHECKING:
    from bot.roadmap import Commitment

DESCRIPTION = """\
List the roadmap commitments: every commitment, action item and deadline that the protocols,
roadmaps and meeting notes state, merged across documents (a later document that marks an
action done or moves its deadline updates it; every source is kept, newest first). A
commitment is late when its deadline is before today and it is not done.
"""

EPILOG = """\
exit codes: 0 listed (possibly nothing); 1 bad input or unusable store.
examples:
  python -m bot roadmap --role staff
  python -m bot roadmap --role official --status late --today 2026-06-01
  python -m bot roadmap --owner SENUM --before 2026-07-01 --csv > senum.csv
  python -m bot roadmap --role staff --json
"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `roadmap` subcommand to the `python -m bot` parser."""
    parser = commands.add_parser("roadmap", help="list the commitments: owners, deadlines, statuses",
                                 description=DESCRIPTION, epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", metavar="DIR", type=Path, help="knowledge-base folder (default: data/, or PASSERELLE_STORE)")
    parser.add_argument("--role", choices=ROLES, default="reader",
                        help="who is asking: reader sees commitments of public documents, staff adds internal ones, "
                             "official and admin see restricted ones too (default: reader)")
    parser.add_argument("--owner", metavar="NAME", help="only commitments owned (alone or jointly) by this body, e.g. SENUM")
    parser.add_argument("--commission", metavar="THEME", help="only commitments of this commission (cybersécurité, formation, "
                                                              "talents, start-up/État, digitalisation)")
    parser.add_argument("--status", choices=STATUSES, help="only commitments with this status")
    parser.add_argument("--before", metavar="YYYY-MM-DD", help="only commitments due before this day")
    parser.add_argument("--after", metavar="YYYY-MM-DD", help="only commitments due on or after this day")
    parser.add_argument("--today", metavar="YYYY-MM-DD", help="judge lateness on this day (default: the current date)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--csv", action="store_true",
                        help="print CSV for a spreadsheet (one row per commitment, newest source quoted): "
                             "';'-separated, UTF-8 with a byte-order mark, cells that would be formulas prefixed with '")
    output.add_argument("--json", action="store_true", help='print exactly one JSON object {"today", "items"}')
    parser.add_argument("--lang", choices=("fr", "en"), default="fr",
                        help="language of the CSV's headers, statuses and access levels (default: fr)")
    parser.set_defaults(handler=run_roadmap)


def run_roadmap(args: argparse.Namespace, settings: Settings) -> int:
    """`roadmap`: print the commitments."""
    from bot.roadmap import CommitmentQueryError, commitments, to_csv
    from kb.store import KnowledgeBase, StoreError

    try:
        today = _day(args.today, "--today") or date.today()
        before, after = _day(args.before, "--before"), _day(args.after, "--after")
    except ValueError as exc:
        return _fail(str(exc))
    kb = KnowledgeBase(settings)
    if not kb.exists:
        return _fail(f"the knowledge base {settings.store} is empty or missing: run `make ingest` (or `python -m ingest`)")
    try:
        found = commitments(kb, role=args.role, owner=args.owner, commission=args.commission, status=args.status,
                            before=before, after=after, today=today)
    except (CommitmentQueryError, StoreError) as exc:
        return _fail(str(exc))
    finally:
        kb.close()
    if args.json:
        print(json.dumps({"today": today.isoformat(), "items": [c.to_dict() for c in found]}, ensure_ascii=False))
    elif args.csv:
        sys.stdout.write(to_csv(found, args.lang))
    else:
        print(format_commitments(found, today))
    return 0


def format_commitments(found: list[Commitment], today: date) -> str:
    """A readable table of commitments for the terminal."""
    if not found:
        return f"No commitment matches (today: {today.isoformat()})."
    lines = [f"{len(found)} commitment(s); lateness judged on {today.isoformat()}", ""]
    for item in found:
        when = item.deadline.isoformat() if item.deadline else "—"
        flag = "LATE " if item.late else ""
        lines.append(f"{flag}{when}  [{item.status}]  {item.owner}: {item.action}")
        if item.deadline_text:
            lines.append(f"      deadline as written: {item.deadline_text}")
        if item.history_text("en"):
            lines.append(f"      history: {item.history_text('en')}")
        for source in item.sources:
            page = f", p. {source.page}" if source.page else ""
            lines.append(f"      — {source.title} ({source.date}{page}) {source.path}")
            lines.append(f"        « {' '.join(source.quote.split())} »")
    return "\n".join(lines)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{option}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


def _fail(text: str) -> int:
    print(f"error: {text}", file=sys.stderr)
    return 1
