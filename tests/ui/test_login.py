"""Our own sign-in page (ui/login.py): both languages, and when it is served instead of Gradio's page."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from ui.assets import HEAD
from ui.login import SignInPage, sign_in_page


def test_the_page_carries_both_languages_and_posts_to_gradio_login() -> None:
    page = sign_in_page()
    for text in ("Nom d'utilisateur", "Mot de passe", "Se connecter", "User name", "Password", "Sign in",
                 "Nom d'utilisateur ou mot de passe incorrect"):
        assert text in page
    assert 'action="login"' in page and 'name="username"' in page and 'name="password"' in page
    assert "Login" not in page and "Incorrect Credentials" not in page


def serve(path: str, auth, tokens: dict, cookie: str | None = None) -> tuple[int, bytes]:
    """One request through the middleware around a tiny app that answers an HTML page."""
    page = b"<html><head><title>g</title></head></html>"

    async def gradio(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", b"%d" % len(page))]})
        await send({"type": "http.response.body", "body": page})

    sent = []

    async def send(message):
        sent.append(message)

    headers = [(b"cookie", cookie.encode())] if cookie else []
    scope = {"type": "http", "method": "GET", "path": path, "headers": headers,
             "app": SimpleNamespace(auth=auth, tokens=tokens)}
    asyncio.run(SignInPage(gradio)(scope, None, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    length = dict(sent[0]["headers"])[b"content-length"]
    assert int(length) == len(body), "the length said is the length sent"
    return sent[0]["status"], body


def test_the_sign_in_page_replaces_gradio_s_only_without_a_session() -> None:
    check = object()
    status, body = serve("/", check, {})
    assert status == 200 and b"form id=\"signin\"" in body
    status, body = serve("/", check, {"t0k": "agent"}, cookie="access-token-unsecure-abc=t0k")
    assert b"<title>g</title>" in body and HEAD.encode() in body, "signed in: Gradio's page, our language first"
    status, body = serve("/", check, {"t0k": "agent"}, cookie="access-token-abc=stale")
    assert b"signin" in body, "an unknown token is no session"
    status, body = serve("/", None, {})
    assert b"<title>g</title>" in body and b"signin" not in body, "no logins: Gradio's page"
    assert serve("/config", check, {})[1].startswith(b"<html>"), "other paths pass unchanged"
