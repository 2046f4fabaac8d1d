"""Passerelle's web app: thin Gradio wiring around `bot` and `ingest` (run: `python app.py`)."""

from __future__ import annotations

import kb  # noqa: F401  (offline environment before gradio is imported)

import datetime as dt
import logging
from pathlib import Path

import gradio as gr

from bot.answer import QuestionError, answer, knowledge_base
from bot.feedback import add_comment, record_feedback
from bot.library import last_ingestion, visible_documents
from bot.onboarding import documents_by_type, glossary, starter_questions, timeline
from bot.roadmap import commitments, to_csv
from bot.users import authenticator, session_role, users_file_exists
from ingest.upload import ingest_uploads
from kb.logs import configure_logging
from kb.settings import Settings
from kb.store import StoreError
from ui.assets import CSS, JS
from ui.chat import respond as chat_turn
from ui.i18n import Relabeler, t
from ui.layout import build_layout
from ui.pages import documents_summary, documents_table, onboarding_html, upload_summary
from ui.render import answer_markdown
from ui.roadmap import commitments_table, csv_file, filter_choices, parse_day, timeline_svg

log = logging.getLogger("passerelle.app")
PRIVATE = {"api_visibility": "private"}


def build_app(settings: Settings) -> gr.Blocks:
    """The Gradio app for `settings`."""
    store = knowledge_base(settings)

    def session(request: gr.Request | None) -> tuple[str, str | None]:
        return session_role(settings, getattr(request, "username", None))

    def filters(doc_type, since, until, doc_language) -> dict:
        return {"doc_type": doc_type or None, "since": (since or "").strip() or None,
                "until": (until or "").strip() or None, "language": doc_language or None}

    def chat_api(message: str, history: list[str] | None = None, doc_type: str = "", since: str = "",
                 until: str = "", language: str = "", request: gr.Request = None) -> str:
        """Answer `message` (earlier questions in `history`): the answer with its [n] citations, then the sources."""
        try:
            result = answer(message, history=history or (), filters=filters(doc_type, since, until, language),
                            role=session(request)[0], settings=settings)
        except (QuestionError, StoreError) as exc:
            raise gr.Error(str(exc)) from None
        return answer_markdown(result)

    def respond(message, chat, turns, doc_type, since, until, doc_language, lang, request: gr.Request):
        for chat, turns, cards, box in chat_turn(settings, store, session(request)[0], message, chat, turns,
                                                 filters(doc_type, since, until, doc_language), lang):
            yield chat, turns, gr.skip() if cards is None else cards, box

    def rate(turns, lang, data: gr.LikeData, request: gr.Request):
        entry = next((x for x in turns if x["index"] == data.index), None)
        if entry is None or data.liked not in (True, False):
            return gr.skip(), None
        feedback_id = record_feedback(settings, question=entry["question"], answer=entry["answer"],
                                      role=session(request)[0], rating="up" if data.liked else "down")
        return t("thanks", lang), feedback_id

    def comment(feedback_id, text, lang):
        if feedback_id is None:
            return t("rate_first", lang), text
        add_comment(settings, feedback_id, text or "")
        return t("comment_saved", lang), ""

    def refresh(lang, request: gr.Request):
        role, user = session(request)
        records = visible_documents(store, role)
        headers, rows = documents_table(records, lang)
        status = t("signed_in", lang, user=user, role=role) if user else t("demo_mode", lang)
        if not records:
            status += " " + t("empty_store", lang)
        upload_ok = role == "admin" or (user is None and settings.allow_upload)
        page = onboarding_html(documents_by_type(store, role), glossary(store, role), timeline(store, role), lang)
        starters = [[q] for q in starter_questions(store, role, lang)]
        return (status, page, gr.update(samples=starters), gr.update(samples=starters),
                gr.update(value=rows, headers=headers), documents_summary(records, last_ingestion(store), lang),
                gr.update(visible=upload_ok), gr.update(visible=not upload_ok))

    def upload(files, lang, request: gr.Request, progress=gr.Progress(track_tqdm=True)):
        role, user = session(request)
        if not (role == "admin" or (user is None and settings.allow_upload)):
            raise gr.Error(t("upload_off", lang))
        if not files:
            return t("upload_none", lang)
        report = ingest_uploads([(Path(f), Path(f).name) for f in files], settings, store)
        return upload_summary(report.accepted, report.rejected, lang)

    def items(lang, owner, commission, status, after, before, request: gr.Request):
        try:
            after_day, before_day = parse_day(after), parse_day(before)
        except ValueError:
            raise gr.Error(t("bad_date", lang, value=f"{after or ''} {before or ''}".strip())) from None
        return commitments(store, session(request)[0], owner=owner or None, commission=commission or None,
                           status=status or None, after=after_day, before=before_day, today=dt.date.today())

    def roadmap(lang, owner, commission, status, after, before, request: gr.Request):
        owners, themes = filter_choices(commitments(store, session(request)[0], today=dt.date.today()))
        found = items(lang, owner, commission, status, after, before, request)
        return (gr.update(choices=owners), gr.update(choices=themes),
                timeline_svg(found, dt.date.today(), lang), commitments_table(found, dt.date.today(), lang))

    def export(lang, owner, commission, status, after, before, request: gr.Request):
        text = to_csv(items(lang, owner, commission, status, after, before, request))
        return gr.update(value=str(csv_file(text, dt.date.today())), visible=True)

    tr = Relabeler()
    with gr.Blocks(title="Passerelle") as app:
        ui = build_layout(tr)
        turns, last_feedback = gr.State([]), gr.State(None)
        ask_inputs = [ui.question, ui.chatbot, turns, ui.doc_type, ui.since, ui.until, ui.doc_language, ui.lang]
        ask_outputs = [ui.chatbot, turns, ui.cards, ui.question]
        ui.question.submit(respond, ask_inputs, ask_outputs, **PRIVATE)
        ui.send.click(respond, ask_inputs, ask_outputs, **PRIVATE)
        for dataset in (ui.suggested, ui.starters):
            dataset.click(lambda sample: sample[0], dataset, ui.question, **PRIVATE).then(
                respond, ask_inputs, ask_outputs, **PRIVATE)
        ui.clear.click(lambda lang: ([], [], f"<div class='src-empty'>{t('sources_empty', lang)}</div>", None, ""),
                       ui.lang, [ui.chatbot, turns, ui.cards, last_feedback, ui.feedback_note], **PRIVATE)
        ui.chatbot.like(rate, [turns, ui.lang], [ui.feedback_note, last_feedback], **PRIVATE)
        ui.remark_send.click(comment, [last_feedback, ui.remark, ui.lang], [ui.feedback_note, ui.remark], **PRIVATE)
        page_outputs = [ui.status, ui.onboarding, ui.suggested, ui.starters, ui.doc_table, ui.doc_summary,
                        ui.upload_box, ui.upload_off]
        road_inputs = [ui.lang, ui.owner, ui.commission, ui.status_filter, ui.after, ui.before]
        road_outputs = [ui.owner, ui.commission, ui.timeline_chart, ui.roadmap_table]
        for event in (app.load, ui.lang.change):
            event(refresh, ui.lang, page_outputs, **PRIVATE).then(roadmap, road_inputs, road_outputs, **PRIVATE)
        ui.lang.change(lambda code: [gr.update(**u) for u in tr.relabel(code)], ui.lang, tr.components, **PRIVATE)
        ui.apply.click(roadmap, road_inputs, road_outputs, **PRIVATE)
        ui.export.click(export, road_inputs, ui.export_file, **PRIVATE)
        ui.upload_button.click(upload, [ui.files, ui.lang], ui.upload_result, **PRIVATE).then(
            refresh, ui.lang, page_outputs, **PRIVATE)
        gr.api(chat_api, api_name="chat")
    return app


def main() -> None:
    """Serve the app on PASSERELLE_HOST:PASSERELLE_PORT."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    store = knowledge_base(settings)
    if not store.exists or store.chunk_count() == 0:
        log.warning("the store %s is empty: run `make ingest` (or `python -m ingest`) to fill it", settings.store)
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    # One torch thread per request: with two, an answer waits ~1 s whenever the other core is busy
    # (measured by bench/load.py); the queue runs two requests at once instead.
    import torch

    torch.set_num_threads(1)
    logins = users_file_exists(settings)
    build_app(settings).queue(default_concurrency_limit=2).launch(
        server_name=settings.host, server_port=settings.port, share=False, show_error=True,
        auth=authenticator(settings) if logins else None, auth_message="Passerelle : identifiez-vous / please sign in.",
        theme=theme, css=CSS, js=JS, footer_links=["api"],
    )


if __name__ == "__main__":
    main()
