"""Train the answer calibrator (`bot/answering/abstain.py`): how likely the reader's first unit answers.

Every question is asked through the answer path (retrieve, read) and its evidence's
`signals` are kept with two labels: does the first unit hold the answer, and are the
documents about the question at all. The questions:

- PIAF (French Wikipedia) on a store of every PIAF paragraph, asked **with** their article
  (the first unit answers when it holds the gold text) and **without** it (the article's
  paragraphs filtered out: the nearest other articles make realistic near misses, as in
  SQuAD 2.0 / FQuAD 2.0: no unit answers);
- PIAF questions asked of the sample corpus: off-topic, nothing there is about them;
- the corpus development questions (`evals/data/dev_questions.jsonl`), answerable (the
  first unit answers when it holds an expected fact) or not (on topic, no answer).

Two logistic regressions (scikit-learn) are fitted on PIAF `train` questions and the corpus
development questions; the thresholds are chosen on PIAF `dev` (with and without the article,
and off topic) and the corpus development questions: `answers` for a precision of at least
`--precision` over all of them, `relevant` so that `--off-topic` of the off-topic questions
fall below it. PIAF `test` is never used
here. Traces are cached per question (`--cache`), so an interrupted run resumes; the cache
keeps them in a folder named after how the reader read (`reading_key`: units and sections
read, stage size, clear logit, reader weights), so a change of reading never reuses stale traces.

    python -m tools.train_calibrator [--train N] [--dev N] [--offtopic N] [--dest bot/reader_model]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import hashlib
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from bot.answering.abstain import CALIBRATOR_FILE, SIGNALS, signals
from bot.answering import AnswerConfig, gather_evidence, read, search_filter
from bot.answering.query import parse_query
from bot.answering.reader import CARD_FILE, PROBE_FILE, READER_DIR, WEIGHTS_FILE
from bot.answering.route import route
from evals.corpus import DEV_QUESTIONS, holds, load_questions, normalise
from kb.settings import PROJECT_ROOT, Settings
from kb.store import KnowledgeBase, SearchFilter

log = logging.getLogger("train_calibrator")

TRAIN_GROUPS = ("piaf-train-with", "piaf-train-without", "offtopic-train", "corpus-dev")
DEV_GROUPS = ("piaf-dev-with", "piaf-dev-without", "offtopic-dev", "corpus-dev")


def trace(kb: KnowledgeBase, question: str, history: Sequence[Any], where: SearchFilter,
          answered_by: Callable[[str], bool], config: AnswerConfig) -> dict[str, Any] | None:
    """One question through retrieval and the reader: its signals and whether the first
    unit holds the answer (`answered_by` its quote); None for a question about commitments
    or one where nothing was read."""
    query = parse_query(question, history)
    if route(kb, query, where) == "commitments":
        return None
    evidence = gather_evidence(kb, query, where, config=config, for_reader=True)
    read(kb, evidence, config)
    if not evidence.candidates:
        return None
    first = evidence.candidates[0]
    quote = (kb.document_text(first.passage.doc_id) or "")[first.unit.start : first.unit.end]
    return {"signals": signals(evidence), "answers": int(answered_by(f"{quote}\n{first.unit.reading}"))}


def reading_key(settings: Settings, config: AnswerConfig, reader_dir: Path = READER_DIR) -> dict[str, Any]:
    """What decides a trace besides the question: how many units and sections the reader
    reads, how many at a time, the logit that stops it, whether its probe stops reading the
    units guessed far below the best, and its weights and probe (by digest)."""
    digest = hashlib.sha256()
    for name in (CARD_FILE, WEIGHTS_FILE, PROBE_FILE):
        path = reader_dir / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    return {
        "reader_candidates": config.reader_candidates,
        "section_candidates": config.section_candidates,
        "reader_first": settings.reader_first if config.reader_first is None else config.reader_first,
        "reader_clear": config.reader_clear,
        "reader_prune": config.reader_prune,
        "reader_weights": digest.hexdigest()[:16],
    }


def reading_folder(root: Path, key: dict[str, Any]) -> Path:
    """The cache folder of traces read as `key` says, under `root` (made, with `key` written
    beside the traces so that a person can tell the folders apart)."""
    name = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    folder = root / f"reading-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reading.json").write_text(json.dumps(key, indent=2) + "\n", encoding="utf-8")
    return folder


class Cache:
    """Traced rows of one group, one JSON line each, appended as they come (resumable)."""

    def __init__(self, folder: Path, group: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{group}.jsonl"
        self.rows: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.rows[row["id"]] = row

    def add(self, row: dict[str, Any]) -> None:
        self.rows[row["id"]] = row
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def collect(cache: Cache, items: Iterable[tuple[str, Callable[[], dict[str, Any] | None]]], relevant: int | None,
            label: str) -> None:
    """Trace each (id, thunk) not yet cached, with a progress line every 50."""
    todo = [(qid, thunk) for qid, thunk in items if qid not in cache.rows]
    started = time.monotonic()
    for i, (qid, thunk) in enumerate(todo, start=1):
        row = thunk()
        cache.add({"id": qid, "relevant": relevant, **(row or {"signals": None, "answers": 0})})
        if i % 50 == 0 or i == len(todo):
            log.info("%s: %d/%d traced (%.1f s per question)", label, i, len(todo), (time.monotonic() - started) / i)


def piaf_groups(args: argparse.Namespace, corpus: KnowledgeBase, config: AnswerConfig) -> None:
    """Trace the PIAF groups: with and without their article, and off-topic on the corpus."""
    from evals.piaf import DEFAULT_PIAF, build_store
    from evals.piaf_reader import article_documents, evenly, load, own_article

    store, _, _ = build_store(DEFAULT_PIAF, args.work)
    articles = article_documents(store)
    paragraphs, questions = load()
    reader = search_filter("reader", None)
    corpus_where = search_filter("official", None)
    for split, limit in (("train", args.train), ("dev", args.dev)):
        chosen = evenly([q for q in questions if q.split == split], limit)
        pairs = [(f"{split}-{i}", q) for i, q in enumerate(chosen)]

        def answered(gold: str) -> Callable[[str], bool]:
            return lambda shown: gold in normalise(shown)

        collect(Cache(args.cache, f"piaf-{split}-with"), (
            (qid, lambda q=q: trace(store, q.text, (), reader, answered(normalise(q.answer)), config)) for qid, q in pairs
        ), 1, f"PIAF {split} with its article")
        collect(Cache(args.cache, f"piaf-{split}-without"), (
            (qid, lambda q=q: trace(store, q.text, (), replace(reader, exclude_documents=own_article(
                articles, paragraphs[q.paragraph])), answered(normalise(q.answer)), config)) for qid, q in pairs
        ), None, f"PIAF {split} without its article")
        off = evenly([q for _, q in pairs], args.offtopic)
        collect(Cache(args.cache, f"offtopic-{split}"), (
            (f"{split}-off-{i}", lambda q=q: trace(corpus, q.text, (), corpus_where, lambda shown: False, config))
            for i, q in enumerate(off)
        ), 0, f"PIAF {split} asked of the corpus (off topic)")


def corpus_group(args: argparse.Namespace, corpus: KnowledgeBase, config: AnswerConfig) -> None:
    """Trace the corpus development questions."""
    cache_answerable = Cache(args.cache, "corpus-dev")
    items = []
    for q in load_questions(DEV_QUESTIONS):
        expected = q.get("expected") or []
        where = search_filter(q.get("role", "reader"), q.get("filters"))
        items.append((q["id"], lambda q=q, e=expected, w=where: trace(
            corpus, q["question"], q.get("history") or (), w, lambda shown: bool(e) and holds(shown, e), config)))
    collect(cache_answerable, items, 1, "corpus development questions")


def rows_of(args: argparse.Namespace, groups: Sequence[str]) -> list[dict[str, Any]]:
    """The cached rows of `groups` that have signals, each tagged with its group."""
    rows = []
    for group in groups:
        for row in Cache(args.cache, group).rows.values():
            if row.get("signals"):
                rows.append({**row, "group": group})
    return rows


def matrix(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    return np.array([[row["signals"][name] for name in SIGNALS] for row in rows], dtype=np.float64)


def fit(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """A standardised logistic regression, in the calibrator file's form."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000).fit((x - mean) / scale, y)
    return {"mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
            "coef": model.coef_[0].round(6).tolist(), "intercept": round(float(model.intercept_[0]), 6)}


