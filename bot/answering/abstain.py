"""How sure the answer is: selective answering from the reader's evidence.

No single signal separates an answer from a near miss (a question on topic whose detail the
documents do not state): the reader's best logit, the best unit's cosine and the best
passage's dense score each do little on their own. A small calibrator combines them. Two
logistic regressions over the same `signals` of a question's evidence, trained by
`python -m tools.train_calibrator` and committed beside the reader's weights
(`bot/reader_model/calibrator.json`):

- `answers`: the probability that the reader's first unit holds the answer;
- `relevant`: the probability that the documents are about the question at all.

Three outcomes follow, with thresholds chosen on development questions:

- **answered**: `answers` clears the threshold chosen for precision: the units are quoted
  as the answer;
- **to check**: the documents are about the question but the answer is not sure: the best
  units are shown as places to look, nothing is presented as the answer;
- **not in the documents**: nothing relevant was retrieved (an off-topic question).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from bot.answering.reader import READER_DIR, ReaderError, overlap_share
from kb.text import keyword_terms

if TYPE_CHECKING:
    from bot.answering.evidence import Evidence

CALIBRATOR_FILE = "calibrator.json"
ANSWERED, TO_CHECK, NOT_IN_DOCUMENTS = "answered", "to_check", "not_in_documents"
OUTCOMES = (ANSWERED, TO_CHECK, NOT_IN_DOCUMENTS)
# The signals, in the order of the calibrator's coefficients.
SIGNALS = (
    "best_logit", "margin", "top3_logit", "best_cosine", "best_dense", "best_fused", "unknown",
    "best_overlap", "top5_overlap", "other_language", "positive_units",
)
# A margin is the gap to the best unit elsewhere; with none elsewhere it is capped here.
MAX_MARGIN = 8.0


def signals(evidence: "Evidence") -> dict[str, float]:
    """The evidence's signals for the calibrator: the reader's logits (best, gap to the best
    unit that does not overlap it, mean of the best three), the embedding model's cosine of
    the best unit, the best passage's dense and fused scores, the share of the question the
    documents know nothing about, the question's keywords found in the best units, whether
    the best unit is in the other language, and the share of units the reader finds likely.
    `evidence.candidates` must have been read (best first).

    Section units (`bot.answering.units.section_units`) are left out: the calibrator was
    fitted on evidence without them, and with them it answered fewer of the new-kinds
    questions (`python -m evals.answers`); they change which unit is quoted, not the
    decision, until it is refitted on evidence that has them."""
    ranked = [c for c in evidence.candidates if c.unit.kind != "section"] or evidence.candidates
    if not ranked:
        raise ValueError("signals need read candidates")
    best = ranked[0]
    elsewhere = [c.logit for c in ranked[1:] if not _overlaps(best, c)]
    margin = min(MAX_MARGIN, best.logit - elsewhere[0]) if elsewhere else MAX_MARGIN
    terms = set(keyword_terms(evidence.query))
    overlaps = [overlap_share(terms, c.passage.title + " " + c.passage.section, c.unit.reading) for c in ranked[:5]]
    dense = [p.dense for p in evidence.reading if p.dense is not None]
    return {
        "best_logit": best.logit,
        "margin": margin,
        "top3_logit": sum(c.logit for c in ranked[:3]) / len(ranked[:3]),
        "best_cosine": best.cosine,
        "best_dense": max(dense) if dense else 0.0,
        "best_fused": evidence.reading[0].score if evidence.reading else 0.0,
        "unknown": evidence.unknown,
        "best_overlap": overlaps[0],
        "top5_overlap": max(overlaps),
        "other_language": float(best.passage.language != evidence.language),
        "positive_units": sum(c.logit > 0 for c in ranked) / len(ranked),
    }


def _overlaps(a: Any, b: Any) -> bool:
    return a.passage.doc_id == b.passage.doc_id and a.unit.start < b.unit.end and b.unit.start < a.unit.end


@dataclass(frozen=True)
class Logistic:
    """A logistic regression over standardised signals."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def probability(self, values: Sequence[float]) -> float:
        """P(positive) for one row of signal values (in `SIGNALS` order)."""
        z = self.intercept + sum(c * (v - m) / s for c, v, m, s in zip(self.coef, values, self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Logistic":
        """From the calibrator file's form."""
        return cls(tuple(data["mean"]), tuple(data["scale"]), tuple(data["coef"]), float(data["intercept"]))


@dataclass(frozen=True)
class Decision:
    """The outcome of one question, how likely its first unit answers, and the signals."""

    outcome: str
    confidence: float
    relevance: float
    signals: Mapping[str, float]


@dataclass(frozen=True)
class Calibrator:
    """The two regressions and their thresholds (`answer_threshold` on `answers`,
    `relevant_threshold` on `relevant`)."""

    signals: tuple[str, ...]
    answers: Logistic
    relevant: Logistic
    answer_threshold: float
    relevant_threshold: float

    def decide(self, evidence: "Evidence") -> Decision:
        """The outcome for read `evidence`; nothing read is not in the documents."""
        if not evidence.candidates:
            return Decision(NOT_IN_DOCUMENTS, 0.0, 0.0, {})
        found = signals(evidence)
        values = [found[name] for name in self.signals]
        confidence = self.answers.probability(values)
        relevance = self.relevant.probability(values)
        if confidence >= self.answer_threshold:
            outcome = ANSWERED
        elif relevance >= self.relevant_threshold:
            outcome = TO_CHECK
        else:
            outcome = NOT_IN_DOCUMENTS
        return Decision(outcome, confidence, relevance, found)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Calibrator":
        """From the calibrator file's form (see `tools.train_calibrator`)."""
        names = tuple(data["signals"])
        unknown = sorted(set(names) - set(SIGNALS))
        if unknown:
            raise ReaderError(f"the calibrator uses unknown signals {unknown}: retrain it (python -m tools.train_calibrator)")
        return cls(names, Logistic.from_dict(data["answers"]), Logistic.from_dict(data["relevant"]),
                   float(data["answer_threshold"]), float(data["relevant_threshold"]))


def load_calibrator(directory: Path | str = READER_DIR) -> Calibrator:
    """The committed calibrator in `directory` (read once per folder)."""
    return _load(str(directory))


@functools.lru_cache(maxsize=4)
def _load(directory: str) -> Calibrator:
    path = Path(directory) / CALIBRATOR_FILE
    if not path.is_file():
        raise ReaderError(f"the answer calibrator {path} is missing: run `python -m tools.train_calibrator`")
    try:
        return Calibrator.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ReaderError(f"the answer calibrator {path} is unreadable ({exc}): run `python -m tools.train_calibrator`") from None
