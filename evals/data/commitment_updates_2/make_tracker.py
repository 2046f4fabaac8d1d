"""Writes action-tracker-2026-10.xlsx, the spreadsheet tracker of the second held-out set of
commitment updates (run once: `.venv/bin/python evals/data/commitment_updates_2/make_tracker.py`)."""

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HERE = Path(__file__).resolve().parent


def main() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Action tracker"
    sheet.append(["Programme action tracker — status at 31 October 2026"])
    sheet.merge_cells("A1:E1")
    sheet.append([])
    sheet.append(["Action", "Lead", "Due", "Status", "Notes"])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    rows = [
        ("First online training session for civil servants", "Training commission", datetime(2026, 4, 30), "Done",
         "held on the shared learning platform"),
        ("Catalogue of 10 public-innovation challenges from the administrations", "Start-up/State commission",
         datetime(2026, 3, 31), "Done", "published with the call for applications"),
        ("Network of the Senegalese digital diaspora", "Talent commission", datetime(2027, 6, 30), "In progress",
         "first members registered"),
        ("Technical assistance on mobile digital identity", "ASAN", datetime(2027, 4, 30), "In progress",
         "extended at SENUM's request"),
    ]
    for row in rows:
        sheet.append(list(row))
        sheet.cell(row=sheet.max_row, column=3).number_format = "dd/mm/yyyy"
    book.save(HERE / "action-tracker-2026-10.xlsx")


if __name__ == "__main__":
    main()
