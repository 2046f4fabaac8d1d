"""Roadmap extraction: the commitments, action items and deadlines a document states.

Rule-based and structure-aware, French and English:

- tables with an action, an owner and a deadline column (Markdown or Word tables as
  "a | b | c" rows, PDF tables as rows of space-separated cells under a header line);
- lists under a commitment heading or lead-in ("SENUM s'engage à :", "Livrables :",
  "Nouvelles actions", "New action items", "Mesures décidées", "Decisions", ...), whose
  owner is the item's own subject or else the lead-in's;
- prose sentences that name an owner, a future deadline and a commitment cue
  ("avant le", "d'ici", "will", "shall", ...); in protocols the present tense is
  prescriptive, so no cue is needed there.

Dates are read by `dateparser` (French and English month names, relative delays); the
code only finds where a date expression is and what it is relative to. Partial dates
resolve to the last day they allow ("février 2026" -> 2026-02-28, "T2 2026" -> 2026-06-30),
relative ones against the document's date, or the signature of the memoranda for
"after signature" ("dans un délai de 30 jours après la signature").

The entry point is `extract_items(doc)`; nothing here touches the store or a model.
"""

from __future__ import annotations

import calendar
import functools
import logging
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Iterable

from kb.commitments import (
    BODY_CHAIN_AT_END,
    BODY_CHAIN,
    Commitment,
    action_stems,
    body_mentions,
    owners_overlap,
    parse_owner,
)
from kb.schema import Block, LoadedDocument
from kb.text import fold, sentence_spans

log = logging.getLogger(__name__)

# Bump when extraction changes: the next ingestion re-extracts every document's items
# (reading the files again, without the embedding model).
EXTRACTOR_VERSION = "1"

# Themes of the five joint commissions: canonical name, then how documents name them.
COMMISSIONS: tuple[tuple[str, str], ...] = (
    ("cybersécurité", r"cyber"),
    ("formation", r"formation|training"),
    ("talents", r"talent"),
    ("start-up/État", r"start-up"),
    ("digitalisation", r"digitali[sz]ation"),
)

# ----- what kind of passage: headings, lead-ins, cues -------------------------------
_COMMITMENT_CONTEXT = re.compile(
    r"s'engage|engagements?|undertakes?|commits?\b|livrables?|deliverables?|\bactions?\b|mesures|"
    r"recommandations?|recommendations?|priorit|overdue|at-risk|en retard|next steps", re.I)
_DECISION_CONTEXT = re.compile(r"d[ée]cisions?", re.I)
_STATUS_CONTEXT = re.compile(r"overdue|at-risk|en retard|status of|suivi des|état d'avancement", re.I)
_CUE = re.compile(
    r"\b(?:avant|d['’]ici|au plus tard|dans un délai|jusqu['’]au|s['’]engage|doit|doivent|devra|devront|sera|seront|"
    r"se tiendra|by|before|within|no later than|due|deadline|will|shall|must)\b", re.I)
# Commentary on a roadmap step ("L'étape 3 découle de l'article 5 ...") is not a commitment.
_COMMENTARY = re.compile(r"\s*(?:l['’])?(?:étape|step)s?\s+\d", re.I)
_FUTURE = re.compile(r"\b(?:will|shall|must|sera|seront|doit|doivent|devra|devront|se tiendra)\b", re.I)
_PAST = re.compile(r"\b(?:a été|ont été|avai(?:en)?t|was|were|has been|have been)\b", re.I)
_MARKER = re.compile(r"^[ \t]*(?:[-*•–]|\d{1,2}[.)]|[A-Z]\d{1,2}\.)[ \t]+")
_LEADING_CLAUSE = re.compile(r"^(?:pending|en attendant|sauf|following|after|après|dès)\b[^,]{0,80},\s*", re.I)
_RECIPIENT = re.compile(r"\b(?:à|au|aux|auprès de|to|with|avec|for|pour|vers|entre)\s+(?:l['’]|la |le |les |the )?$", re.I)
_AGENT = re.compile(r"\b(?:by|par)\s+(?:l['’]|la |le |les |the )?$", re.I)
_PASSIVE = re.compile(r"\b(?:est|sont|sera|seront|is|are|be|been)\b", re.I)
_EXPLICIT_OWNER = re.compile(r"\((?:owners?|responsables?)\s*:\s*([^),]+(?:,\s*(?!deadline|échéance)[^),]+)*)", re.I)

