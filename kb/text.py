"""Text analysis shared by ingestion and retrieval: keyword terms and sentence boundaries."""

from __future__ import annotations

import functools
import re
import threading
import unicodedata

import snowballstemmer

from kb.vocabulary import STOPWORDS

# Bump when `keyword_terms` changes: the store then rebuilds its keyword index from
# the stored chunk texts (no re-embedding needed).
# 2: French Snowball stemming; interrogative words (combien, comment, ...) are stopwords.
KEYWORD_ANALYZER_VERSION = "2"

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# French elisions glue an article or pronoun to the next word: "l'accord", "d’ici".
_ELISION = re.compile(r"\b(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)

# Snowball stemmers keep state while they work: one per thread.
_stemmers = threading.local()


def fold(text: str) -> str:
    """Lower-case and strip diacritics ("Échéance" -> "echeance")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def keyword_terms(text: str) -> list[str]:
    """Terms for the keyword (BM25) index: words of 2+ characters, stopwords removed,
    reduced to their folded French Snowball stem (so "Dépenses" and "depense" match)."""
    # NFKC first: decomposed accents (PDF text) and ligatures must not split words.
    words = _WORD.findall(unicodedata.normalize("NFKC", _ELISION.sub(" ", text).casefold()))
    return [term for term in map(_term, words) if term is not None]


@functools.lru_cache(maxsize=200_000)
def _term(word: str) -> str | None:
    """The keyword term of one lower-case word, or None for stopwords and single letters:
    its folded French Snowball stem ("dépenses" -> "depens").

    The stemmer sees the accents (its rules need them); the stem is folded after. It
    also merges most English plurals ("meetings" -> "meeting") and leaves numbers alone.
    """
    folded = fold(word)
    if len(folded) < 2 or folded in STOPWORDS:
        return None
    stemmer = getattr(_stemmers, "french", None)
    if stemmer is None:
        stemmer = _stemmers.french = snowballstemmer.stemmer("french")
    return fold(stemmer.stemWord(word))


# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) when the
# next non-space character starts a new sentence. Abbreviations are checked separately.
_SENTENCE_END = re.compile(r"[.!?…]+[\"»”’)\]]*(?=\s+[\"«“(\[]?[A-ZÀ-ÖØ-Þ0-9])|\n\s*\n|\n(?=\s*(?:[-*•–]|\d+[.)])\s)")
_ABBREVIATIONS = frozenset(
    (
        "m mm mme mmes mlle dr pr me art al cf etc ex p pp n no vol ch fig st sr jr mr mrs ms vs "
        "env min max sq janv févr fév avr juil sept oct nov déc dec jan feb mar apr jun jul aug sep"
    ).split()
)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Offsets of the sentences of `text[start:end]`, whitespace trimmed, in order."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        stop = match.end()
        if match.group(0)[:1] == ".":
            word = re.search(r"(\w+)\.$", text[max(start, match.start() - 12) : match.start() + 1])
            if word and (word.group(1).casefold() in _ABBREVIATIONS or len(word.group(1)) == 1 and word.group(1).isupper()):
                continue
        _append_trimmed(text, cursor, stop, spans)
        cursor = stop
    _append_trimmed(text, cursor, end, spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
