"""Fit the follow-up decision (`bot/followup.py`): does a question borrow the subject of the conversation?

Every turn after the first of the development conversations (`evals/data/conversations_dev.jsonl`,
written for this and never the report set `evals/data/conversations.jsonl`) gives one example: its
`FEATURES`, read against the subject the conversation has by then (the subject follows the
labels: a standalone turn becomes the subject, a follow-up keeps or swaps it), and its label
(`standalone` false: it borrows). A logistic regression (scikit-learn, features standardised
and folded back into the coefficients) is fitted on them; leave-one-conversation-out accuracy
is printed next to the rules' accuracy on the same turns, then the coefficients are written.

    python -m tools.fit_followups [--store DIR] [--conversations FILE] [--dest bot/followup_model.json]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bot.answering.conversation import borrowed, rule_borrows
from bot.followup import FEATURES, MODEL_FILE, FollowUpDecision, FollowUpModel
from evals.corpus import EVAL_DATA, load_questions
from kb.logs import configure_logging
from kb.settings import Settings
from kb.store import KnowledgeBase, SearchFilter, StoreError

DEV_CONVERSATIONS = EVAL_DATA / "conversations_dev.jsonl"


def examples(kb: KnowledgeBase, conversations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One example per turn after the first: conversation id, question, features, label, rules' answer."""
    found = []
    for conversation in conversations:
        decision = FollowUpDecision(kb, SearchFilter.for_role(conversation.get("role", "official")),
                                    model=FollowUpModel((0.0,) * len(FEATURES), 0.0))
        subject = None
        for turn in conversation["turns"]:
            question = turn["question"]
            if subject is None:
                subject = question
                continue
            follow_up = borrowed(question, subject)
            label = not turn["standalone"]
            found.append({"conversation": conversation["id"], "question": question, "label": label,
                          "signals": decision.signals(question, subject, follow_up.search),
                          "rules": rule_borrows(question, subject, follow_up.search)})
            subject = follow_up.subject if label else question
    return found


def fit(rows: list[dict[str, Any]], c: float = 1.0) -> FollowUpModel:
    """A logistic regression on `rows`' signals and labels, as a `FollowUpModel` on raw signals."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([[r["signals"][f] for f in FEATURES] for r in rows], dtype=np.float64)
    y = np.array([r["label"] for r in rows], dtype=int)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=1000).fit((x - mean) / scale, y)
    weights = model.coef_[0] / scale
    intercept = float(model.intercept_[0] - (weights * mean).sum())
    return FollowUpModel(tuple(round(float(w), 6) for w in weights), round(intercept, 6))


def cross_validated(rows: list[dict[str, Any]], c: float) -> float:
    """Leave-one-conversation-out accuracy of `fit`."""
    right = 0
    for held in sorted({r["conversation"] for r in rows}):
        model = fit([r for r in rows if r["conversation"] != held], c)
        right += sum(model.borrows(r["signals"]) == r["label"] for r in rows if r["conversation"] == held)
    return right / len(rows)


def main(argv: list[str] | None = None) -> int:
    """Fit on the development conversations; print the accuracies; write the model."""
    parser = argparse.ArgumentParser(prog="python -m tools.fit_followups", description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="store to read (default: PASSERELLE_STORE or data/)")
    parser.add_argument("--conversations", type=Path, default=DEV_CONVERSATIONS, help="development conversations")
    parser.add_argument("--dest", type=Path, default=MODEL_FILE, help="where to write the model")
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    args = parser.parse_args(argv)
    configure_logging()
    logging.getLogger("bot").setLevel(logging.WARNING)
    try:
        rows = examples(KnowledgeBase(Settings.from_env(store=args.store)), load_questions(args.conversations))
    except (StoreError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for r in rows:
        print(f"{'borrows' if r['label'] else 'alone  '} rules={'borrows' if r['rules'] else 'alone  '} "
              + " ".join(f"{f}={r['signals'][f]:.3f}" for f in FEATURES) + f"  {r['question']}")
    rules = sum(r["rules"] == r["label"] for r in rows) / len(rows)
    model = fit(rows, args.c)
    trained = sum(model.borrows(r["signals"]) == r["label"] for r in rows) / len(rows)
    held_out = cross_validated(rows, args.c)
    print(f"{len(rows)} turns: rules {rules:.3f}, model on its training turns {trained:.3f}, "
          f"leave-one-conversation-out {held_out:.3f}")
    data = {**model.to_dict(), "trained_on": args.conversations.name,
            "turns": len(rows), "accuracy": {"rules": round(rules, 3), "training": round(trained, 3),
                                             "leave_one_conversation_out": round(held_out, 3)}}
    args.dest.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"written {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