_HEADER_WORDS = {
    "action": r"actions?|étapes?|steps?|livrables?|deliverables?|mesures?|tâches?|tasks?|activités?|activities",
    "owner": r"responsables?|owners?|porteurs?|pilotes?|leads?",
    "deadline": r"échéances?|deadlines?|dates?|délais?|due",
    "status": r"statuts?|status|état|avancement|progress",
    "commission": r"commissions?|thèmes?|themes?|workstreams?",
    "number": r"n°|no\.?|#|réf\.?|ref\.?",
}
_HEADER_CELL = {key: re.compile(rf"^(?:{pattern})$", re.I) for key, pattern in _HEADER_WORDS.items()}

_STATUS_WORDS: tuple[tuple[str, str], ...] = (
    ("late", r"en retard|overdue|late|delayed|at risk|reporté|postponed|retard"),
    ("in progress", r"en cours|in progress|ongoing|underway|partiellement"),
    ("done", r"réalisé|réalisée|fait|terminé|achevé|done|completed|delivered|livré"),
    ("planned", r"prévu|planifié|à venir|planned|scheduled|not started"),
)


@dataclass
class _Draft:
    """A commitment before its owner or duplicates are settled."""

    item: Commitment
    owner_found: bool
    from_table: bool
    stems: frozenset[str]


# ----- entry point --------------------------------------------------------------------
def extract_items(doc: LoadedDocument, *, signed: date | None = None) -> list[Commitment]:
    """The commitments `doc` states, in document order.

    `signed` is the signature date of the memoranda, the anchor of "after signature"
    in documents other than the memoranda themselves (a protocol's own date is its
    signature date). Without it such deadlines stay unresolved (None, wording kept).
    """
    signed = doc.meta.date if doc.meta.doc_type == "protocol" and doc.meta.date else signed
    reader = _Reader(doc, signed)
    drafts = reader.read()
    items = _settle(drafts)
    log.debug("roadmap items document=%s items=%d", doc.doc_id, len(items))
    return items


