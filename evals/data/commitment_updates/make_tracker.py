"""Writes suivi-actions-2026-09.xlsx, the spreadsheet tracker of the held-out commitment updates
(run once: `.venv/bin/python evals/data/commitment_updates/make_tracker.py`)."""

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HERE = Path(__file__).resolve().parent


def main() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Suivi des actions"
    sheet.append(["Tableau de suivi des actions du programme — mise à jour du 30 septembre 2026"])
    sheet.merge_cells("A1:E1")
    sheet.append([])
    sheet.append(["Action", "Responsable", "Échéance", "Statut", "Commentaire"])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    rows = [
        ("Catalogue des 12 modules de formation", "MCTN et ASAN", datetime(2026, 3, 31), "Terminé",
         "validé par la commission formation"),
        ("Étude sur la fuite des talents numériques", "MCTN et IDDA", datetime(2027, 1, 31), "En cours",
         "échéance repoussée"),
        ("Environnement de test au centre de données de Diamniadio", "SENUM", datetime(2026, 6, 30), "Terminé",
         "ouvert aux équipes le 29 juin"),
        ("Programme d'accélération de 5 start-up à Bakou", "IDDA", datetime(2027, 2, 28), "Planifié",
         "report décidé avec la CEAC"),
    ]
    for row in rows:
        sheet.append(list(row))
        sheet.cell(row=sheet.max_row, column=3).number_format = "dd/mm/yyyy"
    book.save(HERE / "suivi-actions-2026-09.xlsx")


if __name__ == "__main__":
    main()
