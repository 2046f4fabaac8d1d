"""Indexing: bring the knowledge base in line with a set of files, incrementally.

Unchanged files (same hash of file + sidecar) are skipped without loading the model;
changed files are re-split, re-embedded and replace their previous chunks; with
`prune`, documents whose files are gone are removed. A bad file is reported and
never stops the others.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable

from ingest.load import LoadError, document_id, file_fingerprint, load_document
from ingest.metadata import SIDECAR_SUFFIX
from ingest.ocr import ocr_options
from ingest.quotes import cut_short, mark_unsettled, note_left_out, settle_quotes
from ingest.quotes import without_stored_quotes as _without_stored_quotes
from ingest.roadmap import EXTRACTOR_VERSION, extract_mentions, signature_date
from kb.commitments import meaning_text
from ingest.split import answer_sentences, split_document
from kb.schema import Chunk, LoadedDocument
from kb.settings import Settings
from kb.store import DocumentRecord, KnowledgeBase

log = logging.getLogger(__name__)

# Documents are embedded and written in groups of about this many chunks, which bounds
# memory and the work an interruption can lose.
GROUP_CHUNKS = 256


class IngestError(Exception):
    """The ingestion as a whole cannot run (bad arguments, store unusable)."""


@dataclass
class IngestReport:
    """What an ingestion did; `as_json()` gives the documented JSON shape."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    total: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    ocr: list[dict[str, Any]] = field(default_factory=list)  # pages read by OCR: path, page, confidence, indexed
    seconds: float = 0.0
    dry_run: bool = False

    def as_json(self) -> dict[str, Any]:
        """The report as the `--json` object."""
        return {
            "documents": {
                "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "removed": self.removed, "failed": self.failed, "total": self.total,
            },
            "chunks": {"added": self.chunks_added, "removed": self.chunks_removed, "total": self.chunks_total},
            "errors": list(self.errors),
            "ocr": list(self.ocr),
            "seconds": round(self.seconds, 3),
        }


def ingest_paths(
    paths: Iterable[Path],
    settings: Settings,
    *,
    prune: bool = False,
    reset: bool = False,
    dry_run: bool = False,
    progress: bool = True,
    kb: KnowledgeBase | None = None,
) -> IngestReport:
    """Ingest files and folders into the store named by `settings`; returns the report."""
    started = time.monotonic()
    roots = [Path(p) for p in paths] or [settings.corpus]
    for root in roots:
        if not root.exists():
            raise IngestError(f"{root}: no such file or folder")
    kb = kb or KnowledgeBase(settings)
    report = IngestReport(dry_run=dry_run)
    if dry_run:
        _plan(kb, roots, prune, reset, report)
    else:
        with kb.ingest_lock():
            if reset:
                kb.reset()
                log.info("store reset store=%s", settings.store)
            _run(kb, roots, prune, report, progress)
            kb.mark_ingested()
    report.seconds = time.monotonic() - started
    return report