# ----- reading the structure -----------------------------------------------------------
class _Reader:
    """Walks a document's blocks, tracking tables, lead-ins and section context."""

    def __init__(self, doc: LoadedDocument, signed: date | None) -> None:
        self.doc = doc
        self.text = doc.text
        self.today = doc.meta.date
        self.signed = signed
        self.drafts: list[_Draft] = []
        self.columns: dict[str, int] | None = None
        self.space_columns: list[str] | None = None
        self.lead_in: tuple[str | None, bool] | None = None  # (owner, is commitment)
        self.section: tuple[str, ...] = ()

    def read(self) -> list[_Draft]:
        for block in self.doc.blocks:
            if block.section != self.section:
                self.section = block.section
                self.columns = None
                self.lead_in = None
                self.space_columns = None
            body = self.text[block.start : block.end]
            if block.kind == "heading":
                self._heading(block, body)
                continue
            self._paragraph(block, body)
        return self.drafts

    # -- context --
    def _heading(self, block: Block, body: str) -> None:
        words = body.split()
        cells = [w for w in words if any(p.match(w) for p in _HEADER_CELL.values())]
        if len(words) >= 3 and len(cells) == len(words):
            self.space_columns = [_header_key(w) for w in words]
        if re.search(r"s'engage|undertakes|commits", body, re.I):
            self.lead_in = (_first_owner(body), True)

    def _context(self) -> tuple[str, str | None]:
        """('commitment' | 'decision' | 'status' | 'prose', owner named by the headings)."""
        heading = self.section[-1] if self.section else ""
        owner = None
        for title in reversed(self.section):
            owner = _first_owner(title)
            if owner:
                break
        if _STATUS_CONTEXT.search(heading):
            return "status", owner
        if _COMMITMENT_CONTEXT.search(heading):
            return "commitment", owner
        if _DECISION_CONTEXT.search(heading):
            return "decision", owner
        return "prose", owner

    # -- paragraphs --
    def _paragraph(self, block: Block, body: str) -> None:
        lines = _lines(body, block.start)
        if self.space_columns and lines and re.match(r"\d+\s", lines[0][2]):
            self._space_row(block, *lines[0])
            return
        if any(_is_pipe_row(line) for _, _, line in lines):
            for start, end, line in lines:
                if _is_pipe_row(line):
                    self._pipe_row(block, start, end, line)
            return
        stripped = body.strip()
        if stripped.endswith(":") and len(stripped) < 200:
            owner = _first_owner(stripped)
            commitment = bool(re.search(r"s'engage|livrables?|deliverables?|actions?|mesures|commits?|undertakes?|will\s*:", stripped, re.I))
            if commitment or owner:
                self.lead_in = (owner, commitment)
            return
        units = _list_units(lines)
        kind, heading_owner = self._context()
        if self.lead_in and self.lead_in[1]:
            kind = "commitment" if kind == "prose" else kind
        in_list = bool(units) and (_MARKER.match(lines[0][2]) is not None or (
            self.lead_in is not None and stripped[:1].islower()))
        if in_list and kind != "prose":
            lead_owner = self.lead_in[0] if self.lead_in and self.lead_in[0] else heading_owner
            for start, end in units:
                self._list_item(block, start, end, kind, lead_owner)
        else:
            if self.lead_in is not None and not stripped[:1].islower() and not _MARKER.match(lines[0][2]):
                self.lead_in = None
            for start, end in units or [(block.start, block.end)]:
                self._prose(block, start, end)

    # -- tables --
    def _pipe_row(self, block: Block, start: int, end: int, line: str) -> None:
        cells = _cells(line, start)
        keys = [_header_key(text) for _, _, text in cells]
        if sum(k is not None for k in keys) >= 2 and all(k is not None or not text for k, (_, _, text) in zip(keys, cells)):
            self.columns = {k: i for i, k in enumerate(keys) if k}
            return
        columns = self.columns
        if not columns or not {"action", "owner", "deadline"} <= set(columns) or len(cells) < len(columns):
            return
        def cell(key: str) -> str:
            return cells[columns[key]][2] if key in columns and columns[key] < len(cells) else ""

        quote_start, quote_end = cells[0][0], cells[-1][1]
        self._table_item(block, quote_start, quote_end, cell("action"), cell("owner"), cell("deadline"),
                         cell("status"), cell("commission"))

    def _space_row(self, block: Block, start: int, end: int, line: str) -> None:
        columns = self.space_columns or []
        rest = re.sub(r"^\d+\s+", "", line)
        found = _last_date(rest, self.today, self.signed)
        if found is None:
            return
        value, text_start = found
        deadline_text = rest[text_start:].strip()
        middle = rest[:text_start].strip()
        owner_match = BODY_CHAIN_AT_END.search(middle)
        if not owner_match or "owner" not in columns:
            return
        owner_text = owner_match.group(0)
        middle = middle[: owner_match.start()].strip()
        commission_text = ""
        if "commission" in columns:
            head, _, last = middle.rpartition(" ")
            commission_text, middle = last, head
            # Two-word themes ("Start-up/État" is one token; "Toutes" too): nothing more to do.
        self._table_item(block, start, end, middle, owner_text, deadline_text, "", commission_text,
                         deadline=value)

    def _table_item(self, block: Block, start: int, end: int, action: str, owner_text: str, deadline_text: str,
                    status_text: str, commission_text: str, *, deadline: date | None | str = "parse") -> None:
        owner = parse_owner(owner_text)
        if not action.strip() or not owner:
            return
        if deadline == "parse":
            expression = _choose(find_dates(deadline_text, self.today, self.signed), deadline_text)
            deadline = expression.value if expression else None
        commission = _commission(commission_text) if commission_text else _commission_of(owner, "")
        status = _status(status_text) if status_text else "unknown"
        self._add(block, start, end, action.strip(), owner, True, commission, deadline, deadline_text.strip(),
                  status, from_table=True)

    # -- lists and prose --
    def _list_item(self, block: Block, start: int, end: int, kind: str, lead_owner: str | None) -> None:
        start, body = _without_marker(self.text, start, end)
        if not body:
            return
        if body[:1].islower() and lead_owner:
            owner, found = lead_owner, True
        else:
            owner = sentence_owner(body)
            found = owner is not None
        expression = _choose(find_dates(body, self.today, self.signed), body)
        if expression is None and kind == "decision" and not _FUTURE.search(body):
            return
        status = _status_cue(body)
        if expression and expression.value and self.today and expression.value <= self.today and kind != "status" and not status:
            return
        dateless = expression is None or expression.recurring or expression.value is None
        if dateless and not (body[:1].islower() and lead_owner) and not _CUE.search(body):
            return  # a reminder ("SENUM : point focal, inventaire, ...") rather than a commitment
        deadline = expression.value if expression and not expression.recurring else None
        self._add(block, start, start + len(body), _action(body, expression), owner or "", found,
                  _commission_of(owner or "", body, self.section), deadline,
                  expression.text if expression else "", status or "unknown", from_table=False)

    def _prose(self, block: Block, start: int, end: int) -> None:
        start, body = _without_marker(self.text, start, end)
        cue_needed = self.doc.meta.doc_type != "protocol"  # a protocol's present tense is prescriptive
        previous_owner: str | None = None
        for s_start, s_end in _clauses(self.text, start, start + len(body)):
            sentence = self.text[s_start:s_end]
            expression = _choose(find_dates(sentence, self.today, self.signed), sentence)
            if expression is None or expression.recurring:
                continue
            owner = sentence_owner(sentence) or previous_owner
            if _COMMENTARY.match(sentence):
                continue
            if owner is None or (cue_needed and not _CUE.search(sentence)) or _PAST.search(sentence):
                continue
            if expression.value and self.today and expression.value <= self.today:
                continue
            previous_owner = owner
            self._add(block, s_start, s_end, _action(sentence, expression), owner, True,
                      _commission_of(owner, sentence, self.section), expression.value, expression.text,
                      _status_cue(sentence) or "unknown", from_table=False)

    def _add(self, block: Block, start: int, end: int, action: str, owner: str, owner_found: bool,
             commission: str | None, deadline: date | None, deadline_text: str, status: str, *, from_table: bool) -> None:
        while end > start and self.text[end - 1] in " \t\n;":
            end -= 1
        while start < end and self.text[start].isspace():
            start += 1
        item = Commitment(
            action=_tidy(action), owner=owner, commission=commission, deadline=deadline,
            deadline_text=" ".join(deadline_text.split()), status=status, quote=self.text[start:end],
            start=start, end=end, page=block.page, section=" > ".join(block.section),
        )
        self.drafts.append(_Draft(item, owner_found, from_table, action_stems(f"{action}")))


