"""Who a passage makes responsible, which commission it belongs to and what status it states."""

from __future__ import annotations

import re

from kb.commitments import ARTICLE, BODY_CHAIN, HONORIFIC, split_owners, body_mentions, parse_owner
from kb.vocabulary import STATUS_WORDS, commission_named

_EXPLICIT_OWNER = re.compile(r"\((?:owners?|responsables?)\s*:\s*([^),]+(?:,\s*(?!deadline|échéance)[^),]+)*)", re.I)
_LEADING_CLAUSE = re.compile(r"^(?:pending|en attendant|sauf|following|after|après|dès)\b[^,]{0,80},\s*", re.I)
_RECIPIENT = re.compile(r"\b(?:à|au|aux|auprès de|to|with|avec|for|pour|vers|entre)\s+(?:l['’]|la |le |les |the )?$", re.I)
_AGENT = re.compile(r"\b(?:by|par)\s+(?:l['’]|la |le |les |the )?$", re.I)
_PASSIVE = re.compile(r"\b(?:est|sont|sera|seront|is|are|be|been)\b", re.I)
EXPLICIT_OWNER_NOTE = re.compile(r"\((?:owners?|responsables?)\s*:[^)]*\)", re.I)
# French future tense ("diffusera", "hébergera", "transmettra", "tiendront"): a dated action
# announced in the future is a commitment as much as one with "doit" or "will".
FUTURE_VERB = r"[a-zà-ÿ]{3,}(?:era|eront|ira|iront|dra|dront|tra|tront)\b"
# The verb a commitment's subject comes before ("Mme Fall (ARTP) diffusera", "ADIE and SENUM
# are to test", "The Digital Skills Office (DSO) will draft").
_COMMITMENT_VERB = re.compile(
    r"\b(?:will|shall|must|should|(?:is|are) to|undertakes? to|commits? to|s['’]engagen?t?|doit|doivent|devra|devront|"
    rf"sera|seront|va|vont)\b|\b{FUTURE_VERB}")
# What a named subject is made of: names (capitalised words, acronyms, titles, a body in
# parentheses) joined by "et", "and", "/", "," and the small words inside a name.
_NAME_WORD = re.compile(
    rf"{HONORIFIC}|[A-ZÀ-Ý][\w'’.-]*|\([^()]{{1,60}}\)|et|and|&|/|,|de|des|du|d['’]\w+|of|for|la|le|les|l['’]\w+|the|"
    r"[a-zà-ÿ][\w'’-]*")
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
    subject = subject_owner(sentence)
    if subject:
        return subject
    if not mentions:
        return None
    start, _, name = mentions[0]
    return _chain(sentence, start, name)


def subject_owner(sentence: str) -> str | None:
    """The named subject of a sentence's commitment verb, whoever it names: "Mme Fall (ARTP)
    diffusera ..." -> "Mme Fall (ARTP)"; "On infrastructure, ADIE and SENUM are to test ..."
    -> "ADIE et SENUM". None when the words before the verb are no name ("Le prochain
    comité se tiendra ...")."""
    verb = _COMMITMENT_VERB.search(sentence)
    if verb is None:
        return None
    head = sentence[: verb.start()]
    # The subject may follow an opening phrase ("On infrastructure, ", "Please note that ").
    starts = [0] + [m.end() for m in re.finditer(r",\s+(?![^()]*\))|\b(?:that|que|qu['’])\s+", head)]
    for start in starts:
        if _is_name(head[start:], first=start == 0):
            return parse_owner(head[start:])
    return None


def _is_name(phrase: str, *, first: bool) -> bool:
    """Is `phrase` only a name (or names joined by "et", "and", "/", ",")? Each name starts
    with a capital; at the start of a sentence a capital proves nothing, so there the first
    name also needs an article before it, an acronym, a title or a second capitalised word."""
    bare = ARTICLE.sub("", phrase.strip())
    words = _NAME_WORD.findall(bare)
    if not 0 < len(words) <= 8 or "".join(words).replace(" ", "") != re.sub(r"\s+", "", bare):
        return False
    names = [ARTICLE.sub("", n.strip()) for n in split_owners(bare)]
    if not all(n[:1].isupper() for n in names):
        return False
    return not first or bare != phrase.strip() or _named(names[0])


def _named(name: str) -> bool:
    """Does a capitalised phrase at the start of a sentence name someone? An acronym
    ("SENUM"), a title ("Mme Fall") or a name of several words ("Agence X", "Bureau des
    ...", "DSI (MCTN)"); not "Chaque partie", "On infrastructure", "Please note"."""
    words = name.split()
    if re.match(r"[A-ZÀ-Ý]{2,}\b", words[0]) or re.match(HONORIFIC, name):
        return True
    return len(words) > 1 and (words[1][:1].isupper() or words[1].startswith("(")
                               or re.fullmatch(r"de|des|du|d['’]\w+|of|for", words[1]) is not None)


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
