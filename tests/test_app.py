"""The web chat answers through a real Gradio server (the full UI is issue 4's; this checks the wiring)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kb.store import KnowledgeBase
from tests.conftest import PROJECT_ROOT, free_port, wait_for_port

pytestmark = [pytest.mark.server, pytest.mark.real_model]


def test_chat_answers_with_citations_over_http(corpus_store: KnowledgeBase, tmp_path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PASSERELLE_STORE": str(corpus_store.root),
           "PASSERELLE_PORT": str(port)}
    server = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env,
                              stdout=open(tmp_path / "app.log", "w"), stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, server)
        from gradio_client import Client

        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        reply = client.predict("What is Azerbaijan's EGDI score?", api_name="/chat")
        assert "0.7607" in reply and "\\[1\\]" in reply
        restricted = client.predict("Qu'est-ce que l'opération Baobab ?", api_name="/chat")
        assert "Baobab" not in restricted, "the local reader sees public documents only"
    finally:
        server.terminate()
        server.wait(timeout=30)
