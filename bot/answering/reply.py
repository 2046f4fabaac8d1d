"""What the bot returns: an `Answer` with its numbered `Source`s (data, never markup).

Shared by the document answerer (`bot.answering`) and the commitments answerer (`bot.roadmap`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.messages import message, outcome_label


@dataclass
class Source:
    """A passage shown with the answer; `cited` ones are numbered as in the answer text."""

    n: int
    cited: bool
    title: str
    path: str
    doc_type: str
    date: str
    page: int | None
    section: str
    quote: str
    start: int
    end: int
    score: float

    def location(self) -> str:
        """Date, page and section, as one short line."""
        return ", ".join(part for part in (self.date, f"p. {self.page}" if self.page else "", self.section) if part)


@dataclass
class Answer:
    """The bot's reply: its fields are the JSON keys of `python -m bot ask --json`."""

    answer: str
    abstained: bool
    language: str
    sources: list[Source] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    # "extractive" (quotes) or "generated" (written by the LLM server, every sentence verified).
    mode: str = "extractive"
    # Sentences of the LLM's draft that the verification removed: {"sentence", "reason"}.
    removed: list[dict[str, str]] = field(default_factory=list)
    # "answered" (quoted as the answer), "to_check" (the best passages shown as places to
    # look, nothing presented as the answer) or "not_in_documents" (`bot.answering.abstain`).
    outcome: str = "answered"
    # The calibrated probability that the first quoted unit answers (None where no
    # calibrator decided, e.g. an answer from the roadmap commitments).
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def status(self) -> str:
        """The outcome and its confidence in the answer's language ("À vérifier (confiance 42 %)")."""
        return outcome_label(self.outcome, self.confidence, self.language)

    def source_groups(self) -> list[tuple[str, list[Source]]]:
        """Non-empty groups of sources with their heading in the answer's language:
        the cited ones, then "see also"."""
        groups = [
            (message("sources", self.language), [s for s in self.sources if s.cited]),
            (message("see_also", self.language), [s for s in self.sources if not s.cited]),
        ]
        return [(heading, group) for heading, group in groups if group]
