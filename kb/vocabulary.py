"""The programme's words, written once: stopwords, statuses with their French and English
labels, the joint commissions, the bodies the sample documents name, acronyms and how far two
words must agree to count as the same word.

`ingest/` (roadmap extraction), `bot/` (queries, answers, commitments) and `ui/`
(labels, filters) all read these tables; nothing else keeps a copy. Dates and month names
live in `kb.dates`.
"""

from __future__ import annotations

import re

# ----- words that carry no topic ----------------------------------------------------
# Folded (no accents); the keyword index drops them, and so do the question parsers.
STOPWORDS = frozenset(
    """
    au aux avec ce ces cet cette dans de des du elle en et eux il ils je la le les leur leurs lui
    ma mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son
    sur ta te tes toi ton tu un une vos votre vous est sont ete etre avoir ont ai été etait
    quel quelle quels quelles quoi dont comme plus aussi ainsi cela ceci celle celui ni si
    a an and are as at be by for from has have in is it its of on or that the their this to
    was were what which who whom will with when where how does did do
    combien comment pourquoi quand lequel laquelle lesquels lesquelles
    """.split()
)

# Verbs and auxiliaries that end a noun phrase ("combien de start-up ont été…", "how many
# centres are…"): what a count question counts stops before them.
FUNCTION_WORDS = frozenset(
    "l d ont sont a ont-elles sont-elles compte comptent y sit took take are were will would made make do did does "
    "have has had came come went go got get is was can could should must may might".split()
)

# Words about timing or obligation rather than about an action ("avant", "within", "doit"):
# two commitments are not the same action because both say "dans un délai de".
TIMING_WORDS = (
    "avant before délai within échéance deadline jours days semaines weeks mois months année years "
    "soit plus tard cours will shall must doit sera dans chaque each every"
)

# ----- same word, across inflections and the two languages --------------------------
# Five letters where a false match costs (merging two actions, accepting a name a sentence
# invents): "Inventaire"/"Inventory", "prioritaires"/"priority" meet, "formation"/"formulaire"
# do not. Four letters only for the noun a count question names, compared with the few words
# next to a number: "members"/"membres" share only four.
STEM_PREFIX = 5
NOUN_PREFIX = 4


def same_stem(a: str, b: str, prefix: int = STEM_PREFIX) -> bool:
    """True when two folded words are the same word: equal but for a plural "s"/"x"
    ("jour"/"jours"), or sharing their first `prefix` letters (both at least that long)."""
    if a == b or _singular(a) == _singular(b):
        return True
    return len(a) >= prefix and len(b) >= prefix and a[:prefix] == b[:prefix]


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


# ----- acronyms -----------------------------------------------------------------------
# A capital followed by capitals or digits: "CEAC", "SENUM", "G20" (and "T2": callers that
# mean bodies only drop what they do not want).
ACRONYM = re.compile(r"\b[A-ZÀ-Ý][A-ZÀ-Ý0-9]{1,}\b")

# ----- statuses of a commitment -------------------------------------------------------
STATUSES = ("done", "in progress", "planned", "late", "unknown")

STATUS_LABELS: dict[str, dict[str, str]] = {
    "fr": {"done": "réalisé", "in progress": "en cours", "planned": "prévu", "late": "en retard",
           "unknown": "statut inconnu"},
    "en": {"done": "done", "in progress": "in progress", "planned": "planned", "late": "late",
           "unknown": "status unknown"},
}

# How documents state a status, checked in this order (case-insensitive regular expressions).
STATUS_WORDS: tuple[tuple[str, str], ...] = (
    ("late", r"en retard|overdue|late|delayed|at risk|reporté|postponed|retard"),
    ("in progress", r"en cours|in progress|ongoing|underway|partiellement"),
    ("done", r"réalisé|réalisée|fait|terminé|achevé|done|completed|delivered|livré"),
    ("planned", r"prévu|planifié|à venir|planned|scheduled|not started"),
)


def status_label(status: str, language: str) -> str:
    """A status in the reader's language ("done" -> "réalisé" in French)."""
    labels = STATUS_LABELS.get(language, STATUS_LABELS["fr"])
    if status not in labels:
        raise ValueError(f"status {status!r}: choose one of {', '.join(STATUSES)}")
    return labels[status]


# ----- how French names a body: with its article ("la CEAC", "le MCTN", "l'ASAN") ------
BODY_ARTICLES: dict[str, str] = {"CEAC": "la ", "SENUM": "la ", "MCTN": "le ", "ASAN": "l'", "IDDA": "l'",
                                 "MDDT": "le ", "CPC": "le "}


