"""The roadmap's commitments: who committed to what, by when, and what is late.

Ingestion stores every commitment each document states, as mentions (ingest/roadmap/).
Here the mentions of one action across documents are merged into one `Commitment` whose
sources are listed newest first: a follow-up meeting that marks an action done, or a new
roadmap version that moves its deadline (even in other words), updates the commitment and
keeps the older sources. "Late" is judged against `today` (injectable): a deadline before
today and a status other than done.

`commitments(...)` gives the rows of a table (the web tab and the CLI use it),
`recognise(question)` tells questions about commitments from others (`bot.answering.query` calls
it), and `answer_from_commitments` answers them with one citation per commitment (after
`bot.answering.route`).
"""

from __future__ import annotations

import functools
import io
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from bot.roadmap_links import attach_reports, join_by_meaning
from bot.spreadsheet import write_table
from kb.commitments import PURPOSE_CLAUSE, action_stems, numbers_disagree, body_mentions, owner_bodies, owner_keys, owners_overlap, parse_owner
from kb.vocabulary import STATUSES, STEM_PREFIX, status_label

from kb.schema import ACCESS_LEVELS
from kb.search_filter import MAX_FILTER_CHARS
from kb.store import KnowledgeBase, SearchFilter
from kb.text import fold

if TYPE_CHECKING:
    from bot.answering.reply import Answer

log = logging.getLogger(__name__)

CSV_COLUMNS = ("deadline", "status", "owner", "commission", "action", "deadline_text", "access", "source_path",
               "source_title", "source_date", "source_page", "quote")
# The owner and commission filters are names: longer text (MAX_FILTER_CHARS) is refused before it is parsed.
MAX_ANSWER_ITEMS = 10


class CommitmentQueryError(ValueError):
    """A query for commitments that cannot run (unknown role, status or date); the message says why."""


@dataclass(frozen=True)
class CommitmentSource:
    """One document's mention of a commitment: where it is and what it said then."""

    path: str
    title: str
    date: str
    doc_type: str
    page: int | None
    section: str
    quote: str
    start: int
    end: int
    deadline: date | None
    deadline_text: str
    status: str
    access: str = "public"
    kind: str = "commitment"  # or "report": a later statement that it was done (deadline: the day)

    def to_dict(self) -> dict[str, Any]:
        """The source as in `python -m bot roadmap --json`."""
        return {"path": self.path, "title": self.title, "date": self.date, "page": self.page, "quote": self.quote,
                "start": self.start, "end": self.end}


@dataclass
class Commitment:
    """An action someone committed to, merged across the documents that mention it."""

    action: str
    owner: str
    commission: str | None
    deadline: date | None
    deadline_text: str
    status: str
    sources: list[CommitmentSource] = field(default_factory=list)

    @property
    def access(self) -> str:
        """The most restricted access level of its sources: who may read all it says."""
        levels = [s.access for s in self.sources if s.access in ACCESS_LEVELS]
        return max(levels, key=ACCESS_LEVELS.index, default="public")

    @property
    def late(self) -> bool:
        """True when the status is late (deadline passed and not done)."""
        return self.status == "late"

    @property
    def history(self) -> list[CommitmentSource]:
        """The sources that set its deadline or status anew, oldest first: the first to give a
        deadline or a status, then each later one that moves the deadline or changes the status."""
        steps: list[CommitmentSource] = []
        for source in reversed(self.sources):
            if source.deadline is None and source.status == "unknown":
                continue
            last = steps[-1] if steps else None
            if source.kind == "report":
                if last is None or last.status != "done":
                    steps.append(source)
                continue
            moved = source.deadline is not None and (last is None or source.deadline != last.deadline)
            if last is None or moved or source.status not in ("unknown", last.status):
                steps.append(source)
        return steps

    def history_text(self, language: str = "fr") -> str:
        """"30 juin 2026 → 30 septembre 2026, Rapport S1": each deadline as worded, and the
        document that set the last one; empty when no later document changed anything."""
        steps = self.history
        if len(steps) < 2:
            return ""
        dates = [_step_text(s, language) for s in steps]
        shown = [d for i, d in enumerate(dates) if i == 0 or d != dates[i - 1]]
        if steps[-1].status == "done" and steps[-2].status != "done" and steps[-1].kind != "report":
            shown.append(status_label("done", language))
        return f"{' → '.join(shown)}, {steps[-1].title}"

    def to_dict(self) -> dict[str, Any]:
        """The commitment as in `python -m bot roadmap --json`; a history step's `kind` is
        "report" when a later statement said it was done (its deadline: the day done)."""
        return {
            "action": self.action, "owner": self.owner, "commission": self.commission,
            "deadline": self.deadline.isoformat() if self.deadline else None, "deadline_text": self.deadline_text,
            "status": self.status, "sources": [s.to_dict() for s in self.sources],
            "history": [{"deadline": s.deadline.isoformat() if s.deadline else None, "deadline_text": s.deadline_text,
                         "status": s.status, "title": s.title, "date": s.date, "kind": s.kind}
                        for s in self.history],
        }


