"""Plotly figure builders. They draw finished results (curves, reports, reliabilities) and
compute nothing but display transforms; pages hand the figures to ``st.plotly_chart`` with
``**OPTIONS``. The charts a slider moves are built from plain dicts, validated once.

Arrays go to plotly as float32 numpy arrays (base64 on the wire: about 10x smaller and faster
than lists), curves arrive already down-sampled, and grids use SVG ``Scatter`` traces, never
``Scattergl``: a browser allows only a handful of WebGL contexts per page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from thresholdlab.calibration import Reliability
from thresholdlab.curves import Curve
from thresholdlab.metrics import Report
from thresholdlab.ui.data import ThresholdSeries

CURVE = "#1f77b4"
POINT = "#d62728"
REFERENCE = "#9aa0a6"
PRECISION, RECALL, F1 = "#1f77b4", "#2ca02c", "#ff7f0e"
OPERATING_POINT = "operating point"  # the marker's name (a shape on the live charts)
CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}

# Streamlit's light look (font, greys, white background) as a small Plotly template with fixed
# margins; pages draw with ``theme=None`` (OPTIONS). Streamlit's own theme copies and rewrites
# every figure in the browser and turns on axis automargins, which make Plotly lay a chart out
# twice. That matters because Streamlit redraws a chart from scratch whenever its figure changes
# (the chart's element id hashes the figure); the Thresholds page's charts avoid that altogether
# (``live_charts`` moves their markers in place), the other pages' charts still redraw.
_INK, _MUTED, _GRID = "#262730", "#808495", "#e6eaf1"
_AXIS = {
    "gridcolor": _GRID, "linecolor": _GRID, "zeroline": False, "ticks": "",
    "tickfont": {"color": _MUTED}, "title": {"font": {"size": 14, "color": _MUTED}},
}
TEMPLATE = {"layout": {
    "font": {"family": '"Source Sans", sans-serif', "size": 12, "color": _MUTED},
    "title": {"x": 0.01, "xanchor": "left", "font": {"size": 15, "color": _INK, "weight": 600}},
    "margin": {"pad": 6},
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
    "xaxis": {**_AXIS, "showgrid": False},
    "yaxis": _AXIS,
    "legend": {"font": {"color": _INK}, "bgcolor": "rgba(255,255,255,0.75)"},
    "hoverlabel": {"bgcolor": "#ffffff", "bordercolor": "#dcd8d4", "font": {"color": _INK}},
    "hovermode": "closest",
    "colorway": [CURVE, F1, RECALL, POINT, "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"],
}}
OPTIONS = {"config": CONFIG, "theme": None}  # st.plotly_chart(fig, key=..., **OPTIONS)

# Every page: columns that hold charts wrap onto rows of their own once a chart would get
# narrower than 400 px (Streamlit stacks columns only below 640 px), so no chart is squeezed
# until its titles and ticks collide.
NARROW_SCREEN_STYLE = """<style>
/* The element that loads plotly.js ahead of the charts (live_charts.load_plotly_js). */
.st-key-plotly_ahead {display: none;}
[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stPlotlyChart"])
  {flex-wrap: wrap;}
[data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:has([data-testid="stPlotlyChart"])
  {flex: 1 1 400px !important; min-width: min(400px, 100%);}
/* A segmented control keeps all its options in view: its column does not shrink below them. */
[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stButtonGroup"])
  {flex-wrap: wrap;}
[data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:has([data-testid="stButtonGroup"])
  {min-width: fit-content;}
</style>"""


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


LEGEND_INSIDE = {
    "lower left": {"x": 0.02, "xanchor": "left", "y": 0.02, "yanchor": "bottom"},
    "lower right": {"x": 0.98, "xanchor": "right", "y": 0.02, "yanchor": "bottom"},
}


def _base_layout(title: str, height: int = 380, legend: str | None = None) -> dict:
    """Shared look; ``legend`` puts the legend inside the axes ("lower left"/"lower right"),
    else it sits under the chart."""
    if legend is None:
        legend_layout = {"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0}
        bottom = 84
    else:
        legend_layout = LEGEND_INSIDE[legend]
        bottom = 48
    return {
        "template": TEMPLATE,
        "title": {"text": title},
        "height": height,
        "margin": {"l": 60, "r": 12, "t": 48, "b": bottom},
        "legend": legend_layout,
    }


def _layout(fig: go.Figure, title: str, height: int = 380, legend: str | None = None):
    """:func:`_base_layout` on a figure built with plotly's helpers (subplots)."""
    fig.update_layout(_base_layout(title, height, legend))
    return fig


def _xy_figure(traces: list[dict], layout: dict, x: dict, y: dict) -> go.Figure:
    """A one-axes figure from plain dicts: validated once, no per-property update calls."""
    return go.Figure({"data": traces, "layout": {**layout, "xaxis": x, "yaxis": y}})


def _axis(title: str, lo: float, hi: float) -> dict:
    return {"title": {"text": title}, "range": [lo, hi]}


@dataclass(frozen=True)
class OperatingPoint:
    """Where class ``c`` sits at the current thresholds."""

    threshold: float
    precision: float
    recall: float
    fpr: float
    predicted: int
    support: int

    @classmethod
    def of(cls, report: Report, c: int) -> "OperatingPoint":
        m, counts = report.per_class, report.counts
        return cls(
            float(counts.thresholds[c]), float(m.precision[c]), float(m.recall[c]),
            float(m.fpr[c]), int(counts.predicted[c]), int(counts.support[c]),
        )


def _fmt(x: float | str | None) -> str:
    if isinstance(x, str):  # a placeholder, e.g. while the value is still being computed
        return x
    return "undefined" if x is None or not math.isfinite(x) else f"{x:.3f}"


def _point_hover(point: OperatingPoint) -> str:
    return (
        f"threshold {point.threshold:.4g}<br>precision {point.precision:.3f}<br>"
        f"recall {point.recall:.3f}<br>FPR {point.fpr:.3f}<br>"
        f"{point.predicted} predicted"
    )


# The moving markers are layout shapes, not traces. A moved trace makes plotly recompute and
# redraw every trace of its chart (some 1,700 DOM changes per key press on three charts); a
# shape moved with ``Plotly.relayout`` on its own keys is redrawn alone. Two things a trace
# had come back separately: hover, from an invisible annotation of the marker's size lying on
# it, and the legend entry, from an empty trace of the same name (a shape in the legend would
# make plotly redraw the whole chart on every relayout); the browser hides the marker's shape
# and annotation while that entry is switched off.
_HOVER_LABEL = {"bgcolor": "#ffffff", "bordercolor": "#dcd8d4", "font": {"color": _INK}}


def _marker_shape(color: str, size: float, outline: float, name: str | None = None) -> dict:
    """A round marker ``size`` pixels across, at a data point set by its anchors."""
    r = size / 2
    return {
        "type": "circle", "xref": "x", "yref": "y", "xsizemode": "pixel", "ysizemode": "pixel",
        "xanchor": 0.0, "yanchor": 0.0, "x0": -r, "x1": r, "y0": -r, "y1": r,
        "fillcolor": color, "line": {"color": "white", "width": outline}, "layer": "above",
        **({"name": name} if name else {}),
    }


def _hover_box(size: float, name: str | None = None) -> dict:
    return {
        "xref": "x", "yref": "y", "x": 0.0, "y": 0.0, "text": " ", "showarrow": False,
        "xanchor": "center", "yanchor": "middle", "width": size, "height": size,
        "bgcolor": "rgba(0,0,0,0)", "hovertext": "", "hoverlabel": _HOVER_LABEL,
        "captureevents": True, **({"name": name} if name else {}),
    }


def _legend_entry(name: str, color: str, size: float) -> dict:
    """An empty trace: the marker's entry in the legend, which switches it on and off."""
    return {
        "type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": name,
        "marker": {"size": size, "color": color, "line": {"width": 2, "color": "white"}},
        "hoverinfo": "skip",
    }


def _point_marker(layout: dict) -> dict:
    """The operating point's shape, hover box and legend entry on a one-marker chart."""
    layout.update(shapes=[_marker_shape(POINT, 13, 2, OPERATING_POINT)],
                  annotations=[_hover_box(13, OPERATING_POINT)])
    return _legend_entry(OPERATING_POINT, POINT, 13)


def _marker_moves(n: int, first_shape: int, x: float, y: float, hover: str | None) -> dict:
    """``Plotly.relayout`` keys that put marker ``n`` (shape ``first_shape + n``, and
    annotation ``n`` for its ``hover`` text, if any) at (x, y) exactly; an undefined coordinate
    hides it (JSON has no NaN)."""
    shown = math.isfinite(x) and math.isfinite(y)
    x, y = (float(x), float(y)) if shown else (0.0, 0.0)
    s, a = f"shapes[{first_shape + n}]", f"annotations[{n}]"
    moves = {f"{s}.xanchor": x, f"{s}.yanchor": y, f"{s}.visible": shown}
    if hover is not None:
        moves.update({f"{a}.x": x, f"{a}.y": y, f"{a}.hovertext": hover, f"{a}.visible": shown})
    return moves


def place(layout: dict, moves: dict) -> dict:
    """``layout`` with relayout keys (``"shapes[1].xanchor"``) applied, as plotly.js applies
    them: the figures are built with the same keys a move sends, so they cannot disagree."""
    for key, value in moves.items():
        target, *path = key.split(".")
        name, _, index = target.partition("[")
        node = layout[name][int(index[:-1])] if index else layout.setdefault(name, {})
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return layout


def _pr_moves(point: OperatingPoint) -> dict:
    return _marker_moves(0, 0, point.recall, point.precision, _point_hover(point))


def _roc_moves(point: OperatingPoint) -> dict:
    return _marker_moves(0, 0, point.fpr, point.recall, _point_hover(point))


def _rates_moves(point: OperatingPoint, f1: float) -> dict:
    # Shape 0 is the dashed threshold line, the markers follow it. They need no hover text of
    # their own: each sits on its curve, whose hover tells the same threshold and value.
    t = min(1.0, max(0.0, point.threshold))
    moves = {"shapes[0].x0": t, "shapes[0].x1": t}
    for n, value in enumerate((point.precision, point.recall, f1)):
        moves.update(_marker_moves(n, 1, t, value, None))
    return moves


def operating_point_moves(point: OperatingPoint, f1: float) -> dict[str, dict]:
    """What a threshold move changes on the PR, ROC and rates charts (``live_charts`` props):
    per chart, the ``Plotly.relayout`` keys of its markers at the exact values, and of the
    rates chart's threshold line."""
    return {"pr": _pr_moves(point), "roc": _roc_moves(point), "rates": _rates_moves(point, f1)}


def _line(x, y, name: str, color: str, **extra) -> dict:
    return {"type": "scatter", "x": _f32(x), "y": _f32(y), "mode": "lines", "name": name,
            "line": {"color": color, "width": 2}, **extra}


def _reference_line(x, y) -> dict:
    return _line(x, y, "one-vs-rest, all rows", REFERENCE, hoverinfo="skip",
                 line={"color": REFERENCE, "dash": "dot"})


def pr_figure(
    curve: Curve,
    point: OperatingPoint,
    *,
    name: str,
    average_precision: float | None,
    reference: Curve | None = None,
    height: int = 380,
) -> go.Figure:
    """Precision-recall curve of one class with the current operating point.

    ``reference``: for multi-class argmax, the one-vs-rest curve over every row (the one AP
    ranks), drawn faint behind the reachable curve.
    """
    traces = [] if reference is None else [_reference_line(reference.recall, reference.precision)]
    traces.append(_line(
        curve.recall, curve.precision,
        "reachable by its threshold" if reference is not None else "PR curve", CURVE,
        customdata=_f32(curve.thresholds),
        hovertemplate="threshold %{customdata:.4g}<br>recall %{x:.3f}<br>"
                      "precision %{y:.3f}<extra></extra>",
    ))
    layout = _base_layout(f"PR: {name} (AP {_fmt(average_precision)})", height,
                          legend="lower left")
    traces.append(_point_marker(layout))
    return _xy_figure(traces, place(layout, _pr_moves(point)),
                      _axis("Recall", 0, 1.02), _axis("Precision", 0, 1.05))


def roc_figure(
    curve: Curve,
    point: OperatingPoint,
    *,
    name: str,
    roc_auc: float | None,
    reference: Curve | None = None,
    height: int = 380,
) -> go.Figure:
    """ROC curve (FPR, TPR) of one class with the current operating point."""
    traces = [_line([0, 1], [0, 1], "chance", REFERENCE, hoverinfo="skip",
                    line={"color": REFERENCE, "width": 1, "dash": "dash"})]
    if reference is not None:
        traces.append(_reference_line(np.r_[0, reference.fpr], np.r_[0, reference.recall]))
    traces.append(_line(
        np.r_[0, curve.fpr], np.r_[0, curve.recall],
        "reachable by its threshold" if reference is not None else "ROC curve", CURVE,
        customdata=_f32(np.r_[np.nan, curve.thresholds]),
        hovertemplate="threshold %{customdata:.4g}<br>FPR %{x:.3f}<br>TPR %{y:.3f}<extra></extra>",
    ))
    layout = _base_layout(f"ROC: {name} (AUC {_fmt(roc_auc)})", height, legend="lower right")
    traces.append(_point_marker(layout))
    return _xy_figure(traces, place(layout, _roc_moves(point)),
                      _axis("False positive rate", -0.01, 1.01),
                      _axis("True positive rate (recall)", 0, 1.05))


def threshold_figure(series: ThresholdSeries, point: OperatingPoint, f1: float, *, name: str,
                     height: int = 380):
    """Precision, recall and F1 against the threshold, with the current threshold marked."""
    # Counts at a score hold down to the next lower score: steps, in descending order "hv".
    traces = [
        _line(series.thresholds, values, label, color, line_shape="hv",
              hovertemplate=f"threshold %{{x:.4g}}<br>{label} %{{y:.3f}}<extra></extra>")
        for values, label, color in (
            (series.precision, "precision", PRECISION),
            (series.recall, "recall", RECALL),
            (series.f1, "F1", F1),
        )
    ]
    layout = _base_layout(f"Rates vs threshold: {name}", height, legend="lower left")
    layout["shapes"] = [
        {"type": "line", "x0": 0.0, "x1": 0.0, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
         "line": {"color": POINT, "width": 1.5, "dash": "dash"}},
        *(_marker_shape(color, 9, 1.5) for color in (PRECISION, RECALL, F1)),
    ]
    return _xy_figure(traces, place(layout, _rates_moves(point, f1)),
                      _axis("Threshold (probability)", -0.01, 1.01), _axis("Value", 0, 1.05))


def _row_normalised(matrix: np.ndarray) -> np.ndarray:
    totals = matrix.sum(axis=1, keepdims=True).astype(np.float64)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


def confusion_figure(
    matrix: np.ndarray,
    rows: list[str],
    columns: list[str],
    *,
    normalise: bool,
    title: str,
) -> go.Figure:
    """Heatmap of a confusion matrix (true in rows, predicted in columns) with its numbers.

    ``normalise``: colour and label each cell by its share of the row (the class's recall on
    the diagonal); the counts stay in the hover text.
    """
    counts = np.asarray(matrix, dtype=np.int64)
    shares = _row_normalised(counts)
    z = shares if normalise else counts
    text = np.vectorize(lambda v: f"{v:.2f}")(shares) if normalise else counts.astype(str)
    fig = go.Figure(go.Heatmap(
        z=_f32(z), x=columns, y=rows, text=text, texttemplate="%{text}",
        customdata=counts, colorscale="Blues", showscale=False,
        zmin=0, zmax=1 if normalise else max(1, int(counts.max())),
        hovertemplate="true %{y}<br>predicted %{x}<br>%{customdata} rows<extra></extra>",
        xgap=2, ygap=2,
    ))
    # Class names of any length label the axes: let plotly fit the margins to them.
    fig.update_xaxes(title="Predicted", side="top", type="category", automargin=True)
    fig.update_yaxes(title="True", autorange="reversed", type="category", automargin=True)
    k = len(rows)
    height = min(900, 160 + 46 * k)
    fig.update_layout(template=TEMPLATE, height=height, title={"text": title},
                      margin={"l": 10, "r": 10, "t": 90, "b": 10})
    return fig


def multilabel_grid(report: Report, indices: list[int], *, normalise: bool) -> go.Figure:
    """A 2 x 2 matrix per label, [[TN, FP], [FN, TP]], in a grid (true in rows)."""
    counts = report.counts
    cols = min(5, max(1, len(indices)))
    rows = math.ceil(len(indices) / cols)
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=[report.classes[i] for i in indices],
        horizontal_spacing=0.04, vertical_spacing=min(0.12, 0.5 / max(rows, 1)),
    )
    for n, c in enumerate(indices):
        matrix = np.array([[counts.tn[c], counts.fp[c]], [counts.fn[c], counts.tp[c]]])
        shares = _row_normalised(matrix)
        text = [[f"{shares[i, j]:.2f}" if normalise else str(matrix[i, j]) for j in range(2)]
                for i in range(2)]
        fig.add_trace(go.Heatmap(
            z=_f32(shares), x=["pred 0", "pred 1"], y=["true 0", "true 1"], text=text,
            texttemplate="%{text}", customdata=matrix, coloraxis="coloraxis",
            hovertemplate=f"{report.classes[c]}<br>%{{y}}, %{{x}}: %{{customdata}} rows"
                          "<extra></extra>",
            xgap=2, ygap=2,
        ), row=n // cols + 1, col=n % cols + 1)
    fig.update_yaxes(autorange="reversed", type="category", showticklabels=False)
    fig.update_yaxes(showticklabels=True, col=1)  # "true 0 / true 1" once per row of the grid
    fig.update_xaxes(type="category")
    fig.update_layout(
        template=TEMPLATE,
        coloraxis={"colorscale": "Blues", "cmin": 0, "cmax": 1, "showscale": False},
        height=60 + 190 * rows, margin={"l": 50, "r": 10, "t": 40, "b": 30},
    )
    fig.update_annotations(font_size=12)
    return fig


def small_multiples(
    curves: list[Curve], points: list[OperatingPoint], names: list[str],
    average_precisions: list[float | None],
) -> go.Figure:
    """PR curves of many classes in a grid, each with its operating point (SVG traces)."""
    cols = min(5, len(curves))
    rows = math.ceil(len(curves) / cols)
    titles = [f"{n} (AP {_fmt(ap)})" for n, ap in zip(names, average_precisions)]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_xaxes=True,
                        shared_yaxes=True, horizontal_spacing=0.03,
                        vertical_spacing=min(0.1, 0.6 / max(rows, 1)))
    for n, (curve, point) in enumerate(zip(curves, points)):
        r, c = n // cols + 1, n % cols + 1
        fig.add_trace(go.Scatter(
            x=_f32(curve.recall), y=_f32(curve.precision), mode="lines", showlegend=False,
            line={"color": CURVE, "width": 1.5}, hoverinfo="skip",
        ), row=r, col=c)
        fig.add_trace(go.Scatter(
            x=_f32([point.recall]), y=_f32([point.precision]), mode="markers", showlegend=False,
            name=OPERATING_POINT, marker={"size": 8, "color": POINT},
            hovertemplate=f"{names[n]}<br>threshold {point.threshold:.4g}<br>precision "
                          f"{point.precision:.3f}<br>recall {point.recall:.3f}<extra></extra>",
        ), row=r, col=c)
    fig.update_xaxes(range=[0, 1.02])
    fig.update_yaxes(range=[0, 1.05])
    fig.update_layout(template=TEMPLATE, height=80 + 170 * rows,
                      margin={"l": 40, "r": 10, "t": 40, "b": 30})
    fig.update_annotations(font_size=11)
    return fig


def reliability_figure(rel: Reliability, threshold: float | None = None) -> go.Figure:
    """Reliability diagram (observed share against mean predicted probability per bin) above a
    bar chart of the rows in each bin; the class's threshold as a dashed line."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28],
                        vertical_spacing=0.05)
    fig.add_trace(go.Scatter(
        x=_f32([0, 1]), y=_f32([0, 1]), mode="lines", name="perfectly calibrated",
        line={"color": REFERENCE, "dash": "dash", "width": 1}, hoverinfo="skip",
    ), row=1, col=1)
    keep = rel.nonempty
    fig.add_trace(go.Scatter(
        x=_f32(rel.mean_predicted[keep]), y=_f32(rel.observed[keep]), mode="lines+markers",
        name="observed share", line={"color": CURVE, "width": 2}, marker={"size": 8},
        customdata=rel.counts[keep],
        hovertemplate="mean predicted %{x:.3f}<br>observed %{y:.3f}<br>%{customdata} rows"
                      "<extra></extra>",
    ), row=1, col=1)
    centres = (rel.edges[:-1] + rel.edges[1:]) / 2
    fig.add_trace(go.Bar(
        x=_f32(centres), y=rel.counts, width=_f32(np.diff(rel.edges) * 0.9), name="rows per bin",
        marker={"color": REFERENCE}, text=rel.counts, textposition="outside",
        hovertemplate="bin %{x:.2f}<br>%{y} rows<extra></extra>", cliponaxis=False,
    ), row=2, col=1)
    if threshold is not None:
        fig.add_vline(x=min(1.0, max(0.0, threshold)),
                      line={"color": POINT, "width": 1.5, "dash": "dash"})
    fig.update_xaxes(range=[-0.01, 1.01])
    fig.update_xaxes(title="Predicted probability", row=2, col=1)
    fig.update_yaxes(title="Observed share", range=[-0.02, 1.05], row=1, col=1)
    fig.update_yaxes(title="Rows", row=2, col=1, range=[0, max(1, int(rel.counts.max())) * 1.3])
    return _layout(fig, f"Reliability: {rel.name} (ECE {_fmt(rel.ece)})", height=540)
