"""Every interface text exists in both languages; the relabeler switches them all."""

from __future__ import annotations

import re

from ui.i18n import TEXT, Relabeler, t


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    assert TEXT["fr"].keys() == TEXT["en"].keys()
    for key in TEXT["fr"]:
        assert set(re.findall(r"{(\w+)}", TEXT["fr"][key])) == set(re.findall(r"{(\w+)}", TEXT["en"][key])), key


def test_t_formats_and_defaults_to_french() -> None:
    assert t("signed_in", "en", user="awa", role="staff") == "Signed in: awa (staff)."
    assert t("send", "wo") == "Envoyer"


def test_relabeler_gives_one_update_per_component_in_order() -> None:
    tr = Relabeler()
    button, box = object(), object()
    assert tr(button, value="send") is button
    tr(box, label="question_label", placeholder="question_placeholder")
    tr(button, title=lambda lang: lang.upper())
    assert tr.components == [button, box]
    assert tr.relabel("en") == [{"value": "Send", "title": "EN"},
                                {"label": "Your question", "placeholder": "E.g. How long does the SENUM memorandum last?"}]
