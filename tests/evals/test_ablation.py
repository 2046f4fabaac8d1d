"""The cue ablation's variants: each switches exactly what it names off."""

from __future__ import annotations

from evals.ablation import BASE, VARIANTS, blanking
from bot.query import parse_query


def test_blanking_hides_what_the_question_states() -> None:
    question = "Combien de start-up la CEAC accompagnera-t-elle en 2027 ?"
    stated = parse_query(question)
    assert stated.asked_years == {"2027"} and stated.acronyms == {"CEAC"} and stated.kind is not None
    assert blanking(parse_query, VARIANTS["no_years"][1])(question).asked_years == frozenset()
    assert blanking(parse_query, VARIANTS["no_acronyms"][1])(question).acronyms == frozenset()
    assert blanking(parse_query, VARIANTS["no_answer_type"][1])(question).kind is None
    # Nothing else changes.
    assert blanking(parse_query, VARIANTS["no_years"][1])(question).search == stated.search
    assert blanking(parse_query, {}) is parse_query


def test_every_variant_but_the_base_switches_something_off() -> None:
    for name, (config, fields) in VARIANTS.items():
        assert (config == BASE and not fields) == (name == "base"), name
