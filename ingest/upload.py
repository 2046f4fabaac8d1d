"""Ingestion of files uploaded through the web app: checked first, then the same pipeline as the script."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from kb.settings import Settings
from kb.store import KnowledgeBase

from ingest.index import IngestReport, ingest_paths
from ingest.load import SUPPORTED_SUFFIXES, LoadError, load_document
from ingest.ocr import ocr_options

log = logging.getLogger(__name__)

UPLOAD_FOLDER = "uploads"


@dataclass
class UploadReport:
    """What happened to each uploaded file."""

    accepted: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    ingest: IngestReport | None = None


def ingest_uploads(files: list[tuple[Path, str]], settings: Settings, kb: KnowledgeBase) -> UploadReport:
    """Check, keep and ingest uploaded files; `files` are (temporary path, original name).

    Each file is checked (type, size, readable) before anything is written: a bad
    file is reported and never replaces a good one already in the corpus. Accepted
    files are kept under `<corpus>/uploads/`, so later runs of `python -m ingest corpus
    --prune` keep them.
    """
    report = UploadReport()
    dest_dir = settings.corpus / UPLOAD_FOLDER
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    kept: list[Path] = []
    for temp_path, original in files:
        name = safe_name(original)
        suffix = Path(name).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            report.rejected.append({"file": original, "error": f"unsupported type {suffix or '(none)'}: "
                                    f"use {', '.join(SUPPORTED_SUFFIXES)}"})
            continue
        size = temp_path.stat().st_size
        if size > max_bytes:
            report.rejected.append({"file": original, "error": f"{size / 1048576:.1f} MB is over the "
                                    f"{settings.max_file_mb:g} MB limit"})
            continue
        # Load under the final name (extension drives the loader) but in a scratch folder.
        with tempfile.TemporaryDirectory() as scratch:
            probe = Path(scratch) / name
            shutil.copyfile(temp_path, probe)
            try:
                # The OCR cache is keyed by content: a scan read here is not read again below.
                load_document(probe, max_bytes=max_bytes, ocr=ocr_options(settings))
            except LoadError as exc:
                report.rejected.append({"file": original, "error": str(exc).replace(str(probe), name)})
                continue
        dest_dir.mkdir(parents=True, exist_ok=True)
        target = dest_dir / name
        # Hidden while being written: an interrupted copy is never ingested half-written.
        partial = dest_dir / f".{name}.part"
        shutil.copyfile(temp_path, partial)
        partial.replace(target)
        kept.append(target)
        report.accepted.append(str(target))
    if kept:
        report.ingest = ingest_paths(kept, settings, kb=kb, progress=True)
    log.info("upload accepted=%d rejected=%d", len(report.accepted), len(report.rejected))
    return report


def safe_name(original: str) -> str:
    """A file name that stays inside the upload folder: no folders, no `..`, no control characters."""
    base = Path(original.replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base)
    base = re.sub(r"[\x00-\x1f/]", "", base).strip().lstrip(".")
    return base or "document"
