"""Answers while an ingestion writes, across two app servers sharing one knowledge base (issue 25
item 4): PostgreSQL (a throwaway cluster), a `chroma run` server and two `python app.py`.

    python -m bench.replicas [--users 20] [--seconds 60] [--documents 50]

First the baseline: `--users` simulated users ask for `--seconds / 3` with nothing else running.
Then the same users ask for `--seconds` while `python -m ingest` adds `--documents` illustrative
notes, then replaces every one of them (each note's code word changes). Prints errors, answers,
p50/p95 answer time for both phases (targets: 0 errors, p95 ≤ 4 s under ingestion) and how many
quotes shown were not the text of a whole version of their document (target 0).
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.load import percentile

log = logging.getLogger("bench.replicas")
REPO_ROOT = Path(__file__).resolve().parents[1]


def _ask_for(servers: list, seconds: float, users: int, documents: int, timings: list, errors: list,
             replies: list) -> None:
    from gradio_client import Client

    deadline = time.monotonic() + seconds

    def user(index: int) -> None:
        client = Client(servers[index % len(servers)].url, verbose=False)
        n = index
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                replies.append(client.predict(f"Quel est le nom de code du projet pilote numéro {100 + n % documents} ?",
                                              api_name="/chat"))
                timings.append(time.monotonic() - started)
            except Exception as exc:  # noqa: BLE001 - any failure a user sees counts
                errors.append(repr(exc)[:200])
            n += users

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _row(name: str, timings: list, errors: list) -> str:
    if not timings:
        return f"| {name} | 0 | {len(errors)} | – | – |"
    return (f"| {name} | {len(timings)} | {len(errors)} | {percentile(timings, 0.5):.2f} | "
            f"{percentile(timings, 0.95):.2f} |")


def main(argv: list[str] | None = None) -> int:
    """Run the bench; print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20, help="simulated users asking at once (default 20)")
    parser.add_argument("--seconds", type=float, default=60, help="how long they ask during ingestion (default 60)")
    parser.add_argument("--documents", type=int, default=50, help="documents added then replaced (default 50)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the figures
    from tests.kb.conftest import new_database
    from tests.postgres import postgres_cluster
    from tests.test_replicas import _app, _chroma, _document, stale_quotes

    root = Path(tempfile.mkdtemp(prefix="passerelle-bench-replicas-"))
    with postgres_cluster(Path(tempfile.mkdtemp(prefix="passerelle-pg-"))) as server_url, _chroma(root) as port:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PASSERELLE_DATABASE_URL": new_database(server_url),
               "PASSERELLE_CHROMA_HOST": "127.0.0.1", "PASSERELLE_CHROMA_PORT": str(port)}
        docs = root / "docs"
        docs.mkdir()
        # The first half is there before the servers start; the ingestion adds the rest, then replaces all.
        for n in range(100, 100 + args.documents // 2):
            _document(docs, n, f"ALPHA-{n}")
        ingest = [sys.executable, "-m", "ingest", str(docs), "--quiet"]
        subprocess.run(ingest, cwd=REPO_ROOT, check=True, env={**env, "PASSERELLE_STORE": str(root / "one" / "store")})
        for n in range(100 + args.documents // 2, 100 + args.documents):
            _document(docs, n, f"ALPHA-{n}")
        with _app(root / "one", env) as one, _app(root / "two", env) as two:
            servers = [one, two]
            from gradio_client import Client

            for server in servers:  # models load on the first question: not part of either phase
                Client(server.url, verbose=False).predict("Quel est le nom de code du projet pilote numéro 100 ?",
                                                          api_name="/chat")
            base_t, base_e, base_r = [], [], []
            log.info("baseline: %d users for %.0f s", args.users, args.seconds / 3)
            _ask_for(servers, args.seconds / 3, args.users, args.documents // 2, base_t, base_e, base_r)

            def write() -> None:
                store_env = {**env, "PASSERELLE_STORE": str(root / "one" / "store")}
                subprocess.run(ingest, cwd=REPO_ROOT, check=True, env=store_env)
                for n in range(100, 100 + args.documents):
                    _document(docs, n, f"BRAVO-{n}")
                subprocess.run(ingest, cwd=REPO_ROOT, check=True, env=store_env)

            writer = threading.Thread(target=write)
            writer.start()
            log.info("under ingestion: %d users for %.0f s", args.users, args.seconds)
            load_t, load_e, load_r = [], [], []
            _ask_for(servers, args.seconds, args.users, args.documents, load_t, load_e, load_r)
            writer.join()
    texts = [p.read_text(encoding="utf-8") for p in docs.glob("*.md")]
    texts += [t.replace("BRAVO", "ALPHA") for t in texts]
    quotes, stale = stale_quotes(base_r + load_r, texts)
    print(f"\n{args.users} users, 2 app servers, one PostgreSQL, one Chroma server; "
          f"{args.documents} documents added then replaced during the second phase\n")
    print("| phase | answers | errors | p50 s | p95 s |\n|---|---|---|---|---|")
    print(_row("baseline (no ingestion)", base_t, base_e))
    print(_row("during ingestion", load_t, load_e))
    print(f"\nquotes checked: {len(quotes)}, not the text of a whole document version: {len(stale)}")
    for error in (base_e + load_e)[:5]:
        print("error:", error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
