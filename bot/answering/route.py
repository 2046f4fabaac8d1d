"""The second stage of the answer path: the roadmap commitments or the documents.

A question that filters the commitments (what is late, an owner's deadlines, what is due before a
date: `Query.commitments` with a filter) is answered from the commitments, unless it names
something no readable document knows ("Quels engagements le Sénégal a-t-il pris avec l'Estonie
?"): the documents path then abstains honestly.

A question about one action ("Quelle est l'échéance du portail pilote ?", "Who is responsible for
the cybersecurity training?": a topic and no filter) goes to the documents, like any other fact:
the passages that state it answer it, quoted. Of the 11 such questions of the evaluation sets that
expect a fact, the register's answer held it for 5, the documents path's first unit for 8, all 5
among them; and the register answered a near miss (who co-chairs a committee no document staffs)
with 10 unrelated commitments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from bot.answering.query import Query
from kb.store import KnowledgeBase, SearchFilter
from kb.text import keyword_terms

if TYPE_CHECKING:
    from bot.roadmap import CommitmentQuery

Route = Literal["commitments", "documents"]


def route(kb: KnowledgeBase, query: Query, where: SearchFilter) -> Route:
    """Where the answer to `query` is looked for, within what `where` lets the role read."""
    if query.commitments is None or about_one_action(query.commitments) or names_unknown(kb, query, where):
        return "documents"
    return "commitments"


def about_one_action(asked: "CommitmentQuery") -> bool:
    """Does a question about commitments ask about one action (a topic) rather than filter them
    (owner, status, dates, what comes next)?"""
    return bool(asked.topic) and not (asked.owner or asked.status or asked.before or asked.after or asked.upcoming)


def names_unknown(kb: KnowledgeBase, query: Query, where: SearchFilter) -> bool:
    """Does the question name something (a capitalised word past the first) that no
    passage `where` allows contains?"""
    by_name = [terms for terms in map(keyword_terms, query.names) if terms]
    if not by_name:
        return False
    counts = kb.term_frequencies([t for terms in by_name for t in terms], where)[0]
    return any(all(counts.get(t, 0) == 0 for t in terms) for terms in by_name)
