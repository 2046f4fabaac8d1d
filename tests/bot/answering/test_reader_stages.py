"""Reading the answer units in stages (`bot.answering.reader.read_in_stages`): no model needed."""

from __future__ import annotations

import numpy as np
import pytest

from bot.answering.reader import read_in_stages
from kb.settings import Settings, SettingsError


def _network(values: list[float]):
    """A stand-in for the network: the logit of candidate i is values[i]; records each stage."""
    stages: list[list[int]] = []

    def logits_of(part: range) -> np.ndarray:
        stages.append(list(part))
        return np.array([values[i] for i in part], dtype=np.float32)

    return logits_of, stages


def test_a_clear_unit_in_the_first_stage_leaves_the_others_unread() -> None:
    logits_of, stages = _network([0.5, 3.2, -1.0, 6.0, 0.0])
    logits = read_in_stages(logits_of, 5, first=2, clear=3.0)
    assert stages == [[0, 1]]
    np.testing.assert_allclose(logits, [0.5, 3.2])


def test_stages_go_on_until_a_unit_is_clear() -> None:
    logits_of, stages = _network([0.5, 1.0, -1.0, 3.0, 9.0])
    logits = read_in_stages(logits_of, 5, first=2, clear=3.0)
    assert stages == [[0, 1], [2, 3]], "a logit equal to `clear` is clear"
    np.testing.assert_allclose(logits, [0.5, 1.0, -1.0, 3.0])


def test_nothing_clear_reads_every_candidate_and_a_short_last_stage() -> None:
    values = [0.5, 1.0, -1.0, 2.0, 2.9]
    logits_of, stages = _network(values)
    logits = read_in_stages(logits_of, 5, first=2, clear=3.0)
    assert stages == [[0, 1], [2, 3], [4]]
    np.testing.assert_allclose(logits, values)


def test_first_zero_reads_all_at_once_as_before() -> None:
    logits_of, stages = _network([5.0, 1.0, 2.0])
    np.testing.assert_allclose(read_in_stages(logits_of, 3, first=0, clear=3.0), [5.0, 1.0, 2.0])
    assert stages == [[0, 1, 2]]
    logits_of, stages = _network([])
    assert read_in_stages(logits_of, 0, first=8).shape == (0,) and stages == []


def test_the_stage_size_is_a_setting_that_refuses_a_negative_count() -> None:
    assert Settings.from_env({}).reader_first == 8
    assert Settings.from_env({"PASSERELLE_READER_FIRST": "0"}).reader_first == 0
    with pytest.raises(SettingsError, match="PASSERELLE_READER_FIRST must be 0"):
        Settings.from_env({"PASSERELLE_READER_FIRST": "-1"})
