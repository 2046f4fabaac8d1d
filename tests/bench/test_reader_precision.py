"""`bench.reader_precision`'s agreement figures (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.reader_precision import agreement


def test_agreement_counts_logit_differences_and_changed_best_units() -> None:
    reference = [np.array([2.0, 1.0, 0.0]), np.array([0.0, 3.0]), np.array([])]
    logits = [np.array([2.5, 1.0, 0.0]), np.array([4.0, 3.0]), np.array([])]
    found = agreement(logits, reference)
    assert found["same_best_unit"] == 0.5  # the empty question is not counted
    assert found["max_abs_diff"] == 4.0
    assert found["mean_abs_diff"] == pytest.approx(4.5 / 5, abs=1e-3)


def test_identical_logits_agree_fully() -> None:
    reference = [np.array([0.1, -1.0])]
    assert agreement(reference, reference) == {"mean_abs_diff": 0.0, "max_abs_diff": 0.0, "same_best_unit": 1.0}
