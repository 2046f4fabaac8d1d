"""Opening Chroma (embedded folder or server, with its token) and naming its failures.

A Chroma server is reached with chromadb's HTTP client; `Settings.chroma_token` is sent with
Chroma's own token scheme (`Authorization: Bearer …`, chromadb's `TokenAuthClientProvider`),
which the server started by `python -m kb.chroma_server` checks on every request.

The HTTP client opens a new connection for each request that finds its pooled one dead, so a
handle outlives a restart of the server: while the server is down every call fails with
`ChromaUnreachableError`, and the first call after it is back succeeds. `chroma_calls` (a
decorator and a context manager) turns the transport errors of chromadb into that error, so
the chat and the command-line tools show one clear sentence instead of a traceback. Each
request has `Settings.chroma_timeout_s` to connect and to answer: a server that hangs
(stopped, not dead) fails the same way instead of holding the answer.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from kb.catalog import StoreError
from kb.settings import Settings

log = logging.getLogger(__name__)

TOKEN_CLIENT = "chromadb.auth.token_authn.TokenAuthClientProvider"
TOKEN_SERVER = "chromadb.auth.token_authn.TokenAuthenticationServerProvider"
# Rows read per request when a whole collection is walked (check, backup).
PAGE = 1000

F = TypeVar("F", bound=Callable[..., Any])


class ChromaUnreachableError(StoreError):
    """The Chroma server does not answer (stopped, restarting, network down): try again later."""


class ChromaTokenError(StoreError):
    """The Chroma server refused the token (missing or different from the server's)."""


def server_address(settings: Settings) -> str:
    """host:port of the Chroma server of `settings`."""
    return f"{settings.chroma_host}:{settings.chroma_port}"


def connect(settings: Settings, folder: Path) -> Any:
    """A chromadb client: the server of `settings` (sending its token), else embedded in `folder`.

    Raises ChromaUnreachableError when the server does not answer, ChromaTokenError when it
    refuses the token, StoreError for anything else."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    options: dict[str, Any] = {"anonymized_telemetry": False, "allow_reset": True}
    try:
        if not settings.uses_chroma_server:
            return chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(**options))
        if settings.chroma_token:
            options.update(chroma_client_auth_provider=TOKEN_CLIENT, chroma_client_auth_credentials=settings.chroma_token)
        with chroma_calls(settings):
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                         settings=ChromaSettings(**options))
            _limit_wait(client, settings.chroma_timeout_s)
            # The heartbeat needs no token: listing collections proves the token is accepted.
            client.heartbeat()
            client.count_collections()
        return client
    except StoreError:
        raise
    except Exception as exc:
        where = (f"the Chroma server at {server_address(settings)}" if settings.uses_chroma_server
                 else f"the embedded Chroma store in {folder}")
        raise StoreError(f"cannot reach {where}: {exc}") from exc


def _limit_wait(client: Any, seconds: float) -> None:
    """Give the HTTP client's requests a timeout. chromadb builds its httpx session with none
    and has no setting for one, so a server that stops answering (hung, or its machine frozen)
    would hold an answer forever; httpx then raises a TimeoutException, a TransportError,
    which `unreachable` maps to ChromaUnreachableError."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):
        raise StoreError("this chromadb version's HTTP client cannot be given a timeout: pin the tested chromadb")
    session.timeout = httpx.Timeout(seconds)


def unreachable(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) is a failure to talk to the server, not a refusal."""
    import httpx

    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, (httpx.TransportError, ConnectionError)):
            return True
        if "Could not connect to a Chroma server" in str(current):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _refused(exc: BaseException) -> bool:
    from chromadb.errors import AuthorizationError, ChromaAuthError

    return isinstance(exc, (ChromaAuthError, AuthorizationError))


def mapped_error(settings: Settings, exc: BaseException, doing: str = "") -> StoreError | None:
    """The ChromaTokenError or ChromaUnreachableError that `exc` amounts to, or None when it is
    neither (or Chroma is embedded)."""
    if not settings.uses_chroma_server or isinstance(exc, StoreError):
        return None
    what = f" while {doing}" if doing else ""
    if _refused(exc):
        return ChromaTokenError(
            f"the Chroma server at {server_address(settings)} refused the token{what}: set "
            "PASSERELLE_CHROMA_TOKEN to the token the server was started with"
        )
    if unreachable(exc):
        log.warning("chroma unreachable server=%s doing=%s error=%s", server_address(settings), doing or "-",
                    type(exc).__name__)
        return ChromaUnreachableError(
            f"the knowledge base is unreachable: the Chroma server at {server_address(settings)} does not "
            f"answer{what} ({type(exc).__name__}); try again once it is back"
        )
    return None


@contextlib.contextmanager
def chroma_calls(settings: Settings, doing: str = "") -> Iterator[None]:
    """Turn chromadb's transport and token failures inside the block into ChromaUnreachableError
    and ChromaTokenError (other errors pass through unchanged)."""
    try:
        yield
    except Exception as exc:
        mapped = mapped_error(settings, exc, doing)
        if mapped is None:
            raise
        raise mapped from exc


def guarded(doing: str) -> Callable[[F], F]:
    """Decorate a method of an object with a `settings` attribute (a KnowledgeBase) or a function
    whose first argument has one: its Chroma failures become ChromaUnreachableError/ChromaTokenError."""

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def run(owner: Any, *args: Any, **kwargs: Any) -> Any:
            with chroma_calls(owner.settings, doing):
                return func(owner, *args, **kwargs)

        return run  # type: ignore[return-value]

    return wrap


def store_collections(client: Any, name: str) -> list[Any]:
    """The Chroma collections of the store whose collection is `name`: that one and its
    partitions (`name--…`), sorted by name."""
    found = [c for c in client.list_collections() if c.name == name or c.name.startswith(name + "--")]
    return sorted(found, key=lambda c: c.name)


def pages(collection: Any, include: list[str], page: int = PAGE) -> Iterator[dict[str, Any]]:
    """Every record of `collection`, `page` at a time (chromadb `get` results)."""
    offset = 0
    while True:
        batch = collection.get(limit=page, offset=offset, include=include)
        if not batch["ids"]:
            return
        yield batch
        offset += len(batch["ids"])