def probabilities(model: dict[str, Any], x: np.ndarray) -> np.ndarray:
    z = model["intercept"] + ((x - np.array(model["mean"])) / np.array(model["scale"])) @ np.array(model["coef"])
    return 1.0 / (1.0 + np.exp(-z))


def precision_threshold(p: np.ndarray, y: np.ndarray, target: float) -> float:
    """The lowest threshold whose answered questions (p >= threshold) are right at least
    `target` of the time, with at least 10 of them."""
    order = np.argsort(-p)
    hits = np.cumsum(y[order])
    best = 1.0
    for n in range(10, len(order) + 1):
        if hits[n - 1] / n >= target:
            best = float(p[order[n - 1]])
    return best


def auc(p: np.ndarray, y: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, p)), 3) if 0 < y.sum() < len(y) else None


def report(rows: Sequence[dict[str, Any]], calibrator: dict[str, Any]) -> dict[str, Any]:
    """Per group: outcome shares and the share of first units that answer, by outcome."""
    figures: dict[str, Any] = {}
    x = matrix(rows)
    p_answer = probabilities(calibrator["answers"], x)
    p_relevant = probabilities(calibrator["relevant"], x)
    for group in dict.fromkeys(row["group"] for row in rows):
        index = [i for i, row in enumerate(rows) if row["group"] == group]
        y = np.array([rows[i]["answers"] for i in index])
        answered = p_answer[index] >= calibrator["answer_threshold"]
        off = ~answered & (p_relevant[index] < calibrator["relevant_threshold"])
        figures[group] = {
            "questions": len(index), "first_unit_answers": round(float(y.mean()), 3),
            "answered": round(float(answered.mean()), 3),
            "answered_precision": round(float(y[answered].mean()), 3) if answered.any() else None,
            "not_in_documents": round(float(off.mean()), 3), "auc_answers": auc(p_answer[index], y),
        }
    return figures


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Fit both regressions and choose their thresholds; the calibrator file's content."""
    train_rows = rows_of(args, TRAIN_GROUPS)
    x, y = matrix(train_rows), np.array([row["answers"] for row in train_rows])
    answers = fit(x, y)
    relevant_rows = [row for row in train_rows if row["relevant"] is not None]
    relevant = fit(matrix(relevant_rows), np.array([row["relevant"] for row in relevant_rows]))

    dev_rows = rows_of(args, DEV_GROUPS)
    xd = matrix(dev_rows)
    pa, pr = probabilities(answers, xd), probabilities(relevant, xd)
    ya = np.array([row["answers"] for row in dev_rows])
    # On every development question at once: asked of its own article or without it, of the
    # corpus, or off topic. (Per kind of document, the corpus questions reach 0.9 nowhere.)
    threshold = precision_threshold(pa, ya, args.precision)
    off = np.array([row["group"] == "offtopic-dev" for row in dev_rows])
    relevant_threshold = float(np.quantile(pr[off], args.off_topic)) + 1e-6
    calibrator = {
        "signals": list(SIGNALS), "answers": answers, "relevant": relevant,
        "answer_threshold": round(threshold, 6), "relevant_threshold": round(relevant_threshold, 6),
        "trained_on": {group: sum(row["group"] == group for row in train_rows) for group in TRAIN_GROUPS},
        "thresholds_chosen_on": {group: sum(row["group"] == group for row in dev_rows) for group in DEV_GROUPS},
        "targets": {"answered_precision": args.precision, "off_topic_not_in_documents": args.off_topic},
        "note": "Fitted by python -m tools.train_calibrator on PIAF train questions (with and without their "
                "article, and asked of the corpus as off-topic) and the corpus development questions; "
                "thresholds chosen on PIAF dev and the corpus development questions. PIAF test never used.",
    }
    calibrator["dev_figures"] = report(dev_rows, calibrator)
    return calibrator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.train_calibrator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("data"), help="store built from corpus/ (default: data)")
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "bench-results" / "piaf", help="folder of the PIAF store")
    parser.add_argument("--cache", type=Path, default=PROJECT_ROOT / "bench-results" / "calibrator", help="traced questions (resumable)")
    parser.add_argument("--train", type=int, default=500, help="PIAF train questions (spread evenly)")
    parser.add_argument("--dev", type=int, default=329, help="PIAF dev questions (spread evenly)")
    parser.add_argument("--offtopic", type=int, default=150, help="PIAF questions of each split asked of the corpus")
    parser.add_argument("--precision", type=float, default=0.8,
                        help="answered precision the threshold aims for on the development questions (0.9 answers "
                             "almost nothing with today's reader: see the calibrator file)")
    parser.add_argument("--off-topic", type=float, default=0.95, help="share of off-topic questions to decline")
    parser.add_argument("--dest", type=Path, default=READER_DIR, help="folder of the calibrator file")
    parser.add_argument("--trace-only", action="store_true", help="trace the questions, fit nothing")
    parser.add_argument("--skip-piaf", action="store_true", help="trace the corpus questions only (with --trace-only)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("sentence_transformers", "kb.embeddings", "bot.answering.reader", "httpx", "chromadb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config = AnswerConfig(reader=True)
    corpus = KnowledgeBase(Settings.from_env(store=args.store))
    args.cache = reading_folder(args.cache, reading_key(corpus.settings, config))
    log.info("traces cached in %s", args.cache)
    if not corpus.exists or corpus.chunk_count() == 0:
        log.error("the corpus store %s is empty: run `python -m ingest corpus --store %s` first", args.store, args.store)
        return 1
    corpus_group(args, corpus, config)
    if not args.skip_piaf:
        piaf_groups(args, corpus, config)
    if args.trace_only:
        return 0
    calibrator = train(args)
    args.dest.mkdir(parents=True, exist_ok=True)
    (args.dest / CALIBRATOR_FILE).write_text(json.dumps(calibrator, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: calibrator[k] for k in ("answer_threshold", "relevant_threshold", "dev_figures")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
