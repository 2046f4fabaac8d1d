"""Spreadsheets (.xlsx, .ods, .csv): each sheet a section, each row a table row read with its header.

A sheet gives a heading (its name), the lines above its header row (a title merged across the
columns, a note) as paragraphs, then its header row and data rows as "| a | b |" rows: the answer
units read a row with its header, and a tracker with action / owner / deadline / status columns
feeds the commitments register as a Markdown table does. Merged cells give their value to every
cell they cover (a two-row header under a merged group label is read as one row); empty rows and
columns are left out; formulas are read as the value the spreadsheet last computed (never run);
macros are never run either. Sheets are bounded: a file over `MAX_ROWS` rows is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import zipfile
from pathlib import Path

from ingest.blocks import LoadError, TextBuilder, check_container

log = logging.getLogger(__name__)

# Rows read from one file, all sheets together: a tracker has hundreds; a data dump of a million
# rows is no document to ask about and would take hours to embed.
MAX_ROWS = 50_000
# A row element of a worksheet part, with its row number when it gives one (r="12").
_ROW_TAG = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?row(?=[\s/>])(?:[^>]*?\sr="(\d+)")?')
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?ref="[A-Z]*\d+:?[A-Z]*(\d*)"')
# Columns kept per row: an OpenDocument row often repeats an empty cell to column 1024 or more.
MAX_COLUMNS = 100


def xlsx_blocks(path: Path, builder: TextBuilder) -> dict:
    """Read an .xlsx workbook into `builder`; returns its title when the file has one."""
    check_container(path, ".xlsx")
    import openpyxl

    _check_xlsx_rows(path)
    try:
        # keep_vba=False: a macro project is dropped unread; data_only: formulas as cached values.
        book = openpyxl.load_workbook(path, data_only=True, keep_vba=False, keep_links=False)
    except LoadError:
        raise
    except Exception as exc:  # openpyxl raises KeyError, ValueError, lxml and zip errors on damaged files
        raise LoadError(f"corrupt or unreadable .xlsx ({type(exc).__name__})") from None
    for sheet in book.worksheets:
        grid = [[_cell_text(value) for value in row[:MAX_COLUMNS]] for row in sheet.iter_rows(values_only=True)]
        merges = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in sheet.merged_cells.ranges]
        sheet_blocks(sheet.title, _fill_merges(grid, merges), builder,
                     merged_rows={top for top, left, _, right in merges if right > left})
    return {"title": book.properties.title or None}


def _check_xlsx_rows(path: Path) -> None:
    """Refuse a workbook over `MAX_ROWS` rows before openpyxl reads it: openpyxl sizes a sheet
    without a declared dimension by parsing all of it (a million rows took minutes under load), so
    each worksheet part's declared dimension is read first, then its rows are counted by scanning
    the unpacked XML for row elements, stopping at the cap. A row's number counts too (a sheet
    whose one row is numbered 1,000,000 is read as that many rows)."""
    counted = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if not re.fullmatch(r"xl/worksheets/[^/]+\.xml", name):
                    continue
                with archive.open(name) as part:
                    counted += _sheet_rows(part, MAX_ROWS - counted)
                if counted > MAX_ROWS:
                    raise LoadError(_too_many_rows(".xlsx"))
    except LoadError:
        raise
    except Exception as exc:  # a damaged zip member (bad CRC, cut stream)
        raise LoadError(f"corrupt or unreadable .xlsx ({type(exc).__name__})") from None


def _sheet_rows(part, budget: int) -> int:
    """Rows of one worksheet part as far as `budget` + 1: its declared dimension when that is over
    the budget, else the highest of its row count and its last row number."""
    rows = 0
    tail = b""
    first = True
    while rows <= budget:
        chunk = part.read(1 << 20)
        if not chunk:
            break
        data = tail + chunk
        if first:
            declared = _DIMENSION.search(data[:4096])
            if declared and declared.group(1) and int(declared.group(1)) > budget:
                return int(declared.group(1))
            first = False
        # A tag cut by the chunk's end is scanned again with the next chunk.
        cut = data.rfind(b"<")
        complete, tail = (data[:cut], data[cut:]) if cut >= 0 and b">" not in data[cut:] else (data, b"")
        for match in _ROW_TAG.finditer(complete):
            rows = max(rows + 1, int(match.group(1))) if match.group(1) else rows + 1
    return rows


def ods_blocks(path: Path, builder: TextBuilder) -> dict:
    """Read an .ods workbook into `builder`; returns its title when the file has one."""
    from odf.table import Table

    from ingest.opendocument import document_title, open_opendocument

    document = open_opendocument(path, ".ods")
    counted = 0
    for table in document.spreadsheet.getElementsByType(Table):
        grid, merges = _ods_grid(table, MAX_ROWS - counted)
        counted += len(grid)
        sheet_blocks(table.getAttribute("name") or "", _fill_merges(grid, merges), builder,
                     merged_rows={top for top, left, _, right in merges if right > left})
    return {"title": document_title(document)}


def csv_blocks(text: str, name: str, builder: TextBuilder) -> None:
    """Read CSV text (comma, semicolon, tab or pipe separated) into `builder` as one sheet."""
    sample = text[:65536]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    grid: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            if len(grid) >= MAX_ROWS:
                raise LoadError(_too_many_rows(".csv"))
            grid.append([" ".join(cell.split()) for cell in row[:MAX_COLUMNS]])
    except csv.Error as exc:
        raise LoadError(f"unreadable CSV ({exc})") from None
    sheet_blocks(name, grid, builder, merged_rows=set())


def sheet_blocks(name: str, grid: list[list[str]], builder: TextBuilder, *, merged_rows: set[int]) -> None:
    """One sheet: its name as a heading, the lines above the header as paragraphs, then its rows."""
    rows = _filled_rows(grid)
    if not rows:
        return
    builder.add(name or "Feuille", kind="heading", level=1, starts_chunk=True)
    header_at = next((i for i, (_, row) in enumerate(rows) if len({v for v in row if v}) >= 2), len(rows))
    for _, row in rows[:header_at]:  # a title, a note; a merged title repeats its text
        builder.add(" ".join(dict.fromkeys(v for v in row if v)))
    if header_at == len(rows):  # a list or a note, not a table
        return
    header, data = _header(rows[header_at], rows[header_at + 1 :], merged_rows)
    builder.row(header)
    for _, row in data:
        builder.row(row)


def _header(first: tuple[int, list[str]], data: list[tuple[int, list[str]]],
            merged_rows: set[int]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header row and the data rows: a header holding a merged group label takes the row
    below when it names the group's columns ("Calendrier" over "Début" -> "Calendrier Début")."""
    header = first[1]
    if first[0] in merged_rows and data and _is_sub_header(header, data[0][1]):
        return [top if top == sub else f"{top} {sub}".strip() for top, sub in zip(header, data[0][1])], data[1:]
    return header, data


