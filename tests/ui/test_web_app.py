"""The web app as officials live in it (issue 26): a phone's width, French throughout, no dead
clicks. A real server and Debian's chromium, as in tests/test_browser.py."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORDS
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, ask, browser  # noqa: F401 — fixture

pytestmark = [pytest.mark.server, pytest.mark.real_model]

PHONE = {"width": 390, "height": 844}
TABS = ("Discussion", "Accueil", "Documents", "Feuille de route")

# Elements wider than the viewport that are not inside a box that scrolls sideways (within the
# viewport): what a phone's user could never reach. Gradio's hidden copies (measuring) are skipped.
TOO_WIDE_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const inside = r => r.left >= -1 && r.right <= width + 1;
  const scrolled = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if ((o === 'auto' || o === 'scroll') && inside(p.getBoundingClientRect())) return true;
    }
    return false;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || inside(r)) continue;
    if (el.closest('[aria-hidden=true], .visually-hidden, .sr-only, #js-plotly-tester') || getComputedStyle(el).visibility === 'hidden') continue;
    if (scrolled(el)) continue;
    wide.push(`${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join('.')} `
              + `[${Math.round(r.left)}, ${Math.round(r.right)}] ${(el.innerText || '').slice(0, 40)}`);
  }
  return wide;
}
"""

# Raw codes and Gradio's English that a French page must never show (outside documents' own text).
RAW = re.compile(r"meeting_notes|\[(other|strategy|protocol|report)\]|\((reader|staff|official|admin)\)|"
                 r"\bLogin\b|\busername\b|Incorrect Credentials|Drop File Here|Click to Upload|\bError\b")
CODES = re.compile(r"\b(meeting_notes|other|strategy|protocol|internal|restricted|reader|staff|official)\b")


