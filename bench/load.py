"""Load: concurrent `gradio_client` sessions against the real web app.

    python -m bench.load [--clients 20] [--seconds 60] [--url URL | --store DIR] [--set PASSERELLE_X=V] [--json FILE]

Without --url, ingests corpus/ into --store (incremental; default bench-results/corpus-store,
the store `python -m evals` uses too), starts `python app.py` on a free port over it and
stops it at the end. Questions come from the corpus question set (evals/data), cycled so
that every session asks a different mix. Two phases against the same server:

1. baseline: one client asks the questions one after another (the latency of a quiet morning);
2. load: N clients, each with its own session, ask as fast as they get answers for S seconds.

Prints answers/s, p50/p95/max latency and errors for both, next to the targets (0 errors,
p95 <= 4 s, issue 23), and writes them to --json (default bench-results/load.json).
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = REPO_ROOT / "evals" / "data" / "corpus_questions.jsonl"
TARGET_P95_S = 4.0  # issue 23, item 6: 20 users for 60 s, 0 errors, p95 <= 4 s
REQUEST_TIMEOUT_S = 120

log = logging.getLogger("bench.load")


def load_questions(path: Path = QUESTIONS) -> list[str]:
    """Questions of the corpus question set without a conversation history (they stand alone)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if not r.get("history")]


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summarise(latencies: list[float], errors: list[str], seconds: float, clients: int) -> dict[str, Any]:
    """Counts, rate and latency figures of one phase."""
    return {
        "clients": clients,
        "seconds": round(seconds, 1),
        "answers": len(latencies),
        "answers_per_s": round(len(latencies) / seconds, 2) if seconds else None,
        "p50_s": _round(percentile(latencies, 0.50)),
        "p95_s": _round(percentile(latencies, 0.95)),
        "max_s": _round(max(latencies) if latencies else None),
        "errors": len(errors),
        "error_kinds": dict(Counter(errors).most_common(5)),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _client(url: str, auth: tuple[str, str] | None):
    from gradio_client import Client

    return Client(url, verbose=False, auth=auth, analytics_enabled=False,
                  httpx_kwargs={"timeout": REQUEST_TIMEOUT_S}, download_files=False)


def _ask(client, question: str) -> str:
    reply = client.predict(question, api_name="/chat")
    if not isinstance(reply, str) or not reply.strip():
        raise ValueError(f"empty or unexpected reply: {str(reply)[:80]!r}")
    return reply


def run_baseline(url: str, questions: list[str], auth) -> dict[str, Any]:
    """Every question once, one after another, from a single client."""
    client = _client(url, auth)
    latencies, errors = [], []
    started = time.monotonic()
    for question in questions:
        t0 = time.monotonic()
        try:
            _ask(client, question)
            latencies.append(time.monotonic() - t0)
        except Exception as exc:  # every failure is counted, whatever its kind
            errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
    return summarise(latencies, errors, time.monotonic() - started, 1)


def run_load(url: str, questions: list[str], clients: int, seconds: float, auth) -> dict[str, Any]:
    """`clients` sessions asking without pause for `seconds`; answers still running at the end are waited for."""
    sessions: list[Any] = [None] * clients
    failures: list[str] = []

    def connect(i: int) -> None:
        try:
            sessions[i] = _client(url, auth)
        except Exception as exc:
            failures.append(f"connect {type(exc).__name__}: {str(exc)[:120]}")

    openers = [threading.Thread(target=connect, args=(i,)) for i in range(clients)]
    for t in openers:
        t.start()
    for t in openers:
        t.join()
    latencies: list[float] = []
    errors: list[str] = list(failures)
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def session(i: int) -> None:
        start_gate.wait()
        client, n = sessions[i], i * 7
        while client is not None and time.monotonic() < deadline[0]:
            question = questions[n % len(questions)]
            n += 1
            t0 = time.monotonic()
            try:
                _ask(client, question)
                outcome = ("ok", time.monotonic() - t0)
            except Exception as exc:
                outcome = ("error", f"{type(exc).__name__}: {str(exc)[:120]}")
            with lock:
                (latencies if outcome[0] == "ok" else errors).append(outcome[1])

    workers = [threading.Thread(target=session, args=(i,)) for i in range(clients)]
    for t in workers:
        t.start()
    deadline[0] = time.monotonic() + seconds
    started = time.monotonic()
    start_gate.wait()
    for t in workers:
        t.join()
    return summarise(latencies, errors, time.monotonic() - started, clients)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with code {process.returncode} before listening") from None
            time.sleep(0.5)
    raise RuntimeError(f"nothing listened on port {port} within {seconds:.0f} s")


def start_server(store: Path, log_path: Path, settings: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Ingest corpus/ into `store` (incremental), then start `python app.py` on a free port,
    with `settings` (PASSERELLE_* variables) and none of this process's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSERELLE_")}
    env.update(PYTHONPATH=str(REPO_ROOT), PASSERELLE_STORE=str(store))
    ingest = subprocess.run([sys.executable, "-m", "ingest", "corpus", "--prune", "--quiet", "--store", str(store)],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if ingest.returncode not in (0, 2):
        raise RuntimeError(f"ingestion failed: {ingest.stderr.strip()[-500:]}")
    port = _free_port()
    env.update(settings or {})
    env["PASSERELLE_PORT"] = str(port)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT, env=env, stdout=open(log_path, "w"),
                              stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, server)
    except BaseException:
        server.kill()
        raise
    return server, f"http://127.0.0.1:{port}/"


def _cpu_seconds(process: subprocess.Popen | None) -> float:
    """CPU time (user + system) used so far by `process`, from /proc; 0 when unknown."""
    if process is None:
        return 0.0
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def format_report(result: dict[str, Any]) -> str:
    """A Markdown table of both phases and the verdict."""
    rows = [("baseline: 1 client, sequential", result["baseline"]),
            (f"load: {result['load']['clients']} clients, {result['load']['seconds']:.0f} s", result["load"])]
    lines = ["| phase | answers | answers/s | p50 (s) | p95 (s) | max (s) | errors |", "|---|---|---|---|---|---|---|"]
    for label, r in rows:
        lines.append(f"| {label} | {r['answers']} | {r['answers_per_s']} | {r['p50_s']} | {r['p95_s']} | "
                     f"{r['max_s']} | {r['errors']} |")
    load = result["load"]
    verdict = "met" if load["errors"] == 0 and (load["p95_s"] or 1e9) <= TARGET_P95_S else "MISSED"
    lines.append(f"\ntarget (0 errors, p95 <= {TARGET_P95_S:g} s under load): {verdict}; "
                 f"{os.cpu_count()} CPU(s); server {result['url']}"
                 + (f" with {' '.join(f'{k}={v}' for k, v in result['settings'].items())}" if result.get("settings") else ""))
    cpu = [f"load generator {load['client_cpu_s']} s"]
    if "server_cpu_s" in load:
        cpu.insert(0, f"server {load['server_cpu_s']} s ({load['server_cpu_ms_per_answer']} ms per answer)")
    lines.append(f"CPU used during the load phase: {', '.join(cpu)}")
    for phase in ("baseline", "load"):
        for kind, count in result[phase]["error_kinds"].items():
            lines.append(f"  {phase} error x{count}: {kind}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code (0 even when the target is missed: it is a measurement)."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20, help="concurrent sessions (default: 20)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the load phase (default: 60)")
    parser.add_argument("--url", help="an already running app (default: start one over --store)")
    parser.add_argument("--store", type=Path, default=REPO_ROOT / "bench-results" / "corpus-store",
                        help="store to serve when starting the app (default: bench-results/corpus-store)")
    parser.add_argument("--set", action="append", default=[], metavar="PASSERELLE_NAME=VALUE",
                        help="a setting of the app started here (repeatable); the reader's cache is off unless "
                             "PASSERELLE_READER_CACHE=1 is set, because the load phase repeats the baseline's questions")
    parser.add_argument("--auth", metavar="USER:PASSWORD", help="log in as this user when the app asks for one")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "bench-results" / "load.json",
                        help="where to write the figures (default: bench-results/load.json)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients must be at least 1 and --seconds positive")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    for noisy in ("httpx", "gradio_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    settings = dict(item.split("=", 1) for item in args.set if "=" in item)
    if len(settings) != len(args.set) or any(not name.startswith("PASSERELLE_") for name in settings):
        parser.error("--set takes PASSERELLE_NAME=VALUE")
    if not args.url:
        # The load phase asks the baseline's questions again: with the reader's cache on, it
        # would measure repeated questions, not the cost of new ones.
        settings.setdefault("PASSERELLE_READER_CACHE", "0")
    questions = load_questions()
    server = None
    try:
        if args.url:
            url = args.url
        else:
            server_log = Path(tempfile.gettempdir()) / "passerelle-load-server.log"
            print(f"starting the app over {args.store} (log: {server_log}) ...", file=sys.stderr)
            server, url = start_server(args.store, server_log, settings)
        warm = _client(url, auth)
        for question in questions[:3]:  # the model and indexes load on the first questions
            _ask(warm, question)
        print("baseline (1 client) ...", file=sys.stderr)
        baseline = run_baseline(url, questions, auth)
        print(f"load ({args.clients} clients, {args.seconds:g} s) ...", file=sys.stderr)
        server_cpu, client_cpu = _cpu_seconds(server), time.process_time()
        load = run_load(url, questions, args.clients, args.seconds, auth)
        # On a small machine the load generator competes with the server for the same cores.
        load["client_cpu_s"] = round(time.process_time() - client_cpu, 1)
        if server is not None:
            load["server_cpu_s"] = round(_cpu_seconds(server) - server_cpu, 1)
            load["server_cpu_ms_per_answer"] = round(1000 * load["server_cpu_s"] / max(1, load["answers"]), 1)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    result = {"url": url, "settings": settings, "cpus": os.cpu_count(), "questions": len(questions), "target_p95_s": TARGET_P95_S,
              "baseline": baseline, "load": load}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(format_report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
