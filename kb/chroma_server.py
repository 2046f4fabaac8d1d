"""`python -m kb.chroma_server`: a Chroma server that lets in only the holders of a token.

chromadb 1.5.9's `chroma run` (its Rust server) has no authentication: it ignores the
`CHROMA_SERVER_AUTHN_*` variables and any auth key of its config file, and answers every
client (measured; chromadb's Rust `run` command starts its frontend with a no-op
authenticator). The same package still ships Chroma's Python server (`chromadb.app`, which
chromadb's own auth tests run) with its token authentication; this module starts that server
with `TokenAuthenticationServerProvider` and the token of `PASSERELLE_CHROMA_TOKEN`, over the same
storage engine and folder format as `chroma run`. Every request but the heartbeat and version
needs `Authorization: Bearer <token>`; a missing or wrong token gets 403 and no data.

The token is read from the environment through `Settings`, never from the command line
(other users of the machine can read command lines).

chromadb 1.5.9's Python server also fails every `get` or `query` that asks for embeddings
(it calls `.tolist()` on the plain lists its Rust engine returns); `EmbeddingsAsArrays`, the
engine it is given here through Chroma's `chroma_api_impl` setting, hands them over as arrays.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kb.settings import offline_environment
offline_environment()  # before chromadb is imported: it reads it then
import numpy as np  # noqa: E402
from chromadb.api.rust import RustBindingsAPI  # noqa: E402  (this module exists to run a Chroma server)
from chromadb.api.types import GetResult, QueryResult  # noqa: E402
from overrides import override  # noqa: E402  (chromadb's classes require it on every override)

from kb.logs import configure_logging  # noqa: E402
from kb.settings import Settings, SettingsError  # noqa: E402

EPILOG = """\
environment: PASSERELLE_CHROMA_TOKEN (required: the token clients must send; the app servers and
ingestion send the same variable's value).
example:
  PASSERELLE_CHROMA_TOKEN=$(cat /etc/passerelle/chroma.token) \\
    python -m kb.chroma_server --path /srv/chroma --host 10.0.0.5 --port 8000
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="python -m kb.chroma_server", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a Chroma server (chromadb's own server) that answers only clients sending its token.",
    )
    parser.add_argument("--path", type=Path, required=True, help="folder of the Chroma data (created if missing)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    return parser


class EmbeddingsAsArrays(RustBindingsAPI):
    """Chroma's Rust engine, with the embeddings it returns as numpy arrays (the server expects them)."""

    @override
    def _get(self, *args: Any, **kwargs: Any) -> GetResult:
        result = super()._get(*args, **kwargs)
        if result.get("embeddings") is not None:
            result["embeddings"] = [np.asarray(e, dtype=np.float32) for e in result["embeddings"]]
        return result

    @override
    def _query(self, *args: Any, **kwargs: Any) -> QueryResult:
        result = super()._query(*args, **kwargs)
        if result.get("embeddings") is not None:
            result["embeddings"] = [[np.asarray(e, dtype=np.float32) for e in row] for row in result["embeddings"]]
        return result


def server_app(path: Path, token: str):
    """The ASGI application of a Chroma server storing in `path` and requiring `token`."""
    import chromadb.config
    from chromadb.server.fastapi import FastAPI

    settings = chromadb.config.Settings(
        is_persistent=True, persist_directory=str(path), anonymized_telemetry=False,
        chroma_server_authn_provider="chromadb.auth.token_authn.TokenAuthenticationServerProvider",
        chroma_server_authn_credentials=token, chroma_api_impl="kb.chroma_server.EmbeddingsAsArrays",
    )
    return FastAPI(settings).app()


def main(argv: list[str] | None = None) -> int:
    """Run the server until interrupted; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not settings.chroma_token:
        print("error: set PASSERELLE_CHROMA_TOKEN to the token clients must send "
              "(e.g. PASSERELLE_CHROMA_TOKEN=$(openssl rand -hex 32))", file=sys.stderr)
        return 1
    if not all(33 <= ord(c) < 127 for c in settings.chroma_token):
        print("error: PASSERELLE_CHROMA_TOKEN may hold only ASCII letters, digits and punctuation", file=sys.stderr)
        return 1
    configure_logging(settings.log_level)
    import uvicorn

    args.path.mkdir(parents=True, exist_ok=True)
    app = server_app(args.path, settings.chroma_token)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
