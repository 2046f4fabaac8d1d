"""Build the illustrative slide deck `talent-commission-work-programme.pdf` from the text below.

One slide per landscape page: a title and its bullets, set in DejaVu Sans so that accents and
dashes survive PDF text extraction. fpdf2 is a test-only tool (pinned in requirements-dev.txt).

    .venv/bin/python evals/make_newkinds_slides.py
"""

from __future__ import annotations

import datetime
from pathlib import Path

from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
OUTPUT = Path(__file__).resolve().parent / "data" / "newkinds" / "talent-commission-work-programme.pdf"
# A fixed creation date keeps the PDF byte-identical from one run to the next.
CREATED = datetime.datetime(2026, 6, 2, 9, 0, tzinfo=datetime.timezone.utc)

SLIDES: list[tuple[str, list[str]]] = [
    ("Joint commission on attracting and retaining talent", [
        "Work programme 2026–2027",
        "Presented to the co-chairs of the joint commissions on 2 June 2026",
        "Senegal–Azerbaijan digital cooperation programme · MCTN and IDDA",
    ]),
    ("Where we stand", [
        "Commission installed on 17 February 2026 with the four other joint commissions",
        "Azerbaijani co-chair appointed by IDDA on 28 May 2026: Nigar Huseynova, head of talent programmes at IDDA",
        "Senegalese co-chair: Aminata Fall, director of digital skills at the MCTN",
        "Six members, three per side; one meeting per quarter",
        "This work programme was submitted on 2 June 2026, the deadline set in Baku on 19 May",
    ]),
    ("Three deliverables", [
        "A study on the mobility and brain drain of digital talent: final report by 30 September 2026",
        "A proposal for 50 exchange scholarships for young engineers: to the joint steering committee in December 2026",
        "A network of the Senegalese digital diaspora: online platform to be launched in March 2027",
    ]),
    ("The talent study: method", [
        "Online survey of 1,500 Senegalese digital engineers and final-year students",
        "40 interviews with employers: administrations, operators, start-ups and banks",
        "Three focus groups with the diaspora, in Paris, Montreal and Dubai",
        "Carried out with the Université numérique Cheikh Hamidou Kane (UN-CHK)",
        "IDDA shares the questionnaire it used for its own 2024 talent survey in Azerbaijan",
    ]),
    ("The talent study: timeline", [
        "15 June 2026: questionnaire validated by the commission",
        "1 July – 31 August 2026: fieldwork (survey, interviews, focus groups)",
        "15 September 2026: draft report discussed at the commission's third meeting",
        "30 September 2026: final report sent to the coordination unit",
    ]),
    ("Exchange scholarships: the design we propose", [
        "50 scholarships in two cohorts of 25, the first in 2027 and the second in 2028",
        "For engineers aged 30 or under with at least one year of work experience",
        "Six-month placements in Azerbaijani public agencies and IDDA partner companies",
        "Each fellow commits to work in Senegal for at least two years after returning",
        "Selection by a joint panel of the MCTN and IDDA",
    ]),
    ("The digital diaspora network", [
        "Target: 300 registered members in the first year after launch",
        "Mentoring of GovTech start-ups by diaspora members, remotely",
        "A directory of short assignments open to diaspora experts in the administration",
        "One annual meeting in Dakar, alongside a programme event",
    ]),
    ("Risks and how we handle them", [
        "Low response rate to the survey: reminders through engineering schools and professional networks",
        "Scholarships are not funded in the 2026 tranche: to be raised in the 2027 budget talks",
        "Visa delays for placements in Baku: apply for e-visas at least one month before departure",
        "Brain drain made worse by the scholarships themselves: return commitment and follow-up of alumni",
    ]),
    ("What we ask of the co-chairs", [
        "Approve this work programme",
        "Support a budget of 18 million FCFA for the talent study, to be borne by the MCTN",
        "Put the scholarship proposal on the agenda of the steering committee in December 2026",
    ]),
    ("Next meetings of the commission", [
        "15 September 2026, in Dakar and online: draft study report",
        "8 December 2026, online: scholarship proposal before the steering committee",
        "Contact: the programme coordination unit, coordination.pcnsa@mctn.example",
    ]),
]


def build(output: Path = OUTPUT) -> Path:
    """Write the deck to `output`, one slide per page, and return the path."""
    pdf = FPDF(orientation="L", unit="mm", format=(142.9, 254.0))
    pdf.set_creation_date(CREATED)
    pdf.set_title("Joint commission on attracting and retaining talent: work programme 2026–2027")
    pdf.set_author("Programme coordination unit (MCTN)")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=False)
    for number, (title, bullets) in enumerate(SLIDES, start=1):
        pdf.add_page()
        pdf.set_fill_color(0, 84, 147)
        pdf.rect(0, 0, pdf.w, 24, style="F")
        pdf.set_text_color(255, 255, 255)
        pdf.set_font("DejaVu", "B", 22)
        pdf.set_xy(14, 7)
        pdf.cell(pdf.w - 28, 10, title)
        pdf.set_text_color(30, 30, 30)
        pdf.set_font("DejaVu", "", 15)
        pdf.set_y(34)
        for bullet in bullets:
            pdf.set_x(18)
            pdf.multi_cell(pdf.w - 36, 8, f"•  {bullet}", align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        pdf.set_font("DejaVu", "", 9)
        pdf.set_text_color(110, 110, 110)
        pdf.set_xy(14, pdf.h - 10)
        pdf.cell(pdf.w - 28, 5, f"Talent commission · work programme 2026–2027 · {number}/{len(SLIDES)}", align="R")
    pdf.output(str(output))
    return output


if __name__ == "__main__":
    print(build())