def _filled_rows(grid: list[list[str]]) -> list[tuple[int, list[str]]]:
    """(row index, cells) of the rows that hold something, all as wide as the used columns."""
    kept = [(index, row) for index, row in enumerate(grid) if any(row)]
    if not kept:
        return []
    width = max(len(row) for _, row in kept)
    used = [c for c in range(width) if any(c < len(row) and row[c] for _, row in kept)]
    return [(index, [row[c] if c < len(row) else "" for c in used]) for index, row in kept]


def _is_sub_header(header: list[str], below: list[str]) -> bool:
    """Does the row below a header holding a merged group label name that group's columns?
    ("Calendrier" over "Début" and "Fin"): it fills every column the label spans, with other words."""
    spans = [i for i in range(1, len(header)) if header[i] and header[i] == header[i - 1]]
    return bool(spans) and all(below[i] and below[i] != header[i] and below[i - 1] for i in spans)


def _fill_merges(grid: list[list[str]], merges: list[tuple[int, int, int, int]]) -> list[list[str]]:
    """Give each merged range's value (its top-left cell) to every cell it covers."""
    for top, left, bottom, right in merges:
        if top >= len(grid) or left >= MAX_COLUMNS:
            continue
        value = grid[top][left] if left < len(grid[top]) else ""
        for r in range(top, min(bottom, len(grid) - 1) + 1):
            row = grid[r]
            row.extend([""] * (min(right, MAX_COLUMNS - 1) + 1 - len(row)))
            for c in range(left, min(right, MAX_COLUMNS - 1) + 1):
                row[c] = value
    return grid


def _cell_text(value) -> str:
    """A cell's value as text: dates in ISO form (read by the commitments' date finder), whole
    numbers without ".0", None (empty, or a formula never computed) as ""."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _ods_grid(table, budget: int) -> tuple[list[list[str]], list[tuple[int, int, int, int]]]:
    """The rows of an OpenDocument table as text, and its merged ranges (top, left, bottom, right)."""
    from odf.table import TableRow

    grid: list[list[str]] = []
    merges: list[tuple[int, int, int, int]] = []
    for row in table.getElementsByType(TableRow):
        cells, spans = _ods_row(row, len(grid))
        repeat = int(row.getAttribute("numberrowsrepeated") or 1)
        if not any(cells):
            repeat = 1  # an empty row repeated to the sheet's end (1,048,576 rows) is one empty row
        if len(grid) + repeat > budget:
            raise LoadError(_too_many_rows(".ods"))
        merges.extend(spans)
        grid.extend(list(cells) for _ in range(repeat))
    return grid, merges


def _ods_row(row, index: int) -> tuple[list[str], list[tuple[int, int, int, int]]]:
    cells: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    for cell in row.childNodes:
        kind = getattr(cell, "qname", ("", ""))[1]
        if kind not in ("table-cell", "covered-table-cell"):
            continue
        value = _ods_value(cell) if kind == "table-cell" else ""
        if kind == "table-cell":
            across = int(cell.getAttribute("numbercolumnsspanned") or 1)
            down = int(cell.getAttribute("numberrowsspanned") or 1)
            if across > 1 or down > 1:
                spans.append((index, len(cells), index + down - 1, len(cells) + across - 1))
        repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
        cells.extend([value] * min(repeat, MAX_COLUMNS - len(cells)))
        if len(cells) >= MAX_COLUMNS:
            break
    while cells and not cells[-1]:
        cells.pop()
    return cells, spans


def _ods_value(cell) -> str:
    """A cell's value: dates in ISO form, numbers from their stored value (the cached result of a
    formula), anything else as the text shown."""
    kind = cell.getAttribute("valuetype")
    if kind == "date":
        return (cell.getAttribute("datevalue") or "").split("T")[0]
    if kind in ("float", "percentage", "currency") and cell.getAttribute("value"):
        if kind == "float":
            number = float(cell.getAttribute("value"))
            return str(int(number)) if number.is_integer() else str(number)
    return " ".join(str(cell).split())


def _too_many_rows(kind: str) -> str:
    return f"the {kind} has more than {MAX_ROWS:,} rows: split it, or keep the rows people ask about"
