"""Passerelle's reading side: retrieval and cited answers.

`from bot import answer` gives the Python API (call `kb.settings.offline_environment()` first, as
the entry points do); `python -m bot` the command line.
"""

from bot.answering import Answer, QuestionError, Source, answer

__all__ = ["Answer", "QuestionError", "Source", "answer"]
