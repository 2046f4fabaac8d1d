"""Sentence scoring: the sentences of retrieved passages, scored against the question.

A sentence's score adds its embedding similarity to the question (vectors stored at
ingestion), its keyword overlap weighted by rarity and a little for its passage's rank. On
the default path the scores only order the answer units before the reader reads the best
of them; with the reader off (`PASSERELLE_READER=0`) they choose the quoted sentences.
`AnswerConfig` holds the weights and every other setting of the answer path (`bot.answering`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

from bot.answering.query import Query
from bot.answering.retrieve import Passage
from kb.store import KnowledgeBase, SearchFilter
from kb.text import keyword_terms


@dataclass(frozen=True)
class AnswerConfig:
    """Sentence scoring and abstention; calibrated on the development set (`python -m evals`)."""

    # Dev set (with the former kind-of-fact cue): 12 passages gave fact 0.821 against 0.795
    # with 8, and one wrong answer fewer.
    passages_for_sentences: int = 12
    # On the reader path, this many passages in the other language than the question's are
    # read besides the best `passages_for_sentences` of the ranking, so the reader judges
    # across languages.
    other_language_passages: int = 2
    # Follow-ups decided by the learned model of `bot.followup` rather than the rules of
    # `bot.conversation`. Off: on the report conversations it borrowed for 4 complete questions
    # the rules read right (`python -m evals.conversations --semantic-followups`).
    semantic_followups: bool = False
    # On the reader path, added to the scores of the sentences of those other-language passages,
    # which order the units the reader reads (`bot.answering.evidence.gather_evidence`): the one
    # former cross-language cue kept, as an input of the reader, never a veto. Without it the
    # English minutes' "16 September 2026" is not among the units read for "Quand la deuxième
    # réunion du comité de pilotage conjoint aura-t-elle lieu ?" (tests/bot/answering/
    # test_pipeline.py); 0.08 is the former scorer bonus.
    other_language_prerank: float = 0.08
    dense_weight: float = 1.0
    overlap_weight: float = 0.1
    passage_weight: float = 0.02
    # Re-calibrated on evals/data/dev_questions.jsonl (`evals.calibrate.calibrate`, sample
    # corpus) once the scorer's hand-written cues were removed: threshold 0.885 with penalty
    # 0.4 makes the fewest wrong decisions, 58 of 158 (0.895 / 0.3, the values chosen with
    # the cues, now make 59).
    abstain_below: float = 0.885
    unknown_penalty: float = 0.4
    max_sentences: int = 3
    # The reader (bot/answering/reader.py) picks the answer units and, with the calibrator, decides the
    # outcome; without it the sentence scores above and `abstain_below` do. None: as the
    # store's settings say (PASSERELLE_READER, on by default; 0 is the escape hatch).
    reader: bool | None = None
    # Quote a chosen list introduction with its items, a table row with its header, and,
    # for questions asking for a list or a summary, the whole run of items a chosen item is in.
    units: bool = True
    # Units sent to the reader, best first by `prerank` ("scorer": the sentence scores above,
    # "cosine": the embedding model alone). 8 rather than 24: the reader is fooled more often than
    # helped by units preranked lower. Fact in the first unit on questions nobody tuned on, 24 -> 8
    # (calibrator refitted): new kinds 0.55 -> 0.60 and blind 0.312 -> 0.312 (`python -m
    # evals.answers`), list items 0.50 -> 0.523 (`python -m evals.lists`), PIAF test 0.643 -> 0.643;
    # half the time per answer (`python -m evals.latency`).
    reader_candidates: int = 8
    # Besides those, the best sections of the passages read (a heading with the sentences or
    # list under it, `bot.answering.units.section_units`), scored by the reader like any unit:
    # a question asking for a list or a summary is answered by the section that holds it.
    # 0: none (the answers before sections, `python -m evals.lists`).
    section_candidates: int = 3
    # With an LLM configured, its excerpts are chosen from this many units and sections, all read:
    # writing takes seconds, and a small model copies a short sentence more faithfully than the
    # section the quoted answer may lead with (tests/bot/answering/test_llm_server.py).
    writer_candidates: int = 24
    writer_sections: int = 4
    prerank: str = "scorer"
    # They are read this many at a time, best-preranked first, until a unit's logit reaches
    # `reader_clear` (`bot.answering.reader.read_in_stages`); None: as the store's settings say
    # (PASSERELLE_READER_FIRST), 0: all at once.
    reader_first: int | None = None
    reader_clear: float = 3.0
    # Units of a stage that the reader's probe (`bot.answering.reader_layers.Probe`) guesses far below
    # the best after its first layers are not read to the end; off: every unit read whole
    # (`evals.latency`'s comparison row).
    reader_prune: bool = True
    # Abstain when no unit's reader logit reaches this (sigmoid: probability it answers).
    # Calibrated on the development set (`python -m evals.reader --calibrate`).
    reader_threshold: float = -1.285
    # On the reader path, the calibrator (`bot.answering.abstain`) decides between answered, to check
    # and not in the documents; off: the single reader threshold above decides (the
    # comparison `make bench` prints).
    calibrated: bool = True
    # Further units are quoted when their logit is within this of the best one (dev: the
    # margin with the most facts).
    reader_margin: float = 2.0
    # Reuse the reader's remembered logits of (question, unit) pairs read before; None: as
    # the store's settings say (PASSERELLE_READER_CACHE, on by default). Off: `evals.latency`'s
    # "before" row.
    reader_cache: bool | None = None
    # A wider margin adds a fact now and then but pads answers with weaker quotes
    # (dev set: 0.12 gave fact 0.538 vs 0.487 but 2.75 citations per answer vs 1.35).
    extra_sentence_margin: float = 0.03
    redundancy: float = 0.92


@dataclass
class ScoredSentence:
    """A sentence of a retrieved passage (its span in the document text) with its score."""

    passage: Passage
    start: int
    end: int
    vector: np.ndarray
    score: float = 0.0


@dataclass(frozen=True)
class _QueryTerms:
    """The question's keyword terms with their IDF weights in the readable documents."""

    terms: set[str]
    idf: dict[str, float]
    mass: float

    def overlap(self, words: set[str]) -> float:
        """IDF share of the terms found in `words`."""
        return sum(self.idf[t] for t in self.terms & words) / self.mass