def discover(roots: list[Path], report: IngestReport) -> list[Path]:
    """Files to ingest under `roots`, sorted; hidden files and sidecars are skipped."""
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
            continue
        # followlinks=False: a symlinked folder could loop back on itself.
        for folder, dirnames, filenames in os.walk(root, onerror=lambda e: _walk_error(e, report)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith(".") or name.endswith(SIDECAR_SUFFIX):
                    continue
                found.append(Path(folder) / name)
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(document_id(path), path)
    return list(unique.values())


def _walk_error(error: OSError, report: IngestReport) -> None:
    report.failed += 1
    report.errors.append({"path": str(error.filename), "error": f"cannot list the folder: {error.strerror}"})


def _fingerprints(files: list[Path], report: IngestReport) -> list[tuple[Path, str, str]]:
    result = []
    for path in files:
        try:
            result.append((path, document_id(path), file_fingerprint(path)))
        except OSError as exc:
            report.failed += 1
            report.errors.append({"path": str(path), "error": f"cannot read the file: {exc.strerror or exc}"})
    return result


def _gone(kb: KnowledgeBase, roots: list[Path], present: set[str]) -> list[str]:
    """Ids of catalogued documents under `roots` whose files no longer exist."""
    prefixes = [document_id(r) for r in roots]
    gone = []
    for doc_id, record in kb.documents().items():
        under = any(doc_id == p or doc_id.startswith(p.rstrip("/") + "/") for p in prefixes)
        if under and doc_id not in present and not Path(record.path).exists():
            gone.append(doc_id)
    return gone


def _plan(kb: KnowledgeBase, roots: list[Path], prune: bool, reset: bool, report: IngestReport) -> None:
    known = {} if reset or not kb.exists else kb.documents()
    files = _fingerprints(discover(roots, report), report)
    for path, doc_id, digest in files:
        record = known.get(doc_id)
        if record is not None and record.file_hash == digest:
            report.unchanged += 1
            continue
        try:
            # A dry run writes nothing, not even the OCR cache.
            doc = load_document(path, max_bytes=_max_bytes(kb.settings), file_hash=digest,
                                ocr=ocr_options(kb.settings, cache=False))
        except LoadError as exc:
            _fail(report, path, str(exc))
            continue
        except Exception as exc:  # same policy as a real run: report and go on
            _fail(report, path, f"could not be read ({type(exc).__name__}: {str(exc)[:200]})")
            continue
        n = len(split_document(_without_stored_quotes(kb, doc), kb.settings.chunk_size, kb.settings.chunk_overlap))
        report.chunks_added += n
        if record is None:
            report.added += 1
        else:
            report.updated += 1
            report.chunks_removed += record.chunks
    if prune and known:
        for doc_id in _gone(kb, roots, {d for _, d, _ in files}):
            report.removed += 1
            report.chunks_removed += known[doc_id].chunks
    remaining = len(known) - report.removed + report.added
    report.total = remaining
    report.chunks_total = sum(r.chunks for r in known.values()) - report.chunks_removed + report.chunks_added


def _run(kb: KnowledgeBase, roots: list[Path], prune: bool, report: IngestReport, progress: bool) -> None:
    kb.recover()
    resumed = cut_short(kb)  # an earlier run wrote without settling quoted copies
    known = kb.documents()
    files = _fingerprints(discover(roots, report), report)
    changed = []
    anchors: dict[str, str] = {}  # document id -> roadmap stamp its commitments were extracted with
    for path, doc_id, digest in files:
        record = known.get(doc_id)
        if record is not None and record.file_hash == digest:
            report.unchanged += 1
        else:
            changed.append((path, digest, record is not None))

    if changed:
        from tqdm import tqdm

        mark_unsettled(kb)
        bar = tqdm(total=len(changed), unit="file", desc="Ingesting", disable=not progress, dynamic_ncols=True)
        group: list[tuple[LoadedDocument, list[Chunk], bool]] = []
        for path, digest, is_update in changed:
            bar.set_postfix_str(path.name[-40:], refresh=False)
            try:
                doc = _loaded(kb, path, digest)
                chunks = split_document(doc, kb.settings.chunk_size, kb.settings.chunk_overlap)
            except LoadError as exc:
                _fail(report, path, str(exc))
                bar.update(1)
                continue
            except Exception as exc:  # a parser bug on a strange file must not stop the others
                log.debug("unexpected failure on %s", path, exc_info=True)
                _fail(report, path, f"could not be read ({type(exc).__name__}: {str(exc)[:200]})")
                bar.update(1)
                continue
            _note(report, path, doc)
            group.append((doc, chunks, is_update))
            group += _attachments(kb, doc, known, report)
            if sum(len(c) for _, c, _ in group) >= GROUP_CHUNKS:
                _write_group(kb, group, report, bar, anchors)
                group = []
        if group:
            _write_group(kb, group, report, bar, anchors)
        bar.close()

    if prune:
        for doc_id in _gone(kb, roots, {d for _, d, _ in files}):
            mark_unsettled(kb)
            report.chunks_removed += kb.remove_document(doc_id)
            report.removed += 1
            log.info("pruned document=%s", doc_id)
    _settle(kb, report, anchors, resumed)
    _refresh_commitments(kb, anchors)
    report.total = len(kb.documents())
    report.chunks_total = kb.chunk_count()


def _attachments(kb: KnowledgeBase, doc: LoadedDocument, known: dict, report: IngestReport
                 ) -> list[tuple[LoadedDocument, list[Chunk], bool]]:
    """The documents attached to `doc` (an e-mail's files), split, to be written beside it; the
    attachments it had before and no longer has are removed."""
    current = {child.doc_id for child in doc.attachments}
    for doc_id, record in known.items():
        if record.path == doc.path and doc_id != doc.path and doc_id not in current:
            report.chunks_removed += kb.remove_document(doc_id)
            report.removed += 1
    return [(child, split_document(child, kb.settings.chunk_size, kb.settings.chunk_overlap), child.doc_id in known)
            for child in doc.attachments]


def _settle(kb: KnowledgeBase, report: IngestReport, anchors: dict[str, str], resumed: bool) -> None:
    """Settle the quoted copies after this run's writes (`ingest.quotes.settle_quotes`): the
    e-mails concerned are written again like any document, counted in the passages only."""
    settle_quotes(kb, lambda doc_id, record: _stored_file(kb, doc_id, record),
                  lambda doc: split_document(doc, kb.settings.chunk_size, kb.settings.chunk_overlap),
                  lambda doc, chunks: _write_group(kb, [(doc, chunks, True)], report, None, anchors, counted=False),
                  written=None if resumed else set(anchors), removed=resumed or bool(report.updated or report.removed))


def _loaded(kb: KnowledgeBase, path: Path, digest: str) -> LoadedDocument:
    """The file at `path` as it is to be indexed: without the quoted messages the store already
    holds (the document is then listed as having left one out before it is written)."""
    doc = load_document(path, max_bytes=_max_bytes(kb.settings), file_hash=digest, ocr=ocr_options(kb.settings))
    kept = _without_stored_quotes(kb, doc)
    if kept is not doc:
        note_left_out(kb, doc.doc_id)
    return kept


def _stored_file(kb: KnowledgeBase, doc_id: str, record: DocumentRecord) -> LoadedDocument | None:
    """A catalogued document read again from its file, for settling its quoted copies; None when
    the file cannot be read or changed since (its next ingestion settles it)."""
    try:
        doc = load_document(Path(record.path), max_bytes=_max_bytes(kb.settings), ocr=ocr_options(kb.settings))
    except (LoadError, OSError) as exc:
        log.warning("quoted messages of %s left as they were: %s", record.path, exc)
        return None
    if doc.file_hash != record.file_hash:
        return None
    doc.doc_id, doc.path = doc_id, record.path
    return doc


def _note(report: IngestReport, path: Path, doc: LoadedDocument) -> None:
    """Add what loading `doc` noticed to the report: its warnings and its pages read by OCR."""
    for warning in doc.warnings:
        report.warnings.append({"path": str(path), "warning": warning})
        log.warning("%s: %s", path, warning)
    report.ocr += [{"path": str(path), "page": p.page, "confidence": p.confidence, "indexed": p.indexed}
                   for p in doc.ocr]


def _write_group(kb: KnowledgeBase, group: list[tuple[LoadedDocument, list[Chunk], bool]], report: IngestReport, bar,
                 anchors: dict[str, str], counted: bool = True) -> None:
    """Embed and write a group of documents (both stores, `KnowledgeBase.replace_document`).
    `counted`: the report counts them as added or updated files (not when an unchanged file is
    written again to settle its quoted copies: only its passages count then); `bar` may be None."""
    signed = _signature(kb, [doc for doc, _, _ in group])
    mentions = [extract_mentions(doc, signed=signed) for doc, _, _ in group]
    texts, sentences = _batch_texts(group, mentions)
    vectors = kb.embeddings.embed_documents(texts) if texts else []
    if vectors:
        kb.check_dimension(len(vectors[0]))
    parts = _per_document(vectors, [[len(c) for _, c, _ in group], [len(s) for s in sentences],
                                    [len(m) for m in mentions]])
    for (doc, chunks, is_update), spans, found, (chunk_vectors, sentence_vectors, mention_vectors) in zip(
            group, sentences, mentions, parts):
        added, removed = kb.replace_document(doc, chunks, chunk_vectors, spans, sentence_vectors, mentions=found,
                                             mention_vectors=mention_vectors)
        anchors[doc.doc_id] = _stamp(signed)
        report.chunks_added += added
        report.chunks_removed += removed
        if counted:
            report.updated += is_update
            report.added += not is_update
        log.debug("ingested document=%s chunks=%d sentences=%d", doc.doc_id, len(chunks), len(spans))
        if bar is not None and doc.doc_id == doc.path:  # an attachment is no file of its own on the bar
            bar.update(1)


def _batch_texts(group: list[tuple[LoadedDocument, list[Chunk], bool]], mentions: list[list]
                 ) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """What one batch embeds, in order: every chunk, every answer sentence, every mention's
    action; and each document's sentence spans."""
    texts: list[str] = []
    sentences: list[list[tuple[int, int]]] = []
    for doc, chunks, _ in group:
        texts.extend(c.embedding_text(doc.meta.title) for c in chunks)
    for doc, _, _ in group:
        spans = answer_sentences(doc)
        sentences.append([(start, end) for start, end, _ in spans])
        # Out of context a sentence loses its subject ("It meets twice a year"); the title
        # and section put it back (measured: gold sentence first 0.33 -> 0.56 on the question set).
        texts.extend(_in_context(doc.meta.title, section, doc.text[start:end]) for start, end, section in spans)
    # The register compares mentions by their actions' vectors (bot.roadmap_links), embedded without
    # the document's title (it would make every mention of one document alike).
    texts.extend(meaning_text(m.action, m.owner) for found in mentions for m in found)
    return texts, sentences


def _per_document(vectors: list, sizes: list[list[int]]) -> list[tuple[list, ...]]:
    """The vectors of one batch cut back per document: `sizes` gives, for each kind of text in
    batch order (chunks, sentences, mentions), how many each document has."""
    cursor, cut = 0, []
    for counts in sizes:
        pieces = []
        for count in counts:
            pieces.append(vectors[cursor : cursor + count])
            cursor += count
        cut.append(pieces)
    return list(zip(*cut))


def _signature(kb: KnowledgeBase, extra: list[LoadedDocument] = ()) -> date | None:
    """The memoranda's signature date, anchor of "after signature" deadlines, from the
    protocols in the catalog and those being written."""
    known = [(r.doc_type, date.fromisoformat(r.date) if r.date else None) for r in kb.documents().values()]
    return signature_date(known + [(d.meta.doc_type, d.meta.date) for d in extra])


def _stamp(signed: date | None) -> str:
    return f"{EXTRACTOR_VERSION}|{signed.isoformat() if signed else ''}"


def _refresh_commitments(kb: KnowledgeBase, written: dict[str, str]) -> None:
    """Re-extract the commitments of documents extracted with an older extractor or
    another signature date (a protocol ingested after them). The documents are not embedded
    again, only their mentions' actions (the model is loaded when some are found).

    `written` maps the documents written by this run to the stamp they were extracted with.
    """
    signed = _signature(kb)
    stamp = _stamp(signed)
    previous = kb.get_meta("roadmap_stamp")
    refreshed = 0
    for doc_id, record in kb.documents().items():
        if written.get(doc_id, previous) == stamp:
            continue
        try:
            doc = load_document(Path(record.path), max_bytes=_max_bytes(kb.settings), ocr=ocr_options(kb.settings))
        except (LoadError, OSError) as exc:
            log.warning("commitments of %s kept as they were: %s", record.path, exc)
            continue
        if doc.file_hash != record.file_hash:
            continue  # changed since: its next ingestion extracts it
        if doc_id != record.path:  # an e-mail's attachment: the message's file holds it
            doc = next((child for child in doc.attachments if child.doc_id == doc_id), None)
            if doc is None:
                continue
        doc.doc_id = doc_id
        mentions = extract_mentions(doc, signed=signed)
        vectors = kb.embeddings.embed_documents([meaning_text(m.action, m.owner) for m in mentions]) if mentions else []
        kb.replace_mentions(doc, mentions, vectors)
        refreshed += 1
    kb.set_meta("roadmap_stamp", stamp)
    if refreshed:
        log.info("commitments refreshed documents=%d", refreshed)


def _in_context(title: str, section: str, sentence: str) -> str:
    head = " — ".join(part for part in (title, section) if part)
    return f"{head}: {sentence}" if head else sentence


def _fail(report: IngestReport, path: Path, message: str) -> None:
    report.failed += 1
    report.errors.append({"path": str(path), "error": message})
    log.error("%s: %s", path, message)


def _max_bytes(settings: Settings) -> int:
    return int(settings.max_file_mb * 1024 * 1024)
