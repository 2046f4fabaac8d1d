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
        "bad_filter": "Filtre « {name} » invalide : {expected}.",
        "filter_text": "un texte d'au plus {limit} caractères",
        "filter_choice": "l'une des valeurs {choices}",
        "filter_date": "une date AAAA-MM-JJ",
        "bad_history": "Historique de conversation invalide : une liste de questions est attendue.",
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
        "bad_filter": "Invalid filter “{name}”: expected {expected}.",
        "filter_text": "a text of at most {limit} characters",
        "filter_choice": "one of {choices}",
        "filter_date": "a YYYY-MM-DD date",
        "bad_history": "Invalid conversation history: a list of questions is expected.",
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


# Column headers of the CSV exports (`python -m bot roadmap --csv`, `python -m bot feedback --csv`,
# the roadmap tab's export), and the codes their cells show, in each language.
LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "deadline": "Échéance", "status": "Statut", "owner": "Responsable", "commission": "Commission",
        "action": "Action", "deadline_text": "Échéance (texte)", "access": "Accès", "source_path": "Fichier source",
        "source_title": "Titre de la source", "source_date": "Date de la source", "source_page": "Page",
        "quote": "Citation",
        "id": "N°", "time": "Date (UTC)", "role": "Rôle", "rating": "Avis", "comment": "Commentaire",
        "question": "Question", "answer": "Réponse", "sources": "Sources",
        "public": "public", "internal": "interne", "restricted": "restreint",
        "up": "utile", "down": "pas utile",
        "reader": "lecteur", "staff": "agent", "official": "responsable", "admin": "administrateur",
    },
    "en": {
        "deadline": "Deadline", "status": "Status", "owner": "Owner", "commission": "Commission",
        "action": "Action", "deadline_text": "Deadline (as written)", "access": "Access", "source_path": "Source file",
        "source_title": "Source title", "source_date": "Source date", "source_page": "Page", "quote": "Quote",
        "id": "No.", "time": "Time (UTC)", "role": "Role", "rating": "Rating", "comment": "Comment",
        "question": "Question", "answer": "Answer", "sources": "Sources",
        "public": "public", "internal": "internal", "restricted": "restricted",
        "up": "helpful", "down": "not helpful",
        "reader": "reader", "staff": "staff", "official": "official", "admin": "admin",
    },
}


def label(code: str, language: str = "fr") -> str:
    """A column name or a code (access level, rating, role) in `language`; an unknown code as it is."""
    return LABELS.get(language, LABELS["fr"]).get(code, code)
