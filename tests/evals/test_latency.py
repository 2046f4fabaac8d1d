"""`python -m evals.latency`'s command line and table (the answer path itself runs in
tests/bot/test_reader.py through the real reader)."""

from __future__ import annotations

from pathlib import Path

from evals import latency


def test_an_empty_store_is_reported_with_exit_code_1(tmp_path: Path, capsys) -> None:
    assert latency.main(["--store", str(tmp_path / "none"), "--limit", "2"]) == 1
    assert "is empty: run `python -m ingest`" in capsys.readouterr().err


def test_the_table_shows_each_pass_and_variant_and_the_changed_answers() -> None:
    runs = {f"pass {n}": {name: {"p50": 10.0 * n, "p95": 20.0 * n, "cpu_p50": 5.0} for name in latency.VARIANTS}
            for n in (1, 2)}
    unlike = {name: n for n, name in enumerate(latency.VARIANTS) if name != latency.DEFAULT}
    table = latency.format_comparison({"questions": 3, "passes": 2, "answers_changed": 1, "runs": runs,
                                       "unlike_default": unlike})
    assert table.count("| pass 2 |") == len(latency.VARIANTS)
    assert "| pass 1 | 24 units at once | 10.0 | 20.0 | 5.0 |" in table
    assert "answers that differ between the variants: 1" in table
    assert "unlike the default's (outcome, first quote, or confidence by more than 0.01): 24 units at once 0, 8 units, every unit read whole 1" in table
    assert latency.DEFAULT in latency.VARIANTS
