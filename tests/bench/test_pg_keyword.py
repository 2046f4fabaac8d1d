"""bench.pg_keyword: the old and the current PostgreSQL ranking query timed side by side."""

from __future__ import annotations

import re

import pytest


@pytest.mark.slow  # about half a minute: the corpus and PIAF's sentences are loaded
@pytest.mark.server  # a throwaway PostgreSQL cluster
def test_bench_pg_keyword_prints_both_queries_and_that_they_rank_alike(capsys) -> None:
    from bench import pg_keyword

    assert pg_keyword.main(["--sizes", "150", "--questions", "4"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if re.match(r"\| [\d,]+ \|", line)]
    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert int(cells[0].replace(",", "")) >= 150
    for cell in cells[1:5]:  # p50/p95 of old and new, CPU and wall
        p50, p95 = (float(x) for x in cell.split("/"))
        assert 0 <= p50 <= p95
    measured = int(cells[5].split(" of ")[1])
    assert measured > 0 and cells[5] == f"0 of {measured}"
