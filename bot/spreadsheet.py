"""CSV files that French and English spreadsheets open as tables, and never as formulas.

Excel in a French locale splits columns on ';' and reads UTF-8 only after a byte-order mark.
A cell that starts with '=', '+', '-', '@', a tab or a carriage return is read as a formula
(OWASP "CSV injection": `=HYPERLINK(...)` in a document could leak the sheet's other cells
when clicked), so such a cell is written with a leading apostrophe, which shows it as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

DELIMITER = ";"
BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text_cell(value: Any) -> str:
    """`value` as a cell a spreadsheet shows as text (None as an empty cell)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_table(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a byte-order mark, `header` and `rows` as ';'-separated CSV to `out`; returns the row count."""
    out.write(BOM)
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([as_text_cell(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([as_text_cell(cell) for cell in row])
        count += 1
    return count


def read_table(text: str) -> list[dict[str, str]]:
    """The rows of a table written by `write_table`, keyed by header (for tests and scripts)."""
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM), newline=""), delimiter=DELIMITER))
