"""Check the held-out sets of issue 23 without running the bot.

Every line of newkinds_questions.jsonl and offtopic_questions.jsonl parses and has the keys of
blind_questions.jsonl; every `expected` and `items` string appears in a document its question
cites (case, accents and spacing aside; the PDF is read with pypdf, the HTML without its tags);
each new document has metadata and 400-1200 words.

    .venv/bin/python -m evals.newkinds_check
"""

from __future__ import annotations

import html
import json
import re
import sys
import unicodedata
from pathlib import Path

import yaml
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "evals" / "data"
KEYS = ["id", "category", "question", "history", "role", "filters", "answerable", "gold", "expected"]
META_KEYS = {"title", "doc_type", "date", "organisations", "language", "access", "illustrative"}


def normalise(text: str) -> str:
    """Lower case, no accents, one space between words, typographic apostrophes as plain ones."""
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip().lower()


def document_text(path: Path) -> str:
    """The words of a document as a reader sees them (PDF extracted, HTML without tags)."""
    if path.suffix == ".pdf":
        return "\n".join(page.extract_text() for page in PdfReader(path).pages)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return text


def metadata(path: Path) -> dict:
    """Front matter of a .md/.txt file, or the sidecar NAME.ext.meta.yaml."""
    sidecar = path.with_name(path.name + ".meta.yaml")
    if sidecar.exists():
        return yaml.safe_load(sidecar.read_text(encoding="utf-8"))
    text = path.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    return yaml.safe_load(match.group(1)) if match else {}


def check() -> list[str]:
    """All problems found, as readable lines (empty when the sets are sound)."""
    problems: list[str] = []
    for doc in sorted((DATA / "newkinds").iterdir()):
        if doc.name.endswith(".meta.yaml") or doc.suffix == ".py":
            continue
        meta = metadata(doc)
        if not META_KEYS <= set(meta) or meta.get("illustrative") is not True:
            problems.append(f"{doc.name}: metadata lacks {sorted(META_KEYS - set(meta))} or illustrative: true")
        words = len(re.sub(r"^---\n.*?\n---\n", "", document_text(doc), flags=re.S).split())
        if not 400 <= words <= 1200:
            problems.append(f"{doc.name}: {words} words")
    for name in ("newkinds_questions.jsonl", "offtopic_questions.jsonl"):
        for number, line in enumerate((DATA / name).read_text(encoding="utf-8").splitlines(), start=1):
            row = json.loads(line)
            if list(row)[: len(KEYS)] != KEYS:
                problems.append(f"{name}:{number}: keys {list(row)}")
            if row["answerable"] != bool(row["expected"]) or row["answerable"] != bool(row["gold"]):
                problems.append(f"{name}:{number}: answerable/expected/gold disagree")
            texts = [normalise(document_text(ROOT / gold)) for gold in row["gold"]]
            for fact in row["expected"] + row.get("items", []):
                if not any(normalise(fact) in text for text in texts):
                    problems.append(f"{name}:{number}: {fact!r} not in {row['gold']}")
    return problems


if __name__ == "__main__":
    found = check()
    print("\n".join(found) or "all sets sound")
    sys.exit(1 if found else 0)
