"""Passerelle's web app: the layout of `ui/layout.py` with its events connected to the handlers of
`ui/handlers.py` (run: `passerelle` once installed, or `python app.py`)."""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import logging
import signal
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from bot.answering import knowledge_base
from bot.logins import LoginThrottle, SessionGuard, login_check
from bot.users import UsersFileError, users_file_exists
from bot.warmup import WarmStart, wait_until_listening
from kb.logs import configure_logging
from kb.settings import Settings
from kb.store import StoreError
from ui.assets import CSS, JS
from ui.exports import ExportGuard
from ui.handlers import Handlers
from ui.i18n import Relabeler
from ui.layout import build_layout
from ui.login import SignInPage

log = logging.getLogger("passerelle.app")
PRIVATE = {"api_visibility": "private"}


def build_app(settings: Settings, on: Handlers | None = None) -> gr.Blocks:
    """The Gradio app for `settings`: the layout, and its events connected to `ui.handlers`
    (`on`, or new handlers over the settings' knowledge base)."""
    on = on or Handlers(settings, knowledge_base(settings))
    tr = Relabeler()
    keep = max(60, int(settings.export_keep_s))
    # Gradio's cache (uploaded files, the copies of exports it serves) is emptied of files older
    # than `keep` every `keep` seconds, and entirely when the server stops.
    with gr.Blocks(title="Passerelle", delete_cache=(keep, keep)) as app:
        ui = build_layout(tr)
        turns, last_feedback = gr.State([]), gr.State(None)
        ask_inputs = [ui.question, ui.chatbot, turns, ui.doc_type, ui.since, ui.until, ui.doc_language, ui.lang]
        ask_outputs = [ui.chatbot, turns, ui.cards, ui.question]
        ui.question.submit(on.respond, ask_inputs, ask_outputs, **PRIVATE)
        ui.send.click(on.respond, ask_inputs, ask_outputs, **PRIVATE)
        for dataset in (ui.suggested, ui.starters):  # a starter on the onboarding tab opens the chat with its answer
            dataset.click(lambda sample: (sample[0], gr.Tabs(selected="chat")), dataset, [ui.question, ui.tabs],
                          **PRIVATE).then(
                on.respond, ask_inputs, ask_outputs, **PRIVATE)
        ui.clear.click(on.clear, ui.lang, [ui.chatbot, turns, ui.cards, last_feedback, ui.feedback_note, ui.doc_type,
                                           ui.since, ui.until, ui.doc_language], **PRIVATE)
        ui.chatbot.like(on.rate, [turns, ui.lang], [ui.feedback_note, last_feedback], **PRIVATE)
        ui.remark_send.click(on.comment, [last_feedback, ui.remark, ui.lang], [ui.feedback_note, ui.remark], **PRIVATE)
        page_outputs = [ui.status, ui.onboarding, ui.suggested, ui.starters, ui.doc_table, ui.doc_summary,
                        ui.sign_out, ui.upload_box, ui.upload_off]
        road_inputs = [ui.lang, ui.owner, ui.commission, ui.status_filter, ui.after, ui.before]
        road_outputs = [ui.owner, ui.commission, ui.timeline_chart, ui.roadmap_table]
        starter_outputs = [ui.suggested, ui.starters]
        for event in (app.load, ui.lang.change):
            event(on.refresh, ui.lang, page_outputs, **PRIVATE).then(on.roadmap, road_inputs, road_outputs, **PRIVATE)
            # A separate event with no concurrency limit: waiting for the first choice of starters
            # never holds up a question or another page.
            event(on.starters, ui.lang, starter_outputs, concurrency_limit=None, **PRIVATE)
        ui.lang.change(lambda code: [gr.update(**u) for u in tr.relabel(code)], ui.lang, tr.components, **PRIVATE)
        ui.apply.click(on.roadmap, road_inputs, road_outputs, **PRIVATE)
        ui.export.click(on.export, road_inputs, ui.export_file, **PRIVATE)
        ui.upload_button.click(on.upload, [ui.files, ui.lang], [ui.upload_result, ui.files], **PRIVATE).then(
            on.refresh, ui.lang, page_outputs, **PRIVATE).then(on.roadmap, road_inputs, road_outputs, **PRIVATE).then(
            on.starters, ui.lang, starter_outputs, concurrency_limit=None, **PRIVATE)
        gr.api(on.chat_api, api_name="chat")
    return app