def _settle(drafts: list[_Draft]) -> list[Commitment]:
    """Settle what one passage cannot tell alone.

    An ownerless item that moves the deadline of a sibling item (same action, another
    date: "the immersion is rescheduled to September") takes the sibling's owner; one that
    only restates it is dropped, and so is a recap table row repeating an item stated
    earlier in the document.
    """
    kept: list[_Draft] = []
    for draft in drafts:
        if not draft.owner_found:
            sibling = _closest(draft, [d for d in drafts if d is not draft and d.owner_found], minimum=2)
            if sibling is None or draft.item.deadline is None or sibling.item.deadline == draft.item.deadline:
                continue
            draft = _Draft(replace(draft.item, owner=sibling.item.owner,
                                   commission=draft.item.commission or sibling.item.commission),
                           True, draft.from_table, draft.stems)
        if draft.from_table and any(
            not other.from_table and other.item.deadline == draft.item.deadline
            and owners_overlap(other.item.owner, draft.item.owner) and other.stems & draft.stems
            for other in kept
        ):
            continue
        kept.append(draft)
    return [d.item for d in kept]


def _closest(draft: _Draft, others: list[_Draft], minimum: int) -> _Draft | None:
    best, score = None, minimum - 1
    for other in others:
        shared = len(draft.stems & other.stems)
        if shared > score:
            best, score = other, shared
    return best


# ----- owners ---------------------------------------------------------------------------
def signature_date(documents: Iterable[tuple[str, date | None]]) -> date | None:
    """The anchor of "after signature": the earliest date among (doc_type, date) of the
    protocol documents, or None when there is none."""
    dates = [when for doc_type, when in documents if doc_type == "protocol" and when is not None]
    return min(dates) if dates else None


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
        for start, end, name in mentions:
            if _AGENT.search(sentence[max(0, start - 12) : start]):
                return _chain(sentence, start, name)
    if not mentions:
        return None
    start, _, name = mentions[0]
    return _chain(sentence, start, name)


def _chain(sentence: str, start: int, first: str) -> str:
    """The owner starting at `start`, with the bodies joined to it ("SENUM and ASAN")."""
    match = BODY_CHAIN.match(sentence, start)
    return parse_owner(match.group(0)) if match else first


