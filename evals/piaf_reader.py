"""The reader on PIAF v1.0, with the fixed split (shared/benchmarks/piaf/split.json).

- `sentence_rank1`: given the gold paragraph, is the answer sentence ranked first? Reader
  against the embedding model's cosine, same questions, same run.
- `whole_system`: `bot.answer` (retrieve + read) as the reader role over a store of every
  PIAF paragraph: is the gold answer text in the answer or its cited quotes? Reader against
  the previous sentence scorer (`AnswerConfig(reader=False)`), same store, same run.

    python -m evals.piaf_reader [--split test] [--limit N] [--whole-system]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kb.settings import PROJECT_ROOT
from kb.text import sentence_spans

log = logging.getLogger(__name__)

PIAF_DIR = PROJECT_ROOT.parent / "shared" / "benchmarks" / "piaf"
PIAF_FILE = PIAF_DIR / "piaf-v1.0.json"
SPLIT_FILE = PIAF_DIR / "split.json"


@dataclass
class Paragraph:
    """A PIAF paragraph split into sentences, with its article title and split name."""

    title: str
    text: str
    spans: list[tuple[int, int]]
    split: str

    def sentence(self, i: int) -> str:
        start, end = self.spans[i]
        return self.text[start:end]


@dataclass
class Question:
    """A PIAF question with its paragraph, the index of the sentence holding the answer and
    the answer text."""

    text: str
    paragraph: int
    gold: int
    answer: str
    split: str


def clean_title(title: str) -> str:
    """An article title without its HTML markup."""
    return re.sub(r"<[^>]+>", "", title).strip()


def normalise(text: str) -> str:
    """Case-, accent- and spacing-insensitive form."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return re.sub(r"\s+", " ", "".join(c for c in text if not unicodedata.combining(c))).strip()


def load(piaf: Path = PIAF_FILE, split_path: Path = SPLIT_FILE) -> tuple[list[Paragraph], list[Question]]:
    """Every paragraph of the split's articles and every question whose answer starts inside
    one of its paragraph's sentences."""
    split = json.loads(Path(split_path).read_text(encoding="utf-8"))
    which = {title: name for name in ("train", "dev", "test") for title in split[name]}
    paragraphs: list[Paragraph] = []
    questions: list[Question] = []
    for article in json.loads(Path(piaf).read_text(encoding="utf-8"))["data"]:
        part = which.get(article["title"])
        if part is None:
            continue
        for para in article["paragraphs"]:
            spans = sentence_spans(para["context"])
            if not spans:
                continue
            paragraphs.append(Paragraph(clean_title(article["title"]), para["context"], spans, part))
            for qa in para["qas"]:
                answer = qa["answers"][0]
                gold = next((i for i, (s, e) in enumerate(spans) if s <= answer["answer_start"] < e), None)
                if gold is not None:
                    questions.append(Question(qa["question"], len(paragraphs) - 1, gold, answer["text"], part))
    return paragraphs, questions


def article_documents(store: Any) -> dict[str, tuple[str, ...]]:
    """The document ids of each article of a PIAF store (`evals.piaf.build_store`), by
    normalised article title: what to leave out to ask a question without its own article."""
    found: dict[str, list[str]] = {}
    for doc_id, record in store.documents().items():
        found.setdefault(normalise(record.title), []).append(doc_id)
    return {title: tuple(ids) for title, ids in found.items()}


def own_article(documents: dict[str, tuple[str, ...]], paragraph: Paragraph) -> tuple[str, ...]:
    """The ids of the documents of `paragraph`'s article (`article_documents`)."""
    return documents.get(normalise(paragraph.title.replace("_", " ")), ())


def evenly(items: Sequence[Any], limit: int | None) -> list[Any]:
    """`limit` items spread evenly over `items` (all of them without a limit)."""
    if not limit or limit >= len(items):
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def sentence_rank1(paragraphs: Sequence[Paragraph], questions: Sequence[Question], reader: Any, embeddings: Any) -> dict[str, float]:
    """Share of `questions` whose answer sentence comes first among its paragraph's
    sentences, for the reader and for the embedding model's cosine."""
    used = sorted({q.paragraph for q in questions})
    texts = {p: [f"{paragraphs[p].title}: {paragraphs[p].sentence(i)}" for i in range(len(paragraphs[p].spans))] for p in used}
    flat = [t for p in used for t in texts[p]]
    vectors = embeddings.encode_passages(flat)
    rows, at = {}, 0
    for p in used:
        rows[p] = vectors[at : at + len(texts[p])]
        at += len(texts[p])
    queries = embeddings.encode_queries([q.text for q in questions])
    reader_hits = cosine_hits = 0
    for q, qv in zip(questions, queries):
        para = paragraphs[q.paragraph]
        cosines = rows[q.paragraph] @ qv
        logits = reader.score(q.text, [(para.title, para.sentence(i)) for i in range(len(para.spans))], cosines).logits
        reader_hits += int(np.argmax(logits) == q.gold)
        cosine_hits += int(np.argmax(cosines) == q.gold)
    n = max(1, len(questions))
    return {"questions": len(questions), "reader": round(reader_hits / n, 3), "cosine": round(cosine_hits / n, 3)}


def whole_system(store: Any, questions: Sequence[Question], config: Any) -> dict[str, Any]:
    """`bot.answer` as the reader role on a PIAF store: gold answer text in the answer or
    its cited quotes, share declined, and latency."""
    from bot.answering import answer

    found = declined = 0
    seconds = []
    for q in questions:
        started = time.perf_counter()
        result = answer(q.text, role="reader", kb=store, config=config)
        seconds.append(time.perf_counter() - started)
        shown = normalise(" ".join([result.answer] + [s.quote for s in result.sources if s.cited]))
        declined += result.abstained
        found += (not result.abstained) and normalise(q.answer) in shown
    n = max(1, len(questions))
    seconds.sort()
    return {"questions": len(questions), "gold_answer_shown": round(found / n, 3), "declined": round(declined / n, 3),
            "p50_ms": round(1000 * seconds[len(seconds) // 2], 1) if seconds else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.piaf_reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--limit", type=int, help="questions, spread evenly over the split (default: all)")
    parser.add_argument("--whole-system", action="store_true", help="also run bot.answer over a store of every PIAF paragraph")
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "bench-results" / "piaf", help="folder of the PIAF store (shared with python -m evals)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from bot.answering import AnswerConfig
    from bot.answering.reader import load_reader
    from kb.embeddings import load_embeddings
    from kb.settings import Settings

    paragraphs, questions = load()
    chosen = evenly([q for q in questions if q.split == args.split], args.limit)
    settings = Settings.from_env()
    results: dict[str, Any] = {"sentence_rank1": sentence_rank1(
        paragraphs, chosen, load_reader(), load_embeddings(settings.embedding_model, settings.embedding_precision))}
    print(f"PIAF {args.split}, answer sentence first given its paragraph: {results['sentence_rank1']}")
    if args.whole_system:
        from evals.piaf import build_store

        store, _, _ = build_store(PIAF_FILE, args.work, precision=settings.embedding_precision)
        config = AnswerConfig()
        results["whole_system"] = {"reader": whole_system(store, chosen, replace(config, reader=True)),
                                   "scorer": whole_system(store, chosen, replace(config, reader=False))}
        print(f"PIAF {args.split}, whole system (role reader): {results['whole_system']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
