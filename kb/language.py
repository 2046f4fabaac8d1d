"""Language identification limited to the product's two languages, French and English.

py3langid's full model knows 97 languages; on a short question it often picks a third one
("Deadline?" came out as something neither French nor English). Restricted to French and
English it answers with one of the two and a probability that says how sure it is.
"""

from __future__ import annotations

from functools import cache

LANGUAGES = ("fr", "en")


@cache
def _identifier():
    # Loaded on first use (the model is a few MB to unpack), then shared: classify only reads it.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def identify(text: str) -> tuple[str, float]:
    """('fr' or 'en', probability between 0.5 and 1) for `text`."""
    language, probability = _identifier().classify(text)
    return language, probability
