"""The firm's look: a calm navy and teal Gradio theme, the stylesheet, icons and the citation-link script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
CSS_FILE = HERE / "style.css"
THUMBS_UP = str(HERE / "assets" / "thumbs-up.svg")
THUMBS_DOWN = str(HERE / "assets" / "thumbs-down.svg")
CITATION_JS_FILE = HERE / "assets" / "citation-links.js"
FAVICON = HERE / "assets" / "favicon.svg"
SANS = ["-apple-system", "BlinkMacSystemFont", "Segoe UI", "Helvetica Neue", "Arial", "sans-serif"]
MONO = ["SFMono-Regular", "Menlo", "Consolas", "monospace"]


def meridian_theme() -> Any:
    """Navy for structure, teal for accents, system fonts (nothing fetched from font CDNs)."""
    import gradio as gr

    navy = gr.themes.Color(c50="#f2f5fa", c100="#e1e8f2", c200="#c3d0e3", c300="#95abcb", c400="#6483ad",
                           c500="#416593", c600="#2f4f7a", c700="#233d63", c800="#1a2f4f", c900="#12223b",
                           c950="#0b1627", name="navy")
    theme = gr.themes.Base(primary_hue=navy, secondary_hue=gr.themes.colors.teal, neutral_hue=gr.themes.colors.slate,
                           font=SANS, font_mono=MONO, radius_size=gr.themes.sizes.radius_md)
    return theme.set(**_palette())


def _palette() -> dict[str, str]:
    """Theme variables: flat blocks inside white cards, quiet labels, navy buttons, teal focus."""
    return {
        "body_background_fill": "#f6f8fb", "body_text_color": "*neutral_800",
        "background_fill_primary": "white", "background_fill_secondary": "*neutral_50",
        "block_background_fill": "transparent", "block_border_width": "0px", "block_shadow": "none",
        "block_padding": "6px 4px", "block_label_background_fill": "transparent", "block_label_border_width": "0px",
        "block_label_text_color": "*neutral_600", "block_label_text_weight": "600", "block_label_text_size": "*text_sm",
        "block_title_text_color": "*neutral_700", "block_title_text_weight": "600", "block_title_text_size": "*text_sm",
        "block_info_text_color": "*neutral_500", "block_info_text_size": "*text_xs",
        "input_background_fill": "white", "input_border_color": "*neutral_300", "input_border_width": "1px",
        "input_border_color_focus": "*secondary_600", "input_shadow": "none",
        "input_shadow_focus": "0 0 0 3px rgba(13, 148, 136, 0.15)", "input_radius": "8px",
        "button_primary_background_fill": "*primary_800", "button_primary_background_fill_hover": "*primary_700",
        "button_primary_border_color": "*primary_800", "button_primary_text_color": "white",
        "button_secondary_background_fill": "white", "button_secondary_background_fill_hover": "*primary_50",
        "button_secondary_border_color": "*neutral_300", "button_secondary_text_color": "*primary_800",
        "button_large_radius": "8px", "button_small_radius": "8px", "button_medium_radius": "8px",
        "color_accent": "*secondary_600", "color_accent_soft": "*secondary_50", "link_text_color": "*secondary_700",
        "link_text_color_hover": "*secondary_800", "link_text_color_visited": "*secondary_700",
        "checkbox_background_color_selected": "*secondary_600", "checkbox_border_color_selected": "*secondary_600",
        "checkbox_border_color_focus": "*secondary_600", "checkbox_label_background_fill": "transparent",
        "checkbox_label_background_fill_selected": "*secondary_50", "checkbox_label_border_width": "0px",
        "checkbox_label_text_color_selected": "*secondary_800", "checkbox_label_shadow": "none",
        "layout_gap": "14px", "panel_background_fill": "transparent", "panel_border_width": "0px",
    }


def citation_links_js() -> str:
    """The script that turns a click on a citation number in the chat into an event for the server."""
    return CITATION_JS_FILE.read_text(encoding="utf-8")


def stylesheet() -> str:
    """The CSS that finishes the theme: header, cards, citations, sources panel."""
    return CSS_FILE.read_text(encoding="utf-8")
