"""AppTest helpers: open the app, read its tables and charts, and the core's own answers."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from thresholdlab.curves import CurveIndex
from thresholdlab.decisions import DecisionRule
from thresholdlab.loading import load
from thresholdlab.metrics import evaluate, ranking_metrics

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
SAMPLES = ROOT / "sample_data"
TIMEOUT = 30

# One sample per task type, and the many-labels one.
BINARY = "binary_breast_cancer"
MULTICLASS = "multiclass_wine_logits"
MULTILABEL = "multilabel_digits_10"
SPARSE = "multilabel_sparse_30_logits"
BY_TASK = {"binary": BINARY, "multiclass": MULTICLASS, "multilabel": MULTILABEL}


def open_app(sample: str | None = None, page: str | None = None, **query) -> AppTest:
    """The app after its first run, on ``sample`` (via the URL, as a shared link would)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if sample is not None:
        at.query_params["sample"] = sample
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


class Core:
    """What the core says about a sample file, computed directly (the tests' oracle)."""

    def __init__(self, stem: str, rule: str | None = None, no_prediction: str | None = None):
        self.pset = load(SAMPLES / f"{stem}.csv")
        self.rule = DecisionRule.default(self.pset.task, rule, no_prediction)
        self.index = CurveIndex.build(self.pset, self.rule)
        self.ranking = ranking_metrics(self.index)

    @property
    def classes(self):
        return self.pset.classes

    def evaluate(self, thresholds, beta: float = 1.0):
        return evaluate(self.index, np.asarray(thresholds, dtype=np.float64), beta=beta,
                        ranking=self.ranking)


def thresholds_in_state(at: AppTest) -> np.ndarray:
    return np.array(at.session_state["thresholds"], dtype=np.float64)


def table(at: AppTest, column: str = "F1"):
    """The first table on the page holding ``column``: a dataframe, or an HTML table read back
    from its cells' exact values (``data-value``)."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    for body in html_bodies(at):
        frame = html_table(body)
        if frame is not None and column in frame.columns:
            return frame
    raise AssertionError(f"no table with a {column!r} column")


def html_bodies(at: AppTest) -> list[str]:
    """Every piece of HTML on the page: ``st.html`` elements and the live component's blocks
    (the Thresholds page's tiles, counts and table), in page order within each kind."""
    bodies = [node.proto.body for node in at.get("html")]
    for node in at.get("bidi_component"):
        block = json.loads(node.proto.json).get("html")
        if block:
            bodies.append(block)
    return bodies


def html_table(body: str):
    """The first ``<table>`` of ``body`` as a DataFrame of its cells' ``data-value`` (numbers
    parsed back exactly), or None."""
    from html.parser import HTMLParser

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.head, self.rows, self._in_th = [], [], False

        def handle_starttag(self, tag, attrs):
            if tag == "th":
                self._in_th = True
                self.head.append("")
            elif tag == "tr":
                self.rows.append([])
            elif tag == "td":
                self.rows[-1].append(dict(attrs)["data-value"])

        def handle_endtag(self, tag):
            if tag == "th":
                self._in_th = False

        def handle_data(self, data):
            if self._in_th:
                self.head[-1] += data

    parser = Cells()
    parser.feed(body)
    rows = [r for r in parser.rows if r]
    if not parser.head:
        return None

    def value(text):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text

    return pd.DataFrame([[value(v) for v in r] for r in rows], columns=parser.head)


def captions(at: AppTest) -> list[str]:
    """Small print on the page: ``st.caption`` texts and the live blocks' notes (``tl-note``)."""
    notes = [html.unescape(text) for body in html_bodies(at)
             for text in re.findall(r'<p class="tl-note">(.*?)</p>', body, flags=re.S)]
    return [c.value for c in at.caption] + notes


def metric_values(at: AppTest) -> dict[str, str]:
    """Headline numbers by label: ``st.metric`` elements and the Thresholds page's tiles."""
    shown = {m.label: m.value for m in at.metric}
    for body in html_bodies(at):
        for label, value in re.findall(
            r'<div class="tl-tile-label">(.*?)</div><div class="tl-tile-value">(.*?)</div>', body
        ):
            shown[html.unescape(label)] = html.unescape(value)
    return shown


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# The live charts' names, as the Thresholds page's plotly charts were keyed before.
LIVE_CHART_KEYS = {"pr": "thr_pr", "roc": "thr_roc", "rates": "thr_vs_threshold"}


def charts(at: AppTest) -> dict[str, dict]:
    """Plotly figures on the page, by element key, as plain dicts (typed arrays decoded).

    The live charts' figures are sent once per class, later runs send only the moved markers:
    when they are not in the last run, they are asked for again (one more run), and the
    markers of the run are put on them, as the browser does."""
    out = {}
    for node in at.get("plotly_chart"):
        key = node.proto.id.rsplit("-", 1)[-1]
        out[key] = _decode(json.loads(node.proto.spec))
    for node in at.get("bidi_component"):
        props = json.loads(node.proto.json)
        if not props.get("order"):
            continue  # an HTML block, no charts
        if not props.get("figures"):
            # Sent on an earlier run: ask again, as a freshly mounted chart in a browser does.
            at.session_state[f"{node.proto.id.rsplit('-', 1)[-1]}__curves_sent"] = None
            at.run()
            return charts(at)
        for name, move in props["moves"].items():
            fig = _decode(json.loads(props["figures"][name]))
            relayout(fig["layout"], move)
            out[LIVE_CHART_KEYS.get(name, name)] = fig
    return out


_DTYPES = {"f4": np.float32, "f8": np.float64, "i1": np.int8, "i2": np.int16, "i4": np.int32,
           "u1": np.uint8, "u2": np.uint16, "u4": np.uint32, "i8": np.int64}


def _decode(node):
    if isinstance(node, dict):
        if "bdata" in node and "dtype" in node:
            arr = np.frombuffer(base64.b64decode(node["bdata"]), dtype=_DTYPES[node["dtype"]])
            if "shape" in node:
                shape = [int(s) for s in str(node["shape"]).split(",")]
                arr = arr.reshape(shape)
            return arr
        return {k: _decode(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_decode(v) for v in node]
    return node


def relayout(layout: dict, keys: dict) -> None:
    """Apply ``Plotly.relayout`` keys of array items (``"shapes[1].xanchor"``) to a layout."""
    for key, value in keys.items():
        match = re.fullmatch(r"(\w+)\[(\d+)\]\.(\w+)", key)
        assert match, key
        layout[match[1]][int(match[2])][match[3]] = value


def trace(figure: dict, name: str) -> dict:
    """A marker called ``name`` drawn as a layout shape (the live charts' operating points,
    whose trace of that name is only their legend entry), as ``{"x": [x], "y": [y]}`` at its
    anchor; else the trace called ``name``."""
    for shape in figure["layout"].get("shapes", ()):
        if shape.get("name") == name:
            return {"x": [shape["xanchor"]], "y": [shape["yanchor"]]}
    for t in figure["data"]:
        if t.get("name") == name:
            return t
    raise AssertionError(f"no trace named {name!r}")


def upload(at: AppTest, key: str, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader(key=key).set_value((name, data, mime))
    return at.run()


def widget_keys(at: AppTest) -> set[str]:
    """The keys of every keyed element drawn in the last run (sidebar included)."""
    keys: set[str] = set()
    stack = [at._tree]
    while stack:
        node = stack.pop()
        if getattr(node, "key", None):
            keys.add(node.key)
        stack.extend(getattr(node, "children", {}).values())
    return keys
