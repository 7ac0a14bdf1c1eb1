"""The live charts in a real browser: after key presses and a drag on a slider, the plotted
operating points, the table and the confusion matrix hold scikit-learn's exact numbers, a
zoomed chart keeps its zoom, a hidden trace stays hidden, and the page fetches nothing from
anywhere but its own server."""

import numpy as np
from playwright.sync_api import expect
from sklearn.metrics import confusion_matrix

from browser_support import (
    ROOT, exact_value, go_to, live_chart, open_page, operating_point, slider, wait_idle,
)
from thresholdlab.loading import load

SAMPLE = "multiclass_wine_logits"
NO_PREDICTION = -1


def sklearn_counts(thresholds):
    """Argmax, abstaining below the top class's threshold, counted by scikit-learn."""
    data = load(ROOT / "sample_data" / f"{SAMPLE}.csv")
    p, y = data.probabilities, data.labels
    top = np.argmax(p, axis=1)
    predicted = np.where(p[np.arange(len(top)), top] >= np.asarray(thresholds)[top], top,
                         NO_PREDICTION)
    k = data.n_classes
    matrix = confusion_matrix(y, predicted, labels=[*range(k), NO_PREDICTION])[:k]
    tp = np.diag(matrix[:, :k])
    fp = matrix[:, :k].sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    tn = len(y) - tp - fp - fn
    negatives = len(y) - matrix.sum(axis=1)
    return data.classes, matrix, tp, fp, fn, tn, negatives


def plotted(page, chart):
    return list(operating_point(page, chart))


def wait_for_marker(page, chart, x, y, visible=True):
    """Until the chart's marker is at (x, y) (the charts move after the script run), drawn or
    (``visible=False``) hidden with its hover box, as its legend entry is switched off."""
    page.wait_for_function(
        "([chart, x, y, visible]) => { const el = document.querySelector("
        "`.st-key-thr_charts [data-chart=${chart}]`);"
        " if (!el || !el._fullLayout) return false;"
        " const named = a => (a || []).find(d => d.name === 'operating point');"
        # what plotly draws; a hidden item keeps its position only in the input layout
        " const [s, a] = [named(el._fullLayout.shapes), named(el._fullLayout.annotations)];"
        " const at = visible ? [s, a] : [named(el.layout.shapes), named(el.layout.annotations)];"
        " return !!s && !!a && s.visible === visible && a.visible === visible"
        " && at[0].xanchor === x && at[0].yanchor === y && at[1].x === x && at[1].y === y; }",
        arg=[chart, x, y, visible],
    )


def axis_ranges(page, chart):
    return live_chart(page, chart).evaluate(
        "el => [el.layout.xaxis.range.slice(), el.layout.yaxis.range.slice()]"
    )


def drag_across(page, box, start, end):
    """A mouse drag inside ``box`` between two fractions of its width and height."""
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    for step in range(1, 6):
        f = step / 5
        page.mouse.move(box["x"] + box["width"] * (start[0] + (end[0] - start[0]) * f),
                        box["y"] + box["height"] * (start[1] + (end[1] - start[1]) * f))
    page.mouse.up()


