"""Presentation helpers for the web app: turn `bot` data into escaped Markdown/HTML."""
