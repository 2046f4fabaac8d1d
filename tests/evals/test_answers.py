"""The selective-answering figures of `evals.answers` and the rank summary of `evals.retrieval`."""

from __future__ import annotations

import pytest

from bot.answering.reply import Answer, Source
from evals.answers import Asked, figures
from evals.retrieval import Ranks, summarise


def _answer(outcome: str, quote: str = "") -> Answer:
    sources = [Source(1, True, "T", "p.md", "other", "", None, "", quote, 0, len(quote), 1.0)] if quote else []
    return Answer(f"{quote} [1]" if outcome == "answered" else "…", outcome != "answered", "fr", sources,
                  outcome=outcome, confidence=0.5)


def _right(fact: str):
    return lambda shown: fact in shown


def test_figures_count_each_kind_of_question_apart() -> None:
    asked = [
        Asked("answerable", _answer("answered", "trois ans"), _right("trois ans"), 0.1),
        Asked("answerable", _answer("answered", "deux ans"), _right("cinq ans"), 0.2),
        Asked("answerable", _answer("to_check", "cinq ans"), _right("cinq ans"), 0.3),
        Asked("unanswerable", _answer("answered", "un an"), _right("x"), 0.4),
        Asked("unanswerable", _answer("to_check", "un an"), _right("x"), 0.5),
        Asked("offtopic", _answer("not_in_documents"), _right("x"), 0.6),
        Asked("offtopic", _answer("to_check", "y"), _right("x"), 0.7),
    ]
    found = figures(asked)
    assert found["fact_in_first_unit_shown"] == pytest.approx(2 / 3, abs=1e-3), "answered or to check, the first unit counts"
    assert found["fact_in_units_shown"] == pytest.approx(2 / 3, abs=1e-3)
    assert found["answered_coverage"] == pytest.approx(2 / 3, abs=1e-3)
    assert found["answered_precision"] == pytest.approx(1 / 3, abs=1e-3), "an answered unanswerable question is wrong"
    assert found["unanswerable_not_answered"] == 0.5
    assert found["offtopic_not_in_documents"] == 0.5
    assert found["to_check"] == pytest.approx(3 / 7, abs=1e-3) and found["p50_ms"] == 400.0


def test_rank_summary_per_method() -> None:
    results = [Ranks({"dense": 1, "keyword": 3, "fused": 1, "answer path": 1}, 14, True, True),
               Ranks({"dense": None, "keyword": 20, "fused": 13, "answer path": 2}, 14, True, False)]
    table = summarise(results, 12)
    assert table["fused"] == {"rank1": 0.5, "top12": 0.5}
    assert table["answer path"]["top12"] == 1.0 and table["answer path"]["read"] == 1.0
    assert table["dense"]["top12"] == 0.5 and table["first unit holds it"] == 0.5
