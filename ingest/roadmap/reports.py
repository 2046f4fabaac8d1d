"""Statements that an action was done: "All five joint commissions were installed on
17 February 2026", "l'IDDA a confirmé le 26 juin 2026 les noms des dix mentors", "les
commentaires avaient été transmis le 9 décembre 2025"; and statements that a deadline moved,
naming no owner ("Le Demo Day de Dakar est décalé au 20 novembre 2026": kind "update").

A report is a sentence (or list item) in the past tense, giving the day the thing happened,
on or before the document's own date. It is not a commitment: the register uses it only to
mark done the commitment it is found to be about (bot/roadmap.py compares their actions),
and drops it otherwise. Sentences already read as commitments, table rows (their status
column says it) and sentences that say something did not happen, started or was put off
are not reports.
"""

from __future__ import annotations

import re
from datetime import date

from ingest.roadmap.dates import DateExpression, find_dates
from ingest.roadmap.owners import sentence_owner
from ingest.roadmap.passage import clauses, lines, list_units, tidy, without_marker
from ingest.roadmap.prose import action
from ingest.roadmap.tables import is_pipe_row
from kb.commitments import Mention
from kb.schema import LoadedDocument

# A finished action: a French compound past, active or passive ("a confirmé", "ont été
# installées", "avaient été transmis", "s'est tenue"), or an English simple past or passive
# ("delivered", "held", "was circulated", "have been appointed").
_DONE_FR = re.compile(
    r"\b(?:a|ont|avait|avaient|aura|auront)\s+(?:(?:bien|déjà|effectivement)\s+)?(?:été\s+)?[a-zà-ÿ]{3,}"
    r"(?:é|ée|és|ées|i|ie|is|ies|u|ue|us|ues|it|ite|its|ites|t|te|ts|tes)\b"
    r"|\bs['’](?:est|était)\s+(?:tenue?|réunie?|déroulée?|achevée?|terminée?)s?\b"
    r"|\bse\s+sont\s+(?:tenu|réuni|déroulé|achevé|terminé)e?s?\b", re.I)
_DONE_EN = re.compile(
    r"\b(?:was|were|has been|have been|had been)\s+(?:\w+ly\s+)?[a-z]{3,}(?:ed|en|t|held|made|done|set up)\b"
    r"|\b(?:held|met|sent|made|gave|took|signed|[a-z]{3,}ed)\b", re.I)
# Not done: negated, still to come, put off, or only begun.
_NOT_DONE = re.compile(
    r"\bn['’]\s*\w+\s+(?:pas|jamais|toujours pas)\b|\bpas encore\b|\b(?:not|never|yet to|no longer)\b|"
    r"\b(?:will|shall|must|sera|seront|devra|devront|doit|doivent)\b|"
    r"\b(?:report|décal|reprogramm|ajourn|postpon|reschedul|delay|deferr|annul|cancel)\w*|"
    r"\b(?:commencé|débuté|entamé|engagé|amorcé|started|began|begun|initiated|under way|underway|en cours|in progress|"
    r"expected|attendue?s?|prévue?s?|planned|scheduled|envisagée?s?)\b", re.I)

# A document saying who wrote it and when ("Prepared on 8 April 2026 by the coordination unit",
# "Établi par la cellule de coordination le 10 juillet 2026"): about the document, not about
# work it reports (on the sample corpus such a line was as close to a commitment of its author
# as true reports are).
_AUTHORSHIP = re.compile(r"^\W*(?:prepared|drafted|written|compiled|issued|établie?|rédigée?|préparée?)\b"
                         r"[^.;]{0,80}?\b(?:by|par)\b", re.I)


