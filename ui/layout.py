"""The page's layout: every component of the web app, with its texts registered for the language switch.

Only structure lives here: `app.py` connects the events to the handlers of `ui/handlers.py`.
"""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from ingest.load import SUPPORTED_SUFFIXES
from kb.schema import DOC_TYPES
from kb.vocabulary import STATUSES, code_label, status_label
from ui.i18n import LANGUAGES, Relabeler, t


def build_layout(tr: Relabeler) -> SimpleNamespace:
    """Create the components inside the current `gr.Blocks`; returns them by name."""
    with gr.Row(elem_id="page-header"):
        header = tr(gr.Markdown(f"# Passerelle\n{t('subtitle')}", elem_id="page-title"),
                    value=lambda l: f"# Passerelle\n{t('subtitle', l)}")
        lang = gr.Radio(LANGUAGES, value="fr", show_label=False, container=False, elem_id="ui-language")
    with gr.Row(elem_id="session-row"):
        status = gr.Markdown(elem_id="session-status")
        # Gradio's own /logout route ends the session and comes back to the login page.
        sign_out = gr.Button(t("sign_out"), link="logout", visible=False, size="sm", scale=0, elem_id="sign-out")
    with gr.Tabs(elem_id="tabs") as tabs:
        with tr(gr.Tab(t("tab_chat"), id="chat"), label="tab_chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = tr(gr.Chatbot(label=t("chat_label"), placeholder=t("chat_placeholder"), height=460,
                                            elem_id="chat"), label="chat_label", placeholder="chat_placeholder")
                    question = tr(gr.Textbox(label=t("question_label"), placeholder=t("question_placeholder"), lines=1,
                                             max_lines=6, autofocus=True, elem_id="question"),
                                  label="question_label", placeholder="question_placeholder")
                    with gr.Row():
                        send = tr(gr.Button(t("send"), variant="primary", elem_id="send"), value="send")
                        clear = tr(gr.Button(t("clear")), value="clear")
                    suggested = tr(gr.Dataset(components=[question], samples=[], label=t("suggested"), elem_id="suggested"),
                                   label="suggested")
                    with tr(gr.Accordion(t("filters"), open=False), label="filters"):
                        doc_type = tr(gr.Dropdown(_choices("doc_type", DOC_TYPES, "fr"), value="", label=t("doc_type")),
                                      label="doc_type", choices=lambda l: _choices("doc_type", DOC_TYPES, l))
                        with gr.Row():
                            since = tr(gr.Textbox(label=t("since"), max_lines=1), label="since")
                            until = tr(gr.Textbox(label=t("until"), max_lines=1), label="until")
                        doc_language = tr(gr.Dropdown(_choices("language", ("fr", "en"), "fr"), value="",
                                                      label=t("doc_language")),
                                          label="doc_language", choices=lambda l: _choices("language", ("fr", "en"), l))
                    with gr.Row():
                        remark = tr(gr.Textbox(label=t("comment_label"), placeholder=t("comment_placeholder"), scale=3),
                                    label="comment_label", placeholder="comment_placeholder")
                        remark_send = tr(gr.Button(t("comment_send"), scale=1), value="comment_send")
                    feedback_note = gr.Markdown()
                with gr.Column(scale=2):
                    cards = gr.HTML(f"<div class='src-empty'>{t('sources_empty')}</div>", elem_id="source-cards")
        with tr(gr.Tab(t("tab_onboarding"), id="onboarding"), label="tab_onboarding"):
            starters = tr(gr.Dataset(components=[question], samples=[], label=t("starters"), elem_id="starters"),
                          label="starters")
            onboarding = gr.HTML(elem_id="onboarding")
        with tr(gr.Tab(t("tab_documents"), id="documents"), label="tab_documents"):
            doc_summary = gr.Markdown()
            # Widths in pixels: the title column no longer pushes the others out of a desktop's view;
            # on a phone the table scrolls sideways inside its own box.
            doc_table = gr.Dataframe(interactive=False, wrap=True, elem_id="documents", max_height=600,
                                     column_widths=["340px", "170px", "110px", "150px", "90px", "280px"])
            with gr.Group() as upload_box:
                files = tr(gr.File(label=t("upload_label"), file_count="multiple", elem_id="upload",
                                file_types=list(SUPPORTED_SUFFIXES)), label="upload_label")
                upload_button = tr(gr.Button(t("upload_button")), value="upload_button")
                upload_result = gr.HTML()
            upload_off = tr(gr.Markdown(t("upload_off")), value="upload_off")
        with tr(gr.Tab(t("tab_roadmap"), id="roadmap"), label="tab_roadmap"):
            with gr.Row():
                owner = tr(gr.Dropdown([("—", "")], value="", label=t("owner"), allow_custom_value=True), label="owner")
                commission = tr(gr.Dropdown([("—", "")], value="", label=t("commission")), label="commission")
                status_filter = tr(gr.Dropdown([("—", "")] + [(status_label(s, "fr"), s) for s in STATUSES], value="",
                                               label=t("status")), label="status",
                                   choices=lambda l: [("—", "")] + [(status_label(s, l), s) for s in STATUSES])
                after = tr(gr.Textbox(label=t("deadline_after"), max_lines=1), label="deadline_after")
                before = tr(gr.Textbox(label=t("deadline_before"), max_lines=1), label="deadline_before")
            with gr.Row():
                apply = tr(gr.Button(t("apply"), variant="primary", elem_id="roadmap-apply"), value="apply")
                export = tr(gr.Button(t("export_csv"), elem_id="roadmap-export"), value="export_csv")
            export_file = tr(gr.File(label=t("export_file"), visible=False, elem_id="roadmap-csv"), label="export_file")
            # Plotly through gr.Plot: Gradio serves plotly.js itself, so the chart needs no outside host.
            timeline_chart = tr(gr.Plot(label=t("timeline"), show_label=False, visible=False,
                                        elem_id="roadmap-timeline"), label="timeline")
            roadmap_table = gr.HTML(elem_id="roadmap")
    return SimpleNamespace(**{k: v for k, v in locals().items() if k != "tr"})


def _choices(kind: str, codes, language: str) -> list[tuple[str, str]]:
    """A dropdown's choices: "—" for any, then each code under its label in `language`."""
    return [("—", "")] + [(code_label(kind, code, language), code) for code in codes]
