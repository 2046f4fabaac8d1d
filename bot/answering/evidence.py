"""Evidence: the passages retrieved for a question and their scored sentences, with the
signals that decide whether the documents support an answer at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bot.answering.query import Query
from bot.answering.retrieve import FusionConfig, Passage, diversify, rank_passages, reading_passages
from bot.answering.scoring import AnswerConfig, ScoredSentence, score_sentences
from kb.store import KnowledgeBase, SearchFilter

if TYPE_CHECKING:
    from bot.answering.selection import Candidate


@dataclass
class Evidence:
    """What the answer is built from: passages, scored sentences and support signals."""

    language: str
    query_vector: np.ndarray
    passages: list[Passage]
    sentences: list[ScoredSentence]
    unknown: float
    # The search query (the question with the subject of a follow-up) and, once read, the
    # reader's candidates best first: the trace that evaluation and calibration read.
    query: str = ""
    candidates: list["Candidate"] = field(default_factory=list)
    # The passages whose sentences were scored (and, on the reader path, read): the best of
    # the fused ranking with no cap per document, where `passages` is the diversified list
    # shown as sources.
    reading: list[Passage] = field(default_factory=list)

    @property
    def strongest(self) -> ScoredSentence | None:
        """The sentence with the best score (the sentences are sorted best first)."""
        return self.sentences[0] if self.sentences else None

    @property
    def support(self) -> float:
        """Best sentence score (0 when there is none)."""
        best = self.strongest
        return best.score if best else 0.0


def gather_evidence(
    kb: KnowledgeBase, query: Query, where: SearchFilter,
    *, k: int = 5, config: AnswerConfig = AnswerConfig(), fusion: FusionConfig = FusionConfig(),
    for_reader: bool = False,
) -> Evidence:
    """Retrieve passages for a parsed question and score their sentences.

    `for_reader`: the sentences come from the best passages of the fused ranking with no
    cap per document (plus the other language's best, `AnswerConfig.other_language_passages`),
    so the reader is not denied the answer by the diversity of the sources list; otherwise
    from that diversified list, as the sentence scorer was calibrated on."""
    query_vector = np.asarray(kb.embeddings.embed_query(query.search), dtype=np.float32)
    ranked = rank_passages(kb, query.search, where, query_vector=query_vector, config=fusion, language=query.language)
    passages = diversify(ranked, max(k, config.passages_for_sentences), fusion)
    if for_reader:
        reading = reading_passages(ranked, config.passages_for_sentences, config.other_language_passages, query.language)
    else:
        reading = passages[: config.passages_for_sentences]
    sentences, unknown = score_sentences(kb, query, query_vector, reading, config, where)
    if for_reader and config.other_language_prerank:
        # The embedding model's cosine is lower across languages for the same relevance: without
        # this, the other language's units rarely reach the ones the reader reads. It orders the
        # reader's input only; the reader and the calibrator judge them like any other.
        for sentence in sentences:
            if sentence.passage.language != query.language:
                sentence.score += config.other_language_prerank
        sentences.sort(key=lambda s: s.score, reverse=True)
    return Evidence(query.language, query_vector, passages, sentences, unknown, query.search, reading=reading)


def abstention_score(evidence: Evidence, config: AnswerConfig) -> float:
    """How well the documents support an answer on the scorer path (`PASSERELLE_READER=0`):
    the best sentence score, less a penalty for the share of the question the documents do
    not know; below `abstain_below` the bot abstains."""
    return evidence.support - config.unknown_penalty * evidence.unknown


def choose_sentences(evidence: Evidence, config: AnswerConfig) -> list[ScoredSentence]:
    """The one to three sentences that make the answer, or none (abstain)."""
    sentences = evidence.sentences
    if not sentences or evidence.strongest is None or abstention_score(evidence, config) < config.abstain_below:
        return []
    chosen = [sentences[0]]
    for candidate in sentences[1:]:
        if len(chosen) == config.max_sentences:
            break
        if candidate.score < sentences[0].score - config.extra_sentence_margin:
            break
        if any(float(candidate.vector @ c.vector) >= config.redundancy for c in chosen):
            continue
        chosen.append(candidate)
    return chosen

