"""The cores an answer uses: all of them alone, a share when answers run at once."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from bot.answering import answer
from bot.answering.cores import CoreShare, core_share
from bot.answering.reader import Reader, load_reader
from kb.settings import Settings, SettingsError


def in_thread(work):
    """Run `work` in a new OS thread (torch's thread count belongs to each one) and return its result."""
    out: list = []
    thread = threading.Thread(target=lambda: out.append(work()))
    thread.start()
    thread.join()
    return out[0]


def test_an_answer_alone_gets_every_core_and_answers_at_once_share_them() -> None:
    share = CoreShare(4)
    assert share.threads() == 4
    with share.running():
        assert share.threads() == 4
        with share.running():
            assert share.threads() == 2 and share.answers_running == 2
            with share.running(), share.running(), share.running():
                assert share.threads() == 1  # never less than one thread
        assert share.threads() == 4
    assert share.answers_running == 0


def test_an_answer_that_fails_gives_its_share_back() -> None:
    share = CoreShare(2)
    with pytest.raises(RuntimeError), share.running():
        raise RuntimeError("the question was bad")
    assert share.answers_running == 0 and share.threads() == 2


def test_apply_sets_the_calling_threads_torch_threads_only() -> None:
    import torch

    share = CoreShare(2)
    before = torch.get_num_threads()

    def alone() -> int:
        with share.running():
            return torch.get_num_threads()

    def beside_another() -> int:
        share._running += 1  # another answer is running
        try:
            with share.running():
                return torch.get_num_threads()
        finally:
            share._running -= 1

    assert in_thread(alone) == 2
    assert in_thread(beside_another) == 1
    assert torch.get_num_threads() == before  # this thread was not touched


def test_settings_choose_the_cores_and_refuse_a_negative_count() -> None:
    assert core_share(Settings(answer_threads=3)).cores == 3
    assert core_share(Settings(answer_threads=3)) is core_share(Settings(answer_threads=3))
    assert core_share(Settings()).cores >= 1
    with pytest.raises(SettingsError, match="PASSERELLE_ANSWER_THREADS must be 0"):
        Settings.from_env({"PASSERELLE_ANSWER_THREADS": "-1"})
    with pytest.raises(ValueError, match="at least one core"):
        CoreShare(0)


@pytest.mark.real_model
def test_the_real_reader_gives_back_a_core_between_batches_with_the_same_logits(real_model_path: Path) -> None:
    import torch

    reader: Reader = load_reader(real_model_path)
    question = "Combien de membres compte la commission mixte cybersécurité ?"
    units = [("Commission mixte cybersécurité", text) for text in
             ("Composition : 8 membres.", "Fréquence : réunion mensuelle par visioconférence.",
              "La commission rend compte au comité de pilotage. " * 12)]
    cosines = [0.86, 0.82, 0.80]
    alone = reader.score(question, units, cosines, cached=False).logits
    share = CoreShare(2)
    calls: list[int] = []

    def read_beside_another() -> tuple[np.ndarray, int]:
        with share.running():
            assert torch.get_num_threads() == 2
            share._running += 1  # a second answer starts while this one reads

            def apply() -> int:
                calls.append(share.apply())
                return calls[-1]

            logits = reader.score(question, units, cosines, batch_tokens=64, cached=False, threads=apply).logits
            share._running -= 1
            return logits, torch.get_num_threads()

    logits, threads = in_thread(read_beside_another)
    assert calls == [1, 1, 1]  # one call per batch: a 64-token budget reads each unit alone
    assert threads == 1
    assert np.allclose(logits, alone, atol=0.1)  # bf16 arithmetic, another batching


@pytest.mark.real_model
def test_an_answer_through_the_real_model_leaves_no_answer_counted(corpus_store) -> None:
    result = answer("Combien de membres compte le comité de pilotage conjoint ?", role="official", kb=corpus_store)
    assert result.sources
    assert core_share(corpus_store.settings).answers_running == 0
