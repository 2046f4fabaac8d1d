"""OpenDocument text (.odt) through odfpy: headings, paragraphs, lists and tables like Word; and
what the .ods and .odp readers share (opening a container safely, its title, an element's text)."""

from __future__ import annotations

from pathlib import Path

from ingest.blocks import LoadError, TextBuilder, check_container

# odfpy builds the whole document tree in memory: a content part over this size is refused
# before parsing (a long report's content.xml is a few MB).
MAX_CONTENT_BYTES = 60 * 1024 * 1024


def open_opendocument(path: Path, kind: str):
    """The odfpy document, after refusing a locked, bomb-sized or non-zip container."""
    import zipfile

    check_container(path, kind, opendocument=True)
    with zipfile.ZipFile(path) as archive:
        try:
            size = archive.getinfo("content.xml").file_size
        except KeyError:
            raise LoadError(f"corrupt or unreadable {kind} (no content.xml)") from None
    if size > MAX_CONTENT_BYTES:
        raise LoadError(f"the {kind} content is {size / 1e6:.0f} MB of XML: too large to read, split the document")
    from odf.opendocument import load

    try:
        return load(str(path))
    except Exception as exc:  # odfpy raises SAX, zip and key errors on damaged files
        raise LoadError(f"corrupt or unreadable {kind} ({type(exc).__name__})") from None


def document_title(document) -> str | None:
    """The title in the document's metadata (dc:title), if any."""
    from odf.dc import Title

    titles = document.meta.getElementsByType(Title)
    title = " ".join(str(titles[0]).split()) if titles else ""
    return title or None


def local_name(element) -> str:
    """The element's name without its namespace ("h", "p", "list"); "" for text nodes."""
    return getattr(element, "qname", ("", ""))[1] if hasattr(element, "qname") else ""


def element_text(element) -> str:
    """The text of an element, its runs of white space made single spaces."""
    return " ".join(str(element).split())


def odt_blocks(path: Path, builder: TextBuilder) -> dict:
    """Read an .odt document into `builder`; returns its title when the file has one."""
    document = open_opendocument(path, ".odt")
    flow_blocks(document.text, builder)
    return {"title": document_title(document)}


def flow_blocks(parent, builder: TextBuilder) -> None:
    """Headings, paragraphs, lists and tables of a text flow, in order (sections and frames entered)."""
    for child in parent.childNodes:
        name = local_name(child)
        if name == "h":
            level = int(child.getAttribute("outlinelevel") or 1)
            builder.add(element_text(child), kind="heading", level=level)
        elif name == "p":
            builder.add(element_text(child))
        elif name == "list":
            builder.add("\n".join(list_lines(child)))
        elif name == "table":
            table_blocks(child, builder)
        elif name in ("section", "frame", "text-box", "index-body", "table-of-content"):
            flow_blocks(child, builder)


def list_lines(element, depth: int = 0) -> list[str]:
    """The items of a list as "- item" lines, nested lists indented."""
    lines: list[str] = []
    for item in element.childNodes:
        if local_name(item) not in ("list-item", "list-header"):
            continue
        for part in item.childNodes:
            name = local_name(part)
            if name == "list":
                lines.extend(list_lines(part, depth + 1))
            elif name in ("p", "h") and element_text(part):
                lines.append("  " * depth + "- " + element_text(part))
    return lines


def table_blocks(table, builder: TextBuilder) -> None:
    """A text table's rows as "| a | b |" rows (covered cells of a merge left out, like Word's)."""
    from odf.table import TableRow

    for row in table.getElementsByType(TableRow):
        cells = [element_text(c) for c in row.childNodes if local_name(c) == "table-cell"]
        builder.row(cells)