def _step_text(step: CommitmentSource, language: str) -> str:
    """A history step as shown: its deadline as worded, or "réalisé (17 février 2026)" for a report."""
    if step.kind == "report":
        return f"{status_label('done', language)} ({step.deadline_text})" if step.deadline_text else status_label(
            "done", language)
    return step.deadline_text or (step.deadline.isoformat() if step.deadline else status_label(step.status, language))


# ----- the commitments ---------------------------------------------------------------------
def commitments(
    kb: KnowledgeBase,
    role: str = "reader",
    owner: str | None = None,
    commission: str | None = None,
    status: str | None = None,
    before: date | None = None,
    after: date | None = None,
    today: date | None = None,
    *,
    where: SearchFilter | None = None,
    topic: str | None = None,
) -> list[Commitment]:
    """The commitments `role` may read, filtered, soonest deadline first (undated last).

    `owner` matches any name of the owner ("SENUM" finds "SENUM et MDDT" and "M. Diallo
    (SENUM)"); `commission` a commission theme; `status` one of done, in progress, planned,
    late, unknown; `before` keeps deadlines earlier than that day, `after` deadlines on or
    after it. `where` restricts the source documents (dates, type, language) as in
    bot.answer; `topic` keeps the commitments whose action shares most words with it.
    """
    try:
        where = where or SearchFilter.for_role(role)
    except ValueError as exc:
        raise CommitmentQueryError(str(exc)) from None
    if status is not None and status not in STATUSES:
        raise CommitmentQueryError(f"unknown status {status!r}: choose one of {', '.join(STATUSES)}")
    _check_names(owner=owner, commission=commission)
    if not kb.exists:
        return []
    rows = kb.mentions(where)
    owner_names = frozenset(owner_keys(parse_owner(owner))) if owner else None
    found = [c for c in merge(rows, today or date.today(), kb.mention_vectors(where))
             if _wanted(c, owner, commission, status, before, after, owner_names)]
    if topic:
        found = _on_topic(found, topic)
    return sorted(found, key=lambda c: (c.deadline is None, c.deadline or date.max, fold(c.owner)))


def _check_names(**filters: Any) -> None:
    for name, value in filters.items():
        if value is not None and (not isinstance(value, str) or len(value) > MAX_FILTER_CHARS):
            raise CommitmentQueryError(f"{name}: give a name of at most {MAX_FILTER_CHARS} characters")


def _wanted(item: Commitment, owner: str | None, commission: str | None, status: str | None,
            before: date | None, after: date | None, owner_names: frozenset[str] | None = None) -> bool:
    """Does a commitment pass the filters (each None filter passes)? `owner_names`: the owner
    filter's names, read once for all the commitments (read here when not given)."""
    checks = (
        not owner or _owned_by(item, owner, owner_names),
        not commission or bool(item.commission and fold(item.commission).startswith(fold(commission)[:STEM_PREFIX])),
        not status or item.status == status,
        not before or (item.deadline is not None and item.deadline < before),
        not after or (item.deadline is not None and item.deadline >= after),
    )
    return all(checks)


def _owned_by(item: Commitment, owner: str, names: frozenset[str] | None = None) -> bool:
    names = frozenset(owner_keys(parse_owner(owner))) if names is None else names
    return names <= owner_bodies(item.owner) or fold(owner) in fold(item.owner)


def merge(rows: Sequence[dict[str, Any]], today: date, vectors: dict[tuple[str, int], Any] | None = None
          ) -> list[Commitment]:
    """Group the stored mentions of the same action into commitments (newest source first).

    Two mentions are the same action when their actions share enough words and their
    owners agree: with the same deadline, owners that share a name (a joint row such as
    "Désignation des points focaux SENUM et CEAC" joins both parties' commitments; a person
    counts as their body) and one shared word; with another deadline (a moved one), the
    same owners and half of the smaller action's words. The words of the action are those
    of what is done: not the owner's name, nor a purpose clause ("so that ...", "afin de ...").

    With `vectors` (`KnowledgeBase.mention_vectors`), groups that mean the same join across
    languages and without owners, and reports that something was done or that a deadline
    moved join the commitment they are about (`bot.roadmap_links`); without them, reports
    and updates are left out.
    """
    reports = [r for r in rows if r.get("kind") in ("report", "update")]
    grouped = _word_groups([r for r in rows if r.get("kind") not in ("report", "update")])
    if vectors:
        grouped = attach_reports(join_by_meaning(grouped, vectors), reports, vectors)
    return [_commitment(sorted(g, key=_document_order, reverse=True), today) for g in grouped]


