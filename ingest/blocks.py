"""What every format reader shares: the error a bad file raises, the builder that turns blocks
into one text with exact offsets, and the checks an Office/OpenDocument container passes
before a library parses it (zip bombs, password protection)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from kb.schema import Block, OcrPage

# Office and OpenDocument files are zips: refuse archives whose unpacked size is absurd before
# parsing them (a few MB of zeros can unpack to gigabytes).
MAX_UNPACKED = 200 * 1024 * 1024
# A password-protected Office file is no zip but an OLE compound file holding the encrypted package.
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class LoadError(Exception):
    """A file that cannot be ingested; the message is shown to the user as is."""


class TextBuilder:
    """Accumulates blocks into one text, remembering offsets, pages and the heading path."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.blocks: list[Block] = []
        self.headings: list[tuple[int, str]] = []
        self.warnings: list[str] = []  # what a reader noticed and the ingestion report shows
        self.ocr: list[OcrPage] = []  # the pages read by OCR
        self.attachments: list = []  # (file name, LoadedDocument) of an e-mail's attached files
        self.quoted_blocks: list[Block] = []  # the blocks of the earlier messages an e-mail quotes
        self.quoting = False  # while set, blocks added belong to a quoted earlier message

    def add(self, text: str, *, kind: str = "paragraph", level: int = 0, page: int | None = None,
            starts_chunk: bool = False) -> None:
        """Append one block; a heading of `level` closes the headings at that level and below;
        `starts_chunk` (a slide's, a sheet's or a message's heading) closes the chunk before it."""
        text = text.strip()
        if not text:
            return
        if kind == "heading":
            self.headings = [(lvl, title) for lvl, title in self.headings if lvl < level]
            self.headings.append((level, " ".join(text.split())))
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        section = tuple(title for _, title in self.headings)
        block = Block(start, self.length, kind, section, page, level, starts_chunk)
        (self.quoted_blocks if self.quoting else self.blocks).append(block)

    def row(self, cells: list[str], *, page: int | None = None) -> None:
        """A table row as "| a | b |": the answer units read it with its header row, the
        commitments reader finds its action/owner/deadline columns."""
        values = [" ".join(str(c).replace("|", "/").split()) for c in cells]
        if any(values):
            self.add("| " + " | ".join(values) + " |", page=page)

    def result(self) -> tuple[str, list[Block]]:
        """The text and its blocks."""
        return "".join(self.parts), self.blocks


def check_container(path: Path, kind: str, *, opendocument: bool = False) -> None:
    """Refuse, with a message, an Office/OpenDocument file that is password-protected, no zip,
    or unpacks to more than `MAX_UNPACKED` bytes (a possible zip bomb)."""
    with open(path, "rb") as handle:
        if handle.read(8) == _OLE_SIGNATURE:
            raise LoadError(f"password-protected (encrypted) {kind}: remove the password and ingest it again")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            unpacked = sum(info.file_size for info in infos)
            if unpacked > MAX_UNPACKED:
                raise LoadError(f"the {kind} unpacks to {unpacked / 1e6:.0f} MB: refused as a possible zip bomb")
            if opendocument and _odf_encrypted(archive):
                raise LoadError(f"password-protected (encrypted) {kind}: remove the password and ingest it again")
    except zipfile.BadZipFile:
        raise LoadError(f"not a valid {kind} file (it is not a zip archive)") from None


def _odf_encrypted(archive: zipfile.ZipFile) -> bool:
    # OpenDocument encryption is declared per part in the manifest (LibreOffice "Save with password").
    try:
        manifest = archive.read("META-INF/manifest.xml")
    except KeyError:
        return False
    return b"encryption-data" in manifest
