"""Loading: turn a file into a `LoadedDocument` (text, structure blocks, metadata).

Supported: Markdown, plain text, PDF (page numbers kept, scanned pages read by OCR), Word .docx
(headings kept), HTML, and the formats of the modules named in `_CONTAINER_READERS`.
Every failure is a `LoadError` whose message says what is wrong with the file.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import re
import stat
from dataclasses import replace
from pathlib import Path
from ingest.blocks import LoadError, TextBuilder, check_container
from ingest.markdown import markdown_blocks
from ingest.plaintext import looks_like_heading, numbering_level, plain_text_blocks
from ingest.structure import structure_blocks
from ingest.ocr import OcrOptions, needs_ocr, read_scanned_pages
from ingest.metadata import MetadataError, build_meta, parse_yaml, sidecar_path, split_front_matter
from kb.language import identify
from kb.schema import Block, LoadedDocument

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (
    ".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm", ".odt",
    ".xlsx", ".ods", ".csv", ".pptx", ".odp", ".eml", ".msg",
)


def document_id(path: Path) -> str:
    """A document's id: its path relative to the working directory when inside it, else absolute."""
    # realpath, unlike Path.resolve() on Python 3.11, does not raise on a symlink loop: the
    # looping file keeps its own name and is then reported as unreadable.
    resolved = Path(os.path.realpath(path))
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def file_fingerprint(path: Path) -> str:
    """Hash of the file and its sidecar: a change in either means re-ingestion."""
    digest = hashlib.sha256()
    for part in (path, sidecar_path(path)):
        try:
            # A pipe or a device would block or never end: only regular files are read.
            if not stat.S_ISREG(os.stat(part).st_mode):
                raise OSError(f"{part.name} is not a regular file (a pipe, socket or device)")
            with open(part, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except FileNotFoundError:
            if part == path:
                raise
        digest.update(b"\x00--\x00")
    return digest.hexdigest()


def load_document(path: Path, *, max_bytes: int, file_hash: str | None = None,
                  ocr: OcrOptions | None = None) -> LoadedDocument:
    """Load one file; raises LoadError with a clear message when it cannot be used. `ocr` says
    how scanned PDF pages are read (default `OcrOptions()`: no cache)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(
            f"unsupported file type {suffix or '(no extension)'}; supported: "
            + ", ".join(s for s in SUPPORTED_SUFFIXES if s not in (".markdown", ".htm"))
        )
    builder = TextBuilder()
    file_hash, fields = _read_file(path, suffix, builder, max_bytes, file_hash, ocr or OcrOptions())
    text, blocks = builder.result()
    if not text.strip():
        # A scan that could not be read says why (OCR missing, every page under the floor).
        raise LoadError("; ".join(builder.warnings) or "no text could be extracted (an empty document?)")
    first_heading = next((text[b.start : b.end] for b in blocks if b.kind == "heading"), None)
    blocks = structure_blocks(text, blocks)
    try:
        meta, warnings = build_meta(
            fields,
            fallback_title=first_heading or path.stem.replace("-", " ").replace("_", " "),
            detect_language=lambda: _detect_language(text),
        )
    except MetadataError as exc:
        raise LoadError(str(exc)) from None
    doc = LoadedDocument(
        doc_id=document_id(path), path=document_id(path), file_hash=file_hash,
        text=text, blocks=blocks, meta=meta, warnings=[*builder.warnings, *warnings], ocr=builder.ocr,
        quoted_blocks=builder.quoted_blocks,
    )
    doc.attachments = attached_documents(doc, builder.attachments)
    return doc


ATTACHMENT_SEPARATOR = "#"


def attached_documents(message: LoadedDocument, attached: list[tuple[str, LoadedDocument]]) -> list[LoadedDocument]:
    """The files attached to an e-mail as documents of their own, linked to it: id
    "<message id>#<file name>", the message's file as path (and fingerprint), a title naming the
    message, and its date, access level and organisations."""
    documents = []
    for name, child in attached:
        meta = replace(child.meta, title=f"{name} — {message.meta.title}", date=child.meta.date or message.meta.date,
                       access=message.meta.access, organisations=message.meta.organisations,
                       illustrative=message.meta.illustrative)
        doc_id = f"{message.doc_id}{ATTACHMENT_SEPARATOR}{name}"
        documents.append(replace(child, doc_id=doc_id, path=message.path, file_hash=message.file_hash, meta=meta,
                                 warnings=[]))
    return documents


def _read_file(path: Path, suffix: str, builder: TextBuilder, max_bytes: int, file_hash: str | None,
               ocr: OcrOptions) -> tuple[str, dict]:
    """Fill `builder` from the file; (the file's fingerprint, its metadata fields with the sidecar's)."""
    try:
        _check_size(path, max_bytes)
        file_hash = file_hash or file_fingerprint(path)
        return file_hash, _with_sidecar(path, _read_blocks(path, suffix, builder, ocr))
    except MetadataError as exc:
        raise LoadError(str(exc)) from None
    except PermissionError:
        raise LoadError("permission denied: the file cannot be read") from None
    except OSError as exc:
        raise LoadError(f"cannot read the file: {exc.strerror or exc}") from None


def _check_size(path: Path, max_bytes: int) -> None:
    size = path.stat().st_size
    if size == 0:
        raise LoadError("empty file")
    if size > max_bytes:
        raise LoadError(
            f"file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:g} MB limit (PASSERELLE_MAX_FILE_MB)"
        )


def _read_blocks(path: Path, suffix: str, builder: TextBuilder, ocr: OcrOptions) -> dict:
    """Fill `builder` with the file's blocks; returns the metadata fields the file itself carries."""
    if suffix == ".pdf":
        _pdf_blocks(path, builder, ocr)
        return {}
    if suffix == ".docx":
        _docx_blocks(path, builder)
        return {}
    if suffix in _CONTAINER_READERS:
        module, function = _CONTAINER_READERS[suffix]
        return getattr(importlib.import_module(module), function)(path, builder)
    if suffix == ".eml":
        from ingest.mail import eml_blocks

        return eml_blocks(path.read_bytes(), builder)
    text = _decode(path.read_bytes())
    if suffix == ".csv":
        from ingest.sheets import csv_blocks

        csv_blocks(text, path.stem, builder)
        return {}
    if suffix in (".html", ".htm"):
        return {"title": _html_blocks(text, builder)}
    fields, body, _ = split_front_matter(text)
    if suffix == ".txt":
        from ingest.mail import looks_like_thread, thread_blocks

        if looks_like_thread(body):
            return {**thread_blocks(body, builder), **fields}
        plain_text_blocks(body, builder)
    else:
        _markdown_blocks(body, builder)
    return fields


# Readers of the formats kept in their own modules: suffix -> (module, function(path, builder)).
_CONTAINER_READERS = {
    ".xlsx": ("ingest.sheets", "xlsx_blocks"),
    ".ods": ("ingest.sheets", "ods_blocks"),
    ".odt": ("ingest.opendocument", "odt_blocks"),
    ".pptx": ("ingest.slides", "pptx_blocks"),
    ".odp": ("ingest.slides", "odp_blocks"),
    ".msg": ("ingest.outlook", "msg_blocks"),
}


def _with_sidecar(path: Path, fields: dict) -> dict:
    """The file's own fields overridden by its sidecar's; a missing title is left out."""
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        side = parse_yaml(_decode(sidecar.read_bytes()), f"sidecar {sidecar.name}")
        fields = {**{k: v for k, v in fields.items() if v is not None}, **side}
    if fields.get("title") is None:
        fields.pop("title", None)
    return fields


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252/Latin-1; binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its BOM (Windows "Unicode" text)
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise LoadError("invalid UTF-16 text: save the file as UTF-8") from None
    sample = data[:65536]
    if b"\x00" in sample:
        raise LoadError("binary content: this does not look like a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(8, len(text[:65536]) // 100):
        raise LoadError("binary content: this does not look like a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _markdown_blocks(body: str, builder: TextBuilder) -> None:
    for text, kind, level in markdown_blocks(body):
        builder.add(text, kind=kind, level=level)


def _pdf_blocks(path: Path, builder: TextBuilder, ocr: OcrOptions) -> None:
    pages = _pdf_pages(path)
    scanned = {number: side for number, text, side in pages if needs_ocr(text, side is not None)}
    read, builder.ocr, warnings = read_scanned_pages(path, scanned, ocr, len(pages))
    builder.warnings.extend(warnings)
    for number, page_text, _ in pages:
        if number in scanned:
            units = _scanned_paragraphs(read[number].text if number in read else "")
        else:
            units = [(para, looks_like_heading(para) and "\n" not in para) for para in _pdf_paragraphs(page_text)]
        for index, (para, heading) in enumerate(units):
            kind = "heading" if heading else "paragraph"
            # A scanned page is a passage of its own: a citation's page is then its quote's page,
            # the one to hold against the scan.
            builder.add(para, kind=kind, level=numbering_level(para) if kind == "heading" else 0, page=number,
                        starts_chunk=index == 0 and number in scanned)


def _scanned_paragraphs(text: str) -> list[tuple[str, bool]]:
    """(paragraph, is a heading) of a page Tesseract read. A paragraph of one line that reads as a
    title (short, capitalised, no closing punctuation) is a heading: the page's layout set it
    apart ("Point 2 - Exercice conjoint de gestion de crise", nine words, was read as text under
    the heading before it). Longer paragraphs may run a title into the text under it: their lines
    are joined as a text layer's are, closing at headings and at the ends of sentences."""
    units: list[tuple[str, bool]] = []
    for block in text.split("\n\n"):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if len(lines) == 1 and _set_apart_title(lines[0]):
            units.append((lines[0], True))
            continue
        units += [(para, looks_like_heading(para) and "\n" not in para) for para in _join_pdf_lines(lines)]
    return units


def _set_apart_title(line: str) -> bool:
    """Is a line that stands alone on the page a title? At most 14 words and 100 characters,
    opening with a capital or a number, not closing a sentence or a clause."""
    return looks_like_heading(line) or (
        len(line) <= 100 and len(line.split()) <= 14 and (line[0].isupper() or line[0].isdigit())
        and line[-1] not in ".;,:!?…»)")


def _pdf_pages(path: Path) -> list[tuple[int, str, float | None]]:
    """(page number, extracted text, its longer side in points when it shows an image, else
    None) of each page; a damaged or locked file is a LoadError."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            _decrypt_without_password(reader)
        return [(number, page.extract_text() or "",
                 max(float(page.mediabox.width), float(page.mediabox.height)) if _has_image(page) else None)
                for number, page in enumerate(reader.pages, start=1)]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise LoadError(f"corrupt or unreadable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    except Exception as exc:  # pypdf raises a wide range on damaged files
        raise LoadError(f"corrupt or unreadable PDF ({type(exc).__name__})") from None


def _has_image(page) -> bool:
    """Does the page draw an image, directly or in a form it uses (where scanners put it)?"""
    pending = [page.get("/Resources")]
    for _ in range(8):  # forms may nest; a few levels cover what scanners write
        found = []
        for resources in pending:
            xobjects = resources.get_object().get("/XObject") if resources is not None else None
            for ref in (xobjects.get_object().values() if xobjects is not None else ()):
                item = ref.get_object()
                if item.get("/Subtype") == "/Image":
                    return True
                if item.get("/Subtype") == "/Form":
                    found.append(item.get("/Resources"))
        if not found:
            return False
        pending = found
    return False


def _decrypt_without_password(reader) -> None:
    # Some PDFs are "encrypted" with an empty user password and open as is; others need one.
    try:
        opened = reader.decrypt("")
    except Exception:
        opened = False
    if not opened:
        raise LoadError("encrypted PDF: remove the password and ingest it again")


_PAGE_FOOTER = re.compile(r"(?i)\bpage\s+\d+\s*(/|sur|of)\s*\d+\s*$")


_PDF_ITEM = re.compile(r"^([-•–*]|\d+[.)]|\d+\s+[A-ZÀ-Ý])\s*")


def _pdf_paragraphs(page_text: str) -> list[str]:
    """Rebuild paragraphs from PDF lines: a line ending a sentence, or a short title line, closes one."""
    if re.search(r"\n\s*\n", page_text):
        return [p for p in re.split(r"\n\s*\n", page_text) if p.strip()]
    lines = [line.strip() for line in page_text.split("\n") if line.strip()]
    if lines and _PAGE_FOOTER.search(lines[-1]):
        lines.pop()  # running footer ("… — page 2/3"): not content
    return _join_pdf_lines(lines)


def _join_pdf_lines(lines: list[str]) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        # Bullets, numbered items and numbered table rows ("7 Étude …") start a new unit.
        starts_item = bool(_PDF_ITEM.match(line))
        heading = looks_like_heading(line)
        if current and (starts_item or heading):
            paragraphs.append("\n".join(current))
            current = []
        if heading and not starts_item:
            paragraphs.append(line)
            continue
        current.append(line)
        if line[-1] in ".!?:»":
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs


def _docx_blocks(path: Path, builder: TextBuilder) -> None:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for item in _open_docx(path).iter_inner_content():
        if isinstance(item, Paragraph):
            style = (item.style.name if item.style is not None else "") or ""
            level = _heading_level(style)
            if level:
                builder.add(item.text, kind="heading", level=level)
            else:
                builder.add(item.text)
        elif isinstance(item, Table):
            for row in item.rows:
                builder.add(" | ".join(_row_cells(row)))


def _open_docx(path: Path):
    """The python-docx Document, after refusing what is no zip or unpacks to an absurd size."""
    check_container(path, ".docx")
    from docx import Document

    try:
        return Document(str(path))
    except Exception as exc:  # python-docx raises KeyError/ValueError/lxml errors on damaged files
        raise LoadError(f"corrupt or unreadable .docx ({type(exc).__name__})") from None


def _row_cells(row) -> list[str]:
    cells: list[str] = []
    for cell in row.cells:
        value = " ".join(cell.text.split())
        if value and (not cells or cells[-1] != value):  # merged cells repeat
            cells.append(value)
    return cells


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.match(r"^(?:Heading|Titre)\s*(\d)$", style)
    return int(match.group(1)) if match else 0


def _html_blocks(html: str, builder: TextBuilder) -> str | None:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "nav", "iframe", "svg", "head"]):
        if tag.name == "head":
            continue
        tag.decompose()
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag else None
    body = soup.body or soup
    for element in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", "dd", "dt"]):
        if element.find_parent(["li", "tr", "blockquote"]) is not None and element.name in ("p", "li"):
            continue  # already taken with its container
        if element.name == "tr":
            cells = [" ".join(c.get_text(" ").split()) for c in element.find_all(["td", "th"])]
            builder.add(" | ".join(c for c in cells if c))
        elif element.name.startswith("h"):
            builder.add(" ".join(element.get_text(" ").split()), kind="heading", level=int(element.name[1]))
        else:
            builder.add(" ".join(element.get_text(" ").split()))
    return title


def _detect_language(text: str) -> str:
    # French or English only (kb.language): on the 19 corpus documents both it and the full
    # py3langid model find the declared language; on their 312 paragraphs of 40+ characters the
    # full model is right 310 times, the restricted one 311.
    return identify(text[:4000])[0]
