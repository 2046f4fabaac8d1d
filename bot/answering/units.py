"""Answer units: what an answer quotes, following the document's structure.

A unit is one sentence, or a sentence ending in ":" with the list items that follow it,
or a run of list items under a heading, or a table row read with its header. Each unit is
one citation; its quote is an exact span of the document text (for a table row, the row
itself: the header is given to the reader and to the answer as labels, not quoted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

MAX_ITEMS = 8
MAX_UNIT_CHARS = 900
_ITEM = re.compile(r"^\s*(?:[-*•–]\s|\d{1,2}[.)]\s|[A-Za-zÀ-ÿ]+\s\d{1,2}\s[–-]\s)")
_MARKER = re.compile(r"(?:[-*•–]|\d{1,2}[.)])?")
_ROW = re.compile(r"^\s*\|.*\|\s*$")


@dataclass(frozen=True)
class Unit:
    """A candidate answer: `members` are the (start, end) sentence spans it is made of;
    `start`/`end` the span quoted; `reading` the text given to the reader (and shown)."""

    start: int
    end: int
    members: tuple[tuple[int, int], ...]
    reading: str
    kind: str  # "sentence" | "list" | "row"


def is_item(sentence: str) -> bool:
    """Does the sentence start a list item ("- …", "1. …", "Axe 2 – …")?"""
    return bool(_ITEM.match(sentence))


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _labelled_row(header: str, row: str) -> str | None:
    names, values = _cells(header), _cells(row)
    if len(names) != len(values):
        return None
    return " ; ".join(f"{n} : {v}" for n, v in zip(names, values) if v)


def _on_own_line(text: str, previous_end: int, start: int) -> bool:
    """Only a line break (and perhaps a list marker the sentence split left out, "1.")
    lies between the previous sentence and this one."""
    gap = text[previous_end:start]
    return "\n" in gap and bool(_MARKER.fullmatch(gap.strip()))


def answer_units(text: str, spans: Sequence[tuple[int, int]]) -> list[Unit]:
    """Units of a document from its sentence spans (sorted, non-overlapping): every
    sentence alone, plus list, section-list and table-row units."""
    units = [Unit(s, e, ((s, e),), text[s:e], "sentence") for s, e in spans]
    sentences = [text[s:e] for s, e in spans]
    i = 0
    while i < len(spans):
        if _ROW.match(sentences[i]):
            rows, i = _table_rows(text, spans, sentences, i)
            units.extend(rows)
            continue
        j = _list_end(text, spans, sentences, i)
        if j > i:
            s = spans[i][0]
            members = tuple(spans[i:j])
            units.append(Unit(s, members[-1][1], members, text[s : members[-1][1]], "list"))
            i = j
            continue
        i += 1
    return units


def _table_rows(text: str, spans: Sequence[tuple[int, int]], sentences: Sequence[str], i: int) -> tuple[list[Unit], int]:
    """The rows of the table whose first row is sentence `i`, each read with that header
    row's labels (separator rows left out), and the index of the first sentence after it."""
    rows = []
    j = i + 1
    while j < len(spans) and _ROW.match(sentences[j]) and not text[spans[j - 1][1]:spans[j][0]].strip():
        labelled = _labelled_row(sentences[i], sentences[j])
        if labelled and not set(_cells(sentences[j])) <= {"", "---", ":---", "---:"}:
            rows.append(Unit(spans[j][0], spans[j][1], (spans[j],), labelled, "row"))
        j += 1
    return rows, j


def _list_end(text: str, spans: Sequence[tuple[int, int]], sentences: Sequence[str], i: int) -> int:
    """The index after the list starting at sentence `i`: an introduction ending in ":"
    with at least one item, or a run of at least two items; `i` when none starts there."""
    s = spans[i][0]
    intro = sentences[i].rstrip().endswith(":")
    first = i + 1 if intro else i
    j = first
    while j < len(spans) and j - first < MAX_ITEMS and is_item(sentences[j]):
        if j > i and not _on_own_line(text, spans[j - 1][1], spans[j][0]):
            break
        if spans[j][1] - s > MAX_UNIT_CHARS:
            break
        j += 1
    return j if j - first >= (1 if intro else 2) else i