def _first_owner(text: str) -> str | None:
    mentions = body_mentions(text)
    return _chain(text, mentions[0][0], mentions[0][2]) if mentions else None


# ----- dates ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DateExpression:
    """A date expression found in a text: where, its wording, what it resolves to."""

    start: int
    end: int
    text: str
    value: date | None
    marked: bool  # preceded by a deadline word ("avant", "by", ...)
    recurring: bool = False


_YEAR = r"(20\d\d)"
_DAY_DATE = re.compile(rf"\b(\d{{1,2}})(?:er)?\s+([^\W\d_]{{3,}})\.?\s+{_YEAR}\b")
_MONTH_DATE = re.compile(rf"\b([^\W\d_]{{3,}})\s+{_YEAR}\b")
_QUARTER = re.compile(rf"\b[TQ]([1-4])\s+{_YEAR}\b")
_YEAR_RANGE = re.compile(rf"\b{_YEAR}\s*[–-]\s*{_YEAR}\b")
_YEAR_END = re.compile(rf"\b(?:fin|end of|d['’]ici|by)\s+{_YEAR}\b", re.I)
_ISO = re.compile(rf"\b{_YEAR}-(\d\d)-(\d\d)\b")
_RELATIVE = re.compile(
    r"(?:dans un délai d[e’']\s*|within\s+|sous\s+)(?P<n>[^\W_]+)[\s-]+(?P<unit>jours?|semaines?|mois|ans?|années?|days?|weeks?|months?|years?)"
    r"(?P<business>\s+ouvrables)?"
    r"(?:\s+(?:après|à compter d[eu]|suivant|de|of|after|from|following)\s+(?:la |l['’]|le |son |sa |its |the )?(?P<anchor>[^\W\d_]+))?",
    re.I,
)
_RECURRING = re.compile(
    r"chaque (?:année|semestre|trimestre|mois|quinzaine)|semestriel\w*|annuel\w*|every (?:year|month|quarter)|"
    r"each year|twice a year|par an\b|sans échéance[^.;,]*", re.I)
_DEADLINE_WORDS = re.compile(
    r"(?:(?:au plus tard|avant|d['’]ici|jusqu['’]au|au cours du|due by|due|deadline\s*:|no later than|by|before|"
    r"end of|by the end of|within|soit|i\.e\.,?)\s+(?:le |la |les |du |en |fin |the |au |l['’])?(?:fin (?:de )?)?)+$",
    re.I)
_SOFT_WORDS = re.compile(r"(?:\b(?:en|le|au|in|on|for|to|fin|d['’]ici fin)\s+)+$", re.I)
_MONTH_UNITS = {"jour": "jours", "day": "days", "semaine": "semaines", "week": "weeks", "mois": "mois",
                "month": "months", "an": "ans", "année": "ans", "year": "years"}


def find_dates(text: str, reference: date | None, signed: date | None = None) -> list[DateExpression]:
    """Date expressions of `text` in order: absolute, partial ("fin mars 2026", "T2 2026"),
    relative ("dans un délai de 30 jours après la signature") and recurring ("chaque année").

    Relative delays count from `reference` (the document's date), or from `signed` when
    they run from the signature; a delay from an undated event gives value None.
    """
    found: list[tuple[int, int, date | None, bool]] = []  # start, end, value, recurring

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _, _ in found)

    for match in _RELATIVE.finditer(text):
        value = _relative(match, reference, signed)
        end = match.end() if match.group("anchor") else match.end("unit") + len(match.group("business") or "")
        found.append((match.start(), end, value, False))
    relative = len(found)
    for match in _ISO.finditer(text):
        if free(*match.span()):
            found.append((*match.span(), _safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3))), False))
    for match in _DAY_DATE.finditer(text):
        value = _parse_day(match.group(1), match.group(2), match.group(3))
        if value and free(*match.span()):
            start = match.start()
            span = re.search(r"\d{1,2}\s*[–-]\s*$", text[:start])
            found.append((span.start() if span else start, match.end(), value, False))
    for match in _QUARTER.finditer(text):
        if free(*match.span()):
            year, quarter = int(match.group(2)), int(match.group(1))
            found.append((*match.span(), _month_end(year, 3 * quarter), False))
    for match in _MONTH_DATE.finditer(text):
        value = _parse_month(match.group(1), match.group(2))
        if value and free(*match.span()):
            found.append((*match.span(), value, False))
    for match in _YEAR_RANGE.finditer(text):
        if free(*match.span()):
            found.append((*match.span(), date(int(match.group(2)), 12, 31), False))
    for match in _YEAR_END.finditer(text):
        if free(*match.span()):
            found.append((*match.span(), date(int(match.group(1)), 12, 31), False))
    for match in _RECURRING.finditer(text):
        if free(*match.span()):
            found.append((*match.span(), None, True))

    expressions = []
    delays = {(s, e) for s, e, _, _ in found[:relative]}
    for start, end, value, recurring in sorted(found):
        lead = _DEADLINE_WORDS.search(text[max(0, start - 40) : start])
        soft = _SOFT_WORDS.search(text[max(0, start - 20) : start]) if not lead else None
        text_start = start - len(lead.group(0)) if lead else start - len(soft.group(0)) if soft else start
        wording = text[text_start:end].strip(" ,;")
        expressions.append(DateExpression(text_start, end, wording, value, bool(lead) or (start, end) in delays, recurring))
    return expressions


