"""`python -m evals.conversations`: follow-up questions and topic switches, turn by turn.

Each conversation of `evals/data/conversations.jsonl` (written before the follow-up resolution
was changed) is asked turn by turn through `bot.answering.answer` with the earlier questions as
history, on the reader path. A turn holds when one of its expected facts is in the answer text
(`evals.corpus.holds`, and the answer is not a decline); it is *shown* when the fact is in the
first unit shown, answered or to check (the measure the answer targets use: it judges which
subject the turn was resolved to, apart from how sure the calibrator is). A standalone turn (one
that makes sense without the history) is also asked in a fresh conversation: the conversation must
never answer it worse than that, on either measure.
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.answering import Answer, AnswerConfig, answer
from bot.followup import resolved_query
from bot.answering.query import parse_query
from evals.corpus import EVAL_DATA, first_cited, holds, load_questions
from kb.logs import configure_logging
from kb.settings import Settings
from kb.catalog import StoreError
from kb.store import KnowledgeBase, SearchFilter

CONVERSATIONS = EVAL_DATA / "conversations.jsonl"
READER = AnswerConfig(reader=True)


@dataclass
class Turn:
    """One asked turn: in the conversation, and (standalone turns after the first) fresh."""

    conversation: str
    number: int
    question: str
    standalone: bool
    search: str
    holds: bool
    answer: str
    shown: bool = False
    fresh_holds: bool | None = None
    fresh_shown: bool | None = None

    @property
    def worse_than_fresh(self) -> bool:
        """A standalone question the conversation answered wrongly while a fresh one did not
        (answered with the fact, or the fact in the first unit shown)."""
        return (bool(self.fresh_holds) and not self.holds) or (bool(self.fresh_shown) and not self.shown)


def run_conversations(kb: KnowledgeBase, conversations: list[dict[str, Any]], config: AnswerConfig = READER) -> list[Turn]:
    """Ask every turn of `conversations` with its history, and standalone ones fresh too."""
    turns: list[Turn] = []
    for conversation in conversations:
        role = conversation.get("role", "official")
        history: list[str] = []
        for number, turn in enumerate(conversation["turns"], start=1):
            question, expected = turn["question"], turn["expected"]
            result = answer(question, history=list(history), role=role, kb=kb, config=config)
            query = parse_query(question, history)
            if config.semantic_followups:
                query = resolved_query(kb, query, history, SearchFilter.for_role(role))
            asked = Turn(conversation["id"], number, question, bool(turn["standalone"]), query.search,
                         _holds(result, expected), result.answer, _shown(result, expected))
            if asked.standalone and history:
                fresh = answer(question, role=role, kb=kb, config=config)
                asked.fresh_holds, asked.fresh_shown = _holds(fresh, expected), _shown(fresh, expected)
            elif not history:
                # the first turn is a fresh conversation
                asked.fresh_holds, asked.fresh_shown = asked.holds, asked.shown
            turns.append(asked)
            history.append(question)
    return turns


def _holds(result: Answer, expected: list[str]) -> bool:
    # As evals.corpus counts it: a declined answer lists passages, it does not state the fact.
    return not result.abstained and holds(result.answer, expected)


def _shown(result: Answer, expected: list[str]) -> bool:
    # As evals.answers counts "fact in the first unit shown": the first cited quote, answered or to check.
    return holds(first_cited(result)[0], expected)


def summary(turns: list[Turn]) -> dict[str, Any]:
    """Expected fact per turn (answered with it; in the first unit shown), per kind (follow-up /
    standalone), and standalone turns worse than fresh."""
    def share(selected: list[Turn]) -> dict[str, Any]:
        held, shown = sum(t.holds for t in selected), sum(t.shown for t in selected)
        return {"turns": len(selected), "held": held, "fact": round(held / len(selected), 3) if selected else None,
                "shown": shown, "fact_shown": round(shown / len(selected), 3) if selected else None}

    later = [t for t in turns if t.number > 1]
    return {
        "all": share(turns),
        "follow_up": share([t for t in turns if not t.standalone]),
        "standalone": share([t for t in turns if t.standalone]),
        "standalone_after_history": share([t for t in later if t.standalone]),
        "standalone_worse_than_fresh": [f"{t.conversation}.{t.number}" for t in turns if t.worse_than_fresh],
    }


def format_report(turns: list[Turn], figures: dict[str, Any]) -> str:
    """One line per turn, then the figures."""
    lines = []
    for t in turns:
        mark = "ok  " if t.holds else ("shwn" if t.shown else "MISS")
        kind = "standalone" if t.standalone else "follow-up "
        fresh = "" if t.fresh_holds is None or t.number == 1 else f" (fresh: {'ok' if t.fresh_holds else 'miss'})"
        lines.append(f"{mark} {t.conversation}.{t.number} {kind} {t.question}{fresh}")
        if t.search != t.question:
            lines.append(f"         search: {t.search}")
    lines.append("")
    for name in ("all", "follow_up", "standalone", "standalone_after_history"):
        part = figures[name]
        lines.append(f"expected fact per turn, {name}: answered {part['held']}/{part['turns']} = {part['fact']}; "
                     f"in the first unit shown {part['shown']}/{part['turns']} = {part['fact_shown']}")
    worse = figures["standalone_worse_than_fresh"]
    lines.append(f"standalone turns answered worse than fresh: {len(worse)} {' '.join(worse)}".rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the conversations on a store; print the report, optionally write it as JSON."""
    parser = argparse.ArgumentParser(prog="python -m evals.conversations", description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="store to read (default: PASSERELLE_STORE or data/)")
    parser.add_argument("--conversations", type=Path, default=CONVERSATIONS, help="conversations JSONL")
    parser.add_argument("--json", type=Path, help="also write the turns and figures to this JSON file")
    parser.add_argument("--semantic-followups", action="store_true",
                        help="decide follow-ups with the learned model of bot/followup.py instead of the rules")
    args = parser.parse_args(argv)
    configure_logging()
    logging.getLogger("bot").setLevel(logging.WARNING)
    settings = Settings.from_env(store=args.store)
    kb = KnowledgeBase(settings)
    try:
        config = replace(READER, semantic_followups=args.semantic_followups)
        turns = run_conversations(kb, load_questions(args.conversations), config)
    except (StoreError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    figures = summary(turns)
    print(format_report(turns, figures))
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "turns": [t.__dict__ for t in turns]},
                                        ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
