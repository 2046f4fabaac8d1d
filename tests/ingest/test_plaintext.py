"""Plain-text structure: underlined headings, tables drawn with "+---+" borders or aligned with
spaces, read as the headings and table rows they are."""

from __future__ import annotations

from pathlib import Path

from bot.answering.units import answer_units
from ingest.load import load_document
from ingest.plaintext import aligned_rows
from ingest.roadmap import extract_commitments
from ingest.split import answer_sentences

DECISIONS = """RELEVÉ DE DÉCISIONS
===================

Comité technique du 4 février 2026, tenu à Dakar.

Décisions
---------

Date          Responsable    Action                                   Échéance
------------  -------------  ---------------------------------------  ----------------
04/02/2026    SENUM          Ouvrir le bac à sable des API             15 mars 2026
04/02/2026    ADIE           Rédiger le plan de continuité du          30 juin 2026
                             centre de données
04/02/2026    MCTN           Réunir les points focaux                  20 février 2026

Budget
------

+----------------------+-----------------+
| Poste                | Montant         |
+======================+=================+
| Missions d'experts   | 12 000 000 FCFA |
+----------------------+-----------------+
| Équipements          | 4 500 000 FCFA  |
+----------------------+-----------------+
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "releve.txt"
    path.write_text(text, encoding="utf-8")
    return load_document(path, max_bytes=2**20)


def test_underlined_headings_and_tables_in_plain_text(tmp_path: Path) -> None:
    doc = _load(tmp_path, DECISIONS)
    blocks = [(b.kind, doc.text[b.start : b.end], b.section) for b in doc.blocks]
    assert [(t, s) for kind, t, s in blocks if kind == "heading"] == [
        ("RELEVÉ DE DÉCISIONS", ("RELEVÉ DE DÉCISIONS",)),
        ("Décisions", ("RELEVÉ DE DÉCISIONS", "Décisions")),
        ("Budget", ("RELEVÉ DE DÉCISIONS", "Budget")),
    ]
    rows = [t for kind, t, _ in blocks if t.startswith("|")]
    assert rows == [
        "| Date | Responsable | Action | Échéance |",
        "| 04/02/2026 | SENUM | Ouvrir le bac à sable des API | 15 mars 2026 |",
        "| 04/02/2026 | ADIE | Rédiger le plan de continuité du centre de données | 30 juin 2026 |",
        "| 04/02/2026 | MCTN | Réunir les points focaux | 20 février 2026 |",
        "| Poste                | Montant         |",
        "| Missions d'experts   | 12 000 000 FCFA |",
        "| Équipements          | 4 500 000 FCFA  |",
    ], "a wrapped cell joins its row; rules and borders are no rows"
    spans = [(s, e) for s, e, _ in answer_sentences(doc)]
    readings = [u.reading for u in answer_units(doc.text, spans) if u.kind == "row"]
    assert "Date : 04/02/2026 ; Responsable : ADIE ; Action : Rédiger le plan de continuité du centre de données ; " \
           "Échéance : 30 juin 2026" in readings
    assert "Poste : Équipements ; Montant : 4 500 000 FCFA" in readings
    found = {(m.owner, m.deadline.isoformat()) for m in extract_commitments(doc)}
    assert found == {("SENUM", "2026-03-15"), ("ADIE", "2026-06-30"), ("MCTN", "2026-02-20")}, \
        "an aligned action table feeds the commitments register"


def test_prose_with_double_spaces_is_no_table() -> None:
    assert aligned_rows(["Le comité se réunit.  Il valide le plan.", "La séance est levée."]) is None
    assert aligned_rows(["Une ligne seule  avec deux espaces"]) is None
    assert aligned_rows(["Nom    Rôle", "Awa    Présidente", "Ilham"]) is None, "a row filling one column only"
