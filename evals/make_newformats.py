"""Build the five illustrative documents of issue 24's target measurement and their text-born twins.

Each document exists twice with the same content: once in a new format (an image-only scanned
PDF, an .xlsx workbook, a .pptx deck, an .eml thread, an .odt text) under
`evals/data/newformats/files/`, once as Markdown or plain text under `evals/data/newformats/twins/`.
`python -m evals.newformats` asks the questions of `evals/data/newformats_questions.jsonl` of both
and compares. The facts are invented for the evaluation (metadata says `illustrative: true`).

    .venv/bin/python -m evals.make_newformats [--out FOLDER]
"""

from __future__ import annotations

import argparse
import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent / "data" / "newformats"
FILES, TWINS = "files", "twins"

# ---------------------------------------------------------------- the scanned minutes (PDF, no text layer)

SCAN_TITLE = "Procès-verbal de la deuxième session de la commission mixte cybersécurité"
SCAN_PAGES = [
    f"""# {SCAN_TITLE}

Dakar, le 8 octobre 2026

La commission mixte cybersécurité a tenu sa deuxième session les 6 et 7 octobre 2026 dans les locaux de la SENUM à Diamniadio. La partie sénégalaise était conduite par Mme Khady Sarr, responsable de la sécurité des systèmes d'information à la SENUM. La délégation azerbaïdjanaise était conduite par M. Tural Hasanov, directeur adjoint du centre national de réponse aux incidents informatiques.

Point 1 - Bilan des formations

Depuis la première session, dix-huit analystes sénégalais ont suivi à Bakou le cycle de formation aux opérations de sécurité, en trois groupes de six. Le taux de réussite à l'examen final est de 94 pour cent. Un quatrième groupe de six analystes partira pour Bakou le 11 janvier 2027.

Point 2 - Exercice conjoint de gestion de crise

La commission fixe l'exercice conjoint de gestion de crise au 24 février 2027. Le scénario retenu est une attaque par rançongiciel contre la plateforme de télépaiement des impôts et taxes.""",
    """Point 3 - Partage d'informations sur les menaces

Les deux centres de réponse aux incidents échangeront un bulletin mensuel sur les menaces à partir de novembre 2026. Le canal chiffré qui sert à ces échanges est hébergé par la partie azerbaïdjanaise.

Point 4 - Budget

Le coût de l'exercice conjoint est estimé à 41 500 000 FCFA, dont 60 pour cent à la charge de la partie azerbaïdjanaise et le reste à la charge de la SENUM.

Point 5 - Prochaine session

La troisième session de la commission se tiendra à Bakou en avril 2027. Elle examinera le bilan de l'exercice conjoint et le projet de guide commun de réponse aux incidents.

Pour la partie sénégalaise : Khady Sarr

Pour la partie azerbaïdjanaise : Tural Hasanov""",
]

# ---------------------------------------------------------------- the training calendar and budget (.xlsx)

SHEET_TITLE = "Calendrier et budget des formations 2027 de la commission mixte formation"
CALENDAR_HEADER = ("Formation", "Public", "Lieu", "Début", "Fin", "Places", "Opérateur")
CALENDAR = [
    ("Gestion de projets numériques publics", "Chefs de projet des ministères", "Dakar",
     dt.date(2027, 1, 18), dt.date(2027, 1, 29), 30, "ENA du Sénégal"),
    ("Administration d'une infrastructure à clés publiques", "Ingénieurs de la SENUM", "Bakou",
     dt.date(2027, 2, 15), dt.date(2027, 3, 5), 12, "IDDA"),
    ("Conception de services centrés sur l'usager", "Agents des maisons de services publics", "Thiès",
     dt.date(2027, 3, 22), dt.date(2027, 3, 26), 40, "MCTN"),
    ("Analyse de données pour la décision publique", "Statisticiens de l'ANSD", "Dakar",
     dt.date(2027, 4, 12), dt.date(2027, 4, 23), 25, "UN-CHK"),
    ("Formation de formateurs en cybersécurité", "Formateurs de l'ENA et de l'ESP", "Bakou",
     dt.date(2027, 5, 10), dt.date(2027, 5, 28), 10, "IDDA"),
    ("Protection des données personnelles", "Juristes des ministères", "Dakar",
     dt.date(2027, 6, 7), dt.date(2027, 6, 11), 35, "Commission de protection des données personnelles"),
]
BUDGET_HEADER = ("Poste", "Montant (FCFA)", "Financement")
BUDGET = [
    ("Billets d'avion Dakar-Bakou", 28_400_000, "Sénégal"),
    ("Hébergement des stagiaires à Bakou", 19_600_000, "Azerbaïdjan"),
    ("Honoraires des formateurs", 22_000_000, "Azerbaïdjan"),
    ("Salles et logistique à Dakar et à Thiès", 9_300_000, "Sénégal"),
    ("Plateforme d'apprentissage en ligne", 6_700_000, "Sénégal"),
]
BUDGET_TOTAL = sum(row[1] for row in BUDGET)  # 86 000 000