def build_parser() -> argparse.ArgumentParser:
    """The command line of `passerelle` (and `python app.py`)."""
    parser = argparse.ArgumentParser(
        prog="passerelle", description="Serve Passerelle's web chat (documents, onboarding, roadmap) over HTTP.",
        epilog="environment: PASSERELLE_STORE, PASSERELLE_HOST, PASSERELLE_PORT, PASSERELLE_ALLOW_UPLOAD, "
               "PASSERELLE_LOG_LEVEL, PASSERELLE_LLM_URL, PASSERELLE_LLM_MODEL (the options below win over them).")
    parser.add_argument("--store", metavar="DIR", type=Path, help="knowledge-base folder (default: data/)")
    parser.add_argument("--host", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: 7860)")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Serve the app on PASSERELLE_HOST:PASSERELLE_PORT (or --host/--port)."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env(store=args.store, host=args.host, port=args.port)
    configure_logging(settings.log_level)
    store = knowledge_base(settings)
    try:
        empty = not store.exists or store.chunk_count() == 0
    except StoreError as exc:  # e.g. the PostgreSQL catalog is unreachable or built with another model
        log.error("cannot open the knowledge base: %s", exc)
        raise SystemExit(1) from None
    if empty:
        log.warning("the store %s is empty: run `make ingest` (or `python -m ingest`) to fill it", settings.store)
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    try:
        logins = users_file_exists(settings)
    except UsersFileError as exc:  # the shared users table out of reach: no server that skips the logins
        log.error("%s", exc)
        raise SystemExit(1) from None
    auth = login_check(settings, LoginThrottle(settings.login_free_failures, settings.login_lockout_s))
    on = Handlers(settings, store, WarmStart(settings, store))
    # Models and indexes load in the background while Gradio starts; questions wait for them.
    # Then the starter questions of every role are chosen (asked of the knowledge base) in French.
    on.warm.start(on_ready=lambda seconds: (_announce_ready(settings, seconds), on.starter_cache.warm()))
    # SIGTERM (systemd, docker stop, the tests) stops the server as Ctrl-C does: Gradio then
    # deletes its cache (uploads, served copies of the exports) on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        # Two requests at once: each answer alone uses both cores, two at once one each
        # (`bot.answering.cores`); more threads than cores would make every answer wait.
        build_app(settings, on).queue(default_concurrency_limit=2).launch(
            server_name=settings.host, server_port=settings.port, share=False,
            # Errors the app raises (gr.Error) are its own messages; any other exception goes to the
            # log, never to the client.
            show_error=False,
            auth=auth if logins else None, auth_message="Passerelle : identifiez-vous / please sign in.",
            app_kwargs={"middleware": [Middleware(SessionGuard, settings=settings), Middleware(SignInPage),
                                       Middleware(ExportGuard, exports=on.exports)]},
            max_file_size=int(settings.max_file_mb * 1024 * 1024),
            theme=theme, css=CSS, js=JS, footer_links=["api"],
        )
    except KeyboardInterrupt:
        # Stopped before Gradio's own loop took over (a SIGTERM during start): a clean exit all the same.
        log.info("stopped during start")
    finally:
        on.exports.remove_all()


def _announce_ready(settings: Settings, seconds: float) -> None:
    """Say, once the models are loaded and the server listens, where the chat is."""
    if wait_until_listening(settings.host, settings.port):
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # every address: say the local one
        url = f"http://{host}:{settings.port}"
        log.info("ready url=%s warm_start_s=%.1f", url, seconds)
        print(f"Passerelle est prête : {url} (Passerelle is ready)", flush=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