def new_page(browser, url: str, viewport: dict | None = None, user: str | None = None):
    """A page of the app in a fresh context (French, the default), signed in as `user` on our own form."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url, wait_until="domcontentloaded")
    if user is not None:
        sign_in(page, user)
    page.wait_for_selector("#question textarea")
    return page


def sign_in(page, user: str, password: str | None = None) -> None:
    page.wait_for_selector("form#signin")
    page.fill("#username", user)
    page.fill("#password", password or PASSWORDS[user])
    page.keyboard.press("Enter")


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    page.wait_for_timeout(800)  # the tab's content lays itself out


# ----- 1. phone width ------------------------------------------------------------------------------

def test_every_tab_is_usable_at_phone_width(browser, login_server, tmp_path) -> None:
    page = new_page(browser, login_server.url, PHONE, user="agent")
    title = page.locator("#page-title h1")
    assert title.inner_text() == "Passerelle"
    height = title.evaluate("h => h.getBoundingClientRect().height / parseFloat(getComputedStyle(h).lineHeight)")
    assert height < 1.5, "the title is on one line"
    for name in TABS:  # four short tabs side by side, none hidden behind Gradio's "•••" menu
        box = page.get_by_role("tab", name=name, exact=True).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], name
    ask(page, "Quand les protocoles d'accord ont-ils été signés ?")
    for n, name in enumerate(TABS):
        open_tab(page, name)
        if name == "Feuille de route":
            page.locator("#roadmap table.roadmap").wait_for()
        page.screenshot(path=str(tmp_path / f"phone-{n}-{name.split()[0].lower()}.png"), full_page=True)
        assert page.evaluate(TOO_WIDE_JS) == [], f"{name}: elements wider than the phone, outside a scrolling box"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], name

    # The roadmap's table scrolls inside its own box, to its last column; the timeline is a readable list.
    scroller = page.locator("#roadmap .table-scroll")
    assert scroller.evaluate("b => b.scrollWidth > b.clientWidth"), "the table is wider than the phone: it scrolls"
    scroller.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    last = page.locator("#roadmap table.roadmap th").last.bounding_box()
    assert 0 <= last["x"] and last["x"] + last["width"] <= PHONE["width"] + 1, "the Source column is reachable"
    assert not page.locator("#roadmap-timeline").is_visible(), "no 110-px chart at phone width"
    items = page.locator("#roadmap .timeline-list li")
    assert items.count() >= 5 and re.match(r"20\d\d-\d\d-\d\d ", items.first.inner_text())
    assert items.first.evaluate("li => parseFloat(getComputedStyle(li).fontSize)") >= 12
    # The documents table scrolls inside Gradio's own box, to its last column.
    open_tab(page, "Documents")
    viewport = page.locator("#documents .virtual-table-viewport").first
    assert viewport.evaluate("b => getComputedStyle(b).overflowX") in ("auto", "scroll")


# ----- 2. French throughout ------------------------------------------------------------------------

def test_the_sign_in_page_speaks_the_page_language_and_keeps_the_name(browser, login_server) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(login_server.url)
    sign_in(page, "officiel", "pas-le-bon")
    page.get_by_text("Nom d'utilisateur ou mot de passe incorrect", exact=False).wait_for()
    assert page.input_value("#username") == "officiel" and page.input_value("#password") == ""
    text = page.inner_text("body")
    assert "Mot de passe" in text and "Se connecter" in text and not RAW.search(text), text
    page.locator("nav a", has_text="English").click()
    assert page.inner_text("label[for=password]") == "Password"
    assert "Wrong user name or password" in page.inner_text("#error")
    # The choice is kept: the page opens in English, Gradio's own texts too.
    page.fill("#password", PASSWORDS["officiel"])
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Send", exact=True).wait_for()
    page.locator("#ui-language label", has_text="Français").click()
    page.get_by_role("button", name="Envoyer", exact=True).wait_for()
    page.locator("#sign-out").get_by_text("Se déconnecter").click()
    page.wait_for_selector("form#signin")
    assert page.inner_text("label[for=username]") == "Nom d'utilisateur", "the sign-in page follows the page"
    context.close()


def test_every_tab_in_french_shows_labels_not_codes(browser, login_server, tmp_path) -> None:
    page = new_page(browser, login_server.url, user="officiel")
    page.locator("#session-status").get_by_text("Connecté : officiel (responsable).").wait_for()
    ask(page, "Quand les protocoles d'accord ont-ils été signés ?")
    assert not CODES.search(page.locator("#source-cards .src-meta").first.inner_text())
    page.get_by_text("Filtres").click()
    page.get_by_label("Type de document").click()
    options = page.get_by_role("option").all_inner_texts()
    assert "compte rendu de réunion" in options and not any(CODES.search(o) for o in options), options
    page.keyboard.press("Escape")
    page.get_by_label("Langue des documents").click()
    assert {"français", "anglais"} <= set(page.get_by_role("option").all_inner_texts())
    page.keyboard.press("Escape")
    for name in TABS:
        open_tab(page, name)
        text = page.inner_text("body")
        assert not RAW.search(text), f"{name}: {RAW.search(text)[0]!r}"
        page.screenshot(path=str(tmp_path / f"fr-{name.split()[0].lower()}.png"), full_page=True)
    open_tab(page, "Accueil")
    headings = page.locator("#onboarding h3").all_inner_texts()
    assert "Compte rendu de réunion" in headings and not any(CODES.search(h) for h in headings), headings
    open_tab(page, "Documents")
    table = page.inner_text("#documents")
    assert "diffusion restreinte" in table and "tout public" in table and "interne" in table
    assert not re.search(r"\b(internal|restricted|meeting_notes|strategy)\b", table)
    open_tab(page, "Feuille de route")
    statuses = page.locator("#roadmap td .status").all_inner_texts()
    assert statuses and set(statuses) <= {"réalisé", "en cours", "prévu", "en retard", "statut inconnu"}

    # English throughout too, after the switch.
    page.locator("#ui-language label", has_text="English").click()
    page.locator("#session-status").get_by_text("Signed in: officiel (official).").wait_for()
    page.locator("#roadmap td .status", has_text=re.compile("^(done|late|planned|in progress)$")).first.wait_for()
    open_tab(page, "Documents")
    table = page.inner_text("#documents")
    assert "meeting notes" in table and "restricted" in table and "diffusion restreinte" not in table


def test_bad_dates_name_their_box_and_mark_nothing_else(browser, app_server) -> None:
    page = new_page(browser, app_server.url)
    page.get_by_text("Filtres").click()
    page.get_by_label("Depuis (AAAA-MM-JJ)").fill("01/01/2026")
    ask(page, "Quand les protocoles d'accord ont-ils été signés ?")
    reply = page.locator("#chat [data-testid='bot']").last.inner_text()
    assert "Depuis : 01/01/2026 n'est pas une date AAAA-MM-JJ" in reply
    assert page.input_value("#question textarea") == "Quand les protocoles d'accord ont-ils été signés ?", \
        "the question stays, to send again once the date is fixed"
    open_tab(page, "Feuille de route")
    page.get_by_label("Échéance à partir du (AAAA-MM-JJ)").fill("1er mars 2026")
    page.get_by_label("Échéance avant le (AAAA-MM-JJ)").fill("2026-06-30")
    page.click("#roadmap-apply")
    error = page.locator("#roadmap .filter-error")
    error.wait_for()
    assert error.inner_text().startswith("⚠️ Échéance à partir du : 1er mars 2026 n'est pas une date AAAA-MM-JJ")
    assert "2026-06-30" not in error.inner_text(), "only the wrong box is named"
    page.wait_for_timeout(500)
    assert not re.search(r"\b(Error|Erreur)\b", page.inner_text("body")), "no output is marked as an error"


# ----- 3. no dead clicks -------------------------------------------------------------------------------

def test_earlier_citations_still_open_their_cards_and_new_conversation_clears_filters(browser, app_server) -> None:
    page = new_page(browser, app_server.url)
    ask(page, "Quand les protocoles d'accord ont-ils été signés ?")
    ask(page, "Quels sont les quatre axes du New Deal technologique ?")
    first = page.locator("#chat [data-testid='bot']").first.locator("a.cite").first
    card_id = (first.get_attribute("data-card") or first.get_attribute("href") or "").lstrip("#")
    assert card_id.startswith("src-") and page.locator(f"#{card_id}").count() == 1
    assert not page.locator(f"#{card_id}").is_visible(), "an earlier answer's cards are folded"
    first.click()
    page.wait_for_selector(f"#{card_id}.flash")
    assert page.locator(f"#{card_id}").is_visible()

    page.get_by_text("Filtres").click()
    page.get_by_label("Depuis (AAAA-MM-JJ)").fill("2026-01-01")
    page.get_by_role("button", name="Nouvelle conversation").click()
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=bot]').length === 0")
    page.wait_for_function("() => [...document.querySelectorAll('input, textarea')].every(i => i.value !== '2026-01-01')")
    assert page.get_by_label("Depuis (AAAA-MM-JJ)").input_value() == "", "the filter is cleared"


def test_upload_empties_the_box_and_refreshes_the_roadmap(browser, app_server) -> None:
    page = new_page(browser, app_server.url)
    open_tab(page, "Feuille de route")
    notice = page.locator("#roadmap .roadmap-internal")
    notice.wait_for()
    assert "documents internes" in notice.inner_text() and "compte d'agent" in notice.inner_text()

    upload_dir = app_server.store.parent / "to-upload-roadmap"
    upload_dir.mkdir(exist_ok=True)
    plan = upload_dir / "plan-atelier-public.md"
    plan.write_text("---\ntitle: Plan public des ateliers cybersécurité\ndoc_type: strategy\ndate: 2026-04-02\n"
                    "access: public\nillustrative: true\n---\n# Plan des ateliers\n\n## Étapes, responsabilités et échéances\n\n"
                    "| N° | Étape | Responsable | Échéance |\n|---|---|---|---|\n"
                    "| 1 | Atelier de sensibilisation des directeurs | CEAC | 15 novembre 2026 |\n", encoding="utf-8")
    open_tab(page, "Documents")
    page.locator("#upload input[type=file]").set_input_files([str(plan)])
    page.get_by_role("button", name="Vérifier et ingérer").click()
    page.get_by_text("1 fichier(s) ingéré(s), 0 refusé(s).").wait_for()
    page.wait_for_function("() => !document.querySelector('#upload').innerText.includes('plan-atelier-public.md')")
    open_tab(page, "Feuille de route")
    page.locator("#roadmap table.roadmap", has_text="Atelier de sensibilisation des directeurs").wait_for()
