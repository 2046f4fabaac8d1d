"""Warm start: how long the first question after `python app.py` starts takes, against the next ones.

    python -m bench.warm_start [--store DIR] [--questions 5] [--json FILE]

Starts the real app twice over the same store (ingested from corpus/ first, incremental;
default bench-results/corpus-store), once with the warm start off (PASSERELLE_WARM_START=0,
the behaviour before it: the models load at the first question) and once with it on (the
default). Each time it measures, from the process start, when the port opens and when the app
prints "Passerelle est prête", then asks the first N standalone questions of the corpus
question set through `/chat`, one after another, as soon as the app is ready. Prints the
first answer's time beside the median of the 2nd..Nth (the baseline of the same run), and
writes them to --json (default bench-results/warm_start.json).
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.load import REPO_ROOT, _ask, _client, _free_port, _wait_for_port, load_questions

READY = "Passerelle est prête"


def _wait_for_line(log_path: Path, text: str, process: subprocess.Popen, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while text not in log_path.read_text(encoding="utf-8", errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the app never printed {text!r} (see {log_path})")
        time.sleep(0.1)


def measure(store: Path, warm: bool, questions: list[str], log_path: Path) -> dict[str, Any]:
    """Start the app over `store` with the warm start on or off; its start and answer times (s)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSERELLE_")}
    port = _free_port()
    env.update(PYTHONPATH=str(REPO_ROOT), PASSERELLE_STORE=str(store), PASSERELLE_PORT=str(port),
               PASSERELLE_WARM_START="1" if warm else "0")
    started = time.monotonic()
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, server, seconds=600)
        listening = time.monotonic() - started
        _wait_for_line(log_path, READY, server)
        ready = time.monotonic() - started
        client = _client(f"http://127.0.0.1:{port}/", None)
        times = []
        for question in questions:
            asked = time.monotonic()
            _ask(client, question)
            times.append(time.monotonic() - asked)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    later = statistics.median(times[1:]) if len(times) > 1 else None
    return {"warm_start": warm, "listening_s": round(listening, 2), "ready_s": round(ready, 2),
            "first_s": round(times[0], 2), "later_median_s": round(later, 2) if later is not None else None,
            "answers_s": [round(t, 2) for t in times]}


def format_report(runs: list[dict[str, Any]]) -> str:
    """A Markdown table: one row per run."""
    lines = ["| warm start | port open (s) | ready (s) | 1st answer (s) | 2nd..Nth median (s) | answers (s) |",
             "|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {'on' if r['warm_start'] else 'off (before)'} | {r['listening_s']} | {r['ready_s']} | "
                     f"{r['first_s']} | {r['later_median_s']} | {', '.join(map(str, r['answers_s']))} |")
    lines.append(f"\ntimes from the process start; {os.cpu_count()} CPU(s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.warm_start", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=REPO_ROOT / "bench-results" / "corpus-store",
                        help="store to serve (default: bench-results/corpus-store, ingested from corpus/ first)")
    parser.add_argument("--questions", type=int, default=5, help="questions asked after each start (default: 5)")
    parser.add_argument("--no-ingest", action="store_true", help="serve --store as it is")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "bench-results" / "warm_start.json",
                        help="where to write the figures (default: bench-results/warm_start.json)")
    args = parser.parse_args(argv)
    if args.questions < 2:
        parser.error("--questions must be at least 2 (the first one and a baseline)")
    if not args.no_ingest:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PASSERELLE_")}
        ingest = subprocess.run([sys.executable, "-m", "ingest", "corpus", "--prune", "--quiet", "--store",
                                 str(args.store)], cwd=REPO_ROOT, env={**env, "PYTHONPATH": str(REPO_ROOT)},
                                capture_output=True, text=True)
        if ingest.returncode not in (0, 2):
            print(f"ingestion failed: {ingest.stderr.strip()[-500:]}", file=sys.stderr)
            return 1
    questions = load_questions()[: args.questions]
    runs = []
    for warm in (False, True):
        log_path = Path(tempfile.gettempdir()) / f"passerelle-warm-start-{'on' if warm else 'off'}.log"
        print(f"starting the app, warm start {'on' if warm else 'off'} (log: {log_path}) ...", file=sys.stderr)
        runs.append(measure(args.store, warm, questions, log_path))
    result = {"cpus": os.cpu_count(), "questions": questions, "runs": runs}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(format_report(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