class _SentenceScorer:
    """Scores the sentences of one question's passages (`score_sentences`)."""

    def __init__(self, terms: _QueryTerms, config: AnswerConfig) -> None:
        self.terms = terms
        self.config = config
        self.headings: dict[str, set[str]] = {}

    def _words(self, sentence: ScoredSentence, text: str) -> set[str]:
        # The section heading often carries the subject the sentence leaves implicit.
        section = sentence.passage.section
        if section not in self.headings:
            self.headings[section] = set(keyword_terms(section))
        return set(keyword_terms(text)) | self.headings[section]

    def score(self, sentence: ScoredSentence, text: str, cosine: float, rank: int) -> None:
        """Set the sentence's score."""
        config = self.config
        overlap = self.terms.overlap(self._words(sentence, text))
        sentence.score = float(
            config.dense_weight * cosine + config.overlap_weight * overlap + config.passage_weight / (1 + rank)
        )


def score_sentences(
    kb: KnowledgeBase, query: Query, query_vector: np.ndarray, passages: Sequence[Passage],
    config: AnswerConfig, where: SearchFilter,
) -> tuple[list[ScoredSentence], float]:
    """Candidate sentences best first, and the share of the question the readable documents
    know nothing about (IDF mass of query terms found in no readable passage)."""
    query_terms = set(keyword_terms(query.search))
    counts, total, in_language = kb.term_frequencies(sorted(query_terms), where, query.language)
    idf = {t: math.log(1 + total / (1 + counts.get(t, 0))) for t in query_terms}
    terms = _QueryTerms(query_terms, idf, sum(idf.values()) or 1.0)
    # An ordinary word missing from documents mostly written in another language says
    # nothing (its translation may be there); a missing name still does.
    names_only = in_language < total / 2
    unknown = unknown_share(query.salient, counts, names_only)

    sentences, ranks = _passage_sentences(kb, passages)
    if not sentences:
        return [], unknown
    texts = _texts(kb, sentences)
    dense = np.stack([s.vector for s in sentences]) @ query_vector
    scorer = _SentenceScorer(terms, config)
    for sentence, text, cosine, rank in zip(sentences, texts, dense, ranks):
        scorer.score(sentence, text, cosine, rank)
    return sorted(sentences, key=lambda s: s.score, reverse=True), unknown


def _passage_sentences(kb: KnowledgeBase, passages: Sequence[Passage]) -> tuple[list[ScoredSentence], list[int]]:
    """The sentences of `passages` (each document position once) with their passage's rank."""
    seen: set[tuple[str, int]] = set()
    sentences: list[ScoredSentence] = []
    ranks: list[int] = []
    for rank, passage in enumerate(passages):
        for start, end, vector in kb.sentences_in(passage.doc_id, passage.start, passage.end):
            if (passage.doc_id, start) in seen:
                continue
            seen.add((passage.doc_id, start))
            sentences.append(ScoredSentence(passage, start, end, vector))
            ranks.append(rank)
    return sentences, ranks


def unknown_share(salient: Sequence[tuple[str, bool]], counts: Mapping[str, int], names_only: bool = False) -> float:
    """Share of the question's salient words (`Query.salient`: each word with whether it is
    a name) that no readable passage contains.

    Salient: names and acronyms (capitalised, not first word) and long words. Short
    verbs and function words ("venue", "eu") are often absent from documents that do
    answer, so they do not count; with `names_only`, long words do not count either.
    """
    salient_count = unknown = 0
    for word, is_name in salient:
        terms = [t for t in keyword_terms(word) if t in counts]
        if not terms:
            continue
        if is_name or (len(word) >= 7 and not names_only):
            salient_count += 1
            unknown += all(counts[t] == 0 for t in terms)
    return unknown / salient_count if salient_count else 0.0


def _texts(kb: KnowledgeBase, sentences: Iterable[ScoredSentence]) -> list[str]:
    cache: dict[str, str] = {}
    result = []
    for s in sentences:
        doc_id = s.passage.doc_id
        if doc_id not in cache:
            cache[doc_id] = kb.document_text(doc_id) or ""
        result.append(cache[doc_id][s.start : s.end])
    return result
