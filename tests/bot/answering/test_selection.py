"""Candidates the reader reads and the units cited together: a list question is answered by the
section that holds the list; a thread's quoted earlier message is never cited beside its own reply."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering import AnswerConfig, answer
from bot.answering.evidence import Evidence
from bot.answering.retrieve import Passage
from bot.answering.selection import Candidate, best_units, choose_units, to_read
from bot.answering.units import Unit
from kb.schema import QUOTED_HEADING
from tests.conftest import ingest_from

# An illustrative record of my own: the decisions are numbered paragraphs under their heading
# ("D1."), which no list unit holds together.
MINUTES = """---
title: "Relevé de l'atelier sur l'archivage numérique des actes (exemple illustratif)"
doc_type: meeting_notes
date: "2026-10-06"
language: fr
access: public
illustrative: true
---
# Relevé de l'atelier sur l'archivage numérique des actes

## Informations générales

L'atelier s'est tenu à Thiès le 6 octobre 2026, de 9 h à 12 h. Il a réuni les archivistes de trois ministères et deux experts de l'agence ASAN.

## Décisions

D1. Les actes signés sont numérisés dans un délai de cinq jours ouvrables.

D2. Chaque ministère désigne un référent de l'archivage avant le 15 novembre 2026.

D3. Le format PDF/A devient le seul format d'archivage accepté.

D4. Un inventaire des fonds papier est dressé d'ici mars 2027.

## Prochaine étape

Un second atelier se tiendra à Saint-Louis au premier trimestre 2027 pour faire le point sur l'inventaire.
"""
DECISIONS = MINUTES[MINUTES.index("D1. Les actes signés") : MINUTES.index("mars 2027.") + len("mars 2027.")]


def _candidate(kind: str, prerank: float) -> Candidate:
    return Candidate(None, Unit(0, 1, ((0, 1),), "x", kind), 0.0, prerank)  # type: ignore[arg-type]


def test_sections_are_read_besides_the_units_not_instead_of_them() -> None:
    ranked = [_candidate("section", 0.9), _candidate("sentence", 0.8), _candidate("section", 0.7),
              _candidate("list", 0.6), _candidate("sentence", 0.5)]
    chosen = to_read(ranked, AnswerConfig(reader_candidates=2, section_candidates=1))
    assert [(c.unit.kind, c.prerank) for c in chosen] == [("section", 0.9), ("sentence", 0.8), ("list", 0.6)]
    assert all(c.unit.kind != "section" for c in to_read(ranked, AnswerConfig(section_candidates=0)))


@pytest.mark.real_model
def test_a_list_question_gets_the_list_section_quoted_whole(tmp_path: Path, real_model_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "releve-atelier-archivage.md").write_text(MINUTES, encoding="utf-8")
    kb, report = ingest_from(tmp_path, [Path("docs")], tmp_path / "store")
    assert report.failed == 0, report.errors
    result = answer("Quelles sont les décisions de l'atelier sur l'archivage numérique ?", kb=kb)
    first = next(s for s in result.sources if s.cited)
    assert first.quote == DECISIONS, (result.outcome, first.quote)
    doc_id = next(iter(kb.documents()))
    assert kb.document_text(doc_id)[first.start : first.end] == first.quote
    assert result.answer.split("\n\n")[-1].startswith("Décisions : D1. Les actes signés"), result.answer
    # Without section units, no unit holds the four decisions.
    without = answer("Quelles sont les décisions de l'atelier sur l'archivage numérique ?", kb=kb,
                     config=AnswerConfig(section_candidates=0))
    assert next(s for s in without.sources if s.cited).quote != DECISIONS


REPLY = "2026-03-19 09:15 — Fatou Sall — Re: Atelier"
QUOTED = f"{QUOTED_HEADING} — Mon, 16 Mar 2026 — Fatou Sall — Atelier"


def _thread_unit(doc_id: str, section: str, start: int, logit: float) -> Candidate:
    passage = Passage(chunk_id=f"{doc_id}-{start}", doc_id=doc_id, path=doc_id, title="Atelier", doc_type="other",
                      date="2026-03-19", section=section, page=None, text="", start=start, end=start + 50,
                      language="fr", access="internal", score=1.0)
    return Candidate(passage, Unit(start, start + 40, ((start, start + 40),), "unité", "sentence"), 0.5, 0.0, logit)


def _evidence(candidates: list[Candidate]) -> Evidence:
    evidence = Evidence.__new__(Evidence)
    evidence.candidates = candidates
    return evidence


def test_a_quoted_unit_is_not_cited_beside_the_reply_that_answers_before_it() -> None:
    reply = _thread_unit("atelier.eml", REPLY, 500, 5.0)
    quoted = _thread_unit("atelier.eml", QUOTED, 100, 4.9)
    other = _thread_unit("note.md", "Calendrier", 0, 4.8)
    config = AnswerConfig(reader_threshold=0.0, reader_margin=2.0)
    assert choose_units(_evidence([reply, quoted, other]), config) == [reply, other]
    assert best_units(_evidence([reply, quoted, other]), 3) == [reply, other]
    # What only the quoted message says comes first, and the reply may follow it.
    assert choose_units(_evidence([quoted, reply]), config) == [quoted, reply]
    # Another thread's quoted message is no quote of this reply.
    elsewhere = _thread_unit("autre.eml", QUOTED, 100, 4.9)
    assert best_units(_evidence([reply, elsewhere]), 2) == [reply, elsewhere]
