"""Users of the web chat and their roles, in a small JSON file under the store folder or, when
several app servers share a PostgreSQL database (`Settings.database_url`), in its `users` table
(`bot.user_store` holds both).

The file (`<store>/users.json`, mode 0600) or the table maps each user name to a role and a
password hash; passwords are never stored. Hashes use the standard library's scrypt with a
random 16-byte salt per user and slow parameters (N=2**15, r=8, p=1: about 0.1 s and
32 MiB per check); the parameters are stored with each hash, so they can be raised later
without invalidating existing users. Every write goes to a temporary file that replaces
the old one, under a lock, so a crash or two administrators at once never leave a
half-written file; in PostgreSQL each change is one transaction and the name is the key.

When no users file (or table) exists, the web chat runs as a single local `reader` (public
documents only); once it exists, the chat asks for a login and the user's role decides
what may be read. Nothing here runs at import time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from bot.user_store import USERS_FILE, UserError, UsersFileError, user_store
from kb.logs import loggable
from kb.schema import ROLES
from kb.settings import Settings

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
# scrypt cost: N (CPU/memory), r (block size), p (parallelism); 128*N*r bytes of memory.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**15, 8, 1, 32
_SCHEME = "scrypt"


class UnknownRoleError(UserError):
    """The role is not one of ROLES."""


class DuplicateUserError(UserError):
    """A user with this name already exists."""


class UnknownUserError(UserError):
    """No user has this name."""


class BadNameError(UserError):
    """The user name has characters or a length that are not allowed."""


class EmptyPasswordError(UserError):
    """The password is empty (or only spaces)."""


class WeakPasswordError(UserError):
    """The password is too short or is the user name."""


@dataclass(frozen=True)
class User:
    """A user as listed (no password hash)."""

    name: str
    role: str
    created_at: float


def users_path(settings: Settings) -> Path:
    """Where the users file of the store named by `settings` lives."""
    return Path(settings.store) / USERS_FILE


def users_location(settings: Settings) -> str:
    """Where the users of `settings` live, as shown to an administrator (never a password)."""
    return user_store(settings).where


def users_file_exists(settings: Settings) -> bool:
    """True when a users file (or, with a database, the users table) exists: the web chat must
    then ask for a login."""
    return user_store(settings).exists()


def users_stamp(settings: Settings) -> Any:
    """Changes whenever the users change (None when there are none): what was derived from
    them may be kept until it does. With a shared database every call differs, since other
    servers change the table unseen."""
    return user_store(settings).stamp()


def add_user(settings: Settings, name: str, password: str, role: str) -> User:
    """Create a user; raises BadNameError, EmptyPasswordError, WeakPasswordError, UnknownRoleError,
    DuplicateUserError."""
    check_password(password, name)
    _check_name(name)
    _check_role(role)
    entry = {"role": role, "password": hash_password(password), "created_at": time.time()}
    existing = user_store(settings).insert(name, entry)
    if existing is not None:
        raise _duplicate(name, existing["role"])
    log.info("user added name=%s role=%s", loggable(name), role)
    return User(name, role, entry["created_at"])


def check_new_user(settings: Settings, name: str, role: str) -> None:
    """Raise what `add_user` would for this name and role (before asking for a password)."""
    _check_name(name)
    _check_role(role)
    existing = user_store(settings).get(name)
    if existing is not None:
        raise _duplicate(name, existing["role"])


def remove_user(settings: Settings, name: str) -> None:
    """Delete a user; raises UnknownUserError when there is none of that name."""
    store = user_store(settings)
    if not isinstance(name, str) or not store.delete(name):
        raise UnknownUserError(_unknown(name, store.read()))
    log.info("user removed name=%s", loggable(name))


def list_users(settings: Settings) -> list[User]:
    """Every user, sorted by name (empty when there is no users file)."""
    users = user_store(settings).read()
    return [User(name, entry["role"], entry.get("created_at", 0.0)) for name, entry in sorted(users.items())]


def user_role(settings: Settings, name: str) -> str | None:
    """The role of user `name`, or None when there is no such user."""
    entry = user_store(settings).get(name) if isinstance(name, str) else None
    return entry["role"] if entry else None


def authenticate(settings: Settings, name: str, password: str) -> str | None:
    """The user's role when `password` is right, else None (unknown user, wrong password).

    An unknown name costs the same hash as a known one, so timing does not reveal
    which names exist; the comparison itself is constant-time.
    """
    if not isinstance(name, str) or not isinstance(password, str):
        return None
    try:
        entry = user_store(settings).get(name)
    except UsersFileError as exc:
        log.error("login refused: %s", exc)
        return None
    if entry is None:
        verify_password(password, _DUMMY_HASH)
        log.info("login refused name=%s reason=unknown-user", loggable(name, 64))
        return None
    if not verify_password(password, entry["password"]):
        log.info("login refused name=%s reason=wrong-password", loggable(name, 64))
        return None
    return entry["role"]


def authenticator(settings: Settings) -> Callable[[str, str], bool]:
    """A `(name, password) -> bool` check, the shape Gradio's `launch(auth=...)` takes
    (the web app uses `bot.logins.login_check`, which throttles it and runs it off the event loop)."""

    def check(name: str, password: str) -> bool:
        return authenticate(settings, name, password) is not None

    return check


def user_fingerprint(settings: Settings, name: str) -> str | None:
    """A short digest of the user's role and password hash, None when there is no such user:
    it changes when the user is removed, added again, given another password or role, so a
    session opened before no longer matches (`bot.logins`)."""
    try:
        entry = user_store(settings).get(name) if isinstance(name, str) else None
    except UsersFileError as exc:  # unreadable: no fingerprint, so the session ends (fail closed)
        log.error("user check failed name=%s: %s", loggable(name, 64), exc)
        return None
    if entry is None:
        return None
    return hashlib.sha256(f"{name}\0{entry['role']}\0{entry['password']}".encode()).hexdigest()[:32]


# ----- hashing -------------------------------------------------------------------------
def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash` (base64) for `password`, with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN)
    return "$".join((_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)))


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the `stored` hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=256 * n * r * p + (1 << 20))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# Hashed against when the name is unknown, so both paths cost one scrypt.
_DUMMY_HASH = "$".join((_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(b"\0" * 16), _b64(b"\0" * 32)))


# ----- checks --------------------------------------------------------------------------
def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise BadNameError(
            f"bad user name {name!r}: use 1 to 64 letters, digits, '.', '_', '-' or '@', "
            "starting with a letter or digit"
        )
    return name


def check_password(password: Any, name: Any = None) -> None:
    """Raise what `add_user` would for this password (empty, too short, too long, the user name)."""
    if not isinstance(password, str) or not password.strip():
        raise EmptyPasswordError("the password is empty: choose a non-empty password")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UserError(f"the password is longer than {MAX_PASSWORD_CHARS} characters")
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPasswordError(f"the password has {len(password)} characters: choose one of at least "
                                f"{MIN_PASSWORD_CHARS} (a phrase of several words is easy to remember)")
    if isinstance(name, str) and password.strip().casefold() == name.casefold():
        raise WeakPasswordError("the password is the user name: choose another one")


def _check_role(role: Any) -> None:
    if role not in ROLES:
        raise UnknownRoleError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")


def _duplicate(name: str, role: str) -> DuplicateUserError:
    return DuplicateUserError(
        f"user {name!r} already exists (role {role}); remove it first with `python -m bot users remove {name}`"
    )


def _unknown(name: str, users: dict[str, Any]) -> str:
    known = ", ".join(sorted(users)) or "none"
    return f"no user named {name!r} (users: {known})"


def session_role(settings: Settings, name: str | None) -> tuple[str, str | None]:
    """(role, user name) for a web request by `name` (None when nobody is logged in).

    Without a users file there are no logins: the single local reader. A user removed
    since logging in falls back to the least privilege.
    """
    if not users_file_exists(settings) or not name:
        return "reader", None
    return user_role(settings, name) or "reader", name
