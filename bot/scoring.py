"""Sentence scoring: the sentences of retrieved passages, scored against the question.

A sentence's score adds its embedding similarity to the question (vectors stored at
ingestion), its keyword overlap weighted by rarity (shared word beginnings across
languages), a little for its passage's rank, and bonuses for stating the kind of fact
asked and for being in the other language. `AnswerConfig` holds the weights and every
other setting of the answer path (`bot.answer`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import AbstractSet, Iterable, Mapping, Sequence

import numpy as np

from bot.query import Query
from bot.retrieve import Passage
from kb.dates import days
from kb.store import KnowledgeBase, SearchFilter
from kb.text import keyword_terms
from kb.vocabulary import STEM_PREFIX


@dataclass(frozen=True)
class AnswerConfig:
    """Sentence scoring and abstention; calibrated on the development set (`python -m evals`)."""

    # Dev set (weight 0.06 below): 12 passages gave fact 0.821 against 0.795 with 8, and one
    # wrong answer fewer.
    passages_for_sentences: int = 12
    # On the reader path, this many passages in the other language than the question's are
    # read besides the best `passages_for_sentences` of the ranking, so the reader judges
    # across languages.
    other_language_passages: int = 2
    # Follow-ups decided by the learned model of `bot.followup` rather than the rules of
    # `bot.conversation`. Off: on the report conversations it borrowed for 4 complete questions
    # the rules read right (`python -m evals.conversations --semantic-followups`).
    semantic_followups: bool = False
    dense_weight: float = 1.0
    overlap_weight: float = 0.1
    passage_weight: float = 0.02
    # A sentence stating the kind of fact asked for (a count, a date, an expansion…).
    # Dev set (12 passages): 0.03 gave fact 0.795, 0.06 0.821, 0.09 0.821 with one more
    # wrong answer.
    answer_type_weight: float = 0.06
    # Calibrated on evals/data/dev_questions.jsonl by `python -m evals --calibrate` (on this
    # machine, after the translation cue was removed): threshold 0.895 with penalty 0.3 and
    # bonus 0.04 makes the fewest wrong decisions (21 of 158). On PIAF's dev split it shows
    # the answer for 0.553 of the questions against 0.538 with the earlier 0.9.
    abstain_below: float = 0.895
    unknown_penalty: float = 0.3
    cross_lingual_bonus: float = 0.04
    # Sentences in the other language than the question's: the model's cosine is lower for
    # the same relevance and keyword overlap is small, so they get this much back. Dev set: 0
    # gave fact 0.538, 0.04 0.59, 0.08 0.692, 0.12 0.59; a bonus that only replaced missing
    # keyword overlap gave 0.615. With cognate overlap (143 questions, same wrong decisions
    # each): 0.04 gave 0.722, 0.06 0.759, 0.08 0.747, 0.1 0.684. The price: when both
    # languages state a fact, the other one may be quoted.
    other_language_sentence_bonus: float = 0.08
    # Keyword overlap with a sentence in the other language counts words sharing this many
    # first letters (0: exact terms only). Dev set (143 questions, each calibrated): 5 gave
    # 17 wrong decisions, 4, 6 and 7 gave 18, none 18; fact 0.747 with each against 0.734.
    # That is the vocabulary's own stem length, so both agree on what counts as the same word.
    cognate_prefix: int = STEM_PREFIX
    # A question naming a day ("the meeting on 19 May 2026") is answered only from passages
    # that name that day or documents dated that day. Dev set (158 questions): 3 wrong
    # answers fewer, no wrong abstention more; the same with the sentences either side only.
    named_day_check: bool = True
    max_sentences: int = 3
    # The reader (bot/reader.py) picks the answer units and decides abstention; without it
    # the sentence scores above and `abstain_below` do. None: as the store's settings say
    # (PASSERELLE_READER, off by default: on the development set the scorer does better).
    reader: bool | None = None
    # Quote a chosen list introduction with its items, a table row with its header, and,
    # for questions asking for a list or a summary, the whole run of items a chosen item is in.
    units: bool = True
    # Units sent to the reader, best first by `prerank` ("scorer": the sentence scores above,
    # "cosine": the embedding model alone).
    reader_candidates: int = 24
    prerank: str = "scorer"
    # Abstain when no unit's reader logit reaches this (sigmoid: probability it answers).
    # Calibrated on the development set (`python -m evals.reader --calibrate`).
    reader_threshold: float = -1.285
    # On the reader path, the calibrator (`bot.abstain`) decides between answered, to check
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
    bonus: float = 0.0
    typed: bool = False
    # States another year than the one the question asks about ("en 2026" for "pour 2027"),
    # or is about another day than the one it names.
    other_time: bool = False


@dataclass(frozen=True)
class _QueryTerms:
    """The question's keyword terms with their IDF weights in the readable documents."""

    terms: set[str]
    idf: dict[str, float]
    mass: float

    def overlap(self, words: set[str], cognate_prefix: int) -> float:
        """IDF share of the terms found in `words`; with `cognate_prefix`, a term also
        counts when a word shares its first `cognate_prefix` letters."""
        if cognate_prefix:
            # Across languages, shared word beginnings are the overlap: "automatic" and
            # "automatique", "administrative" and "administratifs" share their first letters.
            cut = cognate_prefix
            prefixes = {w[:cut] for w in words if len(w) >= cut}
            shared = [t for t in self.terms if t in words or len(t) >= cut and t[:cut] in prefixes]
        else:
            shared = list(self.terms & words)
        return sum(self.idf[t] for t in shared) / self.mass


