"""Answers: extractive, cited, or an honest abstention.

The answer is made of one to three quotes taken verbatim from retrieved passages, each
followed by its citation number. By default sentences are scored against the question with
the same embedding model (their vectors are stored at ingestion), keyword overlap and cues
for the kind of fact asked; a chosen sentence is quoted as the answer unit it belongs to
(`bot.units`: a list with its introduction, a table row with its header). With
`AnswerConfig(reader=True)` the trained reader (`bot.reader`) scores the units instead and
abstains below one calibrated threshold.

The stages, each with typed input and output: `bot.query.parse_query` (question -> Query)
-> `bot.router.route` (commitments or documents) -> `gather_evidence` (retrieve, score
sentences -> Evidence) -> `candidates` / `read` (answer units with reader logits, kept in
`Evidence.candidates`) -> `choose_units` or `choose_sentences` (abstain or pick) ->
`compose_units` / `declined` (-> Answer).
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from bot.answer_type import AnswerType
from bot.generate import Excerpt, GenerationConfig, chat_model, generate, reader_support
from bot.messages import message
from bot.reader import load_reader
from bot.reply import Answer, Source
from bot.query import ACRONYM, Query, QuestionError, days, parse_query
from bot.roadmap import answer_from_commitments
from bot.retrieve import FusionConfig, Passage, retrieve
from bot.router import route
from bot.units import Unit, answer_units
from kb.settings import Settings
from kb.store import EmptyStoreError, KnowledgeBase, SearchFilter
from kb.text import keyword_terms

log = logging.getLogger(__name__)

FILTER_KEYS = ("doc_type", "since", "until", "organisation", "language")


@dataclass(frozen=True)
class AnswerConfig:
    """Sentence scoring and abstention; calibrated on the development set (`python -m evals`)."""

    # Dev set (weight 0.06 below): 12 passages gave fact 0.821 against 0.795 with 8, and one
    # wrong answer fewer.
    passages_for_sentences: int = 12
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
    cognate_prefix: int = 5
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
    # Further units are quoted when their logit is within this of the best one (dev: the
    # margin with the most facts).
    reader_margin: float = 2.0
    # A wider margin adds a fact now and then but pads answers with weaker quotes
    # (dev set: 0.12 gave fact 0.538 vs 0.487 but 2.75 citations per answer vs 1.35).
    extra_sentence_margin: float = 0.03
    redundancy: float = 0.92


@dataclass
class _Sentence:
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
    on_draft: Callable[[str], None] | None = None,
) -> Answer:
    """Answer `question` from the documents `role` may read.

    `history` holds the earlier questions of the conversation (strings, (question,
    answer) pairs or chat messages); `filters` any of doc_type, since, until (ISO
    dates), organisation, language. Questions about commitments ("Qu'est-ce qui est en retard ?")
    are answered from the roadmap commitments, lateness judged on `today` (default: the
    current date). With an LLM server configured (`Settings.llm_url`), an answerable
    question gets a written answer whose every sentence is verified (`bot.generate`);
    `on_draft` then receives the unverified draft as it grows. Raises QuestionError for
    unusable input and EmptyStoreError when there is nothing to search.
    """
    started = time.perf_counter()
    query = parse_query(question, history, today)
    where = search_filter(role, filters)
    kb = kb or knowledge_base(settings or Settings.from_env())
    if not kb.exists or kb.chunk_count() == 0:
        raise EmptyStoreError(message("empty_store", query.language, store=str(kb.root)))
    if route(kb, query, where) == "commitments":
        from_commitments = answer_from_commitments(kb, query.commitments, where, query.language, today)
        if from_commitments is not None:
            return from_commitments

    evidence = gather_evidence(kb, query, where, k=k, config=config, fusion=fusion)
    retrieved = time.perf_counter()
    if kb.settings.reader if config.reader is None else config.reader:
        read(kb, evidence, config)
        units = choose_units(evidence, config)
        result = compose_units(kb, units, evidence, k, query.language) if units else declined(kb, evidence, k)
    else:
        chosen = choose_sentences(evidence, config)
        units = structured_units(kb, evidence, chosen, query.wants_list) if config.units and chosen else []
        if not chosen:
            result = declined(kb, evidence, k)
        elif units:
            result = compose_units(kb, units, evidence, k, query.language)
        else:
            result = _compose(kb, chosen, evidence.passages, evidence.sentences, k, query.language, evidence.query_vector)
    done = time.perf_counter()
    result.timings_ms = {
        "retrieve": round((retrieved - started) * 1000, 1),
        "answer": round((done - retrieved) * 1000, 1),
        "total": round((done - started) * 1000, 1),
    }
    model = chat_model(kb.settings)
    if model is not None and not result.abstained:
        # Only a question the extractive path finds answerable is written: the LLM never
        # overrides "not in the documents".
        excerpts = prompt_excerpts(kb, evidence, config, generation.excerpts)
        result = generate(model, question, result, excerpts, reader_support(kb.embeddings), kb.settings,
                          generation, on_draft)
        result.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 1)
    log.info("answered mode=%s abstained=%s sources=%d total_ms=%.0f", result.mode, result.abstained,
             len(result.sources), result.timings_ms["total"])
    return result


def prompt_excerpts(kb: KnowledgeBase, evidence: Evidence, config: AnswerConfig, limit: int) -> list[Excerpt]:
    """The reader's best `limit` non-overlapping answer units, as numbered excerpts for the LLM."""
    ranked = evidence.candidates or read(kb, evidence, config)
    chosen: list[Candidate] = []
    for candidate in ranked:
        if len(chosen) == limit:
            break
        if not any(_overlaps(candidate, c) for c in chosen):
            chosen.append(candidate)
    excerpts = []
    for n, c in enumerate(chosen, start=1):
        quote = (kb.document_text(c.passage.doc_id) or "")[c.unit.start : c.unit.end]
        source = _source(n, True, c.passage, quote, c.unit.start, c.unit.end, c.logit)
        excerpts.append(Excerpt(source, c.unit.reading, _reader_context(c.passage)))
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


