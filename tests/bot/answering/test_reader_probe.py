"""The reader's probe: units guessed far below the best after its first layers are not read to
the end (`bot.answering.reader_layers.Probe`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.answering.reader import Reader
from bot.answering.reader_layers import Probe


def _probe(keep: int, margin: float) -> Probe:
    # Guess = 2 * first mean feature + cosine, on unstandardised features.
    return Probe(8, np.zeros(3, np.float32), np.ones(3, np.float32), np.array([2.0, 0.0, 1.0], np.float32), 0.0,
                 keep, margin)


def test_the_kept_units_are_the_best_guessed_and_those_close_to_the_best() -> None:
    guessed = np.array([0.5, 4.0, -3.0, 3.1, 2.5, 1.0], dtype=np.float32)
    assert _probe(2, 0.0).survivors(guessed) == [1, 3]
    assert _probe(2, 1.6).survivors(guessed) == [1, 3, 4]  # 2.5 is within 1.6 of 4.0
    assert _probe(1, 100.0).survivors(guessed) == [0, 1, 2, 3, 4, 5]
    assert _probe(3, 0.0).survivors(np.zeros(0, np.float32)) == []


def test_a_guess_is_the_linear_map_of_the_layer_mean_and_the_cosine() -> None:
    pooled = np.array([[1.0, 5.0], [0.0, -2.0]], dtype=np.float32)
    np.testing.assert_allclose(_probe(1, 0.0).guess(pooled, np.array([0.5, 0.25], np.float32)), [2.5, 0.25])


def test_the_probe_file_round_trips() -> None:
    probe = _probe(3, 2.0)
    again = Probe.from_dict(probe.to_dict())
    assert (again.layer, again.keep, again.margin, again.bias) == (8, 3, 2.0, 0.0)
    np.testing.assert_array_equal(again.weights, probe.weights)


def test_a_guessed_logit_is_not_remembered(monkeypatch) -> None:
    reader = Reader("/nonexistent", "/nonexistent", cache_size=8)
    monkeypatch.setattr(Reader, "card", {})
    monkeypatch.setattr(Reader, "probe", _probe(1, 0.0))

    def network(self, question, candidates, cosines, batch_tokens, threads=None, probe=None, bonus=None):
        assert probe is not None
        return np.array([3.0, -1.0], np.float32), np.array([True, False])

    monkeypatch.setattr(Reader, "_network_logits", network)
    scores = reader.score("Q ?", [("", "aa"), ("", "bb")], [0.5, 0.5], prune=True)
    np.testing.assert_allclose(scores.logits, [3.0, -1.0])
    assert len(reader.cache) == 1  # the guess (-1.0) would be read whole next time


@pytest.mark.real_model
def test_pruning_keeps_the_best_unit_and_the_layers_reproduce_the_whole_reader(real_model_path: Path) -> None:
    from bot.answering.reader import READER_DIR
    from kb.embeddings import load_embeddings

    reader = Reader(real_model_path, READER_DIR)
    probe = reader.probe
    assert probe is not None, "bot/reader_model/probe.json is committed: python -m tools.fit_reader_probe"
    embeddings = load_embeddings(str(real_model_path))
    question = "Qui copréside la commission mixte sur la cybersécurité ?"
    context = "Termes de référence des commissions mixtes — 3. Commission mixte cybersécurité"
    units = ["Coprésidence : SENUM et le ministère du Développement numérique et des Transports (MDDT) d'Azerbaïdjan.",
             "Composition : 8 membres.", "Fréquence : réunion mensuelle par visioconférence.",
             "La commission rend compte au comité de pilotage conjoint une fois par an.",
             "Le portail pilote de démarches en ligne sera livré avant le 31 décembre 2026.",
             "Le budget proposé pour la coopération est de 1,2 milliard de FCFA."]
    q = embeddings.encode_queries([question])[0]
    cosines = embeddings.encode_passages([f"{context}: {u}" for u in units]) @ q
    pairs = [(context, u) for u in units]
    whole = reader.score(question, pairs, cosines, cached=False).logits
    # Run layer by layer, every unit kept: the same logits as the whole network at once.
    everything, exact = reader._network_logits(question, pairs, list(cosines), 768, None, replace(probe, keep=1, margin=1e9))
    assert exact.all()
    np.testing.assert_allclose(everything, whole, atol=0.05)
    pruned = reader.score(question, pairs, cosines, cached=False, prune=True).logits
    assert int(np.argmax(pruned)) == int(np.argmax(whole)) == 0
    assert pruned[0] == pytest.approx(whole[0], abs=0.05)
    # The units not read to the end keep a guess, not the reader's logit, and stay below the best.
    _, read_whole = reader._network_logits(question, pairs, list(cosines), 768, None, probe)
    assert 0 < read_whole.sum() < len(units)
    assert (pruned[~read_whole] < pruned[0]).all()
