"""What the knowledge base holds, as a given role may see it: documents, last ingestion, passage context."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kb.store import DocumentRecord, KnowledgeBase, SearchFilter


@dataclass(frozen=True)
class PassageContext:
    """A quoted passage inside its surrounding text (all three parts are verbatim document text)."""

    before: str
    quote: str
    after: str


def visible_documents(kb: KnowledgeBase, role: str) -> list[DocumentRecord]:
    """The documents `role` may read, newest first (undated last)."""
    where = SearchFilter.for_role(role)
    if not kb.exists:
        return []
    records = list(kb.documents(where).values())
    return sorted(records, key=lambda r: (r.date or "", r.title), reverse=True)


def last_ingestion(kb: KnowledgeBase) -> dt.datetime | None:
    """When the last ingestion finished (local time), or None if never."""
    if not kb.exists:
        return None
    raw = kb.get_meta("last_ingest_at")
    return dt.datetime.fromtimestamp(float(raw)) if raw else None


def passage_context(kb: KnowledgeBase, path: str, start: int, end: int, role: str, chars: int = 240) -> PassageContext | None:
    """The text around [start, end) of the document at `path`, cut at word boundaries.

    None when the document is unknown or not readable by `role`, so a card can never
    reveal more than the quote the answer already carries.
    """
    where = SearchFilter.for_role(role)
    # One row per card, not the whole documents table: the app calls this for every source shown.
    record = kb.document_by_path(path, where) if kb.exists else None
    if record is None:
        return None
    text = kb.document_text(record.doc_id)
    if text is None or not 0 <= start < end <= len(text):
        return None
    left = max(0, start - chars)
    right = min(len(text), end + chars)
    before, after = text[left:start], text[end:right]
    if left > 0 and " " in before:
        before = "…" + before[before.index(" ") + 1:]
    if right < len(text) and " " in after:
        after = after[: after.rindex(" ")] + "…"
    return PassageContext(before=before, quote=text[start:end], after=after)
