"""The data both sides share: document metadata, extracted documents and chunks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

DOC_TYPES = ("protocol", "strategy", "meeting_notes", "report", "other")
ACCESS_LEVELS = ("public", "internal", "restricted")
ROLES = ("reader", "staff", "official", "admin")
ROLE_ACCESS: dict[str, tuple[str, ...]] = {
    "reader": ("public",),
    "staff": ("public", "internal"),
    "official": ACCESS_LEVELS,
    "admin": ACCESS_LEVELS,
}


def access_for_role(role: str) -> tuple[str, ...]:
    """Access levels a role may read; raises ValueError for an unknown role."""
    try:
        return ROLE_ACCESS[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}") from None


@dataclass(frozen=True)
class DocumentMeta:
    """Validated metadata of one document (front matter or sidecar, plus defaults)."""

    title: str
    doc_type: str = "other"
    date: date | None = None
    organisations: tuple[str, ...] = ()
    language: str = "fr"
    access: str = "internal"
    illustrative: bool = False
    supersedes: str | None = None


@dataclass(frozen=True)
class Block:
    """A structural unit of extracted text: heading, paragraph, list item or table row.

    `start`/`end` are offsets into the document's extracted text. `starts_chunk` marks a heading
    that opens a unit a chunk must not run across (a slide, a sheet, an e-mail message), so that
    a passage's page and section are those of everything it quotes.
    """

    start: int
    end: int
    kind: str  # "heading" | "paragraph"
    section: tuple[str, ...]
    page: int | None = None
    level: int = 0
    starts_chunk: bool = False


@dataclass(frozen=True)
class OcrPage:
    """A PDF page without a text layer, read by OCR: its number, Tesseract's mean word confidence
    (0-100), and whether its text was indexed (a page under the confidence floor is not)."""

    page: int
    confidence: float
    indexed: bool


@dataclass
class LoadedDocument:
    """A file turned into text with structure and metadata, ready to split."""

    doc_id: str
    path: str
    file_hash: str
    text: str
    blocks: list[Block]
    meta: DocumentMeta
    warnings: list[str] = field(default_factory=list)
    ocr: list[OcrPage] = field(default_factory=list)
    # Files attached to an e-mail, each a document of its own: id "<message id>#<file name>".
    attachments: list["LoadedDocument"] = field(default_factory=list)
    # Earlier messages an e-mail quotes, each a section of its own: split into passages and answer
    # sentences like `blocks`, but kept apart from them because the commitments register walks
    # `blocks`: a quoted statement is no new statement.
    quoted_blocks: list[Block] = field(default_factory=list)

    def indexed_blocks(self) -> list[Block]:
        """The blocks split into passages and answer sentences, in text order: the document's own
        and those of the earlier messages it quotes."""
        if not self.quoted_blocks:
            return self.blocks
        return sorted([*self.blocks, *self.quoted_blocks], key=lambda block: block.start)


# Heads the section of an earlier message an e-mail quotes (before its date, sender and subject):
# ingestion writes it, the answer path recognises a quoted unit by it.
QUOTED_HEADING = "Message cité / Quoted earlier message"


def is_quoted_section(section: str) -> bool:
    """Is a passage's section that of an earlier message a reply quotes?"""
    return section.startswith(QUOTED_HEADING)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: a slice `text[start:end]` of one document's extracted text."""

    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    start: int
    end: int
    section: str
    page: int | None

    def embedding_text(self, title: str) -> str:
        """What the dense model sees: the passage with its title and section for context."""
        head = " — ".join(part for part in (title, self.section) if part)
        return f"{head}\n{self.text}" if head else self.text


def chunk_id_for(doc_id: str, text: str, occurrence: int) -> str:
    """Chunk ids derive from the document id and the content, so re-ingestion is an upsert."""
    doc_part = hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:12]
    content = hashlib.sha256(f"{occurrence}\x00{text}".encode("utf-8")).hexdigest()[:20]
    return f"{doc_part}-{content}"


def chunk_metadata(doc: LoadedDocument, chunk: Chunk) -> dict[str, Any]:
    """Flat metadata stored with each chunk in Chroma (scalars and non-empty lists only)."""
    meta = doc.meta
    data: dict[str, Any] = {
        "doc_id": doc.doc_id,
        "path": doc.path,
        "title": meta.title,
        "doc_type": meta.doc_type,
        "language": meta.language,
        "access": meta.access,
        "illustrative": meta.illustrative,
        "section": chunk.section,
        "start": chunk.start,
        "end": chunk.end,
        "ordinal": chunk.ordinal,
        "date": meta.date.isoformat() if meta.date else "",
        # Chroma range filters ($gte/$lte) need numbers; 0 means "undated".
        "date_int": date_to_int(meta.date),
    }
    if chunk.page is not None:
        data["page"] = chunk.page
        if any(p.page == chunk.page and p.indexed for p in doc.ocr):
            data["ocr"] = True  # its text was read from a scan: a citation can say so
    if meta.organisations:
        data["organisations"] = list(meta.organisations)
    return data


def date_to_int(value: date | None) -> int:
    """YYYYMMDD as an integer, 0 for no date."""
    return value.year * 10000 + value.month * 100 + value.day if value else 0