def _choose(expressions: list[DateExpression], text: str) -> DateExpression | None:
    """The deadline among a passage's date expressions: an explicit date restating a
    delay ("dans un délai de 60 jours ..., soit au plus tard le 18 avril 2026") wins, then
    the first one marked by a deadline word, then the first dated one, then a recurrence."""
    dated = [e for e in expressions if not e.recurring]
    for first, second in zip(dated, dated[1:]):
        if (_RELATIVE.search(first.text) and second.value and re.fullmatch(r"[\s,;]*", text[first.end : second.start])
                and re.match(r"(?:soit|i\.e\.|c'est-à-dire|that is)", second.text, re.I)):
            return DateExpression(first.start, second.end, text[first.start : second.end], second.value, True)
    for expression in dated:
        if expression.marked and expression.value is not None:
            return expression
    for expression in dated:
        if expression.value is not None:
            return expression
    return dated[0] if dated else (expressions[0] if expressions else None)


def _last_date(text: str, reference: date | None, signed: date | None) -> tuple[date | None, int] | None:
    """The date expression that ends `text` (a table row's deadline cell): (value, start)."""
    expressions = [e for e in find_dates(text, reference, signed) if not e.recurring]
    if not expressions or text[expressions[-1].end :].strip():
        return None
    last = expressions[-1]
    return last.value, last.start


@functools.lru_cache(maxsize=4096)
def _parse_day(day: str, month: str, year: str) -> date | None:
    import dateparser

    parsed = dateparser.parse(f"{day} {month} {year}", languages=["fr", "en"],
                              settings={"REQUIRE_PARTS": ["day", "month", "year"], "DATE_ORDER": "DMY"})
    return parsed.date() if isinstance(parsed, datetime) else None


@functools.lru_cache(maxsize=4096)
def _parse_month(month: str, year: str) -> date | None:
    import dateparser

    if month[:1].isdigit():
        return None
    parsed = dateparser.parse(f"{month} {year}", languages=["fr", "en"],
                              settings={"REQUIRE_PARTS": ["month", "year"], "PREFER_DAY_OF_MONTH": "last"})
    # dateparser also reads "2026" alone as a year: the word must have been a month.
    if not isinstance(parsed, datetime) or dateparser.parse(month, languages=["fr", "en"],
                                                            settings={"REQUIRE_PARTS": ["month"]}) is None:
        return None
    return parsed.date()


def _relative(match: re.Match[str], reference: date | None, signed: date | None) -> date | None:
    anchor_word = fold(match.group("anchor") or "")
    if anchor_word.startswith(("signature", "signing")):
        base = signed
    elif anchor_word and anchor_word not in ("la", "le"):
        return None  # "après son installation": an event the document does not date
    else:
        base = reference
    if base is None or match.group("business"):
        return None
    import dateparser

    unit = match.group("unit").casefold()
    english = unit.startswith(("day", "week", "month", "year"))
    phrase = f"in {match.group('n')} {unit}" if english else f"dans {match.group('n')} {unit}"
    parsed = dateparser.parse(phrase, languages=["en" if english else "fr"],
                              settings={"RELATIVE_BASE": datetime(base.year, base.month, base.day),
                                        "PREFER_DATES_FROM": "future"})
    return parsed.date() if isinstance(parsed, datetime) else None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _recurring(text: str) -> str | None:
    match = _RECURRING.search(text)
    return match.group(0) if match else None


