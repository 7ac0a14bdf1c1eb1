"""The Thresholds page's one-screen layout: the look that puts a slider, its class's charts and
counts, and the headline numbers in one view from 1366 x 768 up, and that stacks the panels and
wraps the tiles (never cutting them) on narrow screens.

The page draws a keyed container per region and this style places them: ``thr_head`` (title,
mode, popovers), ``thr_tiles`` (headline numbers), ``thr_panels`` holding ``thr_controls``
(class picker, sliders with their score strips) beside ``thr_view`` (the class's counts and
the live charts). Tiles, notes and the table are HTML blocks (``tl-tiles``, ``tl-note``,
``tl-metrics``) that a move updates in place. The Confusion page puts its sliders beside its
matrices the same way (:func:`panels_style`).
"""

import streamlit as st

CHART_HEIGHT = 300  # px: two charts and the counts fit beside the sliders at 768 px high

STRIP_NOTE = (
    "Under each slider, the class's scores: its own rows in green above the line, the other "
    "rows in grey below. Hatched: thresholds there change nothing (at or below the lowest "
    "score every row passes; above the highest, none does)."
)

def panels(prefix: str):
    """(controls, view): the two containers :func:`panels_style` sets side by side, in a
    ``<prefix>_panels`` row drawn where this is called."""
    with st.container(key=f"{prefix}_panels", horizontal=True, gap="medium"):
        return st.container(key=f"{prefix}_controls"), st.container(key=f"{prefix}_view")


COMPACT_PAGE = """
/* Less page padding: the loop has to fit 768 px. */
[data-testid="stMainBlockContainer"] {padding: 3.6rem 1.5rem 4rem 1.5rem;}
"""


def panels_style(prefix: str) -> str:
    """Sliders beside what they move: ``<prefix>_controls`` (the slider list
    ``<prefix>_slider_list``, sliders drawn ``unboxed``) beside ``<prefix>_view`` in
    ``<prefix>_panels``, stacked when the two do not fit side by side. CSS rules, no tag."""
    return f"""
/* Sliders beside what they move; stacked when the two do not fit side by side. */
.st-key-{prefix}_panels > div:has(> .st-key-{prefix}_controls) {{
  flex: 1 1 18rem; min-width: min(18rem, 100%); max-width: 100%;}}
.st-key-{prefix}_panels > div:has(> .st-key-{prefix}_view) {{
  flex: 2 1 37rem; min-width: min(37rem, 100%); max-width: 100%;}}
.st-key-{prefix}_controls [data-testid="stSliderTickBar"] {{display: none;}}
.st-key-{prefix}_class_row > div:has([data-testid="stSelectbox"]) {{flex: 1 1 9rem; min-width: 9rem;}}
.st-key-{prefix}_controls [data-testid="stNumberInputContainer"] button {{display: none;}}
/* Many sliders scroll inside their list, so what they move stays in view. The list holds each
   slider, its number box and its strip one after another (no row of columns per class): a
   grid puts the box beside the slider and the strip under the track; anything else in the
   list (a note, the "show all" switch) takes the whole width. */
.st-key-{prefix}_slider_list {{max-height: calc(100vh - 19rem); overflow-y: auto;
  overflow-x: hidden; padding-right: 0.4rem; display: grid !important;
  grid-template-columns: minmax(0, 1fr) 5.6rem; column-gap: 0.75rem; row-gap: 0.25rem;
  align-items: center;}}
.st-key-{prefix}_slider_list > * {{grid-column: 1 / -1; min-width: 0;}}
.st-key-{prefix}_slider_list > :has([data-testid="stSlider"]),
.st-key-{prefix}_slider_list > :has(.tl-strip) {{grid-column: 1;}}
.st-key-{prefix}_slider_list > :has([data-testid="stNumberInput"]) {{grid-column: 2;}}
.st-key-{prefix}_slider_list > :has(.tl-strip) {{margin-bottom: 0.5rem;}}
"""


STYLE = """<style>
""" + COMPACT_PAGE + """
.st-key-thr_head h1 {font-size: 1.75rem; padding: 0; margin: 0 1rem 0 0;}
.st-key-thr_head [data-testid="stHeadingWithActionElements"] {margin: 0;}
.st-key-thr_head > div:has(> .st-key-thr_scores_line) {flex: 1 1 14rem; min-width: 12rem;}
.st-key-thr_scores_line [data-testid="stCaptionContainer"] p {margin: 0; line-height: 1.3;}
/* Headline numbers: one compact row of tiles, wrapping rather than cutting. */
.tl-tiles {display: flex; flex-wrap: wrap; gap: 0.5rem;}
.tl-tile {flex: 1 1 6.8rem; min-width: 6.8rem; position: relative; padding: 0.35rem 0.6rem;
          border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem;}
.tl-tile:focus-visible {outline: 2px solid #ff4b4b; outline-offset: 1px;}
.tl-tile-label {font-size: 0.8rem; line-height: 1.15; cursor: help;}
.tl-tile-value {font-size: 1.35rem; line-height: 1.3; font-variant-numeric: tabular-nums;
                white-space: nowrap;}
.tl-tile-help {display: none; position: absolute; z-index: 20; top: calc(100% + 4px); left: 0;
               width: max(100%, 15rem); padding: 0.45rem 0.6rem; font-size: 0.8rem;
               line-height: 1.3; color: #fff; background: #31333f; border-radius: 0.4rem;}
.tl-tile:hover .tl-tile-help, .tl-tile:focus .tl-tile-help {display: block;}
/* Sentences beside the numbers, in the look of a caption. */
.tl-note {font-size: 0.875rem; opacity: 0.7; margin: 0.25rem 0 0.5rem 0;}
.tl-warnings {margin: 0.5rem 0; border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem;
               padding: 0.5rem 0.9rem;}
.tl-warnings summary {cursor: pointer;}
.tl-warnings ul {margin: 0.5rem 0 0 0;}
.tl-heading {font-size: 1.5rem; font-weight: 600; margin: 0.5rem 0 0.5rem 0; padding: 0;}
""" + panels_style("thr") + """/* auto-fill, not auto-fit: the first chart is drawn while it is alone in the grid, and must
   get the width it keeps once the others join it (plotly sizes a chart when it draws it). */
.st-key-thr_charts .tl-live-charts {grid-template-columns: repeat(auto-fill, minmax(290px, 1fr));
                                    gap: 0.75rem;}
.st-key-thr_charts .tl-live-chart {min-height: 300px;}
/* A class's score strip sits under its slider's track. */
.tl-strip {height: 26px; margin: -0.6rem 0.45rem 0 0.45rem; cursor: help;}
.tl-strip img {display: block; width: 100%; height: 100%;}
/* One class's confusion counts. */
.tl-counts {font-size: 0.85rem; font-variant-numeric: tabular-nums; overflow-x: auto;}
.tl-counts-title {font-weight: 600; color: #262730; margin-bottom: 0.15rem;}
.tl-counts table {border-collapse: collapse;}
.tl-counts th, .tl-counts td {padding: 0.1rem 0.55rem; border-bottom: 1px solid #e6eaf1;
                              text-align: right; white-space: nowrap;}
.tl-counts th {color: #808495; font-weight: 600;}
.tl-counts .tl-row-head {text-align: left; color: #808495; font-weight: 600;}
.tl-counts td.tl-hit {font-weight: 700; color: #262730;}
</style>"""
