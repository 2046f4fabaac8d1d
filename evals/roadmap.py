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

A second set (`evals/data/roadmap_blind/`, labels in `roadmap_blind_items.jsonl`) holds
three illustrative documents in layouts the corpus does not have (an HTML action table with a
number column, an English e-mail with a deadline-first table, a later Word follow-up report
that moves deadlines and marks items done), with people and bodies the vocabulary does not
know. They were written and labelled before the rules were changed (precision 0.577, recall
0.5 then), but the rules were then changed while looking at their misses: their figures are
development figures now. There, owners match when they name the same set of folded names
(titles and articles dropped, "Digital Skills Office (DSO)" = "DSO"), without the list of
known bodies; `roadmap_blind_merges.jsonl` lists the pairs of labels that are one commitment
across documents, and the product's merge is scored on them.

A third set (`evals/data/roadmap_heldout/`, labels in `roadmap_heldout_items.jsonl`) was
written after those changes, in other layouts again (records of labelled fields, a list of
"title: owner …; due …" items, list items ending "Lead: X. Deadline: Y."), and is scored the
same way: the figure nearest to what a new document gets.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable

from ingest.load import LoadError, load_document
from ingest.roadmap import extract_commitments, find_dates, signature_date
from kb.commitments import ARTICLE, split_owners, Mention, action_stems, body_mentions, owner_keys
from kb.schema import LoadedDocument
from kb.text import sentence_spans

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
LABELS = DATA / "roadmap_items.jsonl"
BLIND = DATA / "roadmap_blind"
BLIND_LABELS = DATA / "roadmap_blind_items.jsonl"
BLIND_MERGES = DATA / "roadmap_blind_merges.jsonl"
HELDOUT = DATA / "roadmap_heldout"
HELDOUT_LABELS = DATA / "roadmap_heldout_items.jsonl"
ACTION_OVERLAP = 0.5
MAX_BYTES = 50 * 1024 * 1024

Extractor = Callable[[LoadedDocument, "date | None"], list[Mention]]


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
    id: str = ""


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
                id=row.get("id", ""),
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


