"""Every fixed sentence the bot says, in French and English, in one place."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "fr": {
        "abstain": (
            "Les documents disponibles ne permettent pas de répondre à cette question. "
            "Les passages les plus proches sont listés ci-dessous pour vous orienter."
        ),
        "empty_question": "La question est vide : écrivez une question.",
        "long_question": "La question dépasse {limit} caractères : raccourcissez-la.",
        "empty_store": (
            "La base de connaissances {store} est vide ou absente : lancez `make ingest` "
            "(ou `python -m ingest`) pour y verser les documents."
        ),
        "to_check": (
            "La réponse se trouve peut-être dans ces passages, sans certitude : vérifiez-les "
            "avant de vous y fier."
        ),
        "outcome_answered": "Réponse tirée des documents",
        "outcome_to_check": "À vérifier",
        "outcome_not_in_documents": "Absent des documents",
        "confidence": "confiance {percent} %",
        "sources": "Sources",
        "see_also": "Voir aussi",
        "commitments_intro": "D'après les engagements de la feuille de route ({count}, retards jugés au {today}) :",
        "commitments_more": "… et {more} autre(s) : `python -m bot roadmap` les liste tous.",
    },
    "en": {
        "abstain": (
            "The available documents do not answer this question. "
            "The closest passages are listed below for guidance."
        ),
        "empty_question": "The question is empty: please type a question.",
        "long_question": "The question is longer than {limit} characters: please shorten it.",
        "empty_store": (
            "The knowledge base {store} is empty or missing: run `make ingest` "
            "(or `python -m ingest`) to load the documents."
        ),
        "to_check": (
            "The answer may be in these passages, but this is not certain: check them before "
            "relying on them."
        ),
        "outcome_answered": "Answer from the documents",
        "outcome_to_check": "To check",
        "outcome_not_in_documents": "Not in the documents",
        "confidence": "confidence {percent}%",
        "sources": "Sources",
        "see_also": "See also",
        "commitments_intro": "From the roadmap commitments ({count}, lateness judged on {today}):",
        "commitments_more": "… and {more} more: `python -m bot roadmap` lists them all.",
    },
}


def outcome_label(outcome: str, confidence: float | None, language: str = "fr") -> str:
    """How sure an answer is, in words: "À vérifier (confiance 42 %)"."""
    label = message(f"outcome_{outcome}", language)
    if confidence is None or outcome == "not_in_documents":
        return label
    return f"{label} ({message('confidence', language, percent=round(100 * confidence))})"


def message(key: str, language: str = "fr", **values: object) -> str:
    """The message `key` in `language` (French when the language is not supported)."""
    table = MESSAGES.get(language, MESSAGES["fr"])
    return table[key].format(**values)
