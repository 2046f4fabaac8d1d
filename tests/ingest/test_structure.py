"""Structure for reading (ingest/structure.py): FAQ answers carry their question, numbered clauses
become the section path, whatever the format; letters and messages are left as they are."""

from __future__ import annotations

from pathlib import Path

from ingest.load import load_document
from ingest.split import answer_sentences, split_document

FAQ = """---
title: Questions fréquentes sur l'immersion à Bakou
---
Questions fréquentes

Qui peut candidater ?

Les agents titulaires des administrations partenaires, avec l'accord de leur direction.

Combien de temps dure l'immersion ?

Trois semaines, dont une consacrée au centre ASAN de Bakou.

Q3 : Les frais de voyage sont-ils pris en charge ?

Oui, le programme prend en charge le billet d'avion et l'hébergement.

Contact

Écrire à la cellule de coordination.
"""

LETTER = """Objet : atelier de mars

Pouvez-vous confirmer la date ?

Nous proposons le 12 mars 2026 à Dakar.
"""

CLAUSES = """Convention de mise en oeuvre

Article 11 — Gouvernance

11.1 Un comité technique paritaire suit l'exécution de la convention.

11.2 Le comité se réunit tous les deux mois, alternativement à Dakar et à Bakou.

Il rend compte au comité de pilotage après chaque réunion.

Article 12 : La présente convention entre en vigueur à la date de sa signature.

Art. 13. Tout différend est réglé à l'amiable entre les parties.
"""


def _load(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_document(path, max_bytes=2**20)


def _section_of(doc, fragment: str) -> tuple[str, ...]:
    return next(b.section for b in doc.blocks if fragment in doc.text[b.start : b.end] and b.kind == "paragraph")


def test_faq_answers_carry_their_question(tmp_path: Path) -> None:
    doc = _load(tmp_path, "faq.txt", FAQ)
    assert _section_of(doc, "Trois semaines") == ("Questions fréquentes", "Combien de temps dure l'immersion ?")
    assert _section_of(doc, "billet d'avion")[-1] == "Q3 : Les frais de voyage sont-ils pris en charge ?"
    # A heading that is no question ends the last answer.
    assert _section_of(doc, "Écrire à la cellule") == ("Contact",)
    questions = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "heading" and "?" in doc.text[b.start : b.end]]
    assert len(questions) == 3
    sentences = {doc.text[s:e]: section for s, e, section in answer_sentences(doc)}
    assert sentences["Trois semaines, dont une consacrée au centre ASAN de Bakou."].endswith("dure l'immersion ?")
    assert not any(text.endswith("?") for text in sentences), "a question is no answer"
    chunk = next(c for c in split_document(doc, chunk_size=200, chunk_overlap=0) if "Trois semaines" in c.text)
    assert "Combien de temps dure l'immersion ?" in chunk.section


def test_one_question_in_a_letter_stays_a_sentence(tmp_path: Path) -> None:
    doc = _load(tmp_path, "lettre.txt", LETTER)
    assert all(b.kind == "paragraph" for b in doc.blocks if "?" in doc.text[b.start : b.end])
    assert "Pouvez-vous confirmer la date ?" in [doc.text[s:e] for s, e, _ in answer_sentences(doc)]


def test_questions_in_an_e_mail_stay_what_the_message_says(tmp_path: Path) -> None:
    body = "\n\n".join(f"Question {n} : pouvons-nous avancer le point {n} ?\n\nNous le pensons." for n in range(1, 5))
    doc = _load(tmp_path, "fil.txt", f"De : Awa Diop\nEnvoyé : lundi 2 mars 2026 11:00\nObjet : Points\n\n{body}\n")
    assert not any(b.kind == "heading" and "?" in doc.text[b.start : b.end] for b in doc.blocks)


def test_numbered_clauses_become_the_section_path(tmp_path: Path) -> None:
    doc = _load(tmp_path, "convention.txt", CLAUSES)
    assert _section_of(doc, "tous les deux mois")[-2:] == ("Article 11 — Gouvernance", "11.2")
    assert _section_of(doc, "Il rend compte")[-1] == "11.2", "a clause runs until the next one"
    assert _section_of(doc, "entre en vigueur")[-1] == "Article 12"
    assert _section_of(doc, "réglé à l'amiable")[-1] == "Art. 13"
    assert "11.1" in _section_of(doc, "comité technique paritaire")
    sentence = next(section for s, e, section in answer_sentences(doc) if "tous les deux mois" in doc.text[s:e])
    assert sentence.endswith("Article 11 — Gouvernance > 11.2"), sentence


def test_a_clause_heading_is_not_repeated_as_a_label(tmp_path: Path) -> None:
    doc = _load(tmp_path, "accord.txt", "Accord\n\nArticle 4\n\nArticle 4 : Les parties échangent leurs données.\n")
    assert _section_of(doc, "échangent") == ("Article 4",)


def test_an_odt_faq_and_clauses_get_the_same_reading(tmp_path: Path) -> None:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    document = OpenDocumentText()
    for line in ["Qui finance le programme ?", "Les deux gouvernements, à parts égales.",
                 "Où se tiennent les ateliers ?", "À Dakar et à Bakou, en alternance.",
                 "Quand commence la formation ?", "En septembre 2026.",
                 "3.2 Le secrétariat est assuré par la cellule de coordination."]:
        document.text.addElement(P(text=line))
    path = tmp_path / "faq.odt"
    document.save(str(path))
    doc = load_document(path, max_bytes=2**20)
    assert _section_of(doc, "parts égales")[-1] == "Qui finance le programme ?"
    assert _section_of(doc, "secrétariat")[-1] == "3.2"
