"""Roadmap extraction: lists, tables and prose in French and English, dates, storage."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.roadmap import commitments
from ingest.index import ingest_paths
from ingest.load import load_document
from ingest.roadmap import extract_commitments, find_dates
from kb.commitments import parse_owner
from kb.store import KnowledgeBase, SearchFilter

SIGNED = date(2025, 12, 23)

PROTOCOL_FR = """---
title: Protocole d'accord test
doc_type: protocol
date: 2025-12-23
access: internal
---
# Protocole d'accord

## Article 3 – Engagements de SENUM

SENUM s'engage à :

- désigner un point focal dans un délai de 30 jours après la signature ;
- transmettre à ASAN un inventaire des 40 démarches prioritaires d'ici fin février 2026 ;
- accueillir chaque année au moins deux missions d'experts.

## Article 5 – Gouvernance

Le comité de pilotage se réunit deux fois par an. La première réunion du comité de pilotage se tient dans un délai de 90 jours après la signature.

## Article 9 – Durée

Le présent protocole prend fin le 22 décembre 2028.
"""

MINUTES_EN = """---
title: Follow-up minutes
doc_type: meeting_notes
date: 2026-05-19
access: internal
language: en
---
# Minutes

## Status of earlier action items

| Action | Owner | Deadline | Status |
|---|---|---|---|
| Inventory of 40 priority procedures | SENUM | 28 February 2026 | done (26 February 2026) |
| Work programme of the talent commission | MCTN and IDDA | 18 April 2026 | overdue |

## New action items

1. IDDA will confirm the names of the 10 mentors by the end of June 2026.
2. The coordination unit will circulate version 3 of the joint roadmap within two weeks, i.e. by 2 June 2026.
3. IDDA must share its methodology within six months of signature.

## Background

The steering committee met in Dakar on 12 March 2026. The call closes on 30 April 2026.
"""


def _doc(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_document(path, max_bytes=1 << 20)


def test_french_list_owner_from_the_lead_in_and_relative_dates(tmp_path: Path) -> None:
    doc = _doc(tmp_path, "protocole.md", PROTOCOL_FR)
    items = extract_commitments(doc)
    by_action = {i.action.split()[0]: i for i in items}
    assert set(by_action) == {"Désigner", "Transmettre", "Accueillir", "La"}
    assert by_action["Désigner"].owner == "SENUM" and by_action["Désigner"].deadline == date(2026, 1, 22)
    assert by_action["Désigner"].deadline_text == "dans un délai de 30 jours après la signature"
    assert by_action["Transmettre"].owner == "SENUM", "ASAN is the recipient, not the owner"
    assert by_action["Transmettre"].deadline == date(2026, 2, 28)
    assert by_action["Accueillir"].deadline is None and by_action["Accueillir"].deadline_text == "chaque année"
    assert by_action["La"].owner == "Comité de pilotage conjoint" and by_action["La"].deadline == date(2026, 3, 23)
    for item in items:
        assert doc.text[item.start : item.end] == item.quote
    assert not any("2028" in i.quote for i in items), "an end date without an owner is no commitment"


def test_english_table_and_list_with_explicit_statuses(tmp_path: Path) -> None:
    doc = _doc(tmp_path, "minutes.md", MINUTES_EN)
    items = extract_commitments(doc, signed=SIGNED)
    rows = {i.action: i for i in items}
    inventory = rows["Inventory of 40 priority procedures"]
    assert (inventory.owner, inventory.deadline, inventory.status) == ("SENUM", date(2026, 2, 28), "done")
    talent = rows["Work programme of the talent commission"]
    assert (talent.owner, talent.status) == ("MCTN et IDDA", "late")
    assert inventory.quote == "Inventory of 40 priority procedures | SENUM | 28 February 2026 | done (26 February 2026)"
    mentors = next(i for i in items if "mentors" in i.quote)
    assert (mentors.owner, mentors.deadline) == ("IDDA", date(2026, 6, 30))
    roadmap = next(i for i in items if "version 3" in i.quote)
    assert roadmap.owner == "Cellule de coordination (MCTN)" and roadmap.deadline == date(2026, 6, 2)
    methodology = next(i for i in items if "methodology" in i.quote)
    assert methodology.deadline == date(2026, 6, 23), "six months after the memoranda's signature"
    assert not any("met in Dakar" in i.quote or "call closes" in i.quote for i in items)
    assert len(items) == 5
    for item in items:
        assert doc.text[item.start : item.end] == item.quote


NOTES_NEW_FORMAT = """---
title: Réunion de suivi
doc_type: meeting_notes
date: 2026-02-02
access: internal
---
# Réunion de suivi du guichet unique

