"""Builders of sample files in the spreadsheet, slide, OpenDocument and e-mail formats, written
by the libraries a ministry's tools would use (XlsxWriter/openpyxl, python-pptx, odfpy, email).
The facts are illustrative, invented for the tests."""

from __future__ import annotations

import datetime as dt
import zipfile
from email.message import EmailMessage
from pathlib import Path

TRACKER_ROWS = [
    ("Audit de sécurité des portails publics", "SENUM", dt.date(2026, 1, 12), dt.date(2026, 9, 30), "en cours"),
    ("Formation de 40 formateurs au cadre d'interopérabilité", "ADIE", dt.date(2026, 2, 2), dt.date(2026, 6, 30),
     "à venir"),
    ("Publication du catalogue des données ouvertes", "MCTN", dt.date(2026, 3, 1), dt.date(2026, 11, 15), "en retard"),
]


def write_xlsx(folder: Path, name: str = "suivi.xlsx") -> Path:
    """A tracker workbook: a title merged over the columns, a two-row header whose "Calendrier"
    label is merged over "Début" and "Échéance", an empty row inside the data, a budget sheet
    whose total is a formula with its cached value (as Excel saves it)."""
    import xlsxwriter

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"title": "Suivi des actions du programme"})
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet = book.add_worksheet("Suivi des actions")
    sheet.merge_range("A1:E1", "Tableau de suivi des actions — mars 2026")
    sheet.merge_range("A3:A4", "Action")
    sheet.merge_range("B3:B4", "Responsable")
    sheet.merge_range("C3:D3", "Calendrier")
    sheet.write_row("C4", ["Début", "Échéance"])
    sheet.merge_range("E3:E4", "Statut")
    row = 4
    for index, (action, owner, start, due, state) in enumerate(TRACKER_ROWS):
        if index == 2:
            row += 1  # an empty row inside the table
        sheet.write_row(row, 0, [action, owner])
        sheet.write_datetime(row, 2, dt.datetime.combine(start, dt.time()), dates)
        sheet.write_datetime(row, 3, dt.datetime.combine(due, dt.time()), dates)
        sheet.write(row, 4, state)
        row += 1
    budget = book.add_worksheet("Budget")
    budget.write_row("A1", ["Poste", "Montant (FCFA)"])
    budget.write_row("A2", ["Ateliers de formation", 18_500_000])
    budget.write_row("A3", ["Audit des portails", 7_250_000])
    budget.write("A4", "Total")
    budget.write_formula("B4", "=SUM(B2:B3)", None, 25_750_000)
    book.close()
    return path


def write_small_xlsx(folder: Path, name: str = "petit.xlsx") -> Path:
    """A one-sheet, one-cell workbook written by openpyxl (its sheet is xl/worksheets/sheet1.xml)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = "Ligne"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    book.save(str(path))
    return path


def write_ods(folder: Path, name: str = "budget.ods") -> Path:
    """A budget sheet: a merged title, a header, rows, a formula with its stored value, an empty
    row repeated to the sheet's end (as LibreOffice writes it)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    def cell(value: str | float, **attributes) -> TableCell:
        kind = {"valuetype": "float", "value": str(value)} if isinstance(value, (int, float)) else {"valuetype": "string"}
        element = TableCell(**kind, **attributes)
        element.addElement(P(text=str(value)))
        return element

    document = OpenDocumentSpreadsheet()
    table = Table(name="Budget 2026")
    title = TableRow()
    title.addElement(cell("Budget des ateliers 2026", numbercolumnsspanned=2))
    title.addElement(CoveredTableCell())
    table.addElement(title)
    for values in (("Atelier", "Coût (FCFA)"), ("Atelier de Bakou sur la signature électronique", 9_400_000),
                   ("Atelier de Dakar sur les données ouvertes", 6_100_000)):
        row = TableRow()
        for value in values:
            row.addElement(cell(value))
        table.addElement(row)
    total = TableRow()
    total.addElement(cell("Total"))
    formula = cell(15_500_000, formula="of:=SUM([.B3:.B4])")
    total.addElement(formula)
    table.addElement(total)
    table.addElement(TableRow(numberrowsrepeated=1_048_570))
    document.spreadsheet.addElement(table)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    document.save(str(path))
    return path


