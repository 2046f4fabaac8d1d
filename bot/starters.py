"""Starter questions chosen for the viewer: each candidate is asked of the knowledge base with the
viewer's role before it is offered.

`bot.onboarding.candidate_questions` builds candidates from what a role may read (the programme,
its most named organisations, glossary acronyms). A candidate is offered to a role only when,
asked with that role, it comes back answered or "to check" with a cited source, and the answer
is not better in a document the role may not read: the same question asked with full access
(`admin`) must not cite first a document hidden from the role with a higher confidence. So a
visitor who reads public documents is never offered a question whose answer is internal or
restricted, and nobody keeps a list per role by hand.

Asking takes about a second a question on 2 cores, so the choice is cached per set of readable
access levels and language, and recomputed (in the background, the old choice served meanwhile)
when the store changes (`store_version`). The web app computes the French ones for every role
once its models are loaded (`StarterCache.warm`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable

from bot.answering.abstain import ANSWERED, TO_CHECK
from bot.library import visible_documents
from bot.onboarding import candidate_questions
from kb.schema import ACCESS_LEVELS, ROLE_ACCESS, ROLES, access_for_role
from kb.store import KnowledgeBase, StoreError

log = logging.getLogger(__name__)

STARTER_COUNT = 6
# The role whose answer tells where the best answer lies: it reads every access level.
FULL_ACCESS_ROLE = next(role for role in ROLES if ROLE_ACCESS[role] == ACCESS_LEVELS)


@dataclass(frozen=True)
class Asked:
    """A candidate question as the knowledge base answered it for one role."""

    question: str
    outcome: str | None
    confidence: float | None
    first_source: str | None  # path of the first cited document, None when nothing is cited


def ask(kb: KnowledgeBase, question: str, role: str) -> Asked:
    """Ask `question` with `role` through the answer path, as the chat would."""
    from bot.answering import answer  # the answer path loads models: only when a question is asked

    result = answer(question, role=role, kb=kb)
    cited = next((s for s in result.sources if s.cited), None)
    return Asked(question, result.outcome, result.confidence, cited.path if cited else None)


def suits(mine: Asked, broadest: Asked | None, readable: set[str]) -> bool:
    """Is a question asked with a role (`mine`) worth offering to it? It must come back answered
    or to check with a cited source; and when the question asked with full access (`broadest`)
    cites first a document outside `readable` (the paths the role may read), the role's own
    answer must be answered, or at least as sure: else the answer lies in a hidden document."""
    if mine.outcome not in (ANSWERED, TO_CHECK) or mine.first_source is None:
        return False
    if broadest is None or broadest.first_source is None or broadest.first_source in readable:
        return True
    if mine.outcome == ANSWERED:
        return True
    return (mine.confidence or 0.0) >= (broadest.confidence or 0.0)


def starter_questions(kb: KnowledgeBase, role: str, language: str = "fr", count: int = STARTER_COUNT,
                      candidates: list[str] | None = None,
                      asker: Callable[[KnowledgeBase, str, str], Asked] = ask) -> list[str]:
    """The starter questions for `role` in `language`: the candidates (default
    `candidate_questions`) that suit the role (`suits`), the surest `count` of them, in the
    candidates' order. Asks the knowledge base: cache the result (`StarterCache`)."""
    if not kb.exists or kb.chunk_count() == 0:
        return []
    candidates = candidate_questions(kb, role, language) if candidates is None else candidates
    readable = {r.path for r in visible_documents(kb, role)}
    full = access_for_role(role) == ACCESS_LEVELS
    kept: list[tuple[int, Asked]] = []
    for n, question in enumerate(candidates):
        mine = asker(kb, question, role)
        broadest = None if full or mine.outcome not in (ANSWERED, TO_CHECK) else asker(kb, question, FULL_ACCESS_ROLE)
        if suits(mine, broadest, readable):
            kept.append((n, mine))
        else:
            log.info("starter left out role=%s question=%r outcome=%s", role, question, mine.outcome)
    surest = sorted(kept, key=lambda item: (item[1].outcome != ANSWERED, -(item[1].confidence or 0.0), item[0]))
    return [asked.question for _, asked in sorted(surest[:count], key=lambda item: item[0])]


