"""Item 4's remainder, through a real server: a CSV export is served to the browser session that
made it and refused (403) to another signed-in session that has its link."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest

from tests.security.conftest import bare_server

pytestmark = [pytest.mark.server, pytest.mark.timeout(240, func_only=True)]

PASSWORD = "une phrase de passe assez longue"


def _signed_in(url: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 200
    return client


def _export(client: httpx.Client) -> dict:
    """Click the roadmap's export button as the page does (queue/join, then the event stream);
    returns the file the event gives back."""
    config = client.get("/config").json()
    button = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "roadmap-export")
    event = next(d for d in config["dependencies"] if any(t[0] == button for t in d["targets"]))
    session = secrets.token_hex(8)
    joined = client.post("/gradio_api/queue/join", json={
        "data": ["fr", "", "", "", "", ""], "fn_index": event["id"], "trigger_id": button, "session_hash": session,
        "event_data": None})
    assert joined.status_code == 200, joined.text
    with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    assert message["success"], message
                    output = message["output"]["data"][0]
                    return output.get("value", output)
    pytest.fail("the export event never completed")


def test_an_export_is_served_only_to_the_session_that_made_it(tmp_path) -> None:
    users = {"awa": (PASSWORD, "official"), "moussa": (PASSWORD, "official")}
    with bare_server(tmp_path, users) as server:
        awa, awa_again, moussa = _signed_in(server.url, "awa"), _signed_in(server.url, "awa"), _signed_in(server.url, "moussa")
        exported = _export(awa)
        link = exported["url"]
        mine = awa.get(link)
        assert mine.status_code == 200 and mine.content.startswith("\ufeff".encode()), mine.text[:200]
        assert moussa.get(link).status_code == 403, "another user's session is refused"
        assert awa_again.get(link).status_code == 403, "so is another session of the same user"
        assert "export refused" in server.log.read_text()
        # Without a session cookie there is no access at all (the app asks for a login).
        assert httpx.get(link, timeout=30).status_code in (401, 403)
        # The copy Gradio serves and the app's own file go when the server stops.
        served = exported["path"]
        for client in (awa, awa_again, moussa):
            client.close()
    from pathlib import Path

    assert not Path(served).exists()
    assert not list(Path(tmp_path).glob("**/passerelle-exports-*"))
