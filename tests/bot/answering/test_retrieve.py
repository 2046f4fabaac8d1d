"""Fusion of the dense and keyword rankings, diversification, and the PIAF benchmark."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.retrieve import FusionConfig, Passage, diversify, fuse

RRF = FusionConfig(method="rrf")
CONVEX = FusionConfig()  # the product's default


def ids(fused: list[tuple[str, float]]) -> list[str]:
    return [cid for cid, _ in fused]


# ----- fuse ----------------------------------------------------------------------------
def test_default_is_convex_fusion_of_min_max_scores() -> None:
    assert CONVEX.method == "convex"
    dense = [("a", 0.90), ("b", 0.85), ("c", 0.80)]
    keyword = [("c", 12.0), ("d", 6.0), ("e", 2.0)]
    fused = dict(fuse(dense, keyword, CONVEX))
    # a: dense 1, keyword absent (0); c: dense 0, keyword 1; b: dense 0.5; d: keyword 0.4.
    assert fused == pytest.approx({"a": 0.5, "c": 0.5, "b": 0.25, "d": 0.2, "e": 0.0})
    assert all(0.0 <= score <= 1.0 for score in fused.values())


def test_convex_ranking_order() -> None:
    dense = [("a", 0.88), ("b", 0.86), ("c", 0.80), ("d", 0.78)]
    keyword = [("b", 20.0), ("d", 15.0), ("e", 10.0)]
    # b: 0.5*0.8 + 0.5*1 = 0.9; d: 0 + 0.5*0.5 = 0.25; a: 0.5; c: 0.5*0.2 = 0.1; e: 0
    assert ids(fuse(dense, keyword, CONVEX)) == ["b", "a", "d", "c", "e"]


def test_rrf_ranking_order_and_scores() -> None:
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
    keyword = [("c", 9.0), ("d", 8.0)]
    fused = fuse(dense, keyword, FusionConfig(method="rrf", rrf_k=10))
    # c: 1/13 + 1/11 ; a: 1/11 ; d: 1/12 ; b: 1/12 (dense first on ties)
    assert ids(fused) == ["c", "a", "b", "d"]
    assert dict(fused)["c"] == pytest.approx(1 / 13 + 1 / 11)
    assert dict(fused)["a"] == pytest.approx(1 / 11)


@pytest.mark.parametrize("config", [RRF, CONVEX], ids=["rrf", "convex"])
def test_an_item_in_both_lists_beats_items_in_one(config: FusionConfig) -> None:
    dense = [("a", 0.91), ("both", 0.90), ("b", 0.89), ("c", 0.80)]
    keyword = [("k", 14.0), ("both", 13.5), ("j", 5.0)]
    assert ids(fuse(dense, keyword, config))[0] == "both"


@pytest.mark.parametrize("method", ["rrf", "convex"])
def test_weights(method: str) -> None:
    dense = [("d1", 0.9), ("d2", 0.8), ("d3", 0.7)]
    keyword = [("k1", 9.0), ("k2", 8.0), ("k3", 5.0), ("k4", 1.0)]
    dense_only = fuse(dense, keyword, FusionConfig(method=method, dense_weight=1.0, keyword_weight=0.0))
    assert ids(dense_only)[:3] == ["d1", "d2", "d3"]
    keyword_only = fuse(dense, keyword, FusionConfig(method=method, dense_weight=0.0, keyword_weight=1.0))
    assert ids(keyword_only)[:3] == ["k1", "k2", "k3"]
    # A heavier keyword side puts its top item ahead of the dense top item.
    leaning = fuse(dense, keyword, FusionConfig(method=method, dense_weight=1.0, keyword_weight=2.0))
    assert ids(leaning)[0] == "k1"


def test_rrf_weights_scale_contributions() -> None:
    fused = dict(fuse([("a", 0.5)], [("b", 3.0)], FusionConfig(method="rrf", rrf_k=60, dense_weight=2.0)))
    assert fused["a"] == pytest.approx(2 / 61)
    assert fused["b"] == pytest.approx(1 / 61)


@pytest.mark.parametrize("config", [RRF, CONVEX], ids=["rrf", "convex"])
def test_empty_and_one_sided_inputs(config: FusionConfig) -> None:
    assert fuse([], [], config) == []
    only_keyword = fuse([], [("x", 3.0), ("y", 1.0)], config)
    assert ids(only_keyword) == ["x", "y"]
    single = fuse([("x", 0.8)], [], config)
    assert ids(single) == ["x"] and single[0][1] > 0


def test_convex_with_equal_scores_gives_full_marks() -> None:
    fused = dict(fuse([("a", 0.8), ("b", 0.8)], [("a", 2.0)], CONVEX))
    assert fused == pytest.approx({"a": 1.0, "b": 0.5})


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="fusion method"):
        fuse([("a", 1.0)], [], FusionConfig(method="borda"))


# ----- diversify -----------------------------------------------------------------------
def passage(cid: str, doc: str, start: int, end: int, score: float, text: str | None = None) -> Passage:
    return Passage(
        chunk_id=cid, doc_id=doc, path=doc, title=doc, doc_type="report", date="", section="",
        page=None, text=text if text is not None else f"{cid} distinct words about topic {cid} number {start}",
        start=start, end=end, language="fr", access="public", score=score,
    )


def test_overlapping_chunks_of_one_document_keep_only_the_best() -> None:
    ranked = [
        passage("a1", "A", 0, 1000, 0.9),
        passage("a1-overlap", "A", 400, 1400, 0.8),  # 600 of 1000 characters shared with a1
        passage("b1", "B", 0, 900, 0.7),
        passage("a2", "A", 850, 1850, 0.6),  # overlaps a1 by 150 characters only: kept
    ]
    assert [p.chunk_id for p in diversify(ranked, 4)] == ["a1", "b1", "a2"]


def test_near_duplicate_passages_of_other_documents_are_dropped() -> None:
    text = "le comité de pilotage conjoint se réunit deux fois par an sous la présidence alternée"
    ranked = [
        passage("a1", "A", 0, 100, 0.9, text),
        passage("copy", "B", 0, 100, 0.8, text + " des parties"),
        passage("c1", "C", 0, 100, 0.7, "un texte entièrement différent sur le budget annuel"),
    ]
    assert [p.chunk_id for p in diversify(ranked, 3)] == ["a1", "c1"]


def test_per_document_cap_is_lifted_only_when_nothing_else_is_left() -> None:
    config = FusionConfig(max_per_document=2)
    ranked = [
        passage("a1", "A", 0, 500, 0.9),
        passage("a2", "A", 1000, 1500, 0.8),
        passage("a3", "A", 2000, 2500, 0.7),
        passage("b1", "B", 0, 500, 0.6),
    ]
    # Three slots: the third passage of A waits behind B's.
    assert [p.chunk_id for p in diversify(ranked, 3, config)] == ["a1", "a2", "b1"]
    # Five slots and only four passages: A's third comes back, in score order.
    assert [p.chunk_id for p in diversify(ranked, 5, config)] == ["a1", "a2", "a3", "b1"]


def test_diversify_stops_at_k() -> None:
    ranked = [passage(f"p{i}", f"D{i}", 0, 100, 1.0 - i / 10) for i in range(6)]
    assert [p.chunk_id for p in diversify(ranked, 3)] == ["p0", "p1", "p2"]


# ----- PIAF, through the real model ----------------------------------------------------
@pytest.mark.real_model
def test_run_piaf_small_sample(tmp_path: Path, real_model_path: Path) -> None:
    from evals.piaf import DEFAULT_PIAF, format_piaf, run_piaf

    if not DEFAULT_PIAF.is_file():
        pytest.skip(f"PIAF benchmark not found at {DEFAULT_PIAF}")
    result = run_piaf(DEFAULT_PIAF, tmp_path / "piaf", limit=40)
    assert result["questions"] == 40
    assert 40 <= result["documents"] <= 80
    rows = result["rows"]
    assert set(rows) == {"bm25", "dense", "hybrid"}
    for row in rows.values():
        assert set(row) == {"R@1", "R@5", "R@10", "MRR@10"}
        assert all(0.0 <= value <= 1.0 for value in row.values())
        assert row["R@1"] <= row["R@5"] <= row["R@10"]
    assert rows["hybrid"]["R@10"] >= max(rows["bm25"]["R@10"], rows["dense"]["R@10"]) - 0.1
    table = format_piaf(result)
    assert "hybrid" in table and "BM25" in table and "0.90" in table


# ----- what the reader reads: no free top score for the other language ----------------
class _Catalog:
    """Just enough of a KnowledgeBase for `rank_passages`: keyword hits and catalog rows."""

    def __init__(self, rows: dict[str, dict], keyword: list[tuple[str, float]]) -> None:
        self.rows, self.keyword = rows, keyword

    def keyword_search(self, query, k, where):
        return [(cid, s) for cid, s in self.keyword if where.language in (None, self.rows[cid]["language"])][:k]

    def chunks_by_id(self, ids):
        return {cid: self.rows[cid] for cid in ids if cid in self.rows}


def _row(cid: str, language: str) -> dict:
    return {"chunk_id": cid, "doc_id": cid, "path": f"{cid}.md", "title": cid, "doc_type": "other", "date": "",
            "section": "", "page": None, "text": cid, "start": 0, "end": 10, "language": language, "access": "public"}


def test_the_other_languages_best_passage_is_read_but_not_handed_the_top_score(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.answering.retrieve as retrieve_module
    from bot.answering.retrieve import rank_passages, reading_passages
    from kb.store import SearchFilter

    # Twenty French passages, the first one both dense and keyword best; one English passage
    # whose cosine is the lowest of the lot (the model prefers the question's language).
    french = [(f"fr{i}", 0.90 - 0.005 * i) for i in range(20)]
    english = [("en0", 0.79)]
    rows = {cid: _row(cid, "fr") for cid, _ in french} | {"en0": _row("en0", "en")}
    catalog = _Catalog(rows, [("fr0", 9.0), ("fr3", 7.0), ("fr5", 2.0)])

    def dense_search(kb, vector, k, where):
        hits = english if where.language == "en" else french + english
        return hits[:k]

    monkeypatch.setattr(retrieve_module, "dense_searches",
                        lambda kb, vector, searches: [dense_search(kb, vector, k, where) for k, where in searches])
    ranked = rank_passages(catalog, "question", SearchFilter(), query_vector=[0.0], language="fr")
    ids = [p.chunk_id for p in ranked]
    assert ids[0] == "fr0", "the passage best on both sides stays first"
    assert ids.index("en0") > 12, "the English passage is not handed a free top score"
    read = [p.chunk_id for p in reading_passages(ranked, 12, 2, "fr")]
    assert read[:12] == ids[:12] and "en0" in read, "yet the reader reads it, and judges it"
    assert "en0" not in [p.chunk_id for p in reading_passages(ranked, 12, 0, "fr")]


def test_the_reading_list_keeps_every_passage_of_one_document() -> None:
    from bot.answering.retrieve import reading_passages

    # Diversity caps a document at two passages in the sources list; the reader gets them all.
    ranked = [passage(f"a{i}", "a", 100 * i, 100 * i + 100, 1.0 - 0.01 * i) for i in range(5)]
    assert len(diversify(ranked, 3)) == 3 and [p.chunk_id for p in diversify(ranked, 5)][:2] == ["a0", "a1"]
    assert [p.chunk_id for p in reading_passages(ranked, 5, 2, "fr")] == ["a0", "a1", "a2", "a3", "a4"]
