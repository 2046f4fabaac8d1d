"""Scale: answer time, search times, ingestion speed and disk as the store grows to 100k passages.

    python -m bench.scale [--sizes 1000 10000 100000] [--modes embedded server] [--questions 40]
                          [--work bench-results/scale] [--json bench-results/scale.json]
                          [--keep-stores | --measure-kept]

For each mode (embedded Chroma under the store, or a `chroma run` server on 127.0.0.1 started
here), one store is grown through the sizes (1k, then 10k, then 100k passages): the sample corpus
first, then synthetic documents (`bench.synthetic`: sentences of PIAF's French Wikipedia
paragraphs and of the corpus recombined, vectors derived from cached sentence embeddings, so no
passage is embedded during the run). At each size it prints:

- ingestion: passages per second written to the store (catalog and Chroma, vectors precomputed:
  the model's own speed, ~80 passages/s on 2 cores, is `bench.embedding_speed`'s);
- answer: p50/p95 of a warm `bot.answer` (the default path, with the reader) over the first
  `--questions` corpus questions, each with its own role, history and filters, in wall time and
  in this process's CPU time (on a shared machine the wall time mostly measures the others'
  load; the CPU time shows the work, embedded Chroma's threads included, a Chroma server's not),
  and the answer's retrieval stage alone;
- keyword: p50/p95 of the catalog's BM25 search plus its term statistics (`term_frequencies`),
  as one answer runs them, and the same without the postings budget (every term matched, as
  before the budget; alternated per question); chunk_count: the store-wide count each answer makes; dense: p50/p95 of the vector searches one answer runs (the
  question's languages, then the other language), question vectors computed beforehand; both
  in wall and CPU time;
- disk: the store folder (plus the Chroma server's folder in server mode).

Every figure is printed next to the same run's smallest size (the baseline); the target is a
100k p95 at most 1.5 times the 1k p95. Store settings (catalog, collection, chunk size) come
from `Settings` (PASSERELLE_* variables), so the same command measures another catalog backend.
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (1_000, 10_000, 100_000)
TARGET_RATIO = 1.5
SNAPSHOT_INFO = "bench-ingest.json"

log = logging.getLogger("bench.scale")


class _Clock:
    """Wall time and this process's CPU time (all its threads, embedded Chroma's included) of
    one call: on a shared machine the CPU time shows the work done whatever the load."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        """(wall ms, CPU ms) since the clock started."""
        return (time.perf_counter() - self.wall) * 1000, (time.process_time() - self.cpu) * 1000


def _percentiles(times_ms: list[float]) -> dict[str, float]:
    ordered = sorted(times_ms)
    return {"p50": round(statistics.median(ordered), 2),
            "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2)}


def _disk_mb(*folders: Path) -> float:
    total = 0
    for folder in folders:
        for root, _, files in os.walk(folder):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.stat(os.path.join(root, name)).st_blocks * 512
    return round(total / 1e6, 1)


@contextlib.contextmanager
def chroma_server(path: Path) -> Iterator[int]:
    """A `chroma run` server on a free loopback port, storing under `path`; stopped after."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Chroma server did not start (exit code {process.poll()})") from None
                time.sleep(0.3)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


class GrowingStore:
    """One knowledge base filled with the corpus, then with synthetic documents on demand."""

    def __init__(self, kb, corpus, synthetic) -> None:
        self.kb = kb
        self.stream = iter(synthetic)
        self.passages = 0
        kb.reset()
        self._write(corpus)

    def grow_to(self, size: int) -> dict[str, float]:
        """Add synthetic documents until the store holds `size` passages; the write speed."""
        batch = []
        needed = size - self.passages
        while needed > 0:
            prepared = next(self.stream)
            batch.append(prepared)
            needed -= len(prepared.chunks)
        started = time.perf_counter()
        written = self._write(batch)
        seconds = time.perf_counter() - started
        return {"passages_added": written, "seconds": round(seconds, 1),
                "passages_per_s": round(written / seconds, 1) if seconds else 0.0}

    def _write(self, documents) -> int:
        kb = self.kb
        written = 0
        with kb.ingest_lock():
            for number, p in enumerate(documents):
                if not written:
                    kb.check_dimension(p.chunk_vectors.shape[1])
                kb.replace_document(p.doc, p.chunks, p.chunk_vectors, p.spans, p.sentence_vectors)
                written += len(p.chunks)
                if number % 2000 == 1999:
                    log.info("written passages=%d", self.passages + written)
            kb.mark_ingested()
        self.passages += written
        return written


