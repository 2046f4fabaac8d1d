"""Roadmap extraction quality: precision, recall and deadline accuracy against hand labels.

The labels (`evals/data/roadmap_items.jsonl`) list every commitment and action item of
the sample corpus, one per mention, with the document that states it. An extracted item
counts when it comes from the same document, names the same owner (the same set of
bodies), describes the same action, and resolves to the same deadline (both None when the
document gives no date). "Same action": the five-letter stems of the content words of
the two quotes (or of the two action phrases) overlap by at least half of the smaller
set. Labels and extracted items are paired one to one, best pairs first.

Deadline accuracy is measured on the pairs that agree on document, owner and action: the
share whose deadline is right. The baseline of the same run is the naive extractor
"every sentence or table row with a date is an item, owned by the first body it names".
No model is needed: the documents are loaded and read, nothing is embedded.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterable

from ingest.load import LoadError, load_document
from ingest.roadmap import extract_items, find_dates, signature_date
from kb.commitments import Commitment, action_stems, body_mentions, owner_keys
from kb.schema import LoadedDocument
from kb.text import sentence_spans

log = logging.getLogger(__name__)

LABELS = Path(__file__).resolve().parent / "data" / "roadmap_items.jsonl"
ACTION_OVERLAP = 0.5
MAX_BYTES = 50 * 1024 * 1024

Extractor = Callable[[LoadedDocument, "date | None"], list[Commitment]]


@dataclass(frozen=True)
class LabelledItem:
    """One hand-labelled commitment (a line of roadmap_items.jsonl)."""

    path: str
    action: str
    owner: str
    commission: str | None
    deadline: date | None
    deadline_text: str | None
    status: str
    quote: str


def load_labels(path: Path = LABELS) -> list[LabelledItem]:
    """The labelled items; a malformed line raises ValueError naming it."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(LabelledItem(
                path=row["path"], action=row["action"], owner=row["owner"], commission=row.get("commission"),
                deadline=date.fromisoformat(row["deadline"]) if row.get("deadline") else None,
                deadline_text=row.get("deadline_text"), status=row["status"], quote=row["quote"],
            ))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a labelled item ({exc})") from None
    return items


def load_corpus(root: Path, project_root: Path) -> dict[str, LoadedDocument]:
    """Every loadable document under `root`, keyed by its path relative to `project_root`."""
    from ingest.index import IngestReport, discover

    documents = {}
    for path in discover([root], IngestReport()):
        try:
            doc = load_document(path, max_bytes=MAX_BYTES)
        except LoadError as exc:
            log.warning("roadmap eval skips %s: %s", path, exc)
            continue
        documents[path.resolve().relative_to(project_root.resolve()).as_posix()] = doc
    return documents


def naive_items(doc: LoadedDocument, signed: date | None) -> list[Commitment]:
    """Baseline: every sentence (or table row) holding a date is an item, owned by the
    first body it names, due on the first date it gives."""
    items = []
    for block in doc.blocks:
        if block.kind == "heading":
            continue
        for start, end in sentence_spans(doc.text, block.start, block.end):
            for line_start, line_end in _lines(doc.text, start, end):
                sentence = doc.text[line_start:line_end]
                dated = [e for e in find_dates(sentence, doc.meta.date, signed) if e.value is not None]
                if not dated:
                    continue
                mentions = body_mentions(sentence)
                items.append(Commitment(
                    action=sentence, owner=mentions[0][2] if mentions else "", commission=None,
                    deadline=dated[0].value, deadline_text=dated[0].text, status="unknown", quote=sentence,
                    start=line_start, end=line_end, page=block.page,
                ))
    return items


