"""Spreadsheets, slides, OpenDocument text and e-mail: what is read from each, the commitments a
tracker sheet gives, and one real store answering from each kind (a scanned PDF read by OCR too)
with the right row, slide, message or page as its quote."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.answering.units import answer_units
from ingest.load import load_document
from ingest.roadmap import extract_commitments
from ingest.split import answer_sentences
from kb.schema import LoadedDocument
from kb.schema import QUOTED_HEADING
from tests.ingest import format_samples as samples


def _load(path: Path) -> LoadedDocument:
    return load_document(path, max_bytes=20 * 2**20)


def _blocks(doc: LoadedDocument) -> list[tuple[str, str, tuple[str, ...], int | None]]:
    return [(b.kind, doc.text[b.start : b.end], b.section, b.page) for b in doc.blocks]


def _row_readings(doc: LoadedDocument) -> list[str]:
    spans = [(s, e) for s, e, _ in answer_sentences(doc)]
    return [u.reading for u in answer_units(doc.text, spans) if u.kind == "row"]


# ----- spreadsheets ----------------------------------------------------------------------
def test_xlsx_sheets_are_sections_and_rows_are_read_with_their_header(tmp_path: Path) -> None:
    doc = _load(samples.write_xlsx(tmp_path))
    blocks = _blocks(doc)
    assert doc.meta.title == "Suivi des actions du programme"
    assert [text for kind, text, _, _ in blocks if kind == "heading"] == ["Suivi des actions", "Budget"]
    texts = [text for _, text, _, _ in blocks]
    # The title merged over A1:E1 is one line, not five cells; the two-row header is one row.
    assert texts[1] == "Tableau de suivi des actions — mars 2026"
    assert texts[2] == "| Action | Responsable | Calendrier Début | Calendrier Échéance | Statut |"
    assert texts[3] == "| Audit de sécurité des portails publics | SENUM | 2026-01-12 | 2026-09-30 | en cours |"
    assert not any(set(t) <= set("| ") for t in texts), "no empty row"
    assert "| Total | 25750000 |" in texts, "a formula is read as its cached value"
    assert all(section == ("Budget",) for _, text, section, _ in blocks if "Total" in text)
    readings = _row_readings(doc)
    assert ("Action : Publication du catalogue des données ouvertes ; Responsable : MCTN ; Calendrier Début : "
            "2026-03-01 ; Calendrier Échéance : 2026-11-15 ; Statut : en retard") in readings, readings
    assert "Poste : Total ; Montant (FCFA) : 25750000" in readings


def test_a_tracker_sheet_feeds_the_commitments_register_like_a_markdown_table(tmp_path: Path) -> None:
    from_sheet = extract_commitments(_load(samples.write_xlsx(tmp_path)))
    rows = "\n".join(f"| {a} | {o} | {s.isoformat()} | {d.isoformat()} | {st} |" for a, o, s, d, st in samples.TRACKER_ROWS)
    markdown = ("---\ntitle: Suivi\ndate: 2026-03-01\n---\n# Suivi des actions\n\n"
                f"| Action | Responsable | Début | Échéance | Statut |\n|---|---|---|---|---|\n{rows}\n")
    (tmp_path / "suivi.md").write_text(markdown, encoding="utf-8")
    from_markdown = extract_commitments(_load(tmp_path / "suivi.md"))

    def facts(mentions):
        return [(m.action, m.owner, m.deadline, m.status) for m in mentions]

    assert facts(from_sheet) == facts(from_markdown)
    assert facts(from_sheet) == [
        ("Audit de sécurité des portails publics", "SENUM", date(2026, 9, 30), "in progress"),
        ("Formation de 40 formateurs au cadre d'interopérabilité", "ADIE", date(2026, 6, 30), "planned"),
        ("Publication du catalogue des données ouvertes", "MCTN", date(2026, 11, 15), "late"),
    ]
    assert all(m.section == "Suivi des actions" for m in from_sheet)


def test_ods_merged_title_formula_value_and_repeated_empty_rows(tmp_path: Path) -> None:
    doc = _load(samples.write_ods(tmp_path))
    texts = [text for _, text, _, _ in _blocks(doc)]
    assert texts == [
        "Budget 2026", "Budget des ateliers 2026", "| Atelier | Coût (FCFA) |",
        "| Atelier de Bakou sur la signature électronique | 9400000 |",
        "| Atelier de Dakar sur les données ouvertes | 6100000 |", "| Total | 15500000 |",
    ], "the million empty rows LibreOffice repeats to the sheet's end are one empty row, left out"
    assert "Atelier : Total ; Coût (FCFA) : 15500000" in _row_readings(doc)


def test_csv_semicolons_and_empty_lines(tmp_path: Path) -> None:
    doc = _load(samples.write_csv(tmp_path))
    assert [text for _, text, _, _ in _blocks(doc)][1:] == [
        "| Institution | Point focal | Courriel |",
        "| SENUM | Mariama Ndiaye | m.ndiaye@senum.example |",
        "| IDDA | Elvin Huseynov | e.huseynov@idda.example |",
    ]
    assert "Institution : IDDA ; Point focal : Elvin Huseynov ; Courriel : e.huseynov@idda.example" in _row_readings(doc)


# ----- slides and OpenDocument text --------------------------------------------------------
def test_pptx_slides_are_sections_with_bullets_tables_and_notes(tmp_path: Path) -> None:
    doc = _load(samples.write_pptx(tmp_path))
    blocks = _blocks(doc)
    assert doc.meta.title == "Point d'étape du programme"
    assert [(t, p) for kind, t, _, p in blocks if kind == "heading"] == [
        ("Point d'étape du programme", 1), ("Cybersécurité", 2), ("Notes", 2), ("Identité numérique", 3)]
    bullets = next(t for _, t, _, _ in blocks if t.startswith("- Le centre"))
    assert bullets.split("\n") == ["- Le centre de réponse aux incidents fonctionne depuis février 2026",
                                   "  - Douze analystes formés à Bakou", "- Exercice de crise conjoint en préparation"]
    notes = next(b for b in blocks if "21 octobre" in b[1])
    assert notes[2] == ("Cybersécurité", "Notes") and notes[3] == 2, "speaker notes kept under their slide"
    assert "Étape : Pilote auprès de 500 agents ; Responsable : ADIE ; Échéance : 15 novembre 2026" in _row_readings(doc)


def test_odp_slides_are_sections_with_bullets_and_notes(tmp_path: Path) -> None:
    blocks = _blocks(_load(samples.write_odp(tmp_path)))
    assert blocks == [
        ("heading", "Calendrier des formations", ("Calendrier des formations",), 1),
        ("paragraph", "- Session 1 à Dakar en avril 2026\n- Session 2 à Bakou en juin 2026",
         ("Calendrier des formations",), 1),
        ("heading", "Bilan des inscriptions", ("Bilan des inscriptions",), 2),
        ("paragraph", "- Soixante-deux agents inscrits\n- Trois ministères représentés", ("Bilan des inscriptions",), 2),
        ("heading", "Notes", ("Bilan des inscriptions", "Notes"), 2),
        ("paragraph", "La session de septembre est annulée faute de salle.", ("Bilan des inscriptions", "Notes"), 2),
    ]


def test_odt_headings_lists_and_tables_like_word(tmp_path: Path) -> None:
    doc = _load(samples.write_odt(tmp_path))
    blocks = _blocks(doc)
    assert doc.meta.title == "Accord de mise en œuvre"
    assert blocks[2] == ("paragraph", "Le comité technique se réunit tous les deux mois, alternativement à Dakar et à Bakou.",
                         ("Accord de mise en œuvre", "Article 4 — Comité technique"), None)
    assert blocks[3][1] == "- il valide le plan de travail annuel ;\n- il suit l'exécution du budget."
    assert blocks[-1][2] == ("Accord de mise en œuvre", "Annexe — Budget")
    assert "Poste : Équipements ; Montant : 11 000 000 FCFA" in _row_readings(doc)


# ----- e-mail -------------------------------------------------------------------------
def test_eml_quoted_messages_are_sections_marked_quoted_that_the_register_never_reads(tmp_path: Path) -> None:
    doc = _load(samples.write_eml(tmp_path, attachment=b"Nom;Institution\nLeyla Guliyeva;IDDA\n"))
    newest = "2026-03-19 09:15 — Fatou Sall <fatou.sall@senum.example> — Re: Atelier interopérabilité"
    assert [t for kind, t, _, _ in _blocks(doc) if kind == "heading" and "—" in t] == [newest]
    assert doc.meta.title == "Atelier interopérabilité" and doc.meta.date == date(2026, 3, 19)
    # Oldest first, each once, as a section of its own marked quoted, under its sender and date.
    quoted = [doc.text[b.start : b.end] for b in doc.quoted_blocks if b.kind == "heading"]
    assert quoted == [
        f"{QUOTED_HEADING} — Mon, 16 Mar 2026 at 10:00 — Fatou Sall <fatou.sall@senum.example> — Atelier interopérabilité",
        f"{QUOTED_HEADING} — mar. 17 mars 2026 à 16:02 — Rashad Aliyev <r.aliyev@idda.example> — Atelier interopérabilité"]
    assert doc.text.count("Nous proposons de tenir l'atelier sur l'interopérabilité le 30 septembre 2026 à Dakar.") == 1
    assert doc.text.index("30 septembre") < doc.text.index("Could the workshop") < doc.text.index("14 octobre")
    assert not any(line.startswith(">") for line in doc.text.split("\n")), "quote marks are taken off"
    sentences = {doc.text[s:e]: section for s, e, section in answer_sentences(doc)}
    assert sentences["Three experts of the IDDA's interoperability unit will come to Dakar."].startswith(
        f"{QUOTED_HEADING} — mar. 17 mars 2026"), "what only a quoted message says can be asked about"
    assert not sentences["C'est entendu : l'atelier sur l'interopérabilité se tiendra le 14 octobre 2026 à Dakar, "
                         "dans les locaux de la SENUM."].startswith(QUOTED_HEADING)
    # The register reads the document's own blocks: a quoted date is no new statement.
    assert not any(b.start <= doc.text.index("30 septembre") < b.end for b in doc.blocks)
    assert all("30 septembre" not in m.quote for m in extract_commitments(doc))
    indexed = " ".join(sentences)
    # The attached file is a document of its own, linked to the message, which names it.
    assert "Leyla" not in doc.text and "Pièces jointes / Attachments : participants.csv" in indexed
    [attached] = doc.attachments
    assert attached.doc_id == f"{doc.doc_id}#participants.csv" and attached.path == doc.path
    assert attached.meta.title == "participants.csv — Atelier interopérabilité"
    assert attached.meta.date == date(2026, 3, 19) and attached.meta.access == doc.meta.access
    assert "| Leyla Guliyeva | IDDA |" in attached.text


def test_a_forwarded_message_is_indexed_as_a_message_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "transfert.txt"
    path.write_text(
        "De : Awa Diop\nEnvoyé : mardi 3 mars 2026 08:30\nObjet : TR: Calendrier des missions\n\nPour information.\n\n"
        "---------- Forwarded message ---------\nFrom: Ilham Mammadova\nDate: Mon, 2 Mar 2026 18:00\n"
        "Subject: Calendrier des missions\n\nThe expert mission to Dakar will start on 20 April 2026.\n", encoding="utf-8")
    doc = _load(path)
    assert [t for kind, t, _, _ in _blocks(doc) if kind == "heading"] == [
        "Mon, 2 Mar 2026 18:00 — Ilham Mammadova — Calendrier des missions",
        "mardi 3 mars 2026 08:30 — Awa Diop — TR: Calendrier des missions",
    ]
    assert any("20 April 2026" in doc.text[s:e] for s, e, _ in answer_sentences(doc))


def test_a_plain_text_thread_is_read_as_messages(tmp_path: Path) -> None:
    doc = _load(samples.write_thread_txt(tmp_path))
    assert [t for kind, t, _, _ in _blocks(doc) if kind == "heading"] == [
        "lundi 2 mars 2026 11:00 — Awa Diop — RE: Comité de pilotage"]
    assert doc.text.startswith(f"{QUOTED_HEADING} — vendredi 27 février 2026 17:30 — Ilham Mammadova — "
                               "Comité de pilotage\n\nWe suggest holding the steering committee on 5 March 2026.")
    assert doc.meta.title == "Comité de pilotage" and doc.meta.date == date(2026, 3, 2)
    assert [section.split(" — ")[0] for s, e, section in answer_sentences(doc) if "5 March" in doc.text[s:e]] == [
        QUOTED_HEADING]
    assert not any("5 March" in doc.text[b.start : b.end] for b in doc.blocks), "the register never reads it"


class _Store:
    """What `_without_stored_quotes` asks of a store: a keyword search and the passages it finds."""

    def __init__(self, passages: dict[str, tuple[str, str]]) -> None:
        self.passages = passages  # chunk id -> (document id, text)

    def keyword_search(self, query: str, k: int, where) -> list[tuple[str, float]]:
        words = set(query.lower().split())
        return [(cid, 1.0) for cid, (_, text) in self.passages.items() if words & set(text.lower().split())][:k]

    def chunks_by_id(self, ids) -> dict[str, dict]:
        return {cid: {"doc_id": self.passages[cid][0], "text": self.passages[cid][1]} for cid in ids}


def test_a_quoted_message_the_store_already_holds_is_not_indexed_again(tmp_path: Path) -> None:
    from ingest.index import _without_stored_quotes

    doc = _load(samples.write_eml(tmp_path))
    original = "Mon, 16 Mar 2026 — Fatou Sall\n\nBonjour,\n\nNous proposons de tenir l'atelier sur\nl'interopérabilité le 30 septembre 2026 à Dakar."
    stored = _without_stored_quotes(_Store({"a": ("docs/proposition.eml", original)}), doc)
    texts = " ".join(doc.text[b.start : b.end] for b in stored.quoted_blocks)
    assert "30 septembre" not in texts, "its original is in the store"
    assert "Three experts of the IDDA" in texts and "Rashad Aliyev" in texts, "the other quoted message stays"
    assert stored.blocks == doc.blocks
    # Its own passages (a store being re-ingested) or no match keep every quoted message.
    assert _without_stored_quotes(_Store({"a": (doc.doc_id, original)}), doc).quoted_blocks == doc.quoted_blocks
    assert _without_stored_quotes(_Store({"a": ("docs/autre.md", "Bonjour, atelier en 2027.")}), doc) is doc


def test_plain_text_that_is_no_thread_is_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Note de suivi\n\nDe : la cellule de coordination.\n\nLe comité se réunit le 3 avril 2026.\n",
                    encoding="utf-8")
    blocks = _blocks(_load(path))
    assert [t for _, t, _, _ in blocks] == ["Note de suivi", "De : la cellule de coordination.",
                                            "Le comité se réunit le 3 avril 2026."]


@pytest.mark.parametrize("line", ["On Mon, 16 Mar 2026 at 10:00, Fatou Sall <f@senum.example>",
                                  "Le 17 mars 2026 à 16:02, Rashad Aliyev <r@idda.example> a"])
def test_attribution_lines_wrapped_over_two_lines(line: str) -> None:
    from ingest.mail import split_quoted

    tail = "wrote:" if line.startswith("On") else "écrit :"
    own, earlier = split_quoted(f"D'accord pour le 14 octobre.\n\n{line}\n{tail}\n> Proposition : 30 septembre.")
    assert own == "D'accord pour le 14 octobre."
    assert earlier is not None and earlier.text == "Proposition : 30 septembre." and "2026" in earlier.date


# ----- hostile files -------------------------------------------------------------------
def test_hostile_files_of_the_new_kinds_each_get_their_message(tmp_path: Path) -> None:
    import time
    import tracemalloc

    from ingest.load import LoadError
    from tests.ingest.hostile_formats import write_hostile_formats

    cases = write_hostile_formats(tmp_path / "docs", tmp_path / "scratch")
    assert len(cases) >= 18
    # What loading allocates, not the test process's peak (which holds the models of other tests).
    tracemalloc.start()
    for what, name, error in cases:
        started = time.monotonic()
        if error is None:
            assert _load(tmp_path / "docs" / name).text.strip(), what
        else:
            with pytest.raises(LoadError) as caught:
                _load(tmp_path / "docs" / name)
            assert error in str(caught.value), f"{what}: got {caught.value}"
        assert time.monotonic() - started < 120, f"{what} took {time.monotonic() - started:.0f} s"
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # A million rows are refused after 50,000 of them, never held in memory at once.
    assert peak < 1_000_000_000, f"peak allocation {peak / 1e6:.0f} MB"


@pytest.mark.parametrize("what, sheet", [
    ("a declared dimension past the cap", b'<dimension ref="A1:C60000"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'),
    ("one row numbered past the cap", b'<sheetData><row r="2"/><x:row r="900000" spans="1:1"/>'),
    ("rows without numbers past the cap", b"<sheetData>" + b"<row><c><v>1</v></c></row>" * 50_001),
], ids=["dimension", "row-number", "row-count"])
def test_an_oversized_sheet_is_refused_before_openpyxl_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 what: str, sheet: bytes) -> None:
    import openpyxl

    from ingest.load import LoadError

    source = samples.write_small_xlsx(tmp_path / "scratch")
    body = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    (tmp_path / "docs").mkdir()
    path = samples.rezip(source, tmp_path / "docs" / "grand.xlsx",
                         {"xl/worksheets/sheet1.xml": body + sheet + b"</sheetData></worksheet>"})

    def never(*args, **kwargs):
        raise AssertionError("openpyxl opened an oversized workbook")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(LoadError) as caught:
        _load(path)
    assert "the .xlsx has more than 50,000 rows" in str(caught.value), what


def test_a_sheet_at_the_cap_is_read(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Numéro", "Ligne"])
    for number in range(1, 50_000):
        book.active.append([number, f"ligne {number}"])
    (tmp_path / "docs").mkdir()
    book.save(str(tmp_path / "docs" / "plein.xlsx"))
    assert "| 49999 | ligne 49999 |" in _load(tmp_path / "docs" / "plein.xlsx").text


def test_a_macro_project_is_dropped_unread(tmp_path: Path) -> None:
    from tests.ingest.hostile_formats import write_macro_xlsx

    (tmp_path / "docs").mkdir()
    doc = _load(write_macro_xlsx(tmp_path / "docs", tmp_path / "scratch"))
    assert "Audit de sécurité des portails publics" in doc.text and "calc.exe" not in doc.text


# ----- through the real store and the answer path ----------------------------------------
@pytest.fixture(scope="module")
def formats_store(tmp_path_factory: pytest.TempPathFactory, real_model_path: Path):
    """One file of each new kind, generated here, ingested with the real model into a real store."""
    from tests.conftest import ingest_from

    folder = tmp_path_factory.mktemp("formats")
    docs = folder / "docs"
    for write in (samples.write_xlsx, samples.write_ods, samples.write_csv, samples.write_pptx, samples.write_odp,
                  samples.write_odt, samples.write_eml, samples.write_thread_txt, samples.write_scan,
                  samples.write_eml_with_attachment):
        write(docs)
    kb, report = ingest_from(folder, [Path("docs")], folder / "store")
    assert report.failed == 0 and report.added == 11, report.errors  # the attached CSV is a document too
    assert "docs/inscriptions.eml#inscrits.csv" in kb.documents()
    assert [(p["page"], p["indexed"]) for p in report.ocr] == [(1, True), (2, True)], report.ocr
    yield kb
    kb.close()


@pytest.mark.real_model
@pytest.mark.parametrize("question, path, quoted, page", [
    ("Quelle est l'échéance de l'audit de sécurité des portails publics ?", "docs/suivi.xlsx",
     "Audit de sécurité des portails publics | SENUM | 2026-01-12 | 2026-09-30 | en cours", None),
    ("Combien coûte l'atelier de Bakou sur la signature électronique ?", "docs/budget.ods", "9400000", None),
    ("Qui est le point focal de l'IDDA ?", "docs/points-focaux.csv", "Elvin Huseynov", None),
    ("Quand aura lieu l'exercice de crise conjoint ?", "docs/point-etape.pptx", "21 octobre 2026", 2),
    ("Pourquoi la session de formation de septembre est-elle annulée ?", "docs/formation.odp", "faute de salle", 2),
    ("À quelle fréquence se réunit le comité technique ?", "docs/accord.odt", "tous les deux mois", None),
    ("Quelle date a été retenue pour l'atelier sur l'interopérabilité ?", "docs/atelier.eml", "14 octobre 2026", None),
    ("How many IDDA experts will come to Dakar for the interoperability workshop?", "docs/atelier.eml",
     "Three experts of the IDDA", None),  # said only in a quoted earlier message
    ("Quand les autorités de certification échangent-elles leurs politiques de certification ?",
     "docs/protocole-signature-scan.pdf", "15 mai 2026", 2),
    ("Quelle est la fonction de Mamadou Ndiaye ?", "docs/inscriptions.eml", "Architecte des systèmes", None),
])
def test_each_kind_answers_from_the_right_row_slide_or_message(formats_store, question: str, path: str, quoted: str,
                                                               page: int | None) -> None:
    from bot.answering import answer

    result = answer(question, role="staff", kb=formats_store, today=date(2026, 4, 1))
    cited = [s for s in result.sources if s.cited]
    assert result.outcome in ("answered", "to_check") and cited, result.answer
    first = cited[0]
    assert first.path == path and quoted in first.quote, [(s.path, s.quote) for s in cited]
    assert first.page == page
    assert "30 septembre" not in " ".join(s.quote for s in cited if s.path == path), "a replaced date is no answer"
