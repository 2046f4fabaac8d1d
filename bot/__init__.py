"""Passerelle's reading side: retrieval and cited answers.

`from bot import answer` gives the Python API; `python -m bot` the command line.
"""

import kb  # noqa: F401  (offline environment before any heavy import)
from bot.answer import Answer, QuestionError, Source, answer

__all__ = ["Answer", "QuestionError", "Source", "answer"]