# ----- sentence scoring --------------------------------------------------------------
def _score_sentences(
    kb: KnowledgeBase, query: Query, query_vector: np.ndarray, passages: Sequence[Passage],
    config: AnswerConfig, where: SearchFilter,
) -> tuple[list[_Sentence], float]:
    """Candidate sentences best first, and the share of the question the readable documents
    know nothing about (IDF mass of query terms found in no readable passage)."""
    language = query.language
    query_terms = set(keyword_terms(query.search))
    counts, total, in_language = kb.term_frequencies(sorted(query_terms), where, language)
    idf = {t: math.log(1 + total / (1 + counts.get(t, 0))) for t in query_terms}
    idf_mass = sum(idf.values()) or 1.0
    kind = query.kind
    # An ordinary word missing from documents mostly written in another language says
    # nothing (its translation may be there); a missing name still does.
    names_only = in_language < total / 2
    # The words that ask for the kind of fact ("que signifie le sigle") are not its subject.
    unknown = _unknown_share(query.salient, counts, names_only)

    asked_years = query.asked_years
    named_days = set(query.named_days) if config.named_day_check else set()
    seen: set[tuple[str, int]] = set()
    sentences: list[_Sentence] = []
    ranks: list[int] = []
    for rank, passage in enumerate(passages):
        for start, end, vector in kb.sentences_in(passage.doc_id, passage.start, passage.end):
            if (passage.doc_id, start) in seen:
                continue
            seen.add((passage.doc_id, start))
            sentences.append(_Sentence(passage, start, end, vector))
            ranks.append(rank)
    if not sentences:
        return [], unknown
    texts = _texts(kb, sentences)
    dense = np.stack([s.vector for s in sentences]) @ query_vector
    headings: dict[str, set[str]] = {}
    passage_on_day = {p.chunk_id: _passage_on_day(p, named_days) for p in passages} if named_days else {}
    for sentence, text, cosine, rank in zip(sentences, texts, dense, ranks):
        # The section heading often carries the subject the sentence leaves implicit.
        section = sentence.passage.section
        if section not in headings:
            headings[section] = set(keyword_terms(section))
        words = set(keyword_terms(text)) | headings[section]
        other_language = sentence.passage.language != language
        if other_language and config.cognate_prefix:
            # Across languages, shared word beginnings are the overlap: "automatic" and
            # "automatique", "administrative" and "administratifs" share their first letters.
            cut = config.cognate_prefix
            prefixes = {w[:cut] for w in words if len(w) >= cut}
            shared = [t for t in query_terms if t in words or len(t) >= cut and t[:cut] in prefixes]
        else:
            shared = list(query_terms & words)
        overlap = sum(idf[t] for t in shared) / idf_mass
        sentence.typed = kind is not None and kind.stated(text)
        if asked_years:
            stated_years = set(_YEAR.findall(text))
            sentence.other_time = bool(stated_years) and not stated_years & asked_years
        if named_days and not sentence.other_time:
            # A sentence naming days is judged by them, one naming none by its passage.
            stated_days = days(text)
            on_day = bool(stated_days & named_days) if stated_days else passage_on_day[sentence.passage.chunk_id]
            sentence.other_time = not on_day
        typed = config.answer_type_weight if sentence.typed else 0.0
        crossing = config.other_language_sentence_bonus if other_language else 0.0
        sentence.bonus = crossing
        sentence.score = float(
            config.dense_weight * cosine + config.overlap_weight * overlap + config.passage_weight / (1 + rank)
            + typed + crossing
        )
    return sorted(sentences, key=lambda s: s.score, reverse=True), unknown


