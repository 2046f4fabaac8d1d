"""The issue 24 target set (evals/make_newformats.py, evals/data/newformats*) and the figures of
evals/newformats.py, without running the bot: the generator's files are read by the real
ingestion and hold the facts the questions expect; the twins are what the generator writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from evals import make_newformats as gen
from evals.corpus import holds, load_questions
from evals.newformats import QUESTIONS, summary, table, verdicts
from ingest.load import load_document
from kb.settings import PROJECT_ROOT

QUESTION_ROWS = load_questions(QUESTIONS)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    return gen.write_all(tmp_path_factory.mktemp("newformats"))


def _expected(kind: str) -> list[list[str]]:
    return [q["expected"] for q in QUESTION_ROWS if q["category"] == kind]


@pytest.mark.parametrize("kind", [k for k in gen.KINDS if k != "scan"])
def test_the_generated_file_is_read_by_the_ingestion_with_every_expected_fact(written, kind: str) -> None:
    path, _ = written[kind]
    doc = load_document(path, max_bytes=20 * 2**20)
    assert doc.meta.illustrative is True, doc.meta
    missing = [facts for facts in _expected(kind) if not holds(doc.text, facts)]
    assert not missing, (kind, missing, doc.text[:500])


def test_the_generated_scan_is_image_only_with_a_page_per_source_page(written) -> None:
    pages = PdfReader(written["scan"][0]).pages
    assert len(pages) == len(gen.SCAN_PAGES)
    assert all(not (page.extract_text() or "").strip() for page in pages)
    # Each question about the scan is answered by the text the scan was rendered from.
    reference = "\n".join(gen.scan_reference())
    assert all(holds(reference, facts) for facts in _expected("scan"))


def test_the_committed_twins_are_what_the_generator_writes(written) -> None:
    for kind, (_, twin) in written.items():
        committed = gen.ROOT / gen.TWINS / twin.name
        assert committed.read_text(encoding="utf-8") == twin.read_text(encoding="utf-8"), kind
        assert (gen.ROOT / gen.FILES / written[kind][0].name).is_file(), kind


def test_forty_questions_eight_per_kind_each_fact_in_its_twin_and_file_named() -> None:
    assert len(QUESTION_ROWS) == 40
    assert {k: sum(q["category"] == k for q in QUESTION_ROWS) for k in gen.KINDS} == {k: 8 for k in gen.KINDS}
    for q in QUESTION_ROWS:
        assert q["role"] == "official" and q["answerable"] and q["expected"], q["id"]
        assert (PROJECT_ROOT / q["gold"][0]).is_file(), q["gold"]
        twin = (PROJECT_ROOT / q["twin"][0]).read_text(encoding="utf-8")
        assert holds(twin, q["expected"]), (q["id"], q["expected"])
        assert not q.get("not_first") or holds(twin, q["not_first"]), q["id"]  # the old value is quoted


def test_every_document_and_twin_says_it_is_illustrative() -> None:
    for path in sorted((gen.ROOT / gen.FILES).glob("*.meta.yaml")):
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["illustrative"] is True, path
    for path in sorted((gen.ROOT / gen.TWINS).iterdir()):
        front = path.read_text(encoding="utf-8").split("---\n")[1]
        assert yaml.safe_load(front)["illustrative"] is True, path


def _row(kind: str, first: bool, any_: bool, old: bool = False) -> dict:
    return {"id": kind, "kind": kind, "outcome": "answered", "first": first, "any": any_, "old_first": old,
            "first_source": None}


def test_the_figures_are_shares_per_kind_and_the_verdicts_compare_files_with_twins() -> None:
    files = summary([_row("mail", True, True), _row("mail", False, True, old=True), _row("odt", False, False)])
    twins = summary([_row("mail", True, True), _row("mail", True, True), _row("odt", True, True)])
    assert files["mail"] == {"questions": 2, "fact_in_first_unit_shown": 0.5, "fact_in_units_shown": 1.0,
                             "old_value_first": 1}
    assert files["all"]["fact_in_first_unit_shown"] == pytest.approx(0.333, abs=1e-3)
    assert files["scan"]["fact_in_first_unit_shown"] is None
    results = {"files": files, "twins": twins, "ocr": {"accuracy": 0.981, "pages": [], "seconds": 1.0}}
    lines = verdicts(results)
    assert lines[0].startswith("first unit: files 0.333 (target >= 0.8: NOT met), twins 1.0, gap 0.667"), lines
    assert "OCR character accuracy: 0.981 (target >= 0.97: met)" in lines[2]
    assert "| mail | 2 | 0.5 | 1.0 | 1.0 | 1.0 | 1 | 0 |" in table(results)
    json.dumps(results)  # what --json writes


def test_unanswerable_questions_are_counted_apart_as_declined_or_not() -> None:
    near_miss = {**_row("scan", False, False), "answerable": False, "declined": True}
    answered_anyway = {**_row("deck", True, True), "answerable": False, "declined": False}
    figures = summary([_row("scan", True, True), near_miss, answered_anyway])
    assert figures["all"]["questions"] == 1 and figures["all"]["fact_in_first_unit_shown"] == 1.0
    assert figures["all"]["unanswerable_declined"] == "1/2"
    assert "unanswerable questions declined: files 1/2, twins 1/2" in table({"files": figures, "twins": figures})


def test_the_blind_questions_ten_on_the_same_documents_two_unanswerable() -> None:
    blind = load_questions(QUESTIONS.with_name("newformats_questions_blind.jsonl"))
    forty = {q["question"] for q in load_questions(QUESTIONS)}
    assert len(blind) == 10 and not forty & {q["question"] for q in blind}
    assert sum(not q["answerable"] for q in blind) == 2
    for q in blind:
        assert Path(q["gold"][0]).exists() and Path(q["twin"][0]).exists(), q["id"]
        if q["answerable"]:
            assert holds(Path(q["twin"][0]).read_text(encoding="utf-8"), q["expected"]), q["id"]


def test_a_base_that_is_no_store_is_refused_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from evals.newformats import main

    assert main(["--base", str(tmp_path)]) == 1
    assert f"{tmp_path}: not a store (no catalog.sqlite3)" in capsys.readouterr().err


def test_an_ocr_that_fails_ends_the_run_with_its_message(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    from evals import newformats
    from ingest.blocks import LoadError

    def failing(*_args, **_kwargs):
        raise LoadError("page 1 could not be read by OCR: it took over 180 s")

    monkeypatch.setattr(newformats, "run", failing)
    assert newformats.main(["--limit", "1"]) == 1
    assert "evals.newformats: page 1 could not be read by OCR: it took over 180 s" in capsys.readouterr().err
