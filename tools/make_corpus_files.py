#!/usr/bin/env python3
"""Generate the binary documents (PDF, DOCX) of the sample corpus.

Each source lives in tools/corpus_src/NAME.md: YAML front matter (the
document metadata plus an ``output`` key giving the corpus-relative path of
the file to produce) followed by a small Markdown subset:

* ``# Title`` / ``## Section`` / ``### Sub-section`` headings
* paragraphs (consecutive non-empty lines are joined with a space)
* bullet lists (``- item``) and numbered lists (``1. item``)
* pipe tables (``| a | b |``; the first row is the header, the
  ``|---|`` separator row is skipped)
* ``<!-- pagebreak -->`` for an explicit page break

For every source the script writes the binary file and its metadata sidecar
``NAME.ext.meta.yaml`` (the front matter minus ``output``).

Usage:
    python tools/make_corpus_files.py            # build everything
    python tools/make_corpus_files.py --verify   # build, then check extraction

PDFs need fpdf2 (pinned in requirements-dev.txt) and the DejaVu fonts
(Debian package ``fonts-dejavu-core``); DOCX files need python-docx.
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SRC_DIR = Path(__file__).resolve().parent / "corpus_src"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

PAGEBREAK = "<!-- pagebreak -->"
META_KEYS = ["title", "doc_type", "date", "organisations", "language", "access",
             "illustrative", "supersedes"]


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------
@dataclass
class Block:
    kind: str  # heading | para | bullets | numbers | table | pagebreak
    level: int = 0
    text: str = ""
    items: list = field(default_factory=list)  # list items or table rows


def split_front_matter(raw: str) -> tuple[dict, str]:
    if not raw.startswith("---\n"):
        raise ValueError("source must start with YAML front matter")
    end = raw.index("\n---\n", 4)
    meta = yaml.safe_load(raw[4:end]) or {}
    return meta, raw[end + 5:]


def parse_body(body: str) -> list[Block]:
    blocks: list[Block] = []
    para: list[str] = []

    def flush_para():
        if para:
            blocks.append(Block("para", text=" ".join(s.strip() for s in para)))
            para.clear()

    for line in body.splitlines():
        s = line.strip()
        if not s:
            flush_para()
            continue
        if s == PAGEBREAK:
            flush_para()
            blocks.append(Block("pagebreak"))
            continue
        m = re.match(r"^(#{1,3})\s+(.*)$", s)
        if m:
            flush_para()
            blocks.append(Block("heading", level=len(m.group(1)), text=m.group(2).strip()))
            continue
        if s.startswith("|"):
            flush_para()
            cells = [c.strip() for c in s.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                continue  # separator row
            if not blocks or blocks[-1].kind != "table":
                blocks.append(Block("table"))
            blocks[-1].items.append(cells)
            continue
        m = re.match(r"^- (.*)$", s)
        if m:
            flush_para()
            if not blocks or blocks[-1].kind != "bullets":
                blocks.append(Block("bullets"))
            blocks[-1].items.append(m.group(1).strip())
            continue
        m = re.match(r"^(\d+)\. (.*)$", s)
        if m:
            flush_para()
            if not blocks or blocks[-1].kind != "numbers":
                blocks.append(Block("numbers"))
            blocks[-1].items.append(m.group(2).strip())
            continue
        para.append(s)
    flush_para()
    return blocks


# --------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------
def build_docx(meta: dict, blocks: list[Block], out: Path) -> None:
    import docx
    from docx.shared import Pt

    document = docx.Document()
    props = document.core_properties
    props.title = meta["title"]
    props.language = meta.get("language", "fr")
    fixed = dt.datetime.fromisoformat(str(meta["date"]))
    props.created = fixed
    props.modified = fixed
    props.author = "Passerelle sample corpus"

    for b in blocks:
        if b.kind == "heading":
            document.add_heading(b.text, level=b.level)  # style "Heading N"
        elif b.kind == "para":
            document.add_paragraph(b.text)
        elif b.kind == "bullets":
            for it in b.items:
                document.add_paragraph(it, style="List Bullet")
        elif b.kind == "numbers":
            for it in b.items:
                document.add_paragraph(it, style="List Number")
        elif b.kind == "table":
            ncols = max(len(r) for r in b.items)
            table = document.add_table(rows=0, cols=ncols)
            table.style = "Table Grid"
            for i, row in enumerate(b.items):
                cells = table.add_row().cells
                for j in range(ncols):
                    cells[j].text = row[j] if j < len(row) else ""
                    if i == 0:
                        for run in cells[j].paragraphs[0].runs:
                            run.bold = True
                            run.font.size = Pt(10)
            document.add_paragraph("")
        elif b.kind == "pagebreak":
            document.add_page_break()
    out.parent.mkdir(parents=True, exist_ok=True)
    document.save(out)


# --------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------
def build_pdf(meta: dict, blocks: list[Block], out: Path) -> None:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    if not FONT_REGULAR.exists():
        sys.exit(f"missing {FONT_REGULAR}: apt-get install -y fonts-dejavu-core")

    class Doc(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font("DejaVu", "", 8)
            self.cell(0, 8, f"{meta['title'][:90]} — page {self.page_no()}/{{nb}}",
                      align="C")

    pdf = Doc(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("DejaVu", "", str(FONT_REGULAR))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.set_title(meta["title"])
    pdf.set_lang(meta.get("language", "fr"))
    pdf.set_creator("tools/make_corpus_files.py")
    pdf.set_creation_date(dt.datetime.fromisoformat(str(meta["date"])).replace(
        tzinfo=dt.timezone.utc))
    pdf.alias_nb_pages()
    pdf.add_page()

    sizes = {1: 16, 2: 13, 3: 11.5}
    for b in blocks:
        if b.kind == "heading":
            pdf.ln(3 if b.level > 1 else 0)
            pdf.set_font("DejaVu", "B", sizes[b.level])
            pdf.multi_cell(0, sizes[b.level] * 0.55, b.text, align="L", new_x="LMARGIN",
                           new_y="NEXT")
            pdf.ln(2)
        elif b.kind == "para":
            pdf.set_font("DejaVu", "", 10.5)
            pdf.multi_cell(0, 5.6, b.text, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif b.kind in ("bullets", "numbers"):
            pdf.set_font("DejaVu", "", 10.5)
            for i, it in enumerate(b.items, 1):
                mark = "•" if b.kind == "bullets" else f"{i}."
                pdf.set_x(pdf.l_margin + 3)
                pdf.cell(7, 5.6, mark)
                pdf.multi_cell(0, 5.6, it, align="L", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(0.8)
            pdf.ln(1.5)
        elif b.kind == "table":
            pdf.set_font("DejaVu", "", 9)
            ncols = max(len(r) for r in b.items)
            widths = _col_widths(b.items, ncols)
            with pdf.table(col_widths=widths, line_height=4.8,
                           headings_style=FontFace(emphasis="BOLD"),
                           text_align="LEFT") as table:
                for row in b.items:
                    r = table.row()
                    for j in range(ncols):
                        r.cell(row[j] if j < len(row) else "")
            pdf.ln(3)
        elif b.kind == "pagebreak":
            pdf.add_page()
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))


def _col_widths(rows, ncols):
    """Relative column widths from the longest cell of each column."""
    widths = []
    for j in range(ncols):
        cells = [r[j] if j < len(r) else "" for r in rows]
        longest_word = max((len(w) for c in cells for w in c.split()), default=4)
        longest_cell = max(len(c) for c in cells)
        widths.append(max(longest_word * 1.25 + 2, min(50, longest_cell)))
    return tuple(widths)


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------
def write_sidecar(meta: dict, out: Path) -> None:
    clean = {k: meta[k] for k in META_KEYS if k in meta}
    clean["date"] = str(clean["date"])
    side = out.with_name(out.name + ".meta.yaml")
    side.write_text(yaml.safe_dump(clean, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")


def build_all() -> list[Path]:
    outputs = []
    for src in sorted(SRC_DIR.glob("*.md")):
        meta, body = split_front_matter(src.read_text(encoding="utf-8"))
        out = ROOT / meta["output"]
        blocks = parse_body(body)
        if out.suffix == ".pdf":
            build_pdf(meta, blocks, out)
        elif out.suffix == ".docx":
            build_docx(meta, blocks, out)
        else:
            raise ValueError(f"{src}: unsupported output {out}")
        write_sidecar(meta, out)
        outputs.append(out)
        print(f"wrote {out.relative_to(ROOT)}")
    return outputs


def extract_text(path: Path) -> str:
    if path.suffix == ".pdf":
        from pypdf import PdfReader
        return "\n".join(p.extract_text() or "" for p in PdfReader(str(path)).pages)
    if path.suffix == ".docx":
        import docx
        d = docx.Document(str(path))
        parts = [p.text for p in d.paragraphs]
        for t in d.tables:
            for row in t.rows:
                parts.append(" | ".join(c.text for c in row.cells))
        return "\n".join(parts)
    raise ValueError(path)


def verify(outputs: list[Path]) -> int:
    errors = 0
    accents = set("éèàçïə")
    seen = set()
    for out in outputs:
        text = extract_text(out)
        seen |= accents & set(text)
        if "\ufffd" in text:
            print(f"FAIL {out.name}: replacement characters in extracted text")
            errors += 1
        if out.suffix == ".pdf":
            from pypdf import PdfReader
            n = len(PdfReader(str(out)).pages)
            print(f"  {out.name}: {n} pages, {len(text)} chars, accents {sorted(accents & set(text))}")
            if n < 2:
                print(f"FAIL {out.name}: fewer than 2 pages")
                errors += 1
        else:
            import docx
            d = docx.Document(str(out))
            styles = {p.style.name for p in d.paragraphs if p.style.name.startswith("Heading")}
            print(f"  {out.name}: {len(text)} chars, heading styles {sorted(styles)}, "
                  f"{len(d.tables)} tables")
            if not {"Heading 1", "Heading 2"} <= styles:
                print(f"FAIL {out.name}: missing Heading 1/Heading 2 styles")
                errors += 1
        # every source paragraph must survive extraction (whitespace-insensitive)
        meta, body = split_front_matter(
            next(s for s in SRC_DIR.glob("*.md")
                 if out.as_posix().endswith(yaml.safe_load(
                     s.read_text(encoding="utf-8").split("\n---\n")[0][4:])["output"]))
            .read_text(encoding="utf-8"))
        flat = _norm(text)
        for b in parse_body(body):
            for piece in ([b.text] if b.kind in ("heading", "para") else
                          b.items if b.kind in ("bullets", "numbers") else []):
                if _norm(piece) not in flat:
                    print(f"FAIL {out.name}: text not extracted: {piece[:70]!r}")
                    errors += 1
    missing = accents - seen
    if missing:
        print(f"FAIL accents never extracted: {sorted(missing)}")
        errors += 1
    print("verify:", "OK" if not errors else f"{errors} error(s)")
    return errors


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", s)).strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--verify", action="store_true", help="check text extraction after building")
    args = ap.parse_args()
    outputs = build_all()
    return verify(outputs) if args.verify else 0


if __name__ == "__main__":
    sys.exit(main())
