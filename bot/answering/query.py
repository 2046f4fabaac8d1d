"""The question, read once: the first stage of the answer path.

`parse_query` checks the question and reads from it everything the later stages need
(language, the search query of a follow-up, the names, whether it asks for a list, whether
it is a question about commitments), so that routing, retrieval, sentence scoring and
composing read a `Query` instead of the text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping, Sequence

from bot.answering.conversation import Borrows, resolve
from bot.messages import message
from bot.roadmap import CommitmentQuery, recognise
from kb.language import identify

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
# The conversation a follow-up is read against: its last questions, within these bounds (older
# ones are dropped, with a log note). Only the last few matter (_CONTEXT_TURNS); the bound keeps
# a client from sending megabytes of "history" to be read.
MAX_HISTORY_TURNS = 20
MAX_HISTORY_CHARS = 8000
# A word, hyphenated compounds kept whole ("start-up", "trente-quatre").
WORD_TOKEN = re.compile(r"[^\W_]+(?:[-–][^\W_]+)*")


class QuestionError(ValueError):
    """The question or its filters cannot be used; the message says why."""


@dataclass(frozen=True)
class Query:
    """A checked question and what the answer stages read from it."""

    question: str
    language: str
    # The search query: the question, with the subject of the conversation for a follow-up
    # ("Et pour la CEAC ?" after "Quelles sont les obligations de la SENUM ?").
    search: str
    # Capitalised words past the first: names that no document may know.
    names: tuple[str, ...]
    # Its words, each with whether it is a name: what the documents must know for the
    # question to be answerable.
    salient: tuple[tuple[str, bool], ...]
    wants_list: bool
    # What it asks of the commitments (the roadmap), or None for a question the documents answer.
    commitments: CommitmentQuery | None

    @property
    def follow_up(self) -> bool:
        """Was the subject of an earlier question added to the search?"""
        return self.search != self.question


def parse_query(question: str, history: Sequence[Any] = (), today: date | None = None) -> Query:
    """Check `question` and read it once; `history` holds the earlier questions (strings,
    (question, answer) pairs or chat messages), `today` dates the commitment questions' "before June".

    Raises QuestionError for an empty, blank or overlong question.
    """
    language = question_language(question if isinstance(question, str) else "")
    text = _check_question(question, language)
    history = bounded_history(history, language)
    words = WORD_TOKEN.findall(text)
    return Query(
        question=text,
        language=language,
        search=contextual_query(text, history),
        names=tuple(w for i, w in enumerate(words) if i > 0 and w[0].isupper()),
        salient=tuple((w, i > 0 and w[0].isupper()) for i, w in enumerate(words)),
        wants_list=asks_for_list(text),
        commitments=recognise(text, today),
    )


def bounded_history(history: Any, language: str = "fr") -> list[str]:
    """The last questions of `history` (see `parse_query`), at most MAX_HISTORY_TURNS of them
    and MAX_HISTORY_CHARS characters in all; QuestionError when it is not a list."""
    if history is None:
        return []
    if isinstance(history, (str, bytes, Mapping)) or not isinstance(history, Sequence):
        raise QuestionError(message("bad_history", language))
    kept: list[str] = []
    size = 0
    # From the newest turn back: a huge history is never read past what is kept.
    for turn in reversed(history):
        questions = _previous_questions([turn])
        if not questions:
            continue
        size += len(questions[0])
        if len(kept) == MAX_HISTORY_TURNS or size > MAX_HISTORY_CHARS:
            log.info("history bounded kept=%d dropped=%d max_turns=%d max_chars=%d", len(kept),
                     len(history) - len(kept), MAX_HISTORY_TURNS, MAX_HISTORY_CHARS)
            break
        kept.append(questions[0])
    return kept[::-1]


def _check_question(question: str, language: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise QuestionError(message("empty_question", language))
    # Control characters carry no meaning in a question and can confuse the tokenizer.
    cleaned = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", question).strip()
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise QuestionError(message("long_question", language, limit=MAX_QUESTION_CHARS))
    if not cleaned:
        raise QuestionError(message("empty_question", language))
    return cleaned


_FRENCH_HINTS = frozenset(
    "le la les des du un une est sont quel quelle quels quelles qui que quoi quand comment pourquoi "
    "combien où et pour dans avec sur par au aux ce cette ces qu est-ce il elle ils elles son sa ses "
    "leur leurs été sera doit".split()
)
_ENGLISH_HINTS = frozenset(
    "the a an is are was were what which who whom when where why how does do did of to in for with "
    "on by and or it its this that these those be been will should can has have".split()
)


_SURE = 0.9  # any threshold from 0.6 to 0.999 gives the same 31/32


def question_language(text: str) -> str:
    """'fr' or 'en': the language the answer's fixed words should use."""
    # py3langid limited to French and English decides; the hint words break its near-ties. On the 82
    # questions of known language (evals/data en_to_fr/fr_to_en, tests) every method scores 82/82; on
    # 32 short questions ("Et ASAN ?", "Deadline?") the hint words alone, falling back to the full
    # py3langid, get 29/32, py3langid fr/en alone 29/32, fr/en with the hints below 0.9: 31/32.
    words = re.findall(r"[a-zà-ÿ'-]+", text.casefold())
    if not any(len(set(w)) > 1 for w in words):
        return "fr"  # no word at all ("xxxx", "2026 ?"): nothing to identify, French first
    language, probability = identify(text)
    if probability >= _SURE:
        return language
    french = sum(w in _FRENCH_HINTS or "'" in w and w.split("'")[0] in ("l", "d", "qu", "j", "n", "s", "c") for w in words)
    english = sum(w in _ENGLISH_HINTS for w in words)
    if re.search(r"[éèêàâçùûôîœ]", text.casefold()):
        french += 1
    if french == english:
        # Acronyms, names and numbers alone look English to the model: with no lowercase word
        # there is nothing to go on, and the answer stays in French as before.
        return language if re.search(r"[a-zß-ÿ]{2}", text) else "fr"
    return "fr" if french > english else "en"


_CONTEXT_TURNS = 6


def contextual_query(question: str, history: Sequence[Any], borrows: Borrows | None = None) -> str:
    """The search query for `question` given the conversation so far.

    A question that stands on its own is searched as asked; a follow-up ("Et pour la CEAC ?",
    "Qui la préside ?") borrows the subject of the conversation (`bot.answering.conversation`).
    `borrows` decides which questions are follow-ups (default: the rules of `bot.answering.conversation`).
    """
    # The last few questions are enough to find the subject.
    return resolve(question, _previous_questions(history)[-_CONTEXT_TURNS:], borrows).search


def _previous_questions(history: Sequence[Any]) -> list[str]:
    questions: list[str] = []
    for turn in history or ():
        if isinstance(turn, str):
            questions.append(turn)
        elif isinstance(turn, Mapping):
            if turn.get("role") in ("user", "human") and isinstance(turn.get("content"), str):
                questions.append(turn["content"])
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            questions.append(turn[0])
    return [q for q in questions if q.strip()]


_LIST_QUESTION = re.compile(
    r"\b(r[ée]sum\w*|list\w*|[ée]num[ée]r\w*|quel(?:le)?s sont|what (?:are|were)|which (?:are|were)|summar\w*)\b",
    re.IGNORECASE,
)


def asks_for_list(question: str) -> bool:
    """Does the question ask for several items or a summary ("Quelles sont les décisions…",
    "Résume…", "What are…")?"""
    return bool(_LIST_QUESTION.search(question))
