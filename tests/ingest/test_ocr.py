"""OCR of scanned PDF pages (ingest/ocr.py) through the real Tesseract: which pages are read,
what the text and the report say, the confidence floor, missing tools, the time limit and the
cache that resumes after it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evals.scans import character_accuracy
from ingest.load import LoadError, load_document
from ingest.ocr import OcrOptions, needs_ocr, parse_tsv
from ingest.split import split_document
from tests.ingest import format_samples as samples

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None or shutil.which("pdftoppm") is None,
                                     reason="Tesseract or pdftoppm missing: make install installs them")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One OCR cache for the module: a scan read by one test is not read again by the next."""
    return tmp_path_factory.mktemp("ocr-cache")


def _load(path: Path, **options) -> object:
    return load_document(path, max_bytes=20 * 2**20, ocr=OcrOptions(**options))


def _page_text(doc, page: int) -> str:
    return "\n\n".join(doc.text[b.start : b.end] for b in doc.blocks if b.page == page)


def _reference(text: str) -> str:
    return text.replace("# ", "")


TSV = (
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
    "1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n"
    "5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t96.0\tArticle\n"
    "5\t1\t1\t1\t1\t2\t0\t0\t10\t10\t90.0\t2\n"
    "5\t1\t1\t1\t2\t1\t0\t0\t10\t10\t80.0\tCalendrier\n"
    "5\t1\t2\t1\t1\t1\t0\t0\t10\t10\t70.0\tFin.\n"
    "5\t1\t2\t1\t1\t2\t0\t0\t10\t10\t95.0\t \n"
)


def test_tesseract_tsv_gives_lines_paragraphs_and_the_mean_confidence() -> None:
    text, confidence, words = parse_tsv(TSV)
    assert text == "Article 2\nCalendrier\n\nFin."
    assert words == 4 and confidence == pytest.approx((96 + 90 + 80 + 70) / 4)


@pytest.mark.parametrize("text, image, expected", [
    ("", True, True), ("  Page 3  ", True, True), ("", False, False),
    ("Le comité de pilotage se réunit deux fois par an à Dakar et à Bakou.", True, False),
])
def test_only_pages_with_an_image_and_almost_no_text_are_scans(text: str, image: bool, expected: bool) -> None:
    assert needs_ocr(text, image) is expected


@needs_tesseract
def test_a_scanned_protocol_is_read_page_by_page_with_its_confidence(tmp_path: Path, cache: Path) -> None:
    doc = _load(samples.write_scan(tmp_path), cache=cache)
    assert [(p.page, p.indexed) for p in doc.ocr] == [(1, True), (2, True)]
    assert all(p.confidence >= 80 for p in doc.ocr), doc.ocr
    for number, reference in enumerate(samples.SCAN_PAGES, start=1):
        accuracy = character_accuracy(_reference(reference), _page_text(doc, number))
        assert accuracy >= 0.97, (number, accuracy, _page_text(doc, number))
    headings = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "heading"]
    assert "Article 2 — Calendrier" in headings, headings
    assert doc.meta.title.startswith("Protocole de coopération"), doc.meta.title
    dated = next(b for b in doc.blocks if "15 mai 2026" in doc.text[b.start : b.end])
    assert dated.page == 2 and dated.section[-1] == "Article 2 — Calendrier"
    # Each scanned page is a passage of its own: a citation's page is its quote's page.
    chunks = split_document(doc)
    assert [c.page for c in chunks] == [1, 2], [(c.page, c.text[:40]) for c in chunks]
    for chunk in chunks:
        assert {b.page for b in doc.blocks if chunk.start <= b.start < chunk.end} == {chunk.page}


@needs_tesseract
def test_only_the_scanned_page_of_a_mixed_pdf_is_read_by_ocr(tmp_path: Path, cache: Path) -> None:
    doc = _load(samples.write_mixed_pdf(tmp_path), cache=cache)
    assert [p.page for p in doc.ocr] == [2]
    assert "numérisé par le secrétariat" in _page_text(doc, 1)
    assert character_accuracy(_reference(samples.SCAN_PAGES[1]), _page_text(doc, 2)) >= 0.97


@needs_tesseract
def test_a_page_under_the_confidence_floor_is_reported_not_indexed(tmp_path: Path, cache: Path) -> None:
    mixed = samples.write_mixed_pdf(tmp_path)
    doc = _load(mixed, min_confidence=99.9, cache=cache)
    assert [(p.page, p.indexed) for p in doc.ocr] == [(2, False)]
    assert "15 mai" not in doc.text
    assert any("page 2 read by OCR with mean confidence" in w and "not indexed" in w for w in doc.warnings), doc.warnings
    with pytest.raises(LoadError, match="not indexed, check the scan"):
        _load(samples.write_scan(tmp_path), min_confidence=99.9, cache=cache)


