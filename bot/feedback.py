"""Thumbs up / down on answers, kept in SQLite under the store folder (or, when several app
servers share a PostgreSQL database, in its `feedback` table: `bot.feedback_store`),
exportable as CSV."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from bot.feedback_store import COLUMNS as CSV_COLUMNS
from bot.feedback_store import FEEDBACK_FILE, FeedbackError, feedback_store
from bot.spreadsheet import write_table
from kb.settings import Settings

RATINGS = ("up", "down")
MAX_COMMENT = 2000
__all__ = ["CSV_COLUMNS", "FEEDBACK_FILE", "FeedbackError", "MAX_COMMENT", "RATINGS", "add_comment", "all_feedback",
           "export_csv", "feedback_location", "feedback_path", "has_feedback", "record_feedback"]


def feedback_path(settings: Settings) -> Path:
    """Where the feedback file lives (without a database): beside the knowledge base, so a
    backup of the store keeps it."""
    return settings.store / FEEDBACK_FILE


def feedback_location(settings: Settings) -> str:
    """Where the ratings of `settings` live, as shown to an administrator (never a password)."""
    return feedback_store(settings).where


def has_feedback(settings: Settings) -> bool:
    """False when nothing was ever rated."""
    return feedback_store(settings).has_any()


def record_feedback(settings: Settings, *, question: str, answer: Mapping[str, Any], role: str,
                    rating: str, comment: str = "") -> int:
    """Store one rating of `answer` (an `Answer.to_dict()`); returns its id."""
    if rating not in RATINGS:
        raise FeedbackError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
    sources = [
        {key: s.get(key) for key in ("n", "cited", "title", "path", "page", "section", "quote")}
        for s in answer.get("sources", [])
    ]
    return feedback_store(settings).add({
        "time": time.time(), "role": role, "rating": rating, "comment": comment[:MAX_COMMENT],
        "question": question, "answer": answer.get("answer", ""), "sources": json.dumps(sources, ensure_ascii=False),
    })


def add_comment(settings: Settings, feedback_id: int, comment: str) -> None:
    """Attach (or replace) the comment of an existing rating."""
    if not feedback_store(settings).set_comment(feedback_id, comment[:MAX_COMMENT]):
        raise FeedbackError(f"no feedback with id {feedback_id}")


def all_feedback(settings: Settings) -> list[dict[str, Any]]:
    """Every rating, oldest first; empty when nobody has rated anything yet."""
    return feedback_store(settings).rows()


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
