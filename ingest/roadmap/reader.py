"""The walk through a document's blocks: which passages are table rows, lead-ins, list
items or prose, in which section; then what one passage cannot tell alone is settled."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from ingest.roadmap.fields import record
from ingest.roadmap.passage import MARKER, Found, Line, lines, list_units, tidy
from ingest.roadmap.prose import LeadIn, ProseReader, context, heading_lead_in, lead_in
from ingest.roadmap.tables import TableReader, is_pipe_row
from kb.commitments import Mention, action_stems, owners_overlap
from kb.schema import Block, LoadedDocument


class Reader:
    """Walks a document's blocks, tracking tables, lead-ins and section context."""

    def __init__(self, doc: LoadedDocument, signed: date | None) -> None:
        self.doc = doc
        self.text = doc.text
        self.tables = TableReader(doc.meta.date, signed)
        self.prose = ProseReader(doc.text, doc.meta.date, signed, protocol=doc.meta.doc_type == "protocol")
        self.lead_in: LeadIn | None = None
        self.section: tuple[str, ...] = ()
        self.found: list[tuple[Block, Found]] = []

    def read(self) -> list[tuple[Block, Found]]:
        """Every commitment a passage states, with its block, in document order."""
        for block in self.doc.blocks:
            if block.section != self.section:
                self.section = block.section
                self.tables.reset()
                self.lead_in = None
            body = self.text[block.start : block.end]
            if block.kind == "heading":
                self.tables.heading(body)
                self.lead_in = heading_lead_in(body) or self.lead_in
            else:
                self._paragraph(block, body)
        return self.found

    def _keep(self, block: Block, found: Found | None) -> None:
        if found is not None:
            self.found.append((block, found))

    def _paragraph(self, block: Block, body: str) -> None:
        block_lines = lines(body, block.start)
        if block_lines and self.tables.starts_space_row(block_lines[0][2]):
            self._keep(block, self.tables.space_row(*block_lines[0]))
        elif any(is_pipe_row(line) for _, _, line in block_lines):
            for start, _, line in block_lines:
                if is_pipe_row(line):
                    self._keep(block, self.tables.pipe_row(start, line))
        elif body.strip().endswith(":") and len(body.strip()) < 200:
            self.lead_in = lead_in(body.strip()) or self.lead_in
        else:
            self._list_or_prose(block, body.strip(), block_lines)

    def _list_or_prose(self, block: Block, stripped: str, block_lines: list[Line]) -> None:
        units = list_units(block_lines)
        spans = units or [(block.start, block.end)]
        records = [record(self.text, start, end, self.tables) for start, end in spans]
        if not any(records):
            self._list_or_prose_units(block, stripped, block_lines, units)
            return
        # Records of labelled fields: each is a commitment; the other items are read as before.
        for span, found in zip(spans, records):
            if found is None:
                self._list_or_prose_units(block, stripped, block_lines, [span])
            else:
                self._keep(block, found)

    def _list_or_prose_units(self, block: Block, stripped: str, block_lines: list[Line],
                             units: list[tuple[int, int]]) -> None:
        kind, lead_owner = self._context()
        marked = bool(block_lines) and MARKER.match(block_lines[0][2]) is not None
        continues = stripped[:1].islower()
        if units and kind != "prose" and (marked or (self.lead_in is not None and continues)):
            for start, end in units:
                self._keep(block, self.prose.list_item(start, end, kind, lead_owner, self.section))
            return
        if not continues and not marked:
            self.lead_in = None  # a new paragraph ends the lead-in's list
        for start, end in units or [(block.start, block.end)]:
            for found in self.prose.sentences(start, end, self.section):
                self._keep(block, found)

    def _context(self) -> tuple[str, str | None]:
        """The kind of passage the section and lead-in make of a list, and its owner: the
        lead-in's, else the headings'."""
        kind, heading_owner = context(self.section)
        if self.lead_in is None:
            return kind, heading_owner
        owner, commitment = self.lead_in
        return ("commitment" if commitment and kind == "prose" else kind), owner or heading_owner


def to_mention(text: str, block: Block, found: Found) -> Mention:
    """The stored commitment: its action tidied, its quote trimmed to exact offsets."""
    start, end = found.start, found.end
    while end > start and text[end - 1] in " \t\n;":
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return Mention(
        action=tidy(found.action), owner=found.owner, commission=found.commission, deadline=found.deadline,
        deadline_text=" ".join(found.deadline_text.split()), status=found.status, quote=text[start:end],
        start=start, end=end, page=block.page, section=" > ".join(block.section),
    )


def settle(found: list[Found]) -> list[int]:
    """Settle what one passage cannot tell alone; the indexes of the commitments kept.

    An ownerless commitment that moves the deadline of a sibling (same action, another
    date: "the immersion is rescheduled to September") takes the sibling's owner; one that
    only restates it is dropped, and so is a recap table row repeating a commitment stated
    earlier in the document.
    """
    stems = [action_stems(f.action) for f in found]
    owned = [i for i, f in enumerate(found) if f.owner_found]
    kept: list[int] = []
    for index, item in enumerate(found):
        if not item.owner_found:
            sibling = _closest(index, stems, owned)
            if sibling is None or item.deadline is None or found[sibling].deadline == item.deadline:
                continue
            found[index] = replace(item, owner=found[sibling].owner, owner_found=True,
                                   commission=item.commission or found[sibling].commission)
        if not _repeats(index, found, stems, kept):
            kept.append(index)
    return kept


def _closest(index: int, stems: list[frozenset[str]], candidates: list[int], minimum: int = 2) -> int | None:
    best, score = None, minimum - 1
    for other in candidates:
        shared = len(stems[index] & stems[other])
        if other != index and shared > score:
            best, score = other, shared
    return best


def _repeats(index: int, found: list[Found], stems: list[frozenset[str]], kept: list[int]) -> bool:
    """A table row restating a commitment the document's prose already gave."""
    item = found[index]
    return item.from_table and any(
        not found[other].from_table and found[other].deadline == item.deadline
        and owners_overlap(found[other].owner, item.owner) and stems[other] & stems[index]
        for other in kept
    )
