"""The Thresholds page's one-screen loop, through AppTest: the charts follow the slider moved last
(unless pinned), the counts beside them are the class's own, every chart names its class, and
each slider carries its class's score strip."""

import base64
import re

import numpy as np

from apptest_support import BINARY, MULTICLASS, SPARSE, Core, charts, html_bodies, open_app
from thresholdlab.score_histogram import score_histogram


def strips(at) -> dict[str, str]:
    """Each score strip on the page, by the class its words name: an element under a lone
    slider, or a rule of the page's style drawing it under a listed slider (its counts in a
    comment before it)."""
    out = {}
    for node in at.get("html"):
        body = node.proto.body
        if 'class="tl-strip"' in body:
            out[re.search(r"Scores of (.+?):", body).group(1)] = body
        for name, counts, rule in re.findall(
                r"/\* Scores of (.+?): (.*?) \*/\n?(\.st-key-\S+ [^{]*::after \{[^}]*\})", body):
            out[name] = counts + " " + rule
    return out


def counts_table(at) -> str:
    bodies = [body for body in html_bodies(at) if 'class="tl-counts"' in body]
    assert len(bodies) == 1
    return bodies[0]


def chart_titles(at) -> list[str]:
    return [fig["layout"]["title"]["text"] for fig in charts(at).values()]


def test_the_charts_follow_the_slider_moved_last():
    at = open_app(MULTICLASS)
    classes = Core(MULTICLASS).classes
    assert at.session_state["selected_class"] == classes[0]
    at.slider(key="thr_2_slider").set_value(0.7).run()
    assert at.session_state["selected_class"] == classes[2]
    assert at.selectbox(key="thr_class").value == classes[2]
    assert all(classes[2] in title for title in chart_titles(at))
    assert f'data-class="{classes[2]}"' in counts_table(at)
    # the exact number box moves them too
    at.number_input(key="thr_1_number").set_value(0.61).run()
    assert at.session_state["selected_class"] == classes[1]
    assert not at.exception


def test_a_pinned_class_keeps_the_charts():
    at = open_app(MULTICLASS)
    classes = Core(MULTICLASS).classes
    at.selectbox(key="thr_class").select(classes[1]).run()
    at.toggle(key="thr_pin").set_value(True).run()
    at.slider(key="thr_2_slider").set_value(0.7).run()
    at.slider(key="thr_0_slider").set_value(0.6).run()
    assert at.session_state["selected_class"] == classes[1]
    assert all(classes[1] in title for title in chart_titles(at))
    np.testing.assert_array_equal(at.session_state["thresholds"], [0.6, 0.0, 0.7])
    at.toggle(key="thr_pin").set_value(False).run()
    at.slider(key="thr_2_slider").set_value(0.75).run()
    assert at.session_state["selected_class"] == classes[2]


def test_the_counts_beside_the_charts_are_the_class_row_and_column():
    at = open_app(MULTICLASS, t="0.6,0.5,0.55", mode="per_class", **{"class": "grignolino"})
    core = Core(MULTICLASS)
    report = core.evaluate([0.6, 0.5, 0.55])
    c = core.classes.index("grignolino")
    body = counts_table(at)
    cells = [int(v) for v in re.findall(r'<td(?: class="tl-hit")? data-value="(\d+)"', body)]
    matrix = report.counts.confusion
    k = len(core.classes)
    # three classes: all of them shown (the class first), then the abstentions of its row
    order = [c] + [j for j in np.argsort(-(matrix[c, :k] + matrix[:k, c]), kind="stable")
                   if j != c]
    assert cells == [*(matrix[c, j] for j in order), matrix[c, k], *(matrix[j, c] for j in order)]


def test_binary_counts_are_the_two_by_two():
    at = open_app(BINARY, t="0.42")
    report = Core(BINARY).evaluate([0.42])
    body = counts_table(at)
    cells = [int(v) for v in re.findall(r'data-value="(\d+)"', body)]
    c = report.counts
    assert cells == [c.tp[0], c.fn[0], c.fp[0], c.tn[0]]


def test_every_slider_carries_its_class_strip_with_its_counts():
    at = open_app(MULTICLASS)
    core = Core(MULTICLASS)
    shown = strips(at)
    assert sorted(shown) == sorted(core.classes)
    for c, name in enumerate(core.classes):
        hist = score_histogram(core.index.curve(c))
        body = shown[name]
        assert f'data-positives="{hist.positives.sum()}"' in body
        assert f'data-negatives="{hist.negatives.sum()}"' in body
        # argmax: nothing changes below the lowest top-class score, which is at least 1/K
        low = float(re.search(r'data-dead="0\.0-([0-9.e-]+)', body).group(1))
        assert low == hist.lowest >= 1 / 3
        svg = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", body).group(1)).decode()
        assert svg.startswith("<svg") and "url(#d)" in svg
        # its words are the slider's help
        assert f"Scores of {name}: {hist.positives.sum():,} rows" in at.slider(
            key=f"thr_{c}_slider").help


def test_many_classes_show_one_slider_and_its_strip():
    at = open_app(SPARSE)
    shown = strips(at)
    assert list(shown) == [at.session_state["selected_class"]]
    assert not at.exception


def test_on_the_wine_sample_the_strips_start_where_the_top_class_probabilities_do():
    """Nothing below the lowest top-class probability (0.433 on this sample) changes a
    decision; the strips grey out at least that much of every slider."""
    at = open_app(MULTICLASS)
    core = Core(MULTICLASS)
    lowest_top = float(core.pset.probabilities.max(axis=1).min())
    assert round(lowest_top, 3) == 0.433
    lows = [float(re.search(r'data-dead="0\.0-([0-9.e-]+)', body).group(1))
            for body in strips(at).values()]
    assert min(lows) == lowest_top and all(low >= lowest_top for low in lows)


def test_under_a_rule_where_thresholds_do_nothing_the_whole_strip_is_dead():
    at = open_app(MULTICLASS, rule="argmax", nopred="fallback_argmax")
    assert all(s.disabled for s in at.slider)
    bodies = strips(at).values()
    assert bodies and all('data-dead="0.0-1.0"' in body for body in bodies)
