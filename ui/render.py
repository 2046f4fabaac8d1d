"""Rendering of answers for the chat. Everything that comes from documents or users is escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from bot.answering import Answer
from bot.library import PassageContext
from kb.vocabulary import code_label
from ui.i18n import t


def escape(text: str) -> str:
    """Text from a document or a user, made inert for Markdown and HTML."""
    escaped = html.escape(" ".join(text.split()), quote=False)
    # Markdown would still interpret these; backslash-escape them.
    for char in "\\`*_[]{}()#+!|~>":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def answer_markdown(result: Answer) -> str:
    """How sure the answer is, the answer text with its citations, then the numbered sources."""
    text = f"*{escape(result.status())}*\n\n" + escape(result.answer)
    for source in result.sources:
        if source.cited:
            text = text.replace(f"\\[{source.n}\\]", f"**\\[{source.n}\\]**")
    lines = [text, ""]
    for heading, group in result.source_groups():
        lines += [f"**{heading}**", ""]
        for s in group:
            kind = code_label("doc_type", s.doc_type, result.language)
            lines.append(f"{s.n}. **{escape(s.title)}** ({escape(kind)}; {escape(s.location())})  ")
            lines.append(f"   « {escape(s.quote)} »")
        lines.append("")
    return "\n".join(lines).strip()


def chat_message(result: Answer, turn: int) -> str:
    """The answer for the chat window, headed by how sure it is; each citation `[n]` links
    to its source card."""
    badge = f'<span class="outcome outcome-{html.escape(result.outcome)}">{html.escape(result.status())}</span>'
    text = badge + "\n\n" + escape(result.answer)
    for source in result.sources:
        if source.cited:
            link = f'<a class="cite" href="#src-{turn}-{source.n}" data-card="src-{turn}-{source.n}">[{source.n}]</a>'
            text = text.replace(f"\\[{source.n}\\]", link)
    return text


def source_cards(result: Answer, contexts: Mapping[int, PassageContext | None], turn: int, language: str) -> str:
    """Numbered cards for the answer's sources: title, type, date, page/section, the quote
    highlighted inside its surrounding text. Everything from documents is escaped."""
    if not result.sources:
        return f'<div class="src-empty">{html.escape(t("sources_empty", language))}</div>'
    parts = []
    for heading, group in result.source_groups():
        parts.append(f"<h3 class='src-heading'>{html.escape(heading)}</h3>")
        for s in group:
            context = contexts.get(s.n)
            if context is not None:
                body = (f"{_plain(context.before)}<mark>{_plain(context.quote)}</mark>{_plain(context.after)}")
            else:
                body = f"<mark>{_plain(s.quote)}</mark>"
            kind = code_label("doc_type", s.doc_type, language)
            meta = " · ".join(html.escape(part) for part in (kind, s.location(), s.path) if part)
            parts.append(
                f'<div class="src-card{" cited" if s.cited else ""}" id="src-{turn}-{s.n}">'
                f'<div class="src-title"><span class="src-n">[{s.n}]</span> {html.escape(s.title)}</div>'
                f'<div class="src-meta">{meta}</div><blockquote class="src-quote">{body}</blockquote></div>'
            )
    return "\n".join(parts)


def escape_user_text(text: str) -> str:
    """A user's question as shown in the chat: inert, line breaks kept."""
    return "  \n".join(escape(line) for line in text.splitlines() or [""])


def _plain(text: str) -> str:
    # Runs of whitespace collapse, but edges stay: "before " + quote must not glue together.
    return html.escape(re.sub(r"\s+", " ", text), quote=True)
