"""OCR of scanned PDF pages: a page without a text layer is rendered by `pdftoppm` (Debian
poppler-utils) and read by Tesseract (Debian tesseract-ocr with tesseract-ocr-fra and -eng),
both run as subprocesses.

Chosen over ocrmypdf (which rewrites the whole PDF, page layer included, and pulls
Ghostscript) and pytesseract (a thin wrapper of the same command): the page text comes from
Tesseract's TSV output, which also gives each word's confidence, so a page read as noise is
reported and left out rather than indexed. Each page read is cached under the store
(`<store>/ocr-cache/`, keyed by the PDF's content), so an ingestion stopped by its time limit
or interrupted resumes where it stopped, and re-reading a document (its commitments refreshed,
an upload checked then ingested) does not OCR it twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ingest.blocks import LoadError
from kb.schema import OcrPage

log = logging.getLogger(__name__)

# Fewer visible characters than this on a page with an image: the page is a scan (a stamp or a
# page number may be all its text layer holds).
MIN_TEXT_CHARS = 40
# The longest side of a rendered page, in pixels (A4 at 300 dpi is 3,508).
MAX_SIDE_PX = 7000
# Seconds one page may take to render or to read before it counts as failed.
PAGE_TIMEOUT_S = 180
INSTALL_HINT = ("install the Debian packages tesseract-ocr, tesseract-ocr-fra, tesseract-ocr-eng and "
                "poppler-utils (make install does)")


@dataclass(frozen=True)
class OcrOptions:
    """How scanned pages are read: Tesseract's languages, the mean word confidence (0-100) a
    page needs to be indexed, the seconds one file may spend on OCR, the cache folder (None: no
    cache) and the rendering resolution."""

    languages: str = "fra+eng"
    min_confidence: float = 50.0
    max_seconds: float = 900.0
    cache: Path | None = None
    dpi: int = 300


@dataclass(frozen=True)
class PageText:
    """What Tesseract read on one page: its text (paragraphs separated by blank lines), the mean
    confidence of its words and how many words it found."""

    page: int
    text: str
    confidence: float
    words: int


def ocr_options(settings, *, cache: bool = True) -> OcrOptions:
    """The OCR options of `settings` (a `kb.settings.Settings`), the cache under its store."""
    return OcrOptions(languages=settings.ocr_languages, min_confidence=settings.ocr_min_confidence,
                      max_seconds=settings.ocr_max_seconds, cache=settings.store / "ocr-cache" if cache else None)


def needs_ocr(text: str, has_image: bool) -> bool:
    """Is a page a scan to OCR? It shows an image and its text layer holds almost nothing."""
    return has_image and sum(1 for ch in text if not ch.isspace()) < MIN_TEXT_CHARS


def missing_tools(languages: str) -> list[str]:
    """What OCR needs and this machine lacks: the programs and the Tesseract languages."""
    missing = [name for name in ("tesseract", "pdftoppm") if shutil.which(name) is None]
    if "tesseract" not in missing:
        have = _installed_languages()
        missing += [f"Tesseract language '{lang}'" for lang in languages.split("+") if lang not in have]
    return missing


@cache
def _installed_languages() -> frozenset[str]:
    try:
        out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def read_scanned_pages(pdf: Path, sizes: dict[int, float], options: OcrOptions,
                       total_pages: int) -> tuple[dict[int, PageText], list[OcrPage], list[str]]:
    """OCR the pages of `pdf` that `sizes` maps to their longer side in points: (the text of each page kept, what was read of each page,
    warnings). A page below the confidence floor is reported and its text not kept; missing
    tools leave the pages unread with a warning; the time limit is a LoadError (pages read so far
    stay cached, so the next run goes on from there)."""
    numbers = sorted(sizes)
    if not numbers:
        return {}, [], []
    missing = missing_tools(options.languages)
    if missing:
        return {}, [], [f"{_pages(numbers)} without a text layer not read: OCR needs {', '.join(missing)}; "
                        f"{INSTALL_HINT}"]
    folder = _cache_folder(pdf, options)
    started = time.monotonic()
    kept: dict[int, PageText] = {}
    records: list[OcrPage] = []
    warnings: list[str] = []
    read_now = 0
    for done, number in enumerate(numbers):
        page = _cached(folder, number)
        if page is None:
            # At least one page a run: a file too long for the limit still gets through, run by run.
            if read_now and time.monotonic() - started > options.max_seconds:
                raise LoadError(_time_limit_message(done, len(numbers), total_pages, options))
            page = ocr_page(pdf, number, options, sizes[number])
            _store(folder, page)
            read_now += 1
        indexed = page.confidence >= options.min_confidence and bool(page.text.strip())
        records.append(OcrPage(page.page, round(page.confidence, 1), indexed))
        if indexed:
            kept[number] = page
        elif page.words:
            warnings.append(f"page {number} read by OCR with mean confidence {page.confidence:.0f} "
                            f"(under {options.min_confidence:g}): not indexed, check the scan")
    log.info("ocr file=%s pages=%d seconds=%.1f", pdf.name, len(numbers), time.monotonic() - started)
    return kept, records, warnings


def _time_limit_message(done: int, wanted: int, total: int, options: OcrOptions) -> str:
    resume = ("the pages read are kept: run the ingestion again to go on" if options.cache
              else "no OCR cache is set, so nothing is kept")
    return (f"OCR stopped at its time limit ({options.max_seconds:g} s, PASSERELLE_OCR_MAX_SECONDS) after "
            f"{done} of the {wanted} scanned pages (of {total}); {resume}")


def _pages(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10]) + (", …" if len(numbers) > 10 else "")
    return f"page {shown}" if len(numbers) == 1 else f"pages {shown}"


def ocr_page(pdf: Path, number: int, options: OcrOptions, long_side_pt: float = 842.0) -> PageText:
    """Render page `number` of `pdf` (its longer side `long_side_pt` points) and read it with
    Tesseract; a tool failure is a LoadError."""
    # A poster-sized page at full resolution would be a gigapixel image: the resolution drops.
    dpi = max(30, min(options.dpi, int(MAX_SIDE_PX * 72 / max(long_side_pt, 1.0))))
    with tempfile.TemporaryDirectory(prefix="passerelle-ocr-") as scratch:
        prefix = Path(scratch) / "page"
        _run(["pdftoppm", "-r", str(dpi), "-f", str(number), "-l", str(number), "-gray", "-png",
              "-singlefile", str(pdf), str(prefix)], f"page {number} could not be rendered for OCR")
        image = _despeckled(prefix.with_suffix(".png"))
        # One thread per Tesseract: on a shared 2-core machine its OpenMP threads fight each
        # other and the embedding model (Tesseract's own advice for throughput).
        tsv = _run(["tesseract", str(image), "stdout", "-l", options.languages,
                    "--psm", "3", "tsv"], f"page {number} could not be read by OCR",
                   env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    text, confidence, words = parse_tsv(tsv)
    return PageText(number, text, confidence, words)


def _despeckled(png: Path) -> Path:
    """The page with photocopy speckles removed (a 3x3 median): on a speckled page with little
    text Tesseract's layout analysis took over 300 s, against 7 s once despeckled."""
    from PIL import Image, ImageFilter

    cleaned = png.with_name("clean.png")
    with Image.open(png) as image:
        image.filter(ImageFilter.MedianFilter(3)).save(cleaned)
    return cleaned


