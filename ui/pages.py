"""HTML of the onboarding and documents tabs, built from `bot` data. Everything is escaped."""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from pathlib import PurePath
from collections.abc import Mapping, Sequence

from bot.onboarding import GlossaryEntry, TimelineEvent
from kb.store import DocumentRecord
from ingest.load import SUPPORTED_SUFFIXES
from kb.vocabulary import code_label
from ui.i18n import t

# Why ingestion refused a file (its message, in English, from ingest/), as interface texts.
_REJECTIONS = (
    (re.compile(r"^unsupported type"), "reject_type"),
    (re.compile(r"^(?P<size>[\d.]+) MB is over the (?P<limit>[\d.]+) MB"), "reject_size"),
    (re.compile(r"encrypted|password"), "reject_encrypted"),
    (re.compile(r"no text could be extracted"), "reject_no_text"),
    (re.compile(r"^empty file"), "reject_empty"),
    (re.compile(r"binary content|not an e-mail|not text|not valid .* text|invalid UTF"), "reject_binary"),
    (re.compile(r"zip bomb|too large|too many rows|rows"), "reject_too_big"),
    (re.compile(r"corrupt|unreadable|not a valid|malformed|cannot"), "reject_corrupt"),
)


def onboarding_html(groups: Mapping[str, Sequence[DocumentRecord]], glossary: Sequence[GlossaryEntry],
                    timeline: Sequence[TimelineEvent], language: str) -> str:
    """The onboarding page: documents by type, glossary with sources, timeline."""
    e = html.escape
    parts = [f"<h2>{e(t('overview', language))}</h2>"]
    for doc_type, records in groups.items():
        heading = code_label("doc_type", doc_type, language)
        parts.append(f"<h3>{e(heading[:1].upper() + heading[1:])}</h3><ul>")
        for r in records:
            orgs = ", ".join(r.organisations)
            parts.append(f"<li><b>{e(r.title)}</b> — {e(r.date or '—')}"
                         f"{' — ' + e(orgs) if orgs else ''} <span class='muted'>({e(r.path)})</span></li>")
        parts.append("</ul>")
    parts.append(f"<h2>{e(t('glossary', language))}</h2><div class='table-scroll'><table class='glossary'><thead><tr>"
                 f"<th>{e(t('acronym', language))}</th><th>{e(t('expansion', language))}</th>"
                 f"<th>{e(t('source', language))}</th></tr></thead><tbody>")
    for g in glossary:
        parts.append(f"<tr><td><b>{e(g.acronym)}</b></td><td>{e(g.expansion)}</td>"
                     f"<td>{e(g.title)} <span class='muted'>({e(g.path)})</span></td></tr>")
    parts.append(f"</tbody></table></div><h2>{e(t('timeline', language))}</h2><ol class='timeline'>")
    for ev in timeline:
        parts.append(f"<li><span class='date'>{e(ev.date)}</span> <span class='muted'>[{e(code_label('doc_type', ev.doc_type, language))}]</span> "
                     f"{e(ev.title)}</li>")
    parts.append("</ol>")
    return "\n".join(parts)


def documents_table(records: Sequence[DocumentRecord], language: str) -> tuple[list[str], list[list[object]]]:
    """Headers and rows of the documents table."""
    headers = [t(k, language) for k in ("col_title", "col_type", "col_date", "col_access", "col_chunks", "col_file")]
    rows = [[r.title, code_label("doc_type", r.doc_type, language), r.date, code_label("access", r.access, language),
             r.chunks, r.path] for r in records]
    return headers, rows


def documents_summary(records: Sequence[DocumentRecord], last: dt.datetime | None, language: str) -> str:
    """One line of counts and the time of the last ingestion (Markdown-safe text)."""
    count = t("doc_count", language, count=len(records), chunks=sum(r.chunks for r in records))
    when = t("last_ingest", language, when=last.strftime("%Y-%m-%d %H:%M")) if last else t("never_ingested", language)
    return f"{count} {when}"


def upload_summary(accepted: Sequence[str], rejected: Sequence[Mapping[str, str]], language: str) -> str:
    """What an upload did, as HTML: counts, then each rejected file with its reason."""
    e = html.escape
    lines = [f"<p>{e(t('upload_done', language, ok=len(accepted), bad=len(rejected)))}</p>"]
    if rejected:
        colon = " : " if language == "fr" else ": "
        lines.append("<ul>" + "".join(f"<li><b>{e(t('upload_rejected', language))}</b> {e(r['file'])}{colon}"
                                      f"{e(rejection(r['file'], r['error'], language))}</li>" for r in rejected) + "</ul>")
    return "\n".join(lines)


def rejection(file: str, error: str, language: str) -> str:
    """Why a file was refused, in `language` (the detail in English stays in the log)."""
    logging.getLogger(__name__).info("upload rejected file=%r reason=%r", file, error)
    kind = (PurePath(file).suffix.lstrip(".").upper() or "?")
    for pattern, key in _REJECTIONS:
        found = pattern.search(error)
        if found:
            return t(key, language, suffix=PurePath(file).suffix or "—", kind=kind,
                     allowed=", ".join(SUPPORTED_SUFFIXES), **found.groupdict())
    return t("reject_other", language, kind=kind)