def _lines(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    cursor = start
    for line in text[start:end].split("\n"):
        if line.strip():
            yield cursor, cursor + len(line)
        cursor += len(line) + 1


def extract_corpus(documents: dict[str, LoadedDocument], extractor: Extractor) -> dict[str, list[Commitment]]:
    """Items of every document, with the memoranda's signature date as the anchor."""
    signed = signature_date((d.meta.doc_type, d.meta.date) for d in documents.values())
    return {path: extractor(doc, signed) for path, doc in documents.items()}


def action_overlap(a: str, b: str) -> float:
    """Share of the smaller stem set found in the other one (0 when either is empty)."""
    left, right = action_stems(a), action_stems(b)
    if not left or not right:
        return 0.0
    return len(left & right) / min(len(left), len(right))


def same_owner(predicted: str, labelled: str) -> bool:
    """Owners match when they name the same set of bodies."""
    return bool(predicted) and set(owner_keys(predicted)) == set(owner_keys(labelled))


def score(predicted: dict[str, list[Commitment]], labels: list[LabelledItem]) -> dict:
    """Precision, recall and deadline accuracy of `predicted` against `labels`."""
    pairs = []
    for li, label in enumerate(labels):
        for pi, item in enumerate(predicted.get(label.path, [])):
            if not same_owner(item.owner, label.owner):
                continue
            overlap = max(action_overlap(item.quote, label.quote), action_overlap(item.action, label.action))
            if overlap >= ACTION_OVERLAP:
                pairs.append((item.deadline == label.deadline, overlap, li, (label.path, pi)))
    pairs.sort(key=lambda p: (p[0], p[1]), reverse=True)
    used_labels, used_items, matched = set(), set(), []
    for right_deadline, overlap, li, key in pairs:
        if li in used_labels or key in used_items:
            continue
        used_labels.add(li)
        used_items.add(key)
        matched.append((li, key, right_deadline))
    correct = sum(1 for _, _, ok in matched if ok)
    n_predicted = sum(len(v) for v in predicted.values())
    matched_keys = {key for _, key, ok in matched if ok}
    missed = [labels[i] for i in range(len(labels)) if i not in {li for li, _, ok in matched if ok}]
    extra = [(path, item) for path, items in predicted.items() for pi, item in enumerate(items)
             if (path, pi) not in matched_keys]
    return {
        "labelled": len(labels),
        "predicted": n_predicted,
        "correct": correct,
        "precision": round(correct / n_predicted, 3) if n_predicted else 0.0,
        "recall": round(correct / len(labels), 3) if labels else 0.0,
        "deadline_accuracy": round(correct / len(matched), 3) if matched else 0.0,
        "owner_action_matches": len(matched),
        "missed": [{"path": m.path, "owner": m.owner, "deadline": m.deadline, "action": m.action} for m in missed],
        "extra": [{"path": p, "owner": i.owner, "deadline": i.deadline, "quote": " ".join(i.quote.split())[:140]}
                  for p, i in extra],
    }


def run_roadmap(corpus: Path, project_root: Path, labels_path: Path = LABELS) -> dict:
    """Extract the register of the corpus with the product and the baseline; score both."""
    labels = load_labels(labels_path)
    documents = load_corpus(corpus, project_root)
    product = score(extract_corpus(documents, lambda d, s: extract_items(d, signed=s)), labels)
    baseline = score(extract_corpus(documents, naive_items), labels)
    return {"product": product, "baseline_every_dated_sentence": baseline}


def format_roadmap(results: dict) -> str:
    """A Markdown table of the roadmap results, with the misses and extras of the product."""
    product, baseline = results["product"], results["baseline_every_dated_sentence"]
    lines = [
        "| extractor | items | correct | precision | recall | deadline accuracy |",
        "|---|---|---|---|---|---|",
        f"| rules (ingest/roadmap.py) | {product['predicted']} | {product['correct']} | {product['precision']} | "
        f"{product['recall']} | {product['deadline_accuracy']} |",
        f"| baseline: every dated sentence | {baseline['predicted']} | {baseline['correct']} | {baseline['precision']} | "
        f"{baseline['recall']} | {baseline['deadline_accuracy']} |",
        "",
        f"Targets: precision ≥ 0.9, recall ≥ 0.85, deadline accuracy ≥ 0.9 ({product['labelled']} labelled items; "
        f"deadline accuracy over the {product['owner_action_matches']} items whose owner and action match).",
    ]
    if product["missed"]:
        lines += ["", "Missed labels:"] + [
            f"- {m['path']}: {m['owner']} — {m['action']} ({m['deadline']})" for m in product["missed"]]
    if product["extra"]:
        lines += ["", "Extracted items matching no label:"] + [
            f"- {e['path']}: {e['owner']} — {e['quote']} ({e['deadline']})" for e in product["extra"]]
    return "\n".join(lines)