def store_version(kb: KnowledgeBase) -> str:
    """Changes whenever an ingestion changed the store: the last ingestion's time and the passage count."""
    if not kb.exists:
        return "empty"
    return f"{kb.get_meta('last_ingest_at')}:{kb.chunk_count()}"


@dataclass
class _Entry:
    version: str
    questions: list[str]


class StarterCache:
    """Starter questions per set of readable access levels and language, for one knowledge base,
    recomputed when the store changes. `choose(kb, role, language, asker)` is
    `starter_questions` (tests give another)."""

    def __init__(self, kb: KnowledgeBase, choose: Callable[..., list[str]] | None = None) -> None:
        self.kb = kb
        self.choose = choose or (lambda kb, role, language, asker: starter_questions(kb, role, language, asker=asker))
        self._entries: dict[tuple[tuple[str, ...], str], _Entry] = {}
        self._lock = threading.Lock()  # guards _entries and _pending
        self._computing = threading.Lock()  # one choice at a time: each asks many questions
        self._pending: set[tuple[tuple[str, ...], str]] = set()
        # Answers already asked for this store version, by (access levels, question): the
        # full-access answer of a candidate serves every role that checks against it.
        self._asked: dict[tuple[tuple[str, ...], str], Asked] = {}
        self._asked_version = ""

    def ready(self, role: str, language: str) -> list[str] | None:
        """The current choice for `role` and `language` when one is cached (possibly for an older
        store, which then starts being recomputed in the background), else None. Never waits."""
        key = (access_for_role(role), language)
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.version != self._version():
            self._refresh_later(role, language)
        return entry.questions

    def get(self, role: str, language: str) -> list[str]:
        """The starter questions for `role` in `language`: the cached choice, or chosen now."""
        cached = self.ready(role, language)
        return cached if cached is not None else self._compute(role, language)

    def warm(self, languages: tuple[str, ...] = ("fr",)) -> None:
        """Choose the starters of every set of access levels in `languages` now (the app calls it
        once its models are loaded); failures are logged."""
        for language in languages:
            for role in ROLES:  # roles with the same access levels share one choice
                self._compute(role, language)

    def _version(self) -> str:
        try:
            return store_version(self.kb)
        except StoreError:
            return "unreadable"

    def _compute(self, role: str, language: str) -> list[str]:
        key = (access_for_role(role), language)
        with self._computing:
            version = self._version()
            with self._lock:
                entry = self._entries.get(key)
            if entry is not None and entry.version == version:
                return entry.questions  # chosen meanwhile by another caller
            if self._asked_version != version:
                self._asked, self._asked_version = {}, version
            try:
                questions = self.choose(self.kb, role, language, self._ask_once)
            except StoreError as exc:  # a server down is said once, without a traceback; chosen again later
                log.warning("starter questions not chosen role=%s language=%s: %s", role, language, exc)
                return entry.questions if entry is not None else []
            except Exception:  # noqa: BLE001 — the page must still show: no starters rather than an error
                log.exception("starter questions not chosen role=%s language=%s", role, language)
                return entry.questions if entry is not None else []
            with self._lock:
                self._entries[key] = _Entry(version, questions)
            log.info("starter questions chosen access=%s language=%s count=%d", ",".join(key[0]), language,
                     len(questions))
            return questions

    def _ask_once(self, kb: KnowledgeBase, question: str, role: str) -> Asked:
        key = (access_for_role(role), question)
        if key not in self._asked:
            self._asked[key] = ask(kb, question, role)
        return self._asked[key]

    def _refresh_later(self, role: str, language: str) -> None:
        key = (access_for_role(role), language)
        with self._lock:
            if key in self._pending:
                return
            self._pending.add(key)

        def refresh() -> None:
            try:
                self._compute(role, language)
            finally:
                with self._lock:
                    self._pending.discard(key)

        threading.Thread(target=refresh, name="starters", daemon=True).start()
