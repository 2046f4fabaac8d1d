"""The register follows the latest word: mentions joined by meaning (bot.roadmap_links), reports
that work was done, the history shown. Unit tests on hand-made vectors, then through the real
e5 model on documents written here."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from bot.roadmap import commitments, merge
from bot.roadmap_links import OTHER_OWNER, REPORTED_DONE, SAME_MEANING

TODAY = date(2026, 12, 7)


def _row(doc: str, ordinal: int, action: str, owner: str, deadline: str | None, *, day: str, status: str = "unknown",
         kind: str = "commitment", text: str | None = None) -> dict:
    return {"doc_id": doc, "path": doc, "ordinal": ordinal, "title": doc, "date": day,
            "doc_type": "report", "action": action, "owner": owner, "commission": None, "deadline": deadline,
            "deadline_text": text or deadline or "", "status": status, "quote": action, "start": ordinal * 100,
            "end": ordinal * 100 + len(action), "page": None, "section": "", "access": "public", "kind": kind}


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _at(cosine: float) -> np.ndarray:
    """A unit vector whose cosine with (1, 0, 0) is `cosine`."""
    return _unit(cosine, np.sqrt(1 - cosine**2), 0.0)


def test_a_later_mention_in_another_language_without_owner_joins_and_sets_the_deadline() -> None:
    rows = [_row("minutes.md", 0, "Audit of the two online portals", "ARTP", "2026-06-30", day="2026-05-19",
                 text="by 30 June 2026"),
            _row("rapport.md", 0, "L'audit des portails en ligne", "", "2026-09-30", day="2026-07-10",
                 text="30 septembre 2026")]
    vectors = {("minutes.md", 0): _unit(1, 0, 0), ("rapport.md", 0): _at(SAME_MEANING + 0.02)}
    [item] = merge(rows, TODAY, vectors)
    assert item.deadline == date(2026, 9, 30)
    assert item.history_text("fr") == "by 30 June 2026 → 30 septembre 2026, rapport.md"
    # Without vectors (an older store) the two stay apart, as before.
    assert len(merge(rows, TODAY)) == 2


def test_owners_that_disagree_need_a_closer_meaning() -> None:
    rows = [_row("roadmap.md", 0, "Portail pilote de démarches en ligne", "SENUM", "2026-12-31", day="2026-03-20"),
            _row("note.md", 0, "Portail national des données ouvertes", "ADIE", "2027-03-15", day="2026-09-14")]
    between = SAME_MEANING + OTHER_OWNER / 2
    vectors = {("roadmap.md", 0): _unit(1, 0, 0), ("note.md", 0): _at(between)}
    items = merge(rows, TODAY, vectors)
    assert len(items) == 2
    portal = next(i for i in items if "pilote" in i.action)
    assert portal.deadline == date(2026, 12, 31) and portal.owner == "SENUM"
    # The same closeness with no owner named on one side is one commitment.
    rows[1]["owner"] = ""
    assert len(merge(rows, TODAY, vectors)) == 1


def test_an_ambiguous_update_joins_nothing() -> None:
    """Two earlier commitments equally close to a later mention: it could be either, so it is neither."""
    rows = [_row("roadmap.md", 0, "Catalogue de 12 modules", "MCTN", "2026-03-31", day="2026-03-20"),
            _row("roadmap.md", 1, "Catalogue de 10 défis", "CEAC", "2026-06-30", day="2026-03-20"),
            _row("tracker.xlsx", 0, "Catalogue", "", "2026-10-31", day="2026-09-30")]
    vectors = {("roadmap.md", 0): _unit(1, 0.05, 0), ("roadmap.md", 1): _unit(1, -0.05, 0),
               ("tracker.xlsx", 0): _unit(1, 0, 0)}
    assert len(merge(rows, TODAY, vectors)) == 3


def test_mentions_of_one_document_never_join_by_meaning() -> None:
    rows = [_row("minutes.md", 0, "Termes de référence des commissions", "MCTN", "2026-01-15", day="2025-12-23"),
            _row("minutes.md", 1, "Installation des commissions", "MCTN", "2026-02-28", day="2025-12-23")]
    vectors = {("minutes.md", 0): _unit(1, 0, 0), ("minutes.md", 1): _at(0.99)}
    assert len(merge(rows, TODAY, vectors)) == 2


def test_a_later_report_marks_the_commitment_done_and_an_unmatched_one_is_dropped() -> None:
    rows = [_row("roadmap.md", 0, "Installation des cinq commissions mixtes", "MCTN", "2026-02-28",
                 day="2026-01-30", text="février 2026"),
            _row("report.md", 0, "All five joint commissions were installed", "", "2026-02-17", day="2026-04-08",
                 status="done", kind="report", text="on 17 February 2026"),
            _row("report.md", 1, "The shared document space was opened", "", "2026-03-04", day="2026-04-08",
                 status="done", kind="report", text="on 4 March 2026")]
    vectors = {("roadmap.md", 0): _unit(1, 0, 0), ("report.md", 0): _at(REPORTED_DONE + 0.01),
               ("report.md", 1): _unit(0, 0, 1)}
    [item] = merge(rows, TODAY, vectors)
    assert item.status == "done" and not item.late
    assert item.deadline == date(2026, 2, 28)  # a report says when it was done, it sets no deadline
    assert item.history_text("fr") == "février 2026 → réalisé (on 17 February 2026), report.md"
    assert [s.kind for s in item.sources] == ["report", "commitment"]


def test_a_report_of_an_event_before_the_commitment_was_written_is_not_about_it() -> None:
    rows = [_row("roadmap.md", 0, "Lancement de la stratégie", "MCTN", "2026-12-31", day="2026-01-30"),
            _row("brief.md", 0, "The strategy was launched", "", "2025-02-01", day="2026-04-08", status="done",
                 kind="report", text="in February 2025")]
    vectors = {("roadmap.md", 0): _unit(1, 0, 0), ("brief.md", 0): _at(0.99)}
    [item] = merge(rows, TODAY, vectors)
    assert item.status == "planned" and len(item.sources) == 1


# ----- through the real e5 model ------------------------------------------------------------------
MINUTES = """---
title: "Minutes of the portals meeting, 19 May 2026"
doc_type: meeting_notes
date: "2026-05-19"
language: en
illustrative: true
---
# Minutes of the portals meeting

