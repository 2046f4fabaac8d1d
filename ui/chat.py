"""The chat's answer handler: the question in; with an LLM, its sentences as each one passes
the checks; then the answer and its source cards out."""

from __future__ import annotations

import html
import queue
import threading
import time
from collections.abc import Callable, Iterator
import re
from typing import Any

from bot.answering import QuestionError, answer
from bot.library import passage_context
from bot.answering.reply import Answer
from bot.warmup import WarmStart
from kb.settings import Settings
from kb.store import ChromaUnreachableError, KnowledgeBase, StoreError
from ui.i18n import t
from ui.render import chat_message, escape, escape_user_text, source_cards

# The verified sentences are redrawn at most this often: each redraw sends the whole chat to the browser.
DRAFT_REFRESH_S = 0.25
# The chat keeps the last this many exchanges (question and answer): the browser sends the whole
# chat with every question and the server keeps every answer's record for the ratings.
MAX_CHAT_TURNS = 100
_CITE_LINK = re.compile(r'<a class="cite"[^>]*>(\[\d+\])</a>')


def bounded_chat(chat: list | None, turns: list) -> tuple[list, list]:
    """The chat and its answers' records (`turns`, each with its message's `index`) cut to
    the last MAX_CHAT_TURNS - 1 exchanges, leaving room for one more. The records are
    renumbered to the messages' new places; the citations of the answers kept no longer link
    (their source-card anchors would repeat the new answers')."""
    chat, turns = list(chat or []), list(turns or [])[-(MAX_CHAT_TURNS - 1):]
    keep = 2 * (MAX_CHAT_TURNS - 1)
    if len(chat) <= keep:
        return chat, turns
    dropped = len(chat) - keep
    chat = [_unlinked(m) for m in chat[dropped:]]
    turns = [{**x, "index": x["index"] - dropped} for x in turns if x["index"] >= dropped]
    return chat, turns


def _unlinked(message: Any) -> Any:
    """A chat message (content as text, or as Gradio's list of parts) without citation links."""
    if not isinstance(message, dict):
        return message
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": _CITE_LINK.sub(r"\1", content)}
    if isinstance(content, list):
        parts = [{**p, "text": _CITE_LINK.sub(r"\1", p["text"])} if isinstance(p, dict) and isinstance(
            p.get("text"), str) else p for p in content]
        return {**message, "content": parts}
    return message


def drafts_then_answer(ask: Callable[[Callable[[str], None]], Answer]) -> Iterator[tuple[str | None, Answer | None]]:
    """Run `ask(on_text)` in a worker thread: yield (text, None) as the text it passes on
    grows, then (None, answer). The worker's exception is raised here."""
    events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def work() -> None:
        try:
            events.put(("done", ask(lambda text: events.put(("draft", text)))))
        except Exception as exc:  # noqa: BLE001 — handed to the consumer, which raises it
            events.put(("error", exc))

    threading.Thread(target=work, name="answer", daemon=True).start()
    shown = 0.0
    while True:
        kind, value = events.get()
        if kind == "error":
            raise value
        if kind == "done":
            yield None, value
            return
        if time.monotonic() - shown >= DRAFT_REFRESH_S and events.empty():
            shown = time.monotonic()
            yield value, None


def store_problem(exc: Exception, lang: str) -> str:
    """What the page says about a failed question: the interface's own sentence when the
    knowledge base is unreachable (the details go to the log), else the error's message."""
    return t("kb_unreachable", lang) if isinstance(exc, ChromaUnreachableError) else str(exc)


def respond(settings: Settings, store: KnowledgeBase, role: str, message: str, chat: list, turns: list,
            filters: dict, lang: str, warm: WarmStart | None = None) -> Iterator[tuple[Any, Any, Any, str]]:
    """Answer `message` in the chat: "loading" while the app's warm start (`warm`) runs, then
    "searching", then (when an LLM server is configured) the written answer's sentences as each
    passes the checks, then the answer, the source cards and the cleared box. Text that has not
    passed the checks never reaches the chat. Yields (chat, turns, cards or None to leave them,
    question box); the chat shown holds the last `MAX_CHAT_TURNS` exchanges."""
    chat, turns = bounded_chat(chat, turns)
    chat = [*chat, {"role": "user", "content": escape_user_text(message or "")},
            {"role": "assistant", "content": t("searching", lang)}]
    if warm is not None and not warm.ready:
        chat[-1] = {"role": "assistant", "content": t("loading", lang)}
        yield chat, turns, None, ""
        warm.wait()
        chat[-1] = {"role": "assistant", "content": t("searching", lang)}
    yield chat, turns, None, ""
    try:
        for verified, result in drafts_then_answer(lambda on_verified: answer(
                message or "", history=[x["question"] for x in turns], filters=filters, role=role,
                settings=settings, on_verified=on_verified)):
            if result is None:
                chat[-1] = {"role": "assistant", "content": f"{escape(verified or '')}\n\n*{t('verifying', lang)}*"}
                yield chat, turns, None, ""
    except (QuestionError, StoreError) as exc:
        chat[-1] = {"role": "assistant", "content": f"⚠️ {escape(store_problem(exc, lang))}"}
        yield chat, turns, None, ""
        return
    turn = len(chat) - 1
    contexts = {s.n: passage_context(store, s.path, s.start, s.end, role) for s in result.sources}
    chat[-1] = {"role": "assistant", "content": chat_message(result, turn)}
    cards = source_cards(result, contexts, turn, result.language)
    earlier = [x for x in turns if x.get("cards")]
    turns = [*turns, {"index": turn, "question": message, "answer": result.to_dict(), "cards": cards}]
    yield chat, turns, cards + earlier_cards(earlier, lang), ""


def chat_refusal(message: str, chat: list, reason: str) -> list:
    """The chat with the question and, as the reply, why it was not searched (`reason`)."""
    return [*(chat or []), {"role": "user", "content": escape_user_text(message or "")},
            {"role": "assistant", "content": f"⚠️ {escape(reason)}"}]


def earlier_cards(turns: list, lang: str) -> str:
    """The source cards of earlier answers, newest first, each answer's folded under its question:
    their citations still lead to them (the page's script unfolds the card it jumps to)."""
    return "".join(
        f"<details class='src-earlier'><summary>{html.escape(t('earlier_sources', lang, question=_short(x['question'])))}"
        f"</summary>{x['cards']}</details>" for x in reversed(turns))


def _short(text: str | None, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
