"""The answer path: one question in, one cited `Answer` out. Its files are its stages; read
them in this order.

1. `query.py` reads the question once into a `Query` (language, names, list or summary asked,
   commitments asked); `conversation.py` gives a follow-up the subject it lacks.
2. `route.py` sends it to the roadmap commitments (`bot.roadmap`) or to the documents.
3. `retrieve.py` ranks passages (dense and keyword search fused), keeps the ones the reader
   reads and the diversified list shown as sources.
4. `scoring.py` scores the sentences of those passages against the question; `evidence.py`
   gathers passages, sentences and support signals into an `Evidence`.
5. `units.py` groups sentences into answer units (a sentence, a list with its introduction, a
   table row with its header); `selection.py` reads the best of them with the trained reader
   (`reader.py`, weights in `bot/reader_model/`; `reader_layers.py` reads its network layer by
   layer and stops at 8 layers for the units its probe guesses far below the best) and chooses
   the ones quoted.
6. `abstain.py`: the calibrator decides the outcome (answered, to check, not in the documents)
   and how sure the answer is.
7. `compose.py` writes the quoted, cited `Answer` (`reply.py`), the passages to check or the
   decline.
8. `generate.py` (with an LLM server configured) writes the answer from the reader's best units
   and verifies every sentence.

`pipeline.py` runs the stages in that order (`answer`) and is what callers import, through
this package: `from bot.answering import answer, AnswerConfig, gather_evidence, …`.
"""

from bot.answering.pipeline import (
    FILTER_KEYS, Answer, AnswerConfig, Candidate, Evidence, QuestionError, ScoredSentence, Source, abstention_score,
    answer, best_units, candidates, choose_sentences, choose_units, compose_units, decided, declined, gather_evidence,
    knowledge_base, prompt_excerpts, read, search_filter, structured_units, warm_up,
)

__all__ = [
    "FILTER_KEYS", "Answer", "AnswerConfig", "Candidate", "Evidence", "QuestionError", "ScoredSentence", "Source",
    "abstention_score", "answer", "best_units", "candidates", "choose_sentences", "choose_units", "compose_units", "decided",
    "declined", "gather_evidence", "knowledge_base", "prompt_excerpts", "read", "search_filter", "structured_units",
    "warm_up",
]
