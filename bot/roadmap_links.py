"""Which mentions are one commitment by meaning: across languages, and when a later document
names no owner or words the action otherwise.

`bot.roadmap.merge` first groups mentions whose words and owners agree; here those groups
are compared by the e5 vectors the store already has (`KnowledgeBase.mention_vectors`: the
sentence vectors each mention's quote overlaps). A wrong merge is worse than a missed one,
so two groups join only when

- they come from different documents, and are each other's closest group (no third group
  is as close to either, unless the two name the very same owners and that group does not; it
  is then never joined to them later);
- the mean cosine of their mentions (those the vectors may compare: in different
  languages, or one naming no owner) reaches `SAME_MEANING` when their owners agree (one
  of them names none, or they share a body), `OTHER_OWNER` more when both name owners and
  none is shared (a stricter bar, not a veto: the same steering-committee meeting may be
  owned by its parties in one document and by the committee in another).

A report that something was done (`Mention.kind == "report"`) joins the closest group of
commitments stated in documents dated no later than the report's when the pair model of
`bot.roadmap_report_model` accepts the pair (cosine, margin over the next group, how near
the reported day is to the deadline), and the day it reports is not
before that commitment was first written; a statement that a deadline moved
(`kind == "update"`) needs its cosine with the closest commitment to reach `REPORTED_DONE`,
raised the same way when owners disagree; unmatched reports are dropped. The thresholds were
chosen on the sample corpus and the development documents (`python -m
evals.commitment_updates --dev` prints the distributions they come from; `python -m
tools.fit_report_links` fits the pair model), never on the held-out updates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

from bot.roadmap_report_model import ReportModel, default_model, signals
from kb.commitments import numbers_disagree, owner_bodies

log = logging.getLogger(__name__)

SAME_MEANING = 0.90
# A report that something was done is read against the commitment alone (one sentence
# against one action, no group of wordings), hence its own bar.
REPORTED_DONE = 0.89
# One commitment listed twice (two groups the words could not join: "Première réunion du comité
# de pilotage conjoint" in the roadmap, "La première réunion ... se tiendra à Dakar" in the
# minutes): the mean cosine of their mentions. On the sample corpus that pair is at 0.959, the
# closest pair of different commitments a report could have reached at 0.934.
LISTED_TWICE = 0.95
# Owners that share no name: the bar is raised by this much (a stricter bar, not a veto).
OTHER_OWNER = 0.03
# A group closer to another group than this margin is ambiguous: no join.
MARGIN = 0.01

Row = dict[str, Any]


@dataclass
class _Group:
    rows: list[Row]
    keys: list[tuple[str, int]]

    @property
    def documents(self) -> set[str]:
        return {r["doc_id"] for r in self.rows}

    @property
    def owners(self) -> frozenset[str]:
        names: set[str] = set()
        for row in self.rows:
            if row["owner"]:
                names |= owner_bodies(row["owner"])
        return frozenset(names)

    @property
    def first_written(self) -> str:
        return min((r["date"] or "" for r in self.rows), default="")


def key(row: Row) -> tuple[str, int]:
    """A mention's key in the vectors mapping."""
    return row["doc_id"], row["ordinal"]


def join_by_meaning(groups: list[list[Row]], vectors: dict[tuple[str, int], Any]) -> list[list[Row]]:
    """`groups` (lists of commitment rows) with the groups that mean the same joined."""
    import numpy as np

    items = [_Group(list(g), [key(r) for r in g if key(r) in vectors]) for g in groups]
    alive = [i for i, g in enumerate(items) if g.keys]
    if len(alive) < 2:
        return groups
    total, count = _group_similarity([items[i] for i in alive], vectors)
    apart: set[frozenset[int]] = set()  # groups the owners told apart: never joined later
    while True:
        similarity = np.where(count > 0, total / np.maximum(count, 1), -1.0)
        np.fill_diagonal(similarity, -1.0)
        pair = _best_pair([items[i] for i in alive], similarity, apart)
        if pair is None:
            break
        a, b = pair
        log.debug("commitments joined by meaning similarity=%.3f a=%r b=%r", similarity[a, b],
                  items[alive[a]].rows[0]["action"][:60], items[alive[b]].rows[0]["action"][:60])
        _join(items[alive[a]], items[alive[b]], (total, count), a, b)
        apart = _renamed(apart, b, a)
    return [g.rows for g in items if g.rows]


def _renamed(apart: set[frozenset[int]], old: int, new: int) -> set[frozenset[int]]:
    """`apart` with group `old` now called `new` (joined into it)."""
    return {frozenset(new if n == old else n for n in told) for told in apart}


def _join(first: _Group, second: _Group, matrices: Sequence[Any], a: int, b: int) -> None:
    """Group `second` (row and column `b` of the matrices) into `first` (`a`)."""
    first.rows += second.rows
    first.keys += second.keys
    second.rows, second.keys = [], []
    for matrix in matrices:
        matrix[a, :] += matrix[b, :]
        matrix[:, a] = matrix[a, :]
        matrix[b, :] = matrix[:, b] = 0


