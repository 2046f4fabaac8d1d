"""Answer units: what an answer quotes, following the document's structure.

A unit is one sentence, or a sentence ending in ":" with the list items that follow it,
or a run of list items under a heading, or a table row read with its header, or a whole
section (`section_units`: the sentences under a heading, read with that heading). Each unit
is one citation; its quote is an exact span of the document text (for a table row, the row
itself, and for a section, its sentences: the header or heading is given to the reader and
to the answer as labels, not quoted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

MAX_ITEMS = 8
MAX_UNIT_CHARS = 900
# A section unit stops at the sentence that would take it past this: a list, a "Décisions"
# section or a slide fits; a long article is read (and quoted) as its beginning.
MAX_SECTION_CHARS = 1200
MAX_HEADING_CHARS = 150
_ITEM = re.compile(r"^\s*(?:[-*•–]\s|\d{1,2}[.)]\s|[A-Za-zÀ-ÿ]+\s\d{1,2}\s[–-]\s)")
_MARKER = re.compile(r"(?:[-*•–]|\d{1,2}[.)])?")
_ROW = re.compile(r"^\s*\|.*\|\s*$")
_RULE = re.compile(r"[-=_~*#\s]+")  # a plain-text heading's underline
_BULLET = re.compile(r"[-*•–]\s")
# A list marker or a label the sentence split leaves before a sentence ("1.", "D1.", "b)").
_LABEL = re.compile(r"[-*•–]|[A-Z]?\d{1,2}[.)]|[a-z][.)]")
# A plain-text heading the loader kept as a sentence: one line, underlined ("DÉCISIONS\n-----").
_UNDERLINED = re.compile(r"([^\n]{1,150})\n\s*(?:-{3,}|={3,})\s*")


@dataclass(frozen=True)
class Unit:
    """A candidate answer: `members` are the (start, end) sentence spans it is made of;
    `start`/`end` the span quoted; `reading` the text given to the reader (and shown)."""

    start: int
    end: int
    members: tuple[tuple[int, int], ...]
    reading: str
    kind: str  # "sentence" | "list" | "row" | "section"


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
    sentence alone, plus list, section-list and table-row units. A plain-text heading the
    loader kept as a sentence ("DÉCISIONS\n-----") is no answer, as no other heading is."""
    units = [Unit(s, e, ((s, e),), text[s:e], "sentence") for s, e in spans if not _UNDERLINED.fullmatch(text[s:e])]
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


def heading_in(gap: str, at_start: bool = False) -> str | None:
    """The heading that the text between two answer sentences holds, or None.

    Headings are never answer sentences (`ingest.split.answer_sentences`), so a heading is
    text no sentence covers, on lines of its own (or opening the passage, `at_start`), that
    does not end like a sentence; an underline ("-----") is dropped. A short bullet item
    left out of the sentences, a list marker or spacing is not a heading."""
    body = gap.strip()
    if not body or len(body) > MAX_HEADING_CHARS or not _own_lines(gap, body, at_start):
        return None
    lines = [line.strip() for line in body.splitlines()]
    lines = [line for line in lines if line and not _RULE.fullmatch(line) and not _LABEL.fullmatch(line)]
    heading = " ".join(lines)
    if not heading or _BULLET.match(heading) or _ROW.match(heading) or heading[-1] in ".!?;:,":
        return None
    return heading


def _own_lines(gap: str, body: str, at_start: bool) -> bool:
    """Does the gap's text stand on lines of its own: after a line break (or at the passage's
    start) and before one (or before a list marker the sentence split left out)?"""
    before = at_start or "\n" in gap[: len(gap) - len(gap.lstrip())]
    after = "\n" in gap[len(gap.rstrip()):] or bool(_LABEL.fullmatch(body.splitlines()[-1].strip()))
    return before and after


def _label_start(text: str, start: int) -> int:
    """Where the sentence at `start` begins with the label that opens its line ("D1. …")."""
    line = text.rfind("\n", 0, start) + 1
    label = text[line:start]
    return line + len(label) - len(label.lstrip()) if _LABEL.fullmatch(label.strip()) else start


def section_units(text: str, spans: Sequence[tuple[int, int]], start: int | None = None) -> list[Unit]:
    """The sections of a passage: each heading with the (at least two) sentences under it, up
    to the next heading, a table or MAX_SECTION_CHARS; read as "heading :" followed by them.
    `spans` are the passage's sentence spans (sorted); `start`, where the passage begins, lets
    the heading that opens it count (without it only headings between sentences do)."""
    units: list[Unit] = []
    previous_end = start
    open_at: int | None = None
    heading = ""
    members: list[tuple[int, int]] = []

    def close() -> None:
        if open_at is not None and len(members) >= 2:
            first = _label_start(text, members[0][0])
            body = text[first : members[-1][1]]
            units.append(Unit(first, members[-1][1], tuple(members), f"{heading} :\n{body}", "section"))

    for s, e in spans:
        found = heading_in(text[previous_end:s], at_start=previous_end == start) if previous_end is not None else None
        underlined = _UNDERLINED.fullmatch(text[s:e])
        row = bool(_ROW.match(text[s:e]))
        if found is not None or underlined or row or (open_at is not None and e - open_at > MAX_SECTION_CHARS):
            close()
            open_at, members = None, []
        if underlined:
            open_at, heading = e, underlined.group(1).strip()
        elif found is not None and not row:
            open_at, heading = s, found
        if open_at is not None and not underlined:
            members.append((s, e))
        previous_end = e
    close()
    return units
