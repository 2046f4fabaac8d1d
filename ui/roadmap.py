"""HTML of the "Feuille de route" tab: the commitments table and a timeline of deadlines. Everything is escaped."""

from __future__ import annotations

import datetime as dt
import html
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bot.roadmap import Commitment
from ui.i18n import t

STATUS_COLOURS = {"done": "#16a34a", "in progress": "#2563eb", "planned": "#6b7280", "late": "#dc2626",
                  "unknown": "#a3a3a3"}


def status_label(status: str, language: str) -> str:
    """The status as shown in the interface language."""
    return t("status_" + status.replace(" ", "_"), language)


def commitments_table(items: Sequence[Commitment], today: dt.date, language: str) -> str:
    """The commitments as a table: overdue rows highlighted, each row opening onto its source quotes."""
    e = html.escape
    if not items:
        return f"<p class='muted'>{e(t('roadmap_empty', language))}</p>"
    head = "".join(f"<th>{e(t(k, language))}</th>" for k in
                   ("col_deadline", "col_status", "col_owner", "col_commission", "col_action", "source"))
    rows = []
    for item in items:
        deadline = item.deadline.isoformat() if item.deadline else "—"
        sources = "".join(
            f"<li><b>{e(s.title)}</b> <span class='muted'>({e(', '.join(x for x in (s.date, f'p. {s.page}' if s.page else '', s.path) if x))})</span>"
            f"<blockquote class='src-quote'><mark>{e(' '.join(s.quote.split()))}</mark></blockquote></li>"
            for s in item.sources
        )
        newest = item.sources[0].title if item.sources else "—"
        rows.append(
            f"<tr class='{'late' if item.late else ''}' data-status='{e(item.status)}'>"
            f"<td class='date'>{e(deadline)}<div class='muted'>{e(item.deadline_text)}</div></td>"
            f"<td><span class='status' style='color:{STATUS_COLOURS.get(item.status, '#000')}'>"
            f"{e(status_label(item.status, language))}</span></td>"
            f"<td>{e(item.owner)}</td><td>{e(item.commission or '—')}</td><td>{e(item.action)}</td>"
            f"<td><details><summary>{e(newest)}</summary><ol>{sources}</ol></details></td></tr>"
        )
    caption = t("roadmap_count", language, count=len(items), late=sum(i.late for i in items), today=today.isoformat())
    return (f"<p>{e(caption)}</p><table class='roadmap'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def timeline_svg(items: Sequence[Commitment], today: dt.date, language: str, width: int = 900) -> str:
    """Deadlines on a time axis, one lane per owner, coloured by status, with a line for today."""
    dated = [i for i in items if i.deadline]
    if not dated:
        return ""
    owners = list(dict.fromkeys(i.owner for i in sorted(dated, key=lambda i: i.owner)))
    start = min(min(i.deadline for i in dated), today).replace(day=1)
    end = max(max(i.deadline for i in dated), today)
    span = max((end - start).days, 1)
    left, lane, top = 170, 22, 24
    height = top + lane * len(owners) + 10

    def x(day: dt.date) -> float:
        return left + (width - left - 20) * (day - start).days / span

    e = html.escape
    parts = [f"<svg class='roadmap-timeline' role='img' aria-label='{e(t('timeline', language))}' "
             f"viewBox='0 0 {width} {height}' width='100%' xmlns='http://www.w3.org/2000/svg' font-size='11'>"]
    month = start
    while month <= end:
        parts.append(f"<line x1='{x(month):.1f}' x2='{x(month):.1f}' y1='{top - 6}' y2='{height - 6}' stroke='#e5e7eb'/>"
                     f"<text x='{x(month) + 2:.1f}' y='12' fill='#6b7280'>{month:%Y-%m}</text>")
        month = (month + dt.timedelta(days=32)).replace(day=1)
    parts.append(f"<line x1='{x(today):.1f}' x2='{x(today):.1f}' y1='{top - 8}' y2='{height - 4}' stroke='#dc2626' "
                 f"stroke-dasharray='4 3'><title>{e(today.isoformat())}</title></line>")
    for row, owner in enumerate(owners):
        y = top + lane * row + lane / 2
        parts.append(f"<text x='4' y='{y + 4:.1f}'>{e(owner[:26])}</text>")
        for item in (i for i in dated if i.owner == owner):
            colour = STATUS_COLOURS.get(item.status, "#000")
            parts.append(f"<circle cx='{x(item.deadline):.1f}' cy='{y:.1f}' r='5' fill='{colour}'>"
                         f"<title>{e(item.deadline.isoformat())} · {e(status_label(item.status, language))} · "
                         f"{e(item.action)}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)


def parse_day(value: str | None) -> dt.date | None:
    """An ISO date typed in a filter box, or None when empty; ValueError when it is not a date."""
    return dt.date.fromisoformat(value.strip()) if value and value.strip() else None


def filter_choices(items: Sequence[Commitment]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Dropdown choices for owners and commissions of the items a user may read."""
    owners = [("—", "")] + [(o, o) for o in sorted({i.owner for i in items})]
    themes = [("—", "")] + [(c, c) for c in sorted({i.commission for i in items if i.commission})]
    return owners, themes


def csv_file(text: str, today: dt.date) -> Path:
    """The CSV export written to a fresh temporary folder (served once by the app)."""
    path = Path(tempfile.mkdtemp(prefix="passerelle-")) / f"feuille-de-route-{today.isoformat()}.csv"
    path.write_text(text, encoding="utf-8")
    return path
