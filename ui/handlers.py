"""The web app's event handlers: what each click, submission and page load does.

`app.py` builds the layout and connects events to the methods of one `Handlers` object.
They are bound methods rather than `functools.partial` of plain functions because Gradio
finds the `gr.Request`, `gr.LikeData` and `gr.Progress` parameters it must fill in through
the handler's type hints, and it reads no type hints through a `partial` (it then passes
nothing for them).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import gradio as gr

from bot.answering import QuestionError, answer
from bot.feedback import add_comment, record_feedback
from bot.library import last_ingestion, visible_documents
from bot.messages import message
from bot.onboarding import documents_by_type, glossary, timeline
from bot.answering.query import question_language
from bot.roadmap import MAX_FILTER_CHARS, Commitment, CommitmentQueryError, commitments, to_csv
from bot.starters import StarterCache
from bot.users import session_role
from bot.warmup import WarmStart
from ingest.upload import ingest_uploads
from kb.schema import DOC_TYPES
from kb.settings import Settings
from kb.store import KnowledgeBase, StoreError
from kb.vocabulary import code_label
from ui.chat import chat_refusal, store_problem
from ui.chat import respond as chat_turn
from ui.exports import ExportFolders, request_session
from ui.i18n import LANGUAGES, t
from ui.pages import documents_summary, documents_table, onboarding_html, upload_summary
from ui.render import answer_markdown
from ui.roadmap import (commitments_table, filter_choices, filter_error_html, internal_only_html, parse_day,
                        timeline_figure)

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
LANGUAGE_CODES = tuple(code for _, code in LANGUAGES)


def search_filters(doc_type: Any, since: Any, until: Any, doc_language: Any, lang: str = "fr",
                   labelled: bool = False) -> dict:
    """The chat's filter boxes as `answer` filters (empty boxes filter nothing), each checked for
    its type and form first: gr.Error names the filter and what it expects, in `lang` (by the
    parameter's name for API callers; by the box's label and the value typed when `labelled`)."""
    def checked(name: str, value: Any, kind: str, valid) -> str | None:
        if value is None or isinstance(value, str) and not value.strip():
            return None
        if not isinstance(value, str) or len(value) > MAX_FILTER_CHARS or not valid(value.strip()):
            raise gr.Error(bad_value(name, value, kind, lang) if labelled else
                           message("bad_filter", lang, name=name, expected=api_expected[kind]))
        return value.strip()

    api_expected = {"date": message("filter_date", lang),
                    "doc_type": message("filter_choice", lang, choices=", ".join(DOC_TYPES)),
                    "language": message("filter_choice", lang, choices=", ".join(LANGUAGE_CODES))}
    return {"doc_type": checked("doc_type", doc_type, "doc_type", DOC_TYPES.__contains__),
            "since": checked("since", since, "date", _ISO_DAY.fullmatch),
            "until": checked("until", until, "date", _ISO_DAY.fullmatch),
            "language": checked("language", doc_language, "language", LANGUAGE_CODES.__contains__)}


def bad_value(field: str, value: Any, kind: str, lang: str) -> str:
    """"Depuis : 01/01/2026 n'est pas une date AAAA-MM-JJ…": the box's label, what was typed
    (shortened) and the form it expects, in `lang`."""
    shown = " ".join(str(value).split())
    shown = shown if len(shown) <= 40 else shown[:39] + "…"
    expected = t("expected_date" if kind == "date" else "expected_choice", lang)
    return t("bad_field", lang, field=t(f"field_{field}", lang), value=shown or "—", expected=expected)


class Handlers:
    """The event handlers of one app, over its `settings` and its knowledge base `store`."""

    def __init__(self, settings: Settings, store: KnowledgeBase, warm: WarmStart | None = None) -> None:
        self.settings = settings
        self.store = store
        self.exports = ExportFolders(settings.export_keep_s)
        self.warm = warm  # the app's warm start: questions wait for it (None: nothing to wait for)
        self.starter_cache = StarterCache(store)

    def session(self, request: gr.Request | None) -> tuple[str, str | None]:
        """(role, user name or None) of the request's signed-in user; the local reader without logins."""
        return session_role(self.settings, getattr(request, "username", None))

    def may_upload(self, role: str, user: str | None) -> bool:
        """Admins may add documents; without logins, only when the deployment allows it."""
        return role == "admin" or (user is None and self.settings.allow_upload)

    # ----- chat ----------------------------------------------------------------------------

    def chat_api(self, message: str, history: list[str] | None = None, doc_type: str = "", since: str = "",
                 until: str = "", language: str = "", request: gr.Request = None) -> str:
        """Answer `message` (earlier questions in `history`): the answer with its [n] citations, then the sources."""
        lang = question_language(message if isinstance(message, str) else "")
        if self.warm is not None:
            self.warm.wait()
        try:
            result = answer(message, history=history or (),
                            filters=search_filters(doc_type, since, until, language, lang),
                            role=self.session(request)[0], settings=self.settings)
        except (QuestionError, StoreError) as exc:
            # A refused question is an answer, not a fault: no traceback in the log.
            raise gr.Error(store_problem(exc, lang), print_exception=False) from None
        return answer_markdown(result)

    def respond(self, message, chat, turns, doc_type, since, until, doc_language, lang, request: gr.Request):
        """The chat turn (see `ui.chat.respond`); source cards are left as they are until the answer
        is ready. A bad filter is answered in the chat, naming the box, like a bad question."""
        try:
            filters = search_filters(doc_type, since, until, doc_language, lang, labelled=True)
        except gr.Error as exc:
            yield chat_refusal(message, chat, exc.message), turns, gr.skip(), message
            return
        for chat, turns, cards, box in chat_turn(self.settings, self.store, self.session(request)[0], message, chat,
                                               turns, filters, lang, warm=self.warm):
            yield chat, turns, gr.skip() if cards is None else cards, box

    @staticmethod
    def clear(lang: str) -> tuple[Any, ...]:
        """A new conversation: empty chat, turns and source cards, no rating to comment on, and
        the filters back to "any" (a filter left set would narrow the new questions unseen)."""
        return ([], [], f"<div class='src-empty'>{t('sources_empty', lang)}</div>", None, "",
                "", "", "", "")

    def rate(self, turns, lang, data: gr.LikeData, request: gr.Request):
        """Store a thumbs up or down on an answer; returns the note to show and the rating's id."""
        entry = next((x for x in turns if x["index"] == data.index), None)
        if entry is None or data.liked not in (True, False):
            return gr.skip(), None
        feedback_id = record_feedback(self.settings, question=entry["question"], answer=entry["answer"],
                                      role=self.session(request)[0], rating="up" if data.liked else "down")
        return t("thanks", lang), feedback_id

    def comment(self, feedback_id, text, lang):
        """Attach a comment to the last rating; returns the note to show and the emptied (or kept) box."""
        if feedback_id is None:
            return t("rate_first", lang), text
        add_comment(self.settings, feedback_id, text or "")
        return t("comment_saved", lang), ""

    # ----- onboarding and documents --------------------------------------------------------

    def refresh(self, lang, request: gr.Request):
        """Everything the page shows for the user's role: session line, onboarding page, starter
        questions (twice: chat and onboarding; those already chosen for the role, else none until
        `starters` fills them in), documents table and summary, the sign-out button, upload box
        or notice."""
        role, user = self.session(request)
        records = visible_documents(self.store, role)
        headers, rows = documents_table(records, lang)
        status = (t("signed_in", lang, user=user, role=code_label("role", role, lang)) if user
                  else t("demo_mode", lang))
        if not records:
            status += " " + t("empty_store", lang)
        upload_ok = self.may_upload(role, user)
        page = onboarding_html(documents_by_type(self.store, role), glossary(self.store, role),
                               timeline(self.store, role), lang)
        starters = [[q] for q in self.starter_cache.ready(role, lang) or []]
        return (status, page, gr.update(samples=starters), gr.update(samples=starters),
                gr.update(value=rows, headers=headers), documents_summary(records, last_ingestion(self.store), lang),
                gr.update(visible=user is not None, value=t("sign_out", lang)),
                gr.update(visible=upload_ok), gr.update(visible=not upload_ok))

    def starters(self, lang, request: gr.Request):
        """The starter questions chosen for the user's role (`bot.starters`), for the chat and the
        onboarding tab; waits for the models to load and, the first time, for the choice."""
        if self.warm is not None:
            self.warm.wait()
        starters = [[q] for q in self.starter_cache.get(self.session(request)[0], lang)]
        return gr.update(samples=starters), gr.update(samples=starters)

    def upload(self, files, lang, request: gr.Request, progress=gr.Progress(track_tqdm=True)):
        """Check and ingest uploaded files; returns what was accepted and rejected, as HTML, and
        the emptied file box."""
        if not self.may_upload(*self.session(request)):
            raise gr.Error(t("upload_off", lang))
        if not files:
            return t("upload_none", lang), gr.skip()
        report = ingest_uploads([(Path(f), Path(f).name) for f in files], self.settings, self.store)
        return upload_summary(report.accepted, report.rejected, lang), None

    # ----- roadmap -------------------------------------------------------------------------

    def matching_commitments(self, lang, owner, commission, status, after, before,
                             request: gr.Request) -> list[Commitment]:
        """The commitments the user may read that match the roadmap filters (gr.Error on a bad
        date, naming its box)."""
        for value in (owner, commission, status, after, before):
            if value is not None and (not isinstance(value, str) or len(value) > MAX_FILTER_CHARS):
                raise gr.Error(t("bad_roadmap_filter", lang, limit=MAX_FILTER_CHARS))
        days = {}
        for field, value in (("after", after), ("before", before)):
            try:
                days[field] = parse_day(value)
            except ValueError:
                raise gr.Error(bad_value(field, value, "date", lang)) from None
        try:
            return commitments(self.store, self.session(request)[0], owner=owner or None,
                               commission=commission or None, status=status or None, after=days["after"],
                               before=days["before"], today=dt.date.today())
        except CommitmentQueryError:
            raise gr.Error(t("bad_roadmap_filter", lang, limit=MAX_FILTER_CHARS)) from None

    def roadmap(self, lang, owner, commission, status, after, before, request: gr.Request) -> tuple[Any, ...]:
        """The roadmap tab: owner and commission choices, the timeline (hidden when nothing is dated), the table.
        A bad filter is said in the table's place, naming its box; the other outputs stay as they are."""
        today = dt.date.today()
        role, user = self.session(request)
        readable = commitments(self.store, role, today=today)
        owners, themes = filter_choices(readable, lang)
        try:
            found = self.matching_commitments(lang, owner, commission, status, after, before, request)
        except gr.Error as exc:
            return gr.skip(), gr.skip(), gr.skip(), filter_error_html(exc.message)
        figure = timeline_figure(found, today, lang)
        if not readable and commitments(self.store, "admin", today=today):
            # Signed in means logins are on: another account may read them. Nobody signed in is the demo reader.
            table = internal_only_html(lang, logins=user is not None)
        else:
            table = commitments_table(found, today, lang)
        return (gr.update(choices=owners), gr.update(choices=themes),
                gr.update(value=figure, visible=figure is not None), table)

    def export(self, lang, owner, commission, status, after, before, request: gr.Request):
        """The filtered commitments as a CSV file to download, written in the session's own export
        folder, served to this browser session only (removed after `Settings.export_keep_s` and
        when the app stops)."""
        text = to_csv(self.matching_commitments(lang, owner, commission, status, after, before, request),
                      lang if lang in LANGUAGE_CODES else "fr")
        name = f"{t('export_name', lang)}-{dt.date.today().isoformat()}.csv"
        path = self.exports.write(request_session(request), name, text)
        return gr.update(value=str(path), visible=True)
