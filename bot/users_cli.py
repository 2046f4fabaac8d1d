"""`python -m bot users add|list|remove`: manage who may log in to the web chat, and with which role."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from bot.users import MIN_PASSWORD_CHARS
from kb.schema import ROLES
from kb.settings import Settings

DESCRIPTION = """\
Manage the users of the web chat. They live in users.json in the store folder
(data/, or PASSERELLE_STORE), readable by its owner only, or, when PASSERELLE_DATABASE_URL
is set, in the users table of that PostgreSQL database, shared by every app server.
Passwords are stored as salted scrypt hashes, never in clear. Once the file (or table)
exists the web chat asks for a login; without it, the chat runs as a single local
reader (public documents only).

roles: reader (public documents), staff (public + internal),
       official (all, restricted included), admin (official + upload)
"""

EPILOG = """\
password policy: at least 12 characters, not the user name (a phrase of several words is
easy to remember). To change a password: remove the user and add it again; its open
sessions end at their next request.
exit codes: 0 done; 1 bad input (unknown role, existing or unknown user, weak password...).
examples:
  python -m bot users add awa.diop --role official        # asks for the password twice
  echo "$PASSWORD" | python -m bot users add ci-bot --role reader --password-stdin
  python -m bot users list
  python -m bot users remove awa.diop
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `users` command and its `add`, `list` and `remove` subcommands."""
    users = subparsers.add_parser("users", help="add, list or remove web-chat users", description=DESCRIPTION,
                                  epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="create a user (the password is asked for, or read from stdin)")
    add.add_argument("name", metavar="NAME", help="user name: letters, digits, '.', '_', '-', '@' (at most 64)")
    add.add_argument("--role", required=True, choices=ROLES, help="what the user may read")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin (default when stdin is not a terminal)")
    add.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="list the users and their roles")
    listing.set_defaults(handler=run_list)

    remove = actions.add_parser("remove", help="delete a user")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=run_remove)

    for parser in (add, listing, remove):
        parser.add_argument("--store", metavar="DIR", type=Path,
                            help="knowledge-base folder holding users.json (default: data/, or PASSERELLE_STORE)")


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    """`users add NAME --role ROLE`."""
    from bot.users import UserError, add_user, check_new_user, users_location

    try:
        check_new_user(settings, args.name, args.role)
        password = _read_password(args.password_stdin, args.name)
        add_user(settings, args.name, password, args.role)
    except UserError as exc:
        return _fail(str(exc))
    except (EOFError, KeyboardInterrupt):
        return _fail("no password given: nothing changed")
    print(f"added {args.name} ({args.role}) to {users_location(settings)}")
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """`users list`."""
    from bot.users import UserError, list_users, users_file_exists, users_location

    try:
        if not users_file_exists(settings):
            print(f"no users file ({users_location(settings)}): the web chat runs as a single local reader")
            return 0
        users = list_users(settings)
    except UserError as exc:
        return _fail(str(exc))
    if not users:
        print(f"no users in {users_location(settings)}: the web chat refuses every login until one is added")
        return 0
    width = max(len(u.name) for u in users)
    for user in users:
        print(f"{user.name:<{width}}  {user.role}")
    return 0


def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    """`users remove NAME`."""
    from bot.users import UserError, list_users, remove_user, users_location

    try:
        remove_user(settings, args.name)
        left = len(list_users(settings))
    except UserError as exc:
        return _fail(str(exc))
    print(f"removed {args.name} from {users_location(settings)}")
    if not left:
        back = "" if settings.uses_database_server else \
            f" (delete {users_location(settings)} to go back to a single local reader)"
        print(f"no users left: the web chat refuses every login until one is added{back}")
    return 0


def _read_password(from_stdin: bool, name: str) -> str:
    """The new password: from stdin's first line, or typed twice at the terminal (checked
    against the policy before it is asked again)."""
    from bot.users import UserError, check_password

    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"Password (at least {MIN_PASSWORD_CHARS} characters, not the user name): ")
    check_password(first, name)
    if getpass.getpass("Password again: ") != first:
        raise UserError("the two passwords differ: nothing changed")
    return first


def _fail(text: str) -> int:
    print(f"error: {text}", file=sys.stderr)
    return 1