def _run(command: list[str], failure: str, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PAGE_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        raise LoadError(f"{failure}: it took over {PAGE_TIMEOUT_S} s") from None
    except OSError as exc:
        raise LoadError(f"{failure}: {exc.strerror or exc}; {INSTALL_HINT}") from None
    if done.returncode != 0:
        detail = " ".join(done.stderr.split())[:160]
        raise LoadError(f"{failure} ({command[0]} exit {done.returncode}: {detail})")
    return done.stdout


def parse_tsv(tsv: str) -> tuple[str, float, int]:
    """(text, mean word confidence, word count) of Tesseract's TSV output: the words of a line
    joined by spaces, the lines of a paragraph by newlines, paragraphs by blank lines."""
    paragraphs: dict[tuple[int, int], dict[int, list[str]]] = {}
    confidences: list[float] = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word:
            continue
        try:
            confidence = float(row["conf"])
        except (TypeError, ValueError):
            continue
        if confidence >= 0:
            confidences.append(confidence)
        key = (int(row["block_num"]), int(row["par_num"]))
        paragraphs.setdefault(key, {}).setdefault(int(row["line_num"]), []).append(word)
    text = "\n\n".join("\n".join(" ".join(words) for _, words in sorted(lines.items()))
                       for _, lines in sorted(paragraphs.items()))
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return text, mean, len(confidences)


def _cache_folder(pdf: Path, options: OcrOptions) -> Path | None:
    if options.cache is None:
        return None
    digest = hashlib.sha256()
    with open(pdf, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"\x00{options.dpi}\x00{options.languages}".encode())
    return options.cache / digest.hexdigest()[:32]


def _cached(folder: Path | None, number: int) -> PageText | None:
    if folder is None:
        return None
    try:
        data = json.loads((folder / f"{number}.json").read_text(encoding="utf-8"))
        return PageText(number, data["text"], float(data["confidence"]), int(data["words"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(folder: Path | None, page: PageText) -> None:
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{page.page}.json.part"
        partial.write_text(json.dumps({"text": page.text, "confidence": page.confidence, "words": page.words}),
                           encoding="utf-8")
        partial.replace(folder / f"{page.page}.json")  # a page half-written is never read back
    except OSError as exc:
        log.warning("ocr cache not written folder=%s reason=%s", folder, exc)
