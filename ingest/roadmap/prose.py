"""Commitments stated in lists and sentences.

- lists under a commitment heading or lead-in ("SENUM s'engage à :", "Livrables :",
  "Nouvelles actions", "New action items", "Mesures décidées", "Decisions", ...), whose
  owner is the item's own subject or else the lead-in's;
- sentences that name an owner, a future deadline and a commitment cue ("avant le",
  "d'ici", "will", "shall", ...); in protocols the present tense is prescriptive, so no
  cue is needed there.
"""

from __future__ import annotations

import re
from datetime import date

from ingest.roadmap.dates import DateExpression, choose_deadline, find_dates
from ingest.roadmap.owners import (
    EXPLICIT_OWNER_NOTE,
    FUTURE_VERB,
    commission_of,
    first_owner,
    sentence_owner,
    status_cue,
)
from ingest.roadmap.passage import Found, clauses, without_marker

_COMMITMENT_CONTEXT = re.compile(
    r"s'engage|engagements?|undertakes?|commits?\b|livrables?|deliverables?|\bactions?\b|mesures|"
    r"recommandations?|recommendations?|priorit|overdue|at-risk|en retard|next steps", re.I)
_DECISION_CONTEXT = re.compile(r"d[ée]cisions?", re.I)
_STATUS_CONTEXT = re.compile(r"overdue|at-risk|en retard|status of|suivi des|état d'avancement", re.I)
_LEAD_IN = re.compile(r"s'engage|livrables?|deliverables?|actions?|mesures|commits?|undertakes?|will\s*:", re.I)
_HEADING_LEAD_IN = re.compile(r"s'engage|undertakes|commits", re.I)
_CUE = re.compile(
    r"\b(?:avant|d['’]ici|au plus tard|dans un délai|jusqu['’]au|s['’]engage|doit|doivent|devra|devront|sera|seront|"
    rf"se tiendra|by|before|within|no later than|due|deadline|will|shall|must)\b|\b{FUTURE_VERB}", re.I)
# Commentary on a roadmap step ("L'étape 3 découle de l'article 5 ...") is not a commitment.
_COMMENTARY = re.compile(r"\s*(?:l['’])?(?:étape|step)s?\s+\d", re.I)
_FUTURE = re.compile(rf"\b(?:will|shall|must|sera|seront|doit|doivent|devra|devront|se tiendra)\b|\b{FUTURE_VERB}", re.I)
_PAST = re.compile(r"\b(?:a été|ont été|avai(?:en)?t|was|were|has been|have been)\b", re.I)

# A sentence continues the previous one's subject when it starts with a pronoun, or when it
# is passive without an agent; one with a subject of its own ("Le prochain point se
# tiendra ...") does not.
_PRONOUN = re.compile(r"\s*(?:il|elle|ils|elles|it|they|he|she|celle-ci|celui-ci|ce dernier|cette dernière)\b", re.I)
_PASSIVE_VOICE = re.compile(
    r"\b(?:est|sont|sera|seront|is|are|will be|shall be|must be|doit être|doivent être)\s+\w+(?:é|ée|és|ées|ed|en)\b", re.I)


def _continues(sentence: str) -> bool:
    return _PRONOUN.match(sentence) is not None or _PASSIVE_VOICE.search(sentence) is not None


LeadIn = tuple["str | None", bool]  # (owner, is a commitment lead-in)


def heading_lead_in(body: str) -> LeadIn | None:
    """A heading that introduces commitments ("Article 3 – SENUM s'engage à")."""
    return (first_owner(body), True) if _HEADING_LEAD_IN.search(body) else None


def lead_in(stripped: str) -> LeadIn | None:
    """A short paragraph ending with a colon that introduces a list ("Livrables :")."""
    owner = first_owner(stripped)
    commitment = bool(_LEAD_IN.search(stripped))
    return (owner, commitment) if commitment or owner else None


def context(section: tuple[str, ...]) -> tuple[str, str | None]:
    """('commitment' | 'decision' | 'status' | 'prose', owner named by the headings)."""
    heading = section[-1] if section else ""
    owner = next((found for found in map(first_owner, reversed(section)) if found), None)
    for kind, pattern in (("status", _STATUS_CONTEXT), ("commitment", _COMMITMENT_CONTEXT),
                          ("decision", _DECISION_CONTEXT)):
        if pattern.search(heading):
            return kind, owner
    return "prose", owner