def write_csv(folder: Path, name: str = "points-focaux.csv") -> Path:
    """A semicolon-separated list (as French Excel saves CSV), with an empty line."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        "Institution;Point focal;Courriel\n"
        "SENUM;Mariama Ndiaye;m.ndiaye@senum.example\n"
        "\n"
        "IDDA;Elvin Huseynov;e.huseynov@idda.example\n", encoding="utf-8")
    return path


def write_pptx(folder: Path, name: str = "point-etape.pptx") -> Path:
    """A briefing deck: a title slide, a bullet slide with speaker notes, a slide with a table."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = "Point d'étape du programme"
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = "Point d'étape du programme"
    slide.placeholders[1].text = "Comité de pilotage, Dakar"
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Cybersécurité"
    frame = slide.placeholders[1].text_frame
    frame.text = "Le centre de réponse aux incidents fonctionne depuis février 2026"
    for text, level in (("Douze analystes formés à Bakou", 1), ("Exercice de crise conjoint en préparation", 0)):
        paragraph = frame.add_paragraph()
        paragraph.text, paragraph.level = text, level
    slide.notes_slide.notes_text_frame.text = "Préciser que l'exercice de crise conjoint est fixé au 21 octobre 2026."
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Identité numérique"
    table = slide.shapes.add_table(3, 3, Inches(0.5), Inches(2), Inches(9), Inches(1.5)).table
    for r, values in enumerate((("Étape", "Responsable", "Échéance"),
                                ("Choix du prestataire de signature mobile", "SENUM", "31 mai 2026"),
                                ("Pilote auprès de 500 agents", "ADIE", "15 novembre 2026"))):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    deck.save(str(path))
    return path


def _odp_frame(kind: str, **size):
    from odf.draw import Frame
    from odf.namespaces import PRESENTATIONNS

    frame = Frame(**size)
    frame.setAttrNS(PRESENTATIONNS, "class", kind)
    return frame


def write_odp(folder: Path, name: str = "formation.odp") -> Path:
    """An Impress deck: two slides, each a title and bullets; the second has speaker notes."""
    from odf.draw import Page, TextBox
    from odf.opendocument import OpenDocumentPresentation
    from odf.presentation import Notes
    from odf.style import MasterPage, PageLayout
    from odf.text import List, ListItem, P

    document = OpenDocumentPresentation()
    layout = PageLayout(name="Mise en page")
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    document.masterstyles.addElement(master)
    size = {"width": "25cm", "height": "3cm", "x": "1cm", "y": "1cm"}
    for number, (title, bullets, notes) in enumerate((
        ("Calendrier des formations", ["Session 1 à Dakar en avril 2026", "Session 2 à Bakou en juin 2026"], ""),
        ("Bilan des inscriptions", ["Soixante-deux agents inscrits", "Trois ministères représentés"],
         "La session de septembre est annulée faute de salle."),
    ), start=1):
        page = Page(name=f"page{number}", masterpagename=master)
        document.presentation.addElement(page)
        frame = _odp_frame("title", **size)
        page.addElement(frame)
        box = TextBox()
        frame.addElement(box)
        box.addElement(P(text=title))
        frame = _odp_frame("outline", **size)
        page.addElement(frame)
        box = TextBox()
        frame.addElement(box)
        items = List()
        box.addElement(items)
        for bullet in bullets:
            item = ListItem()
            item.addElement(P(text=bullet))
            items.addElement(item)
        if notes:
            holder = Notes()
            page.addElement(holder)
            frame = _odp_frame("notes", **size)
            holder.addElement(frame)
            box = TextBox()
            frame.addElement(box)
            box.addElement(P(text=notes))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    document.save(str(path))
    return path


def write_odt(folder: Path, name: str = "accord.odt") -> Path:
    """A Writer document: headings, paragraphs, a list and a table."""
    from odf.dc import Title
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, List, ListItem, P

    document = OpenDocumentText()
    document.meta.addElement(Title(text="Accord de mise en œuvre"))
    document.text.addElement(H(outlinelevel=1, text="Accord de mise en œuvre"))
    document.text.addElement(H(outlinelevel=2, text="Article 4 — Comité technique"))
    document.text.addElement(P(text="Le comité technique se réunit tous les deux mois, alternativement à Dakar et à Bakou."))
    items = List()
    for text in ("il valide le plan de travail annuel ;", "il suit l'exécution du budget."):
        item = ListItem()
        item.addElement(P(text=text))
        items.addElement(item)
    document.text.addElement(items)
    document.text.addElement(H(outlinelevel=2, text="Annexe — Budget"))
    table = Table(name="Budget")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for values in (("Poste", "Montant"), ("Missions d'experts", "32 000 000 FCFA"), ("Équipements", "11 000 000 FCFA")):
        row = TableRow()
        for value in values:
            cell = TableCell()
            cell.addElement(P(text=value))
            row.addElement(cell)
        table.addElement(row)
    document.text.addElement(table)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    document.save(str(path))
    return path


THREAD_BODY = """Bonjour Rashad,

C'est entendu : l'atelier sur l'interopérabilité se tiendra le 14 octobre 2026 à Dakar, dans les locaux de la SENUM.

Cordialement,
Fatou Sall

Le mar. 17 mars 2026 à 16:02, Rashad Aliyev <r.aliyev@idda.example> a écrit :
> Dear Fatou,
>
> The end of September does not suit our experts. Could the workshop move to 14 October 2026?
>
> Three experts of the IDDA's interoperability unit will come to Dakar.
>
> On Mon, 16 Mar 2026 at 10:00, Fatou Sall <fatou.sall@senum.example> wrote:
>> Bonjour,
>>
>> Nous proposons de tenir l'atelier sur l'interopérabilité le 30 septembre 2026 à Dakar.
"""


