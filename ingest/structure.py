"""Structure a reader needs that no markup gives: FAQ questions typed as plain paragraphs, and
numbered clauses ("Article 11 : …", "11.2 Les parties …", "Art. 6. …") written as paragraphs.

Both passes run on a loaded document's blocks, whatever its format, and only change sections and
heading marks (the text and offsets stay as they are):

- in a FAQ (three questions or more, each a short paragraph ending with "?" followed by an
  answer), each question becomes a heading, so every passage and sentence of its answer carries
  the question in its section (what the search embeds with a sentence, and what a citation shows);
- a paragraph opening with a clause number gives its label to its own section and to the
  paragraphs after it, until the next clause or heading: "Article 11 > 11.2" is cited as such.
"""

from __future__ import annotations

import re
from dataclasses import replace

from kb.schema import Block

_QUESTION = re.compile(r"^(?:(?:Q|Question)\s*\d*\s*[:.–-]\s*|\d{1,2}[.)]\s+)?[^|\n][^\n]{5,200}\?\s*$",
                       re.I)
MIN_QUESTIONS = 3
_CLAUSE = re.compile(
    r"^(?:(?P<article>(?:Article|Art\.)\s*(?:\d+(?:\.\d+)*|[IVXL]+\b|premier\b|1er\b))"
    r"|(?P<number>\d+\.\d+(?:\.\d+)*)\.?(?=\s))", re.I)


def structure_blocks(text: str, blocks: list[Block]) -> list[Block]:
    """The blocks with FAQ questions as headings and clause labels in the sections. Messages,
    slides and sheets (blocks that start chunks of their own) keep their questions as said: a
    reply asking three things is no FAQ (a scanned page, which starts one too, may be a FAQ)."""
    if not any(block.starts_chunk and block.kind == "heading" for block in blocks):
        blocks = faq_questions(text, blocks)
    return clause_sections(text, blocks)


def _is_question(text: str, block: Block) -> bool:
    body = text[block.start : block.end]
    return block.kind == "paragraph" and body.count("\n") <= 1 and bool(_QUESTION.match(body.replace("\n", " ")))


def faq_questions(text: str, blocks: list[Block]) -> list[Block]:
    """Questions followed by their answers become headings one level under the heading above
    them, when the document holds at least `MIN_QUESTIONS` of them (a FAQ, not a letter that
    asks one thing)."""
    answered = {i for i, block in enumerate(blocks[:-1])
                if _is_question(text, block) and blocks[i + 1].kind == "paragraph"
                and not _is_question(text, blocks[i + 1])}
    if len(answered) < MIN_QUESTIONS:
        return blocks
    result: list[Block] = []
    question: str | None = None
    for index, block in enumerate(blocks):
        if index in answered:
            question = " ".join(text[block.start : block.end].split())
            result.append(replace(block, kind="heading", level=block.level or len(block.section) + 1,
                                  section=(*block.section, question)))
        elif block.kind == "heading":
            question = None
            result.append(block)
        else:
            result.append(replace(block, section=(*block.section, question)) if question else block)
    return result


def clause_label(paragraph: str) -> str | None:
    """The label a paragraph opening with a clause number gives its section: its first line when
    that is a short title ("Article 3 — Durée"), else the number ("Article 11", "11.2")."""
    match = _CLAUSE.match(paragraph)
    if not match:
        return None
    first = paragraph.split("\n", 1)[0].strip()
    if "\n" in paragraph and len(first) <= 80 and first[-1:] not in ".;,":
        return first
    return " ".join((match.group("article") or match.group("number")).split())


def clause_sections(text: str, blocks: list[Block]) -> list[Block]:
    """Paragraphs under a numbered clause carry its label in their section, until the next clause
    or heading; a label the heading above already gives is not repeated."""
    result: list[Block] = []
    label: str | None = None
    for block in blocks:
        if block.kind == "heading":
            label = None
            result.append(block)
            continue
        found = clause_label(text[block.start : block.end])
        if found is not None:
            label = found
        parent = block.section[-1] if block.section else ""
        if label and not _same_clause(parent, label):
            block = replace(block, section=(*block.section, label))
        result.append(block)
    return result


def _same_clause(heading: str, label: str) -> bool:
    """Does the heading already name the clause ("Article 11 — Gouvernance" and "Article 11")?"""
    key = re.compile(rf"^{re.escape(label.split(' —')[0].split(' :')[0])}(?!\d|\.\d)", re.I)
    return bool(key.match(heading))
