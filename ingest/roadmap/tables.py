"""Action tables: Markdown or Word tables as "a | b | c" rows under a header row, and PDF
tables as rows of space-separated cells under a header line. Columns are found by the words
of their header, in any order."""

from __future__ import annotations

import re
from datetime import date

from ingest.roadmap.dates import choose_deadline, find_dates, last_date
from ingest.roadmap.owners import commission_of, status
from ingest.roadmap.passage import Found, Line
from kb.commitments import BODY_CHAIN_AT_END, parse_owner
from kb.vocabulary import commission_named

_HEADER_WORDS = {
    "action": r"actions?|étapes?|steps?|livrables?|deliverables?|mesures?|tâches?|tasks?|activités?|activities|"
              r"objet|object",
    "owner": r"responsables?|owners?|porteurs?|pilotes?|leads?",
    "deadline": r"échéances?|deadlines?|dates?|délais?|due",
    "status": r"statuts?|status|état|avancement|progress",
    "commission": r"commissions?|thèmes?|themes?|workstreams?",
    "number": r"n°|no\.?|#|réf\.?|ref\.?",
    # A tracker's start column ("Début", "Calendrier : début") is read as no part of the commitment,
    # but it must not keep the row from being the table's header.
    "start": r"débuts?|starts?|démarrage|lancement",
}
_HEADER_CELL = {key: re.compile(rf"^(?:{pattern})$", re.I) for key, pattern in _HEADER_WORDS.items()}
_NEEDED = {"action", "owner", "deadline"}


def header_key(cell: str) -> str | None:
    """The column a header cell names ("Échéance" -> "deadline", "Date limite" ->
    "deadline", "Action à mener" -> "action"), or None: the first of its words that is a
    header word, in a cell of at most four words."""
    words = cell.strip(" :").split()
    for word in words if len(words) <= 4 else ():
        for key, pattern in _HEADER_CELL.items():
            if pattern.match(word.strip(" :()")):
                return key
    return None


def is_pipe_row(line: str) -> bool:
    """Is the line a row of a pipe table ("a | b | c")?"""
    return line.count("|") >= 2 or (line.strip().startswith("|") and line.count("|") >= 1)


def cells(line: str, offset: int) -> list[Line]:
    """The non-empty cells of a pipe row, with their offsets in the document."""
    found, cursor = [], 0
    for part in line.split("|"):
        start = cursor
        cursor += len(part) + 1
        stripped = part.strip()
        if stripped:
            lead = len(part) - len(part.lstrip())
            found.append((offset + start + lead, offset + start + lead + len(stripped), stripped))
    return found


class TableReader:
    """The columns of the table being read in a section, and its rows as commitments."""

    def __init__(self, reference: date | None, signed: date | None) -> None:
        self.reference = reference
        self.signed = signed
        self.columns: dict[str, int] | None = None
        self.space_columns: list[str | None] | None = None

    def reset(self) -> None:
        """A new section: no table is open."""
        self.columns = None
        self.space_columns = None

    def heading(self, body: str) -> None:
        """A heading line made only of header words opens a space-separated (PDF) table."""
        words = body.split()
        if len(words) >= 3 and all(header_key(w) for w in words):
            self.space_columns = [header_key(w) for w in words]

    def starts_space_row(self, first_line: str) -> bool:
        """Does a block continue the open PDF table (a numbered row)?"""
        return bool(self.space_columns) and re.match(r"\d+\s", first_line) is not None

    def pipe_row(self, start: int, line: str) -> Found | None:
        """A header row opens a table; a data row under it is a commitment."""
        row = cells(line, start)
        keys = [header_key(text) for _, _, text in row]
        # A header names every column, or at least the action, owner and deadline ones (a
        # tracker's extra "Commentaire" or "Notes" column is read as no field).
        if len(keys) >= 2 and (all(keys) or _NEEDED <= set(keys)):
            self.columns = {k: i for i, k in enumerate(keys) if k}
            return None
        columns = self.columns
        if not columns or not _NEEDED <= set(columns) or len(row) < len(columns):
            return None

        def cell(key: str) -> str:
            return row[columns[key]][2] if key in columns and columns[key] < len(row) else ""

        return self.row(row[0][0], row[-1][1], cell("action"), cell("owner"), cell("deadline"),
                         cell("status"), cell("commission"))

    def space_row(self, start: int, end: int, line: str) -> Found | None:
        """A numbered PDF row: the deadline ends it, the owner comes just before."""
        columns = self.space_columns or []
        rest = re.sub(r"^\d+\s+", "", line)
        found = last_date(rest, self.reference, self.signed)
        if found is None:
            return None
        value, text_start = found
        middle = rest[:text_start].strip()
        owner_match = BODY_CHAIN_AT_END.search(middle)
        if not owner_match or "owner" not in columns:
            return None
        middle = middle[: owner_match.start()].strip()
        commission_text = ""
        if "commission" in columns:
            # The theme is the last word before the owner ("Start-up/État" is one token).
            middle, _, commission_text = middle.rpartition(" ")
        return self.row(start, end, middle, owner_match.group(0), rest[text_start:].strip(), "", commission_text,
                         deadline=value)

    def row(self, start: int, end: int, action: str, owner_text: str, deadline_text: str, status_text: str,
            commission_text: str, *, deadline: date | None | str = "parse") -> Found | None:
        """The commitment a row's cells state (None without an action or an owner); records of
        labelled fields (`ingest.roadmap.fields`) are rows written one field a line."""
        owner = parse_owner(owner_text)
        if not action.strip() or not owner:
            return None
        if deadline == "parse":
            expression = choose_deadline(find_dates(deadline_text, self.reference, self.signed), deadline_text)
            deadline = expression.value if expression else None
        commission = commission_named(commission_text) if commission_text else commission_of(owner, "")
        return Found(start, end, action.strip(), owner, True, commission, deadline, deadline_text.strip(),
                     status(status_text) if status_text else "unknown", from_table=True)
