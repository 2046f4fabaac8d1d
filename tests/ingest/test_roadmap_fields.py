"""Records of labelled fields: a row of an action table written one field a line or clause."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ingest.load import load_document
from ingest.roadmap import extract_commitments
from ingest.roadmap.fields import field, segments

RECORDS = """---
title: Fiches de suivi
doc_type: report
date: 2026-10-05
access: internal
---
# Fiches

Fiche A — Guichet unique
Statut : en cours
Date limite : 15 décembre 2026
Objet : raccorder les centres d'état civil au guichet unique
Responsable : Mme Ndour (Office Z)

**Décision 2** — Constituer le jury de sélection.
Porteurs : CEAC et Agence Q
Échéance : fin octobre 2026

Fiche C — Sans responsable
Objet : rédiger une note de cadrage
Date limite : 31 janvier 2027

Next steps:

- Share the visitor statistics. Lead: M. Thiam (MCTN). Deadline: 30 November 2026.
- Draft of the procedure: owners Mr Kane (ARTP) / Ms Diop (SENUM); due 30 November 2026; status: ongoing.
"""


def test_records_in_any_field_order_become_commitments(tmp_path: Path) -> None:
    path = tmp_path / "fiches.md"
    path.write_text(RECORDS, encoding="utf-8")
    found = {c.owner: c for c in extract_commitments(load_document(path, max_bytes=1 << 20))}
    assert set(found) == {"Mme Ndour (Office Z)", "CEAC et Agence Q", "M. Thiam (MCTN)", "Mr Kane (ARTP) et Ms Diop (SENUM)"}
    ndour = found["Mme Ndour (Office Z)"]
    assert ndour.action.startswith("Raccorder les centres") and ndour.deadline == date(2026, 12, 15)
    assert ndour.status == "in progress"
    jury = found["CEAC et Agence Q"]
    assert jury.action == "Constituer le jury de sélection" and jury.deadline == date(2026, 10, 31)
    assert found["M. Thiam (MCTN)"].action == "Share the visitor statistics"
    kane = found["Mr Kane (ARTP) et Ms Diop (SENUM)"]
    assert kane.action == "Draft of the procedure" and kane.status == "in progress"


def test_fields_and_segments() -> None:
    assert field("Date limite : 15 mai 2026") == ("deadline", "15 mai 2026")
    assert field("owners CERT-SN and AzCERT") == ("owner", "CERT-SN and AzCERT")
    assert field("Présents : Mme Sarr (CEAC)") is None, "not a header word"
    assert field("Due to the delay the committee met twice in June and July and agreed on a revised plan") is None
    # A title's period is no sentence end; the colon after a title splits only before a field.
    assert segments("Lead: M. Thiam (MCTN). Deadline: 31 octobre 2026.") == ["Lead: M. Thiam (MCTN)", "Deadline: 31 octobre 2026"]
    assert segments("Exchange of contacts : owners A and B") == ["Exchange of contacts", "owners A and B"]
    assert segments("Note : the plan is ready") == ["Note : the plan is ready"]