def _group_similarity(items: Sequence[_Group], vectors: dict[tuple[str, int], Any]) -> tuple[Any, Any]:
    """(sum, number) of the cosines of the comparable pairs of mentions (`_comparable`) of
    each pair of groups: their mean is the groups' similarity. A mean, not the closest pair:
    a group joins another only when its mentions are alike as a whole (one close mention in a
    group already holding other actions is not enough)."""
    import numpy as np

    group_of = np.asarray([n for n, g in enumerate(items) for r in g.rows if key(r) in vectors])
    members = [r for g in items for r in g.rows if key(r) in vectors]
    matrix = np.stack([vectors[key(r)] for r in members])
    comparable = _comparable(members)
    cosine = np.where(comparable, matrix @ matrix.T, 0.0)
    onehot = (group_of[:, None] == np.arange(len(items))[None, :]).astype(float)
    total = onehot.T @ cosine @ onehot
    count = onehot.T @ comparable.astype(float) @ onehot
    np.fill_diagonal(total, 0.0)
    np.fill_diagonal(count, 0.0)
    return total, count


def _comparable(members: Sequence[Row]) -> Any:
    """Which pairs of mentions the vectors may join: those in different languages, or where
    one names no owner. Two mentions in one language that both name owners are the word
    merge's to join (bot.roadmap.merge); the vectors add what words cannot see, and on the
    sample corpus they only added wrong joins there ("la cartographie des 40 démarches" with
    "transmettre un inventaire des 40 démarches", cosine 0.965)."""
    import numpy as np

    language = np.asarray([r.get("language") or "" for r in members])
    ownerless = np.asarray([not r["owner"] for r in members])
    other = (language[:, None] != language[None, :]) | ownerless[:, None] | ownerless[None, :]
    # Counts or ranks that disagree ("version 2" / "version 3") are two things, however alike.
    agree = np.asarray([[not numbers_disagree(a["action"], b["action"]) for b in members] for a in members])
    return other & agree


def _best_pair(items: Sequence[_Group], similarity: Any, apart: set[frozenset[int]]) -> tuple[int, int] | None:
    """The closest pair of groups that may join, or None. A pair joined although a third group
    was as close (`_unambiguous`) adds that group and the joined one to `apart`: the owners
    said it is another commitment, and a later join through the new mention must not say
    otherwise."""
    import numpy as np

    order = np.dstack(np.unravel_index(np.argsort(-similarity, axis=None), similarity.shape))[0]
    for a, b in order:
        value = similarity[a, b]
        if value < SAME_MEANING:
            return None
        if a >= b or not items[a].rows or not items[b].rows:
            continue
        if frozenset((a, b)) in apart or not _may_join(items[a], items[b], value):
            continue
        rivals = _rivals(similarity, a, b, items)
        if rivals is not None:
            apart.update(frozenset((int(a), int(n))) for n in rivals)
            return int(a), int(b)
    return None


def _may_join(first: _Group, second: _Group, value: float) -> bool:
    if first.documents & second.documents:
        return False
    return value >= bar(first.owners, second.owners)


def bar(owners_a: frozenset[str], owners_b: frozenset[str], base: float | None = None) -> float:
    """The similarity two mentions need to be one commitment, given their owners' names:
    `base` (`SAME_MEANING` by default), raised by `OTHER_OWNER` when both name owners and
    share none."""
    base = SAME_MEANING if base is None else base
    disagree = bool(owners_a) and bool(owners_b) and not owners_a & owners_b
    return base + OTHER_OWNER if disagree else base


def _rivals(similarity: Any, a: int, b: int, items: Sequence[_Group]) -> list[int] | None:
    """None when the pair is ambiguous, else the groups as close that the owners overrule
    (usually none). Unambiguous: each of the two is the other's closest group, by at least
    `MARGIN`; or, when a third group is as close, the two name the very same owners and that
    group does not (a tracker row owned by "SENUM et ASAN" about the list of agents SENUM and
    ASAN finalise, not the immersion ASAN hosts: the words are as close to both, the owners
    tell them apart)."""
    import numpy as np

    value = similarity[a, b]
    same = items[a].owners and items[a].owners == items[b].owners
    overruled: list[int] = []
    for this, other in ((a, b), (b, a)):
        rivals = [int(n) for n in np.flatnonzero(similarity[this] > value - MARGIN) if n not in (this, other)]
        if rivals and not (same and all(items[n].owners != items[a].owners for n in rivals)):
            return None
        overruled += rivals
    return overruled


def attach_reports(groups: list[list[Row]], reports: Sequence[Row],
                   vectors: dict[tuple[str, int], Any], model: ReportModel | None = None) -> list[list[Row]]:
    """`groups` with each report that something was done added to the commitment it is about
    (see the module docstring); reports about no commitment are left out. `model`: the pair
    model of reports (`bot.roadmap_report_model.default_model()` when None)."""
    items = [_Group(list(g), [key(r) for r in g if key(r) in vectors]) for g in groups]
    model = model or default_model()
    for report in reports:
        if key(report) not in vectors:
            continue
        for n in _reported_groups(report, items, vectors, model):
            items[n].rows.append(report)
    return [g.rows for g in items]


