"""Answer units as candidates: the units of the scored sentences' passages, scored by the
trained reader (`bot.reader`) or grown from the sentences the scorer chose, and the ones
the answer quotes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from bot.answering.cores import core_share
from bot.answering.evidence import Evidence
from bot.answering.reader import load_reader
from bot.answering.retrieve import Passage
from bot.answering.scoring import AnswerConfig, ScoredSentence
from bot.answering.units import Unit, answer_units, section_units
from kb.schema import is_quoted_section
from kb.store import KnowledgeBase


@dataclass
class Candidate:
    """An answer unit of a retrieved passage with its scores."""

    passage: Passage
    unit: Unit
    cosine: float
    prerank: float
    logit: float = float("-inf")


def by_passage(sentences: Iterable[ScoredSentence]) -> dict[str, list[ScoredSentence]]:
    """The scored sentences of each passage (chunk id), in document order."""
    groups: dict[str, list[ScoredSentence]] = {}
    for sentence in sentences:
        groups.setdefault(sentence.passage.chunk_id, []).append(sentence)
    for group in groups.values():
        group.sort(key=lambda s: s.start)
    return groups


def candidates(kb: KnowledgeBase, evidence: Evidence, config: AnswerConfig) -> list[Candidate]:
    """The answer units of the scored sentences' passages, best first by `config.prerank`;
    with `config.section_candidates`, their sections too (`bot.answering.units.section_units`)."""
    result: list[Candidate] = []
    for group in by_passage(evidence.sentences).values():
        passage = group[0].passage
        text = kb.document_text(passage.doc_id) or ""
        cosine = {s.start: float(s.vector @ evidence.query_vector) for s in group}
        score = {s.start: s.score for s in group}
        spans = [(s.start, s.end) for s in group]
        sections = section_units(text, spans, passage.start) if config.section_candidates else []
        for unit in answer_units(text, spans) + sections:
            starts = [m[0] for m in unit.members]
            best_cosine = max(cosine[i] for i in starts)
            pre = best_cosine if config.prerank == "cosine" else max(score[i] for i in starts)
            result.append(Candidate(passage, unit, best_cosine, pre))
    result.sort(key=lambda c: c.prerank, reverse=True)
    return result


def reader_context(passage: Passage) -> str:
    """What the reader is told about where a unit comes from: title, date, section."""
    head = ", ".join(part for part in (passage.title, passage.date) if part)
    return " — ".join(part for part in (head, passage.section) if part)


def read(kb: KnowledgeBase, evidence: Evidence, config: AnswerConfig) -> list[Candidate]:
    """Score the best `config.reader_candidates` units with the reader, best first; kept
    in `evidence.candidates`. They are read in prerank order, `config.reader_first` at a time
    (else `Settings.reader_first`), the sections of `to_read` among them, until one is clearly an answer
    (`config.reader_clear`); units left unread are not candidates. With 0, all are read at
    once. Units this question was asked on before keep their remembered logits
    (`config.reader_cache`, else `Settings.reader_cache`)."""
    first = kb.settings.reader_first if config.reader_first is None else config.reader_first
    chosen = to_read(candidates(kb, evidence, config), config)
    if chosen:
        scores = load_reader().score(
            evidence.query, [(reader_context(c.passage), c.unit.reading) for c in chosen], [c.cosine for c in chosen],
            cached=kb.settings.reader_cache if config.reader_cache is None else config.reader_cache,
            first=first, clear=config.reader_clear, threads=core_share(kb.settings).apply, prune=config.reader_prune,
        )
        chosen = chosen[: len(scores.logits)]
        for candidate, logit in zip(chosen, scores.logits):
            candidate.logit = float(logit)
    chosen.sort(key=lambda c: c.logit, reverse=True)
    evidence.candidates = chosen
    return chosen


def to_read(ranked: Sequence[Candidate], config: AnswerConfig) -> list[Candidate]:
    """The units the reader reads, from `candidates`, in prerank order: the best
    `config.reader_candidates` sentences, lists and rows, and besides them the best
    `config.section_candidates` sections, so that a list or a summary is read whole without
    taking the place of the sentences a fact question needs. A section keeps its prerank (its
    best sentence's), so reading in stages meets it where that sentence would be read."""
    units = [c for c in ranked if c.unit.kind != "section"][: config.reader_candidates]
    sections = [c for c in ranked if c.unit.kind == "section"][: config.section_candidates]
    return sorted(units + sections, key=lambda c: c.prerank, reverse=True)


def choose_units(evidence: Evidence, config: AnswerConfig, threshold: float | None = None) -> list[Candidate]:
    """The units that make the answer (best first): the best one, then others within
    `config.reader_margin` of it; none when the best one is below `threshold` (default:
    the single reader threshold, `config.reader_threshold`; the calibrator passes -inf,
    having decided already)."""
    ranked = evidence.candidates
    threshold = config.reader_threshold if threshold is None else threshold
    if not ranked or ranked[0].logit < threshold:
        return []
    chosen = [ranked[0]]
    floor = max(threshold, ranked[0].logit - config.reader_margin)
    for candidate in ranked[1:]:
        if len(chosen) == config.max_sentences or candidate.logit < floor:
            break
        if any(overlaps(candidate, c) or _quoted_after_own(candidate, c) for c in chosen):
            continue
        chosen.append(candidate)
    return chosen


def best_units(evidence: Evidence, n: int) -> list[Candidate]:
    """The reader's `n` best units that do not overlap one another, best first."""
    chosen: list[Candidate] = []
    for candidate in evidence.candidates:
        if len(chosen) == n:
            break
        if not any(overlaps(candidate, c) or _quoted_after_own(candidate, c) for c in chosen):
            chosen.append(candidate)
    return chosen


def _quoted_after_own(candidate: Candidate, before: Candidate) -> bool:
    """Is `candidate` an earlier message quoted by a thread whose own message already answers
    (`before`, chosen first)? Then it is not cited beside it: a date proposed in the quoted
    message and replaced in the reply would be shown as a second answer."""
    return (candidate.passage.doc_id == before.passage.doc_id and is_quoted_section(candidate.passage.section)
            and not is_quoted_section(before.passage.section))


def structured_units(kb: KnowledgeBase, evidence: Evidence, chosen: Sequence[ScoredSentence], whole_lists: bool) -> list[Candidate]:
    """The chosen sentences as the units they belong to, or [] when none belongs to a
    larger one: an introduction ending in ":" brings its items, a table row its header, and
    with `whole_lists` an item brings the run of items it is in."""
    groups = by_passage(evidence.sentences)
    result: list[Candidate] = []
    grown = False
    for sentence in chosen:
        group = groups.get(sentence.passage.chunk_id, [sentence])
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
        if not any(overlaps(picked, c) for c in result):
            result.append(picked)
    return result if grown else []


def overlaps(a: Candidate, b: Candidate) -> bool:
    """Do the two units share characters of one document?"""
    return a.passage.doc_id == b.passage.doc_id and a.unit.start < b.unit.end and b.unit.start < a.unit.end
