"""Answer units follow the document: lists with their introduction, table rows with their header."""

from __future__ import annotations

from bot.answering.units import answer_units, is_item
from kb.text import sentence_spans

TEXT = (
    "La stratégie s'organise en trois axes :\n\n"
    "1. Axe 1 – Souveraineté : centres de données.\n"
    "2. Axe 2 – Services publics : guichet unique.\n"
    "3. Axe 3 – Capital humain : formation des agents.\n\n"
    "Un paragraphe ordinaire suit. Il a deux phrases.\n\n"
    "| Étape | Responsable | Échéance |\n\n"
    "| Inventaire des démarches | SENUM | 28 février 2026 |\n\n"
    "| Demo Day à Dakar | CEAC | octobre 2026 |\n\n"
    "Décisions\n\n"
    "- Les termes de référence sont adoptés.\n"
    "- La prochaine réunion aura lieu le 12 mars 2026.\n"
)


def _units(kind: str):
    spans = [s for s in sentence_spans(TEXT) if TEXT[s[0]:s[1]] not in ("1.", "2.", "3.", "Décisions")]
    return [u for u in answer_units(TEXT, spans) if u.kind == kind]


def test_an_introduction_comes_with_its_list_items_and_exact_offsets() -> None:
    intro = [u for u in _units("list") if u.reading.startswith("La stratégie")]
    assert len(intro) == 1
    unit = intro[0]
    assert TEXT[unit.start : unit.end] == unit.reading
    assert unit.reading.endswith("formation des agents.")
    assert len(unit.members) == 4


def test_a_run_of_items_under_a_heading_is_one_unit() -> None:
    runs = [u for u in _units("list") if u.reading.startswith("- Les termes")]
    assert len(runs) == 1
    assert TEXT[runs[0].start : runs[0].end].endswith("12 mars 2026.")


def test_a_table_row_is_read_with_its_header_and_quotes_the_row() -> None:
    rows = _units("row")
    assert [TEXT[u.start : u.end] for u in rows] == [
        "| Inventaire des démarches | SENUM | 28 février 2026 |", "| Demo Day à Dakar | CEAC | octobre 2026 |"]
    assert rows[1].reading == "Étape : Demo Day à Dakar ; Responsable : CEAC ; Échéance : octobre 2026"


def test_every_sentence_stays_a_unit_and_plain_paragraphs_make_no_list() -> None:
    spans = sentence_spans(TEXT)
    sentences = [u for u in answer_units(TEXT, spans) if u.kind == "sentence"]
    assert [(u.start, u.end) for u in sentences] == spans
    assert not [u for u in _units("list") if "paragraphe ordinaire" in u.reading]


def test_list_items() -> None:
    assert is_item("- un item") and is_item("1. premier") and is_item("Axe 2 – Services")
    assert not is_item("Le protocole est signé.")
