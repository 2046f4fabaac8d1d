"""A PostgreSQL database saved and restored with the engine's own tools (`pg_dump -Fc`,
`pg_restore`), by URL.

The password never appears on a command line (other users of the machine can read those):
it goes to the tools in a temporary password file of mode 0600 (libpq's `passfile`), which
is removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

from kb.catalog import StoreError


class DatabaseBackupError(StoreError):
    """pg_dump or pg_restore failed, is missing, or the target database is not empty."""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if versions:
        return str(versions[-1])
    raise DatabaseBackupError(f"{name} is not installed: install PostgreSQL's client tools (Debian: postgresql-client)")


@contextlib.contextmanager
def _conninfo(url: str) -> Iterator[str]:
    """`url` as a libpq connection string without its password, which goes to a passfile."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = {k: v for k, v in conninfo_to_dict(url).items() if v is not None}
    password = params.pop("password", None)
    if password is None:
        yield make_conninfo(**params)
        return
    fields = [params.get("host", "*"), str(params.get("port", "*")), params.get("dbname", "*"), params.get("user", "*"),
              password]
    line = ":".join(str(f).replace("\\", "\\\\").replace(":", "\\:") for f in fields)
    handle, path = tempfile.mkstemp(prefix="passerelle-pgpass-")
    try:
        os.write(handle, (line + "\n").encode("utf-8"))
        os.close(handle)
        yield make_conninfo(**params, passfile=path)
    finally:
        os.unlink(path)


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise DatabaseBackupError(f"{what} failed: {done.stderr.strip()[-600:]}")


def dump_database(url: str, target: Path) -> None:
    """Save the database at `url` into `target` (pg_dump's custom format, compressed)."""
    with _conninfo(url) as conninfo:
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={target}",
              f"--dbname={conninfo}"], "pg_dump")


def database_tables(url: str) -> list[str]:
    """The tables of the database at `url` (outside PostgreSQL's own schemas)."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=10) as db:
            rows = db.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables "
                              "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1").fetchall()
    except psycopg.Error as exc:
        raise DatabaseBackupError(f"cannot reach the database: {str(exc).strip()}") from None
    return [r[0] for r in rows]


def restore_database(url: str, source: Path, force: bool = False) -> None:
    """Restore a dump made by `dump_database` into the database at `url`; a database holding
    tables is refused unless `force`, which drops what the dump holds before re-creating it."""
    tables = database_tables(url)
    if tables and not force:
        raise DatabaseBackupError(
            f"the database is not empty ({len(tables)} tables, e.g. {', '.join(tables[:3])}): restore into an "
            "empty database, or add --force to replace its contents")
    options = ["--clean", "--if-exists"] if tables else []
    with _conninfo(url) as conninfo:
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
              *options, f"--dbname={conninfo}", str(source)], "pg_restore")
