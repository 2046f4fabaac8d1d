"""The reader through its real committed weights on the locally built e5 model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.answering import AnswerConfig, Candidate, Evidence, answer, choose_units
from bot.answering.reader import Reader, ReaderError, load_reader
from bot.answering.retrieve import Passage
from bot.answering.units import Unit
from evals.piaf_reader import PIAF_FILE, evenly, load, sentence_rank1

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def reader(real_model_path: Path) -> Reader:
    return load_reader(real_model_path)


@pytest.fixture(scope="module")
def embeddings(real_model_path: Path):
    from kb.embeddings import load_embeddings

    return load_embeddings(str(real_model_path))


def test_a_known_positive_scores_above_a_known_negative(reader: Reader, embeddings) -> None:
    question = "Combien de membres compte la commission mixte cybersécurité ?"
    context = "Termes de référence — Commission mixte cybersécurité"
    candidates = ["Composition : 8 membres.", "Fréquence : réunion mensuelle par visioconférence."]
    q = embeddings.encode_queries([question])[0]
    cosines = embeddings.encode_passages([f"{context}: {c}" for c in candidates]) @ q
    scores = reader.score(question, [(context, c) for c in candidates], cosines)
    assert scores.logits[0] > scores.logits[1]
    assert 0.0 <= scores.probabilities.min() and scores.probabilities.max() <= 1.0


@pytest.mark.skipif(not PIAF_FILE.is_file(), reason="PIAF is not beside the project")
def test_reader_beats_cosine_on_a_slice_of_the_piaf_test_split(reader: Reader, embeddings) -> None:
    paragraphs, questions = load()
    test = evenly([q for q in questions if q.split == "test"], 100)
    figures = sentence_rank1(paragraphs, test, reader, embeddings)
    assert figures["questions"] == 100
    assert figures["reader"] > figures["cosine"], figures


def test_missing_weights_say_how_to_make_them(tmp_path: Path, real_model_path: Path) -> None:
    with pytest.raises(ReaderError, match="make train-reader"):
        Reader(real_model_path, tmp_path).score("Question ?", [("", "Texte.")], [0.8])


def test_answers_through_the_reader_cite_exact_quotes_and_abstain_below_the_threshold(corpus_store) -> None:
    question = "Combien de membres compte le comité de pilotage conjoint ?"
    # The reader under its single threshold (the calibrator off): the comparison `make bench` prints.
    read = answer(question, role="official", kb=corpus_store,
                  config=AnswerConfig(reader=True, calibrated=False, reader_threshold=-50.0))
    assert not read.abstained and "[1]" in read.answer
    for source in read.sources:
        doc_id = next(d for d, r in corpus_store.documents().items() if r.path == source.path)
        assert corpus_store.document_text(doc_id)[source.start : source.end] == source.quote
    strict = answer(question, role="official", kb=corpus_store,
                    config=AnswerConfig(reader=True, calibrated=False, reader_threshold=50.0))
    assert strict.abstained and strict.sources and not any(s.cited for s in strict.sources)


def test_the_reader_is_the_default_and_the_setting_switches_it_off(corpus_store, monkeypatch) -> None:
    import dataclasses
    import sys

    from kb.settings import Settings
    from kb.store import KnowledgeBase

    module = sys.modules["bot.answering.pipeline"]  # where answer() looks its stages up
    calls = []
    real_read = module.read
    monkeypatch.setattr(module, "read", lambda *args: calls.append(args) or real_read(*args))
    question = "Quelle est la durée du protocole d'accord entre SENUM et ASAN ?"
    assert Settings.from_env({}).reader and not Settings.from_env({"PASSERELLE_READER": "0"}).reader
    answer(question, role="official", kb=corpus_store)
    assert len(calls) == 1, "on by default"
    without = KnowledgeBase(dataclasses.replace(corpus_store.settings, reader=False))
    try:
        result = answer(question, role="official", kb=without)
        assert len(calls) == 1 and result.confidence is None, "PASSERELLE_READER=0: the sentence scorer"
        answer(question, role="official", kb=without, config=AnswerConfig(reader=True))
        assert len(calls) == 2, "an explicit config wins"
    finally:
        without.close()


def _candidate(start: int, end: int, logit: float, doc: str = "d") -> Candidate:
    passage = Passage(f"{doc}:{start}", doc, doc, "T", "other", "", "", None, "", 0, 100, "fr", "public", 1.0)
    return Candidate(passage, Unit(start, end, ((start, end),), "x", "sentence"), 0.8, 0.8, logit)


def _evidence(candidates: list[Candidate]) -> Evidence:
    return Evidence("fr", np.zeros(3, dtype=np.float32), [], [], 0.0, candidates=candidates)


def test_abstains_below_the_threshold_and_keeps_close_units_that_do_not_overlap() -> None:
    config = AnswerConfig(reader_threshold=0.5, reader_margin=1.0, max_sentences=3)
    assert choose_units(_evidence([_candidate(0, 10, 0.4)]), config) == []
    ranked = [_candidate(0, 10, 3.0), _candidate(5, 20, 2.8), _candidate(30, 40, 2.5), _candidate(50, 60, 1.5)]
    chosen = choose_units(_evidence(ranked), config)
    assert [(c.unit.start, c.logit) for c in chosen] == [(0, 3.0), (30, 2.5)]


def test_remembered_logits_are_the_ones_the_network_computes(real_model_path: Path, embeddings) -> None:
    reader = Reader(real_model_path)
    question = "Combien de membres compte la commission mixte cybersécurité ?"
    context = "Termes de référence — Commission mixte cybersécurité"
    units = ["Composition : 8 membres.", "Fréquence : réunion mensuelle par visioconférence.",
             "La commission rend compte au comité de pilotage conjoint une fois par an."]
    q = embeddings.encode_queries([question])[0]
    cosines = embeddings.encode_passages([f"{context}: {u}" for u in units]) @ q
    fresh = reader.score(question, [(context, u) for u in units], cosines, cached=False)
    first = reader.score(question, [(context, u) for u in units[:2]], cosines[:2])
    assert len(reader.cache) == 2
    # One unit new, two remembered: the same logits as reading all three afresh.
    again = reader.score(question, [(context, u) for u in units], cosines)
    assert len(reader.cache) == 3
    np.testing.assert_allclose(again.logits, fresh.logits, atol=0.05)
    np.testing.assert_allclose(again.logits[:2], first.logits, atol=1e-6)
    assert int(np.argmax(again.logits)) == int(np.argmax(fresh.logits)) == 0


def test_reading_in_stages_answers_a_known_question_as_reading_every_unit(corpus_store) -> None:
    from dataclasses import replace

    from bot.answering import gather_evidence, read, search_filter
    from bot.answering.query import parse_query

    question = "Qui préside le comité national de suivi du New Deal technologique ?"
    where = search_filter("official", None)
    config = AnswerConfig(reader=True, reader_cache=False)
    every, staged = (gather_evidence(corpus_store, parse_query(question), where, config=config, for_reader=True)
                     for _ in range(2))
    read(corpus_store, every, replace(config, reader_first=0))
    read(corpus_store, staged, replace(config, reader_first=4))
    assert len([c for c in every.candidates if c.unit.kind != "section"]) == config.reader_candidates
    # The first stage holds a clear answer: the other units are left unread, and the answer is the same.
    assert len(staged.candidates) == 4 and staged.candidates[0].logit >= config.reader_clear
    assert staged.candidates[0].unit == every.candidates[0].unit
    assert staged.candidates[0].logit == pytest.approx(every.candidates[0].logit, abs=0.05)
    result = answer(question, role="official", kb=corpus_store, config=config)
    assert result.outcome == "answered" and "[1]" in result.answer, (result.outcome, result.answer)


def test_a_shallow_readers_weights_load_into_a_network_of_the_same_depth(tmp_path: Path, real_model_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from bot.answering.reader import WEIGHTS_FILE, build_network, trained_state

    network = build_network(real_model_path, first_trained_layer=3, layers=5)
    assert len(network.encoder.encoder.layer) == 5
    with torch.no_grad():
        network.head.bias.fill_(0.7)  # a trained head: the loaded reader must not rank as cosine does
    save_file(trained_state(network), str(tmp_path / WEIGHTS_FILE))
    reader = Reader(real_model_path, tmp_path, bf16=False, cache_size=0)
    logits = reader.score("Question ?", [("Titre", "Une phrase."), ("Titre", "Une autre, plus longue.")], [0.8, 0.9]).logits
    loaded, tokenizer = reader._load()
    assert len(loaded.encoder.encoder.layer) == 5 and loaded.encoder.config.num_hidden_layers == 5
    # Reading at full depth would give other logits: the shallow network's are reproduced.
    tokens = tokenizer(["query: Question ?\npassage: Titre: Une phrase."], return_tensors="pt")
    with torch.inference_mode():
        expected = network.eval()(tokens["input_ids"], tokens["attention_mask"], torch.tensor([0.8]))
    assert abs(float(expected[0]) - float(logits[0])) < 1e-3


def test_a_reader_cannot_keep_more_layers_than_e5_has(real_model_path: Path) -> None:
    from bot.answering.reader import build_network

    with pytest.raises(ReaderError, match="1 to 12 layers"):
        build_network(real_model_path, first_trained_layer=6, layers=13)


def test_the_reading_attention_masks_padding_and_agrees_with_torchs(reader: Reader) -> None:
    from bot.answering.reader_layers import ATTENTION, use_bmm_attention

    network, _ = reader.model()
    assert network.encoder.config._attn_implementation == ATTENTION
    question = "Combien de membres compte la commission mixte cybersécurité ?"
    short = ("Commission mixte cybersécurité", "Composition : 8 membres.")
    long = ("Commission mixte cybersécurité", "La commission rend compte au comité de pilotage conjoint. " * 10)
    alone = reader.score(question, [short], [0.86], cached=False).logits[0]
    padded = reader.score(question, [short, long], [0.86, 0.8], cached=False).logits
    assert abs(padded[0] - alone) < 0.05  # the short unit, padded to the long one's length, reads the same
    network.encoder.set_attn_implementation("sdpa")
    try:
        torchs = reader.score(question, [short, long], [0.86, 0.8], cached=False).logits
    finally:
        use_bmm_attention(network)
    assert np.allclose(padded, torchs, atol=0.1)
