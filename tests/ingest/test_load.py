"""Loading every supported format, metadata sources, and the bad files staff will feed it."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from ingest.load import LoadError, load_document
from tests.ingest import samples

MAX = 5 * 1024 * 1024


def section_of(doc, needle: str) -> tuple[str, ...]:
    offset = doc.text.index(needle)
    return next(b.section for b in doc.blocks if b.start <= offset < b.end)


def test_markdown_front_matter_headings_and_offsets(tmp_path: Path) -> None:
    doc = load_document(samples.write_md(tmp_path), max_bytes=MAX)
    assert doc.meta.title == "Protocole d'accord SENUM"
    assert doc.meta.doc_type == "protocol"
    assert doc.meta.date == date(2025, 12, 24)
    assert doc.meta.organisations == ("MCTN", "SENUM")
    assert doc.meta.illustrative is True
    assert "title:" not in doc.text  # front matter is metadata, not content
    assert section_of(doc, "former 50 agents") == ("Protocole d'accord", "Article 2 — Engagements")
    for block in doc.blocks:
        assert doc.text[block.start : block.end].strip() == doc.text[block.start : block.end]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_legacy_encodings_are_decoded(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "ancien.txt"
    path.write_bytes("Réunion à Dakar : la délégation a présenté ses priorités.".encode(encoding))
    doc = load_document(path, max_bytes=MAX)
    assert "Réunion à Dakar" in doc.text
    assert doc.meta.language == "fr"  # detected
    assert any("no language" in w for w in doc.warnings)


def test_pdf_keeps_page_numbers_and_sidecar(tmp_path: Path) -> None:
    path = samples.write_pdf(tmp_path)
    samples.write_sidecar(path, samples.SIDECAR)
    doc = load_document(path, max_bytes=MAX)
    assert doc.meta.title == "Note de test" and doc.meta.access == "internal"
    page_of = {b.page for b in doc.blocks if "30 juin 2026" in doc.text[b.start : b.end]}
    assert page_of == {2}
    assert {b.page for b in doc.blocks if "chaque trimestre" in doc.text[b.start : b.end]} == {1}


def test_docx_keeps_headings_and_tables(tmp_path: Path) -> None:
    doc = load_document(samples.write_docx(tmp_path), max_bytes=MAX)
    assert section_of(doc, "Nommer les points focaux") == ("Compte rendu de la réunion", "Actions")
    assert "Nommer les points focaux | CEAC | 15 janvier 2026" in doc.text
    assert doc.meta.title == "Compte rendu de la réunion"  # first heading when no sidecar


def test_html_drops_scripts_and_keeps_structure(tmp_path: Path) -> None:
    doc = load_document(samples.write_html(tmp_path), max_bytes=MAX)
    assert "alert" not in doc.text and "hidden" not in doc.text and "Menu" not in doc.text
    assert doc.meta.title == "E-government in Azerbaijan"
    assert doc.meta.language == "en"
    assert section_of(doc, "mobile digital identity") == ("E-government in Azerbaijan", "Digital identity")


def bad(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("vide.md", b"", "empty file"),
        ("binaire.txt", bytes(range(256)) * 40, "binary content"),
        ("faux.pdf", os.urandom(3000), "corrupt or unreadable PDF"),
        ("faux.docx", os.urandom(3000), "not a valid .docx"),
        ("tableur.xlsx", b"PK\x03\x04", "not a valid .xlsx file (it is not a zip archive)"),
        ("tableur.xyz", b"a;b", "unsupported file type .xyz"),
        ("yaml.md", b"---\ntitle: [unclosed\n---\nbody", "front matter: invalid YAML"),
        ("date.md", b"---\ndate: 2026-13-45\n---\nbody text", "date: '2026-13-45' is not a valid ISO date"),
        ("type.md", b"---\ndoc_type: memo\n---\nbody text", "doc_type: 'memo' is not one of protocol"),
        ("access.md", b"---\naccess: secret\n---\nbody text", "access: 'secret' is not one of public"),
        ("vide2.md", b"---\ntitle: x\n---\n\n   \n", "no text could be extracted"),
    ],
)
def test_bad_files_give_a_clear_message(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(LoadError) as excinfo:
        load_document(bad(tmp_path, name, data), max_bytes=MAX)
    assert message in str(excinfo.value)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    path = samples.write_pdf(tmp_path, "secret.pdf", password="s3cret")
    with pytest.raises(LoadError, match="encrypted PDF"):
        load_document(path, max_bytes=MAX)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = samples.write_md(tmp_path, text=samples.MD_PROTOCOL + "texte " * 110_000)
    with pytest.raises(LoadError, match=r"file is 0.6 MB, over the 0.5 MB limit \(PASSERELLE_MAX_FILE_MB\)"):
        load_document(path, max_bytes=2**19)


def test_bad_sidecar_names_the_field(tmp_path: Path) -> None:
    path = samples.write_pdf(tmp_path)
    samples.write_sidecar(path, "title: x\ndoc_type: protocol\ndate: 24/12/2025\n")
    with pytest.raises(LoadError, match="date: '24/12/2025'"):
        load_document(path, max_bytes=MAX)


def test_markdown_structure_from_markdown_it(tmp_path: Path) -> None:
    text = (
        "# Guide C#\n\nSous-titre souligné\n===================\n\nAvant la règle\n---\n\n***\n\n"
        "```\n# pas un titre\n| pas | un tableau |\n```\n\n| Action | Échéance |\n|---|---|\n"
        "| Former 50 agents | mars 2026 |\n\nIntroduction :\n- premier point ;\n- second point.\n"
    )
    doc = load_document(samples.write_md(tmp_path, "structure.md", text), max_bytes=MAX)
    blocks = [(b.kind, b.level, doc.text[b.start : b.end]) for b in doc.blocks]
    assert blocks == [
        ("heading", 1, "Guide C#"),
        ("heading", 1, "Sous-titre souligné"),  # setext heading
        ("heading", 2, "Avant la règle"),
        ("paragraph", 0, "```\n# pas un titre\n| pas | un tableau |\n```"),  # a fence is kept whole
        ("paragraph", 0, "| Action | Échéance |"),  # one block per row, the |---| rule dropped
        ("paragraph", 0, "| Former 50 agents | mars 2026 |"),
        ("paragraph", 0, "Introduction :\n- premier point ;\n- second point."),  # tight list with its lead-in
    ]
