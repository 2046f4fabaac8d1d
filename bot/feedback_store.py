"""Where ratings are kept: `feedback.sqlite3` under the store folder, or the `feedback` table of
the PostgreSQL database several app servers share (`Settings.database_url`).

`bot.feedback` checks and shapes a rating; a store only adds rows, sets a comment and reads
them all back (columns `CSV_COLUMNS`, oldest first). `feedback_store(settings)` picks one.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any, Protocol

from kb.files import private_file
from kb.settings import Settings

FEEDBACK_FILE = "feedback.sqlite3"
COLUMNS = ("id", "time", "role", "rating", "comment", "question", "answer", "sources")
_FIELDS = COLUMNS[1:]  # what a new row gives; the store numbers it

_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    role TEXT NOT NULL,
    rating TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL
)
"""


class FeedbackError(ValueError):
    """Feedback that cannot be stored (bad rating, unknown entry, database out of reach; the
    message never holds a password)."""


class FeedbackStore(Protocol):
    """The ratings of one deployment."""

    where: str
    """Where they live, as shown to an administrator (no password)."""

    def has_any(self) -> bool:
        """False when nothing was ever rated (no file, no table)."""

    def add(self, row: dict[str, Any]) -> int:
        """Store a rating (the `_FIELDS` of `row`); returns its new id."""

    def set_comment(self, feedback_id: int, comment: str) -> bool:
        """Set the comment of rating `feedback_id`; False when there is none."""

    def rows(self) -> list[dict[str, Any]]:
        """Every rating, oldest first."""


def feedback_store(settings: Settings) -> FeedbackStore:
    """The store the settings choose: PostgreSQL when `database_url` is set, else the file."""
    if settings.database_url:
        return PostgresFeedback(settings.database_url)
    return SqliteFeedback(Path(settings.store) / FEEDBACK_FILE)


class SqliteFeedback:
    """`<store>/feedback.sqlite3`, created for its owner only on the first rating."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def has_any(self) -> bool:
        return self.path.is_file()

    def add(self, row: dict[str, Any]) -> int:
        with closing(self._connect()) as db, db:
            cursor = db.execute(f"INSERT INTO feedback ({', '.join(_FIELDS)}) VALUES ({', '.join('?' * len(_FIELDS))})",
                                [row[f] for f in _FIELDS])
            return int(cursor.lastrowid)

    def set_comment(self, feedback_id: int, comment: str) -> bool:
        with closing(self._connect()) as db, db:
            return db.execute("UPDATE feedback SET comment=? WHERE id=?", (comment, feedback_id)).rowcount > 0

    def rows(self) -> list[dict[str, Any]]:
        if not self.has_any():
            return []
        with closing(self._connect()) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")]

    def _connect(self) -> sqlite3.Connection:
        private_file(self.path)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute(_SQLITE_SCHEMA)
        return db


# Each step brings the table one version further (kb.postgres.migrate); never edit a shipped one.
_STEPS = (
    """CREATE TABLE feedback (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        time DOUBLE PRECISION NOT NULL,
        role TEXT NOT NULL,
        rating TEXT NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        sources TEXT NOT NULL
    )""",
)
_ready: set[str] = set()  # URLs whose feedback table this process has brought up to date


class PostgresFeedback:
    """The `feedback` table of the shared database: every server adds to it, ids come from one
    identity column, so two ratings at once on two servers get two ids."""

    def __init__(self, url: str) -> None:
        from kb.postgres import shown

        self.url = url
        self.where = f"the feedback table of {shown(url)}"

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        from kb.postgres import DatabaseError, connection, migrate

        try:
            with connection(self.url) as conn:
                if self.url not in _ready:
                    migrate(conn, "feedback", _STEPS)
                    _ready.add(self.url)
                yield conn
        except DatabaseError as exc:
            raise FeedbackError(f"cannot use {self.where}: {exc}") from None

    def has_any(self) -> bool:
        with self._connection() as conn:
            return conn.execute("SELECT EXISTS (SELECT 1 FROM feedback)").fetchone()[0]

    def add(self, row: dict[str, Any]) -> int:
        with self._connection() as conn:
            return int(conn.execute(
                f"INSERT INTO feedback ({', '.join(_FIELDS)}) VALUES ({', '.join(['%s'] * len(_FIELDS))}) RETURNING id",
                [row[f] for f in _FIELDS]).fetchone()[0])

    def set_comment(self, feedback_id: int, comment: str) -> bool:
        with self._connection() as conn:
            return conn.execute("UPDATE feedback SET comment = %s WHERE id = %s", (comment, feedback_id)).rowcount > 0

    def rows(self) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self._connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            return list(cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id"))