# ----- small helpers -------------------------------------------------------------------------
def _without_marker(text: str, start: int, end: int) -> tuple[int, str]:
    """(start, text) of a passage without its list marker and surrounding blanks."""
    raw = text[start:end]
    marker = _MARKER.match(raw)
    if marker:
        start += marker.end()
    raw = text[start:end]
    lead = len(raw) - len(raw.lstrip())
    return start + lead, raw.strip().rstrip(";").rstrip()


def _lines(body: str, offset: int) -> list[tuple[int, int, str]]:
    lines, cursor = [], 0
    for line in body.split("\n"):
        lines.append((offset + cursor, offset + cursor + len(line), line))
        cursor += len(line) + 1
    return [entry for entry in lines if entry[2].strip()]


def _list_units(lines: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """List items of a block: a marked line starts one, unmarked lines continue it."""
    units: list[list[int]] = []
    for start, end, line in lines:
        if _MARKER.match(line) or not units:
            units.append([start, end])
        else:
            units[-1][1] = end
    return [(s, e) for s, e in units]


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of text[start:end], split further at semicolons."""
    spans = []
    for s_start, s_end in sentence_spans(text, start, end):
        cursor = s_start
        for match in re.finditer(r";\s+", text[s_start:s_end]):
            spans.append((cursor, s_start + match.start()))
            cursor = s_start + match.end()
        spans.append((cursor, s_end))
    return spans


def _is_pipe_row(line: str) -> bool:
    return line.count("|") >= 2 or (line.strip().startswith("|") and line.count("|") >= 1)


def _cells(line: str, offset: int) -> list[tuple[int, int, str]]:
    cells, cursor = [], 0
    for part in line.split("|"):
        start = cursor
        cursor += len(part) + 1
        stripped = part.strip()
        if not stripped:
            continue
        lead = len(part) - len(part.lstrip())
        cells.append((offset + start + lead, offset + start + lead + len(stripped), stripped))
    if line.strip().startswith("|") or line.strip().endswith("|"):
        return cells
    return cells


def _header_key(cell: str) -> str | None:
    cell = cell.strip(" :")
    for key, pattern in _HEADER_CELL.items():
        if pattern.match(cell):
            return key
    return None


def _commission(text: str) -> str | None:
    for name, pattern in COMMISSIONS:
        if re.search(pattern, text, re.I):
            return name
    return None


def _commission_of(owner: str, text: str, section: tuple[str, ...] = ()) -> str | None:
    """The commission an item belongs to, when its owner, its wording or its section says."""
    if owner.startswith("Commission "):
        return _commission(owner)
    named = re.search(r"\bcommission(?: mixte)? ([^\s,.;]+(?: des talents)?)|([^\s,.;]+) commission\b", text, re.I)
    if named and _commission(named.group(0)):
        return _commission(named.group(0))
    for title in reversed(section):
        if re.search(r"commission", title, re.I) and _commission(title):
            return _commission(title)
    return None


def _status(text: str) -> str:
    for name, pattern in _STATUS_WORDS:
        if re.match(rf"\s*(?:{pattern})\b", text, re.I):
            return name
    return _status_cue(text) or "unknown"


def _status_cue(text: str) -> str | None:
    """A status stated after the item ("…): overdue", "(en retard)"), if any."""
    match = re.search(r"(?:\)\s*:|:\s*|—\s*|\(\s*)\s*(" + "|".join(p for _, p in _STATUS_WORDS) + r")\b", text, re.I)
    if not match:
        return None
    return _status(match.group(1))


def _action(text: str, expression: DateExpression | None) -> str:
    """The action as a short phrase: the passage without its deadline wording."""
    if expression and expression.text:
        text = text.replace(expression.text, " ")
    text = re.sub(r"\((?:owners?|responsables?)\s*:[^)]*\)", " ", text, flags=re.I)
    return text


def _tidy(text: str) -> str:
    text = " ".join(text.split()).strip(" ,;:.")
    text = re.sub(r",\s*,", ",", text)
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    return text[:1].upper() + text[1:]
