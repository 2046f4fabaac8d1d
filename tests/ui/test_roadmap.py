"""The roadmap tab's timeline: a Plotly figure with full owner names, statuses in the interface
language, hover details, today's line; nothing to draw without deadlines."""

from __future__ import annotations

import datetime as dt

from bot.roadmap import CommitmentSource, Commitment
from ui.roadmap import timeline_figure

TODAY = dt.date(2026, 5, 15)
LONG_OWNER = "Cellule de coordination du programme (MCTN) et Sénégal Numérique SA"


def item(owner: str, deadline: dt.date | None, status: str, action: str = "Livrer le rapport",
         title: str = "Compte rendu du comité") -> Commitment:
    source = CommitmentSource(path="corpus/cr.md", title=title, date="2026-02-01", doc_type="meeting_notes", page=None,
                        section="", quote=action, start=0, end=len(action), deadline=deadline, deadline_text="",
                        status=status)
    return Commitment(action=action, owner=owner, commission=None, deadline=deadline, deadline_text="",
                       status=status, sources=[source])


def test_one_marker_per_dated_item_with_full_owner_names_and_legend_in_the_language() -> None:
    items = [item(LONG_OWNER, dt.date(2026, 3, 31), "late"), item("CEAC", dt.date(2026, 10, 1), "planned"),
             item("CEAC", dt.date(2026, 1, 15), "done"), item("ASAN", None, "unknown")]
    fig = timeline_figure(items, TODAY, "fr")
    assert sum(len(trace.x) for trace in fig.data) == 3, "undated items have no marker"
    assert [trace.name for trace in fig.data] == ["réalisé", "prévu", "en retard"]
    # Whole names; plotly draws the last category on top, so the rows read alphabetically downwards.
    assert list(fig.layout.yaxis.categoryarray) == [LONG_OWNER, "CEAC"]
    assert fig.layout.yaxis.automargin is True
    assert fig.layout.xaxis.type == "date" and fig.layout.xaxis.tickformat == "%Y-%m"
    assert [trace.name for trace in timeline_figure(items, TODAY, "en").data] == ["done", "planned", "late"]


def test_hover_gives_action_deadline_status_and_source_escaped() -> None:
    fig = timeline_figure([item("SENUM", dt.date(2026, 6, 30), "in progress", action="Ouvrir <b>le</b> portail",
                                title="Note & suite")], TODAY, "en")
    trace = fig.data[0]
    action, deadline, status, source = trace.customdata[0]
    assert (action, deadline, status, source) == ("Ouvrir &lt;b&gt;le&lt;/b&gt; portail", "2026-06-30",
                                                  "in progress", "Note &amp; suite")
    assert trace.hovertemplate == ("<b>%{customdata[0]}</b><br>Deadline: %{customdata[1]}<br>Status: %{customdata[2]}"
                                  "<br>Source: %{customdata[3]}<extra></extra>")


def test_today_is_a_dashed_line_with_its_label() -> None:
    fig = timeline_figure([item("SENUM", dt.date(2026, 6, 30), "planned")], TODAY, "fr")
    (line,) = fig.layout.shapes
    assert line.x0 == line.x1 == "2026-05-15" and line.line.dash == "dash"
    assert fig.layout.annotations[0].text == "aujourd'hui 2026-05-15"
    assert fig.layout.xaxis.range == ("2026-04-25", "2026-07-20"), "today is inside the axis"


def test_height_grows_with_owners_and_ticks_stay_few() -> None:
    few = timeline_figure([item("A", dt.date(2026, 6, 1), "planned")], TODAY, "fr")
    many = timeline_figure([item(f"Owner {n}", dt.date(2026 + n % 3, 1 + n % 12, 1), "planned") for n in range(20)],
                           TODAY, "fr")
    assert many.layout.height > few.layout.height
    assert few.layout.xaxis.dtick == "M1" and many.layout.xaxis.dtick == "M3", "at most a dozen date labels"


def test_nothing_dated_gives_no_figure() -> None:
    assert timeline_figure([], TODAY, "fr") is None
    assert timeline_figure([item("ASAN", None, "unknown")], TODAY, "en") is None


def test_commissions_are_named_in_the_interface_language() -> None:
    from kb.vocabulary import commission_label

    assert commission_label("cybersécurité", "en") == "cybersecurity"
    assert commission_label("start-up/État", "en") == "start-up/State"
    assert commission_label("cybersécurité", "fr") == "cybersécurité"
    from types import SimpleNamespace

    from ui.roadmap import filter_choices

    items = [SimpleNamespace(owner="SENUM", commission="cybersécurité"), SimpleNamespace(owner="CEAC", commission=None)]
    assert filter_choices(items, "en")[1] == [("—", ""), ("cybersecurity", "cybersécurité")]


def test_an_internal_only_roadmap_says_why_and_how_to_see_it() -> None:
    from ui.roadmap import internal_only_html

    signed_in = internal_only_html("fr", logins=True)
    assert "documents internes" in signed_in and "href='logout'" in signed_in and "compte d&#x27;agent" in signed_in
    demo = internal_only_html("en", logins=False)
    assert "internal documents" in demo and "href" not in demo and "ask the administrator" in demo
