"""Slide decks (.pptx through python-pptx, .odp through odfpy): each slide a section titled by its
title, on its own page (the slide number), its bullets a list, its tables as rows, its speaker
notes kept under a "Notes" heading of the slide."""

from __future__ import annotations

from pathlib import Path

from ingest.blocks import LoadError, TextBuilder, check_container
from ingest.opendocument import document_title, element_text, list_lines, local_name, open_opendocument, table_blocks

NOTES_HEADING = "Notes"
_PRESENTATION_NS = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"


def pptx_blocks(path: Path, builder: TextBuilder) -> dict:
    """Read a .pptx deck into `builder`; returns its title when the file has one."""
    check_container(path, ".pptx")
    from pptx import Presentation

    try:
        deck = Presentation(str(path))
        slides = list(deck.slides)
    except Exception as exc:  # python-pptx raises KeyError, ValueError and lxml errors on damaged files
        raise LoadError(f"corrupt or unreadable .pptx ({type(exc).__name__})") from None
    for number, slide in enumerate(slides, start=1):
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
        builder.add(title or f"Diapositive {number}", kind="heading", level=1, page=number, starts_chunk=True)
        for shape in _reading_order(slide.shapes):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            _pptx_shape(shape, builder, number)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                builder.add(NOTES_HEADING, kind="heading", level=2, page=number)
                for paragraph in notes.split("\n"):
                    builder.add(paragraph, page=number)
    return {"title": deck.core_properties.title or None}


def _reading_order(shapes) -> list:
    # Shapes are stored in z-order; read top to bottom, then left to right.
    return sorted(shapes, key=lambda s: ((s.top or 0) // 100_000, s.left or 0))


def _pptx_shape(shape, builder: TextBuilder, number: int) -> None:
    if shape.shape_type is not None and shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
        for inner in _reading_order(shape.shapes):
            _pptx_shape(inner, builder, number)
    elif getattr(shape, "has_table", False) and shape.has_table:
        for row in shape.table.rows:
            builder.row([cell.text for cell in row.cells], page=number)
    elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        _pptx_text(shape.text_frame, builder, number)


def _pptx_text(frame, builder: TextBuilder, number: int) -> None:
    """One paragraph alone is a paragraph; several are the bullets of a body placeholder."""
    lines = [(p.level, " ".join("".join(run.text for run in p.runs).split())) for p in frame.paragraphs]
    lines = [(level, text) for level, text in lines if text]
    if len(lines) == 1:
        builder.add(lines[0][1], page=number)
    elif lines:
        builder.add("\n".join("  " * level + "- " + text for level, text in lines), page=number)


def odp_blocks(path: Path, builder: TextBuilder) -> dict:
    """Read an .odp deck into `builder`; returns its title when the file has one."""
    from odf.draw import Page

    document = open_opendocument(path, ".odp")
    for number, page in enumerate(document.presentation.getElementsByType(Page), start=1):
        frames = [c for c in page.childNodes if local_name(c) == "frame"]
        titles = [f for f in frames if _frame_class(f) == "title"]
        title = element_text(titles[0]) if titles else ""
        builder.add(title or f"Diapositive {number}", kind="heading", level=1, page=number, starts_chunk=True)
        for frame in frames:
            if frame not in titles:
                _odp_frame(frame, builder, number)
        _odp_notes(page, builder, number)
    return {"title": document_title(document)}


def _odp_notes(page, builder: TextBuilder, number: int) -> None:
    notes = [c for c in page.childNodes if local_name(c) == "notes"]
    texts = [element_text(f) for n in notes for f in n.childNodes if local_name(f) == "frame" and _frame_class(f) == "notes"]
    if any(texts):
        builder.add(NOTES_HEADING, kind="heading", level=2, page=number)
        for text in texts:
            builder.add(text, page=number)


def _frame_class(frame) -> str:
    return next((str(v) for (ns, name), v in frame.attributes.items()
                 if ns == _PRESENTATION_NS and name == "class"), "")


def _odp_frame(frame, builder: TextBuilder, number: int) -> None:
    for part in frame.childNodes:
        name = local_name(part)
        if name == "table":
            start = len(builder.blocks)
            table_blocks(part, builder)
            _set_page(builder, start, number)
        elif name == "text-box":
            for child in part.childNodes:
                kind = local_name(child)
                if kind == "list":
                    builder.add("\n".join(list_lines(child)), page=number)
                elif kind in ("p", "h"):
                    builder.add(element_text(child), page=number)


def _set_page(builder: TextBuilder, start: int, number: int) -> None:
    from dataclasses import replace

    builder.blocks[start:] = [replace(block, page=number) for block in builder.blocks[start:]]
