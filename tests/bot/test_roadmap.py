"""The roadmap commitments on the real corpus: questions through bot.answer, the CLI, quality."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from bot.answering import answer
from evals.roadmap import run_roadmap
from bot.spreadsheet import read_table
from bot.roadmap import CommitmentQueryError, _wanted, commitments, merge, recognise, to_csv
from kb.store import KnowledgeBase
from tests.conftest import CORPUS, PROJECT_ROOT

TODAY = date(2026, 5, 20)


def test_commitment_questions_are_recognised_and_others_are_not() -> None:
    assert recognise("Qu'est-ce qui est en retard ?", TODAY).status == "late"
    assert recognise("Quelles sont les échéances de la SENUM ?", TODAY).owner == "SENUM"
    assert recognise("What is due before June?", TODAY).before == date(2026, 6, 1)
    assert recognise("Who is responsible for the cybersecurity training?", TODAY).topic
    assert recognise("Quelle est la durée du protocole d'accord avec la SENUM ?", TODAY) is None
    assert recognise("Qui copréside la commission cybersécurité ?", TODAY) is None
    # The roadmap named as the place of a fact is no commitments question; asked about, it is.
    assert recognise("Sur quelle période s'étend la phase 2 dans la feuille de route en vigueur ?", TODAY) is None
    assert recognise("Quand la version consolidée de la feuille de route devait-elle être présentée ?", TODAY) is None
    assert recognise("Que prévoit la feuille de route ?", TODAY) is not None
    assert recognise("What is in the roadmap for SENUM?", TODAY).owner == "SENUM"
    # A number the documents state is no list of commitments.
    assert recognise("Combien de démarches la feuille de route prévoit-elle de dématérialiser ?", TODAY) is None
    assert recognise("How many commitments does the roadmap give SENUM?", TODAY) is None
    assert recognise("Combien d'engagements sont en retard ?", TODAY).status == "late"


def test_extraction_meets_the_targets_and_beats_the_baseline() -> None:
    results = run_roadmap(CORPUS, PROJECT_ROOT)
    product, baseline = results["product"], results["baseline_every_dated_sentence"]
    assert product["precision"] >= 0.9 and product["recall"] >= 0.85 and product["deadline_accuracy"] >= 0.9
    assert product["precision"] > baseline["precision"] and product["recall"] > baseline["recall"]
    blind = results["blind"]["product"]
    assert blind["precision"] >= 0.9 and blind["recall"] >= 0.85, "the blind documents, owners compared by name"
    assert blind["merges"]["found"] == blind["merges"]["expected"] and not blind["merges"]["wrong"]


def _row(doc: str, day: str, action: str, owner: str, deadline: str, status: str = "unknown") -> dict:
    return {"doc_id": doc, "path": doc, "ordinal": 0, "title": doc, "date": day, "doc_type": "meeting_notes",
            "action": action, "owner": owner, "commission": None, "deadline": deadline, "deadline_text": deadline,
            "status": status, "quote": action, "start": 0, "end": len(action), "page": None, "section": ""}


def test_a_reworded_later_mention_that_moves_the_deadline_updates_the_same_commitment() -> None:
    rows = [
        _row("a.md", "2026-01-10", "Déployer le portail des marchés publics dans 5 ministères", "M. Ba (DGMP)", "2026-03-31"),
        _row("b.md", "2026-04-02", "Déploiement du portail des marchés publics : 5 ministères", "M Ba (DGMP)",
             "2026-06-30", "in progress"),
        _row("a.md", "2026-01-10", "Former les acheteurs à la passation en ligne", "M. Ba (DGMP)", "2026-02-28"),
    ]
    merged = merge(rows, TODAY)
    assert len(merged) == 2, "a moved deadline in other words is an update; another action stays apart"
    portal = next(c for c in merged if len(c.sources) == 2)
    assert (portal.deadline, portal.status) == (date(2026, 6, 30), "in progress")
    assert [s.path for s in portal.sources] == ["b.md", "a.md"], "newest source first"
    assert [s.deadline for s in portal.history] == [date(2026, 3, 31), date(2026, 6, 30)], "oldest first"
    assert portal.history_text() == "2026-03-31 → 2026-06-30, b.md"
    assert portal.to_dict()["history"][1]["status"] == "in progress"
    other = next(c for c in merged if len(c.sources) == 1)
    assert other.history_text() == "" and len(other.history) == 1


def test_owner_filter_finds_a_person_by_their_body() -> None:
    rows = [_row("a.md", "2026-01-10", "Publier le guide", "Mme Diop (ADIE) / ARTP", "2026-03-31")]
    item = merge(rows, TODAY)[0]
    assert _wanted(item, "ADIE", None, None, None, None) and _wanted(item, "ARTP", None, None, None, None)
    assert not _wanted(item, "SENUM", None, None, None, None)


def _check_cited(kb: KnowledgeBase, result) -> None:
    assert not result.abstained and result.sources
    for n, source in enumerate(result.sources, start=1):
        assert source.cited and f"[{n}]" in result.answer
        text = kb.document_text(source.path)
        assert text is not None and text[source.start : source.end] == source.quote


@pytest.mark.real_model
def test_late_items_through_bot_answer(corpus_store: KnowledgeBase) -> None:
    result = answer("Qu'est-ce qui est en retard ?", role="staff", kb=corpus_store, today=TODAY)
    _check_cited(corpus_store, result)
    assert result.answer.startswith("D'après les engagements") and "en retard" in result.answer
    assert "programme de la visite" in result.answer
    assert "commentaires sénégalais" not in result.answer, "the visit's minutes say they were sent on 9 December 2025"
    assert "vulnérabilités" not in result.answer, "a restricted note never reaches staff"
    official = answer("Qu'est-ce qui est en retard ?", role="official", kb=corpus_store, today=TODAY)
    assert any("operation-baobab" in s.path for s in official.sources)


@pytest.mark.real_model
def test_owner_deadline_and_topic_questions(corpus_store: KnowledgeBase) -> None:
    senum = answer("Quelles sont les échéances de la SENUM ?", role="staff", kb=corpus_store, today=TODAY)
    _check_cited(corpus_store, senum)
    assert all("SENUM" in line for line in senum.answer.splitlines()[1:] if line.startswith("- "))
    due = answer("What is due before June?", role="staff", kb=corpus_store, today=TODAY)
    _check_cited(corpus_store, due)
    assert due.language == "en" and "2026-06-30" not in due.answer
    # About one action: the passages that state it answer (bot.answering.route), the newest roadmap's first.
    portal = answer("Quelle est l'échéance actuelle du portail pilote de démarches en ligne ?", role="staff",
                    kb=corpus_store, today=TODAY)
    assert not portal.answer.startswith("D'après les engagements"), portal.answer
    first = next(s for s in portal.sources if s.cited)
    assert "feuille-de-route-v2" in first.path and "31 décembre 2026" in " ".join(first.quote.split()), first
    assert corpus_store.document_text(first.path)[first.start : first.end] == first.quote


@pytest.mark.real_model
def test_other_questions_take_the_normal_path(corpus_store: KnowledgeBase) -> None:
    result = answer("Combien de membres compte le comité de pilotage conjoint ?", role="official", kb=corpus_store,
                    today=TODAY)
    assert "engagements de la feuille" not in result.answer and "six membres" in result.answer
    reader = answer("Qu'est-ce qui est en retard ?", role="reader", kb=corpus_store, today=TODAY)
    assert not reader.answer.startswith("D'après les engagements"), "no public item: the documents answer instead"
    # No document knows Estonia: the commitments are no answer.
    estonia = answer("Quels engagements le Sénégal a-t-il pris dans son accord avec l'Estonie ?", role="official",
                     kb=corpus_store, today=TODAY)
    assert estonia.abstained and "engagements de la feuille" not in estonia.answer, estonia.answer


@pytest.mark.real_model
def test_commitments_merge_follow_ups_and_export_csv(corpus_store: KnowledgeBase) -> None:
    items = commitments(corpus_store, role="staff", owner="ASAN", today=TODAY)
    immersion = next(i for i in items if "immersion" in i.action.casefold() and i.owner == "ASAN")
    assert immersion.deadline == date(2026, 9, 25), "rescheduled by the follow-up meeting"
    assert len(immersion.sources) >= 4 and immersion.sources[0].path.endswith("follow-up-meeting-2026-05-19.txt")
    assert immersion.sources[-1].path.endswith("protocole-senum.pdf")
    rows = read_table(to_csv(items))
    assert len(rows) == len(items) and rows[0]["Responsable"]
    assert {r["Accès"] for r in rows} <= {"public", "interne"}, "staff reads public and internal commitments"
    with pytest.raises(CommitmentQueryError, match="unknown status"):
        commitments(corpus_store, status="finished")


def roadmap_cli(*args: str, store: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_STORE": store}
    return subprocess.run([sys.executable, "-m", "bot", "roadmap", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.real_model
def test_cli_json_is_one_object_with_the_documented_keys(corpus_store: KnowledgeBase) -> None:
    result = roadmap_cli("--role", "staff", "--status", "late", "--today", "2026-05-20", "--json",
                         store=str(corpus_store.root))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) == {"today", "items"} and data["today"] == "2026-05-20" and data["items"]
    for item in data["items"]:
        assert set(item) == {"action", "owner", "commission", "deadline", "deadline_text", "status", "sources",
                             "history"}
        assert item["status"] == "late" and item["deadline"] < "2026-05-20"
        for source in item["sources"]:
            assert set(source) == {"path", "title", "date", "page", "quote", "start", "end"}
            assert "confidentielle" not in source["path"]


@pytest.mark.real_model
def test_cli_filters_csv_and_text(corpus_store: KnowledgeBase) -> None:
    result = roadmap_cli("--role", "staff", "--owner", "SENUM", "--before", "2026-07-01", "--csv", "--lang", "en",
                         store=str(corpus_store.root))
    assert result.returncode == 0, result.stderr
    rows = read_table(result.stdout)
    assert rows and all("SENUM" in r["Owner"] and r["Deadline"] < "2026-07-01" for r in rows)
    text = roadmap_cli("--role", "staff", "--today", "2026-05-20", store=str(corpus_store.root))
    assert text.returncode == 0 and "LATE" in text.stdout and "«" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--today", "hier"], "--today: 'hier' is not an ISO date (YYYY-MM-DD)"),
        (["--before", "2026-13-01"], "--before: '2026-13-01' is not an ISO date"),
    ],
)
def test_cli_bad_input_exits_1_with_a_message(tmp_path, args: list[str], message: str) -> None:
    result = roadmap_cli(*args, store=str(tmp_path / "absent"))
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_cli_missing_store_says_how_to_fill_it(tmp_path) -> None:
    result = roadmap_cli(store=str(tmp_path / "absent"))
    assert result.returncode == 1 and "python -m ingest" in result.stderr
    assert not (tmp_path / "absent").exists()
    usage = roadmap_cli("--status", "finished", store=str(tmp_path / "absent"))
    assert usage.returncode == 2 and "invalid choice" in usage.stderr
