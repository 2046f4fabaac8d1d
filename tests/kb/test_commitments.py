"""What the register embeds to compare actions by meaning (kb.commitments.meaning_text)."""

from __future__ import annotations

import pytest

from kb.commitments import meaning_text


@pytest.mark.parametrize("action, owner, expected", [
    ("La diffusion de la version 3 de la feuille de route conjointe, attendue fin juin, n'a pas pu avoir lieu : "
     "la cellule de coordination la diffusera au plus tard le 15 octobre 2026", "Cellule de coordination (MCTN)",
     "La diffusion de la version 3 de la feuille de route conjointe"),
    ("Referral to the CDP on future data exchanges: overdue; SENUM expects to file it in April", "SENUM",
     "Referral to the CDP on future data exchanges"),
    ("Immersion of 20 Senegalese civil servants in Baku: dates not yet fixed", "ASAN",
     "Immersion of 20 Senegalese civil servants in Baku"),
    ("SENUM corrige les 4 vulnérabilités critiques afin de sécuriser le portail", "SENUM",
     "corrige les 4 vulnérabilités critiques"),
    ("The talent commission's Azerbaijani co-chair will be appointed by IDDA", "IDDA",
     "The talent commission's Azerbaijani co-chair will be appointed by IDDA"),
    # words of timing inside the action, not after it, stay
    ("The coordination unit will prepare the joint follow-up meeting planned in Baku", "Cellule de coordination (MCTN)",
     "will prepare the joint follow-up meeting planned in Baku"),
])
def test_meaning_text_keeps_what_is_done_without_owner_purpose_or_status_tail(action: str, owner: str,
                                                                              expected: str) -> None:
    assert meaning_text(action, owner) == expected


def test_an_action_that_is_all_status_is_kept_whole() -> None:
    assert meaning_text("Prévue : à confirmer") == "Prévue : à confirmer"
