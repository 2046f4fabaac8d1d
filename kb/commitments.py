"""Commitments, shared by ingestion and the bot: a commitment as one document states it
(`Mention`), who owns it and how two actions are compared.

Ingestion extracts the `Mention`s of each document (ingest/roadmap/), the store keeps them
beside the document that states them (kb/store.py), and the bot merges the mentions of one
action across documents into commitments (bot/roadmap.py); both sides name owners and
compare actions with the functions below. An owner is whoever the document names (a body,
a person with their body in parentheses, several of them); the programme's known bodies
(`kb.vocabulary.BODIES`) only give one spelling to a body named several ways.
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


MENTION_KINDS = ("commitment", "report", "update")


@dataclass(frozen=True)
class Mention:
    """One action, deliverable or commitment stated by one document.

    `quote` is exactly `doc.text[start:end]`; `deadline` is the date the wording in
    `deadline_text` resolves to (None when it does not give one, e.g. "chaque année");
    `status` is what the document says ("unknown" when it says nothing). `kind` is
    "commitment" for an action to be done, or "report" for a later statement that an action
    was done ("All five joint commissions were installed on 17 February 2026": status done,
    the day it was done as `deadline` and `deadline_text`), or "update" for a later statement
    that moves a deadline without naming who owns the work ("Le Demo Day de Dakar est décalé
    au 20 novembre 2026"). Reports and updates only change a commitment they are found to be
    about; they are never commitments of their own.
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
    kind: str = "commitment"

    def __post_init__(self) -> None:
        if self.kind not in MENTION_KINDS:
            raise ValueError(f"kind {self.kind!r}: choose one of {', '.join(MENTION_KINDS)}")
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


# The article before a name ("la SENUM", "l'ADIE", "the DSO") and a person's title ("M.",
# "Mme", "Mrs", "Dr"): neither is part of the name.
ARTICLE = re.compile(r"^(?:l['’]\s*|(?:la|le|les|the)\s+)", re.I)
HONORIFIC = r"(?:Mrs|Mr|Ms|Mme|Mlle|Dr|Pr|M)\.?(?=\s)"
_TITLE = re.compile(rf"^{HONORIFIC}\s+", re.I)
# Where an owner phrase names several owners: "SENUM / ASAN", "MCTN et IDDA", "A, B and C";
# not inside parentheses: "M. Sow (Agence X, Dakar)" is one owner (see `split_owners`).
_SEPARATOR_WORD = re.compile(r"/|&|;|,|\bet\b|\band\b")


def split_owners(text: str) -> list[str]:
    """The parts of an owner phrase between its separators ('/', '&', ';', ',', "et", "and"),
    stripped of spaces; a separator followed by a ')' before any '(' is inside parentheses
    and does not count. Linear in the length of `text`: a filter box may hold any text."""
    # closes[i]: the first parenthesis at or after i is ')'. Computed once from the end, where a
    # lookahead per separator would scan the rest of the text again each time.
    closes = [False] * (len(text) + 1)
    for i in range(len(text) - 1, -1, -1):
        closes[i] = text[i] == ")" if text[i] in "()" else closes[i + 1]
    parts, start = [], 0
    for match in _SEPARATOR_WORD.finditer(text):
        if not closes[match.end()]:
            parts.append(text[start : match.start()].strip())
            start = match.end()
    parts.append(text[start:].strip())
    return parts


def parse_owner(text: str) -> str:
    """The owner a cell or phrase names, its names joined by " et ": a known body in its one
    spelling ("Sénégal Numérique SA" -> "SENUM", "MCTN and IDDA" -> "MCTN et IDDA"), any
    other name as written ("Mme Ndiaye (ADIE)", "Agence X"); a support role is not an owner
    ("CEAC, avec l'appui de l'IDDA" -> "CEAC")."""
    text = re.split(r",?\s+(?:avec|with)\b", text, maxsplit=1)[0].strip(" .;:")
    known = body_mentions(text)
    # Known names are kept whole while the phrase is cut at its separators
    # ("Commission mixte attraction et rétention des talents", "commission start-up/État").
    masked = text
    for number, (start, end, _) in reversed(list(enumerate(known))):
        masked = f"{masked[:start]}\x00{number}\x00{masked[end:]}"
    names: list[str] = []
    for part in split_owners(masked):
        names += _owner_names(part.strip(" .;:"), text, known)
    if names:
        return " et ".join(dict.fromkeys(names))
    # No name stands out (a lower-case phrase): the known bodies it names, else the text.
    return " et ".join(dict.fromkeys(name for _, _, name in known)) if known else re.sub(r"\s+", " ", text)


_MASK = re.compile(r"\x00(\d+)\x00")


def _owner_names(part: str, text: str, known: list[tuple[int, int, str]]) -> list[str]:
    """The owner names of one part of an owner phrase: a known body's spelling when the
    part is only that body (or the body with words that name no one: "la SENUM"), the part
    as written when it is a name ("M. Diallo (SENUM)"), nothing for a lower-case phrase."""
    bare = ARTICLE.sub("", part)
    bodies = [known[int(n)] for n in _MASK.findall(bare)]
    rest = _MASK.sub(" ", bare)
    if bodies and not any(word[:1].isupper() for word in re.findall(r"[^\W\d_][\w'’.-]*", rest)):
        return [name for _, _, name in bodies]
    if bare[:1].isupper() or bare[:1].isdigit() or bare.startswith("\x00"):
        return [" ".join(_MASK.sub(lambda m: text[known[int(m.group(1))][0] : known[int(m.group(1))][1]], bare).split())]
    return []


def owner_keys(owner: str) -> tuple[str, ...]:
    """The names of an owner, folded, without articles or titles: "MCTN et IDDA" ->
    ("mctn", "idda"); "M. Diallo (SENUM) / ARTP" -> ("diallo (senum)", "artp")."""
    return _owner_keys(owner)


@functools.lru_cache(maxsize=4096)
def _owner_keys(owner: str) -> tuple[str, ...]:
    # Cached: merging commitments compares every pair of mentions' owners.
    keys = []
    for part in split_owners(owner):
        name = _TITLE.sub("", ARTICLE.sub("", part.strip()))
        if name:
            keys.append(" ".join(fold(name).split()))
    return tuple(keys)


def owner_bodies(owner: str) -> frozenset[str]:
    """The owner's names with a person counted as their body too: "M. Diallo (SENUM)"
    -> {"diallo (senum)", "senum"}."""
    keys = set(owner_keys(owner))
    for key in list(keys):
        affiliation = re.search(r"\(([^()]+)\)\s*$", key)
        if affiliation and key not in _known_keys():  # "Cellule de coordination (MCTN)" is a body of its own
            keys.add(affiliation.group(1).strip())
    return frozenset(keys)


@functools.cache
def _known_keys() -> frozenset[str]:
    return frozenset(fold(name) for name, _ in BODIES)


def owners_overlap(a: str, b: str) -> bool:
    """True when two owners share a name or a person's body ("SENUM et MDDT" and "SENUM";
    "M. Diallo (SENUM)" and "SENUM")."""
    return bool(owner_bodies(a) & owner_bodies(b))


# A purpose clause says why, not what: "..., so that comments can be collected".
PURPOSE_CLAUSE = re.compile(
    r"[,;]?\s+\b(?:so that|in order to|so as to|afin de|afin que|pour que|de sorte que)\b.*$", re.I | re.S)


# What is said about the action's timing or state, after it ("…, attendue fin juin, n'a pas pu avoir
# lieu : …", "…: overdue; SENUM expects…", "…: dates not yet fixed"): not what is done.
STATUS_TAIL = re.compile(
    r"\s*(?:[,;:(]|\s[–—-]\s)\s*(?:(?:initialement|initially|originally)\s+)?"
    r"(?:attendue?s?|prévue?s?|expected|due|planned|scheduled|overdue|en retard|late|dates?|reportée?s?|postponed|"
    r"n['’]\s*a\s+pas|has not|have not|was not|were not|not yet|pas encore)\b.*$", re.I | re.S)
_LEAD = re.compile(r"\s*(?:(?:la|le|les|the)\s+|l['’]\s*)?", re.I)
_JOINER = re.compile(r"\s*(?:,|\bet\b|\band\b|&|/)\s*(?:(?:la|le|les|the)\s+|l['’]\s*)?", re.I)


def meaning_text(action: str, owner: str = "") -> str:
    """What is embedded to compare two mentions' actions by meaning: what is done, without a
    purpose clause, without what a document says after it of its timing or state
    (`STATUS_TAIL`: "…, attendue fin juin, n'a pas pu avoir lieu : …", "…: overdue"), nor the
    names of who does it when they open the action ("SENUM corrige
    les 4 vulnérabilités" -> "corrige les 4 vulnérabilités"; "Première réunion du comité de
    pilotage" keeps its committee). Owners are compared on their own (bot.roadmap_links):
    left in, a subject makes every action of one body alike."""
    text = STATUS_TAIL.sub("", PURPOSE_CLAUSE.sub("", action)).strip() or action
    names = {start: end for start, end, _ in body_mentions(text)}
    for part in split_owners(owner):
        bare = ARTICLE.sub("", part.strip())
        for name in {bare, _TITLE.sub("", bare)}:  # "Mme Ndiaye (ADIE)" and "Ndiaye (ADIE)"
            if len(name) >= 2:
                for match in re.finditer(re.escape(name), text, re.I):
                    names[match.start()] = max(names.get(match.start(), 0), match.end())
    cursor = _LEAD.match(text).end()
    if cursor not in names:
        return text or action
    while cursor in names:
        cursor = names[cursor]
        joiner = _JOINER.match(text, cursor)
        if joiner and joiner.end() in names:
            cursor = joiner.end()
    rest = text[cursor:].strip(" ,;:.()")
    if re.match(r"['’]s\b", rest):
        return text  # "The talent commission's co-chair": the body owns the subject, it is not it
    return rest or text or action


_ORDINALS = (("1", r"first|1st|premi[eè]re?|1(?:er|re)"), ("2", r"second(?:e)?|2nd|deuxi[eè]me|2e"),
             ("3", r"third|3rd|troisi[eè]me|3e"), ("4", r"fourth|4th|quatri[eè]me|4e"))
_ORDINAL = re.compile("|".join(rf"\b(?P<n{n}>{p})\b" for n, p in _ORDINALS), re.I)
_NUMBER = re.compile(r"(?<![\w.,])\d+(?![\d.,]?\d)")


def action_numbers(text: str) -> frozenset[str]:
    """The counts and ranks an action names ("version 3", "12 modules", "the second
    meeting" -> {"3"}, {"12"}, {"2"}); years are not among them (they say when, not what)."""
    found = {n for n in _NUMBER.findall(text) if not (len(n) == 4 and n.startswith("20"))}
    found |= {match.lastgroup[1:] for match in _ORDINAL.finditer(text)}
    return frozenset(found)


def numbers_disagree(a: str, b: str) -> bool:
    """Two actions that both name counts or ranks, none in common: two things ("version 2"
    and "version 3", "the first meeting" and "the second meeting")."""
    left, right = action_numbers(a), action_numbers(b)
    return bool(left) and bool(right) and not left & right


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
