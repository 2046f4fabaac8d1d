"""Restrictions on what a query may return: the caller's access levels plus user filters.

One `SearchFilter` gives the same condition to Chroma (`to_chroma`), to the catalog's chunks
(`to_sql`) and to its documents (`to_document_sql`), so both sides of retrieval and every
listing apply the same access rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from kb.schema import access_for_role, date_to_int

MAX_FILTER_CHARS = 200


@dataclass(frozen=True)
class SearchFilter:
    """Restrictions applied inside both the dense and the keyword query."""

    access: tuple[str, ...] = ("public",)
    doc_type: str | None = None
    since: date | None = None
    until: date | None = None
    organisation: str | None = None
    language: str | None = None
    # Documents (ids) left out: evaluation asks a question without its own document to make
    # a realistic near miss (the nearest other documents answer nothing).
    exclude_documents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Values reach Chroma's `where` and SQL parameters: a dict such as {"$ne": "x"} must
        # never pass for a document type.
        for name in ("doc_type", "organisation", "language"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > MAX_FILTER_CHARS):
                raise ValueError(f"{name}: give a text of at most {MAX_FILTER_CHARS} characters")
        for name in ("since", "until"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), date):
                raise ValueError(f"{name}: give a date (YYYY-MM-DD)")
        if not all(isinstance(level, str) for level in self.access):
            raise ValueError("access: give access levels as text")

    @classmethod
    def for_role(cls, role: str, **filters: Any) -> "SearchFilter":
        """The filter for a caller's role plus optional user filters."""
        return cls(access=access_for_role(role), **filters)

    def to_chroma(self) -> dict[str, Any]:
        """A Chroma `where` clause."""
        clauses: list[dict[str, Any]] = [{"access": {"$in": list(self.access)}}]
        if self.doc_type:
            clauses.append({"doc_type": {"$eq": self.doc_type}})
        if self.since:
            clauses.append({"date_int": {"$gte": date_to_int(self.since)}})
        if self.until:
            clauses.append({"date_int": {"$lte": date_to_int(self.until)}})
            if not self.since:
                clauses.append({"date_int": {"$gt": 0}})
        if self.organisation:
            clauses.append({"organisations": {"$contains": self.organisation}})
        if self.language:
            clauses.append({"language": {"$eq": self.language}})
        if self.exclude_documents:
            clauses.append({"doc_id": {"$nin": list(self.exclude_documents)}})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def chroma_residual(self) -> dict[str, Any] | None:
        """The `where` clause left for a Chroma collection that holds one access level and one
        language (`kb.store`'s partitions): every condition but those two, None when nothing is left."""
        clauses = _clauses(self.to_chroma())
        rest = [c for c in clauses if not ({"access", "language"} & set(c))]
        if not rest:
            return None
        return rest[0] if len(rest) == 1 else {"$and": rest}

    def to_sql(self, alias: str = "c") -> tuple[str, list[Any]]:
        """A SQL condition on the catalog's chunks table, with its parameters."""
        return self._sql(alias, "date_int", date_to_int, "1", lambda name: f"%|{name}|%")

    def to_document_sql(self, alias: str = "d") -> tuple[str, list[Any]]:
        """The same condition on the catalog's documents table (dates are ISO text there,
        organisations a JSON list), with its parameters."""
        return self._sql(alias, "date", date.isoformat, "'0'", lambda name: f"%{json.dumps(name)}%")

    def _sql(self, alias: str, date_column: str, date_value: Callable[[date], Any], undated: str,
             organisation_like: Callable[[str], str]) -> tuple[str, list[Any]]:
        """The condition for a table whose dates are `date_column` (`date_value` of a day, the
        undated ones at or below `undated`) and whose organisations match `organisation_like`."""
        marks = ",".join("?" * len(self.access))
        parts = [f"{alias}.access IN ({marks})"]
        params: list[Any] = list(self.access)
        if self.doc_type:
            parts.append(f"{alias}.doc_type = ?")
            params.append(self.doc_type)
        if self.since:
            parts.append(f"{alias}.{date_column} >= ?")
            params.append(date_value(self.since))
        if self.until:
            parts.append(f"{alias}.{date_column} BETWEEN {undated} AND ?")
            params.append(date_value(self.until))
        if self.organisation:
            parts.append(f"{alias}.organisations LIKE ?")
            params.append(organisation_like(self.organisation))
        if self.language:
            parts.append(f"{alias}.language = ?")
            params.append(self.language)
        if self.exclude_documents:
            parts.append(f"{alias}.doc_id NOT IN ({','.join('?' * len(self.exclude_documents))})")
            params.extend(self.exclude_documents)
        return " AND ".join(parts), params


def _clauses(where: dict[str, Any]) -> list[dict[str, Any]]:
    return list(where["$and"]) if "$and" in where else [where]
