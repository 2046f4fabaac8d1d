"""Every label, message and placeholder of the web app, in French and English."""

from __future__ import annotations

LANGUAGES = (("Français", "fr"), ("English", "en"))

TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "subtitle": "Coopération numérique Sénégal–Azerbaïdjan : des réponses courtes, chaque phrase citée.",
        "tab_chat": "Discussion",
        "tab_onboarding": "Accueil",
        "tab_documents": "Documents",
        "tab_roadmap": "Feuille de route",
        "chat_label": "Passerelle",
        "chat_placeholder": "Posez une question sur les documents du programme, en français ou en anglais.",
        "question_label": "Votre question",
        "question_placeholder": "Ex. : Quelle est la durée du protocole d'accord avec la SENUM ?",
        "send": "Envoyer",
        "clear": "Nouvelle conversation",
        "searching": "Recherche dans les documents…",
        "kb_unreachable": "La base de connaissances est injoignable pour le moment : réessayez dans quelques instants.",
        "loading": "Chargement des modèles… La réponse suivra dans quelques secondes.",
        "verifying": "Réponse en cours de rédaction : chaque phrase s'affiche une fois vérifiée contre sa source.",
        "filters": "Filtres",
        "doc_type": "Type de document",
        "since": "Depuis (AAAA-MM-JJ)",
        "until": "Jusqu'au (AAAA-MM-JJ)",
        "doc_language": "Langue des documents",
        "any": "Tous",
        "suggested": "Questions suggérées",
        "sources_title": "Sources",
        "sources_empty": "Les sources de la réponse s'afficheront ici.",
        "see_also": "Voir aussi",
        "cited": "Citée",
        "comment_label": "Commentaire sur la réponse notée (facultatif)",
        "comment_placeholder": "Qu'est-ce qui manquait ou était faux ?",
        "comment_send": "Envoyer le commentaire",
        "thanks": "Merci : votre avis est enregistré.",
        "comment_saved": "Merci : commentaire enregistré.",
        "rate_first": "Notez d'abord une réponse (pouce levé ou baissé).",
        "demo_mode": "Mode démonstration : lecteur local, documents publics uniquement.",
        "signed_in": "Connecté : {user} ({role}).",
        "empty_store": "La base de connaissances est vide : lancez `make ingest` (ou `python -m ingest corpus`) puis rechargez la page.",
        "overview": "Le programme en documents",
        "glossary": "Glossaire des sigles",
        "timeline": "Chronologie",
        "starters": "Par où commencer",
        "acronym": "Sigle",
        "expansion": "Signification",
        "source": "Source",
        "last_ingest": "Dernière ingestion : {when}.",
        "never_ingested": "Aucune ingestion pour l'instant.",
        "doc_count": "{count} documents, {chunks} passages.",
        "col_title": "Titre", "col_type": "Type", "col_date": "Date", "col_access": "Accès",
        "col_chunks": "Passages", "col_file": "Fichier",
        "upload_label": "Ajouter des documents (md, txt, pdf, docx, html)",
        "upload_button": "Vérifier et ingérer",
        "upload_off": "L'ajout de documents est réservé aux administrateurs.",
        "upload_none": "Choisissez d'abord un ou plusieurs fichiers.",
        "upload_done": "{ok} fichier(s) ingéré(s), {bad} refusé(s).",
        "upload_rejected": "Refusé",
        "error": "Erreur",
        "owner": "Responsable", "commission": "Commission", "status": "Statut",
        "deadline_after": "Échéance à partir du (AAAA-MM-JJ)", "deadline_before": "Échéance avant le (AAAA-MM-JJ)",
        "apply": "Filtrer", "export_csv": "Exporter en CSV", "export_file": "Fichier CSV",
        "col_deadline": "Échéance", "col_status": "Statut", "col_owner": "Responsable",
        "col_commission": "Commission", "col_action": "Action",
        "roadmap_empty": "Aucun engagement ne correspond à ces filtres.",
        "roadmap_count": "{count} engagements, dont {late} en retard au {today}.",
        "today": "aujourd'hui",
        "bad_date": "Date invalide : {value} (format attendu AAAA-MM-JJ).",
        "bad_roadmap_filter": "Filtre invalide : choisissez un responsable, une commission et un statut "
                              "dans les listes, des dates AAAA-MM-JJ (au plus {limit} caractères).",
        "export_name": "feuille-de-route",
        "sign_out": "Se déconnecter",
        "login_title": "connexion", "login_intro": "Identifiez-vous pour consulter les documents du programme.",
        "login_name": "Nom d'utilisateur", "login_password": "Mot de passe", "login_submit": "Se connecter",
        "login_busy": "Vérification…",
        "login_failed": "Nom d'utilisateur ou mot de passe incorrect (après plusieurs échecs, patientez un peu).",
        "field_doc_type": "Type de document", "field_since": "Depuis", "field_until": "Jusqu'au",
        "field_language": "Langue des documents", "field_after": "Échéance à partir du",
        "field_before": "Échéance avant le",
        "bad_field": "{field} : {value} n'est pas {expected}.",
        "expected_date": "une date AAAA-MM-JJ (par exemple 2026-03-01)",
        "expected_choice": "l'une des valeurs de la liste",
        "roadmap_internal": "Les engagements de la feuille de route sont des documents internes : "
                            "ils ne s'affichent qu'aux agents connectés.",
        "roadmap_sign_in": "Se connecter avec un compte d'agent",
        "roadmap_no_logins": "Ce mode démonstration ne montre que les documents publics ; demandez à "
                             "l'administrateur un compte d'agent (python -m bot users add).",
        "earlier_sources": "Sources de la question « {question} »",
        "reject_type": "type de fichier non pris en charge ({suffix}) ; formats acceptés : {allowed}",
        "reject_size": "{size} Mo, au-delà de la limite de {limit} Mo",
        "reject_corrupt": "fichier corrompu ou illisible ({kind})",
        "reject_encrypted": "fichier protégé par un mot de passe : retirez-le puis ajoutez le fichier à nouveau",
        "reject_no_text": "aucun texte n'a pu être extrait (images scannées ou document vide ?)",
        "reject_empty": "fichier vide",
        "reject_binary": "contenu binaire : ce n'est pas un fichier texte",
        "reject_too_big": "contenu trop volumineux pour être lu : découpez le document",
        "reject_other": "fichier illisible ({kind})",
    },
    "en": {
        "subtitle": "Senegal–Azerbaijan digital cooperation: short answers, every sentence cited.",
        "tab_chat": "Chat",
        "tab_onboarding": "New staff",
        "tab_documents": "Documents",
        "tab_roadmap": "Roadmap",
        "chat_label": "Passerelle",
        "chat_placeholder": "Ask a question about the programme's documents, in French or English.",
        "question_label": "Your question",
        "question_placeholder": "E.g. How long does the SENUM memorandum last?",
        "send": "Send",
        "clear": "New conversation",
        "searching": "Searching the documents…",
        "kb_unreachable": "The knowledge base is unreachable at the moment: try again in a few moments.",
        "loading": "Loading the models… The answer will follow in a few seconds.",
        "verifying": "Answer being written: each sentence appears once checked against its source.",
        "filters": "Filters",
        "doc_type": "Document type",
        "since": "Since (YYYY-MM-DD)",
        "until": "Until (YYYY-MM-DD)",
        "doc_language": "Document language",
        "any": "Any",
        "suggested": "Suggested questions",
        "sources_title": "Sources",
        "sources_empty": "The answer's sources will show here.",
        "see_also": "See also",
        "cited": "Cited",
        "comment_label": "Comment on the rated answer (optional)",
        "comment_placeholder": "What was missing or wrong?",
        "comment_send": "Send comment",
        "thanks": "Thank you: your rating is saved.",
        "comment_saved": "Thank you: comment saved.",
        "rate_first": "Rate an answer first (thumbs up or down).",
        "demo_mode": "Demo mode: local reader, public documents only.",
        "signed_in": "Signed in: {user} ({role}).",
        "empty_store": "The knowledge base is empty: run `make ingest` (or `python -m ingest corpus`), then reload the page.",
        "overview": "The programme in documents",
        "glossary": "Glossary of acronyms",
        "timeline": "Timeline",
        "starters": "Where to start",
        "acronym": "Acronym",
        "expansion": "Meaning",
        "source": "Source",
        "last_ingest": "Last ingestion: {when}.",
        "never_ingested": "Nothing ingested yet.",
        "doc_count": "{count} documents, {chunks} passages.",
        "col_title": "Title", "col_type": "Type", "col_date": "Date", "col_access": "Access",
        "col_chunks": "Passages", "col_file": "File",
        "upload_label": "Add documents (md, txt, pdf, docx, html)",
        "upload_button": "Check and ingest",
        "upload_off": "Adding documents is reserved to administrators.",
        "upload_none": "Choose one or more files first.",
        "upload_done": "{ok} file(s) ingested, {bad} rejected.",
        "upload_rejected": "Rejected",
        "error": "Error",
        "owner": "Owner", "commission": "Commission", "status": "Status",
        "deadline_after": "Deadline from (YYYY-MM-DD)", "deadline_before": "Deadline before (YYYY-MM-DD)",
        "apply": "Filter", "export_csv": "Export as CSV", "export_file": "CSV file",
        "col_deadline": "Deadline", "col_status": "Status", "col_owner": "Owner",
        "col_commission": "Commission", "col_action": "Action",
        "roadmap_empty": "No commitment matches these filters.",
        "roadmap_count": "{count} commitments, {late} of them late as of {today}.",
        "today": "today",
        "bad_date": "Invalid date: {value} (expected YYYY-MM-DD).",
        "bad_roadmap_filter": "Invalid filter: choose an owner, a commission and a status from the lists, "
                              "dates as YYYY-MM-DD (at most {limit} characters).",
        "export_name": "roadmap",
        "sign_out": "Sign out",
        "login_title": "sign in", "login_intro": "Sign in to read the programme's documents.",
        "login_name": "User name", "login_password": "Password", "login_submit": "Sign in",
        "login_busy": "Checking…",
        "login_failed": "Wrong user name or password (after several failures, wait a little).",
        "field_doc_type": "Document type", "field_since": "Since", "field_until": "Until",
        "field_language": "Document language", "field_after": "Deadline from",
        "field_before": "Deadline before",
        "bad_field": "{field}: {value} is not {expected}.",
        "expected_date": "a YYYY-MM-DD date (for example 2026-03-01)",
        "expected_choice": "one of the values in the list",
        "roadmap_internal": "The roadmap's commitments are internal documents: they show only to signed-in staff.",
        "roadmap_sign_in": "Sign in with a staff account",
        "roadmap_no_logins": "This demo mode shows public documents only; ask the administrator for a staff "
                             "account (python -m bot users add).",
        "earlier_sources": "Sources for the question “{question}”",
        "reject_type": "file type not supported ({suffix}); accepted formats: {allowed}",
        "reject_size": "{size} MB, over the {limit} MB limit",
        "reject_corrupt": "corrupt or unreadable file ({kind})",
        "reject_encrypted": "password-protected file: remove the password, then add the file again",
        "reject_no_text": "no text could be extracted (scanned images or an empty document?)",
        "reject_empty": "empty file",
        "reject_binary": "binary content: this is not a text file",
        "reject_too_big": "content too large to read: split the document",
        "reject_other": "unreadable file ({kind})",
    },
}


def t(key: str, language: str = "fr", **values: object) -> str:
    """The interface text `key` in `language` (French by default)."""
    table = TEXT.get(language, TEXT["fr"])
    return table[key].format(**values) if values else table[key]


class Relabeler:
    """Remembers which component attribute shows which text, to switch the interface language.

    `tr(component, label="question_label")` registers and returns the component;
    `tr.relabel(language)` returns one update per registered component, in order.
    """

    def __init__(self) -> None:
        self._specs: dict[object, dict[str, object]] = {}

    def __call__(self, component, **attributes):
        self._specs.setdefault(component, {}).update(attributes)
        return component

    @property
    def components(self) -> list:
        """The registered components, in registration order."""
        return list(self._specs)

    def relabel(self, language: str) -> list[dict]:
        """Updates (as `gr.update` keyword dicts) giving every registered text in `language`."""
        return [
            {attr: key(language) if callable(key) else t(key, language) for attr, key in spec.items()}
            for spec in self._specs.values()
        ]
