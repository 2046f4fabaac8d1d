"""Resumable reader training (`tools.train_reader`, `tools.reader_checkpoint`): a run stopped
after 3 of 6 steps and resumed ends with the same weights, bit for bit, as one that was never
stopped; a checkpoint of another run is refused; the committed weights change only for a
better dev figure."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np
import pytest

from evals.piaf_reader import Paragraph, Question
from kb.text import sentence_spans
from tools.reader_checkpoint import CheckpointError, Checkpoints, fingerprint
from tools.train_reader import hard_negatives, make_examples, publish

TEXTS = [
    ("Dakar", "Dakar est la capitale du Sénégal. Elle a été fondée en 1857. Son port est très actif."),
    ("Bakou", "Bakou est la capitale de l'Azerbaïdjan. La ville borde la mer Caspienne. Elle compte deux millions d'habitants."),
    ("Thiès", "Thiès est une ville de l'ouest du Sénégal. Elle est connue pour sa gare. Le train y passe chaque jour."),
    ("Gandja", "Gandja est la deuxième ville d'Azerbaïdjan. Elle est ancienne. Un poète y est né au douzième siècle."),
]
QUESTIONS = [
    ("Quand Dakar a-t-elle été fondée ?", 0, 1, "1857", "train"),
    ("Quelle mer borde Bakou ?", 1, 1, "mer Caspienne", "train"),
    ("Pour quoi Thiès est-elle connue ?", 2, 1, "sa gare", "train"),
    ("Quel est le rang de Gandja parmi les villes ?", 3, 0, "deuxième", "train"),
    ("Quelle est la capitale du Sénégal ?", 0, 0, "Dakar", "dev"),
    ("Combien d'habitants compte Bakou ?", 1, 2, "deux millions", "dev"),
]


def _data():
    # One split for every paragraph: the dev questions ask of the same paragraphs.
    paragraphs = [Paragraph(title, text, sentence_spans(text), "train") for title, text in TEXTS]
    questions = [Question(*q) for q in QUESTIONS]
    rng = np.random.default_rng(0)
    offsets = list(np.cumsum([0] + [len(p.spans) for p in paragraphs]))
    sv = rng.normal(size=(offsets[-1], 16)).astype(np.float32)
    qv = rng.normal(size=(len(questions), 16)).astype(np.float32)
    sv /= np.linalg.norm(sv, axis=1, keepdims=True)
    qv /= np.linalg.norm(qv, axis=1, keepdims=True)
    return paragraphs, questions, sv, offsets, qv


def _args(**overrides) -> argparse.Namespace:
    values = dict(lr=1e-4, head_lr=1e-2, warmup=2, lists_per_step=2, first_layer=11, layers=None, max_steps=6, eval_every=3,
                  checkpoint_every=2, minutes=None, session_steps=None, teacher=None, distill_weight=0.5,
                  distill_temperature=1.0)
    values.update(overrides)
    return argparse.Namespace(**values)


def tiny_network(e5_dir, first_layer, layers=None):
    """A network with the reader's interface, parameter names and dropout, small enough that
    the checkpoint logic is tested in a second (the e5 network is in the slow test)."""
    import torch
    from torch import nn

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Module()
            self.encoder.embed = nn.Embedding(1000, 8)
            self.dropout = nn.Dropout(0.5)
            self.head = nn.Linear(8, 1)
            self.log_scale = nn.Parameter(torch.tensor(3.0))
            self.offset = nn.Parameter(torch.tensor(0.1))

        def forward(self, input_ids, attention_mask, cosine):
            hidden = self.encoder.embed(input_ids % 1000) * attention_mask.unsqueeze(-1)
            pooled = self.dropout(hidden.sum(1) / attention_mask.sum(1, keepdim=True))
            return self.log_scale.exp() * (cosine - self.offset) + self.head(pooled).squeeze(-1)

    return Tiny()


def _run(args, folder: Path, seed: int):
    import torch

    from tools.train_reader import Trainer

    paragraphs, questions, sv, offsets, qv = _data()
    negatives = hard_negatives(questions, paragraphs, sv, offsets, qv, k=2)
    rng = random.Random(1)
    # Three epochs: more lists than the 6 steps of 2 lists the run stops at.
    examples = [e for _ in range(3) for e in make_examples(questions, negatives, paragraphs, rng, {}, other_rate=0.5)]
    assert len(examples) > 12
    dev = ([q for q in questions if q.split == "dev"], [i for i, q in enumerate(questions) if q.split == "dev"])
    torch.manual_seed(seed)
    trainer = Trainer(args, paragraphs, sv, offsets, qv, [q.text for q in questions], negatives)
    best, state, finished = trainer.fit(examples, dev, Checkpoints(folder, "run-1"))
    params = {n: p.detach().clone() for n, p in trainer.network.named_parameters() if p.requires_grad}
    return best, state, finished, params, trainer.history


def _same(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.real_model
@pytest.mark.parametrize("network", [
    "tiny", pytest.param("e5", marks=pytest.mark.slow),
])
def test_a_stopped_run_resumes_to_the_same_weights(network: str, real_model_path: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    if network == "tiny":
        monkeypatch.setattr("tools.train_reader.build_network", tiny_network)
    best, state, finished, params, history = _run(_args(), tmp_path / "whole", seed=7)
    assert finished and history == {"sessions": 1, "minutes": history["minutes"], "steps": 6}

    first = _run(_args(session_steps=3), tmp_path / "split", seed=7)
    assert first[2] is False and first[4]["steps"] == 3, "stopped after 3 steps, not finished"
    assert not _same(first[3], params), "half a run is not the whole run"
    # Another seed at start: dropout's random state must come from the checkpoint.
    resumed = _run(_args(), tmp_path / "split", seed=99)
    assert resumed[2] is True and resumed[4]["sessions"] == 2 and resumed[4]["steps"] == 6
    assert _same(resumed[3], params), "the resumed run's trained parameters equal the uninterrupted run's"
    # Compared as JSON: the fixture's dev AUCs are NaN (no negatives), and NaN != NaN.
    assert _same(resumed[1], state) and json.dumps(resumed[0], sort_keys=True) == json.dumps(best, sort_keys=True)


def _near_cosines(paragraphs, questions, sv, offsets, qv):
    """The fixture's vectors moved so that every cosine lies where e5's do (0.78-0.92), where
    the readers' logits are neither all certain nor all hopeless."""
    rng = np.random.default_rng(3)
    qv = np.zeros_like(qv)
    qv[:, 0] = 1.0
    cos = rng.uniform(0.78, 0.92, size=len(sv))
    sv = np.zeros_like(sv)
    sv[:, 0], sv[:, 1] = cos, np.sqrt(1 - cos ** 2)
    return paragraphs, questions, sv, offsets, qv


