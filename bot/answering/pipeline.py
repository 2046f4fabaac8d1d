"""Answers: extractive and cited, saying how sure they are.

The answer quotes one to three answer units verbatim from retrieved passages, each followed
by its citation number (`bot.answering.units`: a sentence, a list with its introduction, a table row
with its header). By default the trained reader (`bot.answering.reader`) scores the units of the best
passages and a calibrator (`bot.answering.abstain`) decides the outcome: **answered** (the units are
the answer), **to check** (the best units are shown as places to look) or **not in the
documents**. With `AnswerConfig(reader=False)` (`PASSERELLE_READER=0`, the escape hatch) the
plain sentence scorer (embedding similarity, keyword overlap and passage rank; its former
hand-written cues are gone) chooses sentences and abstains below its threshold.

The stages, each with typed input and output: `bot.answering.query.parse_query` (question -> Query)
-> `bot.answering.route.route` (commitments or documents) -> `gather_evidence` (rank passages, keep
the ones to read, score their sentences -> Evidence; `bot.answering.retrieve`, `bot.answering.evidence`,
`bot.answering.scoring`) -> `read` (answer units with reader logits, kept in `Evidence.candidates`;
`bot.answering.selection`) -> `decided` (the calibrator's outcome; `bot.answering.abstain`) -> `compose_units`
/ `to_check` / `declined` (-> Answer; `bot.answering.compose`). This module runs them and gathers
their public names, which the package (`bot.answering`) re-exports for callers.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import date
from typing import Any, Callable, Mapping, Sequence

from bot.answering.abstain import ANSWERED, TO_CHECK, load_calibrator
from bot.answering.compose import compose_sentences, compose_units, declined, source, to_check
from bot.answering.cores import core_share
from bot.answering.evidence import Evidence, abstention_score, choose_sentences, gather_evidence
from bot.followup import resolved_query
from bot.answering.generate import Excerpt, GenerationConfig, chat_model, generate, reader_support
from bot.messages import message
from bot.answering.reply import Answer, Source
from bot.answering.query import Query, QuestionError, parse_query
from bot.roadmap import answer_from_commitments
from bot.answering.retrieve import FusionConfig
from bot.answering.route import route
from bot.answering.scoring import AnswerConfig, ScoredSentence
from bot.answering.selection import Candidate, best_units, candidates, choose_units, read, reader_context, structured_units
from kb.settings import Settings
from kb.store import EmptyStoreError, KnowledgeBase, SearchFilter

__all__ = [
    "FILTER_KEYS", "Answer", "AnswerConfig", "Candidate", "Evidence", "QuestionError", "ScoredSentence", "Source",
    "abstention_score", "answer", "best_units", "candidates", "choose_sentences", "choose_units", "compose_units", "decided", "declined",
    "gather_evidence", "knowledge_base", "prompt_excerpts", "read", "search_filter", "structured_units", "warm_up",
]

log = logging.getLogger(__name__)

FILTER_KEYS = ("doc_type", "since", "until", "organisation", "language")


_cache_lock = threading.Lock()
_kb_cache: dict[Settings, KnowledgeBase] = {}


def knowledge_base(settings: Settings) -> KnowledgeBase:
    """The process-wide knowledge base for `settings`: model and indexes load once."""
    with _cache_lock:
        kb = _kb_cache.get(settings)
        if kb is None:
            kb = _kb_cache[settings] = KnowledgeBase(settings)
        return kb


def answer(
    question: str,
    history: Sequence[Any] = (),
    filters: Mapping[str, Any] | None = None,
    role: str = "reader",
    *,
    k: int = 5,
    settings: Settings | None = None,
    kb: KnowledgeBase | None = None,
    config: AnswerConfig = AnswerConfig(),
    fusion: FusionConfig = FusionConfig(),
    today: date | None = None,
    generation: GenerationConfig = GenerationConfig(),
    on_verified: Callable[[str], None] | None = None,
    where: SearchFilter | None = None,
) -> Answer:
    """Answer `question` from the documents `role` may read.

    `history` holds the earlier questions of the conversation (strings, (question,
    answer) pairs or chat messages); `filters` any of doc_type, since, until (ISO
    dates), organisation, language. Questions about commitments ("Qu'est-ce qui est en retard ?")
    are answered from the roadmap commitments, lateness judged on `today` (default: the
    current date). With an LLM server configured (`Settings.llm_url`), an answerable
    question gets a written answer whose every sentence is verified (`bot.answering.generate`);
    `on_verified` then receives the answer's verified sentences as they pass the checks
    (never unverified text). `where`, when given, is the
    search filter itself instead of `role` and `filters` (evaluation). Raises QuestionError for
    unusable input and EmptyStoreError when there is nothing to search.
    """
    kb = kb or knowledge_base(settings or Settings.from_env())
    # All the cores for an answer running alone, a share of them when others run beside it.
    with core_share(kb.settings).running():
        return _answer(question, history, filters, role, k, kb, config, fusion, today, generation, on_verified, where)


def _answer(question: str, history: Sequence[Any], filters: Mapping[str, Any] | None, role: str, k: int,
            kb: KnowledgeBase, config: AnswerConfig, fusion: FusionConfig, today: date | None,
            generation: GenerationConfig, on_verified: Callable[[str], None] | None,
            where: SearchFilter | None) -> Answer:
    """`answer`'s stages, on the knowledge base chosen."""
    started = time.perf_counter()
    query = parse_query(question, history, today)
    where = where or search_filter(role, filters)
    if not kb.exists or kb.chunk_count() == 0:
        raise EmptyStoreError(message("empty_store", query.language, store=str(kb.root)))
    if config.semantic_followups:
        query = resolved_query(kb, query, history, where)  # a follow-up borrows the subject by meaning
    if route(kb, query, where) == "commitments":
        from_commitments = answer_from_commitments(kb, query.commitments, where, query.language, today)
        if from_commitments is not None:
            return from_commitments

    evidence = gather_evidence(kb, query, where, k=k, config=config, fusion=fusion, for_reader=uses_reader(kb, config))
    retrieved = time.perf_counter()
    result = _extractive(kb, query, evidence, config, k)
    done = time.perf_counter()
    result.timings_ms = {
        "retrieve": round((retrieved - started) * 1000, 1),
        "answer": round((done - retrieved) * 1000, 1),
        "total": round((done - started) * 1000, 1),
    }
    model = chat_model(kb.settings)
    if model is not None and _worth_writing(result, evidence):
        if uses_reader(kb, config):
            # Writing takes seconds, so the LLM's excerpts are the best of more units, all read
            # (`config.writer_candidates`), than the quoted answer reads; the quoted answer, also
            # the fallback, stays as read.
            read(kb, evidence, replace(config, reader_first=0, reader_candidates=config.writer_candidates,
                                       section_candidates=config.writer_sections))
        excerpts = prompt_excerpts(kb, evidence, config, generation.excerpts)
        result = generate(model, question, result, excerpts, reader_support(kb.embeddings), kb.settings,
                          generation, on_verified)
        result.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 1)
    log.info("answered mode=%s abstained=%s sources=%d total_ms=%.0f", result.mode, result.abstained,
             len(result.sources), result.timings_ms["total"])
    return result