# ---------------------------------------------------------------- the mid-term review deck (.pptx)

DECK_TITLE = "Digitalising administrative procedures: mid-term review"
# (title, bullets as (level, text), speaker notes, table rows)
SLIDES: list[tuple[str, list[tuple[int, str]], str, list[tuple[str, ...]]]] = [
    (DECK_TITLE, [(0, "Joint commission on the digitalisation of administrative procedures"),
                  (0, "Steering committee, Baku, 3 November 2026")], "", []),
    ("Procedures online so far", [
        (0, "14 of the 25 priority procedures are online on the pilot portal"),
        (0, "Most used: requests for a birth certificate extract, 62,000 since the launch"),
        (0, "Average processing time down from 21 days to 4 days"),
    ], "Mention that the criminal record extract was taken offline for two weeks in September 2026 "
       "after a fault in the electronic signature.", []),
    ("One-stop service centres", [
        (0, "Three pilot centres modelled on the Azerbaijani one-stop shops: Dakar, Thiès and Saint-Louis"),
        (1, "48 front-desk agents trained by IDDA experts"),
        (0, "Users satisfied or very satisfied: 87 percent in the October 2026 survey"),
    ], "", []),
    ("Next procedures", [], "", [
        ("Procedure", "Lead", "Target date"),
        ("Business registration", "APIX", "March 2027"),
        ("Building permit", "Ministry of Urban Planning", "June 2027"),
        ("Driving licence renewal", "Ministry of Land Transport", "September 2027"),
    ]),
    ("Risks", [
        (0, "The interoperability layer is not yet connected in four ministries"),
        (0, "Weak connectivity of the regional offices"),
        (0, "Turnover of the trained agents"),
    ], "The ADIE has promised to connect every ministry to the interoperability layer by 31 January 2027.", []),
    ("Budget", [
        (0, "1.2 billion FCFA committed out of the 2 billion FCFA allocated, 60 percent"),
        (0, "Azerbaijan's contribution: expert missions and the licence of the case management software"),
    ], "", []),
    ("Decisions requested from the steering committee", [
        (0, "Approve the list of the 11 remaining procedures for 2027"),
        (0, "Approve the recruitment of six business analysts for the ministries"),
        (0, "Hold the next review in May 2027 in Dakar"),
    ], "", []),
]

# ---------------------------------------------------------------- the study-visit thread (.eml)

MAIL_SUBJECT = "Re: Visite d'étude aux centres de services publics de Bakou"
MAIL_FROM = "Ndeye Fatou Gueye <nf.gueye@mctn.example>"
MAIL_TO = "Kamran Aliyev <k.aliyev@idda.example>"
MAIL_DATE = "Wed, 21 Oct 2026 10:05:00 +0000"
MAIL_BODY = """Cher Kamran,

Merci pour votre réponse rapide. Nous confirmons donc la visite d'étude du 30 novembre au 4 décembre 2026.

La délégation comptera huit personnes : deux agents du MCTN, trois de la SENUM, deux de l'ADIE et un de la Direction de la modernisation de l'administration. Les billets d'avion sont pris en charge par le programme, sur la ligne budgétaire des missions.

Nous vous enverrons la liste nominative de la délégation avant le 6 novembre 2026.

Bien cordialement,
Ndeye Fatou Gueye
Cellule de coordination du programme

Le mar. 20 oct. 2026 à 14:12, Kamran Aliyev <k.aliyev@idda.example> a écrit :
> Dear Ndeye Fatou,
>
> Unfortunately the week of 16 November 2026 is not possible for us: our service centres switch to a new queue management system that week.
>
> We can host the delegation from 30 November to 4 December 2026. The programme would include two days in the public service centres, one day at the innovation agency and one day at the Ministry. We can receive at most eight visitors.
>
> Best regards,
> Kamran Aliyev
>
> Le lun. 19 oct. 2026 à 09:30, Ndeye Fatou Gueye <nf.gueye@mctn.example> a écrit :
>> Cher Kamran,
>>
>> Nous proposons que la visite d'étude de notre délégation aux centres de services publics de Bakou ait lieu du 16 au 20 novembre 2026. Nous pensons venir à dix personnes.
>>
>> Bien à vous,
>> Ndeye Fatou Gueye
"""

