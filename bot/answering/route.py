"""The second stage of the answer path: the roadmap commitments or the documents.

A question about commitments, deadlines or what is late (`Query.commitments`) is answered from
the commitments, unless it names something no readable document knows ("Quels engagements le
Sénégal a-t-il pris avec l'Estonie ?"): the documents path then abstains honestly.
"""

from __future__ import annotations

from typing import Literal

from bot.answering.query import Query
from kb.store import KnowledgeBase, SearchFilter
from kb.text import keyword_terms

Route = Literal["commitments", "documents"]


def route(kb: KnowledgeBase, query: Query, where: SearchFilter) -> Route:
    """Where the answer to `query` is looked for, within what `where` lets the role read."""
    if query.commitments is None or names_unknown(kb, query, where):
        return "documents"
    return "commitments"


def names_unknown(kb: KnowledgeBase, query: Query, where: SearchFilter) -> bool:
    """Does the question name something (a capitalised word past the first) that no
    passage `where` allows contains?"""
    by_name = [terms for terms in map(keyword_terms, query.names) if terms]
    if not by_name:
        return False
    counts = kb.term_frequencies([t for terms in by_name for t in terms], where)[0]
    return any(all(counts.get(t, 0) == 0 for t in terms) for terms in by_name)