def measure_searches(kb, questions: list[dict[str, Any]], vectors) -> dict[str, dict[str, float]]:
    """p50/p95 (ms) of the keyword side (BM25 + term statistics; also without the postings
    budget, `keyword_unlimited`), of the dense side of one answer's retrieval, per question, and
    of the store-wide `chunk_count` each answer makes."""
    from bot.answering import search_filter
    from bot.answering.query import parse_query
    from bot.answering.retrieve import FusionConfig, _OTHER_LANGUAGE, _crosses_languages, dense_searches
    from kb.catalog import KEYWORD_POSTINGS_BUDGET
    from kb.text import keyword_terms

    config = FusionConfig()
    laps: dict[str, list[tuple[float, float]]] = {"keyword": [], "keyword_unlimited": [], "dense": [], "count": []}
    for q, vector in zip(questions, vectors):
        query = parse_query(q["question"], q.get("history") or ())
        where = search_filter(q.get("role", "reader"), q.get("filters") or None)
        # The baseline in the same run, alternated: every term matched, however many passages hold them.
        for side, budget in (("keyword_unlimited", float("inf")), ("keyword", KEYWORD_POSTINGS_BUDGET)):
            kb.catalog.postings_budget = budget
            clock = _Clock()
            kb.keyword_search(query.search, config.candidates, where)
            kb.term_frequencies(sorted(set(keyword_terms(query.search))), where, query.language)
            laps[side].append(clock.lap())
        kb.catalog.postings_budget = KEYWORD_POSTINGS_BUDGET
        clock = _Clock()
        kb.chunk_count()
        laps["count"].append(clock.lap())
        clock = _Clock()
        searches = [(config.candidates, where)]
        if _crosses_languages(where, config, query.language):
            searches.append((config.candidates // 2, dataclasses.replace(where, language=_OTHER_LANGUAGE[query.language])))
        dense_searches(kb, vector, searches)
        laps["dense"].append(clock.lap())
    return {f"{side}_{kind}": _percentiles([lap[n] for lap in laps[side]])
            for side in laps for n, kind in enumerate(("ms", "cpu_ms"))}


def measure_answers(kb, questions: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """p50/p95 (ms) of warm `bot.answer` calls (one warm-up call first), and of their retrieval
    stage alone (`timings_ms["retrieve"]`: the part the store's size can change; the reader's
    time depends on the question only)."""
    from bot.answering import answer

    answer(questions[0]["question"], role="official", kb=kb)
    laps, retrieval = [], []
    for q in questions:
        clock = _Clock()
        result = answer(q["question"], history=q.get("history") or (), filters=q.get("filters") or None,
                        role=q.get("role", "reader"), kb=kb)
        laps.append(clock.lap())
        retrieval.append(result.timings_ms.get("retrieve", 0.0))
    return {"answer_ms": _percentiles([wall for wall, _ in laps]), "answer_cpu_ms": _percentiles([cpu for _, cpu in laps]),
            "retrieve_ms": _percentiles(retrieval)}


def _measure(kb, mode: str, size: int, ingest: dict[str, Any], disk_mb: float, inputs: dict[str, Any]) -> dict[str, Any]:
    row = {"mode": mode, "size": size, "passages": kb.chunk_count(), "ingest": ingest, "disk_mb": disk_mb}
    row.update(measure_searches(kb, inputs["questions"], inputs["question_vectors"]))
    row.update(measure_answers(kb, inputs["questions"]))
    log.info("measured %s", json.dumps(row))
    return row


def snapshot(folder: Path, size: int) -> Path:
    """Where `--keep-stores` keeps a copy of the embedded store at `size` passages."""
    return folder / f"store-{size}"


def measure_kept(settings, sizes: list[int], inputs: dict[str, Any], work: Path,
                 measured: Callable[[dict[str, Any]], None]) -> None:
    """Measure the embedded stores a `--keep-stores` run kept (their ingestion figures as it recorded them)."""
    from kb.store import KnowledgeBase

    for size in sizes:
        kept = snapshot(work / "embedded", size)
        recorded = json.loads((kept / SNAPSHOT_INFO).read_text(encoding="utf-8"))
        kb = KnowledgeBase(dataclasses.replace(settings, chroma_host=None, store=kept), embeddings=inputs["embeddings"])
        measured(_measure(kb, "embedded", size, recorded["ingest"], recorded["disk_mb"], inputs))
        kb.close()


def run_mode(mode: str, settings, sizes: list[int], inputs: dict[str, Any], work: Path,
             measured: Callable[[dict[str, Any]], None], keep: bool = False) -> None:
    """Grow one store through `sizes` in `mode` and measure it at each size; `measured` gets each
    row. With `keep` (embedded mode), a copy of the store at each size is kept for `measure_kept`."""
    from bench.synthetic import SyntheticDocuments
    from kb.store import KnowledgeBase

    folder = work / mode
    with contextlib.ExitStack() as stack:
        server_dir = None
        if mode == "server":
            server_dir = folder / "chroma-server"
            port = stack.enter_context(chroma_server(server_dir))
            settings = dataclasses.replace(settings, chroma_host="127.0.0.1", chroma_port=port)
        else:
            settings = dataclasses.replace(settings, chroma_host=None)
        settings = dataclasses.replace(settings, store=folder / "store")
        kb = KnowledgeBase(settings, embeddings=inputs["embeddings"])
        synthetic = SyntheticDocuments(inputs["pool"], settings.chunk_size, settings.chunk_overlap)
        store = GrowingStore(kb, inputs["corpus"], synthetic)
        for size in sizes:
            ingest = store.grow_to(size)
            disk_mb = _disk_mb(*[f for f in (settings.store, server_dir) if f])
            if keep and mode == "embedded":
                kb.close()
                kept = snapshot(folder, size)
                shutil.rmtree(kept, ignore_errors=True)
                shutil.copytree(settings.store, kept)
                (kept / SNAPSHOT_INFO).write_text(json.dumps({"size": size, "ingest": ingest, "disk_mb": disk_mb}))
            measured(_measure(kb, mode, size, ingest, disk_mb, inputs))
        kb.close()


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table, each answer figure next to its ratio to the first size of its mode
    (wall time, then CPU time); search times as wall (CPU) p50 / p95."""
    lines = ["| mode | passages | ingest passages/s | disk MB | answer p50 / p95 ms | p95 × baseline | "
             "answer CPU p50 / p95 ms | CPU p95 × baseline | its retrieval p50 / p95 ms | "
             "keyword p50 / p95 ms (CPU) | keyword, all terms (before) | dense p50 / p95 ms (CPU) | "
             "chunk_count p50 / p95 ms |", "|---" * 13 + "|"]
    baselines: dict[str, dict[str, Any]] = {}

    def ratio(row: dict[str, Any], base: dict[str, Any], key: str) -> str:
        value = row[key]["p95"] / max(base[key]["p95"], 1e-9)
        return "(baseline)" if row is base else f"{value:.2f}× (target ≤ {TARGET_RATIO}×)"

    def pair(row: dict[str, Any], key: str) -> str:
        return f"{row[key]['p50']} / {row[key]['p95']}" if key in row else "-"

    for row in rows:
        base = baselines.setdefault(row["mode"], row)
        lines.append(
            f"| {row['mode']} | {row['passages']:,} | {row['ingest']['passages_per_s']:,} | {row['disk_mb']:,} | "
            f"{pair(row, 'answer_ms')} | {ratio(row, base, 'answer_ms')} | {pair(row, 'answer_cpu_ms')} | "
            f"{ratio(row, base, 'answer_cpu_ms')} | {pair(row, 'retrieve_ms')} | "
            f"{pair(row, 'keyword_ms')} ({pair(row, 'keyword_cpu_ms')}) | "
            f"{pair(row, 'keyword_unlimited_ms')} ({pair(row, 'keyword_unlimited_cpu_ms')}) | "
            f"{pair(row, 'dense_ms')} ({pair(row, 'dense_cpu_ms')}) | {pair(row, 'count_ms')} |"
        )
    return "\n".join(lines)


def prepare_inputs(settings, questions: int, cache: Path, corpus_store: Path | None = None,
                   pool_stores: list[Path] = ()) -> dict[str, Any]:
    """The embedding model, the sentence pool, the corpus with its vectors, the questions and their vectors."""
    from bench.synthetic import build_pool, corpus_documents, pool_from_stores, prepare_corpus
    from bot.answering.query import parse_query
    from evals.corpus import QUESTIONS, load_questions
    from kb.embeddings import load_embeddings
    from kb.store import KnowledgeBase, model_label

    embeddings = load_embeddings(settings.embedding_model, settings.embedding_precision)
    model = model_label(settings.embedding_model)
    docs = corpus_documents()
    chosen = load_questions(QUESTIONS)[:questions]
    def store(folder: Path) -> KnowledgeBase:
        return KnowledgeBase(dataclasses.replace(settings, store=folder, chroma_host=None), embeddings)

    source = store(corpus_store) if corpus_store is not None else None
    pool = pool_from_stores([store(f) for f in pool_stores]) if pool_stores else build_pool(embeddings, model, cache, docs)
    return {
        "embeddings": embeddings,
        "pool": pool,
        "corpus": prepare_corpus(docs, embeddings, model, cache, settings.chunk_size, settings.chunk_overlap, source),
        "questions": chosen,
        "question_vectors": [embeddings.embed_query(parse_query(q["question"], q.get("history") or ()).search)
                             for q in chosen],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES),
                        help="passage counts the store is grown through (default: 1000 10000 100000); the first is the baseline")
    parser.add_argument("--modes", nargs="+", choices=("embedded", "server"), default=["embedded", "server"],
                        help="embedded Chroma, a local `chroma run` server, or both (default)")
    parser.add_argument("--questions", type=int, default=40, help="corpus questions timed at each size (default 40)")
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "bench-results" / "scale",
                        help="folder of the stores and of the embedding cache (default bench-results/scale)")
    parser.add_argument("--corpus-store", type=Path,
                        help="an embedded store of the sample corpus built with the same model (e.g. a copy of data/): "
                             "its vectors are reused instead of embedding the corpus once for the cache")
    parser.add_argument("--pool-stores", type=Path, nargs="+", default=[],
                        help="embedded stores built with the same model (e.g. bench-results/piaf/store-* and a corpus "
                             "store) whose sentences and stored sentence vectors make the pool: no model run")
    parser.add_argument("--keep-stores", action="store_true",
                        help="keep a copy of the embedded store at each size (<work>/embedded/store-<size>, with its "
                             "ingestion figures) for --measure-kept")
    parser.add_argument("--measure-kept", action="store_true",
                        help="build nothing: measure the embedded stores an earlier --keep-stores run kept at --sizes")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "bench-results" / "scale.json",
                        help="where the results are written (default bench-results/scale.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Chroma request otherwise
    from kb.settings import Settings, SettingsError

    if sorted(args.sizes) != args.sizes or args.sizes[0] < 1:
        print("--sizes: give increasing positive passage counts", file=sys.stderr)
        return 1
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 1
    inputs = prepare_inputs(settings, args.questions, args.work / "cache", args.corpus_store, args.pool_stores)
    pool = inputs["pool"]
    about = (f"Synthetic documents: {len(pool.sentences['fr'])} French sentences (PIAF's Wikipedia paragraphs and the "
             f"corpus) and {len(pool.sentences['en'])} English ones (the corpus) recombined at random, 10-40 "
             "paragraphs of 3-8 sentences each, so no two passages are copies (bench/synthetic.py). Embeddings are "
             "computed once and cached for the bench: each pool sentence and the corpus embedded once by the real "
             "model, a synthetic passage's vector the mean of its sentences' vectors; ingestion figures exclude "
             "embedding (bench.embedding_speed measures it). Keyword 'all terms' is the search without the postings "
             "budget (as before it), alternated with it per question in this run.")
    rows: list[dict[str, Any]] = []

    def measured(row: dict[str, Any]) -> None:  # written after every size, so a long run keeps what it measured
        rows.append(row)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"about": about, "rows": rows, "target_ratio": TARGET_RATIO,
                                         "table": format_table(rows)}, indent=2), encoding="utf-8")

    if args.measure_kept:
        measure_kept(settings, args.sizes, inputs, args.work, measured)
    else:
        for mode in args.modes:
            run_mode(mode, settings, args.sizes, inputs, args.work, measured, keep=args.keep_stores)
    print(about + "\n")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
