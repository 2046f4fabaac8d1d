"""Fit the reader's probe (`bot.answering.reader_layers.Probe`): a linear guess of the reader's logit
from the mean of its hidden states after `--layer` layers and the unit's cosine.

The reader reads every unit of a stage through its first layers, then only the units the
probe guesses best (`--keep`, and any within `--margin` of the best guess) through the rest.
The probe learns the reader's own logits, no labels: every question is asked through the
answer path (retrieve, choose the units to read), each unit is read whole, and a ridge
regression maps (layer mean, cosine) to the logit. The questions: PIAF `dev` (with and
without their article, on the store of every PIAF paragraph) and the corpus development
questions (`evals/data/dev_questions.jsonl`, `corpus_questions.jsonl`). PIAF `test` and the
blind sets are never used here: they judge the result (`python -m evals.answers`).

    python -m tools.fit_reader_probe [--layer 8] [--keep 3] [--margin 2] [--piaf N] [--dest bot/reader_model]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from bot.answering import AnswerConfig, gather_evidence, search_filter
from bot.answering.query import parse_query
from bot.answering.reader import (BATCH_TOKENS, MAX_TOKENS, PROBE_FILE, READER_DIR, _batches, _mean_pool, load_reader,
                                  reader_text)
from bot.answering.reader_layers import Probe, run_layers
from bot.answering.route import route
from bot.answering.selection import candidates, reader_context, to_read
from evals.corpus import DEV_QUESTIONS, EVAL_DATA, load_questions
from kb.store import KnowledgeBase, SearchFilter

log = logging.getLogger("fit_reader_probe")

CORPUS_QUESTIONS = (DEV_QUESTIONS, EVAL_DATA / "corpus_questions.jsonl")


def layer_means(question: str, units: Sequence[tuple[str, str]], cosines: Sequence[float],
                layer: int) -> tuple[np.ndarray, np.ndarray]:
    """For each (context, text) unit read for `question`: the mean of the reader's hidden
    states after `layer` layers, and the reader's logit (network only, every layer)."""
    import torch

    reader = load_reader()
    network, tokenizer = reader.model()
    encoder = network.encoder
    encoded = tokenizer([reader_text(question, c, t) for c, t in units], truncation=True, max_length=MAX_TOKENS)["input_ids"]
    means = np.zeros((len(units), encoder.config.hidden_size), dtype=np.float32)
    logits = np.zeros(len(units), dtype=np.float32)
    cosine = torch.tensor([float(c) for c in cosines], dtype=torch.float32)
    with torch.inference_mode():
        for index in _batches([len(ids) for ids in encoded], BATCH_TOKENS):
            batch = tokenizer.pad({"input_ids": [encoded[i] for i in index]}, return_tensors="pt")
            mask = batch["attention_mask"]
            states = run_layers(encoder, encoder.embeddings(input_ids=batch["input_ids"]), mask, 0, layer)
            means[index] = _mean_pool(states, mask).float().numpy()
            states = run_layers(encoder, states, mask, layer, len(encoder.encoder.layer))
            logits[index] = network.score(states, mask, cosine[index]).float().numpy()
    return means, logits


