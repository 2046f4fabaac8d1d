"""The held-out new-kinds sets stay sound: every expected fact is in the document its question cites."""

from __future__ import annotations

from evals.newkinds_check import check


def test_the_new_kinds_sets_are_sound() -> None:
    assert check() == []
