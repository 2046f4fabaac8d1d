"""Answer units follow the document: lists with their introduction, table rows with their header."""

from __future__ import annotations

from bot.answering.units import MAX_SECTION_CHARS, answer_units, heading_in, is_item, section_units
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


MINUTES = (
    "Compte rendu de la réunion\n\n"
    "Informations générales\n\n"
    "La réunion s'est tenue à Dakar. Elle a réuni 34 participants.\n\n"
    "Décisions\n\n"
    "- Les termes de référence sont adoptés.\n"
    "- La prochaine réunion aura lieu le 12 mars 2026.\n"
    "- Les comptes rendus sont traduits en anglais.\n\n"
    "Suivi\n\n"
    "| Action | Responsable |\n\n"
    "| Liste des membres | MDDT |\n\n"
    "2. PROCHAINE RÉUNION\n--------------------\n\n"
    "La réunion suivante se tiendra à Bakou. Sa date sera confirmée.\n"
)
HEADINGS = ("Compte rendu de la réunion", "Informations générales", "Décisions", "Suivi")


def _minutes_sections(start: int | None = 0):
    # As ingestion leaves them: headings and bits under 12 characters ("2.") are not answer
    # sentences; a plain-text heading the loader did not recognise is.
    spans = [s for s in sentence_spans(MINUTES) if MINUTES[s[0]:s[1]] not in HEADINGS and s[1] - s[0] >= 12]
    return section_units(MINUTES, spans, start)


def test_a_section_is_its_heading_with_the_sentences_under_it_quoted_exactly() -> None:
    sections = {u.reading.split(" :")[0]: u for u in _minutes_sections()}
    decisions = sections["Décisions"]
    assert decisions.kind == "section" and len(decisions.members) == 3
    assert MINUTES[decisions.start : decisions.end] == (
        "- Les termes de référence sont adoptés.\n- La prochaine réunion aura lieu le 12 mars 2026.\n"
        "- Les comptes rendus sont traduits en anglais.")
    assert decisions.reading == "Décisions :\n" + MINUTES[decisions.start : decisions.end]
    # The passage's opening heading counts; the paragraph under it is a section too.
    assert sections["Compte rendu de la réunion Informations générales"].reading.endswith("34 participants.")


def test_an_underlined_plain_text_heading_opens_a_section_and_a_table_is_no_section() -> None:
    sections = {u.reading.split(" :")[0]: u for u in _minutes_sections()}
    assert MINUTES[sections["PROCHAINE RÉUNION"].start : sections["PROCHAINE RÉUNION"].end] == (
        "La réunion suivante se tiendra à Bakou. Sa date sera confirmée.")
    assert "Suivi" not in sections
    spans = [s for s in sentence_spans(MINUTES) if MINUTES[s[0]:s[1]] not in HEADINGS and s[1] - s[0] >= 12]
    assert not [u for u in answer_units(MINUTES, spans) if "PROCHAINE RÉUNION" in u.reading]


def test_without_the_passage_start_only_headings_between_sentences_count() -> None:
    assert "Compte rendu de la réunion Informations générales" not in {
        u.reading.split(" :")[0] for u in _minutes_sections(start=None)}


def test_a_long_section_stops_before_the_sentence_past_the_limit() -> None:
    items = "".join(f"- Point {i} : une décision assez longue pour compter dans la limite.\n" for i in range(40))
    text = "Décisions\n\n" + items
    spans = [s for s in sentence_spans(text) if text[s[0]:s[1]] != "Décisions"]
    sections = section_units(text, spans, 0)
    assert len(sections) == 1
    assert sections[0].end - sections[0].start <= MAX_SECTION_CHARS < spans[-1][1] - spans[0][0]


def test_what_is_not_a_heading() -> None:
    assert heading_in("\n\nDécisions\n\n") == "Décisions"
    assert heading_in(" ") is None  # two sentences of one paragraph
    assert heading_in("\n- cyber\n") is None  # a short item left out of the sentences
    assert heading_in("\nLa phrase précédente, coupée.\n", at_start=True) is None
    assert heading_in("\n2.\n") is None
    assert heading_in("\n\nDécisions\n\nD1. ") == "Décisions"  # the label the sentence split left out


def test_a_section_quote_starts_at_the_label_of_its_first_sentence() -> None:
    text = "Décisions\n\nD1. Les actes sont numérisés.\n\nD2. Un référent est désigné.\n"
    spans = [(text.index("Les"), text.index("numérisés.") + 10), (text.index("Un"), text.index("désigné.") + 8)]
    [section] = section_units(text, spans, 0)
    assert text[section.start : section.end] == "D1. Les actes sont numérisés.\n\nD2. Un référent est désigné."