def examples(kb: KnowledgeBase, asked: Iterable[tuple[str, Sequence[Any], SearchFilter]], layer: int,
             config: AnswerConfig) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(layer means, cosines, logits) of the units the answer path reads for each question."""
    found = []
    for question, history, where in asked:
        query = parse_query(question, history)
        if route(kb, query, where) == "commitments":
            continue
        evidence = gather_evidence(kb, query, where, config=config, for_reader=True)
        chosen = to_read(candidates(kb, evidence, config), config)
        if len(chosen) < 2:
            continue
        cosines = np.asarray([c.cosine for c in chosen], dtype=np.float32)
        means, logits = layer_means(evidence.query, [(reader_context(c.passage), c.unit.reading) for c in chosen],
                                    cosines, layer)
        found.append((means, cosines, logits))
        if len(found) % 100 == 0:
            log.info("%d questions read", len(found))
    return found


def fit(found: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], layer: int, keep: int, margin: float,
        ridge: float = 10.0) -> Probe:
    """The ridge regression of the logits on standardised (layer mean, cosine)."""
    features = np.concatenate([np.hstack([m, c[:, None]]) for m, c, _ in found]).astype(np.float64)
    target = np.concatenate([y for _, _, y in found]).astype(np.float64)
    mean, scale = features.mean(0), features.std(0) + 1e-6
    x = (features - mean) / scale
    bias = float(target.mean())
    weights = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ (target - bias))
    return Probe(layer, mean.astype(np.float32), scale.astype(np.float32), weights.astype(np.float32), bias, keep, margin)


def agreement(probe: Probe, found: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[str, float]:
    """How well `probe` stands in for the reader on `found`: R² of its guesses, and the share
    of questions whose best unit survives its cut."""
    guesses = [probe.guess(m, c) for m, c, _ in found]
    target = np.concatenate([y for _, _, y in found])
    guessed = np.concatenate(guesses)
    kept = [int(np.argmax(y)) in probe.survivors(g) for g, (_, _, y) in zip(guesses, found)]
    survivors = sum(len(probe.survivors(g)) for g in guesses) / max(1, sum(len(g) for g in guesses))
    return {"r2": round(float(1 - ((guessed - target) ** 2).mean() / target.var()), 4),
            "best_unit_kept": round(sum(kept) / max(1, len(kept)), 4),
            "units_read_whole": round(float(survivors), 4), "questions": len(found)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fit_reader_probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("--layer", type=int, default=8, help="layers read by every unit (of 12)")
    parser.add_argument("--keep", type=int, default=3, help="units of a stage always read to the end")
    parser.add_argument("--margin", type=float, default=2.0, help="units guessed within this of the best are read too")
    parser.add_argument("--piaf", type=int, default=300, help="PIAF dev questions (each asked with and without its article)")
    parser.add_argument("--work", type=Path, default=Path("bench-results") / "piaf", help="folder of the PIAF store")
    parser.add_argument("--store", type=Path, default=Path("bench-results") / "newkinds-store",
                        help="store of corpus/ plus evals/data/newkinds/ (built when missing)")
    parser.add_argument("--dest", type=Path, default=READER_DIR, help="folder the probe file is written to")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("sentence_transformers", "kb.embeddings", "bot", "httpx", "chromadb", "ingest"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not 1 <= args.layer < 12 or args.keep < 1 or args.margin < 0:
        parser.error("--layer is 1 to 11, --keep at least 1, --margin not negative")
    from evals.answers import newkinds_store
    from evals.piaf import DEFAULT_PIAF, build_store
    from evals.piaf_reader import article_documents, evenly, load, own_article

    config = AnswerConfig(reader=True)
    corpus = newkinds_store(args.store)
    asked = [(q["question"], q.get("history") or (), search_filter(q.get("role", "reader"), q.get("filters")))
             for path in CORPUS_QUESTIONS for q in load_questions(path)]
    found = examples(corpus, asked, args.layer, config)
    store, _, _ = build_store(DEFAULT_PIAF, args.work)
    articles = article_documents(store)
    paragraphs, questions = load()
    reader = search_filter("reader", None)
    chosen = evenly([q for q in questions if q.split == "dev"], args.piaf)
    piaf = [(q.text, (), reader) for q in chosen] + [
        (q.text, (), replace(reader, exclude_documents=own_article(articles, paragraphs[q.paragraph]))) for q in chosen]
    found += examples(store, piaf, args.layer, config)
    # Every fifth question held out, to print how well the probe stands in for the reader.
    held = found[::5]
    probe = fit([f for i, f in enumerate(found) if i % 5], args.layer, args.keep, args.margin)
    log.info("held-out questions: %s", agreement(probe, held))
    probe = fit(found, args.layer, args.keep, args.margin)
    args.dest.mkdir(parents=True, exist_ok=True)
    (args.dest / PROBE_FILE).write_text(json.dumps(probe.to_dict()) + "\n", encoding="utf-8")
    log.info("wrote %s (%d questions, all: %s)", args.dest / PROBE_FILE, len(found), agreement(probe, found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
