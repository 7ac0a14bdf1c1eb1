"""A thin strip under each threshold slider: where the class's scores lie (positives above the
line, negatives below) and, greyed and hatched, the ranges where moving the threshold changes
nothing.

The strip is a small SVG (shown as an image: the page's HTML sanitiser drops inline SVG) built
once per data set, rule and class (cached). Under a list of sliders it is drawn by the page's
style (:func:`strips_style`, sent once per page run, not with each move: every element a move
re-sends costs the browser a render of the page), and its words go to the slider's help; under
a lone slider whose class changes (many classes) it is an HTML element (:func:`strip`).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from thresholdlab.score_histogram import ScoreHistogram, rows_histogram, score_histogram
from thresholdlab.ui.data import Dataset

POSITIVE, NEGATIVE, DEAD = "#2ca02c", "#9aa0a6", "#808495"
WIDTH, HEIGHT = 400, 26  # viewBox units; the strip stretches to the slider's width


def _histogram(dataset: Dataset, c: int) -> ScoreHistogram:
    """Where the scores lie whose counts a move of t_c changes: the index's curve under a
    per-class rule; under the others (decisions of a class depend on every threshold) the
    class's scores over every row, since each row may pass or miss t_c, counted from the rows
    in one pass (a curve over every row would sort them)."""
    if dataset.rule.per_class or dataset.task != "multiclass":
        return score_histogram(dataset.index.curve(c))
    if dataset.binned:
        return score_histogram(dataset.index.one_vs_rest_curve(c))
    p = dataset.predictions
    return rows_histogram(p.probabilities[:, c], p.labels == c)


@dataclass(frozen=True)
class _Strip:
    histogram: ScoreHistogram
    image: str  # SVG data URL
    words: str  # what it shows, in a sentence or three


@st.cache_resource(max_entries=1024, show_spinner=False)
def _strip(dataset_key: str, c: int, _dataset: Dataset) -> _Strip:
    """Built once per data set, rule and class: a move re-sends the same text, computed once."""
    hist = _histogram(_dataset, c)
    if _dataset.rule.ignores_thresholds(len(_dataset.classes)):
        # Every row gets the same decision whatever the thresholds (the sliders say why).
        hist = replace(hist, lowest=None, highest=None)
    return _Strip(hist, _image(hist), _describe(hist, _dataset.classes[c]))


def strip(dataset: Dataset, c: int) -> str:
    """Class ``c``'s strip as HTML (cached per data set, rule and class)."""
    return _strip_element(_strip(dataset.key, c, dataset))


def description(dataset: Dataset, c: int) -> str:
    """Class ``c``'s strip in words: the counts it draws and where a threshold changes nothing."""
    return _strip(dataset.key, c, dataset).words


def strips_style(dataset: Dataset, slider_keys: dict[int, str]) -> str:
    """A ``<style>`` drawing class ``c``'s strip under the slider keyed ``slider_keys[c]``."""
    rules = []
    for c, key in slider_keys.items():
        drawn = _strip(dataset.key, c, dataset)
        # The counts and dead ranges drawn, exactly, for a reader of the page (and its tests).
        name = dataset.classes[c].replace("*/", "* /")
        rules.append(f"/* Scores of {name}: {_data_attributes(drawn.histogram)} */")
        rules.append(
            f'.st-key-{key} [data-testid="stSlider"]::after {{content: ""; display: block; '
            f'height: {HEIGHT}px; margin: -0.35rem 0.45rem 0 0.45rem; '
            f'background: url("{drawn.image}") 0 0 / 100% 100% no-repeat;}}'
        )
    return "<style>" + "\n".join(rules) + "</style>"


def _bars(counts: np.ndarray, scale: float, up: bool, colour: str) -> str:
    """One path of bars: each bin a rectangle from the middle line, up or down."""
    n = len(counts)
    width = WIDTH / n
    middle = HEIGHT / 2
    parts = []
    for j, count in enumerate(counts):
        if count <= 0:
            continue
        h = max(1.0, (middle - 1) * np.sqrt(count / scale))  # sqrt: a few rows stay visible
        x = j * width
        y = middle - h if up else middle
        parts.append(f"M{x + 0.4:.1f} {y:.1f}h{width - 0.8:.1f}v{h:.1f}h{-(width - 0.8):.1f}z")
    if not parts:
        return ""
    return f'<path d="{"".join(parts)}" fill="{colour}"/>'


def _describe(hist: ScoreHistogram, name: str) -> str:
    """The strip's tooltip: the counts it draws and the dead ranges, in words."""
    pos, neg = int(hist.positives.sum()), int(hist.negatives.sum())
    words = [f"Scores of {name}: {pos:,} rows of {name} (green, above), {neg:,} other rows "
             "(grey, below)."]
    for lo, hi in hist.dead_ranges:
        if (lo, hi) == (0.0, 1.0):
            words.append("The threshold changes nothing here.")
        elif lo == 0.0:
            words.append(f"At or below {hi:.3g} (the lowest score) every row passes: moving the "
                         "threshold there changes nothing.")
        else:
            words.append(f"Above {lo:.3g} (the highest score) no row passes: moving the "
                         "threshold there changes nothing.")
    return " ".join(words)


def _image(hist: ScoreHistogram) -> str:
    """The strip as an SVG data URL: mirrored histogram and hatched dead ranges."""
    scale = float(max(1, hist.positives.max(initial=0), hist.negatives.max(initial=0)))
    dead = "".join(
        f'<rect x="{lo * WIDTH:.1f}" y="0" width="{max(0.5, (hi - lo) * WIDTH):.1f}" '
        f'height="{HEIGHT}" fill="url(#d)"/>'
        for lo, hi in hist.dead_ranges
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'preserveAspectRatio="none">'
        '<defs><pattern id="d" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f0f2f6"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{DEAD}" stroke-width="1.2" '
        'stroke-opacity="0.45"/></pattern></defs>'
        f"{dead}"
        f'<line x1="0" y1="{HEIGHT / 2}" x2="{WIDTH}" y2="{HEIGHT / 2}" stroke="#e6eaf1" '
        'stroke-width="1"/>'
        f"{_bars(hist.positives, scale, True, POSITIVE)}"
        f"{_bars(hist.negatives, scale, False, NEGATIVE)}"
        "</svg>"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _strip_element(drawn: _Strip) -> str:
    """The strip of one class as an element: the image, its words as a tooltip."""
    # An image, not inline SVG: the page's HTML sanitiser drops inline SVG, and an image keeps
    # the strip out of the page's layout work.
    text = html.escape(drawn.words, quote=True)
    return (f'<div class="tl-strip" title="{text}" {_data_attributes(drawn.histogram)}>'
            f'<img alt="{text}" src="{drawn.image}"></div>')


def _data_attributes(hist: ScoreHistogram) -> str:
    ranges = " ".join(f"{lo!r}-{hi!r}" for lo, hi in hist.dead_ranges)
    return (f'data-dead="{ranges}" data-positives="{int(hist.positives.sum())}" '
            f'data-negatives="{int(hist.negatives.sum())}"')
