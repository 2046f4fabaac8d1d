"""What the chat shows: citations kept, everything from documents or users made inert."""

from __future__ import annotations

from bot.answer import Answer, Source
from ui.render import answer_markdown, escape


def source(n: int, cited: bool, quote: str) -> Source:
    return Source(n=n, cited=cited, title="Note <b>interne</b>", path="corpus/x.md", doc_type="report",
                  date="2026-01-05", page=2, section="Décisions", quote=quote, start=0, end=len(quote), score=0.9)


def test_markup_from_documents_is_inert() -> None:
    result = Answer("Le comité <script>alert(1)</script> se réunit. [1]", False, "fr",
                    [source(1, True, "Le **comité** <img src=x onerror=alert(1)> se réunit."),
                     source(2, False, "[lien](javascript:alert(1))")])
    text = answer_markdown(result)
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text and "\\*\\*comité\\*\\*" in text
    assert "\\[lien\\]\\(javascript:alert\\(1\\)\\)" in text
    assert "**\\[1\\]**" in text, "the citation number stays visible"
    assert text.index("**Sources**") < text.index("**Voir aussi**")
    assert "2026-01-05, p. 2, Décisions" in text


def test_escape_collapses_whitespace() -> None:
    assert escape("a\n\n b\t<c> #1") == "a b &lt;c&gt; \\#1"
