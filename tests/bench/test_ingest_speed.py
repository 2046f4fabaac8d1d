"""bench.ingest_speed: what each kind is counted in, and a row per kind with its rates."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.ingest_speed import measure
from ingest.ocr import OcrOptions
from tests.ingest import format_samples as samples


def test_each_kind_is_counted_in_its_own_units_with_rates(tmp_path: Path) -> None:
    files = {"csv": [samples.write_csv(tmp_path)], "eml": [samples.write_eml(tmp_path)],
             "pptx": [samples.write_pptx(tmp_path)]}
    rows = {row["kind"]: row for row in measure(files, 1, OcrOptions())}
    assert rows["eml"]["units"] == 3 and rows["eml"]["unit"] == "messages", "the reply and the two it quotes"
    assert rows["pptx"]["unit"] == "slides" and rows["pptx"]["units"] == 3
    assert rows["csv"]["unit"] == "rows" and rows["csv"]["units"] >= 2
    for row in rows.values():
        assert row["files"] == 1 and row["seconds"] > 0
        assert row["units_per_s"] == pytest.approx(row["units"] / row["seconds"], rel=0.02)
        assert len(str(row["units_per_s"]).replace(".", "").strip("0")) <= 3, "three significant digits"
