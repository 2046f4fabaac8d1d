"""Does a question borrow the subject of the conversation? Decided by meaning, not by rules alone.

`bot.conversation` keeps the subject of a conversation and builds, for each question, the
search query it would have as a follow-up (the question, then what the subject is about, or
the subject with a new noun phrase swapped in). Whether the question uses that query or is
searched as asked is decided here, from what the question means and what it retrieves:

- `gain`: how much better the follow-up query is matched by the best passage (dense cosine of
  the embedding model, among what the role may read) than the question alone. A question that
  cannot be understood alone ("Combien de temps dure-t-elle ?") retrieves little by itself and
  much with the subject; a complete new question ("Who signed the memorandum with the
  CEAC?") retrieves its own passages and gains nothing from an unrelated subject;
- `alone_best`: how well the question alone is matched;
- `relatedness`: the cosine between the question and the subject (a question on the same
  matter is more likely to lean on it);
- `rules_alone`: the rules' reading (`bot.conversation.stands_alone`: a pronoun pointing back,
  "Et…", nothing named), one signal among the others;
- `content_words`: how much the question says by itself (its content words, up to 6, over 6);
- `new_name`: the question names something (an acronym, a capitalised name) the subject does
  not: a new question about something else ("Who signed the memorandum with the CEAC?").

A logistic regression over these signals (`FollowUpModel`, `bot/followup_model.json`) gives the
probability that the question is a follow-up; it borrows the subject at 0.5 or more. It was
fitted by `python -m tools.fit_followups` on the development conversations
(`evals/data/conversations_dev.jsonl`), never on the report set `evals/data/conversations.jsonl`.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from bot.answering.conversation import content_terms, names, stands_alone
from bot.answering.query import Query, bounded_history, contextual_query
from kb.store import KnowledgeBase, SearchFilter
from kb.text import fold

MODEL_FILE = Path(__file__).with_name("followup_model.json")
FEATURES = ("gain", "alone_best", "relatedness", "rules_alone", "content_words", "new_name")
_MAX_CONTENT_WORDS = 6
_WORD = re.compile(r"[^\W_]+(?:[-–][^\W_]+)*")


@dataclass(frozen=True)
class FollowUpModel:
    """Logistic regression over `FEATURES` (in that order): P(the question is a follow-up)."""

    coefficients: tuple[float, ...]
    intercept: float
    threshold: float = 0.5

    def probability(self, signals: Mapping[str, float]) -> float:
        """The probability that a question with these `signals` borrows the subject."""
        z = self.intercept + sum(w * signals[name] for w, name in zip(self.coefficients, FEATURES))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def borrows(self, signals: Mapping[str, float]) -> bool:
        """Does a question with these `signals` borrow the subject?"""
        return self.probability(signals) >= self.threshold

    @classmethod
    def from_dict(cls, data: Mapping) -> "FollowUpModel":
        """The model as `to_dict` (and `bot/followup_model.json`) writes it; ValueError when the
        features do not match `FEATURES`."""
        if tuple(data.get("features", ())) != FEATURES:
            raise ValueError(f"follow-up model features {data.get('features')} are not {list(FEATURES)}")
        return cls(tuple(float(w) for w in data["coefficients"]), float(data["intercept"]),
                   float(data.get("threshold", 0.5)))

    def to_dict(self) -> dict:
        """The model's coefficients, named, for the JSON file."""
        return {"features": list(FEATURES), "coefficients": list(self.coefficients), "intercept": self.intercept,
                "threshold": self.threshold}


@functools.lru_cache(maxsize=1)
def load_model(path: Path = MODEL_FILE) -> FollowUpModel:
    """The committed follow-up model (read once)."""
    return FollowUpModel.from_dict(json.loads(path.read_text(encoding="utf-8")))


def lexical_signals(question: str, subject: str) -> dict[str, float]:
    """The signals read from the words of the question and the subject (`rules_alone`,
    `content_words`, `new_name`)."""
    known = {fold(word) for word in _WORD.findall(subject)}
    return {"rules_alone": 1.0 if stands_alone(question) else 0.0,
            "content_words": min(len(content_terms(question)), _MAX_CONTENT_WORDS) / _MAX_CONTENT_WORDS,
            "new_name": 1.0 if any(fold(name) not in known for name in names(question)) else 0.0}


def semantic_signals(alone: Sequence[float], follow_up: Sequence[float], subject: Sequence[float],
                     alone_best: float, follow_up_best: float) -> dict[str, float]:
    """The signals read from the embeddings of the question (`alone`), of its follow-up query
    and of the subject, and the best dense cosine each query finds among the passages."""
    a, s = np.asarray(alone, dtype=np.float32), np.asarray(subject, dtype=np.float32)
    relatedness = float(a @ s / ((np.linalg.norm(a) * np.linalg.norm(s)) or 1.0))
    return {"gain": follow_up_best - alone_best, "alone_best": alone_best, "relatedness": relatedness}


class FollowUpDecision:
    """The decision of `bot.conversation.resolve` (`Borrows`) for one search: embeddings and
    dense searches over `kb` with `where` (what the role may read), and `model`."""

    def __init__(self, kb: KnowledgeBase, where: SearchFilter, model: FollowUpModel | None = None) -> None:
        self.kb, self.where = kb, where
        self.model = model or load_model()
        self._vectors: dict[str, np.ndarray] = {}
        self._best: dict[str, float] = {}

    def signals(self, question: str, subject: str, borrowed: str) -> dict[str, float]:
        """All `FEATURES` for `question` after `subject`, `borrowed` being its follow-up query."""
        semantic = semantic_signals(self._vector(question), self._vector(borrowed), self._vector(subject),
                                    self._best_cosine(question), self._best_cosine(borrowed))
        return {**semantic, **lexical_signals(question, subject)}

    def __call__(self, question: str, subject: str, borrowed: str) -> bool:
        return self.model.borrows(self.signals(question, subject, borrowed))

    def _vector(self, text: str) -> np.ndarray:
        if text not in self._vectors:
            self._vectors[text] = np.asarray(self.kb.embeddings.embed_query(text), dtype=np.float32)
        return self._vectors[text]

    def _best_cosine(self, text: str) -> float:
        if text not in self._best:
            from bot.answering.retrieve import dense_search  # the retrieval stage, loaded with the answer path

            hits = dense_search(self.kb, self._vector(text), 1, self.where)
            self._best[text] = hits[0][1] if hits else 0.0
        return self._best[text]


def resolved_query(kb: KnowledgeBase, query: Query, history: Sequence[Any], where: SearchFilter) -> Query:
    """`query` with the search query of its conversation decided by meaning (`FollowUpDecision`
    over what `where` allows) rather than by the rules `parse_query` applied."""
    if not history:
        return query
    search = contextual_query(query.question, bounded_history(history, query.language), FollowUpDecision(kb, where))
    return query if search == query.search else replace(query, search=search)
