"""Calibration of the abstention rule on the development question set."""

from __future__ import annotations

import itertools
import logging
from dataclasses import replace
from typing import Any

from bot.answering import AnswerConfig, Evidence, abstention_score, gather_evidence, search_filter
from bot.answering.query import parse_query
from kb.store import KnowledgeBase

log = logging.getLogger(__name__)

THRESHOLDS = [round(0.80 + i * 0.005, 3) for i in range(41)]
PENALTIES = [0.0, 0.1, 0.2, 0.3, 0.4]


def collect(kb: KnowledgeBase, questions: list[dict[str, Any]], config: AnswerConfig) -> list[tuple[dict, Evidence]]:
    """Evidence for every question (retrieval and sentence scores do not depend on the thresholds)."""
    result = []
    for q in questions:
        filters = search_filter(q.get("role", "reader"), q.get("filters"))
        evidence = gather_evidence(kb, parse_query(q["question"], q.get("history") or ()), filters, config=config)
        result.append((q, evidence))
    return result


def abstention_counts(items: list[tuple[dict, Evidence]], config: AnswerConfig) -> dict[str, int]:
    """True/false abstentions of `config` on collected evidence."""
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for q, evidence in items:
        abstains = not evidence.sentences or abstention_score(evidence, config) < config.abstain_below
        should = not q.get("answerable", True)
        key = ("tp" if should else "fp") if abstains else ("fn" if should else "tn")
        counts[key] += 1
    return counts


def calibrate(kb: KnowledgeBase, questions: list[dict[str, Any]], base: AnswerConfig = AnswerConfig()) -> tuple[AnswerConfig, dict[str, Any]]:
    """The thresholds that make the fewest wrong decisions on `questions` (ties: fewer
    wrong abstentions, since an answer is a verbatim quote the official can check)."""
    items = collect(kb, questions, base)
    best: tuple[tuple[int, int], AnswerConfig, dict[str, int]] | None = None
    for threshold, penalty in itertools.product(THRESHOLDS, PENALTIES):
        config = replace(base, abstain_below=threshold, unknown_penalty=penalty)
        c = abstention_counts(items, config)
        key = (-(c["fp"] + c["fn"]), -c["fp"])
        if best is None or key > best[0]:
            best = (key, config, c)
    assert best is not None
    _, config, counts = best
    log.info("calibrated abstain_below=%s unknown_penalty=%s counts=%s", config.abstain_below,
             config.unknown_penalty, counts)
    return config, {"abstain_below": config.abstain_below, "unknown_penalty": config.unknown_penalty,
                    "dev_counts": counts}
