"""Sentence scoring's support signal: the share of the question the documents know nothing about."""

from __future__ import annotations

from bot.answering.query import parse_query
from bot.answering.scoring import unknown_share


def test_unknown_words_only_names_when_the_documents_are_in_another_language() -> None:
    # "terminating" and "notice" are absent from French documents that do answer; "Kazakhstan" is
    # absent because the documents know nothing of it.
    counts = {"notic": 0, "appli": 0, "terminating": 0, "ceac": 5, "memorandum": 2, "kazakhstan": 0, "index": 3}
    question = "What notice period applies to terminating the CEAC memorandum?"
    salient = parse_query(question).salient
    assert unknown_share(salient, counts) > 0
    assert unknown_share(salient, counts, names_only=True) == 0
    assert unknown_share(parse_query("What is the Kazakhstan index?").salient, counts, names_only=True) == 1.0
