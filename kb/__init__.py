"""Shared core of Passerelle: settings, embeddings, the store handle and the chunk schema.

`ingest` writes the knowledge base, `bot` reads it; both use only what is here.
Importing this package is cheap: it loads no model and touches no file.
"""

import os as _os

# Passerelle is sovereign and offline: no hub look-ups, no telemetry. These must be
# set before transformers, huggingface_hub, chromadb or gradio are imported, and every
# entry point imports `kb` first. setdefault keeps an operator's explicit choice.
for _name, _value in (
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
    ("HF_HUB_DISABLE_TELEMETRY", "1"),
    ("GRADIO_ANALYTICS_ENABLED", "False"),
    ("ANONYMIZED_TELEMETRY", "False"),
    ("TOKENIZERS_PARALLELISM", "false"),
):
    _os.environ.setdefault(_name, _value)
