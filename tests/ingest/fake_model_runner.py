"""`python -m ingest` with deterministic fake embeddings (a test helper, not product code).

    PASSERELLE_EMBEDDING_MODEL=fake-embedding python -m tests.ingest.fake_model_runner [ingest arguments...]

Loading, splitting, the catalog and Chroma are the real ones; only the vectors come from
LangChain's DeterministicFakeEmbedding, so tests can push thousands of passages through
the real command in seconds (the real model is exercised by the other end-to-end tests).
"""

from __future__ import annotations

from kb.settings import offline_environment
offline_environment()  # before transformers, chromadb or gradio is imported: they read it then

import sys


def main() -> int:
    import kb.embeddings
    from langchain_core.embeddings import DeterministicFakeEmbedding

    fake = DeterministicFakeEmbedding(size=32)
    kb.embeddings.load_embeddings = lambda model, precision="auto": fake
    from ingest.__main__ import main as ingest_main

    return ingest_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
