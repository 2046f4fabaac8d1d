"""`python -m bot ask`: one JSON object with the documented keys, readable text, clear errors."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys

import pytest

from kb.store import KnowledgeBase
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.real_model


def ask(*args: str, store: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_STORE": store}
    return subprocess.run([sys.executable, "-m", "bot", "ask", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)


def test_json_has_exactly_the_documented_keys(corpus_store: KnowledgeBase) -> None:
    result = ask("Combien de membres compte le comité de pilotage conjoint ?", "--role", "official", "--json",
                 "--k", "4", store=str(corpus_store.root))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) == {"answer", "abstained", "language", "sources", "timings_ms", "mode", "removed", "outcome",
                         "confidence"}
    assert (data["mode"], data["removed"]) == ("extractive", [])  # no LLM server configured
    assert data["outcome"] in ("answered", "to_check") and 0.0 < data["confidence"] <= 1.0
    assert data["abstained"] == (data["outcome"] != "answered")
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}
    assert 1 <= len(data["sources"]) <= 4
    for s in data["sources"]:
        assert set(s) == {"n", "cited", "title", "path", "doc_type", "date", "page", "section", "quote",
                          "start", "end", "score"}
    assert "six membres" in data["answer"], data["answer"]


def test_readable_output_and_filters(corpus_store: KnowledgeBase) -> None:
    result = ask("Quelles décisions ont été prises ?", "--role", "staff", "--doc-type", "meeting_notes",
                 store=str(corpus_store.root))
    assert result.returncode == 0, result.stderr
    assert "[1]" in result.stdout and "meeting_notes" in result.stdout and "{" not in result.stdout.splitlines()[0]
    # The first line says how sure the answer is.
    assert re.fullmatch(r"\[(Réponse tirée des documents|À vérifier) \(confiance \d+ %\)\]", result.stdout.splitlines()[0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["   "], "La question est vide"),
        (["x" * 2001], "dépasse 2000 caractères"),
        (["Quelle date ?", "--since", "hier"], "since: 'hier' is not an ISO date"),
        (["Quelle date ?", "--k", "0"], "--k must be between 1 and 50"),
    ],
)
def test_bad_input_exits_1_with_a_message(corpus_store: KnowledgeBase, args: list[str], message: str) -> None:
    result = ask(*args, store=str(corpus_store.root))
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_missing_store_says_how_to_fill_it(tmp_path) -> None:
    result = ask("Quelle est la durée du protocole ?", store=str(tmp_path / "absent"))
    assert result.returncode == 1 and "python -m ingest" in result.stderr
    assert not (tmp_path / "absent").exists(), "asking must not create an empty store"