# ---------------------------------------------------------------- the learning-platform specification (.odt)

ODT_TITLE = "Cahier des charges de la plateforme commune d'apprentissage en ligne"
# (heading, paragraphs, list items, table rows)
ODT_SECTIONS: list[tuple[str, list[str], list[str], list[tuple[str, str]]]] = [
    ("1. Contexte", [
        "Lors de sa session du 9 septembre 2026, la commission mixte formation a décidé de doter le programme "
        "d'une plateforme en ligne commune pour les formations à distance des agents sénégalais et azerbaïdjanais.",
    ], [], []),
    ("2. Objectifs", ["La plateforme doit :"], [
        "héberger les douze modules du tronc commun de formation au numérique public ;",
        "ouvrir 2 000 comptes d'apprenants au cours de la première année ;",
        "délivrer des attestations de réussite signées électroniquement ;",
        "suivre l'assiduité des apprenants et en rendre compte aux administrations.",
    ], []),
    ("3. Exigences techniques", [
        "La plateforme est hébergée au centre de données national de Diamniadio. Elle repose sur un logiciel "
        "libre de gestion de l'apprentissage, dont le code reste la propriété des deux parties.",
        "Les interfaces sont disponibles en français, en anglais et en azerbaïdjanais. La disponibilité "
        "exigée est de 99,5 % par mois, hors maintenance annoncée.",
    ], [], []),
    ("4. Calendrier", [], [], [
        ("Étape", "Date"),
        ("Publication de l'appel d'offres", "15 décembre 2026"),
        ("Choix du prestataire", "31 janvier 2027"),
        ("Mise en ligne pilote", "1er avril 2027"),
        ("Ouverture à tous les agents", "1er juillet 2027"),
    ]),
    ("5. Budget et financement", [
        "La mise en place et l'hébergement de la première année coûtent 6 700 000 FCFA, financés par la partie "
        "sénégalaise. L'IDDA produit à ses frais les vidéos des douze modules. À partir de 2028, la maintenance "
        "est estimée à 2 400 000 FCFA par an.",
    ], [], []),
    ("6. Pilotage", [
        "Un comité de suivi de quatre membres, présidé par le directeur de la formation du MCTN, suit le projet "
        "et rend compte chaque trimestre à la commission mixte formation.",
    ], [], []),
]

METADATA = {
    "scan": {"title": SCAN_TITLE + " (document numérisé, exemple illustratif)", "doc_type": "meeting_notes",
             "date": "2026-10-08", "organisations": ["SENUM", "Azerbaïdjan"], "language": "fr"},
    "sheet": {"title": SHEET_TITLE + " (exemple illustratif)", "doc_type": "report", "date": "2026-11-20",
              "organisations": ["MCTN", "IDDA", "ENA", "UN-CHK"], "language": "fr"},
    "deck": {"title": DECK_TITLE + " (slides, illustrative sample)", "doc_type": "report", "date": "2026-11-03",
             "organisations": ["MCTN", "IDDA", "ADIE", "APIX"], "language": "en"},
    "mail": {"title": "Visite d'étude aux centres de services publics de Bakou (fil de courriels, exemple illustratif)",
             "doc_type": "other", "date": "2026-10-21", "organisations": ["MCTN", "IDDA", "SENUM", "ADIE"],
             "language": "fr"},
    "odt": {"title": ODT_TITLE + " (exemple illustratif)", "doc_type": "strategy", "date": "2026-11-12",
            "organisations": ["MCTN", "IDDA"], "language": "fr"},
}
NAMES = {
    "scan": ("pv-commission-cybersecurite-2026-10.pdf", "pv-commission-cybersecurite-2026-10.md"),
    "sheet": ("formations-2027.xlsx", "formations-2027.md"),
    "deck": ("digitalisation-mid-term-review.pptx", "digitalisation-mid-term-review.md"),
    "mail": ("fil-visite-etude-bakou.eml", "fil-visite-etude-bakou.txt"),
    "odt": ("cahier-des-charges-plateforme-formation.odt", "cahier-des-charges-plateforme-formation.md"),
}
KINDS = tuple(NAMES)


