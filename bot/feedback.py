"""Thumbs up / down on answers, kept in SQLite under the store folder, exportable as CSV."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Any, TextIO

from bot.spreadsheet import write_table
from kb.files import private_file
from kb.settings import Settings

FEEDBACK_FILE = "feedback.sqlite3"
RATINGS = ("up", "down")
CSV_COLUMNS = ("id", "time", "role", "rating", "comment", "question", "answer", "sources")
MAX_COMMENT = 2000

_SCHEMA = """
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
    """Feedback that cannot be stored (bad rating, unknown entry)."""


def feedback_path(settings: Settings) -> Path:
    """Where feedback lives: beside the knowledge base, so a backup of the store keeps it."""
    return settings.store / FEEDBACK_FILE


def record_feedback(settings: Settings, *, question: str, answer: Mapping[str, Any], role: str,
                    rating: str, comment: str = "") -> int:
    """Store one rating of `answer` (an `Answer.to_dict()`); returns its id."""
    if rating not in RATINGS:
        raise FeedbackError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
    sources = [
        {key: s.get(key) for key in ("n", "cited", "title", "path", "page", "section", "quote")}
        for s in answer.get("sources", [])
    ]
    with closing(_connect(settings)) as db, db:
        cursor = db.execute(
            "INSERT INTO feedback (time, role, rating, comment, question, answer, sources) VALUES (?,?,?,?,?,?,?)",
            (time.time(), role, rating, comment[:MAX_COMMENT], question, answer.get("answer", ""),
             json.dumps(sources, ensure_ascii=False)),
        )
        return int(cursor.lastrowid)


def add_comment(settings: Settings, feedback_id: int, comment: str) -> None:
    """Attach (or replace) the comment of an existing rating."""
    with closing(_connect(settings)) as db, db:
        cursor = db.execute("UPDATE feedback SET comment=? WHERE id=?", (comment[:MAX_COMMENT], feedback_id))
        if cursor.rowcount == 0:
            raise FeedbackError(f"no feedback with id {feedback_id}")


def all_feedback(settings: Settings) -> list[dict[str, Any]]:
    """Every rating, oldest first; empty when nobody has rated anything yet."""
    if not feedback_path(settings).is_file():
        return []
    with closing(_connect(settings)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(f"SELECT {', '.join(CSV_COLUMNS)} FROM feedback ORDER BY id")]


def export_csv(settings: Settings, out: TextIO, language: str = "fr") -> int:
    """Write every rating to `out` as CSV for a spreadsheet (`bot.spreadsheet`: ';', byte-order
    mark, no live formulas: comments are typed by anyone), headers, roles and ratings in
    `language`, time in ISO 8601 UTC; returns the row count."""
    from bot.messages import label

    def cells(row: dict[str, Any]) -> list[Any]:
        row["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row["time"]))
        row["role"], row["rating"] = label(row["role"], language), label(row["rating"], language)
        return [row[c] for c in CSV_COLUMNS]

    return write_table(out, [label(c, language) for c in CSV_COLUMNS], (cells(r) for r in all_feedback(settings)))


def _connect(settings: Settings) -> sqlite3.Connection:
    path = feedback_path(settings)
    private_file(path)
    db = sqlite3.connect(path, timeout=30)
    db.execute(_SCHEMA)
    return db
