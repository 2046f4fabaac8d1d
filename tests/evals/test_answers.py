"""The selective-answering figures and risk–coverage curve of `evals.answers`, and the rank summary of
`evals.retrieval`."""

from __future__ import annotations

import json

import pytest

from bot.answering.reply import Answer, Source
from evals.answers import Asked, ask_all, corpus_items, figures, format_curve, risk_coverage
from evals.retrieval import Ranks, summarise


def _answer(outcome: str, quote: str = "", confidence: float | None = 0.5) -> Answer:
    sources = [Source(1, True, "T", "p.md", "other", "", None, "", quote, 0, len(quote), 1.0)] if quote else []
    return Answer(f"{quote} [1]" if outcome == "answered" else "…", outcome != "answered", "fr", sources,
                  outcome=outcome, confidence=confidence)


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


def test_risk_coverage_ranks_by_confidence_and_counts_an_answered_unanswerable_question_wrong() -> None:
    asked = [
        Asked("answerable", _answer("answered", "trois ans", 0.9), _right("trois ans"), 0.1),
        Asked("unanswerable", _answer("to_check", "un an", 0.8), _right("x"), 0.1),
        Asked("answerable", _answer("to_check", "cinq ans", 0.7), _right("cinq ans"), 0.1),
        # A "to check" answer's text lists more units than the first: only the first one counts.
        Asked("answerable", Answer("deux ans [1] ; six ans [2]", True, "fr", _answer("to_check", "deux ans").sources,
                                   outcome="to_check", confidence=0.2), _right("six ans"), 0.1),
        # Off-topic questions have their own target: not part of the curve.
        Asked("offtopic", _answer("to_check", "y", 0.95), _right("x"), 0.1),
    ]
    curve = risk_coverage(asked, points=(0.25, 0.5, 0.75, 1.0))
    assert curve["questions"] == 4
    assert [p["answered"] for p in curve["points"]] == [1, 2, 3, 4]
    assert [p["precision"] for p in curve["points"]] == [1.0, 0.5, pytest.approx(0.667), 0.5]
    assert [p["confidence"] for p in curve["points"]] == [0.9, 0.8, 0.7, 0.2]
    assert curve["points"][2]["answerable_coverage"] == pytest.approx(0.667), "2 of the 3 answerable, right"
    # Mean risk over the prefixes: 0, 1/2, 1/3, 1/2.
    assert curve["aurc"] == pytest.approx((0 + 0.5 + 1 / 3 + 0.5) / 4, abs=1e-3)
    table = format_curve("blind", curve)
    assert "AURC 0.333" in table and "| precision | 1.0 | 0.5 | 0.667 | 0.5 |" in table


def test_an_answer_without_a_confidence_counts_as_sure_only_when_it_answers() -> None:
    asked = [
        Asked("answerable", _answer("to_check", "cinq ans", 0.6), _right("cinq ans"), 0.1),
        Asked("answerable", _answer("answered", "trois ans", None), _right("trois ans"), 0.1),
        Asked("unanswerable", _answer("not_in_documents", "", None), _right("x"), 0.1),
    ]
    curve = risk_coverage(asked, points=(1 / 3, 1.0))
    assert [p["confidence"] for p in curve["points"]] == [1.0, 0.0], "the register's answer first, the decline last"
    assert risk_coverage([Asked("offtopic", _answer("to_check", "y"), _right("x"), 0.1)]) is None


@pytest.mark.real_model
def test_the_default_path_carries_its_curve_through_the_real_reader(corpus_store, tmp_path) -> None:
    """Three questions of the blind set through the real model, reader and calibrator: the curve
    agrees with the figures of the same answers."""
    from evals.corpus import BLIND_QUESTIONS, load_questions

    questions = load_questions(BLIND_QUESTIONS)
    answerable = [q for q in questions if q["answerable"]][:2]
    chosen = answerable + [q for q in questions if not q["answerable"]][:1]
    path = tmp_path / "three.jsonl"
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in chosen), encoding="utf-8")
    pooled: list[Asked] = []
    rows = ask_all(corpus_store, corpus_items(path), "three", pooled)
    curve = rows["default"]["risk_coverage"]
    assert curve["questions"] == 3 and len(pooled) == 3
    whole = curve["points"][-1]
    assert whole["answered"] == 3
    right = rows["default"]["fact_in_first_unit_shown"] * len(answerable)
    assert whole["precision"] == pytest.approx(right / len(chosen), abs=0.01), (rows["default"], curve)
    confidences = [p["confidence"] for p in curve["points"]]
    assert confidences == sorted(confidences, reverse=True) and all(0.0 <= c <= 1.0 for c in confidences)
