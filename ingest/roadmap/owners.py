"""Who a passage makes responsible, which commission it belongs to and what status it states."""

from __future__ import annotations

import re

from kb.commitments import BODY_CHAIN, body_mentions, parse_owner
from kb.vocabulary import STATUS_WORDS, commission_named

_EXPLICIT_OWNER = re.compile(r"\((?:owners?|responsables?)\s*:\s*([^),]+(?:,\s*(?!deadline|échéance)[^),]+)*)", re.I)
_LEADING_CLAUSE = re.compile(r"^(?:pending|en attendant|sauf|following|after|après|dès)\b[^,]{0,80},\s*", re.I)
_RECIPIENT = re.compile(r"\b(?:à|au|aux|auprès de|to|with|avec|for|pour|vers|entre)\s+(?:l['’]|la |le |les |the )?$", re.I)
_AGENT = re.compile(r"\b(?:by|par)\s+(?:l['’]|la |le |les |the )?$", re.I)
_PASSIVE = re.compile(r"\b(?:est|sont|sera|seront|is|are|be|been)\b", re.I)
EXPLICIT_OWNER_NOTE = re.compile(r"\((?:owners?|responsables?)\s*:[^)]*\)", re.I)
_STATUS_CUE = re.compile(r"(?:\)\s*:|:\s*|—\s*|\(\s*)\s*(" + "|".join(p for _, p in STATUS_WORDS) + r")\b", re.I)


def sentence_owner(sentence: str) -> str | None:
    """Who a sentence makes responsible: an explicit "(owner: X)", the agent of a passive
    ("will be appointed by IDDA"), or else the first body named outside a complement
    ("transmet ... à la Cellule" does not make the Cellule the owner)."""
    explicit = _EXPLICIT_OWNER.search(sentence)
    if explicit:
        owner = parse_owner(explicit.group(1))
        if owner:
            return owner
    sentence = _LEADING_CLAUSE.sub(lambda m: " " * len(m.group(0)), sentence, count=1)
    mentions = [m for m in body_mentions(sentence) if not _RECIPIENT.search(sentence[max(0, m[0] - 20) : m[0]])]
    if _PASSIVE.search(sentence):
        for start, _, name in mentions:
            if _AGENT.search(sentence[max(0, start - 12) : start]):
                return _chain(sentence, start, name)
    if not mentions:
        return None
    start, _, name = mentions[0]
    return _chain(sentence, start, name)


def first_owner(text: str) -> str | None:
    """The first owner a heading or lead-in names, with the bodies joined to it."""
    mentions = body_mentions(text)
    return _chain(text, mentions[0][0], mentions[0][2]) if mentions else None


def _chain(sentence: str, start: int, first: str) -> str:
    """The owner starting at `start`, with the bodies joined to it ("SENUM and ASAN")."""
    match = BODY_CHAIN.match(sentence, start)
    return parse_owner(match.group(0)) if match else first


def commission_of(owner: str, text: str, section: tuple[str, ...] = ()) -> str | None:
    """The commission a commitment belongs to, when its owner, its wording or its section says."""
    if owner.startswith("Commission "):
        return commission_named(owner)
    named = re.search(r"\bcommission(?: mixte)? ([^\s,.;]+(?: des talents)?)|([^\s,.;]+) commission\b", text, re.I)
    if named and commission_named(named.group(0)):
        return commission_named(named.group(0))
    for title in reversed(section):
        if re.search(r"commission", title, re.I) and commission_named(title):
            return commission_named(title)
    return None


def status(text: str) -> str:
    """The status a status cell states ("overdue" -> late), or "unknown"."""
    for name, pattern in STATUS_WORDS:
        if re.match(rf"\s*(?:{pattern})\b", text, re.I):
            return name
    return status_cue(text) or "unknown"


def status_cue(text: str) -> str | None:
    """A status stated after the commitment ("…): overdue", "(en retard)"), if any."""
    match = _STATUS_CUE.search(text)
    return status(match.group(1)) if match else None
