"""`python -m bot`: ask the knowledge base from the command line."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from pathlib import Path

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then
from kb.schema import DOC_TYPES, ROLES
from kb.logs import configure_logging
from kb.settings import Settings, SettingsError

DESCRIPTION = """\
Ask Passerelle a question. The answer is made of sentences quoted from the documents,
each followed by its citation [n]; when the documents do not support an answer, it says
so and lists the closest passages. French and English questions both work, whatever
the language of the documents.
"""

EPILOG = """\
exit codes: 0 answered (or abstained); 1 bad input or unusable store.
examples:
  python -m bot ask "Quelle est la durée du protocole avec la SENUM ?"
  python -m bot ask "Who chairs the cybersecurity commission?" --role official --json
  python -m bot ask "Décisions prises ?" --doc-type meeting_notes --since 2026-01-01
  python -m bot ask "Résume la réunion du 17 février" --llm-url http://127.0.0.1:8080/v1 --json
"""


# Each other subcommand lives in its own module, which exposes `register(subparsers)`; the
# parser it adds sets `handler(args, settings) -> int` and a `--store` option.
SUBCOMMAND_MODULES: list[str] = ["bot.feedback_cli", "bot.users_cli", "bot.roadmap_cli"]


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    ask = commands.add_parser("ask", help="answer one question with citations", description=DESCRIPTION,
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ask.add_argument("question", metavar="QUESTION", help="the question, in French or English (at most 2,000 characters)")
    ask.add_argument("--store", metavar="DIR", type=Path, help="knowledge-base folder (default: data/, or PASSERELLE_STORE)")
    ask.add_argument("--role", choices=ROLES, default="reader",
                     help="who is asking: reader sees public documents, staff adds internal ones, "
                          "official and admin see restricted ones too (default: reader)")
    ask.add_argument("--doc-type", choices=DOC_TYPES, help="only documents of this type")
    ask.add_argument("--since", metavar="YYYY-MM-DD", help="only documents dated on or after this day")
    ask.add_argument("--until", metavar="YYYY-MM-DD", help="only documents dated on or before this day")
    ask.add_argument("--organisation", metavar="NAME", help="only documents involving this organisation (e.g. SENUM)")
    ask.add_argument("--language", metavar="CODE", help="only documents in this language (fr, en)")
    ask.add_argument("--k", type=int, default=5, metavar="N", help="number of sources listed (default: 5)")
    ask.add_argument("--json", action="store_true", help="print exactly one JSON object")
    ask.add_argument("--llm-url", metavar="URL",
                     help="OpenAI-compatible endpoint (…/v1) of an LLM server: the answer is written by it, "
                          "every sentence checked against its citation (default: PASSERELLE_LLM_URL; unset: quotes)")
    ask.add_argument("--llm-model", metavar="NAME", help="model name for the LLM server (default: PASSERELLE_LLM_MODEL)")
    ask.set_defaults(handler=run_ask)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(logging.WARNING)
    try:
        settings = Settings.from_env(store=args.store, llm_url=getattr(args, "llm_url", None),
                                     llm_model=getattr(args, "llm_model", None))
    except SettingsError as exc:
        return _fail(str(exc))
    return args.handler(args, settings)


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    """`ask`: answer one question."""
    if args.k < 1 or args.k > 50:
        return _fail("--k must be between 1 and 50")
    from bot.answering import QuestionError, answer
    from bot.answering.reader import ReaderError
    from kb.embeddings import EmbeddingModelError
    from kb.store import StoreError

    filters = {"doc_type": args.doc_type, "since": args.since, "until": args.until,
               "organisation": args.organisation, "language": args.language}
    try:
        result = answer(args.question, filters=filters, role=args.role, k=args.k, settings=settings)
    except (QuestionError, StoreError, EmbeddingModelError, ReaderError) as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        print(format_answer(result))
    return 0


def format_answer(result) -> str:
    """A readable rendering of an Answer for the terminal."""
    lines = [f"[{result.status()}]", result.answer, ""]
    for heading, group in result.source_groups():
        lines.append(f"{heading}:")
        for s in group:
            lines.append(f"  [{s.n}] {s.title} ({s.doc_type}; {s.location()}) — {s.path}")
            lines.append(f"      « {' '.join(s.quote.split())} »")
    mode = "written by the LLM, each sentence checked; " if result.mode == "generated" else ""
    lines.append(f"({mode}{result.timings_ms.get('total', 0):.0f} ms)")
    return "\n".join(lines)


def _fail(text: str) -> int:
    print(f"error: {text}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
