"""Onboarding material comes from the documents a role may read, each entry with its source."""

from __future__ import annotations

import re

from pathlib import Path

import pytest

from bot.library import last_ingestion, passage_context, visible_documents
from bot.onboarding import documents_by_type, glossary, candidate_questions, timeline
from ingest.index import ingest_paths
from kb.store import KnowledgeBase
from tests.ingest.samples import write_md

GUIDE = """---
title: Guide de test
doc_type: other
date: 2026-03-02
organisations: [SENUM, CEAC]
access: public
illustrative: true
---
# Glossaire

- SENUM : Sénégal Numérique SA
- T1, T2 : premier et deuxième trimestre
- CEAC : appel à candidatures, sélection de start-up

La Commission de protection des données personnelles (CDP) rend des avis.
"""

SECRET = """---
title: Note restreinte de test
doc_type: report
date: 2026-04-10
organisations: [MCTN]
access: restricted
illustrative: true
---
# Note

Le responsable de la sécurité des systèmes d'information (RSSI) pilote l'opération Baobab.
La Commission d'évaluation, d'appui et de coordination des start-up (CEAC) est informée.
"""


@pytest.fixture
def onboarding_kb(tmp_path: Path, fake_kb: KnowledgeBase) -> KnowledgeBase:
    write_md(tmp_path / "docs", "guide.md", GUIDE)
    write_md(tmp_path / "docs", "secret.md", SECRET)
    report = ingest_paths([tmp_path / "docs"], fake_kb.settings, kb=fake_kb, progress=False)
    assert report.failed == 0
    return fake_kb


def test_glossary_lines_and_parentheses_with_sources(onboarding_kb: KnowledgeBase) -> None:
    entries = {e.acronym: e for e in glossary(onboarding_kb, "reader")}
    assert entries["SENUM"].expansion == "Sénégal Numérique SA"
    assert entries["SENUM"].title == "Guide de test" and entries["SENUM"].path.endswith("guide.md")
    assert entries["CDP"].expansion == "Commission de protection des données personnelles"
    assert entries["T1, T2"].expansion == "premier et deuxième trimestre"
    # A list of tasks after "CEAC :" does not spell CEAC: not taken as its meaning when a real one exists.
    assert "CEAC" in entries


def test_glossary_respects_access(onboarding_kb: KnowledgeBase) -> None:
    assert "RSSI" not in {e.acronym for e in glossary(onboarding_kb, "staff")}
    official = {e.acronym: e for e in glossary(onboarding_kb, "official")}
    assert official["RSSI"].expansion == "responsable de la sécurité des systèmes d'information"
    assert official["CEAC"].expansion.startswith("Commission d'évaluation"), "a spelled expansion beats a task list"


def test_timeline_overview_and_documents_by_role(onboarding_kb: KnowledgeBase) -> None:
    assert [e.title for e in timeline(onboarding_kb, "reader")] == ["Guide de test"]
    assert [e.date for e in timeline(onboarding_kb, "admin")] == ["2026-03-02", "2026-04-10"]
    assert list(documents_by_type(onboarding_kb, "official")) == ["other", "report"]
    assert [r.title for r in visible_documents(onboarding_kb, "staff")] == ["Guide de test"]
    assert last_ingestion(onboarding_kb) is not None


def test_candidate_questions_follow_language_and_organisations(onboarding_kb: KnowledgeBase) -> None:
    french = candidate_questions(onboarding_kb, "reader", "fr")
    english = candidate_questions(onboarding_kb, "reader", "en")
    assert any("SENUM" in q for q in french) and all("?" in q for q in french)
    assert any(q.startswith("What is the role of") for q in english)
    assert not any("MCTN" in q for q in candidate_questions(onboarding_kb, "staff", "fr")), "restricted organisations stay hidden"
    assert "Que signifie CDP ?" in french and "What does CDP stand for?" in english, "an acronym of the glossary"
    assert not any("RSSI" in q for q in candidate_questions(onboarding_kb, "staff", "fr")), "a restricted acronym stays hidden"
    assert any("RSSI" in q for q in candidate_questions(onboarding_kb, "official", "fr"))


def test_passage_context_surrounds_the_quote_and_respects_access(onboarding_kb: KnowledgeBase) -> None:
    records = {r.title: r for r in onboarding_kb.documents().values()}
    text = onboarding_kb.document_text(records["Guide de test"].doc_id)
    start = text.index("Sénégal Numérique SA")
    context = passage_context(onboarding_kb, records["Guide de test"].path, start, start + 20, "reader", chars=30)
    assert context.quote == "Sénégal Numérique SA"
    assert context.before.endswith("SENUM : ") and context.after.startswith("\n")
    secret = records["Note restreinte de test"]
    assert passage_context(onboarding_kb, secret.path, 0, 10, "staff") is None
    assert passage_context(onboarding_kb, "nowhere.md", 0, 10, "admin") is None


def test_empty_store_gives_empty_material(fake_kb: KnowledgeBase) -> None:
    assert glossary(fake_kb, "admin") == [] and timeline(fake_kb, "admin") == []
    assert last_ingestion(fake_kb) is None


def test_french_candidate_questions_name_bodies_with_their_article(onboarding_kb: KnowledgeBase) -> None:
    about = [q for q in candidate_questions(onboarding_kb, "reader", "fr") if q.startswith("Que fait")]
    assert about and all(re.match(r"Que fait (la |le |l'|l'organisme )[A-Z]", q) for q in about), about
    assert "Que fait la SENUM dans le programme ?" in about
