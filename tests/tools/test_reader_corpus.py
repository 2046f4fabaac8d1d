"""In-domain training lists for the reader (`tools.reader_corpus`): the gold unit found in the
store, its negatives taken from the same document, a FAQ answer read under its question."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from evals.corpus import holds
from tools import reader_corpus
from tools.reader_corpus import CorpusDataError, corpus_lists, load_corpus, parse_sets, summary

FAQ = """# FAQ des agents de liaison

## Missions

### Comment demander une mission à l'étranger ?

La demande part au secrétariat trois semaines avant le départ. Le coordonnateur la valide ensuite.

### Qui règle le billet d'avion ?

L'agence d'origine de l'agent règle le billet.

### Un visa est-il nécessaire ?

Le visa électronique se demande en ligne et arrive en trois jours ouvrables.
"""

BUDGET = """# Budget des ateliers de formation

Le tableau ci-dessous répartit les crédits de l'année.

| Poste | Montant (FCFA) | Financeur |
|---|---|---|
| Billets d'avion | 36 000 000 | MCTN |
| Hébergement des stagiaires | 18 500 000 | ASAN |
| Rémunération des formateurs | 12 000 000 | ASAN |

Le comité de pilotage arrête le budget total.
"""

MAIL = """Objet : RE: Atelier de Dakar

Bonjour Awa,

L'atelier aura lieu le 12 mars dans la salle de conférence du ministère. Les badges seront prêts la veille.

Bien à toi,
Moussa

> Le 3 mars, Awa a écrit :
> Peux-tu me dire quand se tient l'atelier ? La salle de SENUM est-elle libre ce jour-là ?
"""

QUESTIONS = [
    {"id": "t1", "category": "fact", "question": "Combien de temps avant le départ faut-il envoyer une demande de mission ?",
     "history": [], "answerable": True, "gold": ["docs/faq.md"], "expected": ["trois semaines"]},
    {"id": "t2", "category": "fact", "question": "Quel montant est prévu pour loger les stagiaires ?",
     "history": [], "answerable": True, "gold": ["docs/budget.md"], "expected": ["18 500 000"]},
    {"id": "t3", "category": "fact", "question": "Quand l'atelier de Dakar a-t-il lieu ?",
     "history": [], "answerable": True, "gold": ["docs/mail.txt"], "expected": ["12 mars"]},
    {"id": "t4", "category": "unanswerable", "question": "Combien coûte la location de la salle de l'atelier ?",
     "history": [], "answerable": False, "gold": [], "expected": []},
    {"id": "t5", "category": "followup", "question": "Et pour le visa ?", "history": [{"role": "user", "content": "x"}],
     "answerable": True, "gold": ["docs/faq.md"], "expected": ["trois jours"]},
    {"id": "t6", "category": "fact", "question": "Quelle est la couleur des badges ?", "history": [],
     "answerable": True, "gold": ["docs/mail.txt"], "expected": ["vert"]},
]


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory, real_model_path: Path):
    """A FAQ, a table and an e-mail reply, ingested with the real model."""
    from tests.conftest import ingest_from

    folder = tmp_path_factory.mktemp("reader-corpus")
    docs = folder / "docs"
    docs.mkdir()
    for name, text in (("faq.md", FAQ), ("budget.md", BUDGET), ("mail.txt", MAIL)):
        (docs / name).write_text(text, encoding="utf-8")
    kb, report = ingest_from(folder, [Path("docs")], folder / "store")
    assert report.failed == 0, report.errors
    yield kb
    kb.close()


@pytest.fixture
def questions_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUESTIONS), encoding="utf-8")
    monkeypatch.setitem(reader_corpus.CORPUS_SETS, "dev", path)
    return path


def _by_id(questions):
    return {q.id: q for q in questions}


@pytest.mark.real_model
def test_the_gold_unit_is_found_and_its_negatives_come_from_its_own_document(small_store, questions_file) -> None:
    units, questions = load_corpus(small_store, ["dev"])
    found = _by_id(questions)
    assert "t5" not in found, "a follow-up needs its history: left out"
    assert "t6" not in found, "no unit holds the expected fact: left out, not guessed"
    for qid in ("t1", "t2", "t3"):
        q = found[qid]
        gold = units[q.gold]
        assert gold.path == QUESTIONS[int(qid[1]) - 1]["gold"][0] and holds(gold.reading, q.expected)
        assert len(q.same_document) >= 2
        assert all(units[i].path == gold.path for i in q.same_document), "negatives from the same document"
        assert not any(holds(units[i].reading, q.expected) for i in q.same_document), "no negative holds the answer"
    assert found["t4"].gold is None and not found["t4"].same_document

    faq = found["t1"]
    assert units[faq.gold].heading_asks and "Comment demander une mission" in units[faq.gold].context
    readings = [units[i].reading for i in faq.same_document]
    assert readings[0].startswith("Le coordonnateur la valide"), "the nearest sentence first"
    assert any("règle le billet" in r for r in readings), "the neighbouring FAQ answer is a negative"

    row = found["t2"]
    assert units[row.gold].kind == "row" and "Montant (FCFA) : 18 500 000" in units[row.gold].reading
    assert [units[i].kind for i in row.same_document[:2]] == ["row", "row"], "the other rows of the table first"

    mail = found["t3"]
    assert any("Peux-tu me dire quand" in units[i].reading for i in mail.same_document), "the quoted message"

    counts = summary(units, questions)
    assert counts["answerable"] == 3 and counts["unanswerable"] == 1 and counts["gold_rows"] == 1
    assert counts["gold_under_a_question_heading"] == 1


@pytest.mark.real_model
def test_lists_target_the_gold_unit_or_not_in_the_documents(small_store, questions_file) -> None:
    units, questions = load_corpus(small_store, ["dev"])
    vectors = np.array([small_store.embeddings.embed_query(q.text) for q in questions], dtype=np.float32)
    lists = corpus_lists(units, questions, list(range(len(questions))), vectors, random.Random(0))
    assert len(lists) == len(questions)
    for q, (row, cands, target) in zip(questions, lists):
        assert row == questions.index(q)
        if q.gold is None:
            assert target == 0 and len(cands) == min(7, len(units))
            continue
        assert cands[target - 1] == q.gold
        assert set(q.same_document[:4]) <= set(cands), "same-document negatives are in the list"
        others = [i for i in cands if units[i].path != units[q.gold].path]
        assert len(others) == 2 and not any(holds(units[i].reading, q.expected) for i in others)


def test_report_sets_cannot_join_training() -> None:
    assert parse_sets("dev,test") == ["dev", "test"]
    assert parse_sets("none") == [] and parse_sets("") == []
    with pytest.raises(CorpusDataError, match="blind.*report sets"):
        parse_sets("dev,blind")


@pytest.mark.real_model
@pytest.mark.slow
def test_the_project_questions_find_their_gold_unit_in_the_sample_corpus(corpus_store) -> None:
    units, questions = load_corpus(corpus_store, ["dev", "test"])
    answerable = [q for q in questions if q.gold is not None]
    # 132 of the dev and test sets' answerable, non-follow-up, non-restricted questions on this commit.
    assert len(answerable) >= 120
    assert all(holds(units[q.gold].reading, q.expected) for q in answerable)
    assert all(units[i].path == units[q.gold].path for q in answerable for i in q.same_document)
    assert sum(len(q.same_document) >= 3 for q in answerable) >= 0.9 * len(answerable)
    assert any(units[q.gold].heading_asks for q in answerable), "FAQ answers read under their question"