def test_key_presses_and_a_drag_keep_exact_markers_zoom_and_the_network_local(page):
    foreign, requested = [], []
    page.on("request", lambda r: foreign.append(r.url)
            if not r.url.startswith((page.base_url, "data:", "blob:")) else None)
    page.on("request", lambda r: requested.append(r.url))
    open_page(page, query=f"?sample={SAMPLE}")
    expect(live_chart(page, "roc")).to_have_class("tl-live-chart js-plotly-plot")

    # zoom the ROC chart and hide a trace of the PR chart, as a user would with the mouse
    live_chart(page, "roc").scroll_into_view_if_needed()
    roc_area = live_chart(page, "roc").locator(".nsewdrag").first.bounding_box()
    drag_across(page, roc_area, (0.1, 0.1), (0.5, 0.6))
    page.wait_for_function(
        "() => document.querySelector('.st-key-thr_charts [data-chart=roc]')"
        ".layout.xaxis.autorange === false && document.querySelector("
        "'.st-key-thr_charts [data-chart=roc]').layout.xaxis.range[1] < 0.9"
    )
    zoom = axis_ranges(page, "roc")
    live_chart(page, "pr").locator(".legend .traces").first.locator(".legendtoggle").click()
    # plotly waits out a possible double click before it hides the trace
    page.wait_for_function("() => document.querySelector('.st-key-thr_charts [data-chart=pr]')"
                           ".data.some(t => t.visible === 'legendonly')")
    hidden = live_chart(page, "pr").evaluate(
        "el => el.data.findIndex(t => t.visible === 'legendonly')")
    assert hidden >= 0
    # and switch off the ROC chart's operating point in its legend: it stays off while it moves
    live_chart(page, "roc").locator(".legend .traces").filter(
        has_text="operating point").locator(".legendtoggle").click()
    page.wait_for_function(
        "() => document.querySelector('.st-key-thr_charts [data-chart=roc]')._fullLayout"
        ".shapes.some(s => s.name === 'operating point' && s.visible === false)")

    # several key presses, then a drag of the thumb along the track
    handle = slider(page, "thr_0_slider")
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    wait_idle(page)
    handle.press("PageUp")  # a bigger step
    wait_idle(page)
    after_keys = exact_value(page, "thr_0")
    assert 0.05 < after_keys < 0.5
    # the thumb is the positioned element holding the (visually hidden) range input
    thumb = page.locator(".st-key-thr_0_slider [data-rac]:has(> div > input[type=range])")
    box = thumb.bounding_box()
    track = thumb.locator("xpath=..").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    for f in (0.6, 0.7, 0.8, 0.87):
        page.mouse.move(track["x"] + track["width"] * f, y)
    page.mouse.up()
    wait_idle(page)

    thresholds = [exact_value(page, f"thr_{i}") for i in range(3)]
    assert thresholds[0] > max(0.5, after_keys)  # the drag ended far to the right
    classes, matrix, tp, fp, fn, tn, negatives = sklearn_counts(thresholds)

    # markers at the exact precision/recall (PR) and FPR/TPR (ROC) of the moved class
    support = tp + fn
    precision = tp[0] / (tp[0] + fp[0]) if tp[0] + fp[0] else 0.0
    recall, fpr = tp[0] / support[0], fp[0] / negatives[0]
    wait_for_marker(page, "pr", float(recall), float(precision))
    wait_for_marker(page, "roc", float(fpr), float(recall), visible=False)
    assert plotted(page, "pr") == [recall, precision]
    # switched on again, the ROC marker is drawn where the moves put it
    live_chart(page, "roc").locator(".legend .traces").filter(
        has_text="operating point").locator(".legendtoggle").click()
    wait_for_marker(page, "roc", float(fpr), float(recall))
    assert plotted(page, "roc") == [fpr, recall]
    # and the marker tells its values on hover (an invisible annotation lies on it)
    live_chart(page, "pr").locator(".annotation").first.hover()
    expect(live_chart(page, "pr").locator(".hoverlayer")).to_contain_text(
        f"precision {precision:.3f}")

    # zoom and the hidden trace survived every move
    assert axis_ranges(page, "roc") == zoom
    assert live_chart(page, "pr").evaluate(
        "(el, i) => el.data[i].visible", hidden) == "legendonly"

    # the table's counts, as text and as exact values, are scikit-learn's
    table = page.locator(".st-key-thr_table table")
    head = table.locator("th").all_inner_texts()
    for row in table.locator("tbody tr").all():
        cells = row.locator("td")
        values = dict(zip(head, cells.evaluate_all("tds => tds.map(t => t.dataset.value)")))
        texts = dict(zip(head, cells.all_inner_texts()))
        c = classes.index(values["class"])
        for column, expected in (("TP", tp), ("FP", fp), ("FN", fn), ("TN", tn)):
            assert int(values[column]) == expected[c], (values["class"], column)
            assert texts[column] == f"{expected[c]:,}"

    # the confusion matrix, on its own page, counts the same decisions
    go_to(page, "Confusion")
    heatmap = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").first
    expect(heatmap).to_be_attached()
    shown = heatmap.evaluate("el => el._fullData[0].customdata.map(r => Array.from(r))")
    np.testing.assert_array_equal(np.asarray(shown), matrix)

    # back on the Thresholds page the charts, mounted afresh, get their curves again
    go_to(page, "Thresholds")
    wait_for_marker(page, "pr", float(recall), float(precision))
    assert live_chart(page, "pr").evaluate("el => el.data.length") >= 3

    assert not page.get_by_test_id("stException").count()
    assert foreign == []
    # plotly.js came from the installed plotly package, served in place: no copy was written
    assert any(url.endswith("/thresholdlab.plotly_js/plotly.min.js") for url in requested)
    assert not (ROOT / "thresholdlab" / "ui" / "live_charts" / "plotly.min.js").exists()