## New action items

1. The coordination unit will complete the security audit of the two online service portals by 30 June 2026.
2. SENUM will open the online pilot portal for five administrative procedures by 31 December 2026.
3. MCTN and MDDT will install the joint commissions at a launch meeting by 30 June 2026.
"""

REPORT = """---
title: "Rapport S1"
doc_type: report
date: "2026-07-10"
language: fr
illustrative: true
---
# Rapport S1

## Calendrier révisé

L'audit de sécurité des deux portails de services en ligne est reporté au 30 septembre 2026.

"""

PROGRESS = """---
title: "Progress note, July 2026"
doc_type: report
date: "2026-07-01"
language: en
illustrative: true
---
# Progress note

All joint commissions were installed on 17 June 2026 at the launch meeting.
"""

NOTE = """---
title: "Note sur les données ouvertes"
doc_type: other
date: "2026-09-14"
language: fr
illustrative: true
---
# Données ouvertes

L'ADIE mettra en ligne le portail national des données ouvertes des ministères avant le 15 mars 2027.

Le portail national des données ouvertes est en préparation ; sa mise en ligne est prévue pour le 15 mars 2027.
"""


@pytest.fixture(scope="module")
def updates_store(tmp_path_factory: pytest.TempPathFactory, real_model_path: Path):
    from tests.conftest import ingest_from

    root = tmp_path_factory.mktemp("updates")
    folder = root / "docs"
    folder.mkdir()
    for name, text in (("minutes-2026-05-19.md", MINUTES), ("rapport-s1.md", REPORT), ("note-donnees.md", NOTE),
                       ("progress-note.md", PROGRESS)):
        (folder / name).write_text(text, encoding="utf-8")
    kb_, report = ingest_from(root, [Path("docs")], root / "store")
    assert report.failed == 0, report.errors
    yield kb_
    kb_.close()


def test_real_model_a_french_report_moves_the_deadline_of_an_english_action(updates_store) -> None:
    items = commitments(updates_store, role="admin", today=TODAY)
    audit = next(i for i in items if any("audit" in s.quote.lower() for s in i.sources))
    assert {s.path for s in audit.sources} == {"docs/minutes-2026-05-19.md", "docs/rapport-s1.md"}
    assert audit.deadline == date(2026, 9, 30) and audit.owner == "Cellule de coordination (MCTN)"
    assert audit.history_text("fr") == "by 30 June 2026 → au 30 septembre 2026, Rapport S1"


def test_real_model_an_unrelated_note_does_not_replace_the_pilot_portal(updates_store) -> None:
    items = commitments(updates_store, role="admin", today=TODAY)
    portal = next(i for i in items if any("pilot portal" in s.quote for s in i.sources))
    assert portal.owner == "SENUM" and portal.deadline == date(2026, 12, 31)
    assert [s.path for s in portal.sources] == ["docs/minutes-2026-05-19.md"]
    assert not any(i.action.endswith(("prévue pour", "est prévue")) for i in items)


def test_real_model_a_later_statement_marks_the_installation_done(updates_store) -> None:
    items = commitments(updates_store, role="admin", today=TODAY)
    installed = next(i for i in items if any("install the joint commissions" in s.quote for s in i.sources))
    assert installed.status == "done" and not installed.late
    assert installed.history_text("fr") == "by 30 June 2026 → réalisé (on 17 June 2026), Progress note, July 2026"


def test_an_ownerless_update_moves_the_deadline_and_keeps_the_owner() -> None:
    rows = [_row("roadmap.md", 0, "Demo Day à Dakar", "CEAC", "2026-10-31", day="2026-01-30", text="octobre 2026"),
            _row("note.md", 0, "Le Demo Day de Dakar", "", "2026-11-20", day="2026-08-03", kind="update",
                 text="au 20 novembre 2026")]
    vectors = {("roadmap.md", 0): _unit(1, 0, 0), ("note.md", 0): _at(REPORTED_DONE + 0.05)}
    [item] = merge(rows, TODAY, vectors)
    assert item.deadline == date(2026, 11, 20) and item.owner == "CEAC" and item.action == "Demo Day à Dakar"
    assert item.history_text("fr") == "octobre 2026 → au 20 novembre 2026, note.md"


def test_counts_that_disagree_are_two_things_however_alike() -> None:
    rows = [_row("minutes.md", 0, "Circulate version 2 of the joint roadmap", "", "2026-03-20", day="2026-02-17"),
            _row("rapport.md", 0, "Diffusion de la version 3 de la feuille de route", "", "2026-10-15",
                 day="2026-07-10")]
    vectors = {("minutes.md", 0): _unit(1, 0, 0), ("rapport.md", 0): _at(0.99)}
    assert len(merge(rows, TODAY, vectors)) == 2
