"""Markdown structure through markdown-it-py (CommonMark with GFM tables).

The parser only finds where blocks are: each block's text is taken from the source lines it
spans (markdown-it's `Token.map`), so the document text is what the author wrote, markers
included ("- ", "> ", "| a | b |"), and quotes point at it exactly.
"""

from __future__ import annotations

from functools import cache
from typing import Iterator

# Leaf blocks found in the token stream. A list item or a quote contributes its paragraphs (the
# marker line included); each table row is a unit of its own (like a .docx row), and the |---|
# rule, which belongs to no row, carries nothing; thematic breaks carry nothing either.
_SOURCE_BLOCKS = frozenset({"paragraph_open", "fence", "code_block", "html_block"})


# Slower than the line scanner it replaces (a 3.4 MB Markdown file: about 5 s against 0.5 s on this
# 2-core machine), still small next to embedding the same text.
@cache
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def markdown_blocks(body: str) -> Iterator[tuple[str, str, int]]:
    """(text, kind, level) of each block of a Markdown body, in reading order.

    Headings (ATX "## Title" or setext) give their title with `kind="heading"` and their level;
    table rows give one block each; other blocks give their source lines with `kind="paragraph"`,
    and blocks that follow each other without a blank line (the items of a tight list, a lead-in
    and its list) stay one block, as the stores built so far have them: each item is still a
    sentence of its own for answers (kb.text.sentence_spans cuts before a list marker).
    """
    lines = body.split("\n")
    pending: tuple[int, int] | None = None  # source line range of the paragraph being gathered
    for kind, start, end, title, level in _leaves(_parser().parse(body)):
        if kind == "text" and pending is not None and pending[1] == start:
            pending = (pending[0], end)
            continue
        if pending is not None:
            yield from _paragraphs(lines, *pending)
            pending = None
        if kind == "text":
            pending = (start, end)
        elif kind == "heading":
            yield title, "heading", level
        else:
            yield _source(lines, start, end), "paragraph", 0
    if pending is not None:
        yield from _paragraphs(lines, *pending)


def _leaves(tokens) -> Iterator[tuple[str, int, int, str, int]]:
    """(kind, first line, end line, title, level) of the leaf blocks: "heading", "row" or "text"."""
    for index, token in enumerate(tokens):
        if not token.map:
            continue
        if token.type == "heading_open":
            yield "heading", *token.map, tokens[index + 1].content, int(token.tag[1:])
        elif token.type == "tr_open":
            yield "row", *token.map, "", 0
        elif token.type in _SOURCE_BLOCKS:
            yield "text", *token.map, "", 0


def _paragraphs(lines: list[str], start: int, end: int) -> Iterator[tuple[str, str, int]]:
    # Pipe rows without a |---| rule are no GFM table, yet they are one to the author: one block
    # per row, as before markdown-it and as for .txt files.
    if all(line.lstrip().startswith("|") for line in lines[start:end]):
        for line in lines[start:end]:
            yield line.rstrip(), "paragraph", 0
    else:
        yield _source(lines, start, end), "paragraph", 0


def _source(lines: list[str], start: int, end: int) -> str:
    return "\n".join(line.rstrip() for line in lines[start:end])
