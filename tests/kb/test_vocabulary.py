"""The shared vocabulary and dates: one table each, the same answers for every caller."""

from __future__ import annotations

from datetime import date

import pytest

from kb.dates import MONTH_PATTERN, days, is_month, month_end, month_numbers, parse_day, parse_month, parse_relative, safe_date
from kb.vocabulary import (
    ACRONYM,
    COMMISSIONS,
    STATUS_LABELS,
    STATUSES,
    STOPWORDS,
    commission_named,
    same_stem,
    status_label,
)


def test_every_status_has_a_label_in_both_languages() -> None:
    for language in ("fr", "en"):
        assert set(STATUS_LABELS[language]) == set(STATUSES)
    assert status_label("done", "fr") == "réalisé"
    assert status_label("in progress", "en") == "in progress"


def test_unknown_status_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="choose one of done, in progress"):
        status_label("finished", "fr")


def test_commissions_are_named_in_either_language() -> None:
    assert len(COMMISSIONS) == 5
    assert commission_named("Commission mixte formation") == "formation"
    assert commission_named("the cybersecurity commission") == "cybersécurité"
    assert commission_named("Comité de pilotage") is None


def test_same_stem_across_languages_and_plurals() -> None:
    assert same_stem("inventaire", "inventory")
    assert same_stem("jour", "jours")
    assert not same_stem("formation", "formulaire")
    assert not same_stem("members", "membres")
    assert same_stem("members", "membres", prefix=4)


def test_acronyms_and_stopwords() -> None:
    assert ACRONYM.findall("La CEAC et SENUM, avec l'État") == ["CEAC", "SENUM"]
    assert {"le", "the", "combien"} <= STOPWORDS


def test_month_names_both_languages() -> None:
    assert month_numbers("février et May, but we may") == {"fevrier": 2, "may": 5}
    assert is_month("Août") and not is_month("Mardi")
    assert days("le 1er avril et March 12") == {(4, 1), (3, 12)}
    assert "décembre" in MONTH_PATTERN.split("|") and "december" in MONTH_PATTERN.split("|")


def test_partial_and_relative_dates() -> None:
    assert parse_day("18", "avril", "2026") == date(2026, 4, 18)
    assert parse_month("février", "2026") == date(2026, 2, 28)
    assert parse_month("Dakar", "2026") is None
    assert parse_relative("30", "jours", date(2025, 12, 23)) == date(2026, 1, 22)
    assert parse_relative("six", "months", date(2026, 1, 31)) == date(2026, 7, 31)
    assert month_end(2028, 2) == date(2028, 2, 29)
    assert safe_date(2026, 2, 30) is None


def test_codes_read_as_words_in_both_languages() -> None:
    from kb.schema import ACCESS_LEVELS, DOC_TYPES, ROLES
    from kb.vocabulary import code_label

    for kind, codes in (("doc_type", DOC_TYPES), ("access", ACCESS_LEVELS), ("role", ROLES)):
        french = [code_label(kind, code, "fr") for code in codes]
        assert len(set(french)) == len(codes), "two codes never read the same"
        assert all(code_label(kind, code, "en") for code in codes)
    assert code_label("doc_type", "meeting_notes", "fr") == "compte rendu de réunion"
    assert code_label("access", "restricted", "fr") == "diffusion restreinte"
    assert code_label("role", "official", "fr") == "responsable"
    assert code_label("doc_type", "meeting_notes", "en") == "meeting notes"
    assert code_label("doc_type", "memo", "fr") == "memo", "an unknown code is shown as it is"


def test_bodies_take_their_french_article() -> None:
    from kb.vocabulary import with_article

    assert [with_article(n) for n in ("CEAC", "MCTN", "ASAN", "XYZ")] == ["la CEAC", "le MCTN", "l'ASAN",
                                                                        "l'organisme XYZ"]