def _meta(kind: str) -> dict:
    return {**METADATA[kind], "access": "internal", "illustrative": True}


def _front_matter(kind: str) -> str:
    return "---\n" + yaml.safe_dump(_meta(kind), allow_unicode=True, sort_keys=False) + "---\n"


def _sidecar(path: Path, kind: str) -> None:
    path.with_name(path.name + ".meta.yaml").write_text(
        yaml.safe_dump(_meta(kind), allow_unicode=True, sort_keys=False), encoding="utf-8")


def scan_reference() -> list[str]:
    """The text of each scanned page as typeset (the OCR reference), without the heading mark."""
    return [page.replace("# ", "") for page in SCAN_PAGES]


def write_scan(path: Path) -> None:
    from evals.scans import render_scan

    render_scan(path, SCAN_PAGES, angle=0.8, noise=0.012, seed=24)


def scan_twin() -> str:
    lines = []
    for page in SCAN_PAGES:
        for para in page.split("\n\n"):
            lines.append("## " + para if para.startswith("Point ") else para)
    return "\n\n".join(lines) + "\n"


def write_sheet(path: Path) -> None:
    """Written by XlsxWriter, as Excel saves it: the total is a formula with its cached value."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"title": SHEET_TITLE, "created": dt.datetime(2026, 11, 20, 9, 0)})
    bold = book.add_format({"bold": True})
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    money = book.add_format({"num_format": "# ##0"})
    sheet = book.add_worksheet("Calendrier 2027")
    sheet.merge_range(0, 0, 0, len(CALENDAR_HEADER) - 1, SHEET_TITLE, bold)
    sheet.write_row(2, 0, CALENDAR_HEADER, bold)
    for r, row in enumerate(CALENDAR, start=3):
        sheet.write_row(r, 0, row[:3])
        sheet.write_datetime(r, 3, dt.datetime.combine(row[3], dt.time()), dates)
        sheet.write_datetime(r, 4, dt.datetime.combine(row[4], dt.time()), dates)
        sheet.write_number(r, 5, row[5])
        sheet.write(r, 6, row[6])
    budget = book.add_worksheet("Budget 2027")
    budget.write_row(0, 0, BUDGET_HEADER, bold)
    for r, (item, amount, payer) in enumerate(BUDGET, start=1):
        budget.write(r, 0, item)
        budget.write_number(r, 1, amount, money)
        budget.write(r, 2, payer)
    last = len(BUDGET) + 1
    budget.write(last, 0, "Total", bold)
    budget.write_formula(last, 1, f"=SUM(B2:B{last})", money, BUDGET_TOTAL)
    book.close()


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", " ")


def sheet_twin() -> str:
    """The workbook as a person would copy it to Markdown: values as Excel displays them."""
    out = [f"# {SHEET_TITLE}", "", "## Calendrier 2027", "", "| " + " | ".join(CALENDAR_HEADER) + " |",
           "|" + "---|" * len(CALENDAR_HEADER)]
    for row in CALENDAR:
        cells = [*row[:3], row[3].strftime("%d/%m/%Y"), row[4].strftime("%d/%m/%Y"), str(row[5]), row[6]]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "## Budget 2027", "", "| " + " | ".join(BUDGET_HEADER) + " |", "|---|---|---|"]
    out += [f"| {item} | {_money(amount)} | {payer} |" for item, amount, payer in BUDGET]
    out.append(f"| Total | {_money(BUDGET_TOTAL)} | |")
    return "\n".join(out) + "\n"


def write_deck(path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = DECK_TITLE
    deck.core_properties.created = dt.datetime(2026, 11, 3, 9, 0)
    for number, (title, bullets, notes, table) in enumerate(SLIDES):
        layout = deck.slide_layouts[0 if number == 0 else 5 if table else 1]
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = title
        if bullets:
            frame = slide.placeholders[1].text_frame
            frame.text = bullets[0][1]
            for level, text in bullets[1:]:
                paragraph = frame.add_paragraph()
                paragraph.text, paragraph.level = text, level
        if table:
            grid = slide.shapes.add_table(len(table), len(table[0]), Inches(0.5), Inches(2), Inches(9),
                                          Inches(0.4 * len(table))).table
            for r, values in enumerate(table):
                for c, value in enumerate(values):
                    grid.cell(r, c).text = value
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    deck.save(str(path))


def deck_twin() -> str:
    out = [f"# {DECK_TITLE}"]
    for number, (title, bullets, notes, table) in enumerate(SLIDES):
        if number:
            out += ["", f"## {title}"]
        if bullets:
            out.append("")
            out += ["  " * level + "- " + text for level, text in bullets]
        if table:
            out += ["", "| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
            out += ["| " + " | ".join(row) + " |" for row in table[1:]]
        if notes:
            out += ["", f"Speaker notes: {notes}"]
    return "\n".join(out) + "\n"


def write_mail(path: Path) -> None:
    message = EmailMessage()
    message["From"], message["To"] = MAIL_FROM, MAIL_TO
    message["Subject"], message["Date"] = MAIL_SUBJECT, MAIL_DATE
    message.set_content(MAIL_BODY)
    path.write_bytes(bytes(message))


def mail_twin() -> str:
    """The thread pasted as text: the last message's headers, then its body with the quotes."""
    return (f"De : {MAIL_FROM}\nDate : mercredi 21 octobre 2026 10:05\nÀ : {MAIL_TO}\n"
            f"Objet : {MAIL_SUBJECT}\n\n{MAIL_BODY}")


