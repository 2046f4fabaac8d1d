"""Records of labelled fields: an action table's row written one field a segment.

    Fiche A — Guichet unique              Draft of the procedure: owners Mr Kane (ARTP) /
    Objet : raccorder les centres …       Mr Mammadov (ACC); due 30 November 2026.
    Responsable : Mme Ndour (ADIE)
    Date limite : 15 décembre 2026        - Share the statistics. Lead: ASAN. Deadline: 30 November 2026.

A passage is a record when its segments (lines, clauses between semicolons, sentences, and
the part after a title's colon) label both an owner and a deadline with the words of a
table header (`ingest.roadmap.tables.header_key`), whatever their order. Its action is the
labelled action ("Objet", "Action", "Task") or else the text that is no field, without a
short leading label ("Décision 2 —"). Owner, deadline, status and commission are then read
as the cells of a table row.
"""

from __future__ import annotations

import re

from ingest.roadmap.passage import Found, without_marker
from ingest.roadmap.tables import TableReader, header_key

# Where a passage splits into segments: a line break, a semicolon, a sentence end (not the
# period of a title such as "M." or "Mrs."); then the colon after a title when a field follows
# ("Exchange of contacts: owners CERT-SN and AzCERT", see `segments`).
_SEGMENT_END = re.compile(
    r"\n|;\s*|(?<=[.!?])(?<!\b[A-Z]\.)(?<!\bM[rs]\.)(?<!\b[DP]r\.)(?<!\bMme\.)(?<!\bMrs\.)\s+(?=[A-ZÀ-Ý])")
_TITLED = re.compile(r"(?P<title>[^:]+?)\s*:\s+(?P<rest>\S.*)", re.S)
_LABELLED = re.compile(r"\s*(?P<label>[^:\n]{1,40}?)\s*:\s*(?P<value>\S.*)", re.S)
_BARE = re.compile(r"\s*(?P<label>\S+)\s+(?P<value>\S.*)", re.S)
# Without a colon, only these keys label a segment ("owners CERT-SN", "due 15 October 2026").
_BARE_KEYS = {"owner", "deadline", "status"}
_MAX_BARE_WORDS = 12
_SHORT_LABEL = re.compile(r"^\s*\S+(?:\s+\S+){0,2}\s+[—–-]\s+(?=\S)")
_EMPHASIS = re.compile(r"\*\*|__")


def segments(text: str) -> list[str]:
    """The segments of a passage, stripped, blanks dropped; "Title: owner X" is two."""
    found = []
    for part in _SEGMENT_END.split(text):
        part = part.strip(" \t.")
        titled = _TITLED.fullmatch(part)
        if titled and header_key(titled.group("title")) is None and field(titled.group("rest")):
            found += [titled.group("title"), titled.group("rest")]
        elif part:
            found.append(part)
    return found


def field(segment: str) -> tuple[str, str] | None:
    """(key, value) when a segment is a labelled field ("Date limite : 15 mai" -> deadline)."""
    labelled = _LABELLED.fullmatch(segment)
    if labelled:
        key = header_key(labelled.group("label"))
        return (key, labelled.group("value").strip()) if key else None
    bare = _BARE.fullmatch(segment)
    if bare and len(segment.split()) <= _MAX_BARE_WORDS:
        key = header_key(bare.group("label"))
        if key in _BARE_KEYS:
            return key, bare.group("value").strip()
    return None


def record(text: str, start: int, end: int, rows: TableReader) -> Found | None:
    """The commitment a record of labelled fields in text[start:end] states, or None when the
    passage labels no owner or no deadline."""
    start, body = without_marker(text, start, end)
    fields: dict[str, str] = {}
    rest: list[str] = []
    for segment in segments(_EMPHASIS.sub("", body)):
        found = field(segment)
        if found and found[0] not in fields:
            fields[found[0]] = found[1]
        elif not found:
            rest.append(segment)
    if "owner" not in fields or "deadline" not in fields:
        return None
    action = fields.get("action") or (_SHORT_LABEL.sub("", rest[0]) if rest else "")
    return rows.row(start, start + len(body), action, fields["owner"], fields["deadline"],
                    fields.get("status", ""), fields.get("commission", ""))