@pytest.mark.real_model
@pytest.mark.slow
def test_a_shallow_reader_learns_the_committed_readers_logits_from_its_teacher(real_model_path: Path,
                                                                              tmp_path: Path) -> None:
    import torch

    from bot.answering.reader import READER_DIR
    from tools.train_reader import Trainer, list_loss

    paragraphs, questions, sv, offsets, qv = _near_cosines(*_data())
    negatives = hard_negatives(questions, paragraphs, sv, offsets, qv, k=2)
    examples = [e for _ in range(3) for e in make_examples(questions, negatives, paragraphs, random.Random(1), {},
                                                           other_rate=0.5)]
    dev = ([q for q in questions if q.split == "dev"], [i for i, q in enumerate(questions) if q.split == "dev"])

    def distance(weight: float) -> float:
        torch.manual_seed(5)
        args = _args(layers=2, first_layer=1, teacher=READER_DIR, distill_weight=weight, max_steps=8, eval_every=100,
                     checkpoint_every=100, lr=3e-4)
        trainer = Trainer(args, paragraphs, sv, offsets, qv, [q.text for q in questions], negatives)
        trainer.fit(examples, dev, Checkpoints(tmp_path / f"run-{weight}", "run"))
        trainer.network.eval()
        with torch.no_grad():
            student, teacher = trainer.batch_logits([e.cosine_row for e in examples], [e.candidates for e in examples],
                                                    with_teacher=True)
        return float(np.mean([float(list_loss(s, 0, t, weight=1.0)) for s, t in zip(student, teacher)]))

    labels_only, distilled = distance(0.0), distance(1.0)
    # Measured: 1.31 against 1.46 (0.90); were the teacher's part ignored, both runs would be the same.
    assert distilled < 0.95 * labels_only, (distilled, labels_only)


def test_a_checkpoint_of_another_run_is_refused(tmp_path: Path) -> None:
    import torch

    Checkpoints(tmp_path, "run-a").save({"step": 3, "w": torch.zeros(2)})
    assert Checkpoints(tmp_path, "run-a").load()["step"] == 3
    with pytest.raises(CheckpointError, match="other settings or data.*--fresh"):
        Checkpoints(tmp_path, "run-b").load()
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read the checkpoint"):
        Checkpoints(tmp_path, "run-a").load()


def test_the_fingerprint_ignores_session_settings_only() -> None:
    lists = [(1, [(0, 1)], 1)]
    base = {"lr": 1e-4, "minutes": 30, "session_steps": None, "threads": 2}
    assert fingerprint(base, lists) == fingerprint({**base, "minutes": 600, "session_steps": 5, "threads": 1}, lists)
    assert fingerprint(base, lists) != fingerprint({**base, "lr": 2e-4}, lists)
    assert fingerprint(base, lists) != fingerprint(base, [(1, [(0, 2)], 1)])


def _card(folder: Path, rank1: float, auc: float, questions: int = 329) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    card = {"dev_best": {"questions": questions, "rank1": rank1, "auc": auc}, "test": {"reader": rank1},
            "test_network_alone": {"rank1": rank1}}
    (folder / "card.json").write_text(json.dumps(card), encoding="utf-8")
    (folder / "reader.safetensors").write_bytes(f"weights {rank1}".encode())
    return card


def test_committed_weights_change_only_for_a_better_dev_figure_and_no_worse_test(tmp_path: Path) -> None:
    out, result = tmp_path / "out", tmp_path / "result"
    _card(out, 0.73, 0.79)
    args = argparse.Namespace(out=out)
    assert not publish(args, result, _card(result, 0.72, 0.79))
    assert (out / "reader.safetensors").read_bytes() == b"weights 0.73"
    assert not publish(args, result, _card(result, 0.80, 0.80, questions=8)), "another dev set: not comparable"
    worse_on_test = _card(result, 0.75, 0.79)
    worse_on_test["test_network_alone"]["rank1"] = 0.70
    assert not publish(args, result, worse_on_test), "a better dev figure but a worse PIAF test one"
    assert (out / "reader.safetensors").read_bytes() == b"weights 0.73"
    assert publish(args, result, _card(result, 0.75, 0.79))
    assert (out / "reader.safetensors").read_bytes() == b"weights 0.75"
    card = json.loads((out / "card.json").read_text(encoding="utf-8"))
    assert card["replaced"]["previous_dev_best"]["rank1"] == 0.73
    assert publish(argparse.Namespace(out=tmp_path / "empty"), result, _card(result, 0.5, 0.5)), "nothing committed yet"
