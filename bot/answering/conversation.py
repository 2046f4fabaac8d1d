"""The subject of a conversation: does a question stand on its own, and what does a follow-up borrow?

A question that names what it is about ("Who signed the memorandum with the CEAC?", "Que
signifie MDDT ?") is searched as asked, whatever came before. A follow-up is a question that
cannot be understood alone: it starts by continuing the last one ("Et pour la CEAC ?", "And
when?"), points back at something said before ("Qui la préside ?", "Who will appoint it?",
"Combien de membres compte ce comité ?", "Par qui sa mise en œuvre est-elle pilotée ?"), or
has nothing left to be about once its question words are set aside ("Où ?", "Combien ?",
"Qui arrête la liste ?"). It borrows the subject of the conversation: the last question that
stood on its own, or that question with its subject replaced when a follow-up named a new one
("And the training commission?" after "Qui copréside la commission cybersécurité ?" is about
the training commission from then on). A follow-up that only asks something new about the
same subject ("Combien de participants y ont assisté ?") leaves the subject as it was, so the
next follow-up does not chain onto its words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from kb.text import fold, keyword_terms
from kb.vocabulary import ACRONYM, STOPWORDS, same_stem

_WORD = re.compile(r"[^\W_]+(?:[-–][^\W_]+)*")

# A question opening by continuing the previous one.
_CONTINUES = re.compile(
    r"^\s*(?:et|and|what about|how about|quid|also|aussi|alors|then|but|mais|same for|idem)\b", re.IGNORECASE
)
# "Et pour la CEAC ?", "And the training commission?": a noun phrase and nothing else.
_BARE_PHRASE = re.compile(
    r"^\s*(?:et pour|et en ce qui concerne|et|and for|and|what about|how about|quid de|pour)\s+"
    r"(?:(?:le|la|les|l'|l’|du|de la|des|the|celles?|ceux|celui)\s*(?:d['’]|de\s+|du\s+|des\s+|of\s+)?)?"
    r"(?P<np>[^?.!]+?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_ASKS_SOMETHING = re.compile(
    r"^(?:(?:à|a|dans|avec|par|pour|de|en|in|at|for|on|by|from|since|until|to)\s+)?(?:qui|que|quoi|quand|où|ou|comment|combien|pourquoi|quel\w*|lequel\w*|who|what|when|where|why|how|which)\b",
    re.IGNORECASE,
)

# Words that point back at something said before. French object clitics after a question word
# ("Qui la préside ?", "Quand les a-t-elle remises ?", "Qui l'a coprésidée ?"), "y"/"en" standing
# for a place or a thing ("y ont assisté", "y en a-t-il"; not the "il y a" of existence),
# demonstratives and "celles de" ("ce comité", "celles d'ASAN"), and English pronouns ("it" but
# not the "it" of "how long does it take").
_POINTS_BACK = re.compile(
    r"\b(?:qui|quand|comment|où|pourquoi|combien|ne)\s+(?:le|la|les|lui|leur)\s+"
    r"(?:[^\W\d_]+-t-\w+|(?-i:[a-zà-ÿ])[^\W\d_]*(?=\s*[?!.]*\s*$)|a|ont|avait|aura|est|sont)\b"
    r"|\bl['’](?:a|ont|avait|aura|a-t-\w+)\b"
    r"|\by\s+en\b|\b(?<!il\s)y\s+(?!a\b|a-t-il\b|avait\b|aura\b)[^\W\d_]+"
    r"|\ben\s+[^\W\d_]+-t-(?:il|elle|ils|elles)\b"
    r"|(?<![-\w])(?:ce|cet|cette|ces)\s+(?!que\b|qu['’]|qui\b|dont\b)[^\W\d_]"
    r"|\b(?:celui|celle|celles|ceux)(?:-ci|-là)?\b"
    r"|\b(?:it(?!\s+(?:take|takes|took|cost|costs|is possible|mean)\b)|its|they|them|their|he|she|him|her|"
    r"this|these|those)\b",
    re.IGNORECASE,
)
# "sa mise en œuvre", "ses obligations": the owner was named before, unless a name is here.
_POSSESSIVE = re.compile(r"\b(?:sa|son|ses|leur|leurs)\s+[^\W\d_]", re.IGNORECASE)
# "compte-t-elle", "se réunit-il": a subject pronoun, which only points back when no noun
# before it is its subject ("Dans quel délai SENUM doit-elle…" has one).
_INVERTED = re.compile(r"[^\W\d_]+-(?:t-)?(?:il|elle|ils|elles)\b", re.IGNORECASE)
# Question words and the noun they ask about ("Combien de membres", "quelle agence"): not a subject.
_ASKED_NOUN = re.compile(
    r"\b(?:combien\s+(?:de\s+|d['’])\s*[^\W\d_]+|(?:à|a|dans|avec|par|pour|de|en)?\s*quel(?:le)?s?\s+[^\W\d_]+)",
    re.IGNORECASE,
)
# Words that ask rather than name ("a lieu", "can", "many"): they are no subject either.
_ASKING_TERMS = frozenset(keyword_terms(
    "peut peuvent faut fait faire lieu a-t-il a-t-elle y-a-t-il est-ce est-il est-elle s'agit "
    "can could should would must may might many much long often why happen happens happened "
    "since until about also been being aura eu"
))
# A question of at most this many content words, naming nothing, names at most the thing it
# asks for ("la liste", "le jury final"), not what that thing belongs to.
_OWN_SUBJECT_WORDS = 3


def content_terms(question: str) -> list[str]:
    """The question's keyword terms, without the words that only ask."""
    return [t for t in keyword_terms(question) if t not in _ASKING_TERMS]


