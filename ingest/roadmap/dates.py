"""Where a passage states a date, what the date resolves to, and which one is its deadline.

Parsing goes through `kb.dates` (French and English month names, `dateparser`); this module
finds the expressions: absolute ("18 avril 2026", "2026-04-18"), partial ("fin mars 2026",
"T2 2026", "2026–2027"), relative ("dans un délai de 30 jours après la signature", "within
60 days") and recurring ("chaque année"). Partial dates resolve to the last day they allow;
relative ones count from the document's date, or from the signature of the memoranda when
they run from the signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable, Iterator

from kb.dates import month_end, parse_day, parse_month, parse_relative, safe_date
from kb.text import fold


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
RELATIVE = re.compile(
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
_RESTATES = re.compile(r"(?:soit|i\.e\.|c'est-à-dire|that is)", re.I)

# (start, end, value, recurring) of one expression, before its lead-in words are added.
_Span = tuple[int, int, "date | None", bool]


def find_dates(text: str, reference: date | None, signed: date | None = None) -> list[DateExpression]:
    """Date expressions of `text` in order: absolute, partial ("fin mars 2026", "T2 2026"),
    relative ("dans un délai de 30 jours après la signature") and recurring ("chaque année").

    Relative delays count from `reference` (the document's date), or from `signed` when
    they run from the signature; a delay from an undated event gives value None.
    """
    found = list(_relative_spans(text, reference, signed))
    delays = {(start, end) for start, end, _, _ in found}
    for finder in _FINDERS:
        for checked, span in finder(text):
            # An expression inside one already found ("mars 2026" in "31 mars 2026") is not another.
            if all(checked[1] <= s or checked[0] >= e for s, e, _, _ in found):
                found.append(span)
    return [_expression(text, span, (span[0], span[1]) in delays) for span in sorted(found)]


def _expression(text: str, span: _Span, delay: bool) -> DateExpression:
    """The expression with the deadline words before it ("avant le", "by the end of")."""
    start, end, value, recurring = span
    lead = _DEADLINE_WORDS.search(text[max(0, start - 40) : start])
    soft = None if lead else _SOFT_WORDS.search(text[max(0, start - 20) : start])
    text_start = start - len((lead or soft).group(0)) if lead or soft else start
    wording = text[text_start:end].strip(" ,;")
    return DateExpression(text_start, end, wording, value, bool(lead) or delay, recurring)


def _relative_spans(text: str, reference: date | None, signed: date | None) -> Iterator[_Span]:
    for match in RELATIVE.finditer(text):
        end = match.end() if match.group("anchor") else match.end("unit") + len(match.group("business") or "")
        yield match.start(), end, _relative(match, reference, signed), False


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
    return parse_relative(match.group("n"), match.group("unit"), base)


_Found = Iterator[tuple[tuple[int, int], _Span]]


def _iso(text: str) -> _Found:
    for match in _ISO.finditer(text):
        value = safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        yield match.span(), (*match.span(), value, False)


def _days(text: str) -> _Found:
    for match in _DAY_DATE.finditer(text):
        value = parse_day(match.group(1), match.group(2), match.group(3))
        if value:
            # A range of days ("12–15 mars 2026") is due on its last day but worded whole.
            span = re.search(r"\d{1,2}\s*[–-]\s*$", text[: match.start()])
            yield match.span(), (span.start() if span else match.start(), match.end(), value, False)


def _quarters(text: str) -> _Found:
    for match in _QUARTER.finditer(text):
        yield match.span(), (*match.span(), month_end(int(match.group(2)), 3 * int(match.group(1))), False)


def _months(text: str) -> _Found:
    for match in _MONTH_DATE.finditer(text):
        value = parse_month(match.group(1), match.group(2))
        if value:
            yield match.span(), (*match.span(), value, False)


def _year_ends(text: str) -> _Found:
    for pattern, group in ((_YEAR_RANGE, 2), (_YEAR_END, 1)):
        for match in pattern.finditer(text):
            yield match.span(), (*match.span(), date(int(match.group(group)), 12, 31), False)


def _recurrences(text: str) -> _Found:
    for match in _RECURRING.finditer(text):
        yield match.span(), (*match.span(), None, True)


_FINDERS: tuple[Callable[[str], _Found], ...] = (_iso, _days, _quarters, _months, _year_ends, _recurrences)


def choose_deadline(expressions: list[DateExpression], text: str) -> DateExpression | None:
    """The deadline among a passage's date expressions: an explicit date restating a
    delay ("dans un délai de 60 jours ..., soit au plus tard le 18 avril 2026") wins, then
    the first one marked by a deadline word, then the first dated one, then a recurrence."""
    dated = [e for e in expressions if not e.recurring]
    restated = _restated_delay(dated, text)
    if restated:
        return restated
    marked = [e for e in dated if e.marked and e.value is not None]
    valued = [e for e in dated if e.value is not None]
    return next(iter(marked or valued or dated or expressions), None)


def _restated_delay(dated: list[DateExpression], text: str) -> DateExpression | None:
    """A delay followed by the date it comes to ("..., soit le 18 avril 2026"), as one expression."""
    for first, second in zip(dated, dated[1:]):
        if (RELATIVE.search(first.text) and second.value and re.fullmatch(r"[\s,;]*", text[first.end : second.start])
                and _RESTATES.match(second.text)):
            return DateExpression(first.start, second.end, text[first.start : second.end], second.value, True)
    return None


def last_date(text: str, reference: date | None, signed: date | None) -> tuple[date | None, int] | None:
    """The date expression that ends `text` (a table row's deadline cell): (value, start)."""
    expressions = [e for e in find_dates(text, reference, signed) if not e.recurring]
    if not expressions or text[expressions[-1].end :].strip():
        return None
    return expressions[-1].value, expressions[-1].start


def signature_date(documents: Iterable[tuple[str, date | None]]) -> date | None:
    """The anchor of "after signature": the earliest date among (doc_type, date) of the
    protocol documents, or None when there is none."""
    dates = [when for doc_type, when in documents if doc_type == "protocol" and when is not None]
    return min(dates) if dates else None
