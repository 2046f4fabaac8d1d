"""In-domain training lists for the reader: the project's own questions over the sample corpus.

The corpus development and test questions (`evals/data/dev_questions.jsonl`,
`evals/data/corpus_questions.jsonl`) are asked of the sample corpus store, read as the answer
path reads it: answer units (`bot.units`) of each chunk's stored sentences, each with the
context the reader is given (`bot.selection.reader_context`: title, date and the section
path, so a FAQ answer is read with the heading that asks its question).

- answerable: the gold unit is the unit of a gold document that holds the most expected facts
  (then the shortest); its negatives come from the **same document**, nearest first (the
  neighbouring FAQ answers, the other rows of its table, the quoted message under an e-mail
  reply, the other sentences of its passage), then the units of other documents the embedding
  model ranks highest; none of them holds an expected fact;
- unanswerable (on topic, the detail is not stated): the units the embedding model ranks
  highest over the whole store, target "not in the documents".

Follow-up questions (they need their history) and restricted ones (the answer exists but the
asker may not read it) are left out. The blind, new-kinds, conversation and off-topic sets are
never used: they stay report sets. Once these sets join training they stop being report sets.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bot.answering.retrieve import _passage
from bot.answering.selection import reader_context
from bot.answering.units import answer_units
from evals.corpus import DEV_QUESTIONS, QUESTIONS, holds, load_questions

log = logging.getLogger("train_reader")

# Only the sets the project tuned on; the others are report sets and refused.
CORPUS_SETS = {"dev": DEV_QUESTIONS, "test": QUESTIONS}
DEFAULT_CORPUS_SETS = "dev,test"
LEFT_OUT = frozenset({"followup", "restricted"})


class CorpusDataError(ValueError):
    """The in-domain examples cannot be built; the message says why."""


@dataclass(frozen=True)
class CorpusUnit:
    """An answer unit of the sample corpus as the reader reads it."""

    path: str
    start: int
    end: int
    kind: str
    context: str
    reading: str
    vectors: np.ndarray  # stored sentence vectors of its members: its cosine is their best

    @property
    def heading_asks(self) -> bool:
        """Is the section heading it is read under a question (a FAQ answer)?"""
        return self.context.rstrip().endswith("?")

    def cosine(self, query_vector: np.ndarray) -> float:
        """The embedding model's cosine, as the answer path computes it (best member)."""
        return float(np.max(self.vectors @ query_vector))


@dataclass
class CorpusQuestion:
    """A corpus question with its gold unit (None: unanswerable) and its negatives from the
    gold unit's own document, nearest first."""

    id: str
    text: str
    expected: tuple[str, ...]
    gold: int | None
    same_document: list[int]


def parse_sets(value: str) -> list[str]:
    """The set names of `--corpus-sets` ("dev,test"; "none" or "" for none)."""
    names = [n.strip() for n in value.split(",") if n.strip() and n.strip() != "none"]
    unknown = [n for n in names if n not in CORPUS_SETS]
    if unknown:
        raise CorpusDataError(f"unknown corpus question set(s) {unknown}: choose among {sorted(CORPUS_SETS)} "
                              "(the blind, new-kinds, conversation and off-topic sets stay report sets)")
    return names


def document_units(kb: Any, doc_id: str) -> list[CorpusUnit]:
    """The answer units of one stored document, chunk by chunk, in document order."""
    text = kb.document_text(doc_id) or ""
    rows = sorted(kb.chunks_by_id(sorted(kb.chunk_ids_of(doc_id))).values(), key=lambda r: r["start"])
    units: dict[tuple[int, int], CorpusUnit] = {}
    for row in rows:
        sentences = kb.sentences_in(doc_id, row["start"], row["end"])
        if not sentences:
            continue
        vector = {s: np.asarray(v, dtype=np.float32) for s, _, v in sentences}
        # The reader's context exactly as the answer path builds it from a retrieved chunk.
        context = reader_context(_passage(row, 0.0, None, None))
        for unit in answer_units(text, [(s, e) for s, e, _ in sentences]):
            key = (unit.start, unit.end)
            # A table row is also a sentence of the same span: the row, read with its header's
            # labels, is the one kept.
            if key not in units or unit.kind == "row":
                vectors = np.stack([vector[m[0]] for m in unit.members])
                units[key] = CorpusUnit(row["path"], unit.start, unit.end, unit.kind, context, unit.reading, vectors)
    return sorted(units.values(), key=lambda u: (u.start, u.end))


def _facts_held(unit: CorpusUnit, expected: Sequence[str]) -> int:
    return sum(holds(unit.reading, [fact]) for fact in expected)


def gold_unit(units: Sequence[CorpusUnit], candidates: Sequence[int], expected: Sequence[str]) -> int | None:
    """Among `candidates` (unit indexes), the one holding the most expected facts, then the
    shortest; None when none holds one."""
    scored = [(_facts_held(units[i], expected), -len(units[i].reading), i) for i in candidates]
    scored = [s for s in scored if s[0] > 0]
    return max(scored)[2] if scored else None


