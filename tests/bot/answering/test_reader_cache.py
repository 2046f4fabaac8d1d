"""The reader's logit cache: what is remembered, what is read again (no model: the network is
replaced by a counter)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.answering.reader import LogitCache, Reader


def test_the_cache_forgets_the_least_recently_used_entry_past_its_size() -> None:
    cache = LogitCache(2)
    a, b, c = ("q", "", "a", 0.8), ("q", "", "b", 0.8), ("q", "", "c", 0.8)
    cache.put(a, 1.0)
    cache.put(b, 2.0)
    assert cache.get(a) == 1.0  # a is now the most recently used
    cache.put(c, 3.0)
    assert cache.get(b) is None and cache.get(a) == 1.0 and cache.get(c) == 3.0
    assert len(cache) == 2


def test_a_cache_of_size_zero_remembers_nothing() -> None:
    cache = LogitCache(0)
    cache.put(("q", "", "a", 0.8), 1.0)
    assert cache.get(("q", "", "a", 0.8)) is None and len(cache) == 0


@pytest.fixture()
def counting_reader(monkeypatch) -> tuple[Reader, list[list[str]]]:
    reader = Reader("/nonexistent", "/nonexistent", cache_size=8)
    monkeypatch.setattr(Reader, "card", {})
    read: list[list[str]] = []

    def network(self, question, candidates, cosines, batch_tokens, threads=None, probe=None, bonus=None):
        read.append([text for _, text in candidates])
        logits = np.array([len(text) + cosine for (_, text), cosine in zip(candidates, cosines)], dtype=np.float32)
        return logits, np.ones(len(logits), dtype=bool)

    monkeypatch.setattr(Reader, "_network_logits", network)
    return reader, read


def test_only_units_not_read_before_go_through_the_network(counting_reader) -> None:
    reader, read = counting_reader
    first = reader.score("Q ?", [("", "aa"), ("", "bbb")], [0.5, 0.25])
    second = reader.score("Q ?", [("", "cccc"), ("", "aa"), ("", "bbb")], [0.1, 0.5, 0.25])
    assert read == [["aa", "bbb"], ["cccc"]]
    assert second.logits.tolist() == pytest.approx([4.1, first.logits[0], first.logits[1]])


def test_a_changed_unit_text_another_cosine_or_another_question_is_read_again(counting_reader) -> None:
    reader, read = counting_reader
    reader.score("Q ?", [("", "aa")], [0.5])
    reader.score("Q ?", [("", "ab")], [0.5])  # the document was re-ingested with another text
    reader.score("Q ?", [("", "aa")], [0.6])  # another query vector or sentence vector
    reader.score("Autre ?", [("", "aa")], [0.5])
    assert len(read) == 4


def test_uncached_scoring_reads_every_unit_and_remembers_nothing(counting_reader) -> None:
    reader, read = counting_reader
    reader.score("Q ?", [("", "aa")], [0.5], cached=False)
    reader.score("Q ?", [("", "aa")], [0.5], cached=False)
    assert len(read) == 2 and len(reader.cache) == 0
