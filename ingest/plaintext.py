"""Plain text (.txt): the structure people type without a markup language.

Paragraphs are separated by blank lines. Headings: a short title line, Markdown's "# Title", or a
line underlined with "====" (level 1) or "----" (level 2). Tables: "| a | b |" rows (with or
without "+---+" borders), and columns aligned with spaces under a header line, each line of which
becomes a "| a | b |" row read with its header.
"""

from __future__ import annotations

import re

from ingest.blocks import TextBuilder

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^\s*(={3,}|-{3,})\s*$")
_BORDER = re.compile(r"^\s*\+[-=+:\s]*\+\s*$")
_PIPE_RULE = re.compile(r"\s*\|[\s:|=+-]*")
# A cell of an aligned table: words separated by single spaces; two or more spaces end it.
_CELL = re.compile(r"\S+(?: \S+)*")


def plain_text_blocks(body: str, builder: TextBuilder, *, base_level: int = 0) -> None:
    """Read a plain-text body into `builder`, its headings `base_level` deeper (inside an e-mail
    message, whose own heading is at level 1)."""
    for para in re.split(r"\n\s*\n", body):
        lines = para.strip().split("\n")
        while len(lines) >= 2 and _is_underlined(lines[0], lines[1]):
            level = 1 if lines[1].strip().startswith("=") else 2
            builder.add(lines[0], kind="heading", level=level + base_level)
            lines = lines[2:]
        if any(line.strip() for line in lines):
            _paragraph(lines, builder, base_level)


def _paragraph(lines: list[str], builder: TextBuilder, base_level: int) -> None:
    stripped = [line.strip() for line in lines]
    marked = _MD_HEADING.match(stripped[0]) if len(lines) == 1 else None
    if _is_pipe_table(stripped):
        for line in stripped:
            if line.startswith("|") and not _PIPE_RULE.fullmatch(line):
                builder.add(line)
    elif marked:  # plain-text notes often borrow Markdown's "# Title"
        builder.add(marked.group(2), kind="heading", level=len(marked.group(1)) + base_level)
    elif len(lines) == 1 and looks_like_heading(lines[0]):
        builder.add(lines[0], kind="heading", level=numbering_level(lines[0]) + base_level)
    elif (rows := aligned_rows(lines)) is not None:
        for row in rows:
            builder.row(row)
    else:
        builder.add("\n".join(lines))


def _is_pipe_table(lines: list[str]) -> bool:
    """Are the lines "| a | b |" rows, perhaps between "+---+" borders?"""
    return all(line.startswith("|") or _BORDER.match(line) for line in lines) and any(x.startswith("|") for x in lines)


def _is_underlined(title: str, rule: str) -> bool:
    """Is `title` a heading underlined by `rule` ("Décisions" over "========="), the rule about
    as long as the title?"""
    title = title.strip()
    match = _UNDERLINE.match(rule)
    return bool(match and title and not _UNDERLINE.match(title) and len(title) <= 90
                and len(match.group(1)) >= max(3, len(title) // 2))


def aligned_rows(lines: list[str]) -> list[list[str]] | None:
    """The rows of a table whose columns are aligned with spaces, None when the lines are no such
    table. The first line is the header: its cells' starts are the columns; a "-----  ----" rule
    under it is left out; a line whose first column is empty continues the row above (a wrapped cell)."""
    body = [line for line in lines if line.strip() and not re.fullmatch(r"[\s=-]+", line)]
    if not _aligned(body):
        return None
    header = [(m.start(), m.group(0)) for m in _CELL.finditer(body[0])]
    starts = [start for start, _ in header]
    rows: list[list[str]] = [[text for _, text in header]]
    for line in body[1:]:
        cells = _aligned_cells(line, starts)
        if not cells[0] and len(rows) > 1:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells)]
        else:
            rows.append(cells)
    return rows if _filled(rows[1:]) >= len(rows[1:]) * 2 else None  # rows must fill two columns or more


def _filled(rows: list[list[str]]) -> int:
    return sum(1 for row in rows for cell in row if cell)


def _aligned(body: list[str]) -> bool:
    """Could the lines be an aligned table: a header of two cells or more, most lines with a gap
    of two spaces or more between words, no line of prose length?"""
    if len(body) < 2 or any(len(line) > 200 for line in body):
        return False
    gap = re.compile(r"\S {2,}\S")
    gapped = sum(1 for line in body if gap.search(line))
    return len(_CELL.findall(body[0])) >= 2 and bool(gap.search(body[0])) and gapped * 3 >= len(body) * 2


def _aligned_cells(line: str, starts: list[int]) -> list[str]:
    cells = [""] * len(starts)
    for match in _CELL.finditer(line):
        # A value may start a little before its column's header (right-aligned numbers).
        column = max([i for i, s in enumerate(starts) if s <= match.start() + 3] or [0])
        cells[column] = f"{cells[column]} {match.group(0)}".strip()
    return cells


def looks_like_heading(line: str) -> bool:
    """Is a line, alone in its paragraph, a title rather than a sentence?"""
    line = line.strip()
    if not line or len(line) > 90 or line[-1] in ".;,:!?…»)" and not line.endswith(":"):
        return False
    words = line.split()
    # "2.1 Gouvernance" is a heading; "7 Étude sur … 30 septembre 2026" is a numbered table row.
    numbered = bool(re.match(r"^(\d+(\.\d+)*\.?|[IVX]+\.)\s", line)) and len(line.split()) <= 6
    return len(words) <= 12 and (line.isupper() or numbered or (line[0].isupper() and len(words) <= 8))


def numbering_level(line: str) -> int:
    """The depth of a numbered heading ("2.1 Gouvernance" -> 2); 1 when it has no number."""
    match = re.match(r"^(\d+(?:\.\d+)*)", line.strip())
    return match.group(1).count(".") + 1 if match else 1