def test_without_tesseract_a_scan_is_refused_with_what_to_install(tmp_path: Path, monkeypatch) -> None:
    import ingest.ocr

    monkeypatch.setattr(ingest.ocr.shutil, "which", lambda name: None)
    with pytest.raises(LoadError) as caught:
        _load(samples.write_scan(tmp_path, pages=[samples.SCAN_PAGES[0]]))
    message = str(caught.value)
    assert "page 1 without a text layer not read: OCR needs tesseract, pdftoppm" in message
    assert "tesseract-ocr-fra" in message and "make install" in message
    # A PDF with a text layer elsewhere still goes in, with the warning.
    doc = _load(samples.write_mixed_pdf(tmp_path))
    assert "numérisé" in doc.text and doc.ocr == []
    assert any("page 2 without a text layer not read" in w for w in doc.warnings)


@needs_tesseract
def test_the_time_limit_stops_a_long_scan_and_the_next_run_goes_on(tmp_path: Path) -> None:
    short = ["# Page un\n\nPremier feuillet.", "# Page deux\n\nDeuxième feuillet.", "# Page trois\n\nTroisième."]
    scan = samples.write_scan(tmp_path, "long.pdf", short)
    options = {"max_seconds": 0.001, "cache": tmp_path / "cache"}
    for done in (1, 2):
        with pytest.raises(LoadError) as caught:
            _load(scan, **options)
        assert f"after {done} of the 3 scanned pages (of 3)" in str(caught.value)
        assert "run the ingestion again to go on" in str(caught.value)
    doc = _load(scan, **options)
    assert [p.page for p in doc.ocr] == [1, 2, 3] and "Troisième" in doc.text
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 3


@needs_tesseract
def test_an_image_only_pdf_of_500_pages_is_time_bounded_and_resumable(tmp_path: Path) -> None:
    import time

    from PIL import Image

    pages = [Image.new("L", (200, 280), 255) for _ in range(500)]
    path = tmp_path / "cinq-cents-pages.pdf"
    pages[0].save(path, "PDF", resolution=24, save_all=True, append_images=pages[1:])
    options = {"max_seconds": 0.001, "cache": tmp_path / "cache"}
    started = time.monotonic()
    with pytest.raises(LoadError) as caught:
        _load(path, **options)
    assert "after 1 of the 500 scanned pages (of 500)" in str(caught.value)
    assert time.monotonic() - started < 60, "one page a run at least, then the file is reported"
    with pytest.raises(LoadError) as again:
        _load(path, **options)
    assert "after 2 of the 500 scanned pages" in str(again.value), "the next run goes on from the cache"


def test_the_report_names_each_scanned_file_its_pages_mean_confidence_and_those_under_the_floor(capsys) -> None:
    from ingest.__main__ import _summary
    from ingest.index import IngestReport

    report = IngestReport(added=2, total=2, ocr=[
        {"path": "docs/scan.pdf", "page": 1, "confidence": 91.0, "indexed": True},
        {"path": "docs/scan.pdf", "page": 2, "confidence": 95.0, "indexed": True},
        {"path": "docs/flou.pdf", "page": 1, "confidence": 88.0, "indexed": True},
        {"path": "docs/flou.pdf", "page": 3, "confidence": 31.5, "indexed": False},
    ])
    _summary(report)
    lines = capsys.readouterr().out.splitlines()
    assert "OCR docs/scan.pdf: 2 of 2 scanned pages indexed, mean confidence 93" in lines
    assert ("OCR docs/flou.pdf: 1 of 2 scanned pages indexed, mean confidence 88; "
            "under the confidence floor, not indexed: page 3") in lines
    assert report.as_json()["ocr"][3] == {"path": "docs/flou.pdf", "page": 3, "confidence": 31.5, "indexed": False}


def test_a_line_the_scan_sets_apart_is_a_heading_and_opens_its_section() -> None:
    from ingest.load import _scanned_paragraphs

    read = ("Point 1 - Bilan des formations\n\nDix-huit analystes ont suivi le cycle.\n\n"
            "Point 2 - Exercice conjoint de gestion de crise\n\n"
            "La commission fixe l'exercice conjoint de gestion de crise au 24 février 2027. Le\n"
            "scénario retenu est une attaque par rançongiciel.\n\nLe comité se réunira chaque trimestre.")
    assert _scanned_paragraphs(read) == [
        ("Point 1 - Bilan des formations", True), ("Dix-huit analystes ont suivi le cycle.", False),
        ("Point 2 - Exercice conjoint de gestion de crise", True),  # nine words: a title by its layout
        ("La commission fixe l'exercice conjoint de gestion de crise au 24 février 2027. Le\n"
         "scénario retenu est une attaque par rançongiciel.", False),
        ("Le comité se réunira chaque trimestre.", False)]
