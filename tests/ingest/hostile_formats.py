"""Hostile files of the spreadsheet, slide, OpenDocument and e-mail kinds, generated at test time:
locked, bomb-sized, a million rows, macros, broken encodings. `write_hostile_formats(docs)` writes
them and returns (what, file name, message or None when the file must go in cleanly)."""

from __future__ import annotations

import random
import zipfile
from email.message import EmailMessage
from pathlib import Path

from tests.ingest import format_samples as samples

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MILLION = 1_000_000


def _ole_file(rng: random.Random) -> bytes:
    """What Office saves for "Encrypt with password": an OLE compound file (its signature, then
    sectors) holding the encrypted package, no zip."""
    return OLE_SIGNATURE + rng.randbytes(20_000)


def _zip_bomb(path: Path, part: str, unpacked_mb: int = 300) -> Path:
    """A container whose `part` unpacks to `unpacked_mb` MB of zeros (about 300 KB on disk)."""
    block = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open(part, "w", force_zip64=True) as handle:
            for _ in range(unpacked_mb):
                handle.write(block)
    return path


def _million_row_xlsx(path: Path, scratch: Path) -> Path:
    """A real workbook whose sheet holds a million rows, streamed into the zip (about 5 MB on disk)."""
    source = samples.write_small_xlsx(scratch)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                new.writestr(info, old.read(info.filename))
                continue
            with new.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as handle:
                handle.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns='
                             b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                for start in range(1, MILLION + 1, 10_000):
                    handle.write("".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>'
                                         for r in range(start, start + 10_000)).encode())
                handle.write(b"</sheetData></worksheet>")
    return path


def _million_row_ods(path: Path, scratch: Path) -> Path:
    """An .ods whose one filled row is repeated a million times (a few KB on disk)."""
    source = samples.write_ods(scratch, "source.ods")
    with zipfile.ZipFile(source) as archive:
        content = archive.read("content.xml").decode()
    content = content.replace('<table:table-row table:number-rows-repeated="1048570"/>',
                              f'<table:table-row table:number-rows-repeated="{MILLION}"><table:table-cell '
                              'office:value-type="string"><text:p>ligne</text:p></table:table-cell></table:table-row>')
    assert str(MILLION) in content
    return samples.rezip(source, path, {"content.xml": content.encode()})


def _encrypted_odt(path: Path, scratch: Path, rng: random.Random) -> Path:
    """An .odt as LibreOffice saves it with a password: the manifest declares encryption data, the
    content part is ciphertext."""
    source = samples.write_odt(scratch, "source.odt")
    with zipfile.ZipFile(source) as archive:
        manifest = archive.read("META-INF/manifest.xml").decode()
    manifest = manifest.replace(
        'manifest:full-path="content.xml"',
        'manifest:full-path="content.xml" manifest:size="2000"><manifest:encryption-data manifest:checksum-type='
        '"SHA1/1K" manifest:checksum="AAAA"><manifest:algorithm manifest:algorithm-name="Blowfish CFB" '
        'manifest:initialisation-vector="AAAA"/></manifest:encryption-data></manifest:file-entry><manifest:file-entry '
        'manifest:media-type="" manifest:full-path="ignored"', 1)
    return samples.rezip(source, path, {"content.xml": rng.randbytes(2000),
                                        "META-INF/manifest.xml": manifest.encode()})


def _eml(charset: str, body: bytes, transfer: str = "8bit") -> bytes:
    head = (f"From: Awa Diop <awa@senum.example>\nTo: equipe@senum.example\nSubject: Calendrier\n"
            f"Date: Mon, 2 Mar 2026 11:00:00 +0000\nMIME-Version: 1.0\n"
            f"Content-Type: text/plain; charset=\"{charset}\"\nContent-Transfer-Encoding: {transfer}\n\n")
    return head.encode() + body


def write_macro_xlsx(docs: Path, scratch: Path) -> Path:
    """The tracker workbook with a macro project inside (as an .xlsm renamed .xlsx would carry)."""
    return samples.rezip(samples.write_xlsx(scratch, "macro-source.xlsx"), docs / "macro.xlsx", {},
                         {"xl/vbaProject.bin": OLE_SIGNATURE + b"Sub Auto_Open() Shell \"calc.exe\" End Sub"})


