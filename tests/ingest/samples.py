"""Builders of small sample files in every supported format (and broken ones) for tests."""

from __future__ import annotations

from pathlib import Path

MD_PROTOCOL = """---
title: Protocole d'accord SENUM
doc_type: protocol
date: 2025-12-24
organisations: [MCTN, SENUM]
language: fr
access: public
illustrative: true
---
# Protocole d'accord

## Article 1 — Objet
Le présent protocole organise le transfert de compétences entre les parties. Il couvre la cybersécurité et la formation.

## Article 2 — Engagements
La SENUM s'engage à former 50 agents d'ici fin mars 2026. La partie azerbaïdjanaise partage ses méthodes d'e-gouvernement.
"""


def write_md(folder: Path, name: str = "protocole.md", text: str = MD_PROTOCOL) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_sidecar(path: Path, yaml_text: str) -> Path:
    sidecar = path.with_name(path.name + ".meta.yaml")
    sidecar.write_text(yaml_text, encoding="utf-8")
    return sidecar


SIDECAR = """title: Note de test
doc_type: report
date: 2026-02-10
organisations: [CEAC]
language: fr
access: internal
"""


def write_pdf(folder: Path, name: str = "note.pdf", pages: tuple[str, ...] = (
    "Premier chapitre\n\nLa commission mixte se réunit chaque trimestre à Dakar.",
    "Second chapitre\n\nLe rapport final est remis au ministère avant le 30 juin 2026.",
), password: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for page in pages:
        pdf.add_page()
        for para in page.split("\n\n"):
            pdf.multi_cell(0, 8, para)
            pdf.ln(6)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if password:
        pdf.set_encryption(owner_password=password, user_password=password)
    pdf.output(str(path))
    return path


def write_docx(folder: Path, name: str = "compte-rendu.docx") -> Path:
    from docx import Document

    document = Document()
    document.add_heading("Compte rendu de la réunion", level=1)
    document.add_heading("Décisions", level=2)
    document.add_paragraph("Les parties adoptent le calendrier des commissions mixtes.")
    document.add_heading("Actions", level=2)
    table = document.add_table(rows=2, cols=3)
    for cell, value in zip(table.rows[0].cells, ("Action", "Responsable", "Échéance")):
        cell.text = value
    for cell, value in zip(table.rows[1].cells, ("Nommer les points focaux", "CEAC", "15 janvier 2026")):
        cell.text = value
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    document.save(str(path))
    return path


HTML = """<!doctype html><html><head><title>E-government in Azerbaijan</title>
<script>alert('x')</script><style>p{color:red}</style></head>
<body><nav>Menu</nav><h1>E-government in Azerbaijan</h1>
<h2>Digital identity</h2><p>Citizens sign documents with a mobile digital identity.</p>
<ul><li>Integrated public platforms</li><li>One-stop service centres</li></ul>
<script>document.write('hidden')</script></body></html>"""


def write_html(folder: Path, name: str = "brief.html") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(HTML, encoding="utf-8")
    return path