def with_article(name: str) -> str:
    """A body's acronym as a French sentence names it: "la CEAC"; one the table does not know
    becomes "l'organisme X", which reads right whatever its gender."""
    return BODY_ARTICLES.get(name, "l'organisme ") + name


# ----- codes of documents and people, as a person reads them ------------------------------
# The catalog, the filters and the roles keep their codes (kb.schema); every screen shows these.
CODE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "doc_type": {
        "fr": {"protocol": "protocole", "strategy": "stratégie", "meeting_notes": "compte rendu de réunion",
               "report": "rapport", "other": "autre document"},
        "en": {"protocol": "protocol", "strategy": "strategy", "meeting_notes": "meeting notes",
               "report": "report", "other": "other document"},
    },
    "access": {
        "fr": {"public": "tout public", "internal": "interne", "restricted": "diffusion restreinte"},
        "en": {"public": "public", "internal": "internal", "restricted": "restricted"},
    },
    "role": {
        "fr": {"reader": "lecteur", "staff": "agent", "official": "responsable", "admin": "administrateur"},
        "en": {"reader": "reader", "staff": "staff member", "official": "official", "admin": "administrator"},
    },
    "language": {
        "fr": {"fr": "français", "en": "anglais"},
        "en": {"fr": "French", "en": "English"},
    },
}


def code_label(kind: str, code: str, language: str) -> str:
    """A document type, access level, role or language code as a person reads it in `language`
    ("meeting_notes" -> "compte rendu de réunion"); a code the table does not know is shown as is."""
    labels = CODE_LABELS[kind]
    return labels.get(language, labels["fr"]).get(code, code)


# ----- the five joint commissions -----------------------------------------------------
# Canonical theme, its English name, then how documents name it.
COMMISSIONS: tuple[tuple[str, str, str], ...] = (
    ("cybersécurité", "cybersecurity", r"cyber"),
    ("formation", "training", r"formation|training"),
    ("talents", "talent", r"talent"),
    ("start-up/État", "start-up/State", r"start-up"),
    ("digitalisation", "digitalisation", r"digitali[sz]ation"),
)


def commission_label(name: str, language: str) -> str:
    """A commission's theme in the reader's language ("cybersécurité" -> "cybersecurity" in English)."""
    return next((english for french, english, _ in COMMISSIONS if french == name), name) if language == "en" else name


def commission_named(text: str) -> str | None:
    """The commission theme a text names ("Commission mixte formation" -> "formation"), if any."""
    for name, _, pattern in COMMISSIONS:
        if re.search(pattern, text, re.I):
            return name
    return None


# ----- the programme's bodies ---------------------------------------------------------
# Canonical name, then how documents name it. Acronyms are case-sensitive (so that an e-mail
# address does not count), descriptive names are not. Used to give one spelling to a body
# the documents name several ways; an owner the list does not know is kept as written.
BODIES: tuple[tuple[str, str], ...] = (
    ("Cellule de coordination (MCTN)", r"(?i:cellule de coordination(?: du programme)?(?: \(MCTN\))?|(?:programme )?coordination unit)"),
    ("Comité de pilotage conjoint", r"(?i:comité de pilotage(?: conjoint)?(?: \(CPC\))?|(?:joint )?steering committee)|\bCPC\b"),
    ("Coprésidents des commissions", r"(?i:coprésidents des commissions|commission co-chairs)"),
    ("Commissions mixtes", r"(?i:chaque commission(?: mixte)?|each (?:joint )?commission)"),
    ("Commission cybersécurité", r"(?i:commission(?: mixte)? cybersécurité|cybersecurity commission)"),
    ("Commission formation", r"(?i:commission(?: mixte)? formation|training commission)"),
    ("Commission talents", r"(?i:commission(?: mixte)? (?:attraction et rétention des )?talents?|talent commission)"),
    ("Commission start-up/État", r"(?i:commission(?: mixte)? start-up/(?:état|etat)|start-up/state commission)"),
    ("Commission digitalisation", r"(?i:commission(?: mixte)? digitalisation(?: des processus administratifs)?|digitali[sz]ation commission)"),
    ("MCTN", r"\bMCTN\b|(?i:cabinet du ministre|ministère de la Communication, des Télécommunications et du Numérique)"),
    ("SENUM", r"\bSENUM\b|Sénégal Numérique SA"),
    ("ASAN", r"\bASAN\b"),
    ("CEAC", r"\bCEAC\b"),
    ("IDDA", r"\bIDDA\b"),
    ("MDDT", r"\bMDDT\b"),
)