def groups_of(groups: list[list[Row]], vectors: dict[tuple[str, int], Any]) -> list[_Group]:
    """Groups of rows as `report_candidates` reads them."""
    return [_Group(list(g), [key(r) for r in g if key(r) in vectors]) for g in groups]


def report_candidates(report: Row, items: Sequence[_Group], vectors: dict[tuple[str, int], Any]
                      ) -> list[tuple[float, int, dict[str, float]]]:
    """(cosine, group index, pair signals) of every group a report may be about (a commitment
    stated no later, in another document, its counts agreeing, first written no later than
    the reported day), closest first."""
    scored = _scored(report, items, vectors)
    found = []
    for value, n in scored:
        group = items[n]
        if not _reported_after(report, group):
            continue
        others = [v for v, m in scored if m != n]
        stated = [r["deadline"] for r in group.rows if r.get("kind", "commitment") == "commitment"]
        found.append((value, n, signals(value, others[0] if others else None, report["deadline"], stated)))
    return found


def _reported_groups(report: Row, items: Sequence[_Group], vectors: dict[tuple[str, int], Any],
                     model: ReportModel) -> list[int]:
    """The groups a report is about: the closest, and any other that is the same commitment
    listed again (`_duplicates`), each clearing the bar (the pair model's for the closest
    group of a report of work done); none when another group as close as the closest is not
    such a copy (the report is ambiguous)."""
    scored = _scored(report, items, vectors)
    if not scored:
        return []
    top, best = scored[0]
    copies = _copies(scored, items, vectors)
    if any(value > top - MARGIN and n not in copies for value, n in scored[1:]):
        return []
    if report.get("kind") == "report" and not _model_accepts(report, best, items, vectors, model):
        return []
    fits = [n for value, n in scored if n in (best, *copies)
            and (n == best and report.get("kind") == "report" or _fits(report, items[n], value))]
    if best not in fits:
        return []
    log.debug("report attached groups=%d similarity=%.3f report=%r", len(fits), top, report["action"][:60])
    return fits


def _scored(report: Row, items: Sequence[_Group], vectors: dict[tuple[str, int], Any]) -> list[tuple[float, int]]:
    """(cosine, group index) of the groups a report may be about (`_report_score`), closest first."""
    found = ((_report_score(report, group, vectors), n) for n, group in enumerate(items))
    return sorted(((score, n) for score, n in found if score is not None), reverse=True)


def _copies(scored: Sequence[tuple[float, int]], items: Sequence[_Group], vectors: dict[tuple[str, int], Any]
            ) -> list[int]:
    """The groups after the closest that are the same commitment listed again (`_duplicates`)."""
    best = scored[0][1]
    return [n for value, n in scored[1:] if value >= REPORTED_DONE and _duplicates([items[best], items[n]], vectors)]


def _model_accepts(report: Row, best: int, items: Sequence[_Group], vectors: dict[tuple[str, int], Any],
                   model: ReportModel) -> bool:
    """Does the pair model accept the report with its closest group?"""
    first = report_candidates(report, items, vectors)[:1]
    return any(n == best and model.accepts(pair) for _, n, pair in first)


def _fits(report: Row, group: _Group, value: float) -> bool:
    """A report's similarity clears the bar for this group (owners checked), and the day it
    reports is not before the commitment was first written."""
    owners = owner_bodies(report["owner"]) if report["owner"] else frozenset()
    return value >= bar(owners, group.owners, REPORTED_DONE) and _reported_after(report, group)


def _report_score(report: Row, group: _Group, vectors: dict[tuple[str, int], Any]) -> float | None:
    """The cosine of a report with the closest commitment of a group stated in another
    document dated no later than the report's; None when the group has none."""
    import numpy as np

    stated = [vectors[key(r)] for r in group.rows
              if r.get("kind", "commitment") == "commitment" and key(r) in vectors
              and (r["date"] or "") <= (report["date"] or "") and r["doc_id"] != report["doc_id"]
              and not numbers_disagree(r["action"], report["action"])]
    if not stated:
        return None
    return float(np.max(np.stack(stated) @ vectors[key(report)]))


def _duplicates(groups: Sequence[_Group], vectors: dict[tuple[str, int], Any]) -> bool:
    """Are these groups one commitment listed in several ways: stated by different documents
    (one document listing both means two things), the mean cosine of the commitments of each
    pair of them reaching `LISTED_TWICE`?"""
    import numpy as np

    for i, first in enumerate(groups):
        if any(first.documents & second.documents for second in groups[i + 1 :]):
            return False

    stated = [[vectors[key(r)] for r in g.rows if r.get("kind", "commitment") == "commitment" and key(r) in vectors]
              for g in groups]
    for i, first in enumerate(stated):
        for second in stated[i + 1 :]:
            if not first or not second or float(np.mean(np.stack(first) @ np.stack(second).T)) < LISTED_TWICE:
                return False
    return True


def _reported_after(report: Row, group: _Group) -> bool:
    """The day reported is not before the commitment was first written (a report of an
    earlier event is about something else)."""
    day = report["deadline"] if report.get("kind") == "report" else report["date"]
    return (day or report["date"] or "") >= group.first_written
