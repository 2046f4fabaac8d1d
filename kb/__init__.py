"""Shared core of Passerelle: settings, embeddings, the store handle and the chunk schema.

`ingest` writes the knowledge base, `bot` reads it; both use only what is here.
Importing this package is cheap and has no side effect: it loads no model, touches no file and
leaves the environment alone (entry points call `kb.settings.offline_environment()` first).
"""
