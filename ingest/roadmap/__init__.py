"""Roadmap extraction: the commitments, action items and deadlines a document states.

Rule-based and structure-aware, French and English, in five parts:

- `tables`: action tables with an action, an owner and a deadline column, in any order
  (Markdown or Word tables as "a | b | c" rows, PDF tables as rows of space-separated
  cells under a header line);
- `fields`: records of labelled fields ("Responsable : …", "owner …; due …"), read as the
  cells of a table row;
- `prose`: lists under a commitment heading or lead-in, and sentences that name an owner,
  a future deadline and a commitment cue;
- `dates`: where a date expression is and what it resolves to (parsing in `kb.dates`);
- `owners`: who a passage makes responsible, its commission and its status;
- `reports`: statements that an action was done on a given day (they only update commitments).

`reader` walks a document's blocks and settles what one passage cannot tell alone. The
entry point is `extract_commitments(doc)`; nothing here touches the store or a model.
"""

from __future__ import annotations

import logging
from datetime import date

from ingest.roadmap.dates import DateExpression, find_dates, signature_date
from ingest.roadmap.reader import Reader, settle, to_mention
from ingest.roadmap.reports import extract_reports
from kb.commitments import Mention
from kb.schema import LoadedDocument

__all__ = ["EXTRACTOR_VERSION", "DateExpression", "extract_commitments", "extract_mentions", "find_dates",
           "signature_date"]

log = logging.getLogger(__name__)

# Bump when extraction changes: the next ingestion re-extracts every document's commitments
# (reading the files again; only the mentions' actions are embedded, not the documents).
EXTRACTOR_VERSION = "5"  # 5: authorship lines are not reports; meaning_text without status tails


def extract_commitments(doc: LoadedDocument, *, signed: date | None = None) -> list[Mention]:
    """The commitments `doc` states, in document order.

    `signed` is the signature date of the memoranda, the anchor of "after signature"
    in documents other than the memoranda themselves (a protocol's own date is its
    signature date). Without it such deadlines stay unresolved (None, wording kept).
    """
    signed = doc.meta.date if doc.meta.doc_type == "protocol" and doc.meta.date else signed
    passages = Reader(doc, signed).read()
    found = [f for _, f in passages]
    items = [to_mention(doc.text, passages[i][0], found[i]) for i in settle(found)]
    log.debug("commitments document=%s mentions=%d", doc.doc_id, len(items))
    return items


def extract_mentions(doc: LoadedDocument, *, signed: date | None = None) -> list[Mention]:
    """What the store keeps of `doc` for the register: its commitments, then its reports
    that an action was done (`kind == "report"`, see `ingest.roadmap.reports`)."""
    commitments = extract_commitments(doc, signed=signed)
    return commitments + extract_reports(doc, commitments, signed=signed)