# What announces a date and means nothing without it: "(sa mise en ligne) est prévue pour",
# "is scheduled for", "due on". Left in an action it would cut it ("... est prévue pour").
_DATE_LEAD = re.compile(
    r"(?:,\s*)?(?:\b(?:est|sont|sera|seront|is|are|was|were|will be)\s+)?\b(?:prévue?s?|programmée?s?|attendue?s?|"
    r"fixée?s?|planned|scheduled|expected|due|set)(?:\s+(?:pour|au|à|for|on|by|to))?(?:\s+(?:le|la|l['’]|the))?\s*\x00",
    re.I)


def action(text: str, expression: DateExpression | None) -> str:
    """The action as a short phrase: the passage without its deadline wording, nor the
    words that announce it."""
    if expression and expression.text:
        text = _DATE_LEAD.sub(" ", text.replace(expression.text, "\x00", 1)).replace("\x00", " ")
    return EXPLICIT_OWNER_NOTE.sub(" ", text)


class ProseReader:
    """Reads list items and sentences of one document."""

    def __init__(self, text: str, reference: date | None, signed: date | None, *, protocol: bool) -> None:
        self.text = text
        self.reference = reference
        self.signed = signed
        # A protocol's present tense is prescriptive: its sentences need no commitment cue.
        self.cue_needed = not protocol

    def _deadline(self, passage: str) -> DateExpression | None:
        return choose_deadline(find_dates(passage, self.reference, self.signed), passage)

    def _past(self, expression: DateExpression | None) -> bool:
        return bool(expression and expression.value and self.reference and expression.value <= self.reference)

    def list_item(self, start: int, end: int, kind: str, lead_owner: str | None,
                  section: tuple[str, ...]) -> Found | None:
        """A list item under a commitment, decision or status heading or lead-in."""
        start, body = without_marker(self.text, start, end)
        if not body:
            return None
        continues_lead_in = bool(body[:1].islower() and lead_owner)
        owner = lead_owner if continues_lead_in else sentence_owner(body)
        expression = self._deadline(body)
        stated = status_cue(body)
        if not self._is_commitment(body, expression, kind, stated, continues_lead_in):
            return None
        deadline = expression.value if expression and not expression.recurring else None
        return Found(start, start + len(body), action(body, expression), owner or "", owner is not None,
                     commission_of(owner or "", body, section), deadline,
                     expression.text if expression else "", stated or "unknown", from_table=False)

    def _is_commitment(self, body: str, expression: DateExpression | None, kind: str, stated: str | None,
                       continues_lead_in: bool) -> bool:
        if expression is None and kind == "decision" and not _FUTURE.search(body):
            return False
        if self._past(expression) and kind != "status" and not stated:
            return False
        dateless = expression is None or expression.recurring or expression.value is None
        # Dateless and without a cue: a reminder ("SENUM : point focal, inventaire, ...").
        return not dateless or continues_lead_in or _CUE.search(body) is not None

    def sentences(self, start: int, end: int, section: tuple[str, ...]) -> list[Found]:
        """The commitments of a paragraph's sentences; a sentence that continues the previous
        one's subject keeps its owner ("SENUM ... . It will also ...", "... . Une revue est
        réalisée ...")."""
        start, body = without_marker(self.text, start, end)
        found: list[Found] = []
        previous_owner: str | None = None
        for s_start, s_end in clauses(self.text, start, start + len(body)):
            sentence = self.text[s_start:s_end]
            expression = self._deadline(sentence)
            if expression is None or expression.recurring:
                continue
            owner = sentence_owner(sentence) or (previous_owner if _continues(sentence) else None)
            if owner is None or not self._commits(sentence) or self._past(expression):
                continue
            previous_owner = owner
            found.append(Found(s_start, s_end, action(sentence, expression), owner, True,
                               commission_of(owner, sentence, section), expression.value, expression.text,
                               status_cue(sentence) or "unknown", from_table=False))
        return found

    def _commits(self, sentence: str) -> bool:
        if _COMMENTARY.match(sentence) or _PAST.search(sentence):
            return False
        return not self.cue_needed or _CUE.search(sentence) is not None