def write_odt(path: Path) -> None:
    from odf.dc import Title
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, List, ListItem, P

    document = OpenDocumentText()
    document.meta.addElement(Title(text=ODT_TITLE))
    document.text.addElement(H(outlinelevel=1, text=ODT_TITLE))
    for heading, paragraphs, items, rows in ODT_SECTIONS:
        document.text.addElement(H(outlinelevel=2, text=heading))
        for paragraph in paragraphs:
            document.text.addElement(P(text=paragraph))
        if items:
            listing = List()
            for text in items:
                item = ListItem()
                item.addElement(P(text=text))
                listing.addElement(item)
            document.text.addElement(listing)
        if rows:
            table = Table(name=heading)
            table.addElement(TableColumn(numbercolumnsrepeated=len(rows[0])))
            for values in rows:
                row = TableRow()
                for value in values:
                    cell = TableCell()
                    cell.addElement(P(text=value))
                    row.addElement(cell)
                table.addElement(row)
            document.text.addElement(table)
    document.save(str(path))


def odt_twin() -> str:
    out = [f"# {ODT_TITLE}"]
    for heading, paragraphs, items, rows in ODT_SECTIONS:
        out += ["", f"## {heading}"]
        for paragraph in paragraphs:
            out += ["", paragraph]
        if items:
            out += [""] + [f"- {text}" for text in items]
        if rows:
            out += ["", "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
            out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(out) + "\n"


WRITERS = {"scan": (write_scan, scan_twin), "sheet": (write_sheet, sheet_twin), "deck": (write_deck, deck_twin),
           "mail": (write_mail, mail_twin), "odt": (write_odt, odt_twin)}


def write_all(root: Path = ROOT) -> dict[str, tuple[Path, Path]]:
    """Write every document (with its sidecar metadata) under root/files and its twin (with front
    matter) under root/twins; returns {kind: (file, twin)}."""
    (root / FILES).mkdir(parents=True, exist_ok=True)
    (root / TWINS).mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, (write, twin) in WRITERS.items():
        file_name, twin_name = NAMES[kind]
        path, twin_path = root / FILES / file_name, root / TWINS / twin_name
        write(path)
        _sidecar(path, kind)
        twin_path.write_text(_front_matter(kind) + twin(), encoding="utf-8")
        written[kind] = (path, twin_path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.make_newformats", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT, help="folder to write files/ and twins/ into")
    args = parser.parse_args(argv)
    for kind, (path, twin) in write_all(args.out).items():
        print(f"{kind}: {path} + {twin}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
