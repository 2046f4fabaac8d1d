"""The app's temporary files: each browser session's CSV exports in a folder of its own,
removed a while after they are written and when the app stops, and served to that session only.

Gradio serves a file an event returns from a copy in its cache, `<cache>/<hash of the
content>/<name>`, through `/gradio_api/file=<path>` to anyone signed in who has the link.
`ExportFolders.write` notes which session each export's cache folder belongs to, and the
`ExportGuard` middleware refuses that link to every other session (403). A session is the
browser's sign-in cookie, or without logins a cookie of the app's own (`BROWSER_COOKIE`).
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import unquote

log = logging.getLogger(__name__)

BROWSER_COOKIE = "passerelle-browser"
_SESSION_COOKIES = ("access-token-",)  # Gradio's sign-in cookies: access-token-<id>, access-token-unsecure-<id>


class ExportFolders:
    """Per-session export folders under one private temporary folder (mode 0700).

    A file is removed `keep_s` seconds after it was written (at the next export of any
    session, or by `sweep`), and everything by `remove_all` when the app stops.
    """

    def __init__(self, keep_s: float, clock=time.time) -> None:
        self.keep_s, self.clock = keep_s, clock
        self.root: Path | None = None
        self._folders: dict[str, Path] = {}
        self._owners: dict[str, tuple[set[str], float]] = {}  # Gradio cache folder -> (sessions, when)
        self._lock = threading.Lock()

    def owners(self, cache_folder: str) -> set[str] | None:
        """The sessions that exported the file Gradio serves from `cache_folder` (None: not an export)."""
        with self._lock:
            found = self._owners.get(cache_folder)
            return set(found[0]) if found else None

    def write(self, session: str | None, name: str, text: str) -> Path:
        """Write `text` (UTF-8) as `name` in the session's folder, to be served to that session
        only; returns its path."""
        self.sweep()
        with self._lock:
            if self.root is None:
                self.root = Path(tempfile.mkdtemp(prefix="passerelle-exports-"))
            folder = self._folders.get(session or "")
            if folder is None or not folder.is_dir():
                # A random name: a session's folder cannot be guessed from another's.
                folder = self._folders[session or ""] = Path(tempfile.mkdtemp(dir=self.root))
        path = folder / Path(name).name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        from gradio.processing_utils import hash_file  # the name of the cache folder Gradio copies it to

        with self._lock:
            sessions = self._owners.get(hash_file(path), (set(), 0.0))[0]
            self._owners[hash_file(path)] = (sessions | {session or ""}, self.clock())
        return path

    def sweep(self) -> int:
        """Remove the exports older than `keep_s` (and emptied folders); returns how many files went."""
        removed = 0
        cutoff = self.clock() - self.keep_s
        with self._lock:
            for session, folder in list(self._folders.items()):
                for path in list(folder.glob("*")) if folder.is_dir() else []:
                    try:
                        if path.stat().st_mtime < cutoff:
                            path.unlink()
                            removed += 1
                    except FileNotFoundError:
                        pass
                if not folder.is_dir() or not any(folder.iterdir()):
                    shutil.rmtree(folder, ignore_errors=True)
                    del self._folders[session]
            # Gradio deletes its copies between one and two `keep_s` after they are made.
            self._owners = {k: v for k, v in self._owners.items() if v[1] >= cutoff - 2 * self.keep_s}
        return removed

    def remove_all(self) -> None:
        """Remove every export and the root folder (the app is stopping)."""
        with self._lock:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
                log.info("exports removed folder=%s", self.root)
            self.root, self._folders, self._owners = None, {}, {}


def browser_session(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The session a request belongs to, from its cookies: the sign-in tokens, else the
    browser's own cookie ("" when it has neither)."""
    cookies: dict[str, str] = {}
    for key, value in headers:
        if key.lower() == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:
                continue
            cookies.update({name: morsel.value for name, morsel in jar.items()})
    tokens = sorted(v for k, v in cookies.items() if k.startswith(_SESSION_COOKIES) and v)
    return "login:" + ",".join(tokens) if tokens else "browser:" + cookies.get(BROWSER_COOKIE, "")


def request_session(request: Any) -> str:
    """`browser_session` of a Gradio event's request (its `headers`)."""
    headers = getattr(request, "headers", None) or {}
    return browser_session([(str(k).encode("latin-1"), str(v).encode("latin-1")) for k, v in headers.items()])


class ExportGuard:
    """ASGI middleware: a browser without a session cookie of the app gets one, and the link to
    an export answers 403 to every session but the one that made it."""

    def __init__(self, app: Any, exports: ExportFolders) -> None:
        self.app, self.exports = app, exports

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        session = browser_session(headers)
        owners = self._export_owners(scope.get("path", ""))
        if owners is not None and session not in owners:
            log.warning("export refused path=%s reason=other-session", scope.get("path", "")[-80:])
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"Export d'une autre session / another session's export"})
            return
        if session == "browser:":
            send = _with_cookie(send)
        await self.app(scope, receive, send)

    def _export_owners(self, path: str) -> set[str] | None:
        for route in ("/file=", "/file/"):
            if route in path:
                served = Path(unquote(path.split(route, 1)[1]))
                return self.exports.owners(served.parent.name)
        return None


def _with_cookie(send: Callable) -> Callable:
    """`send`, giving the browser a random session cookie of the app (read by scripts never)."""
    value = secrets.token_urlsafe(24)

    async def sending(message: dict) -> None:
        if message["type"] == "http.response.start":
            cookie = f"{BROWSER_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax".encode()
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
        await send(message)

    return sending
