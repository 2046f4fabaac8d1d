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


def test_bench_scale_refuses_sizes_out_of_order(capsys) -> None:
    assert scale.main(["--sizes", "1000", "200"]) == 1
    assert "increasing" in capsys.readouterr().err