def names(question: str) -> list[str]:
    """Acronyms and capitalised words past the first: what the question is about by name."""
    words = _WORD.findall(question)
    return ACRONYM.findall(question) + [w for w in words[1:] if w[0].isupper() and w.upper() != w]


def points_back(question: str) -> bool:
    """Does the question refer to something said before it (a pronoun, a demonstrative)?"""
    if _POINTS_BACK.search(question):
        return True
    if _POSSESSIVE.search(question) and not names(question):
        return True
    inverted = _INVERTED.search(question)
    if inverted:
        before = _ASKED_NOUN.sub(" ", question[: inverted.start()])
        return not content_terms(before) and not names(before)
    return False


def stands_alone(question: str) -> bool:
    """Can the question be understood without the conversation before it?"""
    if _CONTINUES.match(question) or points_back(question):
        return False
    if names(question):
        return True
    return len(content_terms(question)) >= _OWN_SUBJECT_WORDS


@dataclass(frozen=True)
class Resolved:
    """A question read in its conversation: the search query, and the subject it leaves."""

    search: str
    subject: str | None


# Does a question borrow the subject? (question, subject, the borrowed search query) -> bool.
Borrows = Callable[[str, str, str], bool]


def rule_borrows(question: str, subject: str, borrowed: str) -> bool:
    """The rules' answer: a question borrows when it cannot stand alone (`stands_alone`)."""
    return not stands_alone(question)


def resolve(question: str, previous: Sequence[str], borrows: Borrows | None = None) -> Resolved:
    """The search query for `question` after the questions `previous` (oldest first).
    `borrows` decides whether a question borrows the subject of the conversation (default:
    `rule_borrows`; the answer path gives `bot.followup.FollowUpDecision`, which reads meaning)."""
    decide = borrows or rule_borrows
    subject: str | None = None
    for earlier in previous:
        subject = _step(earlier, subject, decide).subject
    return _step(question, subject, decide)


def borrowed(question: str, subject: str) -> Resolved:
    """`question` as a follow-up of `subject`: a bare follow-up naming a new subject ("And the
    training commission?") swaps it in; any other is searched as itself, then what the subject
    is about (the reader, which reads the search query, answers what is asked now, not the
    earlier question: "Quand a-t-il été lancé ?" after "Quels sont les quatre axes du New Deal
    technologique ?" is searched as "Quand a-t-il été lancé ? quatre axes du New Deal technologique")."""
    swapped = _swap_subject(question, subject)
    if swapped is not None:
        return Resolved(f"{swapped} {question}", swapped)
    return Resolved(f"{question} {topic(subject)}", subject)


def _step(question: str, subject: str | None, decide: Borrows) -> Resolved:
    if subject is None:
        return Resolved(question, question)
    follow_up = borrowed(question, subject)
    if decide(question, subject, follow_up.search):
        return follow_up
    return Resolved(question, question)


def topic(question: str) -> str:
    """What `question` is about, as written: from its first content word on, without the question
    words before it ("quatre axes du New Deal technologique" for "Quels sont les quatre axes du New
    Deal technologique ?")."""
    for word in _WORD.finditer(question):
        if not _INVERTED.fullmatch(word.group(0)) and content_terms(word.group(0)):
            return question[word.start():].strip(" ?!.") or question
    return question


def _swap_subject(question: str, subject: str) -> str | None:
    """`subject` about the noun phrase a bare follow-up names ("Et la commission formation ?"),
    or None when the follow-up asks something else or names nothing it can stand for."""
    phrase = _BARE_PHRASE.match(question)
    if not phrase or _ASKS_SOMETHING.match(phrase.group("np")):
        return None
    new = phrase.group("np").strip()
    span = _matching_phrase(new, subject)
    if span is not None:
        return f"{subject[: span[0]]}{new}{subject[span[1]:]}"
    new_names, old_names = ACRONYM.findall(new), ACRONYM.findall(subject)
    if new_names and old_names:
        swapped = subject
        for old in dict.fromkeys(old_names):
            swapped = re.sub(rf"\b{re.escape(old)}\b", new_names[0], swapped)
        return swapped
    return None


def _matching_phrase(new: str, subject: str) -> tuple[int, int] | None:
    """Where in `subject` the noun phrase that `new` replaces lies: the phrase around a word of
    the same stem as one of `new`'s ("commission" in "la commission cybersécurité" for "training
    commission"), from after its determiner to before the next function word."""
    new_words = [fold(w) for w in _WORD.findall(new) if fold(w) not in STOPWORDS]
    tokens = list(_WORD.finditer(subject))
    for i, token in enumerate(tokens):
        word = fold(token.group(0))
        if word in STOPWORDS or ACRONYM.fullmatch(token.group(0)):
            continue
        if any(same_stem(word, w) for w in new_words if not w.isdigit()):
            first = i
            while first > 0 and _in_phrase(tokens[first - 1].group(0)) and first - 1 > 0:
                first -= 1
            last = i
            while last + 1 < len(tokens) and _in_phrase(tokens[last + 1].group(0)):
                last += 1
            return tokens[first].start(), tokens[last].end()
    return None


_DETERMINERS = frozenset("each every chaque tout toute tous toutes deuxieme premier premiere".split())


def _in_phrase(word: str) -> bool:
    folded = fold(word)
    return folded not in STOPWORDS and folded not in _DETERMINERS and not _INVERTED.fullmatch(word)