WARM_UP_QUESTIONS = ("Quels sont les objectifs du programme ?", "Who chairs the cybersecurity commission?")


def warm_up(kb: KnowledgeBase, config: AnswerConfig = AnswerConfig()) -> None:
    """Run the quoted-answer path once per language on `kb` as a reader, so that the embedding
    model, Chroma, the keyword index, the reader and the calibrator are loaded and their first
    (slow) calls made before a visitor asks. The LLM server, if any, is not called."""
    where = search_filter("reader", None)
    for question in WARM_UP_QUESTIONS:
        query = parse_query(question)
        route(kb, query, where)
        evidence = gather_evidence(kb, query, where, config=config, for_reader=uses_reader(kb, config))
        _extractive(kb, query, evidence, config, 5)


def _extractive(kb: KnowledgeBase, query: Query, evidence: Evidence, config: AnswerConfig, k: int) -> Answer:
    """The quoted answer, the passages to check or the abstention: on the reader path the
    calibrator decides (or, with `config.calibrated` off, the reader's single threshold);
    otherwise the scorer's sentences, quoted as the units they belong to when one is larger."""
    if uses_reader(kb, config):
        read(kb, evidence, config)
        if config.calibrated:
            return decided(kb, evidence, config, k, query.language)
        units = choose_units(evidence, config)
        return compose_units(kb, units, evidence, k, query.language) if units else declined(kb, evidence, k)
    chosen = choose_sentences(evidence, config)
    units = structured_units(kb, evidence, chosen, query.wants_list) if config.units and chosen else []
    if not chosen:
        return declined(kb, evidence, k)
    if units:
        return compose_units(kb, units, evidence, k, query.language)
    return compose_sentences(kb, chosen, evidence.passages, evidence.sentences, k, query.language, evidence.query_vector)


