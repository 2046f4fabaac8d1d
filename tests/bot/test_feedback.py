"""Ratings are stored under the store folder and exported as CSV, through the API and the CLI."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from bot.spreadsheet import read_table
from bot.feedback import FeedbackError, add_comment, all_feedback, export_csv, feedback_path, record_feedback
from kb.settings import Settings
from tests.conftest import PROJECT_ROOT

ANSWER = {"answer": "Le protocole dure trois ans. [1]", "sources": [
    {"n": 1, "cited": True, "title": "Protocole", "path": "corpus/p.md", "page": 2, "section": "Art. 3",
     "quote": "Le protocole dure trois ans.", "start": 0, "end": 28, "score": 0.9}]}


def test_rating_then_comment_then_csv(fake_settings: Settings) -> None:
    first = record_feedback(fake_settings, question="Durée ?", answer=ANSWER, role="staff", rating="up")
    second = record_feedback(fake_settings, question="Et la CEAC, \"vraiment\" ?", answer=ANSWER, role="reader",
                             rating="down", comment="hors sujet")
    add_comment(fake_settings, first, "clair, merci")
    assert feedback_path(fake_settings).parent == fake_settings.store
    out = io.StringIO()
    assert export_csv(fake_settings, out, "en") == 2
    rows = read_table(out.getvalue())
    assert [r["No."] for r in rows] == [str(first), str(second)]
    assert rows[0]["Comment"] == "clair, merci" and rows[0]["Role"] == "staff" and rows[0]["Rating"] == "helpful"
    assert rows[1]["Question"] == 'Et la CEAC, "vraiment" ?'
    assert "Le protocole dure trois ans." in rows[1]["Sources"] and rows[1]["Time (UTC)"].endswith("Z")
    french = io.StringIO()
    export_csv(fake_settings, french)
    assert read_table(french.getvalue())[1]["Avis"] == "pas utile" and french.getvalue().startswith("\ufeffN°;")


def test_bad_rating_and_unknown_id_are_refused(fake_settings: Settings) -> None:
    with pytest.raises(FeedbackError, match="rating must be one of up, down"):
        record_feedback(fake_settings, question="q", answer=ANSWER, role="reader", rating="meh")
    with pytest.raises(FeedbackError, match="no feedback with id 42"):
        add_comment(fake_settings, 42, "x")
    assert all_feedback(fake_settings) == []


def test_cli_exports_csv(fake_settings: Settings, tmp_path) -> None:
    record_feedback(fake_settings, question="Qui préside ?", answer=ANSWER, role="official", rating="down")
    run = subprocess.run([sys.executable, "-m", "bot", "feedback", "--csv", "--lang", "en", "--store",
                          str(fake_settings.store)], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    rows = read_table(run.stdout)
    assert rows[0]["Question"] == "Qui préside ?" and rows[0]["Rating"] == "not helpful"
    empty = subprocess.run([sys.executable, "-m", "bot", "feedback", "--csv", "--store", str(tmp_path / "none")],
                           cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert empty.returncode == 0 and empty.stdout.startswith("\ufeffN°;Date (UTC);Rôle;Avis")
    assert "no ratings yet" in empty.stderr
