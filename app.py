"""Passerelle's web chat: thin Gradio wiring around `bot.answer` (run: `python app.py`)."""

from __future__ import annotations

import kb  # noqa: F401  (offline environment before gradio is imported)

import logging

import gradio as gr

from bot.answer import QuestionError, answer, knowledge_base
from kb.logs import configure_logging
from kb.settings import Settings
from kb.store import StoreError
from ui.render import answer_markdown

log = logging.getLogger("passerelle.app")

EXAMPLES = [
    "Quelle est la durée du protocole d'accord avec la SENUM ?",
    "Quelles commissions mixtes ont été créées ?",
    "What is Azerbaijan's EGDI score?",
]


def build_app(settings: Settings) -> gr.Blocks:
    """The Gradio app for `settings` (role: local reader until logins exist)."""

    def respond(message: str, history: list[dict]) -> str:
        questions = [turn["content"] for turn in history if turn.get("role") == "user" and isinstance(turn.get("content"), str)]
        try:
            return answer_markdown(answer(message, history=questions, role="reader", settings=settings))
        except (QuestionError, StoreError) as exc:
            raise gr.Error(str(exc)) from None

    with gr.Blocks(title="Passerelle") as app:
        gr.Markdown("# Passerelle\nCoopération numérique Sénégal–Azerbaïdjan : posez une question sur les documents du programme.")
        gr.ChatInterface(respond, examples=EXAMPLES, api_name="chat", autofocus=True)
    return app


def main() -> None:
    """Serve the chat on PASSERELLE_HOST:PASSERELLE_PORT."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    store = knowledge_base(settings)
    if not store.exists or store.chunk_count() == 0:
        log.warning("the store %s is empty: run `make ingest` (or `python -m ingest`) to fill it", settings.store)
    app = build_app(settings)
    app.queue(default_concurrency_limit=2).launch(
        server_name=settings.host, server_port=settings.port, share=False, show_error=True,
    )


if __name__ == "__main__":
    main()