def write_eml(folder: Path, name: str = "atelier.eml", attachment: bytes | None = None) -> Path:
    """A reply that quotes the two earlier messages of its thread; optionally a CSV attached."""
    message = EmailMessage()
    message["From"] = "Fatou Sall <fatou.sall@senum.example>"
    message["To"] = "Rashad Aliyev <r.aliyev@idda.example>"
    message["Subject"] = "Re: Atelier interopérabilité"
    message["Date"] = "Thu, 19 Mar 2026 09:15:00 +0000"
    message.set_content(THREAD_BODY)
    if attachment is not None:
        message.add_attachment(attachment, maintype="text", subtype="csv", filename="participants.csv")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(bytes(message))
    return path


def write_quoted_original(folder: Path, name: str = "reponse-idda.eml") -> Path:
    """Rashad Aliyev's message of 17 March 2026 exported on its own: the original of the message
    the reply of `write_eml` quotes (its three experts are said nowhere else)."""
    message = EmailMessage()
    message["From"] = "Rashad Aliyev <r.aliyev@idda.example>"
    message["Subject"] = "Re: Atelier interopérabilité"
    message["Date"] = "Tue, 17 Mar 2026 16:02:00 +0000"
    message.set_content("Dear Fatou,\n\nThe end of September does not suit our experts. Could the workshop move to "
                        "14 October 2026?\n\nThree experts of the IDDA's interoperability unit will come to Dakar.\n")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(bytes(message))
    return path


THREAD_TEXT = """De : Awa Diop
Envoyé : lundi 2 mars 2026 11:00
À : Équipe du programme
Objet : RE: Comité de pilotage

Bonjour à tous, la réunion du comité de pilotage aura lieu le 12 mars 2026 à Dakar.

-----Message d'origine-----
De : Ilham Mammadova
Envoyé : vendredi 27 février 2026 17:30
Objet : Comité de pilotage

We suggest holding the steering committee on 5 March 2026.
"""


def write_thread_txt(folder: Path, name: str = "fil-comite.txt") -> Path:
    """A thread pasted from Outlook as plain text: the reply on top, the original below."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(THREAD_TEXT, encoding="utf-8")
    return path


def rezip(source: Path, target: Path, replace: dict[str, bytes], extra: dict[str, bytes] | None = None) -> Path:
    """A copy of the zip `source` with some parts replaced and others added."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info, replace.get(info.filename, old.read(info.filename)))
        for name, data in (extra or {}).items():
            new.writestr(name, data)
    return target


SCAN_PAGES = [
    """# Protocole de coopération en matière de signature électronique

Article 1 — Objet

Le présent protocole fixe les conditions dans lesquelles les parties reconnaissent mutuellement les certificats de signature électronique délivrés par leurs autorités de certification.""",
    """Article 2 — Calendrier

Les deux autorités de certification échangent leurs politiques de certification au plus tard le 15 mai 2026. Un premier essai de vérification croisée est mené à Bakou en juillet 2026.

Article 3 — Suivi

Un groupe de travail de six experts, trois par partie, suit la mise en oeuvre et rend compte au comité de pilotage.""",
]


def write_scan(folder: Path, name: str = "protocole-signature-scan.pdf", pages: list[str] | None = None) -> Path:
    """A signed protocol as it comes back from the scanner: image-only pages, slightly rotated
    and speckled (no text layer)."""
    from evals.scans import render_scan

    return render_scan(folder / name, pages or SCAN_PAGES)


def write_mixed_pdf(folder: Path, name: str = "note-annexe-scannee.pdf") -> Path:
    """A note whose first page has a text layer and whose second page is a scanned annex."""
    from pypdf import PdfReader, PdfWriter

    from tests.ingest.samples import write_pdf

    folder.mkdir(parents=True, exist_ok=True)
    typed = write_pdf(folder / "scratch", "typed.pdf", pages=(
        "Note de transmission\n\nVeuillez trouver ci-joint le protocole signé, numérisé par le secrétariat.",))
    scanned = write_scan(folder / "scratch", "annex.pdf", [SCAN_PAGES[1]])
    writer = PdfWriter()
    for source in (typed, scanned):
        for page in PdfReader(source).pages:
            writer.add_page(page)
    path = folder / name
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def write_eml_with_attachment(folder: Path, name: str = "inscriptions.eml") -> Path:
    """A message whose attached CSV lists the registered participants (the list is in the file only)."""
    message = EmailMessage()
    message["From"] = "Awa Diop <awa.diop@mctn.example>"
    message["To"] = "Équipe du programme <programme@mctn.example>"
    message["Subject"] = "Inscriptions à l'atelier de Bakou"
    message["Date"] = "Tue, 24 Mar 2026 08:30:00 +0000"
    message.set_content("Bonjour,\n\nVeuillez trouver ci-joint la liste des inscrits à l'atelier de Bakou.\n\nAwa")
    message.add_attachment("Nom;Institution;Fonction\nLeyla Guliyeva;IDDA;Cheffe de projet\n"
                           "Mamadou Ndiaye;SENUM;Architecte des systèmes d'information\n".encode(),
                           maintype="text", subtype="csv", filename="inscrits.csv")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(bytes(message))
    return path
