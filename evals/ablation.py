"""Ablation of the sentence scorer's hand-written cues, judged on questions they were not written for.

Each variant switches one cue off, re-calibrates `abstain_below` on the development questions
(fewest wrong decisions, ties to fewer wrong abstentions), then answers the development, blind
and test questions of the corpus and PIAF's `dev` split over a store of every PIAF paragraph.
A cue earns its place when switching it off loses facts or abstentions on the blind questions
or PIAF, not only on the development questions it was tuned on.

    python -m evals.ablation [--variants base no_years ...] [--json FILE]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from bot.answer import AnswerConfig
from bot.query import Query

log = logging.getLogger(__name__)

BASE = AnswerConfig(reader=False)
# name -> (scorer config, Query fields blanked as if the question did not state them)
VARIANTS: dict[str, tuple[AnswerConfig, dict[str, Any]]] = {
    "base": (BASE, {}),
    "no_answer_type": (BASE, {"kind": None}),
    "no_answer_type_weight": (replace(BASE, answer_type_weight=0.0), {}),
    "no_named_day": (replace(BASE, named_day_check=False), {}),
    "no_years": (BASE, {"asked_years": frozenset()}),
    "no_acronyms": (BASE, {"acronyms": frozenset()}),
    "no_cognate": (replace(BASE, cognate_prefix=0), {}),
    "no_other_lang_bonus": (replace(BASE, other_language_sentence_bonus=0.0), {}),
    "no_unknown_penalty": (replace(BASE, unknown_penalty=0.0), {}),
    "no_cross_bonus": (replace(BASE, cross_lingual_bonus=0.0), {}),
}


def blanking(parse: Callable[..., Query], fields: dict[str, Any]) -> Callable[..., Query]:
    """`parse` (bot.query.parse_query) with `fields` of every Query replaced."""
    if not fields:
        return parse

    def parse_blanked(*args: Any, **kwargs: Any) -> Query:
        return replace(parse(*args, **kwargs), **fields)

    return parse_blanked


def run(kb: Any, piaf_store: Any, sets: dict[str, list[dict]], piaf_dev: list, name: str) -> dict[str, Any]:
    """One variant's calibrated threshold and figures (fact, abstention P/R, wrong abstentions,
    wrong answers per corpus set; gold answer shown and declined share on PIAF dev)."""
    import evals.calibrate as calibration
    from bot.query import parse_query
    from evals.calibrate import THRESHOLDS, abstention_counts, collect
    from evals.corpus import run_questions, score
    from evals.piaf_reader import whole_system

    answer_module = sys.modules["bot.answer"]  # the name `bot.answer` is the function
    config, fields = VARIANTS[name]
    patched = blanking(parse_query, fields)
    answer_module.parse_query = calibration.parse_query = patched
    try:
        items = collect(kb, sets["dev"], config)
        best: tuple[tuple[int, int], float] | None = None
        for threshold in THRESHOLDS:
            c = abstention_counts(items, replace(config, abstain_below=threshold))
            key = (-(c["fp"] + c["fn"]), -c["fp"])
            if best is None or key > best[0]:
                best = (key, threshold)
        assert best is not None
        config = replace(config, abstain_below=best[1])
        row: dict[str, Any] = {"abstain_below": best[1]}
        for set_name, questions in sets.items():
            f = score(run_questions(kb, questions, config))
            row[set_name] = [f["fact_in_answer"], f["abstention_precision"], f["abstention_recall"],
                             f["wrong_abstentions"], f["wrong_answers"]]
        piaf = whole_system(piaf_store, piaf_dev, config)
        row["piaf_dev"] = [piaf["gold_answer_shown"], piaf["declined"]]
        return row
    finally:
        answer_module.parse_query = calibration.parse_query = parse_query


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.ablation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("data"), help="store built from corpus/ (default: data)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--work", type=Path, default=Path("bench-results") / "piaf",
                        help="folder of the PIAF store (shared with python -m evals)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from evals.corpus import BLIND_QUESTIONS, DEV_QUESTIONS, QUESTIONS, load_questions
    from evals.piaf import build_store
    from evals.piaf_reader import PIAF_FILE, load
    from kb.settings import Settings
    from kb.store import KnowledgeBase

    settings = Settings.from_env(store=args.store)
    kb = KnowledgeBase(settings)
    sets = {name: load_questions(path) for name, path in (("dev", DEV_QUESTIONS), ("blind", BLIND_QUESTIONS),
                                                          ("test", QUESTIONS))}
    _, questions = load()
    piaf_store, _, _ = build_store(PIAF_FILE, args.work, precision=settings.embedding_precision)
    piaf_dev = [q for q in questions if q.split == "dev"]
    print("variant | abstain_below | dev | blind | test (fact, abst. P, abst. R, wrong abst., wrong ans.) | PIAF dev (shown, declined)")
    results = {}
    for name in args.variants:
        row = results[name] = run(kb, piaf_store, sets, piaf_dev, name)
        print(f"{name} | {row['abstain_below']} | {row['dev']} | {row['blind']} | {row['test']} | {row['piaf_dev']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
