"""Connections to the PostgreSQL server named by `Settings.database_url` (PASSERELLE_DATABASE_URL).

One psycopg connection pool per URL and process, opened on first use (never at import) and
closed at exit; `connection(url)` lends one. The URL holds the password: `mask` takes it out of
any text before it reaches a log line or a message, and every error raised here is a
`DatabaseError` whose message went through it. A filter on psycopg's own loggers does the same
for what the pool logs. Each component creates and migrates its own tables through `migrate`,
which records its version in the `schema_versions` table (one row per component).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from urllib.parse import quote, unquote, urlsplit

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
"""Seconds to open a connection, and to wait for a free one from the pool."""
POOL_SIZE = 4
_pools: dict[str, "object"] = {}
_urls: set[str] = set()  # every URL a pool was asked for: the log filter masks their passwords
_pools_lock = threading.Lock()


class DatabaseError(RuntimeError):
    """PostgreSQL cannot be reached or refused a request; the message never holds the password."""


def password_of(url: str) -> str | None:
    """The password written in `url` (None when it has none: then it comes from a PGPASSFILE)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def mask(text: str, url: str | None) -> str:
    """`text` with the password of `url` (as written and decoded) replaced by `***`."""
    password = password_of(url) if url else None
    if not password:
        return text
    for form in {password, quote(password, safe=""), urlsplit(url).password or password}:
        text = text.replace(form, "***")
    return text


def shown(url: str) -> str:
    """`url` as it may be shown to a person or logged: user, host, port and database, no password."""
    return mask(url, url)


class _MaskingFilter(logging.Filter):
    """Masks the passwords of every open pool's URL in psycopg's log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = text
        for url in list(_urls):
            masked = mask(masked, url)
        if masked != text:
            record.msg, record.args = masked, None
        return True


_FILTER = _MaskingFilter()


def pool(url: str):
    """The process's connection pool for `url`, opened (and checked) on first use.

    Raises DatabaseError when the server cannot be reached or refuses the login.
    """
    with _pools_lock:
        found = _pools.get(url)
        if found is not None:
            return found
        import psycopg
        from psycopg_pool import ConnectionPool

        _urls.add(url)
        for name in ("psycopg", "psycopg.pool"):
            logging.getLogger(name).addFilter(_FILTER)
        try:  # one direct connection first: its error says why (refused, bad password...)
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except psycopg.Error as exc:
            raise DatabaseError(f"cannot reach PostgreSQL at {shown(url)}: {mask(str(exc), url)}") from None
        # check_connection on each loan: a server restarted since is noticed and a fresh connection given.
        opened = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, timeout=CONNECT_TIMEOUT_S, open=True,
                                kwargs={"connect_timeout": CONNECT_TIMEOUT_S},
                                check=ConnectionPool.check_connection, name="passerelle")
        _pools[url] = opened
        log.info("database pool opened url=%s", shown(url))
        return opened


@contextlib.contextmanager
def connection(url: str) -> Iterator:
    """A pooled connection to `url` inside one transaction (committed when the block ends
    without an exception, rolled back otherwise); psycopg errors become DatabaseError."""
    import psycopg
    from psycopg_pool import PoolTimeout

    try:
        with pool(url).connection() as conn:
            yield conn
    except PoolTimeout:
        raise DatabaseError(f"PostgreSQL at {shown(url)} gave no connection within {CONNECT_TIMEOUT_S} s") from None
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"PostgreSQL at {shown(url)} failed: {mask(str(exc), url)}") from None


def migrate(conn, component: str, steps: Sequence[str]) -> int:
    """Bring `component`'s tables to version len(steps): run the SQL of each step not yet applied
    and record the version, under a lock so two servers starting at once do it once. Returns
    the version. Run inside `connection(...)`'s transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('passerelle schema'))")
    conn.execute("CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_versions WHERE component = %s", (component,)).fetchone()
    version = row[0] if row else 0
    if version > len(steps):
        raise DatabaseError(f"the {component} tables are at version {version}, newer than this Passerelle "
                            f"({len(steps)}): upgrade Passerelle")
    for number, step in enumerate(steps[version:], start=version + 1):
        conn.execute(step)
        log.info("database migrated component=%s version=%d", component, number)
    if version < len(steps):
        conn.execute("INSERT INTO schema_versions (component, version) VALUES (%s, %s) "
                     "ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version", (component, len(steps)))
    return len(steps)


def close_pools() -> None:
    """Close every pool of this process (at exit, and between tests)."""
    with _pools_lock:
        for opened in _pools.values():
            opened.close()
        _pools.clear()


atexit.register(close_pools)
