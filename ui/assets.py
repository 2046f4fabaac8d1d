"""The page's own CSS and JavaScript (served inline: the app loads nothing from outside hosts)."""

CSS = """
.src-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 6px 0; }
.src-card.cited { border-left: 4px solid var(--color-accent); }
.src-card.flash { outline: 3px solid var(--color-accent); }
.src-title { font-weight: 600; }
.src-n { color: var(--color-accent); }
.src-meta, .muted { color: var(--body-text-color-subdued); font-size: 0.9em; }
.src-quote { margin: 6px 0 0 0; padding-left: 8px; border-left: 2px solid var(--border-color-primary); }
.src-quote mark { background: #fde68a; color: inherit; padding: 0 1px; }
a.cite { font-weight: 600; text-decoration: none; }
.outcome { display: inline-block; font-size: 0.85em; font-weight: 600; padding: 1px 8px; border-radius: 10px; }
.outcome-answered { background: #dcfce7; color: #166534; }
.outcome-to_check { background: #fef3c7; color: #92400e; }
.outcome-not_in_documents { background: #e5e7eb; color: #374151; }
table.glossary td, table.glossary th { padding: 4px 8px; vertical-align: top; }
ol.timeline .date { font-family: var(--font-mono); }
tr.late td { background: #fee2e2; }
details.src-earlier { margin-top: 10px; } details.src-earlier > summary { cursor: pointer; color: var(--body-text-color-subdued); }
.filter-error { color: #b91c1c; font-weight: 600; }
.roadmap-internal a.sign-in { font-weight: 600; }
#session-row { align-items: center; }
/* Wide tables scroll sideways inside their own box (a phone is narrower than their columns). */
.table-scroll { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; }
table.roadmap { min-width: 680px; }
.timeline-list { display: none; }
.timeline-list ol { padding-left: 1.6em; max-height: 60vh; overflow-y: auto; } .timeline-list li { margin: 4px 0; }
.timeline-list .date { font-family: var(--font-mono); }
/* Phone width: the title on one line, four short tabs without the overflow menu, the timeline as a list. */
@media (max-width: 640px) {
  #page-header { flex-direction: column; gap: 4px; }
  #page-title h1 { font-size: 1.7em; white-space: nowrap; margin-bottom: 2px; }
  /* Both the tabs and Gradio's hidden copies it measures to decide on its "•••" menu. */
  #tabs .tab-container button { padding: 6px 6px; font-size: 0.9em; min-width: 0; }
  #roadmap-timeline { display: none !important; }
  .timeline-list { display: block; }
  table.glossary { min-width: 520px; }
}
"""

# A citation [n] in an answer scrolls to its source card and flashes it; capture phase so
# the chat's own link handling (new tab) never sees the click.
JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest ? event.target.closest('a.cite') : null;
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const id = link.dataset.card || (link.getAttribute('href') || '').replace('#', '');
    const card = document.getElementById(id);
    if (!card) return;
    // An earlier answer's cards are folded under its question: unfold them first.
    for (let box = card.closest('details'); box; box = box.parentElement.closest('details')) box.open = true;
    card.scrollIntoView({behavior: 'smooth', block: 'center'});
    card.classList.add('flash');
    setTimeout(() => card.classList.remove('flash'), 1500);
  }, true);
  // The page opens in the language last chosen (French by default); the sign-in page (ui/login.py) too.
  let stored = null;
  try { stored = localStorage.getItem('passerelle-lang'); } catch (e) {}
  if (stored === 'en') {
    let tries = 0;
    const choose = () => {
      const input = document.querySelector('#ui-language input[value="en"]');
      if (input) { if (!input.checked) input.click(); } else if (tries++ < 50) setTimeout(choose, 100);
    };
    choose();
  }
  document.addEventListener('change', (event) => {
    if (event.target.closest && event.target.closest('#ui-language') && event.target.value) {
      try { localStorage.setItem('passerelle-lang', event.target.value); } catch (e) {}
    }
  }, true);
}
"""

# Gradio's own texts (the upload box's "Drop File Here", its buttons' names) follow the browser's
# language: before Gradio starts (ui.login puts this first in the page's <head>), the browser is said
# to speak the page's language, the one last chosen with the Français / English switch (French by
# default). They follow a switch at the next load.
HEAD = """
<script>
(() => {
  let lang = 'fr';
  try { lang = localStorage.getItem('passerelle-lang') === 'en' ? 'en' : 'fr'; } catch (e) {}
  try {
    Object.defineProperty(Navigator.prototype, 'language', {get: () => lang, configurable: true});
    Object.defineProperty(Navigator.prototype, 'languages', {get: () => [lang], configurable: true});
  } catch (e) {}
})();
</script>
"""
