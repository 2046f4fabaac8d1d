"""Onboarding material built from the knowledge base: programme overview, glossary, timeline, candidate starter questions.

Nothing here is written by hand into the UI: every entry comes from the documents a role
may read, with its source.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from kb.store import DocumentRecord, KnowledgeBase, SearchFilter
from kb.vocabulary import with_article

from bot.library import visible_documents

# A glossary line in a list: "- SENUM : Sénégal Numérique SA" (French spacing or not).
_LIST_ENTRY = re.compile(r"^[ \t]*[-*•][ \t]*(?P<acronym>[A-Z][A-Za-z0-9&]{1,11}(?:, [A-Z][A-Za-z0-9]{0,11})*)[ \t]*:[ \t]*(?P<expansion>[^\n]{3,200})$", re.M)
# "Sénégal Numérique SA (SENUM)" and "SENUM (Sénégal Numérique SA)".
_PAREN_AFTER = re.compile(r"(?P<before>[^\n().;:]{3,160}?)\s\((?P<acronym>[A-Z][A-Za-z]{1,9})\)")
_PAREN_INSIDE = re.compile(r"\b(?P<acronym>[A-Z][A-Z0-9]{1,9})\s\((?P<expansion>[^()\n]{4,120})\)")
_MAX_WORDS = 10


@dataclass(frozen=True)
class GlossaryEntry:
    """An acronym, its expansion as a document gives it, and where."""

    acronym: str
    expansion: str
    title: str
    path: str
    date: str


@dataclass(frozen=True)
class TimelineEvent:
    """A dated document (meeting notes, protocols, strategies…)."""

    date: str
    title: str
    doc_type: str
    path: str


def glossary(kb: KnowledgeBase, role: str) -> list[GlossaryEntry]:
    """Acronyms found in the documents `role` may read, one entry each, sorted.

    Explicit glossary lines win over expansions guessed from parentheses; among
    those, the form found most often wins.
    """
    if not kb.exists:
        return []
    rows = kb.passage_texts(SearchFilter.for_role(role))
    # Rank: 0 a glossary line that spells the acronym, 1 a parenthesised expansion,
    # 2 a list line that does not spell it (often a list of tasks, not an expansion).
    candidates: dict[str, dict[tuple[int, str], list[GlossaryEntry]]] = {}
    for text, title, path, date in rows:
        for m in _LIST_ENTRY.finditer(text):
            acronym, expansion = m["acronym"], m["expansion"].strip().rstrip(".;")
            if sum(ch.isupper() for ch in acronym) >= 2 or "," in acronym:
                rank = 0 if "," in acronym or _spells(expansion, acronym) else 2
                candidates.setdefault(acronym, {}).setdefault((rank, expansion), []).append(
                    GlossaryEntry(acronym, expansion, title, path, date))
        for acronym, expansion in _parenthesised(text):
            candidates.setdefault(acronym, {}).setdefault((1, expansion), []).append(
                GlossaryEntry(acronym, expansion, title, path, date))
    entries = {}
    for acronym, forms in candidates.items():
        # Best rank first, then the form found most often, then the first found.
        (_, _), found = min(forms.items(), key=lambda item: (item[0][0], -len(item[1])))
        entries[acronym] = found[0]
    return sorted(entries.values(), key=lambda e: _fold(e.acronym))


def timeline(kb: KnowledgeBase, role: str) -> list[TimelineEvent]:
    """Dated documents `role` may read, oldest first."""
    events = [TimelineEvent(r.date, r.title, r.doc_type, r.path) for r in visible_documents(kb, role) if r.date]
    return sorted(events, key=lambda e: (e.date, e.title))


def documents_by_type(kb: KnowledgeBase, role: str) -> dict[str, list[DocumentRecord]]:
    """Documents `role` may read grouped by type, newest first within a type."""
    groups: dict[str, list[DocumentRecord]] = {}
    for record in visible_documents(kb, role):
        groups.setdefault(record.doc_type, []).append(record)
    return dict(sorted(groups.items()))


def candidate_questions(kb: KnowledgeBase, role: str, language: str = "fr") -> list[str]:
    """Questions a newcomer might ask first, built from what `role` may read: the programme's goal
    and commissions, the organisations the documents mention most, two acronyms of the glossary.
    They are only candidates: `bot.starters` keeps those the knowledge base answers for the role."""
    organisations = Counter(o for r in visible_documents(kb, role) for o in r.organisations if o.isupper())
    top = [name for name, _ in organisations.most_common(3)]
    acronyms = [e.acronym for e in glossary(kb, role) if e.acronym not in top and e.acronym.isalpha()][:2]
    if language == "en":
        questions = ["What is the goal of the cooperation programme?", "Which joint commissions were set up?"]
        questions += [f"What is the role of {name}?" for name in top]
        questions.append("Who should a new staff member contact first?")
        questions += [f"What does {name} stand for?" for name in acronyms]
    else:
        questions = ["Quel est l'objectif du programme de coopération ?", "Quelles commissions mixtes ont été créées ?"]
        questions += [f"Que fait {with_article(name)} dans le programme ?" for name in top]
        questions.append("À qui un nouvel agent doit-il s'adresser en premier ?")
        questions += [f"Que signifie {name} ?" for name in acronyms]
    return questions


def _parenthesised(text: str) -> list[tuple[str, str]]:
    found = []
    for m in _PAREN_AFTER.finditer(text):
        expansion = _matching_suffix(m["before"], m["acronym"])
        if expansion:
            found.append((m["acronym"], expansion))
    for m in _PAREN_INSIDE.finditer(text):
        expansion = m["expansion"].strip()
        if len(expansion.split()) <= _MAX_WORDS and _spells(expansion, m["acronym"]):
            found.append((m["acronym"], expansion))
    return found


def _matching_suffix(before: str, acronym: str) -> str | None:
    """The tail of `before` that spells the acronym: the longest one starting with a capital
    ("Direction de l'administration…"), else the shortest."""
    words = before.split()
    spelling = [" ".join(words[-size:]) for size in range(1, min(len(words), _MAX_WORDS) + 1)]
    spelling = [c.strip(" ,'\"«»") for c in spelling if _spells(c, acronym)]
    capitalised = [c for c in spelling if c[:1].isupper()]
    if capitalised:
        return capitalised[-1]
    return spelling[0] if spelling else None


def _spells(expansion: str, acronym: str) -> bool:
    """True when the expansion starts with the acronym's first letter and holds its letters in order."""
    folded, letters = _fold(expansion), _fold(acronym)
    if not folded or folded[0] != letters[0] or folded.replace(" ", "") == letters:
        return False
    position = 0
    for letter in letters[1:]:
        position = folded.find(letter, position + 1)
        if position < 0:
            return False
    return True


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

