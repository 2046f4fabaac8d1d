"""Where the users of the web chat are kept: a JSON file under the store folder, or a table in
the PostgreSQL database several app servers share (`Settings.database_url`).

`bot.users` checks names, roles and passwords and hashes them; the stores below only keep
entries `{"role", "password" (the hash), "created_at"}` by user name. `user_store(settings)`
picks one from the settings; the code above does not know which one it talks to.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Protocol

from kb.files import private_file
from kb.schema import ROLES
from kb.settings import Settings

USERS_FILE = "users.json"
LOCK_FILE = ".users.lock"
FORMAT_VERSION = 1
Entry = dict[str, Any]


class UserError(ValueError):
    """A users operation cannot be done; the message says why and what to do."""


class UsersFileError(UserError):
    """The users file (or table) cannot be read or written."""


class UserStore(Protocol):
    """The users of one deployment, by name."""

    where: str
    """Where they live, as shown to an administrator (no password)."""

    def exists(self) -> bool:
        """True once users were ever added: the web chat must then ask for a login."""

    def read(self) -> dict[str, Entry]:
        """Every entry by name (empty when there are none)."""

    def get(self, name: str) -> Entry | None:
        """The entry of `name`, or None."""

    def insert(self, name: str, entry: Entry) -> Entry | None:
        """Add `name`; returns None when done, or the existing entry when the name is taken
        (then nothing changed). Atomic: two servers adding at once never lose one."""

    def delete(self, name: str) -> bool:
        """Remove `name`; False when there was none."""

    def stamp(self) -> Any:
        """Something that changes whenever the users change (None: no users at all), so a
        caller may keep what it derived from them until it does."""


def user_store(settings: Settings) -> UserStore:
    """The store the settings choose: PostgreSQL when `database_url` is set, else the file."""
    if settings.database_url:
        return PostgresUsers(settings.database_url)
    return FileUsers(Path(settings.store))


# ----- the file ------------------------------------------------------------------------
class FileUsers:
    """`<store>/users.json` (mode 0600), replaced atomically under a lock file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / USERS_FILE
        self.where = str(self.path)

    def exists(self) -> bool:
        return self.path.is_file()

    def get(self, name: str) -> Entry | None:
        return self.read().get(name)

    def insert(self, name: str, entry: Entry) -> Entry | None:
        with self._locked():
            users = self.read()
            if name in users:
                return users[name]
            users[name] = entry
            self._write(users)
        return None

    def delete(self, name: str) -> bool:
        with self._locked():
            users = self.read()
            if users.pop(name, None) is None:
                return False
            self._write(users)
        return True

    def stamp(self) -> Any:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise writers of the users file (a second one waits)."""
        try:
            handle = open(private_file(self.root / LOCK_FILE), "a")
        except OSError as exc:
            raise UsersFileError(f"cannot write in the store folder {self.root}: {exc.strerror or exc}") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def read(self) -> dict[str, Entry]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise UsersFileError(f"cannot read the users file {self.path}: {exc.strerror or exc}") from None
        try:
            data = json.loads(raw)
            users = data["users"]
            if not isinstance(users, dict) or not all(
                isinstance(e, dict) and e.get("role") in ROLES and isinstance(e.get("password"), str)
                for e in users.values()
            ):
                raise ValueError("bad entries")
        except (ValueError, KeyError, TypeError):
            raise UsersFileError(
                f"the users file {self.path} is damaged; restore it from a backup, or delete it and add the users again"
            ) from None
        return users

    def _write(self, users: dict[str, Entry]) -> None:
        """Replace the users file atomically; it is created with mode 0600."""
        path = self.path
        data = json.dumps({"version": FORMAT_VERSION, "users": users}, indent=2, sort_keys=True) + "\n"
        try:
            # mkstemp creates the file with mode 0600, so no other user can read it at any moment.
            fd, temporary = tempfile.mkstemp(prefix=".users-", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(temporary, 0o600)
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
                raise
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except OSError as exc:
            raise UsersFileError(f"cannot write the users file {path}: {exc.strerror or exc}") from None


# ----- PostgreSQL ----------------------------------------------------------------------
# Each step brings the table one version further (kb.postgres.migrate); never edit a shipped one.
_STEPS = (
    """CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    )""",
)
_ready: set[str] = set()  # URLs whose users table this process has brought up to date


class PostgresUsers:
    """The `users` table of the shared database: the primary key makes a second insert of one
    name fail whatever the server, and each change is its own transaction."""

    def __init__(self, url: str) -> None:
        from kb.postgres import shown

        self.url = url
        self.where = f"the users table of {shown(url)}"

    @contextlib.contextmanager
    def _connection(self, create: bool = False) -> Iterator[Any]:
        """A connection in a transaction; the table is created first when `create` (a read
        finds no table when no user was ever added: that is "no users")."""
        from kb.postgres import DatabaseError, connection, migrate

        try:
            with connection(self.url) as conn:
                if create and self.url not in _ready:
                    migrate(conn, "users", _STEPS)
                    _ready.add(self.url)
                yield conn
        except DatabaseError as exc:
            raise UsersFileError(f"cannot use {self.where}: {exc}") from None

    def exists(self) -> bool:
        with self._connection() as conn:
            return conn.execute("SELECT to_regclass('users') IS NOT NULL").fetchone()[0]

    def read(self) -> dict[str, Entry]:
        if not self.exists():
            return {}
        with self._connection() as conn:
            rows = conn.execute("SELECT name, role, password, created_at FROM users ORDER BY name").fetchall()
        return {name: {"role": role, "password": password, "created_at": created} for name, role, password, created in rows}

    def get(self, name: str) -> Entry | None:
        with self._connection() as conn:
            if not conn.execute("SELECT to_regclass('users') IS NOT NULL").fetchone()[0]:
                return None
            row = conn.execute("SELECT role, password, created_at FROM users WHERE name = %s", (name,)).fetchone()
        return {"role": row[0], "password": row[1], "created_at": row[2]} if row else None

    def insert(self, name: str, entry: Entry) -> Entry | None:
        with self._connection(create=True) as conn:
            added = conn.execute(
                "INSERT INTO users (name, role, password, created_at) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING", (name, entry["role"], entry["password"], entry["created_at"]))
            if added.rowcount == 1:
                return None
            row = conn.execute("SELECT role FROM users WHERE name = %s", (name,)).fetchone()
        return {"role": row[0] if row else "?"}

    def delete(self, name: str) -> bool:
        with self._connection(create=True) as conn:
            return conn.execute("DELETE FROM users WHERE name = %s", (name,)).rowcount == 1

    def stamp(self) -> Any:
        # Other servers change the table unseen: a fresh stamp each time makes callers ask again.
        return object()
