"""Rendering of answers for the chat. Everything that comes from documents or users is escaped."""

from __future__ import annotations

import html

from bot.answer import Answer


def escape(text: str) -> str:
    """Text from a document or a user, made inert for Markdown and HTML."""
    escaped = html.escape(" ".join(text.split()), quote=False)
    # Markdown would still interpret these; backslash-escape them.
    for char in "\\`*_[]{}()#+!|~>":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def answer_markdown(result: Answer) -> str:
    """The answer text with its citations, then the numbered sources."""
    text = escape(result.answer)
    for source in result.sources:
        if source.cited:
            text = text.replace(f"\\[{source.n}\\]", f"**\\[{source.n}\\]**")
    lines = [text, ""]
    for heading, group in result.source_groups():
        lines += [f"**{heading}**", ""]
        for s in group:
            lines.append(f"{s.n}. **{escape(s.title)}** ({escape(s.doc_type)}; {escape(s.location())})  ")
            lines.append(f"   « {escape(s.quote)} »")
        lines.append("")
    return "\n".join(lines).strip()
