"""Composing the answer: the chosen quotes, each with its citation number, then the
closest other passages as "see also"; or the honest "not in the documents"."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from bot.answering.evidence import Evidence
from bot.messages import message
from bot.answering.reply import Answer, Source
from bot.answering.retrieve import Passage
from bot.answering.scoring import ScoredSentence
from bot.answering.selection import Candidate
from kb.store import KnowledgeBase


def declined(kb: KnowledgeBase, evidence: Evidence, k: int) -> Answer:
    """The honest "not in the documents", with the closest passages as "see also"."""
    sources = _see_also(kb, evidence.passages, evidence.sentences, [], k, evidence.query_vector)
    return Answer(message("abstain", evidence.language), True, evidence.language, sources, outcome="not_in_documents")


def to_check(kb: KnowledgeBase, chosen: list[Candidate], evidence: Evidence, k: int, language: str,
             confidence: float) -> Answer:
    """The best units shown as places to look, under a heading that says the answer is not
    sure: nothing is presented as the answer (`abstained`, outcome "to_check")."""
    shown = compose_units(kb, chosen, evidence, k, language)
    text = f"{message('to_check', language)}\n\n{shown.answer}"
    return Answer(text, True, language, shown.sources, outcome="to_check", confidence=confidence)


def compose_units(kb: KnowledgeBase, chosen: list[Candidate], evidence: Evidence, k: int, language: str) -> Answer:
    """The answer quoting the `chosen` units, one citation each, then the closest other passages."""
    sources: list[Source] = []
    parts: list[str] = []
    for n, c in enumerate(chosen, start=1):
        text = kb.document_text(c.passage.doc_id) or ""
        quote = text[c.unit.start : c.unit.end]
        sources.append(source(n, True, c.passage, quote, c.unit.start, c.unit.end, c.logit))
        # A row is shown with its header's labels, a section after its heading.
        shown = c.unit.reading if c.unit.kind in ("row", "section") else quote
        parts.append(f"{_readable(shown)} [{n}]")
    cited = {c.passage.chunk_id for c in chosen}
    sources.extend(_see_also(kb, evidence.passages, evidence.sentences, cited, k - len(sources),
                             evidence.query_vector, first_n=len(sources) + 1))
    return Answer(" ".join(parts), False, language, sources[: max(k, len(chosen))])


def compose_sentences(
    kb: KnowledgeBase, chosen: list[ScoredSentence], passages: list[Passage], sentences: list[ScoredSentence],
    k: int, language: str, query_vector: np.ndarray,
) -> Answer:
    """The answer quoting the `chosen` sentences, then the closest other passages."""
    # Adjacent sentences of one document become one quote; each quote gets a number.
    groups: list[list[ScoredSentence]] = []
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
        sources.append(source(n, True, group[0].passage, quote, start, end, max(s.score for s in group)))
        parts.append(f"{_readable(quote)} [{n}]")
    cited_chunks = {s.passage.chunk_id for s in chosen}
    sources.extend(_see_also(kb, passages, sentences, cited_chunks, k - len(sources), query_vector, first_n=len(sources) + 1))
    return Answer(" ".join(parts), False, language, sources[: max(k, len(groups))])


def _adjacent(kb: KnowledgeBase, a: ScoredSentence, b: ScoredSentence) -> bool:
    text = kb.document_text(a.passage.doc_id) or ""
    return b.start >= a.end and not text[a.end : b.start].strip()


def _see_also(
    kb: KnowledgeBase, passages: Sequence[Passage], sentences: Sequence[ScoredSentence], exclude: Iterable[str],
    limit: int, query_vector: np.ndarray, first_n: int = 1,
) -> list[Source]:
    """The closest other passages, each quoted by its best sentence."""
    excluded = set(exclude)
    best: dict[str, ScoredSentence] = {}
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
                sentence = ScoredSentence(passage, spans[i][0], spans[i][1], spans[i][2], scores[i])
        if sentence is not None:
            text = kb.document_text(passage.doc_id) or ""
            quote, start, end, score = text[sentence.start : sentence.end], sentence.start, sentence.end, sentence.score
        else:
            quote, start, end, score = passage.text, passage.start, passage.end, passage.score
        result.append(source(first_n + len(result), False, passage, quote, start, end, score))
    return result


def source(n: int, cited: bool, passage: Passage, quote: str, start: int, end: int, score: float) -> Source:
    """Source number `n` quoting `quote` (document offsets `start`..`end`) from `passage`."""
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

