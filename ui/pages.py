"""HTML of the onboarding and documents tabs, built from `bot` data. Everything is escaped."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence

from bot.onboarding import GlossaryEntry, TimelineEvent
from kb.store import DocumentRecord
from ui.i18n import t


def onboarding_html(groups: Mapping[str, Sequence[DocumentRecord]], glossary: Sequence[GlossaryEntry],
                    timeline: Sequence[TimelineEvent], language: str) -> str:
    """The onboarding page: documents by type, glossary with sources, timeline."""
    e = html.escape
    parts = [f"<h2>{e(t('overview', language))}</h2>"]
    for doc_type, records in groups.items():
        parts.append(f"<h3>{e(doc_type)}</h3><ul>")
        for r in records:
            orgs = ", ".join(r.organisations)
            parts.append(f"<li><b>{e(r.title)}</b> — {e(r.date or '—')}"
                         f"{' — ' + e(orgs) if orgs else ''} <span class='muted'>({e(r.path)})</span></li>")
        parts.append("</ul>")
    parts.append(f"<h2>{e(t('glossary', language))}</h2><table class='glossary'><thead><tr>"
                 f"<th>{e(t('acronym', language))}</th><th>{e(t('expansion', language))}</th>"
                 f"<th>{e(t('source', language))}</th></tr></thead><tbody>")
    for g in glossary:
        parts.append(f"<tr><td><b>{e(g.acronym)}</b></td><td>{e(g.expansion)}</td>"
                     f"<td>{e(g.title)} <span class='muted'>({e(g.path)})</span></td></tr>")
    parts.append(f"</tbody></table><h2>{e(t('timeline', language))}</h2><ol class='timeline'>")
    for ev in timeline:
        parts.append(f"<li><span class='date'>{e(ev.date)}</span> <span class='muted'>[{e(ev.doc_type)}]</span> "
                     f"{e(ev.title)}</li>")
    parts.append("</ol>")
    return "\n".join(parts)


def documents_table(records: Sequence[DocumentRecord], language: str) -> tuple[list[str], list[list[object]]]:
    """Headers and rows of the documents table."""
    headers = [t(k, language) for k in ("col_title", "col_type", "col_date", "col_access", "col_chunks", "col_file")]
    rows = [[r.title, r.doc_type, r.date, r.access, r.chunks, r.path] for r in records]
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
        lines.append("<ul>" + "".join(f"<li><b>{e(t('upload_rejected', language))}</b> {e(r['file'])} : {e(r['error'])}</li>"
                                      for r in rejected) + "</ul>")
    return "\n".join(lines)
