"""Findings "unbounded chat history", "raw errors to clients" (filters of the wrong type) and
"quadratic owner filter": every input a client sends is bounded and checked by type, and the
errors it gets are the app's own messages."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.timeout(300, func_only=True)


@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


@pytest.mark.server
@pytest.mark.real_model
def test_a_megabyte_of_history_is_cut_not_read(client, app_server) -> None:
    history = ["Quels sont les engagements de la SENUM envers ses partenaires ? " * 17_000,
               *["Et pour la CEAC ?"] * 500]
    question = "Quand les protocoles d'accord ont-ils été signés ?"
    client.predict(question, api_name="/chat")  # the models load on the first question
    started = time.perf_counter()
    client.predict(question, api_name="/chat")
    usual = time.perf_counter() - started
    started = time.perf_counter()
    reply = client.predict(question, history, api_name="/chat")
    elapsed = time.perf_counter() - started
    assert "23 décembre 2025" in reply.split("**Sources**")[0]
    # Sending 1.1 MB takes a moment; reading it took 51 s.
    assert elapsed < usual + 3, f"{elapsed:.1f} s against {usual:.1f} s: the history was read whole"
    assert "history bounded kept=20" in app_server.log.read_text()


@pytest.mark.server
@pytest.mark.real_model
@pytest.mark.parametrize(("filters", "text"), [
    ({"doc_type": {"$ne": "x"}}, "Filtre « doc_type » invalide : l'une des valeurs protocol, strategy"),
    ({"since": 20260101}, "Filtre « since » invalide : une date AAAA-MM-JJ."),
    ({"until": "2026-01-01' OR 1=1"}, "Filtre « until » invalide : une date AAAA-MM-JJ."),
    ({"language": ["fr", "en"]}, "Filtre « language » invalide : l'une des valeurs fr, en."),
])
def test_filters_of_the_wrong_type_get_the_apps_message(client, filters, text) -> None:
    from gradio_client.exceptions import AppError

    values = {"doc_type": "", "since": "", "until": "", "language": "", **filters}
    with pytest.raises(AppError) as caught:
        client.predict("Quand les protocoles d'accord ont-ils été signés ?", None, values["doc_type"],
                       values["since"], values["until"], values["language"], api_name="/chat")
    assert text in str(caught.value)
    for leak in ("Traceback", "attribute", "Expected", "where", "chromadb"):
        assert leak not in str(caught.value)


@pytest.mark.server
@pytest.mark.real_model
def test_a_history_that_is_not_a_list_gets_the_apps_message(client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Historique de conversation invalide"):
        client.predict("Quand les protocoles d'accord ont-ils été signés ?", {"role": "user"}, api_name="/chat")


def test_owner_phrases_are_split_in_linear_time() -> None:
    from kb import commitments
    from kb.commitments import owner_keys, parse_owner

    def seconds(count: int) -> float:
        phrase = "".join(f"Agence {n}, " for n in range(count))  # ~12 characters and one separator each
        best = float("inf")
        for _ in range(2):
            started = time.perf_counter()
            assert len(owner_keys(phrase)) == count and parse_owner(phrase).startswith("Agence 0 et Agence 1 et")
            best = min(best, time.perf_counter() - started)
            commitments._owner_keys.cache_clear()  # the second run parses again
        return best

    # Four times the text: about four times the time when linear, sixteen when quadratic (the
    # separator pattern's lookahead took 27 s on 24 KB over the commitments). A ratio, not a
    # duration: the machine may be busy.
    small, large = seconds(2_000), seconds(8_000)
    assert large < 8 * small, (small, large)


@pytest.mark.real_model
def test_a_long_roadmap_filter_is_refused_at_once(corpus_store) -> None:
    import gradio as gr

    from bot.roadmap import CommitmentQueryError, commitments
    from ui.handlers import Handlers

    with pytest.raises(CommitmentQueryError, match="owner: give a name of at most 200 characters"):
        commitments(corpus_store, role="staff", owner="SENUM" * 41)
    handlers = Handlers(corpus_store.settings, corpus_store)
    started = time.perf_counter()
    with pytest.raises(gr.Error) as caught:
        handlers.matching_commitments("fr", "SENUM, " * 3500, "", "", "", "", None)
    assert "au plus 200 caractères" in caught.value.message
    assert time.perf_counter() - started < 1
    with pytest.raises(gr.Error, match="Invalid filter: .* dates as YYYY-MM-DD"):
        handlers.matching_commitments("en", "", "", "", 20260101, "", None)
    assert commitments(corpus_store, role="staff", owner="SENUM"), "a real name still filters"
