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
    card.scrollIntoView({behavior: 'smooth', block: 'center'});
    card.classList.add('flash');
    setTimeout(() => card.classList.remove('flash'), 1500);
  }, true);
}
"""
