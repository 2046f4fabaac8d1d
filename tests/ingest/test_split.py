"""Splitting follows structure, never cuts a sentence when avoidable, and keeps exact offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.load import load_document
from ingest.split import split_document
from kb.text import sentence_spans
from tests.ingest import samples

SENTENCES = [
    f"La commission numéro {i} examine le dossier {i} et remet un avis motivé au comité de pilotage conjoint."
    for i in range(60)
]


def long_doc(tmp_path: Path, paragraphs: list[str], name: str = "long.md"):
    body = "# Rapport\n\n## Partie A\n\n" + "\n\n".join(paragraphs[: len(paragraphs) // 2])
    body += "\n\n## Partie B\n\n" + "\n\n".join(paragraphs[len(paragraphs) // 2 :])
    text = "---\ntitle: Rapport\ndoc_type: report\ndate: 2026-01-01\nlanguage: fr\naccess: public\n---\n" + body
    return load_document(samples.write_md(tmp_path, name, text), max_bytes=1 << 22)


def test_chunks_are_exact_slices_within_size(tmp_path: Path) -> None:
    paragraphs = [" ".join(SENTENCES[i : i + 3]) for i in range(0, 60, 3)]
    doc = long_doc(tmp_path, paragraphs)
    chunks = split_document(doc, chunk_size=1000, chunk_overlap=150)
    assert len(chunks) >= 5
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 1200
    assert all(400 <= len(c.text) for c in chunks[:-1])
    # Every part of the text is covered by some chunk.
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(doc.text) if not ch.isspace())


def test_no_sentence_is_cut_and_overlap_repeats_whole_sentences(tmp_path: Path) -> None:
    doc = long_doc(tmp_path, [" ".join(SENTENCES)])  # one huge paragraph per part
    chunks = split_document(doc, chunk_size=1000, chunk_overlap=150)
    boundaries = {e for s, e in sentence_spans(doc.text)} | {s for s, e in sentence_spans(doc.text)}
    for chunk in chunks:
        assert chunk.start in boundaries and chunk.end in boundaries
    same_section = [(a, b) for a, b in zip(chunks, chunks[1:]) if a.section == b.section]
    assert same_section, "expected consecutive chunks inside one section"
    for a, b in same_section:
        assert b.start < a.end, "consecutive chunks of a section overlap"
        assert a.end - b.start <= 150


def test_sections_follow_headings(tmp_path: Path) -> None:
    paragraphs = [" ".join(SENTENCES[i : i + 4]) for i in range(0, 40, 4)]
    doc = long_doc(tmp_path, paragraphs)
    chunks = split_document(doc, chunk_size=1000, chunk_overlap=150)
    b_start = doc.text.index("Partie B")
    assert all(c.section == "Rapport > Partie A" for c in chunks if c.end <= b_start)
    assert any(c.section == "Rapport > Partie B" for c in chunks)
    assert not any(c.text.rstrip().endswith("Partie B") for c in chunks), "a heading stays with its body"


def test_ids_derive_from_document_and_content(tmp_path: Path) -> None:
    paragraphs = [" ".join(SENTENCES[i : i + 4]) for i in range(0, 40, 4)]
    first = split_document(long_doc(tmp_path, paragraphs), 1000, 150)
    again = split_document(long_doc(tmp_path, paragraphs), 1000, 150)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    changed = list(paragraphs)
    changed[-1] = changed[-1].replace("avis motivé", "avis favorable")
    edited = split_document(long_doc(tmp_path, changed), 1000, 150)
    kept = {c.chunk_id for c in first} & {c.chunk_id for c in edited}
    assert kept and len(kept) < len(first)
    other = split_document(long_doc(tmp_path, paragraphs, "copie.md"), 1000, 150)
    assert not {c.chunk_id for c in other} & {c.chunk_id for c in first}


def test_small_document_is_one_chunk_with_page(tmp_path: Path) -> None:
    doc = load_document(samples.write_pdf(tmp_path), max_bytes=1 << 22)
    chunks = split_document(doc, 1000, 150)
    assert len(chunks) == 1 and chunks[0].page == 1


def test_invalid_overlap_is_refused(tmp_path: Path) -> None:
    doc = load_document(samples.write_md(tmp_path), max_bytes=1 << 22)
    with pytest.raises(ValueError, match="chunk_overlap must be less than half"):
        split_document(doc, 400, 300)


def test_a_sentence_longer_than_a_chunk_is_cut_between_words(tmp_path: Path) -> None:
    words = "la commission mixte se réunit chaque trimestre pour suivre la feuille de route".split()
    sentence = " ".join(words[i % len(words)] for i in range(500))  # about 3,000 characters, no full stop
    doc = long_doc(tmp_path, [sentence, sentence])
    chunks = split_document(doc, chunk_size=1000, chunk_overlap=150)
    assert len(chunks) >= 6
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text and len(chunk.text) <= 1200
        assert chunk.start == 0 or doc.text[chunk.start - 1].isspace()
        assert chunk.end == len(doc.text) or doc.text[chunk.end].isspace()