## Tableau des actions

| Date limite | Réf. | Porteur | Tâche | État |
|---|---|---|---|---|
| 27 février 2026 | T-1 | Mme Sarr (Office des Postes) | Recenser les bureaux de poste raccordés | En cours |
| 13 mars 2026 | T-2 | OPT / SENUM | Tester le paiement mobile des timbres fiscaux | Prévu |

## Suite

La Direction des impôts publiera le barème révisé avant le 31 mars 2026. Par ailleurs, M. Kane (Office des Postes) formera les guichetiers d'ici fin avril 2026.
Le prochain point d'étape se tiendra le 20 mars 2026.
"""


def test_owners_are_whoever_the_document_names_in_any_column_order(tmp_path: Path) -> None:
    doc = _doc(tmp_path, "suivi.md", NOTES_NEW_FORMAT)
    found = {i.owner: i for i in extract_commitments(doc)}
    assert set(found) == {"Mme Sarr (Office des Postes)", "OPT et SENUM", "Direction des impôts",
                          "M. Kane (Office des Postes)"}
    census = found["Mme Sarr (Office des Postes)"]
    assert (census.action, census.deadline, census.status) == (
        "Recenser les bureaux de poste raccordés", date(2026, 2, 27), "in progress")
    assert found["OPT et SENUM"].deadline == date(2026, 3, 13)
    assert found["Direction des impôts"].deadline == date(2026, 3, 31), "French future tense is a commitment cue"
    assert found["M. Kane (Office des Postes)"].deadline == date(2026, 4, 30)
    assert not any("point d'étape" in i.quote for i in found.values()), "a meeting date names no owner"


@pytest.mark.parametrize(
    ("text", "owner"),
    [
        ("Sénégal Numérique SA", "SENUM"),
        ("M. Diallo (SENUM)", "M. Diallo (SENUM)"),
        ("ARTP / Agence X", "ARTP et Agence X"),
        ("MCTN and IDDA", "MCTN et IDDA"),
        ("CEAC, avec l'appui de l'IDDA", "CEAC"),
        ("Commission mixte attraction et rétention des talents", "Commission talents"),
    ],
)
def test_owner_cells_keep_unknown_names_and_one_spelling_of_known_bodies(text: str, owner: str) -> None:
    assert parse_owner(text) == owner


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("d'ici fin mars 2026", date(2026, 3, 31)),
        ("au cours du T2 2026", date(2026, 6, 30)),
        ("by the end of Q4 2026", date(2026, 12, 31)),
        ("en octobre 2026", date(2026, 10, 31)),
        ("avant le 1er juillet 2026", date(2026, 7, 1)),
        ("within six months of signature", date(2026, 6, 23)),
        ("dans un délai de 15 jours", date(2026, 1, 7)),
        ("sur la période 2026–2027", date(2027, 12, 31)),
        ("rescheduled to 7–25 September 2026", date(2026, 9, 25)),
        ("dans un délai de 60 jours après son installation", None),
    ],
)
def test_partial_and_relative_dates(text: str, expected: date | None) -> None:
    found = [e for e in find_dates(text, date(2025, 12, 23), SIGNED) if not e.recurring]
    assert found and found[0].value == expected


def test_words_that_are_not_months_are_not_dates() -> None:
    assert find_dates("le projet de loi de finances 2027 et la délégation de Baku 2026", date(2026, 1, 1)) == []


def _ingest(kb: KnowledgeBase, folder: Path, **options):
    return ingest_paths([folder], kb.settings, kb=kb, progress=False, **options)


def test_items_are_stored_replaced_and_pruned_with_their_document(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "protocole.md").write_text(PROTOCOL_FR, encoding="utf-8")
    (folder / "minutes.md").write_text(MINUTES_EN, encoding="utf-8")
    _ingest(fake_kb, folder)
    count = fake_kb.catalog.db.execute("SELECT COUNT(*) FROM mentions").fetchone()[0]
    reports = fake_kb.catalog.db.execute("SELECT quote FROM mentions WHERE kind = 'report'").fetchall()
    assert [r[0] for r in reports] == ["The steering committee met in Dakar on 12 March 2026"]
    assert count == 9 + 1, "nine commitments and one report that something was done"
    _ingest(fake_kb, folder)
    assert fake_kb.catalog.db.execute("SELECT COUNT(*) FROM mentions").fetchone()[0] == count, "re-ingestion is idempotent"
    (folder / "minutes.md").write_text(MINUTES_EN.replace("3. IDDA must share its methodology within six months of signature.\n", ""),
                                       encoding="utf-8")
    _ingest(fake_kb, folder)
    assert fake_kb.catalog.db.execute("SELECT COUNT(*) FROM mentions").fetchone()[0] == count - 1
    (folder / "minutes.md").unlink()
    _ingest(fake_kb, folder, prune=True)
    assert fake_kb.catalog.db.execute("SELECT COUNT(*) FROM mentions").fetchone()[0] == 4
    assert {r["access"] for r in fake_kb.mentions(SearchFilter(access=("public", "internal", "restricted")))} == {"internal"}


def test_a_later_document_updates_the_item_and_keeps_both_sources(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "protocole.md").write_text(PROTOCOL_FR, encoding="utf-8")
    (folder / "minutes.md").write_text(MINUTES_EN, encoding="utf-8")
    _ingest(fake_kb, folder)
    items = commitments(fake_kb, role="staff", owner="SENUM", today=date(2026, 5, 20))
    inventory = next(i for i in items if "40" in i.action)
    assert inventory.status == "done" and inventory.deadline == date(2026, 2, 28)
    assert [s.date for s in inventory.sources] == ["2026-05-19", "2025-12-23"], "both sources, newest first"
    focal = next(i for i in items if "point focal" in i.action)
    assert focal.status == "late", "deadline passed and no document says it is done"
    assert commitments(fake_kb, role="staff", status="late", today=date(2026, 1, 1)) == [], "nothing is late yet"


def test_restricted_items_stay_with_restricted_readers(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    secret = MINUTES_EN.replace("access: internal", "access: restricted")
    (folder / "secret.md").write_text(secret, encoding="utf-8")
    (folder / "protocole.md").write_text(PROTOCOL_FR.replace("access: internal", "access: public"), encoding="utf-8")
    _ingest(fake_kb, folder)
    for role in ("reader", "staff"):
        seen = commitments(fake_kb, role=role, today=date(2026, 5, 20))
        assert seen and all(s.path.endswith("protocole.md") for i in seen for s in i.sources)
    official = commitments(fake_kb, role="official", today=date(2026, 5, 20))
    assert any(s.path.endswith("secret.md") for i in official for s in i.sources)


def test_later_statements_that_work_was_done_or_a_deadline_moved_are_reports_and_updates(tmp_path: Path) -> None:
    from ingest.load import load_document
    from ingest.roadmap import extract_mentions

    path = tmp_path / "bilan.md"
    path.write_text(
        "---\ntitle: Bilan\ndoc_type: report\ndate: 2026-04-08\nlanguage: fr\n---\n# Bilan\n\n"
        "Les cinq commissions ont été installées le 17 février 2026.\n\n"
        "La commission cybersécurité a commencé son diagnostic le 23 mars 2026.\n\n"
        "Le Demo Day de Dakar est décalé au 20 novembre 2026.\n\n"
        "L'ADIE prépare le portail national des données ouvertes ; sa mise en ligne est prévue pour le 15 mars 2027.\n",
        encoding="utf-8")
    found = extract_mentions(load_document(path, max_bytes=10**6))
    kinds = [(m.kind, m.action, m.deadline, m.status) for m in found]
    assert ("report", "Les cinq commissions ont été installées", date(2026, 2, 17), "done") in kinds
    assert ("update", "Le Demo Day de Dakar", date(2026, 11, 20), "unknown") in kinds
    assert not any("diagnostic" in action for _, action, _, _ in kinds), "begun is not done"
    assert not any(m.action.rstrip().endswith(("prévue pour", "est prévue")) for m in found)
