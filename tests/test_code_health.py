"""Limits the product code keeps: no function above cyclomatic complexity 15, no file above
500 lines (kb/, ingest/, bot/, ui/, app.py; measured with radon, as `radon cc` reports it)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = sorted([ROOT / "app.py", *(p for d in ("kb", "ingest", "bot", "ui") for p in (ROOT / d).rglob("*.py"))])
MAX_COMPLEXITY = 15
MAX_LINES = 500


def test_the_product_files_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in PRODUCT}
    assert {"app.py", "kb/store.py", "bot/answering/pipeline.py", "ingest/index.py"} <= names


@pytest.mark.parametrize("path", PRODUCT, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_function_above_the_complexity_limit(path: Path) -> None:
    from radon.complexity import cc_visit

    def blocks(items):
        for block in items:
            yield block
            yield from blocks(getattr(block, "methods", []) + getattr(block, "closures", []))

    too_complex = sorted({(b.fullname, b.complexity) for b in blocks(cc_visit(path.read_text(encoding="utf-8")))
                          if b.complexity > MAX_COMPLEXITY})
    assert not too_complex, f"{path.name}: split these (complexity > {MAX_COMPLEXITY}): {too_complex}"


@pytest.mark.parametrize("path", PRODUCT, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_file_above_the_line_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines (limit {MAX_LINES}): split it by concern"
