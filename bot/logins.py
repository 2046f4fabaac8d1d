"""Logins to the web app: throttled password checks that never block the server, and
sessions that end when their user changes.

Gradio's login route hands `launch(auth=...)` the name and password only. `SessionGuard`, an
ASGI middleware around the app, tells the check which client address is asking, records
which user each new session token belongs to (with the user's fingerprint at that moment,
`bot.users.user_fingerprint`) and, on every later request, ends a session whose user was
removed, added again or given another password or role: the request then counts as not
logged in. The password check itself (scrypt, ~0.1 s of CPU) runs in a worker thread, one at
a time, so forty wrong passwords at once neither freeze the event loop nor fill both cores.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

from bot.users import authenticate, user_fingerprint, users_stamp
from kb.logs import loggable
from kb.settings import Settings

log = logging.getLogger(__name__)

# The request being served, as seen by the login check: {"address": ..., then "user" and
# "fingerprint" once the password is right}. Set by SessionGuard for each request.
_REQUEST: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("passerelle_request", default=None)
ADDRESS_FACTOR = 4  # an address may fail this many times more than one name (several people behind it)
_COOKIE_PREFIX = "access-token-"  # Gradio's session cookies: access-token-<id>, access-token-unsecure-<id>


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


class LoginThrottle:
    """Failed logins per user name and per client address.

    After `free` failures of a name (ADDRESS_FACTOR × `free` of an address) every further try
    must come 2**(failures - free) seconds after the last failure (1 s, 2 s, 4 s... at most
    `lockout_s`); a try that comes sooner is refused without looking at the password, the
    right one included. Failures are forgotten `lockout_s` after the last one; a right
    password clears its name's.
    """

    def __init__(self, free: int, lockout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.lockout_s, self.clock = free, lockout_s, clock
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def _keys(self, name: str, address: str | None) -> list[tuple[str, int]]:
        keys = [(f"name:{name.casefold()}", self.free)]
        return keys + [(f"address:{address}", ADDRESS_FACTOR * self.free)] if address else keys

    def wait_s(self, name: str, address: str | None) -> float:
        """Seconds before `name` may try again from `address` (0 when it may now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key, free in self._keys(name, address):
                failures = self._failures.get(key)
                if failures is None or failures.count < free:
                    continue
                delay = min(2.0 ** (failures.count - free), self.lockout_s)
                wait = max(wait, failures.last + delay - now)
        return wait

    def record(self, name: str, address: str | None, ok: bool) -> None:
        """Count a checked password: a failure for the name and the address, or a success."""
        now = self.clock()
        with self._lock:
            if len(self._failures) > 10_000:  # many names tried: forget the old ones
                self._failures = {k: f for k, f in self._failures.items() if now - f.last <= self.lockout_s}
            for key, _ in self._keys(name, address):
                failures = self._failures.get(key)
                if failures is not None and now - failures.last > self.lockout_s:
                    failures = self._failures[key] = _Failures()
                if ok:
                    if key.startswith("name:"):
                        self._failures.pop(key, None)
                    continue
                failures = failures or self._failures.setdefault(key, _Failures())
                failures.count += 1
                failures.last = now


def login_check(settings: Settings, throttle: LoginThrottle) -> Callable[[str, str], Awaitable[bool]]:
    """The async `(name, password) -> bool` check for Gradio's `launch(auth=...)`: throttled by
    `throttle`, the password hashed in a worker thread, one check at a time."""
    one_at_a_time = asyncio.Semaphore(1)

    async def check(name: str, password: str) -> bool:
        request = _REQUEST.get() or {}
        address = request.get("address")
        async with one_at_a_time:
            # Looked at after the wait: the tries queued behind a failure see it.
            wait = throttle.wait_s(name, address)
            if wait > 0:
                log.warning("login refused name=%s address=%s reason=throttled wait_s=%.0f",
                            loggable(name, 64), loggable(address), wait)
                return False
            role = await asyncio.to_thread(authenticate, settings, name, password)
            throttle.record(name, address, role is not None)
        if role is not None:
            request["user"] = name
            request["fingerprint"] = await asyncio.to_thread(user_fingerprint, settings, name)
            log.info("login name=%s role=%s", loggable(name, 64), role)
        return role is not None

    return check


class SessionGuard:
    """ASGI middleware: the client address for the login check, and sessions tied to the
    user's fingerprint at login (see the module's docstring)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.sessions: dict[str, str] = {}  # session token -> user fingerprint at login
        self._stamp: Any = None
        self._current: dict[str, str | None] = {}

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request = {"address": (scope.get("client") or (None,))[0]}
        context = _REQUEST.set(request)
        try:
            self._end_changed_sessions(scope)
            if scope["type"] == "http" and scope.get("path", "").endswith("/login"):
                send = self._recording(send, request)
            await self.app(scope, receive, send)
        finally:
            _REQUEST.reset(context)

    def _recording(self, send: Callable, request: dict[str, Any]) -> Callable:
        """`send`, noting the token of a successful login with its user's fingerprint."""
        async def recording_send(message: dict) -> None:
            if message["type"] == "http.response.start" and request.get("fingerprint"):
                for token in session_tokens(message.get("headers", []), b"set-cookie"):
                    self.sessions[token] = request["fingerprint"]
            await send(message)

        return recording_send

    def _end_changed_sessions(self, scope: dict) -> None:
        tokens = getattr(scope.get("app"), "tokens", None)
        if not tokens:
            return
        for token in session_tokens(scope.get("headers", []), b"cookie"):
            name = tokens.get(token)
            if name is None:
                continue
            now = self._fingerprint(name)
            opened = self.sessions.setdefault(token, now) if now else None
            if now is None or now != opened:
                tokens.pop(token, None)
                self.sessions.pop(token, None)
                log.warning("session ended name=%s reason=%s", loggable(name, 64),
                            "user-removed" if now is None else "user-changed")

    def _fingerprint(self, name: str) -> str | None:
        """The user's fingerprint now; the users file is read again only when it changed (a
        shared users table is asked on every request: other servers change it unseen)."""
        stamp = users_stamp(self.settings)
        if stamp != self._stamp:
            self._stamp, self._current = stamp, {}
        if name not in self._current:
            self._current[name] = user_fingerprint(self.settings, name) if stamp else None
        return self._current[name]


def session_tokens(headers: list[tuple[bytes, bytes]], header: bytes = b"cookie") -> list[str]:
    """The Gradio session tokens in the Cookie (or Set-Cookie) headers."""
    found = []
    for key, value in headers:
        if key.lower() != header:
            continue
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(value.decode("latin-1"))
        except CookieError:
            continue
        found += [morsel.value for name, morsel in cookie.items() if name.startswith(_COOKIE_PREFIX) and morsel.value]
    return list(dict.fromkeys(found))
