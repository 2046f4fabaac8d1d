"""Is a statement that something was done about this commitment? A small logistic regression
over the pair's signals, in place of one cosine bar (`bot.roadmap_links.attach_reports`).

One cosine bar left true reports under it ("Version 2 of the joint roadmap was circulated on
20 March 2026" against "La Cellule de coordination consolide la version 2 de la feuille de route",
cosine 0.883) while other pairs about different things reach it. What else tells them apart is
what an official would look at: the report is about the closest commitment by a clear margin,
and the day it reports is near the day the commitment was due (things get done, or reported
done, around their deadline). The signals (`FEATURES`, in this order):

- `cosine`: the e5 cosine of the report with the closest commitment of the group;
- `margin`: that cosine minus the best cosine of the report with any other group (negative
  for a group that is not the closest), clipped to ±`MARGIN_CLIP`;
- `days_apart`: how far the reported day is from the group's closest deadline, on a log
  scale from 0 (the same day) to 1 (a year or more, or no deadline).

Owners (agreeing or not) and shared counts were tried as signals too: on the development
reports their fitted weights came out with the wrong sign (owners that disagree counted for
the pair) and the fit separated right from wrong pairs less well, so they were left out; a
count that disagrees still rules a pair out (`kb.commitments.numbers_disagree`).

`bot/roadmap_report_model.json` holds the coefficients and the decision threshold. They were
fitted by `python -m tools.fit_report_links` on the sample corpus's reports, labelled by hand
(`evals/data/report_links_dev.jsonl`), the threshold set above every wrong pair there (a wrong
mark of "done" is worse than a missed one); never on the held-out updates.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping

MODEL_FILE = Path(__file__).with_name("roadmap_report_model.json")
FEATURES = ("cosine", "margin", "days_apart")
MARGIN_CLIP = 0.1
_YEAR = 365


@dataclass(frozen=True)
class ReportModel:
    """Logistic regression over `FEATURES` (in that order): P(the report is about the group)."""

    coefficients: tuple[float, ...]
    intercept: float
    threshold: float = 0.5

    def probability(self, signals: Mapping[str, float]) -> float:
        """P(same commitment) for a pair's signals."""
        z = self.intercept + sum(w * float(signals[name]) for w, name in zip(self.coefficients, FEATURES))
        return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))

    def accepts(self, signals: Mapping[str, float]) -> bool:
        """Does the pair clear the decision threshold?"""
        return self.probability(signals) >= self.threshold

    def to_dict(self, **extra: Any) -> dict[str, Any]:
        """The JSON form (`bot/roadmap_report_model.json`), with `extra` facts about the fit."""
        return {"features": list(FEATURES), "coefficients": list(self.coefficients),
                "intercept": self.intercept, "threshold": self.threshold, **extra}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ReportModel":
        """The model as `to_dict` writes it; ValueError when its features are not `FEATURES`."""
        if tuple(data.get("features", ())) != FEATURES:
            raise ValueError(f"report model features {data.get('features')!r}: expected {list(FEATURES)}")
        coefficients = tuple(float(w) for w in data["coefficients"])
        if len(coefficients) != len(FEATURES):
            raise ValueError(f"report model: {len(coefficients)} coefficients for {len(FEATURES)} features")
        return cls(coefficients, float(data["intercept"]), float(data.get("threshold", 0.5)))


@functools.cache
def default_model() -> ReportModel:
    """The committed model (`MODEL_FILE`), read once."""
    return ReportModel.from_dict(json.loads(MODEL_FILE.read_text(encoding="utf-8")))


def signals(value: float, runner_up: float | None, reported: str | None,
            deadlines: Iterable[str | None]) -> dict[str, float]:
    """The pair's `FEATURES` (see the module docstring). `runner_up`: the report's best cosine
    with another group (None: no other); `reported`, `deadlines`: ISO days."""
    margin = MARGIN_CLIP if runner_up is None else max(-MARGIN_CLIP, min(MARGIN_CLIP, value - runner_up))
    return {"cosine": value, "margin": margin, "days_apart": days_apart(reported, deadlines)}


def days_apart(reported: str | None, deadlines: Iterable[str | None]) -> float:
    """0 when the reported day is a deadline's, 1 a year or more apart (or no deadline), log scale."""
    days = [abs((date.fromisoformat(reported) - date.fromisoformat(d)).days)
            for d in deadlines if d and reported]
    if not days:
        return 1.0
    return min(math.log1p(min(days)) / math.log1p(_YEAR), 1.0)
