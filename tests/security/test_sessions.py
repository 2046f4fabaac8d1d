"""Finding "sessions outlive their user", through a real server: removing a user, or giving it
another password, ends its open sessions at their next request."""

from __future__ import annotations

import httpx
import pytest

from tests.security.conftest import bare_server

pytestmark = [pytest.mark.server, pytest.mark.timeout(180, func_only=True)]

OLD, NEW = "ancienne phrase de passe", "nouvelle phrase de passe"


def _signed_in(url: str, name: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    assert client.post("/login", data={"username": name, "password": password}).status_code == 200
    assert client.get("/config").status_code == 200, "the session reads the app"
    return client


def test_sessions_end_when_the_user_is_removed_or_its_password_changes(tmp_path) -> None:
    from bot.users import add_user, remove_user

    users = {"awa": (OLD, "official"), "moussa": (OLD, "staff"), "ilham": (OLD, "reader")}
    with bare_server(tmp_path, users) as server:
        awa, moussa, ilham = (_signed_in(server.url, name, OLD) for name in users)
        remove_user(server.settings, "awa")
        add_user(server.settings, "awa", NEW, "official")
        remove_user(server.settings, "moussa")
        assert awa.get("/config").status_code == 401, "the old password's session has ended"
        assert moussa.get("/config").status_code == 401, "a removed user's session has ended"
        assert ilham.get("/config").status_code == 200, "other users' sessions go on"
        assert _signed_in(server.url, "awa", NEW).get("/config").status_code == 200
        log = server.log.read_text()
        assert "session ended name=awa reason=user-changed" in log
        assert "session ended name=moussa reason=user-removed" in log
        for client in (awa, moussa, ilham):
            client.close()
