"""Fit the pair model of reports (`bot/roadmap_report_model.py`): is a statement that something
was done about this commitment?

The sample corpus only (development material; the held-out updates of
`evals/data/commitment_updates*/` are never read): its documents are read and their mentions
embedded as `python -m evals.commitment_updates` does, its commitments grouped by words and
meaning as the register does, and every report gives one example per group it may be about
(`bot.roadmap_links.report_candidates`), labelled by hand in `evals/data/report_links_dev.jsonl`
(each report, by a piece of its quote, and pieces of the actions of the commitments it is
about; none for a statement about no commitment). A logistic regression (scikit-learn,
features standardised and folded back into the coefficients) is fitted on them; the decision
threshold is set just above the most probable wrong pair (no wrong "done" on the development
set), then the model is written.

    python -m tools.fit_report_links [--labels FILE] [--dest bot/roadmap_report_model.json]
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers is imported: it reads it then

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from bot.roadmap_report_model import FEATURES, MODEL_FILE, ReportModel
from kb.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

LABELS = PROJECT_ROOT / "evals" / "data" / "report_links_dev.jsonl"
# Above the most probable wrong pair by this much: a wrong "done" is worse than a missed one.
SAFETY = 0.02


def load_labels(path: Path) -> list[dict[str, Any]]:
    """The hand labels; a malformed line raises ValueError naming it."""
    labels = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
                labels.append({"document": row["document"], "report": row["report"].lower(),
                               "commitments": [c.lower() for c in row["commitments"]]})
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"{path}:{number}: not a report label ({exc})") from None
    return labels


def examples(rows: list[dict[str, Any]], vectors: dict, labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One example per (report, candidate group): the report, the group's first action, rank,
    signals, label. ValueError when a report of the corpus has no label (each must be judged)."""
    from bot import roadmap
    from bot.roadmap_links import groups_of, join_by_meaning, report_candidates

    reports = [r for r in rows if r.get("kind") == "report"]
    grouped = join_by_meaning(roadmap._word_groups([r for r in rows if r.get("kind") not in ("report", "update")]),
                              vectors)
    items = groups_of(grouped, vectors)
    found = []
    for report in reports:
        label = next((lab for lab in labels if lab["document"] == report["path"]
                      and lab["report"] in " ".join(report["quote"].lower().split())), None)
        if label is None:
            raise ValueError(f"report without a label: {report['path']}: {report['quote'][:80]!r}")
        for rank, (value, n, pair) in enumerate(report_candidates(report, items, vectors)):
            actions = [" ".join(r["action"].lower().split()) for r in items[n].rows
                       if r.get("kind", "commitment") == "commitment"]
            found.append({"report": report["quote"][:70], "group": actions[0][:70], "rank": rank, "signals": pair,
                          "label": any(piece in action for piece in label["commitments"] for action in actions)})
    return found


def fit(found: list[dict[str, Any]], c: float = 1.0) -> ReportModel:
    """A logistic regression on the examples (no class weights: a right pair is rare, and
    should stay rare). The threshold is halfway between the most probable wrong pair and the
    least probable right pair that is its report's closest group when those are apart (no
    wrong pair accepted on the development set), else `SAFETY` above the wrong one."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([[e["signals"][f] for f in FEATURES] for e in found], dtype=np.float64)
    y = np.array([e["label"] for e in found], dtype=int)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=1000).fit((x - mean) / scale, y)
    weights = model.coef_[0] / scale
    intercept = float(model.intercept_[0] - (weights * mean).sum())
    raw = ReportModel(tuple(round(float(w), 6) for w in weights), round(intercept, 6))
    wrong = max((raw.probability(e["signals"]) for e in found if not e["label"]), default=0.0)
    right = min((raw.probability(e["signals"]) for e in found if e["label"] and e["rank"] == 0), default=1.0)
    threshold = (wrong + right) / 2 if right > wrong else min(wrong + SAFETY, 0.999)
    return ReportModel(raw.coefficients, raw.intercept, round(threshold, 4))


def left_out(found: list[dict[str, Any]], c: float = 1.0) -> dict[str, int]:
    """Leave one report out: each report decided by a model fitted on the others (its closest
    group accepted or not): right attachments, wrong ones, reports about a commitment."""
    counts = {"right": 0, "wrong": 0, "about_a_commitment": 0}
    for report in sorted({e["report"] for e in found}):
        model = fit([e for e in found if e["report"] != report], c)
        for e in found:
            if e["report"] == report and e["rank"] == 0:
                counts["about_a_commitment"] += e["label"]
                if model.accepts(e["signals"]):
                    counts["right" if e["label"] else "wrong"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    """Fit, print the development pairs and write the model (exit 1 with a message on bad input)."""
    from evals.commitment_updates import embed, mention_rows
    from kb.logs import configure_logging
    from kb.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m tools.fit_report_links", description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=Path, default=LABELS, help="hand labels of the corpus's reports")
    parser.add_argument("--dest", type=Path, default=MODEL_FILE, help="where to write the model")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        labels = load_labels(args.labels)
        rows, texts = mention_rows([PROJECT_ROOT / "corpus"])
        matrix = embed(texts, Settings.from_env().embedding_model)
        vectors = {(r["doc_id"], r["ordinal"]): matrix[n] for n, r in enumerate(rows)}
        found = examples(rows, vectors, labels)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    model = fit(found)
    top = [e for e in found if e["rank"] == 0]
    accepted = [e for e in top if model.accepts(e["signals"])]
    for e in sorted(found, key=lambda e: -model.probability(e["signals"]))[:30]:
        print(f"{model.probability(e['signals']):.3f} {'+' if e['label'] else '-'} rank {e['rank']} "
              f"cos {e['signals']['cosine']:.3f} days {e['signals']['days_apart']:.2f} | {e['report']} → {e['group']}")
    print("leave one report out:", json.dumps(left_out(found)))
    summary = {"trained_on": args.labels.relative_to(PROJECT_ROOT).as_posix() if args.labels.is_relative_to(PROJECT_ROOT)
               else str(args.labels), "fitted": date.today().isoformat(), "pairs": len(found),
               "right_pairs": sum(e["label"] for e in found),
               "reports_attached_right": sum(e["label"] for e in accepted),
               "reports_about_a_commitment": sum(e["label"] for e in top),
               "wrong_attachments": sum(not e["label"] for e in accepted)}
    print(json.dumps(summary))
    args.dest.write_text(json.dumps(model.to_dict(**summary), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    logging.getLogger(__name__).addHandler(logging.NullHandler())
    sys.exit(main())
