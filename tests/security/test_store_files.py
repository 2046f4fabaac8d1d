"""Finding "store files readable by every local user": the store folder, Chroma's folder, the
catalog and the feedback are created for their owner only (users.json already was)."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_a_new_store_is_private(fake_settings, tmp_path) -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from bot.feedback import record_feedback
    from bot.users import add_user
    from ingest.index import ingest_paths
    from kb.store import KnowledgeBase

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text("---\ntitle: Note\naccess: restricted\n---\n\n# Note\n\nTexte restreint.\n")
    previous = os.umask(0o022)  # the usual umask: files 0644, folders 0755 unless asked otherwise
    try:
        kb = KnowledgeBase(fake_settings, embeddings=DeterministicFakeEmbedding(size=32))
        report = ingest_paths([corpus], fake_settings, kb=kb, progress=False)
        kb.close()
        record_feedback(fake_settings, question="q", answer={"answer": "a", "sources": []}, role="reader",
                        rating="up")
        add_user(fake_settings, "awa", "une phrase assez longue", "official")
    finally:
        os.umask(previous)
    assert report.failed == 0, report.errors
    store = fake_settings.store
    assert _mode(store) == "0o700" and _mode(store / "chroma") == "0o700"
    for name in ("catalog.sqlite3", "feedback.sqlite3", "users.json"):
        assert _mode(store / name) == "0o600", name
    for path in store.rglob("*"):
        assert not stat.S_IMODE(path.stat().st_mode) & 0o007 or path.parent != store, f"{path} is open to others"
