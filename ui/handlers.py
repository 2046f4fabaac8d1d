"""The web app's event handlers: what each click, submission and page load does.

`app.py` builds the layout and connects events to the methods of one `Handlers` object.
They are bound methods rather than `functools.partial` of plain functions because Gradio
finds the `gr.Request`, `gr.LikeData` and `gr.Progress` parameters it must fill in through
the handler's type hints, and it reads no type hints through a `partial` (it then passes
nothing for them).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import gradio as gr

from bot.answer import QuestionError, answer
from bot.feedback import add_comment, record_feedback
from bot.library import last_ingestion, visible_documents
from bot.onboarding import documents_by_type, glossary, starter_questions, timeline
from bot.roadmap import Commitment, commitments, to_csv
from bot.users import session_role
from ingest.upload import ingest_uploads
from kb.settings import Settings
from kb.store import KnowledgeBase, StoreError
from ui.chat import respond as chat_turn
from ui.i18n import t
from ui.pages import documents_summary, documents_table, onboarding_html, upload_summary
from ui.render import answer_markdown
from ui.roadmap import commitments_table, csv_file, filter_choices, parse_day, timeline_figure


def search_filters(doc_type: str | None, since: str | None, until: str | None, doc_language: str | None) -> dict:
    """The chat's filter boxes as `answer` filters: empty boxes filter nothing."""
    return {"doc_type": doc_type or None, "since": (since or "").strip() or None,
            "until": (until or "").strip() or None, "language": doc_language or None}


class Handlers:
    """The event handlers of one app, over its `settings` and its knowledge base `store`."""

    def __init__(self, settings: Settings, store: KnowledgeBase) -> None:
        self.settings = settings
        self.store = store

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
        try:
            result = answer(message, history=history or (), filters=search_filters(doc_type, since, until, language),
                            role=self.session(request)[0], settings=self.settings)
        except (QuestionError, StoreError) as exc:
            raise gr.Error(str(exc)) from None
        return answer_markdown(result)

    def respond(self, message, chat, turns, doc_type, since, until, doc_language, lang, request: gr.Request):
        """The chat turn (see `ui.chat.respond`); source cards are left as they are until the answer is ready."""
        for chat, turns, cards, box in chat_turn(self.settings, self.store, self.session(request)[0], message, chat,
                                               turns, search_filters(doc_type, since, until, doc_language), lang):
            yield chat, turns, gr.skip() if cards is None else cards, box

    @staticmethod
    def clear(lang: str) -> tuple[list, list, str, None, str]:
        """A new conversation: empty chat, turns and source cards, no rating to comment on."""
        return [], [], f"<div class='src-empty'>{t('sources_empty', lang)}</div>", None, ""

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
        questions (twice: chat and onboarding), documents table and summary, upload box or notice."""
        role, user = self.session(request)
        records = visible_documents(self.store, role)
        headers, rows = documents_table(records, lang)
        status = t("signed_in", lang, user=user, role=role) if user else t("demo_mode", lang)
        if not records:
            status += " " + t("empty_store", lang)
        upload_ok = self.may_upload(role, user)
        page = onboarding_html(documents_by_type(self.store, role), glossary(self.store, role),
                               timeline(self.store, role), lang)
        starters = [[q] for q in starter_questions(self.store, role, lang)]
        return (status, page, gr.update(samples=starters), gr.update(samples=starters),
                gr.update(value=rows, headers=headers), documents_summary(records, last_ingestion(self.store), lang),
                gr.update(visible=upload_ok), gr.update(visible=not upload_ok))

    def upload(self, files, lang, request: gr.Request, progress=gr.Progress(track_tqdm=True)):
        """Check and ingest uploaded files; returns what was accepted and rejected, as HTML."""
        if not self.may_upload(*self.session(request)):
            raise gr.Error(t("upload_off", lang))
        if not files:
            return t("upload_none", lang)
        report = ingest_uploads([(Path(f), Path(f).name) for f in files], self.settings, self.store)
        return upload_summary(report.accepted, report.rejected, lang)

    # ----- roadmap -------------------------------------------------------------------------

    def matching_commitments(self, lang, owner, commission, status, after, before,
                             request: gr.Request) -> list[Commitment]:
        """The commitments the user may read that match the roadmap filters (gr.Error on a bad date)."""
        try:
            after_day, before_day = parse_day(after), parse_day(before)
        except ValueError:
            raise gr.Error(t("bad_date", lang, value=f"{after or ''} {before or ''}".strip())) from None
        return commitments(self.store, self.session(request)[0], owner=owner or None, commission=commission or None,
                           status=status or None, after=after_day, before=before_day, today=dt.date.today())

    def roadmap(self, lang, owner, commission, status, after, before, request: gr.Request) -> tuple[Any, ...]:
        """The roadmap tab: owner and commission choices, the timeline (hidden when nothing is dated), the table."""
        today = dt.date.today()
        owners, themes = filter_choices(commitments(self.store, self.session(request)[0], today=today))
        found = self.matching_commitments(lang, owner, commission, status, after, before, request)
        figure = timeline_figure(found, today, lang)
        return (gr.update(choices=owners), gr.update(choices=themes),
                gr.update(value=figure, visible=figure is not None), commitments_table(found, today, lang))

    def export(self, lang, owner, commission, status, after, before, request: gr.Request):
        """The filtered commitments as a CSV file to download."""
        text = to_csv(self.matching_commitments(lang, owner, commission, status, after, before, request))
        return gr.update(value=str(csv_file(text, dt.date.today())), visible=True)
