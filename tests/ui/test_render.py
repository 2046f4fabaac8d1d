"""What the chat shows: citations kept, everything from documents or users made inert."""

from __future__ import annotations

from bot.answering import Answer, Source
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


def test_chat_message_links_citations_to_cards() -> None:
    from ui.render import chat_message

    result = Answer("Le comité <b>se réunit</b>. [1] Voir [2]", False, "fr",
                    [source(1, True, "Le comité se réunit."), source(2, False, "autre")])
    text = chat_message(result, turn=3)
    assert '<a class="cite" href="#src-3-1" data-card="src-3-1">[1]</a>' in text
    assert "#src-3-2" not in text, "only cited sources are linked"
    assert "&lt;b&gt;" in text and "<b>" not in text


def test_source_cards_highlight_the_quote_in_context_and_escape() -> None:
    from bot.library import PassageContext
    from ui.render import source_cards

    result = Answer("x [1]", False, "en", [source(1, True, "Le <i>comité</i>"), source(2, False, "autre")])
    html_text = source_cards(result, {1: PassageContext("avant <script>", "Le <i>comité</i>", " après")}, 4, "en")
    assert 'id="src-4-1"' in html_text and 'id="src-4-2"' in html_text
    assert "avant &lt;script&gt;<mark>Le &lt;i&gt;comité&lt;/i&gt;</mark> après" in html_text
    assert "<script>" not in html_text and "<b>" not in html_text
    assert html_text.index("Sources") < html_text.index("See also")
    assert "<mark>autre</mark>" in html_text, "without context the quote alone is shown"
    assert "will show here" in source_cards(Answer("", True, "en", []), {}, 0, "en")
