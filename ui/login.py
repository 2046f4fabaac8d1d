"""Passerelle's own sign-in page, in the interface's language.

Gradio's login page speaks the browser's language (English on most machines, "Incorrect
Credentials") and empties the name after a wrong password. `SignInPage`, an ASGI middleware,
answers a browser that asks for the page without a valid session with this form instead; the
form posts to Gradio's own `/login` route (same password check, throttle and session cookie),
then reloads the page, which Gradio now serves. The language is the one last chosen on the
page (kept in the browser's localStorage), French by default, with a switch.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

from bot.logins import session_tokens
from ui.assets import HEAD
from ui.i18n import LANGUAGES, TEXT

LOGIN_KEYS = ("login_title", "login_intro", "login_name", "login_password", "login_submit", "login_failed",
              "login_busy")
LANGUAGE_KEY = "passerelle-lang"  # localStorage key, written by the page's language switch (ui.assets.JS)

_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Passerelle</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; background: #f5f5f4; color: #1c1917; }
main { max-width: 360px; margin: 10vh auto; background: white; padding: 24px; border-radius: 12px;
       box-shadow: 0 1px 4px rgba(0,0,0,.15); box-sizing: border-box; }
@media (max-width: 420px) { main { margin: 24px 12px; } }
h1 { margin: 0 0 4px; font-size: 1.6em; }
label { display: block; margin: 14px 0 4px; font-weight: 600; }
input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: 8px; font-size: 1em;
       border: 1px solid #a8a29e; border-radius: 6px; }
button { margin-top: 18px; width: 100%; padding: 10px; font-size: 1em; border: 0; border-radius: 6px;
         background: #ea580c; color: white; cursor: pointer; }
#error { color: #b91c1c; min-height: 1.2em; }
nav { text-align: right; font-size: .9em; } nav a { color: inherit; margin-left: 8px; }
nav a[aria-current=true] { font-weight: 700; text-decoration: none; }
</style></head>
<body><main>
<nav>__SWITCH__</nav>
<h1>Passerelle</h1>
<p id="intro"></p>
<form id="signin" method="post" action="login">
<label for="username" id="name-label"></label>
<input type="text" id="username" name="username" autocomplete="username" required autofocus>
<label for="password" id="password-label"></label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" id="submit"></button>
<p id="error" role="alert"></p>
</form></main>
<script>
const TEXT = __TEXT__;
const KEY = __KEY__;
let lang = (localStorage.getItem(KEY) in TEXT) ? localStorage.getItem(KEY) : "fr";
function show(code) {
  lang = code; localStorage.setItem(KEY, code);
  const t = TEXT[code];
  document.documentElement.lang = code;
  document.getElementById("intro").textContent = t.login_intro;
  document.getElementById("name-label").textContent = t.login_name;
  document.getElementById("password-label").textContent = t.login_password;
  document.getElementById("submit").textContent = t.login_submit;
  document.title = "Passerelle : " + t.login_title;
  if (document.getElementById("error").textContent) document.getElementById("error").textContent = t.login_failed;
  document.querySelectorAll("nav a").forEach(a => a.setAttribute("aria-current", a.dataset.lang === code));
}
document.querySelectorAll("nav a").forEach(a => a.addEventListener("click", e => { e.preventDefault(); show(a.dataset.lang); }));
document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target, error = document.getElementById("error"), button = document.getElementById("submit");
  button.disabled = true; button.textContent = TEXT[lang].login_busy; error.textContent = "";
  try {
    const reply = await fetch(form.action, {method: "POST", body: new URLSearchParams(new FormData(form)),
                                            credentials: "same-origin"});
    if (reply.ok) { window.location.reload(); return; }
  } catch (e) {}
  // The name stays; only the password is typed again.
  error.textContent = TEXT[lang].login_failed;
  form.password.value = ""; form.password.focus();
  button.disabled = false; button.textContent = TEXT[lang].login_submit;
});
show(lang);
</script></body></html>
"""


def sign_in_page() -> str:
    """The sign-in page's HTML: its texts in both languages, shown in the one last chosen."""
    texts = {code: {key: TEXT[code][key] for key in LOGIN_KEYS} for _, code in LANGUAGES}
    switch = " ".join(f'<a href="#" data-lang="{code}">{html.escape(name)}</a>' for name, code in LANGUAGES)
    # "</" never appears inside the script: the JSON cannot close it early.
    return (_PAGE.replace("__SWITCH__", switch)
            .replace("__TEXT__", json.dumps(texts, ensure_ascii=False).replace("</", "<\\/"))
            .replace("__KEY__", json.dumps(LANGUAGE_KEY)))


class SignInPage:
    """ASGI middleware for GET / (the page itself). Without a valid session, when the app asks
    for logins: `sign_in_page()`. Otherwise Gradio's page, with `ui.assets.HEAD` put first in
    its <head> (Gradio adds its own `head` too late for it: its texts' language is chosen at once)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.page = sign_in_page().encode("utf-8")

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if not (scope["type"] == "http" and scope.get("method") == "GET" and scope.get("path") == "/"):
            await self.app(scope, receive, send)
        elif getattr(scope.get("app"), "auth", None) and not _signed_in(scope):
            await _send_html(send, self.page)
        else:
            await self.app(scope, receive, _with_head(send))


async def _send_html(send: Callable, body: bytes, status: int = 200, headers: list | None = None) -> None:
    headers = [(k, v) for k, v in headers or [(b"content-type", b"text/html; charset=utf-8")]
               if k.lower() != b"content-length"]
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"cache-control", b"no-store"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _with_head(send: Callable) -> Callable:
    """`send`, holding back an HTML page until its body is complete, then sending it with HEAD
    inserted right after its <head>."""
    held: dict[str, Any] = {}

    async def sending(message: dict) -> None:
        if message["type"] == "http.response.start":
            content_type = dict((k.lower(), v) for k, v in message.get("headers", [])).get(b"content-type", b"")
            if not content_type.startswith(b"text/html"):
                held["pass"] = True
                await send(message)
                return
            held["start"], held["body"] = message, b""
        elif message["type"] == "http.response.body" and not held.get("pass") and "start" in held:
            held["body"] += message.get("body", b"")
            if not message.get("more_body"):
                body = held["body"].replace(b"<head>", b"<head>" + HEAD.encode("utf-8"), 1)
                headers = [(k, v) for k, v in held["start"].get("headers", []) if k.lower() != b"cache-control"]
                await _send_html(send, body, held["start"]["status"], headers)
        else:
            await send(message)

    return sending


def _signed_in(scope: dict) -> bool:
    """True when a session cookie of the request is one Gradio knows (its `app.tokens`)."""
    tokens = getattr(scope.get("app"), "tokens", None) or {}
    return any(token in tokens for token in session_tokens(scope.get("headers", [])))
