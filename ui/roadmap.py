"""The "Feuille de route" tab: the commitments table (HTML) and the timeline of deadlines (a Plotly figure).
Everything from documents is escaped."""

from __future__ import annotations

import datetime as dt
import html
import textwrap
from collections.abc import Sequence

import plotly.graph_objects as go

from bot.roadmap import Commitment
from kb.vocabulary import commission_label, status_label
from ui.i18n import t

STATUS_COLOURS = {"done": "#16a34a", "in progress": "#2563eb", "planned": "#6b7280", "late": "#dc2626",
                  "unknown": "#a3a3a3"}
# Timeline: height per owner row and for axes and legend, labels on the date axis, hover line width.
TIMELINE_ROW_PX, TIMELINE_BASE_PX = 34, 150
MAX_TICKS = 12
HOVER_WRAP = 60


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
            f"<td class='date'>{e(deadline)}<div class='muted'>{e(item.deadline_text)}</div>{_history(item, language)}</td>"
            f"<td><span class='status' style='color:{STATUS_COLOURS.get(item.status, '#000')}'>"
            f"{e(status_label(item.status, language))}</span></td>"
            f"<td>{e(item.owner)}</td><td>{e(commission_label(item.commission, language) if item.commission else '—')}</td><td>{e(item.action)}</td>"
            f"<td><details><summary>{e(newest)}</summary><ol>{sources}</ol></details></td></tr>"
        )
    caption = t("roadmap_count", language, count=len(items), late=sum(i.late for i in items), today=today.isoformat())
    # The table scrolls sideways inside its own box on a phone; the dated list stands in for the chart there.
    return (f"<p>{e(caption)}</p>{timeline_list(items, language)}<div class='table-scroll'><table class='roadmap'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _history(item: Commitment, language: str) -> str:
    """How the deadline and status changed ("30 juin 2026 → 30 septembre 2026, Rapport S1"), when they did."""
    history = item.history_text(language)
    return f"<div class='history'>{html.escape(history)}</div>" if history else ""


def timeline_list(items: Sequence[Commitment], language: str) -> str:
    """The timeline as a list of deadlines, in date order (shown instead of the chart at phone width)."""
    e = html.escape
    dated = sorted((i for i in items if i.deadline), key=lambda i: (i.deadline, i.owner))
    if not dated:
        return ""
    colon = " : " if language == "fr" else ": "
    rows = "".join(
        f"<li class='{'late' if i.late else ''}'><span class='date'>{e(i.deadline.isoformat())}</span> "
        f"<span class='status' style='color:{STATUS_COLOURS.get(i.status, '#000')}'>{e(status_label(i.status, language))}</span>"
        f" — <b>{e(i.owner)}</b>{colon}{e(i.action)}</li>" for i in dated)
    return f"<div class='timeline-list'><h3>{e(t('timeline', language))}</h3><ol>{rows}</ol></div>"


def filter_error_html(message: str) -> str:
    """A roadmap filter's error, in the table's place (the other outputs keep what they show)."""
    return f"<p class='filter-error' role='alert'>⚠️ {html.escape(message)}</p>"


def internal_only_html(language: str, logins: bool) -> str:
    """Why a visitor who may not read the commitments sees none, and how to see them."""
    e = html.escape
    how = (f"<a class='sign-in' href='logout'>{e(t('roadmap_sign_in', language))}</a>" if logins
           else e(t("roadmap_no_logins", language)))
    return f"<p class='roadmap-internal'>{e(t('roadmap_internal', language))} {how}</p>"


def timeline_figure(items: Sequence[Commitment], today: dt.date, language: str) -> go.Figure | None:
    """Deadlines on a date axis, one row per owner (full name), one marker per item coloured by status,
    hover with action, deadline, status and source, and a dashed line for today; None without deadlines."""
    dated = [i for i in items if i.deadline]
    if not dated:
        return None
    owners = sorted({i.owner for i in dated})
    fig = go.Figure()
    for status in _status_order({i.status for i in dated}):
        fig.add_trace(_status_trace([i for i in dated if i.status == status], status, language))
    start = min(min(i.deadline for i in dated), today)
    end = max(max(i.deadline for i in dated), today)
    fig.add_vline(x=today.isoformat(), line={"color": STATUS_COLOURS["late"], "dash": "dash", "width": 1.5},
                  annotation={"text": _plotly_text(f"{t('today', language)} {today.isoformat()}"),
                              "font": {"color": STATUS_COLOURS["late"]}},
                  annotation_position="top")
    fig.update_layout(
        template="plotly_white", height=TIMELINE_BASE_PX + TIMELINE_ROW_PX * len(owners), hovermode="closest",
        # The legend at the top of the figure, today's label just above the plot: they never overlap.
        margin={"l": 10, "r": 20, "t": 70, "b": 40},
        legend={"title": {"text": _plotly_text(t("col_status", language))}, "orientation": "h",
                "x": 0, "xanchor": "left", "yref": "container", "y": 1, "yanchor": "top"},
        xaxis={"type": "date", "range": [(start - dt.timedelta(days=20)).isoformat(),
                                         (end + dt.timedelta(days=20)).isoformat()],
               "tick0": start.replace(day=1).isoformat(), "dtick": f"M{_month_step(start, end)}",
               "tickformat": "%Y-%m", "ticks": "outside", "showgrid": True},
        # Full owner names: automargin widens the left margin to the longest one.
        yaxis={"type": "category", "categoryorder": "array", "automargin": True, "ticksuffix": "  ",
               "categoryarray": [_plotly_text(o) for o in reversed(owners)]},
    )
    return fig


def _status_trace(items: Sequence[Commitment], status: str, language: str) -> go.Scatter:
    label = status_label(status, language)
    e = _plotly_text
    customdata = [["<br>".join(e(line) for line in textwrap.wrap(i.action, HOVER_WRAP)), i.deadline.isoformat(),
                   e(label), e(i.sources[0].title if i.sources else "—")] for i in items]
    colon = " : " if language == "fr" else ": "  # French puts a space before the colon
    hover = "<br>".join(["<b>%{customdata[0]}</b>"] + [
        f"{e(t(key, language))}{colon}%{{customdata[{n}]}}"
        for n, key in ((1, "col_deadline"), (2, "col_status"), (3, "source"))]) + "<extra></extra>"
    return go.Scatter(x=[i.deadline.isoformat() for i in items], y=[e(i.owner) for i in items], mode="markers",
                      name=e(label), customdata=customdata, hovertemplate=hover,
                      marker={"color": STATUS_COLOURS.get(status, "#000"), "size": 12,
                              "line": {"color": "white", "width": 1}})


def _status_order(statuses: set[str]) -> list[str]:
    """The legend's order: the known statuses in their usual order, then any other."""
    return [s for s in STATUS_COLOURS if s in statuses] + sorted(statuses - set(STATUS_COLOURS))


def _plotly_text(text: str) -> str:
    # Plotly reads tags (<b>, <a href>...) and entities in every text it draws: text from documents is escaped.
    return html.escape(text, quote=False)


def _month_step(start: dt.date, end: dt.date) -> int:
    """Months between two ticks: the smallest of 1, 2, 3, 6, 12 that keeps at most MAX_TICKS labels."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return next((step for step in (1, 2, 3, 6) if months / step <= MAX_TICKS), 12)


def parse_day(value: str | None) -> dt.date | None:
    """An ISO date typed in a filter box, or None when empty; ValueError when it is not a date."""
    return dt.date.fromisoformat(value.strip()) if value and value.strip() else None


def filter_choices(items: Sequence[Commitment], language: str = "fr") -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Dropdown choices for owners and commissions of the items a user may read (commissions named in `language`)."""
    owners = [("—", "")] + [(o, o) for o in sorted({i.owner for i in items})]
    themes = [("—", "")] + [(commission_label(c, language), c) for c in sorted({i.commission for i in items if i.commission})]
    return owners, themes

