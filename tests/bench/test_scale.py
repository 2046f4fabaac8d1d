"""`python -m bench.scale` end to end on a tiny store (fake embedding vectors, real Chroma,
real catalog, the real reader on the answer path)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from bench import scale


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import kb.embeddings

    monkeypatch.setattr(kb.embeddings, "load_embeddings", lambda *args, **kwargs: DeterministicFakeEmbedding(size=32))


@pytest.mark.slow  # about a minute on 2 loaded cores: the corpus is loaded and the reader runs
def test_bench_scale_prints_and_writes_every_figure_at_200_passages(fake_model, tmp_path: Path, capsys) -> None:
    out = tmp_path / "scale.json"
    assert scale.main(["--sizes", "120", "200", "--modes", "embedded", "--questions", "3", "--keep-stores",
                       "--work", str(tmp_path / "work"), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "PIAF" in printed and "| embedded | " in printed and "(baseline)" in printed
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert [r["size"] for r in rows] == [120, 200]
    for row in rows:
        assert row["passages"] >= row["size"]
        assert row["ingest"]["passages_per_s"] > 0 and row["disk_mb"] > 0
        for key in ("answer_ms", "answer_cpu_ms", "retrieve_ms", "keyword_ms", "keyword_unlimited_ms", "dense_ms",
                    "dense_cpu_ms"):
            assert 0 < row[key]["p50"] <= row[key]["p95"]
        assert 0 <= row["count_ms"]["p50"] <= row["count_ms"]["p95"] < 50  # a few index lookups
    store = tmp_path / "work" / "embedded" / "store"
    assert (store / "catalog.sqlite3").is_file()
    assert list((tmp_path / "work" / "cache").glob("pool-*.npy")), "the pool vectors are cached"
    assert "computed once and cached" in printed and "all terms" in printed
    # The kept copies are measured again without building, with the ingestion figures recorded.
    kept = tmp_path / "kept.json"
    assert scale.main(["--measure-kept", "--sizes", "200", "--questions", "2", "--work", str(tmp_path / "work"),
                       "--json", str(kept)]) == 0
    again = json.loads(kept.read_text(encoding="utf-8"))["rows"]
    assert [(r["size"], r["passages"], r["ingest"]) for r in again] == [(200, rows[1]["passages"], rows[1]["ingest"])]
    assert rows[1]["ingest"]["write_batch"] == scale.WRITE_BATCH
    # The same kept stores, alternated, with their vectors served by a Chroma server each.
    served = tmp_path / "served.json"
    assert scale.main(["--measure-kept", "--modes", "server", "--sizes", "120", "200", "--questions", "2",
                       "--work", str(tmp_path / "work"), "--json", str(served)]) == 0
    server_rows = json.loads(served.read_text(encoding="utf-8"))["rows"]
    assert [(r["mode"], r["size"], r["passages"]) for r in server_rows] == [
        ("server", 120, rows[0]["passages"]), ("server", 200, rows[1]["passages"])]
    assert all(r["ingest"]["built"] == "embedded" and 0 < r["dense_cpu_ms"]["p50"] for r in server_rows)
    assert "(embedded build)" in capsys.readouterr().out
    # A kept store grown further (written one document at a time here, in batches above) holds what
    # the build from scratch wrote: the synthetic stream is replayed past the documents it holds.
    kept_120 = tmp_path / "work" / "embedded" / "store-120"
    grown = tmp_path / "grown.json"
    assert scale.main(["--modes", "embedded", "--sizes", "200", "--questions", "1", "--write-batch", "0",
                       "--grow-from", str(kept_120), "--work", str(tmp_path / "work2"), "--json", str(grown)]) == 0
    row = json.loads(grown.read_text(encoding="utf-8"))["rows"][0]
    assert (row["passages"], row["ingest"]["grown_from"], row["ingest"]["write_batch"]) == (rows[1]["passages"], str(kept_120), 0)
    assert _contents(tmp_path / "work2" / "embedded" / "store") == _contents(tmp_path / "work" / "embedded" / "store-200")
    assert scale.main(["--modes", "embedded", "--sizes", "150", "--questions", "1", "--grow-from",
                       str(tmp_path / "work" / "embedded" / "store-200"), "--work", str(tmp_path / "work3"),
                       "--json", str(grown)]) == 1
    assert "already holds" in capsys.readouterr().err


def _contents(store: Path) -> tuple[dict, set]:
    """Every document's text and every vector id of an embedded store."""
    import dataclasses

    from kb.settings import Settings
    from kb.store import KnowledgeBase

    kb = KnowledgeBase(dataclasses.replace(Settings.from_env(), store=store, chroma_host=None))
    try:
        return {doc_id: kb.document_text(doc_id) for doc_id in kb.documents()}, kb.vector_ids()
    finally:
        kb.close()


def test_bench_scale_refuses_sizes_out_of_order(capsys) -> None:
    assert scale.main(["--sizes", "1000", "200"]) == 1
    assert "increasing" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--grow-from", "kept", "--modes", "embedded", "server"], "--grow-from: give --modes embedded"),
    (["--grow-from", "kept", "--modes", "embedded", "--measure-kept"], "--grow-from: give --modes embedded"),
    (["--grow-from", "nowhere", "--modes", "embedded"], "is not a kept embedded store"),
    (["--write-batch", "-1"], "--write-batch: give 0 or a positive"),
    (["--postgres", "--measure-kept"], "--postgres: not with --measure-kept or --grow-from"),
])
def test_bench_scale_refuses_what_it_cannot_grow(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "catalog.sqlite3").touch()
    args = [str(tmp_path / a) if a in ("kept", "nowhere") else a for a in args]
    assert scale.main(args) == 1
    assert message in capsys.readouterr().err


def test_process_cpu_counts_every_thread_of_another_process() -> None:
    import os
    import time

    busy = time.process_time()
    while time.process_time() - busy < 0.3:
        pass
    assert scale._process_cpu_s(os.getpid()) >= 0.3
    assert scale._process_cpu_s(2 ** 30) == 0.0  # no such process


@pytest.mark.slow
@pytest.mark.server  # a throwaway PostgreSQL cluster
def test_bench_scale_measures_the_postgresql_catalog(fake_model, tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    assert scale.main(["--postgres", "--modes", "embedded", "--sizes", "120", "--questions", "1",
                       "--work", str(tmp_path / "work"), "--json", str(out)]) == 0
    row = json.loads(out.read_text(encoding="utf-8"))["rows"][0]
    assert row["passages"] >= 120 and 0 < row["keyword_ms"]["p50"]
    catalog_free = scale._disk_mb(tmp_path / "work" / "embedded" / "store")
    assert row["disk_mb"] > catalog_free, "the PostgreSQL database counts in the disk used"
    assert not (tmp_path / "work" / "embedded" / "store" / "catalog.sqlite3").exists()


def test_clocks_count_the_cpu_of_a_server_and_of_a_servers_children() -> None:
    import os
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time\nend = time.process_time() + 0.4\n"
                              "while time.process_time() < end: pass\ntime.sleep(30)"])
    try:
        assert child.pid in scale._children(os.getpid())
        with scale._server_counted(os.getpid(), children=True):
            clock = scale._Clock()
            time_spent = 0.0
            import time
            started = time.monotonic()
            while time_spent < 0.3 and time.monotonic() - started < 20:
                time.sleep(0.05)  # this process idles: only the child works
                time_spent = clock.lap()[1] / 1000
        assert time_spent >= 0.3, "the child's CPU time counts"
        assert scale._Clock.servers == [], "counted only inside the block"
    finally:
        child.kill()
        child.wait()