def extract_reports(doc: LoadedDocument, commitments: list[Mention], *, signed: date | None = None) -> list[Mention]:
    """The statements of `doc` that an action was done, in document order (see the module
    docstring); passages overlapping one of `commitments` (its mentions) are skipped. A
    document without a date reports nothing: its statements cannot be placed in time."""
    reference = doc.meta.date
    if reference is None:
        return []
    taken = [(m.start, m.end) for m in commitments]
    found: list[Mention] = []
    for block in doc.blocks:
        if block.kind == "heading":
            continue
        block_lines = lines(doc.text[block.start : block.end], block.start)
        if any(is_pipe_row(line) for _, _, line in block_lines):
            continue
        for unit_start, unit_end in list_units(block_lines) or [(block.start, block.end)]:
            start, body = without_marker(doc.text, unit_start, unit_end)
            for s_start, s_end in clauses(doc.text, start, start + len(body)):
                if any(s_start < end and start_ < s_end for start_, end in taken):
                    continue
                report = (_report(doc.text, s_start, s_end, reference, signed)
                          or _update(doc.text, s_start, s_end, reference, signed))
                if report is not None:
                    found.append(Mention(**report, page=block.page, section=" > ".join(block.section)))
    return found


def _report(text: str, start: int, end: int, reference: date, signed: date | None) -> dict | None:
    """The fields of a report stated by text[start:end], or None when it states none."""
    while end > start and text[end - 1] in " \t\n.;":
        end -= 1
    sentence = text[start:end]
    if not (_DONE_FR.search(sentence) or _DONE_EN.search(sentence)) or _NOT_DONE.search(sentence):
        return None
    if _AUTHORSHIP.search(sentence):
        return None
    when = _done_on(find_dates(sentence, reference, signed), reference)
    if when is None:
        return None
    return {"action": tidy(action(sentence, when)), "owner": sentence_owner(sentence) or "", "commission": None,
            "deadline": when.value, "deadline_text": " ".join(when.text.split()), "status": "done", "quote": sentence,
            "start": start, "end": end, "kind": "report"}


# A deadline moved: "est décalé au", "reporté à", "désormais attendu pour", "postponed to",
# "rescheduled for", "now due on", "nouvelle échéance".
_MOVED = re.compile(
    r"\b(?:report|décal|repouss|avancé|reprogramm|postpon|reschedul|deferr|brought forward|pushed back)\w*"
    r"|\bdésormais\b|\bnouvelle échéance\b|\bnew deadline\b|\bnow (?:due|expected|planned|scheduled)\b", re.I)
_TRAILING_VERB = re.compile(r"(?:\s+(?:est|sont|a été|ont été|sera|seront|is|are|was|were|has been|have been|will be))+\s*$",
                            re.I)


def _update(text: str, start: int, end: int, reference: date, signed: date | None) -> dict | None:
    """The fields of a statement that a deadline moved, or None: a moving word, then the new
    date (resolved, not recurring). The action is what comes before the moving word ("Le Demo
    Day de Dakar"); the owner, if the statement names one."""
    while end > start and text[end - 1] in " \t\n.;":
        end -= 1
    sentence = text[start:end]
    moved = _MOVED.search(sentence)
    if moved is None:
        return None
    after = [e for e in find_dates(sentence, reference, signed)
             if e.value is not None and not e.recurring and e.start >= moved.start()]
    if not after:
        return None
    when = after[0]
    subject = _TRAILING_VERB.sub("", sentence[: moved.start()]).strip(" ,;:")
    phrase = subject if len(subject.split()) >= 2 else action(sentence, when)
    return {"action": tidy(phrase), "owner": sentence_owner(sentence) or "", "commission": None,
            "deadline": when.value, "deadline_text": " ".join(when.text.split()), "status": "unknown",
            "quote": sentence, "start": start, "end": end, "kind": "update"}


def _done_on(expressions: list[DateExpression], reference: date) -> DateExpression | None:
    """The day a statement says the thing happened: a resolved date on or before the
    document's date that is not a deadline ("before 10 December"); None when another date
    of the statement is still ahead (a plan, not a report)."""
    past = [e for e in expressions if e.value is not None and not e.recurring and not e.marked and e.value <= reference]
    ahead = [e for e in expressions if e.value is not None and e.value > reference]
    return past[0] if past and not ahead else None
