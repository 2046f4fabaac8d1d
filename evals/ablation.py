"""Ablation of the sentence scorer's hand-written cues on the DEFAULT answer path (the reader
with its calibrator), judged on questions the cues were not written for.

On the default path the cues act only indirectly: the sentence scores order the answer units
before the reader reads the best `AnswerConfig.reader_candidates` of them (`prerank`), and the
cue words of the question are left out of the share of the question the documents do not
know (`Evidence.unknown`, a calibrator signal). Each variant switches one cue off (or all of
them, `no_cues`) and answers the blind corpus questions, the new-kinds questions, the
off-topic questions and PIAF `test` questions with and without their own article, through
`gather_evidence` -> `read` -> `decided`, as `bot.answer` does. The reader's logits are
cached by (question, context, unit), so a variant only reads the units it adds; retrieval,
which no cue touches, runs once per question.

The named-day, year and acronym checks are not variants: they only filter the sentences the
scorer's own abstention reads (`Evidence.strongest`), which the default path never consults.

    python -m evals.ablation [--variants base no_cues ...] [--parts corpus piaf] [--limit N] [--json FILE]
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

BASE = AnswerConfig(reader=True)
_NO_CUES = replace(BASE, answer_type_weight=0.0, named_day_check=False, cognate_prefix=0,
                   other_language_sentence_bonus=0.0)


def _unchanged(query: Query) -> dict[str, Any]:
    return {}


def _no_kind(query: Query) -> dict[str, Any]:
    """As if no kind of fact were recognised: no typed sentences, and the cue words ("que
    signifie", "combien de") count among the salient words, as every other word does."""
    from bot.answer_type import WORD_TOKEN

    words = WORD_TOKEN.findall(query.question)
    return {"kind": None, "salient": tuple((w, i > 0 and w[0].isupper()) for i, w in enumerate(words))}


def _no_cues(query: Query) -> dict[str, Any]:
    return {**_no_kind(query), "asked_years": frozenset(), "named_days": frozenset(), "acronyms": frozenset()}


# name -> (config, the Query fields as if the question did not state them)
VARIANTS: dict[str, tuple[AnswerConfig, Callable[[Query], dict[str, Any]]]] = {
    "base": (BASE, _unchanged),
    "no_answer_type": (BASE, _no_kind),
    "no_answer_type_weight": (replace(BASE, answer_type_weight=0.0), _unchanged),
    "no_cognate": (replace(BASE, cognate_prefix=0), _unchanged),
    "no_other_lang_bonus": (replace(BASE, other_language_sentence_bonus=0.0), _unchanged),
    "no_cues": (_NO_CUES, _no_cues),
}


def cache_reader() -> dict:
    """Memoise the reader's logits by (question, context, unit text): variants re-read only
    the units their ordering adds."""
    from bot.reader import Reader, ReaderScores
    import numpy as np

    memo: dict[tuple[str, str, str], float] = {}
    original = Reader.score

    def score(self: Reader, question: str, candidates: Any, cosines: Any, **kwargs: Any) -> ReaderScores:
        missing = [i for i, (c, t) in enumerate(candidates) if (question, c, t) not in memo]
        if missing:
            found = original(self, question, [candidates[i] for i in missing], [cosines[i] for i in missing], **kwargs)
            for i, logit in zip(missing, found.logits):
                memo[(question, *candidates[i])] = float(logit)
        return ReaderScores(np.array([memo[(question, *c)] for c in candidates], dtype=np.float32))

    Reader.score = score  # type: ignore[method-assign]
    return memo


def ask_variants(kb: Any, names: list[str], question: str, history: Any, where: Any, k: int = 5) -> dict[str, Any]:
    """The default path's answer to one question under each variant. Retrieval does not depend
    on the cues, so it runs once; each variant scores the sentences of the same passages, reads
    its own best units (cached logits) and lets the calibrator decide."""
    from dataclasses import replace as with_fields

    from bot.answer import decided, gather_evidence, read
    from bot.query import parse_query
    from bot.roadmap import answer_from_commitments
    from bot.router import route
    from bot.scoring import score_sentences

    query = parse_query(question, history)
    if route(kb, query, where) == "commitments":
        found = answer_from_commitments(kb, query.commitments, where, query.language, None)
        if found is not None:
            return {name: found for name in names}
    evidence = gather_evidence(kb, query, where, k=k, config=BASE, for_reader=True)
    result = {}
    for name in names:
        config, fields = VARIANTS[name]
        asked = with_fields(query, **fields(query))
        sentences, unknown = score_sentences(kb, asked, evidence.query_vector, evidence.reading, config, where)
        own = with_fields(evidence, sentences=sentences, unknown=unknown, kind=asked.kind, candidates=[])
        read(kb, own, config)
        result[name] = decided(kb, own, config, k, query.language)
    return result


def run(stores: dict[str, tuple[Any, list]], names: list[str]) -> dict[str, dict[str, Any]]:
    """Each variant's selective-answering figures per set (`evals.answers.figures`)."""
    from evals.answers import Asked, figures

    rows: dict[str, dict[str, Any]] = {name: {} for name in names}
    for set_name, (kb, items) in stores.items():
        asked: dict[str, list] = {name: [] for name in names}
        for kind, question, history, _role, where, right in items:
            for name, result in ask_variants(kb, names, question, history, where).items():
                asked[name].append(Asked(kind, result, right, 0.0))
        for name in names:
            rows[name][set_name] = figures(asked[name])
        log.warning("%s done", set_name)
    return rows


KEYS = ("fact_in_first_unit_shown", "fact_in_units_shown", "answered_coverage", "answered_precision",
        "unanswerable_not_answered", "offtopic_not_in_documents", "to_check")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.ablation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("bench-results") / "newkinds-store",
                        help="store of corpus/ plus evals/data/newkinds/ (built when missing)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--limit", type=int, default=100, help="PIAF test questions (spread evenly; each asked twice)")
    parser.add_argument("--work", type=Path, default=Path("bench-results") / "piaf",
                        help="folder of the PIAF store (shared with python -m evals)")
    parser.add_argument("--parts", nargs="+", default=["corpus", "piaf"], choices=["corpus", "piaf"],
                        help="the corpus sets (blind, newkinds, offtopic) and/or PIAF test")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from evals.answers import SETS, corpus_items, newkinds_store, piaf_items
    from evals.reader import format_rows

    cache_reader()
    stores = {}
    if "corpus" in args.parts:
        kb = newkinds_store(args.store)
        stores = {name: (kb, corpus_items(SETS[name], offtopic=name == "offtopic")) for name in SETS}
    if "piaf" in args.parts:
        piaf_store, piaf = piaf_items("test", args.limit, args.work)
        stores["piaf-test"] = (piaf_store, piaf)
    results = run(stores, args.variants)
    for set_name in stores:
        print(format_rows(set_name, {name: results[name][set_name] for name in results}, KEYS) + "\n", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
