"""Written answers from an LLM server: the support threshold, and generated vs extractive.

`--calibrate` sets `GenerationConfig.support_threshold` on the development questions, with
no LLM: each sentence of the excerpts a question would put in the prompt is scored by the
reader against its own excerpt (supported) and against another excerpt of the same
question (a wrong citation); the threshold with the best balanced accuracy is printed.

With `--llm-url`, every question of the chosen sets (and `--piaf N` PIAF `test` questions)
is answered twice in the same run, extractive and generated, and the figures are printed
side by side: share of answers written by the LLM, share of drafted sentences the
verification kept, expected fact in the answer, time to first token and tokens per second.

    python -m evals.generation --calibrate
    python -m evals.generation --llm-url http://127.0.0.1:8080/v1 --sets dev --piaf 100
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import statistics
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bot.answering import AnswerConfig, answer, prompt_excerpts
from bot.answering.generate import GenerationConfig, claims, reader_support
from evals.corpus import DEV_QUESTIONS, BLIND_QUESTIONS, QUESTIONS, holds, load_questions
from kb.settings import Settings
from kb.store import KnowledgeBase
from kb.text import sentence_spans

log = logging.getLogger(__name__)

SETS = {"dev": DEV_QUESTIONS, "blind": BLIND_QUESTIONS, "test": QUESTIONS}


def support_pairs(kb: KnowledgeBase, questions: Sequence[dict[str, Any]], config: AnswerConfig = AnswerConfig(),
                  excerpts: int = GenerationConfig().excerpts) -> dict[str, tuple[list[float], list[float]]]:
    """Reader support scores of two families of (sentence, excerpt) pairs, over the excerpts
    each question would put in the prompt:

    - "copied": a sentence of an excerpt against its own excerpt (supported) and against the
      next excerpt that does not contain it (a wrong citation);
    - "restated": the question restated with its expected fact ("Combien de membres… : 8
      membres"), worded like a generated sentence, against the excerpt stating the fact and
      against one that does not.
    """
    from evals.reader import trace

    support = reader_support(kb.embeddings)
    pairs: dict[str, tuple[list[float], list[float]]] = {"copied": ([], []), "restated": ([], [])}
    traced = [t for t in trace(kb, [q for q in questions if q.get("answerable", True)], config) if t.from_commitments is None]
    for t in traced:
        chosen = prompt_excerpts(kb, t.evidence, config, excerpts)
        for i, excerpt in enumerate(chosen):
            others = chosen[i + 1:] + chosen[:i]
            for start, end in sentence_spans(excerpt.text):
                sentence = excerpt.text[start:end].strip()
                if len(sentence.split()) < 4:
                    continue
                pairs["copied"][0].append(support(sentence, [excerpt])[0])
                wrong = next((e for e in others if sentence not in e.text), None)
                if wrong is not None:
                    pairs["copied"][1].append(support(sentence, [wrong])[0])
        expected = t.question.get("expected") or ()
        stating = [e for e in chosen if holds(e.text, expected)]
        silent = [e for e in chosen if not holds(e.text, expected)]
        if expected and stating and silent:
            claim = f"{t.question['question'].rstrip(' ?')} : {expected[0]}."
            pairs["restated"][0].append(support(claim, stating[:1])[0])
            pairs["restated"][1].append(support(claim, silent[:1])[0])
    return pairs


def choose_threshold(positives: Sequence[float], negatives: Sequence[float]) -> dict[str, float]:
    """The threshold with the best balanced accuracy, with its rates and the AUC."""
    pos, neg = np.asarray(positives), np.asarray(negatives)
    best = (-1.0, 0.5)
    for threshold in np.round(np.arange(0.05, 0.96, 0.05), 2):
        balanced = ((pos >= threshold).mean() + (neg < threshold).mean()) / 2
        if balanced > best[0] + 1e-9:
            best = (balanced, float(threshold))
    return {"threshold": best[1], **rates(pos, neg, best[1])}


def rates(positives: Sequence[float], negatives: Sequence[float], threshold: float) -> dict[str, float]:
    """AUC, and the shares of supported and wrongly cited sentences kept at `threshold`."""
    pos, neg = np.asarray(positives), np.asarray(negatives)
    auc = float(((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg)))
    return {"auc": round(auc, 3), "kept_supported": round(float((pos >= threshold).mean()), 3),
            "kept_unsupported": round(float((neg >= threshold).mean()), 3), "pairs": len(pos) + len(neg)}


def side_by_side(plain: KnowledgeBase, written: KnowledgeBase, questions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each question answered extractive (`plain`) and generated (`written`, LLM configured)."""
    rows = {"questions": 0, "answered": 0, "generated": 0, "drafted_sentences": 0, "kept_sentences": 0,
            "fact_extractive": 0, "fact_generated": 0, "first_token_ms": [], "tokens_per_s": []}
    for q in questions:
        kwargs = dict(history=q.get("history") or (), filters=q.get("filters") or None, role=q.get("role", "reader"))
        expected = q.get("expected") or ()
        extractive = answer(q["question"], kb=plain, **kwargs)
        generated = answer(q["question"], kb=written, **kwargs)
        rows["questions"] += 1
        if extractive.abstained:
            continue
        rows["answered"] += 1
        rows["fact_extractive"] += bool(expected) and holds(extractive.answer, expected)
        rows["fact_generated"] += bool(expected) and holds(generated.answer, expected)
        kept = len(claims(generated.answer)) if generated.mode == "generated" else 0
        rows["generated"] += generated.mode == "generated"
        rows["kept_sentences"] += kept
        rows["drafted_sentences"] += kept + len(generated.removed)
        for key in ("first_token", "tokens_per_s"):
            if key in generated.timings_ms:
                rows["first_token_ms" if key == "first_token" else key].append(generated.timings_ms[key])
    answered = max(1, rows["answered"])
    return {
        "questions": rows["questions"], "answered": rows["answered"],
        "generated_share": round(rows["generated"] / answered, 3),
        "sentences_kept": round(rows["kept_sentences"] / max(1, rows["drafted_sentences"]), 3),
        "fact_extractive": round(rows["fact_extractive"] / answered, 3),
        "fact_generated": round(rows["fact_generated"] / answered, 3),
        "first_token_ms_p50": round(statistics.median(rows["first_token_ms"]), 1) if rows["first_token_ms"] else None,
        "tokens_per_s_p50": round(statistics.median(rows["tokens_per_s"]), 1) if rows["tokens_per_s"] else None,
    }


def _piaf_questions(limit: int) -> list[dict[str, Any]]:
    from evals.piaf_reader import PIAF_FILE, SPLIT_FILE, evenly, load

    _, questions = load(PIAF_FILE, SPLIT_FILE)
    chosen = evenly([q for q in questions if q.split == "test"], limit)
    return [{"question": q.text, "expected": [q.answer], "role": "reader"} for q in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.generation", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=Path("data"), help="store built from corpus/ (default: data)")
    parser.add_argument("--calibrate", action="store_true", help="print the support threshold the dev set chooses")
    parser.add_argument("--llm-url", metavar="URL", help="OpenAI-compatible endpoint (…/v1) to compare against")
    parser.add_argument("--llm-model", metavar="NAME", default="default", help="model name for the server")
    parser.add_argument("--sets", nargs="+", default=["dev"], choices=list(SETS), help="question sets (default: dev)")
    parser.add_argument("--limit", type=int, help="questions per set, from the start (quick check)")
    parser.add_argument("--piaf", type=int, default=0, metavar="N", help="also N PIAF test questions over a PIAF store")
    parser.add_argument("--work", type=Path, default=Path("bench-results") / "piaf", help="folder of the PIAF store")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if not args.calibrate and not args.llm_url:
        parser.error("give --calibrate, --llm-url URL, or both")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    settings = Settings.from_env(store=args.store)
    plain = KnowledgeBase(settings)
    if not plain.exists or plain.chunk_count() == 0:
        print(f"error: the store {args.store} is empty: run `python -m ingest corpus --store {args.store}`", file=sys.stderr)
        return 1
    figures: dict[str, Any] = {}
    if args.calibrate:
        pairs = support_pairs(plain, load_questions(DEV_QUESTIONS))
        # Chosen on the restated pairs, worded like generated sentences; copied sentences
        # score higher, so a threshold set on them would remove correct rewordings.
        chosen = choose_threshold(*pairs["restated"])
        figures["calibration"] = {"chosen_on": "restated", **chosen,
                                  **{f"copied_{k}": v for k, v in rates(*pairs["copied"], chosen["threshold"]).items()}}
        figures["support_scores"] = {name: {"supported": p, "unsupported": n} for name, (p, n) in pairs.items()}
        print(f"support threshold on dev: {figures['calibration']}")
    if args.llm_url:
        llm = replace(settings, llm_url=args.llm_url, llm_model=args.llm_model)
        written = KnowledgeBase(llm, embeddings=plain.embeddings)
        for name in args.sets:
            questions = load_questions(SETS[name])[: args.limit]
            figures[name] = side_by_side(plain, written, questions)
            print(f"{name}: {figures[name]}")
        if args.piaf:
            from evals.piaf import build_store
            from evals.piaf_reader import PIAF_FILE

            store, _, _ = build_store(PIAF_FILE, args.work, precision=settings.embedding_precision)
            piaf_written = KnowledgeBase(replace(store.settings, llm_url=args.llm_url, llm_model=args.llm_model),
                                         embeddings=store.embeddings)
            questions = _piaf_questions(args.piaf)
            figures["piaf_test"] = side_by_side(store, piaf_written, questions)
            print(f"PIAF test: {figures['piaf_test']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
