"""Scale: answer time, search times, ingestion speed and disk as the store grows to 100k passages.

    python -m bench.scale [--sizes 1000 10000 100000] [--modes embedded server] [--questions 40]
                          [--work bench-results/scale] [--json bench-results/scale.json]
                          [--keep-stores | --measure-kept] [--grow-from DIR]

For each mode (embedded Chroma under the store, or a `chroma run` server on 127.0.0.1 started
here), one store is grown through the sizes (1k, then 10k, then 100k passages): the sample corpus
first, then synthetic documents (`bench.synthetic`: sentences of PIAF's French Wikipedia
paragraphs and of the corpus recombined, vectors derived from cached sentence embeddings, so no
passage is embedded during the run). At each size it prints:

- ingestion: passages per second written to the store (catalog and Chroma, vectors precomputed:
  the model's own speed, ~80 passages/s on 2 cores, is `bench.embedding_speed`'s);
- answer: p50/p95 of a warm `bot.answer` (the default path, with the reader) over the first
  `--questions` corpus questions, each with its own role, history and filters, in wall time and
  in CPU time (on a shared machine the wall time mostly measures the others' load; the CPU
  time shows the work: this process's, embedded Chroma's threads included, plus the Chroma
  server's in server mode and PostgreSQL's backends with `--postgres`),
  and the answer's retrieval stage alone;
- keyword: p50/p95 of the catalog's BM25 search plus its term statistics (`term_frequencies`),
  as one answer runs them, and the same without the postings budget (every term matched, as
  before the budget; alternated per question); chunk_count: the store-wide count each answer makes; dense: p50/p95 of the vector searches one answer runs (the
  question's languages, then the other language), question vectors computed beforehand; both
  in wall and CPU time;
- disk: the store folder (plus the Chroma server's folder in server mode).

Documents are written `--write-batch` passages at a time (`KnowledgeBase.replace_documents`: one
catalog commit and one Chroma upsert per partition for the batch; 0 writes one document at a
time). `--keep-stores` keeps a copy of the embedded store at each size; `--grow-from DIR` grows a
copy of such a store further (the synthetic stream replayed past the documents it holds, so it
continues as a build from scratch would); `--measure-kept` measures kept stores without
building, all sizes open at once and alternated question by question, in embedded mode and,
with `--modes server`, each kept store's vectors served by a `chroma run` server. `--postgres`
puts the catalog in a throwaway PostgreSQL cluster started here (kept stores hold SQLite catalogs,
so not with `--measure-kept` or `--grow-from`).

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
from typing import Any, Callable, Iterator, NamedTuple

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (1_000, 10_000, 100_000)
TARGET_RATIO = 1.5
SNAPSHOT_INFO = "bench-ingest.json"
# Passages written together (`KnowledgeBase.replace_documents`): a commit and a Chroma call per
# batch instead of per document.
WRITE_BATCH = 1000

log = logging.getLogger("bench.scale")


class ScaleError(Exception):
    """A bench run that cannot go on; the message says why."""


class _Clock:
    """Wall time and CPU time of one call: this process's (all its threads, embedded Chroma's
    included) plus that of the server processes counted at the time (`_server_counted`: a
    Chroma server, PostgreSQL's backends). On a shared machine the CPU time shows the work
    done whatever the load."""

    servers: list[Callable[[], float]] = []

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), self._cpu()

    def _cpu(self) -> float:
        return time.process_time() + sum(server() for server in self.servers)

    def lap(self) -> tuple[float, float]:
        """(wall ms, CPU ms) since the clock started."""
        return (time.perf_counter() - self.wall) * 1000, (self._cpu() - self.cpu) * 1000


@contextlib.contextmanager
def _server_counted(pid: int | None, children: bool = False) -> Iterator[None]:
    """Clocks started inside count the CPU time of process `pid` too (with `children`: that of
    its child processes instead, e.g. a PostgreSQL server's backends)."""
    if pid is None:
        yield
        return
    server = (lambda: sum(map(_process_cpu_s, _children(pid)))) if children else (lambda: _process_cpu_s(pid))
    _Clock.servers.append(server)
    try:
        yield
    finally:
        _Clock.servers.remove(server)


def _children(pid: int) -> list[int]:
    """The child processes of `pid` (Linux /proc; none elsewhere)."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid`, all its threads (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


class ChromaServer(NamedTuple):
    """A running `chroma run` server."""

    port: int
    pid: int


@contextlib.contextmanager
def chroma_server(path: Path) -> Iterator[ChromaServer]:
    """A `chroma run` server on a free loopback port, storing under `path` (the folder layout of
    embedded Chroma: a kept store's `chroma` folder can be served); stopped after."""
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
        yield ChromaServer(port, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


class GrowingStore:
    """One knowledge base filled with the corpus, then with synthetic documents on demand."""

    def __init__(self, kb, corpus, synthetic, write_batch: int = WRITE_BATCH) -> None:
        self.kb = kb
        self.write_batch = write_batch
        self.stream = iter(synthetic)
        self.passages = 0
        if corpus is not None:
            kb.reset()
            self._write(corpus)

    @classmethod
    def resume(cls, kb, synthetic, write_batch: int = WRITE_BATCH) -> "GrowingStore":
        """A store a `--keep-stores` run kept, grown further: an interrupted write is repaired
        first, then the synthetic stream is replayed past the documents the store holds, so
        it continues with the documents a build from scratch would write next (the same ones
        when the pool is the one the store was built with)."""
        from bench.synthetic import SYNTHETIC_PREFIX

        store = cls(kb, None, synthetic, write_batch)
        with kb.ingest_lock():
            kb.recover()
        held = sorted(doc_id for doc_id in kb.documents() if doc_id.startswith(SYNTHETIC_PREFIX))
        replayed = None
        for _ in held:
            replayed = next(store.stream)
        if replayed is not None and kb.document_text(replayed.doc.doc_id) != replayed.doc.text:
            log.warning("the kept store was built from another sentence pool: its next documents differ from "
                        "those a build from scratch would write (none is a copy of another)")
        store.passages = kb.chunk_count()
        log.info("resumed store passages=%d synthetic_documents=%d", store.passages, len(held))
        return store

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
        """Write `documents` through `KnowledgeBase.replace_documents`, about `WRITE_BATCH`
        passages at a time (one document at a time when it is 0)."""
        from kb.store import DocumentWrite

        kb = self.kb
        written = 0
        batch: list = []

        def flush() -> None:
            if len(batch) == 1:
                kb.replace_document(*batch[0])
            elif batch:
                kb.replace_documents(batch)
            batch.clear()

        with kb.ingest_lock():
            for p in documents:
                if not written:
                    kb.check_dimension(p.chunk_vectors.shape[1])
                batch.append(DocumentWrite(p.doc, p.chunks, p.chunk_vectors, p.spans, p.sentence_vectors))
                written += len(p.chunks)
                if sum(len(w.chunks) for w in batch) >= self.write_batch:
                    flush()
                if written // 10_000 > (written - len(p.chunks)) // 10_000:
                    log.info("written passages=%d", self.passages + written)
            flush()
            kb.mark_ingested()
        self.passages += written
        return written


def measure_searches(kb, questions: list[dict[str, Any]], vectors) -> dict[str, dict[str, float]]:
    """p50/p95 (ms) of the keyword side (BM25 + term statistics; also without the postings
    budget, `keyword_unlimited`), of the dense side of one answer's retrieval, per question, and
    of the store-wide `chunk_count` each answer makes."""
    return _summary(_search_laps(kb, questions, vectors))


def _search_laps(kb, questions: list[dict[str, Any]], vectors) -> dict[str, list]:
    """`measure_searches`' (wall ms, CPU ms) laps, by side."""
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
    return laps


def measure_answers(kb, questions: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """p50/p95 (ms) of warm `bot.answer` calls (one warm-up call first), and of their retrieval
    stage alone (`timings_ms["retrieve"]`: the part the store's size can change; the reader's
    time depends on the question only)."""
    _warm_up(kb, questions)
    return _summary(_answer_laps(kb, questions))


def _warm_up(kb, questions: list[dict[str, Any]]) -> None:
    from bot.answering import answer

    answer(questions[0]["question"], role="official", kb=kb)


def _answer_laps(kb, questions: list[dict[str, Any]]) -> dict[str, list]:
    """`measure_answers`' laps: (wall ms, CPU ms) of each answer, and its retrieval stage's ms."""
    from bot.answering import answer

    laps: dict[str, list] = {"answer": [], "retrieve": []}
    for q in questions:
        clock = _Clock()
        result = answer(q["question"], history=q.get("history") or (), filters=q.get("filters") or None,
                        role=q.get("role", "reader"), kb=kb)
        laps["answer"].append(clock.lap())
        laps["retrieve"].append(result.timings_ms.get("retrieve", 0.0))
    return laps


def _summary(laps: dict[str, list]) -> dict[str, dict[str, float]]:
    """p50/p95 of each side's laps: `<side>_ms` and `<side>_cpu_ms` of (wall, CPU) laps,
    `<side>_ms` of plain ones."""
    summary = {}
    for side, values in laps.items():
        if values and isinstance(values[0], tuple):
            summary[f"{side}_ms"] = _percentiles([wall for wall, _ in values])
            summary[f"{side}_cpu_ms"] = _percentiles([cpu for _, cpu in values])
        else:
            summary[f"{side}_ms"] = _percentiles(values)
    return summary


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
                 measured: Callable[[dict[str, Any]], None], mode: str = "embedded") -> None:
    """Measure the embedded stores a `--keep-stores` run kept (their ingestion figures as it
    recorded them), all open at once and alternated question by question (sizes in order, then
    in reverse order for the next question), so a change of the machine's load falls on every
    size alike. In server mode each kept store's Chroma folder is served by a `chroma run`
    server of its own (same vectors, same catalog; the server's CPU time is counted, and the
    ingestion figures are those of the embedded build)."""
    from kb.store import KnowledgeBase

    kept = {size: snapshot(work / "embedded", size) for size in sizes}
    with contextlib.ExitStack() as stack:
        kbs, pids = {}, {}
        for size, folder in kept.items():
            chosen = dataclasses.replace(settings, chroma_host=None, store=folder)
            if mode == "server":
                server = stack.enter_context(chroma_server(folder / "chroma"))
                chosen = dataclasses.replace(chosen, chroma_host="127.0.0.1", chroma_port=server.port)
                pids[size] = server.pid
            kbs[size] = KnowledgeBase(chosen, embeddings=inputs["embeddings"])
            stack.callback(kbs[size].close)
        laps: dict[int, dict[str, list]] = {size: {} for size in sizes}
        for size, kb in kbs.items():
            _warm_up(kb, inputs["questions"])
        for n, (q, vector) in enumerate(zip(inputs["questions"], inputs["question_vectors"])):
            for size in (sizes if n % 2 == 0 else sizes[::-1]):
                with _server_counted(pids.get(size)):
                    for side, values in [*_search_laps(kbs[size], [q], [vector]).items(),
                                         *_answer_laps(kbs[size], [q]).items()]:
                        laps[size].setdefault(side, []).extend(values)
        for size, kb in kbs.items():
            recorded = json.loads((kept[size] / SNAPSHOT_INFO).read_text(encoding="utf-8"))
            ingest = recorded["ingest"] if mode == "embedded" else {**recorded["ingest"], "built": "embedded"}
            row = {"mode": mode, "size": size, "passages": kb.chunk_count(), "ingest": ingest,
                   "disk_mb": recorded["disk_mb"], **_summary(laps[size])}
            log.info("measured %s", json.dumps(row))
            measured(row)


def run_mode(mode: str, settings, sizes: list[int], inputs: dict[str, Any], work: Path,
             measured: Callable[[dict[str, Any]], None], keep: bool = False, grow_from: Path | None = None,
             write_batch: int = WRITE_BATCH) -> None:
    """Grow one store through `sizes` in `mode` and measure it at each size; `measured` gets each
    row. With `keep` (embedded mode), a copy of the store at each size is kept for `measure_kept`;
    with `grow_from` (embedded mode), a copy of that kept store is grown instead of a new one;
    `write_batch` passages are written together (0: one document at a time)."""
    from bench.synthetic import SyntheticDocuments
    from kb.store import KnowledgeBase

    folder = work / mode
    with contextlib.ExitStack() as stack:
        server_dir = None
        if mode == "server":
            server_dir = folder / "chroma-server"
            server = stack.enter_context(chroma_server(server_dir))
            stack.enter_context(_server_counted(server.pid))
            settings = dataclasses.replace(settings, chroma_host="127.0.0.1", chroma_port=server.port)
        else:
            settings = dataclasses.replace(settings, chroma_host=None)
        settings = dataclasses.replace(settings, store=folder / "store")
        if grow_from is not None:
            shutil.rmtree(settings.store, ignore_errors=True)
            shutil.copytree(grow_from, settings.store, ignore=shutil.ignore_patterns(SNAPSHOT_INFO))
        kb = KnowledgeBase(settings, embeddings=inputs["embeddings"])
        synthetic = SyntheticDocuments(inputs["pool"], settings.chunk_size, settings.chunk_overlap)
        if grow_from is not None:
            store = GrowingStore.resume(kb, synthetic, write_batch)
            if sizes[0] <= store.passages:
                kb.close()
                raise ScaleError(f"--grow-from: {grow_from} already holds {store.passages:,} passages; "
                                 "give --sizes above that")
        else:
            store = GrowingStore(kb, inputs["corpus"], synthetic, write_batch)
        for size in sizes:
            ingest = store.grow_to(size)
            ingest["write_batch"] = write_batch
            if grow_from is not None:
                ingest["grown_from"] = str(grow_from)
            disk_mb = _disk_mb(*[f for f in (settings.store, server_dir) if f])
            if settings.uses_database_server:
                disk_mb = round(disk_mb + _database_mb(str(settings.database_url)), 1)
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
            f"| {row['mode']} | {row['passages']:,} | {_ingest_speed(row['ingest'])} | {row['disk_mb']:,} | "
            f"{pair(row, 'answer_ms')} | {ratio(row, base, 'answer_ms')} | {pair(row, 'answer_cpu_ms')} | "
            f"{ratio(row, base, 'answer_cpu_ms')} | {pair(row, 'retrieve_ms')} | "
            f"{pair(row, 'keyword_ms')} ({pair(row, 'keyword_cpu_ms')}) | "
            f"{pair(row, 'keyword_unlimited_ms')} ({pair(row, 'keyword_unlimited_cpu_ms')}) | "
            f"{pair(row, 'dense_ms')} ({pair(row, 'dense_cpu_ms')}) | {pair(row, 'count_ms')} |"
        )
    return "\n".join(lines)


def _database_mb(url: str) -> float:
    """The size of the catalog's PostgreSQL database."""
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6


@contextlib.contextmanager
def _postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster in a temporary folder (removed after): its database URL.
    Clocks count its backends' CPU time while it runs."""
    import tempfile

    from tests.postgres import postgres_cluster

    # A folder of its own under the system's temporary one: the server runs as the postgres
    # user, who may not enter the work folder's parents (a private pytest folder, a home).
    root = Path(tempfile.mkdtemp(prefix="passerelle-pg-scale-"))
    try:
        with postgres_cluster(root) as url:
            postmaster = int((root / "pgdata" / "postmaster.pid").read_text().split()[0])
            with _server_counted(postmaster, children=True):
                yield url
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _ingest_speed(ingest: dict[str, Any]) -> str:
    """The ingestion column: passages/s, and how they were written when it is not the mode's own build."""
    speed = f"{ingest['passages_per_s']:,}"
    if ingest.get("built"):
        speed += f" ({ingest['built']} build)"
    if ingest.get("grown_from"):
        speed += f" (grown from {Path(ingest['grown_from']).name})"
    return speed


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
    parser.add_argument("--modes", nargs="+", choices=("embedded", "server"),
                        help="embedded Chroma, a local `chroma run` server, or both (default; with --measure-kept: "
                             "embedded, and server serves each kept store's vectors)")
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
    parser.add_argument("--grow-from", type=Path, metavar="DIR",
                        help="embedded mode: grow a copy of this kept store (e.g. <work>/embedded/store-10000 of a "
                             "--keep-stores run, built with the same --pool-stores) through --sizes above its passage "
                             "count, instead of building from the corpus")
    parser.add_argument("--write-batch", type=int, default=WRITE_BATCH, metavar="N",
                        help=f"passages written together, one catalog commit and one Chroma upsert per partition for "
                             f"them all (default {WRITE_BATCH}); 0 writes one document at a time, as ingestion does")
    parser.add_argument("--postgres", action="store_true",
                        help="the catalog in a throwaway PostgreSQL cluster started here (tests.postgres, as "
                             "bench.catalogs does) instead of SQLite, vectors as --modes says; not with --measure-kept "
                             "or --grow-from (kept stores hold SQLite catalogs)")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "bench-results" / "scale.json",
                        help="where the results are written (default bench-results/scale.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Chroma request otherwise
    from kb.settings import Settings, SettingsError

    if sorted(args.sizes) != args.sizes or args.sizes[0] < 1:
        print("--sizes: give increasing positive passage counts", file=sys.stderr)
        return 1
    if args.write_batch < 0:
        print("--write-batch: give 0 or a positive passage count", file=sys.stderr)
        return 1
    if args.postgres and (args.measure_kept or args.grow_from is not None):
        print("--postgres: not with --measure-kept or --grow-from (kept stores hold SQLite catalogs)", file=sys.stderr)
        return 1
    if args.grow_from is not None:
        if args.measure_kept or args.modes != ["embedded"]:
            print("--grow-from: give --modes embedded, without --measure-kept", file=sys.stderr)
            return 1
        if not (args.grow_from / "catalog.sqlite3").is_file():
            print(f"--grow-from: {args.grow_from} is not a kept embedded store (no catalog.sqlite3)", file=sys.stderr)
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
        for mode in args.modes or ["embedded"]:
            measure_kept(settings, args.sizes, inputs, args.work, measured, mode)
    else:
        with contextlib.ExitStack() as stack:
            if args.postgres:
                settings = dataclasses.replace(settings, database_url=stack.enter_context(_postgres()))
            try:
                for mode in args.modes or ["embedded", "server"]:
                    run_mode(mode, settings, args.sizes, inputs, args.work, measured, keep=args.keep_stores,
                             grow_from=args.grow_from, write_batch=args.write_batch)
            except ScaleError as exc:
                print(exc, file=sys.stderr)
                return 1
    print(about + "\n")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
