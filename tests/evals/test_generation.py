"""Calibration of the verification's support threshold (pure functions, no model)."""

from __future__ import annotations

from evals.generation import choose_threshold, rates


def test_threshold_separates_supported_from_unsupported() -> None:
    chosen = choose_threshold([0.97, 0.92, 0.88, 0.81], [0.12, 0.33, 0.41, 0.62])
    assert 0.62 < chosen["threshold"] <= 0.81
    assert (chosen["auc"], chosen["kept_supported"], chosen["kept_unsupported"]) == (1.0, 1.0, 0.0)


def test_rates_count_what_a_threshold_keeps() -> None:
    figures = rates([0.9, 0.5], [0.6, 0.1], 0.55)
    assert figures == {"auc": 0.75, "kept_supported": 0.5, "kept_unsupported": 0.5, "pairs": 4}