def naive_items(doc: LoadedDocument, signed: date | None) -> list[Mention]:
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
                items.append(Mention(
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


def extract_corpus(documents: dict[str, LoadedDocument], extractor: Extractor) -> dict[str, list[Mention]]:
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


def owner_names(owner: str) -> frozenset[str]:
    """The folded names of an owner, without the list of known bodies: "M. Diallo (SENUM) /
    ARTP" -> {"diallo (senum)", "artp"}; a name followed by its acronym counts as the acronym
    ("The Digital Skills Office (DSO)" -> "dso")."""
    names = set()
    for part in split_owners(owner):
        part = ARTICLE.sub("", part.strip())
        acronym = re.fullmatch(r"(.+?)\s*\(([A-Z]{2,})\)", part)
        if acronym and "".join(w[0] for w in acronym.group(1).split() if w[0].isupper()) == acronym.group(2):
            part = acronym.group(2)
        name = " ".join(owner_keys(part))
        if name:
            names.add(name)
    return frozenset(names)


def same_names(predicted: str, labelled: str) -> bool:
    """Owners match when they name the same set of folded names (see `owner_names`)."""
    return bool(predicted) and owner_names(predicted) == owner_names(labelled)


def _pairs(predicted: dict[str, list[Mention]], labels: list[LabelledItem],
           owner_match: Callable[[str, str], bool]) -> list[tuple[int, tuple[str, int], bool]]:
    """(label index, (path, item index), deadline right) of the best one-to-one pairs that
    agree on document, owner and action."""
    pairs = []
    for li, label in enumerate(labels):
        for pi, item in enumerate(predicted.get(label.path, [])):
            if not owner_match(item.owner, label.owner):
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
    return matched


def score(predicted: dict[str, list[Mention]], labels: list[LabelledItem],
          owner_match: Callable[[str, str], bool] = same_owner) -> dict:
    """Precision, recall and deadline accuracy of `predicted` against `labels`."""
    matched = _pairs(predicted, labels, owner_match)
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


def load_merges(path: Path = BLIND_MERGES) -> list[tuple[str, str]]:
    """The expected merges: pairs of label ids that are one commitment across documents."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
                pairs.append((row["first"], row["second"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a pair of label ids ({exc})") from None
    return pairs



def mention_row(path: str, ordinal: int, meta: Any, item: Any) -> dict[str, Any]:
    """One extracted mention as the register's row (`kb.commitments` keys), its document's metadata
    beside it."""
    return {
        "doc_id": path, "path": path, "ordinal": ordinal, "title": meta.title,
        "date": meta.date.isoformat() if meta.date else None, "doc_type": meta.doc_type,
        "action": item.action, "owner": item.owner, "commission": item.commission,
        "deadline": item.deadline.isoformat() if item.deadline else None,
        "deadline_text": item.deadline_text, "status": item.status, "quote": item.quote,
        "start": item.start, "end": item.end, "page": item.page, "section": item.section,
    }

def score_merges(documents: dict[str, LoadedDocument], predicted: dict[str, list[Mention]],
                 labels: list[LabelledItem], expected: list[tuple[str, str]]) -> dict:
    """How many expected cross-document merges the product's merge makes, and how many
    pairs of labels it merges that are not the same commitment."""
    from bot.roadmap import merge

    rows = []
    for path, items in predicted.items():
        meta = documents[path].meta
        rows.extend(mention_row(path, ordinal, meta, item) for ordinal, item in enumerate(items))
    group_of = {}
    for number, merged in enumerate(merge(rows, date.today())):
        for source in merged.sources:
            group_of[(source.path, source.start)] = number
    item_of = {labels[li].id: (path, predicted[path][pi].start) for li, (path, pi), _ in
               _pairs(predicted, labels, same_names)}
    group = {label: group_of.get(key) for label, key in item_of.items()}
    wanted = {frozenset(pair) for pair in expected}
    found = [pair for pair in wanted if all(group.get(label) is not None for label in pair)
             and len({group[label] for label in pair}) == 1]
    ids = sorted(group)
    merged_pairs = {frozenset((a, b)) for i, a in enumerate(ids) for b in ids[i + 1 :] if group[a] == group[b]}
    return {"expected": len(wanted), "found": len(found),
            "wrong": sorted("+".join(sorted(p)) for p in merged_pairs - wanted),
            "missed": sorted("+".join(sorted(p)) for p in wanted - set(found))}


def run_roadmap(corpus: Path, project_root: Path, labels_path: Path = LABELS) -> dict:
    """Extract the commitments of the corpus with the product and the baseline; score both."""
    labels = load_labels(labels_path)
    documents = load_corpus(corpus, project_root)
    product = score(extract_corpus(documents, lambda d, s: extract_commitments(d, signed=s)), labels)
    baseline = score(extract_corpus(documents, naive_items), labels)
    return {"product": product, "baseline_every_dated_sentence": baseline,
            "blind": run_blind(project_root),
            "heldout": run_blind(project_root, HELDOUT, HELDOUT_LABELS, merges_path=None)}


def run_blind(project_root: Path, folder: Path = BLIND, labels_path: Path = BLIND_LABELS,
              merges_path: Path | None = BLIND_MERGES) -> dict:
    """The product and the baseline on documents outside the corpus, owners compared by name,
    and the product's cross-document merges when `merges_path` lists the expected ones."""
    labels = load_labels(labels_path)
    documents = load_corpus(folder, project_root)
    predicted = extract_corpus(documents, lambda d, s: extract_commitments(d, signed=s))
    product = score(predicted, labels, same_names)
    if merges_path is not None:
        product["merges"] = score_merges(documents, predicted, labels, load_merges(merges_path))
    baseline = score(extract_corpus(documents, naive_items), labels, same_names)
    return {"product": product, "baseline_every_dated_sentence": baseline}


def format_roadmap(results: dict) -> str:
    """A Markdown table of the roadmap results, with the misses and extras of the product."""
    product, baseline = results["product"], results["baseline_every_dated_sentence"]
    lines = [
        "| extractor | items | correct | precision | recall | deadline accuracy |",
        "|---|---|---|---|---|---|",
        f"| rules (ingest/roadmap/) | {product['predicted']} | {product['correct']} | {product['precision']} | "
        f"{product['recall']} | {product['deadline_accuracy']} |",
        f"| baseline: every dated sentence | {baseline['predicted']} | {baseline['correct']} | {baseline['precision']} | "
        f"{baseline['recall']} | {baseline['deadline_accuracy']} |",
        "",
        f"Targets: precision ≥ 0.9, recall ≥ 0.85, deadline accuracy ≥ 0.9 ({product['labelled']} labelled items; "
        f"deadline accuracy over the {product['owner_action_matches']} items whose owner and action match).",
    ]
    lines += _details(product)
    if "blind" in results:
        lines += ["", "### New layouts (evals/data/roadmap_blind, labels roadmap_blind_items.jsonl)", ""]
        lines += _blind_table(results["blind"])
    if "heldout" in results:
        lines += ["", "### Held out (evals/data/roadmap_heldout, labels roadmap_heldout_items.jsonl)", ""]
        lines += _blind_table(results["heldout"])
    return "\n".join(lines)


def _blind_table(results: dict) -> list[str]:
    product, baseline = results["product"], results["baseline_every_dated_sentence"]
    merges = product.get("merges", {"found": "–", "expected": "–", "wrong": [], "missed": []})
    lines = [
        "| extractor | items | correct | precision | recall | deadline accuracy | merges found / expected | wrong merges |",
        "|---|---|---|---|---|---|---|---|",
        f"| rules (ingest/roadmap/) | {product['predicted']} | {product['correct']} | {product['precision']} | "
        f"{product['recall']} | {product['deadline_accuracy']} | {merges['found']} / {merges['expected']} | "
        f"{len(merges['wrong'])} |",
        f"| baseline: every dated sentence | {baseline['predicted']} | {baseline['correct']} | {baseline['precision']} | "
        f"{baseline['recall']} | {baseline['deadline_accuracy']} | | |",
        "",
        f"{product['labelled']} labelled items; owners compared as sets of folded names (no list of known bodies).",
    ]
    if merges["missed"]:
        lines += ["", "Merges missed: " + ", ".join(merges["missed"])]
    if merges["wrong"]:
        lines += ["", "Wrong merges: " + ", ".join(merges["wrong"])]
    return lines + _details(product)


def _details(product: dict) -> list[str]:
    lines: list[str] = []
    if product["missed"]:
        lines += ["", "Missed labels:"] + [
            f"- {m['path']}: {m['owner']} — {m['action']} ({m['deadline']})" for m in product["missed"]]
    if product["extra"]:
        lines += ["", "Extracted items matching no label:"] + [
            f"- {e['path']}: {e['owner']} — {e['quote']} ({e['deadline']})" for e in product["extra"]]
    return lines