def decided(kb: KnowledgeBase, evidence: Evidence, config: AnswerConfig, k: int, language: str) -> Answer:
    """The answer the calibrator's outcome calls for on read `evidence` (`bot.answering.abstain`),
    with its confidence."""
    decision = load_calibrator().decide(evidence)
    confidence = round(decision.confidence, 3)
    if decision.outcome == ANSWERED:
        result = compose_units(kb, choose_units(evidence, config, threshold=float("-inf")), evidence, k, language)
    elif decision.outcome == TO_CHECK:
        result = to_check(kb, best_units(evidence, config.max_sentences), evidence, k, language, confidence)
    else:
        result = declined(kb, evidence, k)
    result.outcome, result.confidence = decision.outcome, confidence
    log.info("decided outcome=%s confidence=%.3f relevance=%.3f", decision.outcome, confidence, decision.relevance)
    return result


def _worth_writing(result: Answer, evidence: Evidence) -> bool:
    """Is the question sent to the LLM? On the reader path, whenever it read candidates: the
    LLM reads what the reader read and may itself answer "not in the documents"; a question
    with nothing to read is declined without calling the server. On the scorer path, only
    an answered question."""
    return bool(evidence.candidates) if result.confidence is not None else not result.abstained


def uses_reader(kb: KnowledgeBase, config: AnswerConfig) -> bool:
    """Does the trained reader choose the answer (`config.reader`, else the store's settings)?"""
    return kb.settings.reader if config.reader is None else config.reader


def prompt_excerpts(kb: KnowledgeBase, evidence: Evidence, config: AnswerConfig, limit: int) -> list[Excerpt]:
    """The reader's best `limit` non-overlapping answer units, as numbered excerpts for the LLM."""
    if not evidence.candidates:
        read(kb, evidence, config)
    chosen = best_units(evidence, limit)
    excerpts = []
    for n, c in enumerate(chosen, start=1):
        quote = (kb.document_text(c.passage.doc_id) or "")[c.unit.start : c.unit.end]
        cited = source(n, True, c.passage, quote, c.unit.start, c.unit.end, c.logit)
        excerpts.append(Excerpt(cited, c.unit.reading, reader_context(c.passage)))
    return excerpts


# ----- input -----------------------------------------------------------------------
def search_filter(role: str, filters: Mapping[str, Any] | None) -> SearchFilter:
    """What `role` may read, narrowed by `filters` (FILTER_KEYS); QuestionError says what is wrong."""
    filters = dict(filters or {})
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise QuestionError(f"unknown filter(s) {', '.join(unknown)}: use {', '.join(FILTER_KEYS)}")
    values: dict[str, Any] = {}
    for key in FILTER_KEYS:
        value = filters.get(key)
        if value in (None, ""):
            continue
        if key in ("since", "until") and not isinstance(value, date):
            try:
                value = date.fromisoformat(str(value))
            except ValueError:
                raise QuestionError(f"{key}: {value!r} is not an ISO date (YYYY-MM-DD)") from None
        values[key] = value
    try:
        return SearchFilter.for_role(role, **values)
    except ValueError as exc:
        raise QuestionError(str(exc)) from None

