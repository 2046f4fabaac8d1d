"""The web app's chat API through a real Gradio server, the real model and the sample corpus."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.server, pytest.mark.real_model]


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


def _sources(reply: str) -> list[str]:
    """Numbered source lines of a chat reply ("1. **Title** (type; …)")."""
    return re.findall(r"^(\d+)\. \*\*(.+?)\*\*", reply, re.M)


def test_french_question_gets_cited_answer_and_sources(client) -> None:
    reply = client.predict("Quand les protocoles d'accord ont-ils été signés ?", api_name="/chat")
    answer_part = reply.split("**Sources**")[0]
    assert "23 décembre 2025" in answer_part
    assert "**\\[1\\]**" in answer_part
    numbers = [int(n) for n, _ in _sources(reply)]
    assert numbers[:1] == [1] and numbers == sorted(numbers)
    assert "« " in reply, "each source carries its quote"


def test_english_question_over_the_api(client) -> None:
    reply = client.predict("What is Azerbaijan's EGDI score?", api_name="/chat")
    # The quote may come from the English brief or a French note (0,7607): both are the documents' words.
    assert re.search(r"0[.,]7607", reply.split("**Sources**")[0])
    titles = [title for _, title in _sources(reply)]
    assert any("e-government" in title for title in titles)


def test_api_takes_history_and_filters(client) -> None:
    reply = client.predict("Et pour la CEAC ?", ["Quel est le rôle de la SENUM ?"], "", "", "", "", api_name="/chat")
    assert "CEAC" in reply.split("**Sources**")[0]
    filtered = client.predict("Quand les protocoles d'accord ont-ils été signés ?", None, "strategy", api_name="/chat")
    assert "Note de synthèse" in filtered and "Communiqué" not in filtered


def test_reader_never_sees_restricted_text(client) -> None:
    reply = client.predict("Qu'est-ce que l'opération Baobab ?", api_name="/chat")
    assert "Baobab" not in reply


def test_bad_question_is_a_clear_error(client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="La question est vide"):
        client.predict("   ", api_name="/chat")


def test_empty_store_says_how_to_fill_it(tmp_path) -> None:
    import os
    import subprocess
    import sys
    import urllib.request

    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from tests.conftest import PROJECT_ROOT, free_port, wait_for_port

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_STORE": str(tmp_path / "empty"),
           "PASSERELLE_PORT": str(port)}
    with open(tmp_path / "app.log", "w") as log:
        server = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, server)
            assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).status == 200
            with pytest.raises(AppError, match="make ingest"):
                Client(f"http://127.0.0.1:{port}/", verbose=False).predict("Qui préside ?", api_name="/chat")
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert "is empty: run `make ingest`" in (tmp_path / "app.log").read_text()


@pytest.mark.parametrize("user", ["lecteur", "agent"])
def test_lower_roles_never_get_restricted_text_over_the_api(login_server, user) -> None:
    from gradio_client import Client

    from tests.conftest import PASSWORDS

    client = Client(login_server.url, auth=(user, PASSWORDS[user]), verbose=False)
    for question in ("Qu'est-ce que l'opération Baobab ?", "Quel est le nom de code de l'évaluation de cybersécurité ?",
                     "Note confidentielle : évaluation de cybersécurité", "What is the Baobab operation?",
                     "Quelle enveloppe budgétaire la DAGE négocie-t-elle ?"):
        reply = client.predict(question, api_name="/chat")
        assert "Baobab" not in reply and "confidentielle" not in reply.lower(), (user, question)
        assert "negociation-enveloppe-budgetaire" not in reply


def test_official_reads_restricted_text_and_anonymous_calls_are_refused(login_server) -> None:
    from gradio_client import Client

    from tests.conftest import PASSWORDS

    official = Client(login_server.url, auth=("officiel", PASSWORDS["officiel"]), verbose=False)
    assert "Baobab" in official.predict("Qu'est-ce que l'opération Baobab ?", api_name="/chat")
    with pytest.raises(Exception):
        Client(login_server.url, verbose=False).predict("Qu'est-ce que l'opération Baobab ?", api_name="/chat")


def test_the_models_are_loaded_when_the_app_says_it_is_ready(app_server, client) -> None:
    """Item 5 (warm start): `python app.py` loads the models and indexes as it starts and then
    prints "Passerelle est prête : URL"; the first question after that loads nothing."""
    import time

    deadline = time.monotonic() + 300
    while "Passerelle est prête : http://127.0.0.1:" not in app_server.log.read_text():
        assert time.monotonic() < deadline, "the app never said it was ready"
        time.sleep(0.5)
    log = app_server.log.read_text()
    ready = log.index("Passerelle est prête")
    assert log.index("loaded reader") < ready and log.index("warm start done") < ready
    assert "ready url=http://127.0.0.1:" in log
    before = log.count("loaded reader")
    assert "SENUM" in client.predict("Qui copréside la commission mixte cybersécurité ?", api_name="/chat")
    after = app_server.log.read_text()
    assert after.count("loaded reader") == before, "the question loaded nothing more"
    assert after.count("Passerelle est prête") == 1