def same_document_negatives(units: Sequence[CorpusUnit], document: Sequence[int], gold: int,
                            expected: Sequence[str]) -> list[int]:
    """The units of the gold unit's document that hold no expected fact and do not overlap one
    another, nearest to it first (the other rows of its table first when it is a table row)."""
    g = units[gold]

    def key(i: int) -> tuple[int, int]:
        u = units[i]
        return (0 if g.kind == "row" and u.kind == "row" else 1, abs(u.start - g.start))

    chosen: list[int] = []
    for i in sorted((i for i in document if i != gold and not _facts_held(units[i], expected)), key=key):
        # A list and its own items say the same thing: one of them is enough.
        if not any(units[i].start < units[j].end and units[j].start < units[i].end for j in chosen):
            chosen.append(i)
    return chosen


def load_corpus(kb: Any, sets: Sequence[str]) -> tuple[list[CorpusUnit], list[CorpusQuestion]]:
    """Every unit of the store and the usable questions of `sets` with their gold unit."""
    units: list[CorpusUnit] = []
    by_path: dict[str, list[int]] = {}
    for doc_id, record in kb.documents().items():
        found = document_units(kb, doc_id)
        by_path[record.path] = list(range(len(units), len(units) + len(found)))
        units.extend(found)
    if not units:
        raise CorpusDataError("the corpus store holds no document: run `python -m ingest corpus --store STORE`")
    questions, missing = [], []
    for name in sets:
        for q in load_questions(CORPUS_SETS[name]):
            if q.get("history") or q.get("category") in LEFT_OUT:
                continue
            expected = tuple(q.get("expected") or ())
            if not q.get("answerable"):
                questions.append(CorpusQuestion(q["id"], q["question"], expected, None, []))
                continue
            pool = [i for path in q.get("gold") or () for i in by_path.get(path, [])]
            gold = gold_unit(units, pool, expected)
            if gold is None:
                missing.append(q["id"])
                continue
            document = by_path[units[gold].path]
            questions.append(CorpusQuestion(q["id"], q["question"], expected, gold,
                                            same_document_negatives(units, document, gold, expected)))
    if missing:
        log.warning("no unit of the gold documents holds the expected fact for %d question(s): %s", len(missing),
                    ", ".join(missing))
    return units, questions


def _ranked(units: Sequence[CorpusUnit], query_vector: np.ndarray) -> list[int]:
    cosines = np.array([u.cosine(query_vector) for u in units])
    return [int(i) for i in np.argsort(-cosines, kind="stable")]


def corpus_lists(units: Sequence[CorpusUnit], questions: Sequence[CorpusQuestion], rows: Sequence[int],
                 query_vectors: np.ndarray, rng: random.Random, same_document: int = 4,
                 other_documents: int = 2, unanswerable: int = 7) -> list[tuple[int, list[int], int]]:
    """One pass of lists (question row, unit indexes, target: 0 = not in the documents, i+1 =
    unit i); `rows[k]` is question k's row in `query_vectors`."""
    lists = []
    for q, row in zip(questions, rows):
        ranked = _ranked(units, query_vectors[row])
        if q.gold is None:
            lists.append((row, ranked[:unanswerable], 0))
            continue
        gold_path = units[q.gold].path
        chosen = [q.gold] + q.same_document[:same_document]
        others = [i for i in ranked if units[i].path != gold_path and not _facts_held(units[i], q.expected)]
        chosen += others[:other_documents]
        order = list(range(len(chosen)))
        rng.shuffle(order)
        lists.append((row, [chosen[i] for i in order], order.index(0) + 1))
    return lists


def summary(units: Sequence[CorpusUnit], questions: Sequence[CorpusQuestion]) -> dict[str, int]:
    """Counts for the log and the model card."""
    answerable = [q for q in questions if q.gold is not None]
    return {"questions": len(questions), "answerable": len(answerable),
            "unanswerable": len(questions) - len(answerable), "units": len(units),
            "gold_rows": sum(units[q.gold].kind == "row" for q in answerable),
            "gold_lists": sum(units[q.gold].kind == "list" for q in answerable),
            "gold_under_a_question_heading": sum(units[q.gold].heading_asks for q in answerable),
            "same_document_negatives": sum(min(4, len(q.same_document)) for q in answerable)}


def open_store(store: Path) -> Any:
    """The corpus store at `store`, or a CorpusDataError saying how to build it."""
    from kb.settings import Settings
    from kb.store import KnowledgeBase

    kb = KnowledgeBase(Settings.from_env(store=store))
    if not kb.exists or kb.chunk_count() == 0:
        raise CorpusDataError(f"the corpus store {store} is empty: run `python -m ingest corpus --store {store}` "
                              "first, or train without the corpus questions (--corpus-sets none)")
    return kb