def _word_groups(rows: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The commitments' mentions grouped by their words and owners (see `merge`)."""
    groups: list[list[tuple[dict[str, Any], frozenset[str]]]] = []
    for row in sorted(rows, key=_document_order):
        mention = (row, merge_stems(row["action"], row["owner"]))
        matching = [g for g in groups if any(_same_action(mention, other) for other in g)]
        merged = [m for g in matching for m in g] + [mention]
        groups = [g for g in groups if not any(g is m for m in matching)] + [merged]
    return [[m[0] for m in g] for g in groups]


def _document_order(row: dict[str, Any]) -> tuple[str, str, int]:
    return row["date"] or "", row["doc_id"], row["ordinal"]


_PURPOSE = PURPOSE_CLAUSE


def merge_stems(action: str, owner: str) -> frozenset[str]:
    """The stems that say what a mention's action is: without its owner's names (a sentence
    often starts with them) and without a purpose clause."""
    return action_stems(_PURPOSE.sub("", action)) - action_stems(owner)


def _same_action(a: tuple[dict[str, Any], frozenset[str]], b: tuple[dict[str, Any], frozenset[str]]) -> bool:
    (row_a, stems_a), (row_b, stems_b) = a, b
    if not stems_a or not stems_b or numbers_disagree(row_a["action"], row_b["action"]):
        return False
    shared = len(stems_a & stems_b)
    ratio = shared / min(len(stems_a), len(stems_b))
    if row_a["deadline"] is not None and row_a["deadline"] == row_b["deadline"]:
        return _related(row_a, row_b) and shared >= 1 and ratio >= 0.25
    same_owner = set(owner_keys(row_a["owner"])) == set(owner_keys(row_b["owner"]))
    if row_a["doc_id"] == row_b["doc_id"]:
        # One document giving one owner two deadlines lists two actions, unless it restates one
        # action (its deadline moved): then most words of both are shared, not only of the shorter
        # ("un catalogue de 10 défis d'innovation publique proposés…" and "une proposition de cadre
        # d'achat public innovant", one commission's two deliverables, share three stems).
        ratio = shared / max(len(stems_a), len(stems_b))
    return same_owner and shared >= 2 and ratio >= 0.5


def _related(row_a: dict[str, Any], row_b: dict[str, Any]) -> bool:
    """Owners that share a name, or a commission and the commission named as owner."""
    if owners_overlap(row_a["owner"], row_b["owner"]):
        return True
    return bool(row_a["commission"] and row_a["commission"] == row_b["commission"]
                and "Commission" in (row_a["owner"] + row_b["owner"]))


def _commitment(group: list[dict[str, Any]], today: date) -> Commitment:
    """A commitment from its mentions, newest first: the newest mention that gives a field wins."""
    sources = [_source(r) for r in group]
    newest = next((r for r in group if r.get("kind", "commitment") == "commitment"), group[0])
    dated = next((s for s in sources if s.deadline is not None and s.kind != "report"), None)
    stated = next((s.status for s in sources if s.status != "unknown"), None)
    deadline = dated.deadline if dated else None
    return Commitment(
        action=newest["action"], owner=newest["owner"],
        commission=next((r["commission"] for r in group if r["commission"]), None),
        deadline=deadline, deadline_text=dated.deadline_text if dated else newest["deadline_text"],
        status=_status(stated, deadline, today), sources=sources,
    )


def _source(row: dict[str, Any]) -> CommitmentSource:
    return CommitmentSource(
        path=row["path"], title=row["title"], date=row["date"], doc_type=row["doc_type"], page=row["page"],
        section=row["section"], quote=row["quote"], start=row["start"], end=row["end"],
        deadline=date.fromisoformat(row["deadline"]) if row["deadline"] else None,
        deadline_text=row["deadline_text"], status=row["status"], access=row.get("access") or "public",
        kind=row.get("kind") or "commitment",
    )


def _status(stated: str | None, deadline: date | None, today: date) -> str:
    """The status the newest source states, judged against `today`: a deadline passed and
    not done is late; a late one rescheduled to a day still ahead is planned."""
    status = stated or ("unknown" if deadline is None else "planned")
    if status != "done" and deadline is not None and deadline < today:
        return "late"
    if status == "late" and deadline is not None and deadline >= today:
        return "planned"
    return status


def _on_topic(items: list[Commitment], topic: str) -> list[Commitment]:
    wanted = action_stems(topic) - _question_stems()
    if not wanted:
        return items
    scored = []
    for item in items:
        words = action_stems(" ".join([item.action, item.owner, item.commission or ""] + [s.quote for s in item.sources]))
        score = len(wanted & words)
        if score:
            scored.append((score, item))
    if not scored:
        return []
    top = max(score for score, _ in scored)
    return [item for score, item in scored if score == top]


@functools.cache
def _question_stems() -> frozenset[str]:
    return action_stems(
        "qui quels quelles quelle quel responsable responsible who what which échéances échéance deadline deadlines "
        "due prochaines next retard late overdue engagements commitments actions items chargé charge doit must "
        "register registre feuille route roadmap prévu planned liste list"
    )


def to_csv(items: Iterable[Commitment], language: str = "fr") -> str:
    """The commitments as CSV text for a spreadsheet (`bot.spreadsheet`: ';', byte-order mark, no
    live formulas), headers, statuses and access levels in `language`; one row per commitment,
    its newest source quoted."""
    from bot.messages import label

    buffer = io.StringIO()
    write_table(buffer, [label(c, language) for c in CSV_COLUMNS], (_csv_row(item, language) for item in items))
    return buffer.getvalue()


def _csv_row(item: Commitment, language: str) -> list[Any]:
    from bot.messages import label

    first = [item.deadline.isoformat() if item.deadline else "", status_label(item.status, language), item.owner,
             item.commission or "", item.action, item.deadline_text, label(item.access, language)]
    if not item.sources:
        return first + [""] * 5
    source = item.sources[0]
    return first + [source.path, source.title, source.date, "" if source.page is None else source.page,
                    " ".join(source.quote.split())]


# ----- questions about commitments ------------------------------------------------------------
@dataclass(frozen=True)
class CommitmentQuery:
    """What a question about commitments asks: filters for `commitments`."""

    owner: str | None = None
    status: str | None = None
    before: date | None = None
    after: date | None = None
    topic: str | None = None
    upcoming: bool = False


_LATE = re.compile(r"\b(?:en retard|retards?|late|overdue|behind schedule|pas été tenus?|missed)\b", re.I)
# "la feuille de route" names the commitments only when it is what the question asks about
# ("Que prévoit la feuille de route ?"), not where a fact is looked up ("la phase 2 dans
# la feuille de route").
_ASKS_FOR_COMMITMENTS = re.compile(
    r"\b(?:échéances?|echeances?|deadlines?|due|engagements?|commitments?|action items?|actions? à mener|"
    r"(?<!dans la )(?<!de la )(?<!\bin the )(?<!\bof the )(?:feuille de route|roadmap)|"
    r"(?:what is|what's|qu'y a-t-il|quoi) (?:in the roadmap|dans la feuille de route)|"
    r"responsables? d[eu']|responsible for|in charge of|chargée? d[eu']|"
    r"qui doit|who (?:must|has to|should)|s'est engagée?|committed to)\b", re.I)
_HOW_MANY = re.compile(r"\bcombien\b|\bhow (?:many|much)\b|\bquel(?:le)? (?:nombre|montant|pourcentage)\b", re.I)
_BEFORE = re.compile(r"\b(?:avant|before|d'ici|by|until|jusqu'à|jusqu'au)\s+(?:le |la |fin |the end of |end of )?(?P<when>[^\s?.,;]+(?:\s+20\d\d)?)", re.I)
_AFTER = re.compile(r"\b(?:après|after|à partir de|from)\s+(?:le |la )?(?P<when>[^\s?.,;]+(?:\s+20\d\d)?)", re.I)
_UPCOMING = re.compile(r"\b(?:prochaines?|à venir|upcoming|next)\b", re.I)


def recognise(question: str, today: date | None = None) -> CommitmentQuery | None:
    """The commitments a question asks for, or None for a question the documents answer.

    "Qu'est-ce qui est en retard ?" -> status late; "Quelles sont les échéances de la
    SENUM ?" -> owner SENUM; "What is due before June?" -> before 1 June; "Who is
    responsible for the cybersecurity training?" -> topic "cybersecurity training".
    """
    today = today or date.today()
    late = bool(_LATE.search(question))
    # "Combien de démarches la feuille de route prévoit-elle ?" asks for a number the
    # documents state, not for the list of commitments.
    if not late and (not _ASKS_FOR_COMMITMENTS.search(question) or _HOW_MANY.search(question)):
        return None
    mentions = body_mentions(question)
    owner = " et ".join(dict.fromkeys(name for _, _, name in mentions)) if mentions else None
    before = _bound(_BEFORE.search(question), today)
    after = _bound(_AFTER.search(question), today)
    topic = question
    for _, _, name in mentions:
        topic = topic.replace(name, " ")
    rest = action_stems(topic) - _question_stems() - _date_stems(question)
    return CommitmentQuery(
        owner=owner, status="late" if late else None, before=before, after=after,
        topic=topic if rest and not owner else None, upcoming=bool(_UPCOMING.search(question)),
    )


def _date_stems(question: str) -> frozenset[str]:
    words = [m.group("when") for m in (_BEFORE.search(question), _AFTER.search(question)) if m]
    return action_stems(" ".join(words)) if words else frozenset()


def _bound(match: re.Match[str] | None, today: date) -> date | None:
    """The first day of the period a question names ("before June" -> the coming 1 June);
    after "d'ici fin mars" / "by the end of March", the day after that period."""
    if match is None or re.fullmatch(r"\d{1,2}", match.group("when")):
        return None
    # Not kb.dates: a question's bound has no year ("before June"), it is the coming one.
    import dateparser

    until_end = bool(re.search(r"\bfin\b|\bend\b", match.group(0), re.I))
    parsed = dateparser.parse(match.group("when"), languages=["fr", "en"], settings={
        "PREFER_DATES_FROM": "future", "PREFER_DAY_OF_MONTH": "last" if until_end else "first",
        "RELATIVE_BASE": datetime(today.year, today.month, today.day)})
    if parsed is None:
        return None
    return parsed.date() + timedelta(days=1) if until_end else parsed.date()


def query_commitments(kb: KnowledgeBase, query: CommitmentQuery, where: SearchFilter, today: date) -> list[Commitment]:
    """The commitments a recognised question asks for."""
    items = commitments(kb, owner=query.owner, status=query.status, before=query.before, after=query.after,
                     today=today, where=where, topic=query.topic)
    if query.upcoming and not (query.status or query.before or query.after):
        items = [i for i in items if i.status != "done" and (i.deadline is None or i.deadline >= today)]
    return items


def describe(item: Commitment, language: str) -> str:
    """One line of an answer about commitments: owner, deadline, status, then the newest quote."""
    source = item.sources[0]
    when = item.deadline_text or (item.deadline.isoformat() if item.deadline else "")
    if item.deadline and item.deadline_text and item.deadline.isoformat() not in item.deadline_text:
        when = f"{item.deadline_text} ({item.deadline.isoformat()})"
    head = " — ".join(part for part in (item.owner, when, status_label(item.status, language)) if part)
    quote = " ".join(source.quote.split()).strip("| ")
    history = item.history_text(language)
    head = f"{head} ({history})" if history else head
    return f"{head} : « {quote} »" if language == "fr" else f"{head}: “{quote}”"


def answer_from_commitments(kb: KnowledgeBase, query: CommitmentQuery, where: SearchFilter, language: str,
                         today: date | None = None) -> "Answer | None":
    """The answer to a question about commitments (`recognise`), one citation per commitment;
    None when no readable commitment fits (the documents path answers then)."""
    from bot.answering.reply import Answer, Source
    from bot.messages import message

    started = time.perf_counter()
    today = today or date.today()
    items = query_commitments(kb, query, where, today)
    if not items:
        return None
    shown = items[:MAX_ANSWER_ITEMS]
    lines = [message("commitments_intro", language, count=len(items), today=today.isoformat())]
    sources = []
    for n, item in enumerate(shown, start=1):
        source = item.sources[0]
        lines.append(f"- {describe(item, language)} [{n}]")
        sources.append(Source(n=n, cited=True, title=source.title, path=source.path, doc_type=source.doc_type,
                              date=source.date, page=source.page, section=source.section, quote=source.quote,
                              start=source.start, end=source.end, score=1.0))
    if len(items) > len(shown):
        lines.append(message("commitments_more", language, more=len(items) - len(shown)))
    total = round((time.perf_counter() - started) * 1000, 1)
    log.info("commitments answer found=%d shown=%d", len(items), len(shown))
    return Answer("\n".join(lines), False, language, sources, {"retrieve": total, "answer": 0.0, "total": total})
