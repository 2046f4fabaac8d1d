"""Selective answering: the calibrator's signals, its three outcomes, its file."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bot.answering.abstain import (ANSWERED, NOT_IN_DOCUMENTS, SIGNALS, TO_CHECK, Calibrator, Logistic, load_calibrator,
                         signals)
from bot.answering.reader import READER_DIR, ReaderError
from bot.answering.units import Unit


def _candidate(doc: str, start: int, logit: float, text: str, cosine: float = 0.85, language: str = "fr"):
    passage = SimpleNamespace(doc_id=doc, title="Protocole SENUM", section="Article 3", language=language)
    return SimpleNamespace(passage=passage, unit=Unit(start, start + len(text), ((start, start + len(text)),), text,
                                                      "sentence"), logit=logit, cosine=cosine)


def _evidence(candidates, unknown: float = 0.0):
    reading = [SimpleNamespace(dense=0.88, score=0.9), SimpleNamespace(dense=None, score=0.4)]
    return SimpleNamespace(candidates=candidates, query="Quelle est la durée du protocole ?", reading=reading,
                           unknown=unknown, language="fr")


def test_signals_read_the_evidence() -> None:
    ranked = [_candidate("a", 0, 4.0, "Le protocole est conclu pour une durée de trois ans."),
              _candidate("a", 10, 3.5, "overlapping unit"),
              _candidate("b", 0, 1.0, "Autre chose.", language="en")]
    found = signals(_evidence(ranked, unknown=0.25))
    assert set(found) == set(SIGNALS)
    assert found["best_logit"] == 4.0
    assert found["margin"] == pytest.approx(3.0), "the gap to the best unit that does not overlap the first"
    assert found["top3_logit"] == pytest.approx((4.0 + 3.5 + 1.0) / 3)
    assert found["best_dense"] == 0.88 and found["best_fused"] == 0.9 and found["unknown"] == 0.25
    assert found["best_overlap"] > 0.5, "durée and protocole are in the first unit"
    assert found["other_language"] == 0.0 and found["positive_units"] == 1.0


def test_a_lone_unit_has_the_widest_margin() -> None:
    assert signals(_evidence([_candidate("a", 0, 2.0, "Seule phrase.")]))["margin"] == 8.0


def test_sections_are_left_out_of_the_signals() -> None:
    ranked = [_candidate("a", 0, 2.0, "Seule phrase.")]
    section = _candidate("b", 0, 6.0, "Décisions :\n- Une décision.\n- Une autre.")
    section.unit = Unit(0, 30, ((0, 12), (13, 30)), section.unit.reading, "section")
    assert signals(_evidence([section] + ranked)) == signals(_evidence(ranked))


def _on_best_logit(bias: float) -> Logistic:
    """A regression on the best logit alone: sigmoid(best_logit + bias)."""
    n = len(SIGNALS)
    return Logistic((0.0,) * n, (1.0,) * n, (1.0,) + (0.0,) * (n - 1), bias)


def _calibrator(answer_bias: float, relevant_bias: float) -> Calibrator:
    return Calibrator(SIGNALS, _on_best_logit(answer_bias), _on_best_logit(relevant_bias), 0.8, 0.5)


@pytest.mark.parametrize(("logit", "outcome"), [(3.0, ANSWERED), (0.5, TO_CHECK), (-2.0, NOT_IN_DOCUMENTS)])
def test_three_outcomes(logit: float, outcome: str) -> None:
    # answers = sigmoid(logit - 1): 0.88 / 0.38 / 0.05 against 0.8; relevant = sigmoid(logit): 0.95 / 0.62 / 0.12 against 0.5.
    decision = _calibrator(-1.0, 0.0).decide(_evidence([_candidate("a", 0, logit, "Une phrase.")]))
    assert decision.outcome == outcome
    assert decision.confidence == pytest.approx(1 / (1 + np.exp(-(logit - 1.0))))


def test_nothing_read_is_not_in_the_documents() -> None:
    decision = _calibrator(0.0, 0.0).decide(_evidence([]))
    assert decision.outcome == NOT_IN_DOCUMENTS and decision.confidence == 0.0


def test_the_committed_calibrator_loads_and_names_known_signals() -> None:
    calibrator = load_calibrator()
    assert set(calibrator.signals) <= set(SIGNALS)
    assert 0.0 < calibrator.answer_threshold < 1.0 and 0.0 < calibrator.relevant_threshold < 1.0
    card = json.loads((READER_DIR / "calibrator.json").read_text(encoding="utf-8"))
    assert card["dev_figures"], "the file says what it was chosen on"


@pytest.mark.parametrize(("content", "message"), [
    (None, "answer calibrator .* is missing: run `python -m tools.train_calibrator`"),
    ("{not json", "is unreadable"),
    (json.dumps({"signals": ["best_logit", "shoe_size"]}), r"unknown signals \['shoe_size'\]"),
])
def test_a_missing_or_broken_calibrator_says_how_to_fix_it(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "calibrator.json").write_text(content, encoding="utf-8")
    with pytest.raises(ReaderError, match=message):
        load_calibrator(tmp_path)
