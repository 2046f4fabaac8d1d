"""Which units are cited together: a thread's quoted earlier message never beside its own reply."""

from __future__ import annotations

from bot.answering.evidence import Evidence
from bot.answering.retrieve import Passage
from bot.answering.scoring import AnswerConfig
from bot.answering.selection import Candidate, best_units, choose_units
from bot.answering.units import Unit
from kb.schema import QUOTED_HEADING

REPLY = "2026-03-19 09:15 — Fatou Sall — Re: Atelier"
QUOTED = f"{QUOTED_HEADING} — Mon, 16 Mar 2026 — Fatou Sall — Atelier"


def _candidate(doc_id: str, section: str, start: int, logit: float) -> Candidate:
    passage = Passage(chunk_id=f"{doc_id}-{start}", doc_id=doc_id, path=doc_id, title="Atelier", doc_type="other",
                      date="2026-03-19", section=section, page=None, text="", start=start, end=start + 50,
                      language="fr", access="internal", score=1.0)
    return Candidate(passage, Unit(start, start + 40, ((start, start + 40),), "unité", "sentence"), 0.5, 0.0, logit)


def _evidence(candidates: list[Candidate]) -> Evidence:
    evidence = Evidence.__new__(Evidence)
    evidence.candidates = candidates
    return evidence


def test_a_quoted_unit_is_not_cited_beside_the_reply_that_answers_before_it() -> None:
    reply = _candidate("atelier.eml", REPLY, 500, 5.0)
    quoted = _candidate("atelier.eml", QUOTED, 100, 4.9)
    other = _candidate("note.md", "Calendrier", 0, 4.8)
    config = AnswerConfig(reader_threshold=0.0, reader_margin=2.0)
    assert choose_units(_evidence([reply, quoted, other]), config) == [reply, other]
    assert best_units(_evidence([reply, quoted, other]), 3) == [reply, other]
    # What only the quoted message says comes first, and the reply may follow it.
    assert choose_units(_evidence([quoted, reply]), config) == [quoted, reply]
    # Another thread's quoted message is no quote of this reply.
    elsewhere = _candidate("autre.eml", QUOTED, 100, 4.9)
    assert best_units(_evidence([reply, elsewhere]), 2) == [reply, elsewhere]