class _SentenceScorer:
    """Scores the sentences of one question's passages (`score_sentences`)."""

    def __init__(self, query: Query, terms: _QueryTerms, passages: Sequence[Passage], config: AnswerConfig) -> None:
        self.language = query.language
        self.kind = query.kind
        self.terms = terms
        self.config = config
        self.asked_years = query.asked_years
        self.named_days = set(query.named_days) if config.named_day_check else set()
        self.passage_on_day = (
            {p.chunk_id: _passage_on_day(p, self.named_days) for p in passages} if self.named_days else {}
        )
        self.headings: dict[str, set[str]] = {}

    def _words(self, sentence: ScoredSentence, text: str) -> set[str]:
        # The section heading often carries the subject the sentence leaves implicit.
        section = sentence.passage.section
        if section not in self.headings:
            self.headings[section] = set(keyword_terms(section))
        return set(keyword_terms(text)) | self.headings[section]

    def _other_time(self, sentence: ScoredSentence, text: str) -> bool:
        other = False
        if self.asked_years:
            stated_years = set(_YEAR.findall(text))
            other = bool(stated_years) and not stated_years & self.asked_years
        if self.named_days and not other:
            # A sentence naming days is judged by them, one naming none by its passage.
            stated_days = days(text)
            on_day = bool(stated_days & self.named_days) if stated_days else self.passage_on_day[sentence.passage.chunk_id]
            other = not on_day
        return other

    def score(self, sentence: ScoredSentence, text: str, cosine: float, rank: int) -> None:
        """Set the sentence's score, bonus and flags."""
        config = self.config
        other_language = sentence.passage.language != self.language
        overlap = self.terms.overlap(self._words(sentence, text), config.cognate_prefix if other_language else 0)
        sentence.typed = self.kind is not None and self.kind.stated(text)
        sentence.other_time = self._other_time(sentence, text)
        typed = config.answer_type_weight if sentence.typed else 0.0
        crossing = config.other_language_sentence_bonus if other_language else 0.0
        sentence.bonus = crossing
        sentence.score = float(
            config.dense_weight * cosine + config.overlap_weight * overlap + config.passage_weight / (1 + rank)
            + typed + crossing
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
    # The words that ask for the kind of fact ("que signifie le sigle") are not its subject.
    unknown = unknown_share(query.salient, counts, names_only)

    sentences, ranks = _passage_sentences(kb, passages)
    if not sentences:
        return [], unknown
    texts = _texts(kb, sentences)
    dense = np.stack([s.vector for s in sentences]) @ query_vector
    scorer = _SentenceScorer(query, terms, passages, config)
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


_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")


def _iso_day(value: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"\d{4}-(\d\d)-(\d\d)", value or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def _passage_on_day(passage: Passage, wanted: AbstractSet[tuple[int, int]]) -> bool:
    """Is `passage` about one of the days a question names (`wanted` ("the meeting on 19 May
    2026"))? Its document is dated that day, or its title, section or text names it. (A
    sentence naming days of its own is judged by those instead.)"""
    return _iso_day(passage.date) in wanted or bool(days(f"{passage.title} {passage.section} {passage.text}") & wanted)


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