def write_hostile_formats(docs: Path, scratch: Path) -> list[tuple[str, str, str | None]]:
    """Write the hostile files of the new kinds into `docs`; returns (what, name, message or None)."""
    rng = random.Random(24)
    docs.mkdir(parents=True, exist_ok=True)
    cases: list[tuple[str, str, str | None]] = []

    def add(what: str, name: str, error: str | None, data: bytes | None = None) -> None:
        if data is not None:
            (docs / name).write_bytes(data)
        cases.append((what, name, error))

    for suffix in (".xlsx", ".pptx", ".docx"):
        add(f"password-protected {suffix} (OLE container)", f"verrouille{suffix}",
            f"password-protected (encrypted) {suffix}: remove the password and ingest it again", _ole_file(rng))
    add("random bytes named .xlsx", "aleatoire.xlsx", "not a valid .xlsx file (it is not a zip archive)",
        rng.randbytes(50_000))
    add("random bytes named .odp", "aleatoire.odp", "not a valid .odp file (it is not a zip archive)",
        rng.randbytes(50_000))
    _encrypted_odt(docs / "verrouille.odt", scratch, rng)
    add("password-protected .odt", "verrouille.odt",
        "password-protected (encrypted) .odt: remove the password and ingest it again")
    for name, part in (("bombe.xlsx", "xl/worksheets/sheet1.xml"), ("bombe.pptx", "ppt/slides/slide1.xml"),
                       ("bombe.ods", "content.xml")):
        _zip_bomb(docs / name, part)
        add(f"{Path(name).suffix} zip bomb (300 MB of zeros)", name, "refused as a possible zip bomb")
    with zipfile.ZipFile(docs / "sans-contenu.odt", "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    add("an .odt without its content part", "sans-contenu.odt", "corrupt or unreadable .odt (no content.xml)")
    samples.rezip(samples.write_xlsx(scratch, "casse.xlsx"), docs / "casse.xlsx",
                  {"xl/workbook.xml": b"<workbook><sheets><sheet"})
    add("an .xlsx whose workbook part is cut", "casse.xlsx", "corrupt or unreadable .xlsx")
    _million_row_xlsx(docs / "million.xlsx", scratch)
    add("a million-row .xlsx sheet", "million.xlsx", "the .xlsx has more than 50,000 rows")
    add("a million-row .csv", "million.csv", "the .csv has more than 50,000 rows",
        "".join(f"{i};ligne {i}\n" for i in range(MILLION)).encode())
    _million_row_ods(docs / "million.ods", scratch)
    add("a row repeated a million times in an .ods", "million.ods", "the .ods has more than 50,000 rows")
    add("an .xlsx carrying a macro project (read, never run)", write_macro_xlsx(docs, scratch).name, None)
    add(".eml in an unknown character encoding", "encodage-inconnu.eml",
        "malformed e-mail: unknown character encoding 'x-inconnu'", _eml("x-inconnu", "Réunion le 12 mars.".encode()))
    add(".eml whose UTF-8 body is not UTF-8", "encodage-faux.eml", "malformed e-mail: the message body is not valid utf-8",
        _eml("utf-8", bytes(rng.randrange(128, 256) for _ in range(3000))))
    add(".eml that is no e-mail", "pas-un-courriel.eml", "not an e-mail message (no From, Date or Subject header)",
        "Ceci est une simple note enregistrée avec la mauvaise extension.\n".encode())
    good = EmailMessage()
    good["From"], good["Subject"], good["Date"] = "Awa Diop <awa@senum.example>", "Note", "Mon, 2 Mar 2026 11:00:00 +0000"
    good.set_content("La revue des portails commence le 6 avril 2026.")
    good.add_attachment(_ole_file(rng), maintype="application", subtype="octet-stream", filename="verrouille.xlsx")
    add(".eml with a locked attachment (the message goes in, the attachment is skipped)", "piece-verrouillee.eml",
        None, bytes(good))
    return cases
