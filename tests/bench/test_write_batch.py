"""`python -m bench.write_batch`: both ways write the same kind of documents into a real store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench import write_batch
from bench.synthetic import Pool, SyntheticDocuments
from kb.store import KnowledgeBase


def _pool() -> Pool:
    rng = np.random.default_rng(3)
    sentences = {lang: [f"Phrase {lang} numéro {n} sur la coopération numérique et ses échéances." for n in range(count)]
                 for lang, count in (("fr", 40), ("en", 20))}
    vectors = {lang: rng.normal(size=(len(texts), 32)).astype(np.float32) for lang, texts in sentences.items()}
    return Pool(sentences, vectors, ["Dossier A", "Dossier B"])


def test_compare_writes_writes_both_ways_alternated_into_one_consistent_store(fake_kb: KnowledgeBase) -> None:
    synthetic = SyntheticDocuments(_pool(), 300, 30, seed=1)
    totals = write_batch.compare_writes(fake_kb, synthetic, rounds=2, passages=60)
    assert set(totals) == set(write_batch.WAYS)
    for total in totals.values():
        assert total["passages"] >= 2 * 60 and total["passages_per_s"] > 0 and total["passages_per_cpu_s"] > 0
    assert fake_kb.chunk_count() == sum(t["passages"] for t in totals.values())
    assert fake_kb.vector_ids() == set(fake_kb.chunk_documents()), "both stores hold the same passages"
    assert not fake_kb.catalog.pending()


def test_write_batch_refuses_a_folder_that_is_no_store(tmp_path: Path, capsys) -> None:
    assert write_batch.main(["--store", str(tmp_path), "--pool-stores", str(tmp_path)]) == 1
    assert "is not an embedded store" in capsys.readouterr().err
