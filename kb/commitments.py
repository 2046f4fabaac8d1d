"""The roadmap register's shared vocabulary: a commitment as one document states it,
the programme's bodies that own commitments, and how two actions are compared.

Ingestion extracts `Commitment`s (ingest/roadmap.py), the store keeps them beside the
document that states them (kb/store.py), and the bot merges the mentions of one action
across documents into register items (bot/roadmap.py); both sides name owners and
compare actions with the functions below.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date

from kb.text import fold, keyword_terms
from kb.vocabulary import BODIES, STATUSES, STEM_PREFIX, TIMING_WORDS

_BODY = re.compile("|".join(f"(?P<b{i}>{pattern})" for i, (_, pattern) in enumerate(BODIES)))
_BODY_ALT = "|".join(f"(?:{pattern})" for _, pattern in BODIES)
_JOINED = rf"(?:\s*(?:,|\bet\b|\band\b)\s*(?:l['’]|la |le |the )?(?:{_BODY_ALT}))*"
BODY_CHAIN_AT_END = re.compile(rf"(?:{_BODY_ALT}){_JOINED}\s*$")
BODY_CHAIN = re.compile(rf"(?:{_BODY_ALT}){_JOINED}")


@dataclass(frozen=True)
class Commitment:
    """One action, deliverable or commitment stated by one document.

    `quote` is exactly `doc.text[start:end]`; `deadline` is the date the wording in
    `deadline_text` resolves to (None when it does not give one, e.g. "chaque année");
    `status` is what the document says ("unknown" when it says nothing).
    """

    action: str
    owner: str
    commission: str | None
    deadline: date | None
    deadline_text: str
    status: str
    quote: str
    start: int
    end: int
    page: int | None = None
    section: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r}: choose one of {', '.join(STATUSES)}")
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")


def body_mentions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, canonical name) of every body named in `text`, in order; names that
    are part of a compound ("protocole SENUM–ASAN") do not count."""
    found = []
    for match in _BODY.finditer(text):
        before, after = text[max(0, match.start() - 1) : match.start()], text[match.end() : match.end() + 1]
        if before in "–-/" and before or after in ("–", "-") and after:
            continue
        index = int(match.lastgroup[1:])
        found.append((match.start(), match.end(), BODIES[index][0]))
    return found


def parse_owner(text: str) -> str:
    """A canonical owner for an owner cell or phrase ("MCTN and IDDA" -> "MCTN et IDDA";
    "CEAC, avec l'appui de l'IDDA" -> "CEAC"); unknown names are kept as written."""
    text = re.split(r",?\s+(?:avec|with)\b", text, maxsplit=1)[0].strip(" .;:")
    names = list(dict.fromkeys(name for _, _, name in body_mentions(text)))
    if names:
        return " et ".join(names)
    return re.sub(r"\s+", " ", text)


def owners_overlap(a: str, b: str) -> bool:
    """True when two owners share a body ("SENUM et MDDT" and "SENUM")."""
    return bool(set(owner_keys(a)) & set(owner_keys(b)))


def owner_keys(owner: str) -> tuple[str, ...]:
    """The bodies of an owner, folded: "MCTN et IDDA" -> ("mctn", "idda")."""
    return _owner_keys(owner)


@functools.lru_cache(maxsize=4096)
def _owner_keys(owner: str) -> tuple[str, ...]:
    # Cached: merging the register compares every pair of mentions' owners.
    return tuple(fold(part).strip() for part in re.split(r"\s+(?:et|and)\s+|,\s*", owner) if part.strip())


def action_stems(text: str) -> frozenset[str]:
    """Five-letter stems of a text's content words and numbers: enough for "Inventaire"
    and "Inventory", "prioritaires" and "priority" to meet across languages."""
    stems = set()
    for term in keyword_terms(text):
        if term.isdigit():
            if not (len(term) == 4 and term.startswith("20")):  # years say when, not what
                stems.add(term)
        elif len(term) >= 3 and term[:STEM_PREFIX] not in _not_action():
            stems.add(term[:STEM_PREFIX])
    return frozenset(stems)


@functools.cache
def _not_action() -> frozenset[str]:
    """Words about timing or obligation, not about the action itself (five-letter stems)."""
    return frozenset(t[:STEM_PREFIX] for t in keyword_terms(TIMING_WORDS))
