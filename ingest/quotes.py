"""Quoted earlier messages: each indexed once across the store, whatever the order of ingestion.

A reply's quoted earlier message (a section headed `kb.schema.QUOTED_HEADING`) is indexed only
when no other document holds it. Two copies of one message are recognised by the start of its
body: a keyword search for it finds a passage of another document that holds it, spacing and case
aside (`stored_elsewhere`).

`without_stored_quotes` leaves such messages out of a document being ingested. The store changes
after that, so a run that wrote or removed anything ends with `settle_quotes`, which brings the
documents holding quoted copies back in line:
- an original ingested after the reply that quotes it: the reply's quoted copy goes;
- two replies quoting one message written in the same run: the copy of the first (by id) goes;
- an original (or the one quoted copy kept) removed or changed: a reply that had left the message
  out indexes it again, so what only it says can still be asked about.
The documents that left a quoted message out are listed in the catalog's meta table
(`LEFT_OUT_META`), written before the document itself, so the list holds at least every such
document even after an interruption; `UNSETTLED_META` marks a run whose writes have not been
settled yet, so an interrupted run is settled by the next one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any, Callable, Collection

from kb.schema import Block, Chunk, LoadedDocument, is_quoted_section

log = logging.getLogger(__name__)

# Catalog meta keys (values: a JSON list of document ids; "1" while a run's writes are unsettled).
LEFT_OUT_META = "quotes_left_out"
UNSETTLED_META = "quotes_unsettled"
# Files that may hold quoted messages: the documents a store built before `LEFT_OUT_META` existed
# may have left one out (looked at once, when the list is first written).
MAIL_SUFFIXES = (".eml", ".msg", ".txt")
# Characters of a quoted message's body the keyword search looks for.
PROBE_CHARS = 200
# Past this many documents written by a run, every e-mail holding a quoted copy is read again
# rather than only those whose quoted message starts in a written text (a large run: its own
# writes cost far more than that).
TARGETED_MAX = 200


def without_stored_quotes(kb: Any, doc: LoadedDocument) -> LoadedDocument:
    """`doc` without the quoted earlier messages the store already holds (their original message
    ingested, or another thread quoting them): a quoted message is indexed once, when it is
    nowhere else. `kb` needs `keyword_search` and `chunks_by_id` only."""
    if not doc.quoted_blocks:
        return doc
    kept: list[Block] = []
    for post in quoted_posts(doc):
        body = " ".join(doc.text[b.start : b.end] for b in post if b.kind != "heading")
        if body and stored_elsewhere(kb, doc.doc_id, body):
            log.info("quoted message already stored document=%s section=%s", doc.doc_id, post[0].section)
            continue
        kept += post
    return replace(doc, quoted_blocks=kept) if len(kept) < len(doc.quoted_blocks) else doc


def quoted_posts(doc: LoadedDocument) -> list[list[Block]]:
    """The quoted earlier messages of `doc`, each as its blocks (its heading first)."""
    posts: list[list[Block]] = []
    for block in doc.quoted_blocks:
        if block.starts_chunk or not posts:  # a quoted message's heading opens it
            posts.append([])
        posts[-1].append(block)
    return posts


def stored_elsewhere(kb: Any, doc_id: str, body: str) -> bool:
    """Does a passage of another document hold the start of `body` (spacing and case aside)?
    The document's own passages and its attachments' do not count."""
    from kb.search_filter import SearchFilter

    probe = body[:PROBE_CHARS]
    hits = kb.keyword_search(probe, 5, SearchFilter.for_role("official"))
    wanted = _squashed(probe)
    return any(row["doc_id"] != doc_id and not row["doc_id"].startswith(doc_id + "#") and wanted in _squashed(row["text"])
               for row in kb.chunks_by_id([chunk_id for chunk_id, _ in hits]).values())


def _squashed(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def left_out(kb: Any) -> set[str] | None:
    """The documents listed as having left a quoted message out; None when the store has no list
    yet (or an unreadable one)."""
    raw = kb.get_meta(LEFT_OUT_META)
    try:
        value = json.loads(raw) if raw is not None else None
    except ValueError:
        value = None
    if not isinstance(value, list):
        if raw is not None:
            log.warning("the list of e-mails that left a quoted message out is unreadable: it is rebuilt")
        return None
    return {str(doc_id) for doc_id in value}


def note_left_out(kb: Any, doc_id: str) -> None:
    """List `doc_id` as having left a quoted message out, before it is written without it."""
    listed = left_out(kb)
    # No list yet: the next settling builds it from every e-mail of the store, this one included.
    if listed is None or doc_id in listed:
        return
    _save(kb, listed | {doc_id})


def _save(kb: Any, doc_ids: set[str]) -> None:
    kb.set_meta(LEFT_OUT_META, json.dumps(sorted(doc_ids), ensure_ascii=False))


def mark_unsettled(kb: Any) -> None:
    """Note that this run is about to write: `settle_quotes` is due once its writes are done."""
    if kb.get_meta(UNSETTLED_META) != "1":
        kb.set_meta(UNSETTLED_META, "1")


def cut_short(kb: Any) -> bool:
    """Did an earlier run write without settling (interrupted)? Asked before this run writes."""
    return kb.get_meta(UNSETTLED_META) == "1"


def settle_quotes(
    kb: Any,
    load: Callable[[str, Any], LoadedDocument | None],
    split: Callable[[LoadedDocument], list[Chunk]],
    rewrite: Callable[[LoadedDocument, list[Chunk]], None],
    *,
    written: Collection[str] | None,
    removed: bool,
) -> int:
    """Bring the quoted copies of the store in line with what it holds now (see the module's
    docstring), if a run's writes are unsettled; returns the documents written again.

    `written`: the documents this run wrote (None: unknown, after a run cut short); an e-mail is
    looked at when one of them holds the start of a message it quotes. `removed`: the run removed
    or changed documents, so the e-mails that left a message out are looked at too.
    `load(doc_id, record)` reads a catalogued document's file again (None: unreadable or changed
    since, left as it is); `split` cuts a document into passages; `rewrite` writes one again
    (both stores, as an ingestion does)."""
    if kb.get_meta(UNSETTLED_META) != "1":
        return 0
    records = kb.documents()
    openings = kb.quoted_openings()
    listed = left_out(kb)
    if listed is None:  # a store built before the list: any e-mail may have left one out
        listed = {doc_id for doc_id, record in records.items() if record.path.lower().endswith(MAIL_SUFFIXES)}
        _save(kb, listed)
        removed = True
    candidates = _quoting_what_was_written(kb, openings, written) | (listed if removed else set())
    rewritten = 0
    for doc_id in sorted(candidates):
        record = records.get(doc_id)
        if record is None or record.path != doc_id:  # gone, or an attachment: left as written
            listed.discard(doc_id)
            continue
        doc = load(doc_id, record)
        if doc is None:
            continue
        kept = without_stored_quotes(kb, doc)
        if len(kept.quoted_blocks) < len(doc.quoted_blocks):
            if doc_id not in listed:
                listed.add(doc_id)
                _save(kb, listed)  # before the document is written without it
        else:
            listed.discard(doc_id)
        chunks = split(kept)
        if {c.section for c in chunks if is_quoted_section(c.section)} != set(openings.get(doc_id, {})):
            rewrite(kept, chunks)
            rewritten += 1
            log.info("quoted copies settled document=%s", doc_id)
    _save(kb, listed)
    kb.set_meta(UNSETTLED_META, "0")
    return rewritten


def _quoting_what_was_written(kb: Any, openings: dict[str, dict[str, str]], written: Collection[str] | None
                              ) -> set[str]:
    """The e-mails holding a quoted copy whose start a document of `written` (other than the
    e-mail itself) holds too: the only ones a run's writes can have given a second copy. Every
    e-mail holding a quoted copy when `written` is None or larger than `TARGETED_MAX`."""
    if written is None or len(written) > TARGETED_MAX:
        return set(openings)
    texts = {doc_id: _squashed(kb.document_text(doc_id) or "") for doc_id in written}
    found = set()
    for doc_id, sections in openings.items():
        keys = [_opening_key(section, passage) for section, passage in sections.items()]
        if any(key is None or key in text for other, text in texts.items() if other != doc_id for key in keys):
            found.add(doc_id)
    return found


def _opening_key(section: str, passage: str) -> str | None:
    """What `stored_elsewhere` looks for, spacing and case aside, read from the quoted message's
    first passage (its heading, the section, then its body): a passage's blocks are apart by at
    least one character, as the body's are by a space, so this is never longer than the probe.
    None if the passage does not start with its heading (the e-mail is looked at whatever was
    written)."""
    if not passage.startswith(section):
        return None
    return _squashed(passage[len(section) :].lstrip()[:PROBE_CHARS])
