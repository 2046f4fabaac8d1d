"""Language identification restricted to French and English, for documents and questions."""

from __future__ import annotations

import pytest

from bot.answering.query import question_language
from kb.language import identify


def test_only_french_or_english_comes_out() -> None:
    assert identify("La commission mixte se réunit chaque trimestre à Dakar.")[0] == "fr"
    assert identify("The joint commission meets every quarter in Baku.")[0] == "en"
    # A third language is not an answer the product could use: one of the two comes out.
    language, probability = identify("Die Kommission tagt jedes Quartal in Baku.")
    assert language in ("fr", "en") and 0.5 <= probability <= 1


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Deadline?", "en"),  # the full 97-language model took this for neither
        ("Next meeting?", "en"),
        ("Et ASAN ?", "fr"),  # the model leans English here; the hint words decide
        ("Le budget ?", "fr"),
        ("And IDDA?", "en"),
        ("CEAC ?", "fr"),  # acronyms alone say nothing: French, the default
        ("", "fr"),
        ("2026 ?", "fr"),
    ],
)
def test_short_questions(text: str, language: str) -> None:
    assert question_language(text) == language