_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
def _iso_day(value: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"\d{4}-(\d\d)-(\d\d)", value or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def _passage_on_day(passage: Passage, wanted: set[tuple[int, int]]) -> bool:
    """Is `passage` about one of the days a question names (`wanted` ("the meeting on 19 May
    2026"))? Its document is dated that day, or its title, section or text names it. (A
    sentence naming days of its own is judged by those instead.)"""
    return _iso_day(passage.date) in wanted or bool(days(f"{passage.title} {passage.section} {passage.text}") & wanted)


def _unknown_share(salient: Sequence[tuple[str, bool]], counts: Mapping[str, int], names_only: bool = False) -> float:
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


def _texts(kb: KnowledgeBase, sentences: Iterable[_Sentence]) -> list[str]:
    cache: dict[str, str] = {}
    result = []
    for s in sentences:
        doc_id = s.passage.doc_id
        if doc_id not in cache:
            cache[doc_id] = kb.document_text(doc_id) or ""
        result.append(cache[doc_id][s.start : s.end])
    return result


@dataclass
class Evidence:
    """What the answer is built from: passages, scored sentences and support signals."""

    language: str
    query_vector: np.ndarray
    passages: list[Passage]
    sentences: list[_Sentence]
    unknown: float
    kind: AnswerType | None = None
    # Acronyms the question names ("CEAC", "DAGE"): a passage naming none of them is about
    # something else, however close its wording (they are the same in both languages).
    acronyms: frozenset[str] = frozenset()
    # The search query (the question with the subject of a follow-up) and, once read, the
    # reader's candidates best first: the trace that evaluation and calibration read.
    query: str = ""
    candidates: list["Candidate"] = field(default_factory=list)

    def _names_the_acronyms(self, passage: Passage) -> bool:
        return self.acronyms <= set(ACRONYM.findall(f"{passage.title}\n{passage.section}\n{passage.text}"))

    @functools.cached_property
    def strongest(self) -> _Sentence | None:
        """The sentence with the best score before the other-language bonus: the bonus
        picks among sentences, it is no evidence that the documents answer. When the
        question asks for a kind of fact, only sentences stating one count, and only
        sentences from passages naming the question's acronyms do; a sentence giving
        another year than the one asked, or about another day than the one named, does not."""
        candidates = [s for s in self.sentences if s.typed] if self.kind else self.sentences
        candidates = [s for s in candidates if not s.other_time]
        if self.acronyms:
            # Once per passage of the candidates, not once per sentence.
            passages = {s.passage.chunk_id: s.passage for s in candidates}
            naming = {cid for cid, passage in passages.items() if self._names_the_acronyms(passage)}
            candidates = [s for s in candidates if s.passage.chunk_id in naming]
        return max(candidates, key=lambda s: s.score - s.bonus) if candidates else None

    @property
    def support(self) -> float:
        """Best sentence score without the other-language bonus (0 when there is none)."""
        best = self.strongest
        return best.score - best.bonus if best else 0.0

    @property
    def cross_lingual(self) -> bool:
        """That strongest sentence is in another language than the question."""
        best = self.strongest
        return best is not None and best.passage.language != self.language


def gather_evidence(
    kb: KnowledgeBase, query: Query, where: SearchFilter,
    *, k: int = 5, config: AnswerConfig = AnswerConfig(), fusion: FusionConfig = FusionConfig(),
) -> Evidence:
    """Retrieve passages for a parsed question and score their sentences."""
    query_vector = np.asarray(kb.embeddings.embed_query(query.search), dtype=np.float32)
    passages = retrieve(
        kb, query.search, where, max(k, config.passages_for_sentences), query_vector=query_vector, config=fusion,
        language=query.language,
    )
    sentences, unknown = _score_sentences(
        kb, query, query_vector, passages[: config.passages_for_sentences], config, where
    )
    return Evidence(query.language, query_vector, passages, sentences, unknown, query.kind, query.acronyms, query.search)


def abstention_score(evidence: Evidence, config: AnswerConfig) -> float:
    """How well the documents support an answer; below `abstain_below` the bot abstains.

    Cross-lingual matches score lower for the same relevance, and question words
    in another language are naturally absent from the documents, so both are allowed for.
    """
    if evidence.cross_lingual:
        return evidence.support + config.cross_lingual_bonus
    return evidence.support - config.unknown_penalty * evidence.unknown


def choose_sentences(evidence: Evidence, config: AnswerConfig) -> list[_Sentence]:
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


# ----- reading -----------------------------------------------------------------------
@dataclass
class Candidate:
    """An answer unit of a retrieved passage with its scores."""

    passage: Passage
    unit: Unit
    cosine: float
    prerank: float
    logit: float = float("-inf")


def _by_passage(sentences: Iterable[_Sentence]) -> dict[str, list[_Sentence]]:
    """The scored sentences of each passage (chunk id), in document order."""
    groups: dict[str, list[_Sentence]] = {}
    for sentence in sentences:
        groups.setdefault(sentence.passage.chunk_id, []).append(sentence)
    for group in groups.values():
        group.sort(key=lambda s: s.start)
    return groups


def candidates(kb: KnowledgeBase, evidence: Evidence, config: AnswerConfig) -> list[Candidate]:
    """The answer units of the scored sentences' passages, best first by `config.prerank`."""
    result: list[Candidate] = []
    for group in _by_passage(evidence.sentences).values():
        passage = group[0].passage
        text = kb.document_text(passage.doc_id) or ""
        cosine = {s.start: float(s.vector @ evidence.query_vector) for s in group}
        score = {s.start: s.score for s in group}
        for unit in answer_units(text, [(s.start, s.end) for s in group]):
            starts = [m[0] for m in unit.members]
            best_cosine = max(cosine[i] for i in starts)
            pre = best_cosine if config.prerank == "cosine" else max(score[i] for i in starts)
            result.append(Candidate(passage, unit, best_cosine, pre))
    result.sort(key=lambda c: c.prerank, reverse=True)
    return result


def _reader_context(passage: Passage) -> str:
    head = ", ".join(part for part in (passage.title, passage.date) if part)
    return " — ".join(part for part in (head, passage.section) if part)


def read(kb: KnowledgeBase, evidence: Evidence, config: AnswerConfig) -> list[Candidate]:
    """Score the best `config.reader_candidates` units with the reader, best first; kept
    in `evidence.candidates`."""
    chosen = candidates(kb, evidence, config)[: config.reader_candidates]
    if chosen:
        scores = load_reader().score(
            evidence.query, [(_reader_context(c.passage), c.unit.reading) for c in chosen], [c.cosine for c in chosen]
        )
        for candidate, logit in zip(chosen, scores.logits):
            candidate.logit = float(logit)
    chosen.sort(key=lambda c: c.logit, reverse=True)
    evidence.candidates = chosen
    return chosen


def choose_units(evidence: Evidence, config: AnswerConfig) -> list[Candidate]:
    """The units that make the answer (best first), or none when the best one is below
    the reader threshold (abstain)."""
    ranked = evidence.candidates
    if not ranked or ranked[0].logit < config.reader_threshold:
        return []
    chosen = [ranked[0]]
    floor = max(config.reader_threshold, ranked[0].logit - config.reader_margin)
    for candidate in ranked[1:]:
        if len(chosen) == config.max_sentences or candidate.logit < floor:
            break
        if any(_overlaps(candidate, c) for c in chosen):
            continue
        chosen.append(candidate)
    return chosen


def structured_units(kb: KnowledgeBase, evidence: Evidence, chosen: Sequence[_Sentence], whole_lists: bool) -> list[Candidate]:
    """The chosen sentences as the units they belong to, or [] when none belongs to a
    larger one: an introduction ending in ":" brings its items, a table row its header, and
    with `whole_lists` an item brings the run of items it is in."""
    by_passage = _by_passage(evidence.sentences)
    result: list[Candidate] = []
    grown = False
    for sentence in chosen:
        group = by_passage.get(sentence.passage.chunk_id, [sentence])
        text = kb.document_text(sentence.passage.doc_id) or ""
        span = (sentence.start, sentence.end)
        unit = Unit(span[0], span[1], (span,), text[span[0] : span[1]], "sentence")
        for candidate in answer_units(text, [(s.start, s.end) for s in group]):
            if candidate.kind == "row" and candidate.members[0] == span or candidate.kind == "list" and (
                candidate.members[0] == span and unit.reading.rstrip().endswith(":")
                or whole_lists and span in candidate.members
            ):
                unit, grown = candidate, True
                break
        picked = Candidate(sentence.passage, unit, 0.0, sentence.score, sentence.score)
        if not any(_overlaps(picked, c) for c in result):
            result.append(picked)
    return result if grown else []


def declined(kb: KnowledgeBase, evidence: Evidence, k: int) -> Answer:
    """The honest "not in the documents", with the closest passages as "see also"."""
    sources = _see_also(kb, evidence.passages, evidence.sentences, [], k, evidence.query_vector)
    return Answer(message("abstain", evidence.language), True, evidence.language, sources)


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.passage.doc_id == b.passage.doc_id and a.unit.start < b.unit.end and b.unit.start < a.unit.end


def compose_units(kb: KnowledgeBase, chosen: list[Candidate], evidence: Evidence, k: int, language: str) -> Answer:
    """The answer quoting the `chosen` units, one citation each, then the closest other passages."""
    sources: list[Source] = []
    parts: list[str] = []
    for n, c in enumerate(chosen, start=1):
        text = kb.document_text(c.passage.doc_id) or ""
        quote = text[c.unit.start : c.unit.end]
        sources.append(_source(n, True, c.passage, quote, c.unit.start, c.unit.end, c.logit))
        shown = c.unit.reading if c.unit.kind == "row" else quote
        parts.append(f"{_readable(shown)} [{n}]")
    cited = {c.passage.chunk_id for c in chosen}
    sources.extend(_see_also(kb, evidence.passages, evidence.sentences, cited, k - len(sources),
                             evidence.query_vector, first_n=len(sources) + 1))
    return Answer(" ".join(parts), False, language, sources[: max(k, len(chosen))])


# ----- composing ---------------------------------------------------------------------
def _compose(
    kb: KnowledgeBase, chosen: list[_Sentence], passages: list[Passage], sentences: list[_Sentence],
    k: int, language: str, query_vector: np.ndarray,
) -> Answer:
    # Adjacent sentences of one document become one quote; each quote gets a number.
    groups: list[list[_Sentence]] = []
    for sentence in sorted(chosen, key=lambda s: (s.passage.doc_id, s.start)):
        last = groups[-1][-1] if groups else None
        if last and last.passage.doc_id == sentence.passage.doc_id and _adjacent(kb, last, sentence):
            groups[-1].append(sentence)
        else:
            groups.append([sentence])
    groups.sort(key=lambda g: max(s.score for s in g), reverse=True)

    sources: list[Source] = []
    parts: list[str] = []
    for n, group in enumerate(groups, start=1):
        start, end = group[0].start, group[-1].end
        text = kb.document_text(group[0].passage.doc_id) or ""
        quote = text[start:end]
        sources.append(_source(n, True, group[0].passage, quote, start, end, max(s.score for s in group)))
        parts.append(f"{_readable(quote)} [{n}]")
    cited_chunks = {s.passage.chunk_id for s in chosen}
    sources.extend(_see_also(kb, passages, sentences, cited_chunks, k - len(sources), query_vector, first_n=len(sources) + 1))
    return Answer(" ".join(parts), False, language, sources[: max(k, len(groups))])


def _adjacent(kb: KnowledgeBase, a: _Sentence, b: _Sentence) -> bool:
    text = kb.document_text(a.passage.doc_id) or ""
    return b.start >= a.end and not text[a.end : b.start].strip()


def _see_also(
    kb: KnowledgeBase, passages: Sequence[Passage], sentences: Sequence[_Sentence], exclude: Iterable[str],
    limit: int, query_vector: np.ndarray, first_n: int = 1,
) -> list[Source]:
    """The closest other passages, each quoted by its best sentence."""
    excluded = set(exclude)
    best: dict[str, _Sentence] = {}
    for sentence in sentences:
        current = best.get(sentence.passage.chunk_id)
        if current is None or sentence.score > current.score:
            best[sentence.passage.chunk_id] = sentence
    result: list[Source] = []
    for passage in passages:
        if len(result) >= limit:
            break
        if passage.chunk_id in excluded:
            continue
        sentence = best.get(passage.chunk_id)
        if sentence is None:
            spans = kb.sentences_in(passage.doc_id, passage.start, passage.end)
            if spans:
                scores = [float(v @ query_vector) for _, _, v in spans]
                i = int(np.argmax(scores))
                sentence = _Sentence(passage, spans[i][0], spans[i][1], spans[i][2], scores[i])
        if sentence is not None:
            text = kb.document_text(passage.doc_id) or ""
            quote, start, end, score = text[sentence.start : sentence.end], sentence.start, sentence.end, sentence.score
        else:
            quote, start, end, score = passage.text, passage.start, passage.end, passage.score
        result.append(_source(first_n + len(result), False, passage, quote, start, end, score))
    return result


def _source(n: int, cited: bool, passage: Passage, quote: str, start: int, end: int, score: float) -> Source:
    return Source(
        n=n, cited=cited, title=passage.title, path=passage.path, doc_type=passage.doc_type,
        date=passage.date, page=passage.page, section=passage.section, quote=quote,
        start=start, end=end, score=round(float(score), 4),
    )


def _readable(quote: str) -> str:
    """A quote as a sentence of the answer: one line, list markers and table pipes removed."""
    lines = [re.sub(r"^\s*(?:[-*•–]|\d+[.)])\s+", "", line) for line in quote.splitlines()]
    text = " ".join(line.strip() for line in lines if line.strip())
    text = re.sub(r"\s*\|\s*", " — ", text.strip("| "))
    return text if text[-1:] in ".!?…" else text + "."

