"""What the readers of tables and prose share: a commitment found in a passage before the
document is settled, and the small helpers that cut a block into lines, list items and
clauses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kb.text import sentence_spans

MARKER = re.compile(r"^[ \t]*(?:[-*•–]|\d{1,2}[.)]|[A-Z]\d{1,2}\.)[ \t]+")

Line = tuple[int, int, str]  # start, end (offsets in the document's text), the line


@dataclass(frozen=True)
class Found:
    """A commitment one passage states; `owner_found` is False when the passage names no
    owner of its own (the document may tell it: see `reader.settle`)."""

    start: int
    end: int
    action: str
    owner: str
    owner_found: bool
    commission: str | None
    deadline: date | None
    deadline_text: str
    status: str
    from_table: bool


def without_marker(text: str, start: int, end: int) -> tuple[int, str]:
    """(start, text) of a passage without its list marker and surrounding blanks."""
    raw = text[start:end]
    marker = MARKER.match(raw)
    if marker:
        start += marker.end()
    raw = text[start:end]
    lead = len(raw) - len(raw.lstrip())
    return start + lead, raw.strip().rstrip(";").rstrip()


def lines(body: str, offset: int) -> list[Line]:
    """The non-blank lines of a block starting at `offset`."""
    found, cursor = [], 0
    for line in body.split("\n"):
        found.append((offset + cursor, offset + cursor + len(line), line))
        cursor += len(line) + 1
    return [entry for entry in found if entry[2].strip()]


def list_units(block_lines: list[Line]) -> list[tuple[int, int]]:
    """List items of a block: a marked line starts one, unmarked lines continue it."""
    units: list[list[int]] = []
    for start, end, line in block_lines:
        if MARKER.match(line) or not units:
            units.append([start, end])
        else:
            units[-1][1] = end
    return [(s, e) for s, e in units]


def clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of text[start:end], split further at semicolons."""
    spans = []
    for s_start, s_end in sentence_spans(text, start, end):
        cursor = s_start
        for match in re.finditer(r";\s+", text[s_start:s_end]):
            spans.append((cursor, s_start + match.start()))
            cursor = s_start + match.end()
        spans.append((cursor, s_end))
    return spans


def tidy(text: str) -> str:
    """An action phrase on one line, without stray punctuation, capitalised."""
    text = " ".join(text.split()).strip(" ,;:.")
    text = re.sub(r",\s*,", ",", text)
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    return text[:1].upper() + text[1:]
