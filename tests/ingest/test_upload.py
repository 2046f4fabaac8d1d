"""Uploads are checked before anything is written, then go through the ingestion pipeline."""

from __future__ import annotations

from pathlib import Path

from ingest.upload import ingest_uploads, safe_name
from kb.settings import Settings
from kb.store import KnowledgeBase
from tests.ingest.samples import MD_PROTOCOL


def test_good_file_kept_and_ingested_bad_ones_reported(tmp_path: Path, fake_kb: KnowledgeBase) -> None:
    settings = fake_kb.settings.with_overrides(corpus=tmp_path / "corpus", max_file_mb=0.01)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "a").write_text(MD_PROTOCOL, encoding="utf-8")
    (incoming / "b").write_bytes(b"\x00\xff not a pdf" * 10)
    (incoming / "c").write_text("x", encoding="utf-8")
    (incoming / "d").write_text("word " * 5000, encoding="utf-8")
    report = ingest_uploads([(incoming / "a", "../../protocole.md"), (incoming / "b", "scan.pdf"),
                             (incoming / "c", "tableur.xyz"), (incoming / "d", "long.txt")], settings, fake_kb)
    assert report.accepted == [str(tmp_path / "corpus" / "uploads" / "protocole.md")]
    errors = {r["file"]: r["error"] for r in report.rejected}
    assert "scan.pdf" in errors and "PDF" in errors["scan.pdf"]
    assert errors["tableur.xyz"].startswith("unsupported type .xyz")
    assert "over the 0.01 MB limit" in errors["long.txt"]
    assert report.ingest.added == 1 and report.ingest.failed == 0
    assert [r.title for r in fake_kb.documents().values()] == ["Protocole d'accord SENUM"]
    assert sorted(p.name for p in (tmp_path / "corpus" / "uploads").iterdir()) == ["protocole.md"]


def test_a_bad_upload_never_replaces_a_good_file(tmp_path: Path, fake_kb: KnowledgeBase) -> None:
    settings: Settings = fake_kb.settings.with_overrides(corpus=tmp_path / "corpus")
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text(MD_PROTOCOL, encoding="utf-8")
    bad.write_bytes(b"")
    ingest_uploads([(good, "protocole.md")], settings, fake_kb)
    report = ingest_uploads([(bad, "protocole.md")], settings, fake_kb)
    assert report.accepted == [] and "empty" in report.rejected[0]["error"]
    assert (tmp_path / "corpus" / "uploads" / "protocole.md").read_text(encoding="utf-8") == MD_PROTOCOL
    assert len(fake_kb.documents()) == 1


def test_safe_name_stays_in_the_folder() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\note finale é.md") == "note finale é.md"
    assert safe_name("..") == "document" and safe_name(".cachée.md") == "cachée.md"
    assert safe_name("a\x00b\x1f.md") == "ab.md"
