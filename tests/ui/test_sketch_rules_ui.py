"""Rules that weigh classes against each other, on a sketch in the dashboard: offered as for
rows, counted where the bins tell every row's decision (the numbers are scikit-learn's on the
rows), and elsewhere refused with the core's sentence while the thresholds and numbers stay."""

import json

import numpy as np
import pytest
from sklearn.metrics import multilabel_confusion_matrix, precision_recall_fscore_support

from apptest_support import MULTILABEL, SAMPLES, errors, open_app, table, upload
from thresholdlab.decisions import NO_PREDICTION, DecisionRule, decide
from thresholdlab.loading import load
from thresholdlab.predictions import DataError
from thresholdlab.sketch import Sketch, SketchIndex
from thresholdlab.synthetic import random_predictions
from thresholdlab.ui import export

N_BINS = 20  # edges every 0.05: every threshold below is an edge
MULTICLASS = random_predictions("multiclass", 600, 3, seed=1)
LABELS = random_predictions("multilabel", 600, 3, seed=1)
COUNTED = [0.6, 0.7, 0.8]  # softmax thresholds above 0.5: a sketch counts threshold_argmax
CLASHING = [0.1, 0.7, 0.8]  # class 0 passes rows it does not top: the bins cannot tell


def open_sketch(predictions, name="scores-sketch.parquet", at=None):
    at = at or open_app()
    upload(at, "upload_widget", name, Sketch.from_predictions(predictions, N_BINS).to_bytes(),
           "application/octet-stream")
    assert not at.exception and not errors(at), errors(at)
    assert at.session_state["dataset"].binned
    return at


def move(at, c: int, value: float, prefix: str = "thr"):
    at.slider(key=f"{prefix}_{c}_slider").set_value(value).run()
    assert not at.exception, at.exception
    return at


def choose(at, key: str, value: str):
    at.sidebar.selectbox(key=key).set_value(value).run()
    assert not at.exception, at.exception
    return at


def refusal(predictions, rule: DecisionRule, thresholds) -> str:
    """The core's own sentence for ``thresholds`` on the sketch (the test's precondition)."""
    index = SketchIndex.build(Sketch.from_predictions(predictions, N_BINS), rule)
    with pytest.raises(DataError) as e:
        index.counts_at(np.array(thresholds))
    return str(e.value)


def warnings(at) -> str:
    return " ".join(w.value for w in at.warning)


def thresholds(at) -> list[float]:
    return list(at.session_state["thresholds"])


def assert_table_is_sklearns(at, predictions, rule: DecisionRule, t):
    """The page's per-class counts and rates equal scikit-learn's on the rows' decisions."""
    chosen = decide(predictions.probabilities, np.array(t), rule)
    k = predictions.n_classes
    if predictions.task == "multiclass":
        truth = predictions.labels
        assert rule.no_prediction == "fallback_argmax" or np.any(chosen == NO_PREDICTION)
        matrices = multilabel_confusion_matrix(truth, chosen, labels=np.arange(k))
        precision, recall, f1, _ = precision_recall_fscore_support(
            truth, chosen, labels=np.arange(k), zero_division=0)
    else:
        truth = predictions.labels.astype(int)
        matrices = multilabel_confusion_matrix(truth, chosen.astype(int))
        precision, recall, f1, _ = precision_recall_fscore_support(
            truth, chosen.astype(int), zero_division=0)
    shown = table(at)
    assert list(shown["class"]) == list(predictions.classes)
    np.testing.assert_array_equal(shown["threshold"], t)
    np.testing.assert_array_equal(shown["TP"], matrices[:, 1, 1])
    np.testing.assert_array_equal(shown["FP"], matrices[:, 0, 1])
    np.testing.assert_array_equal(shown["FN"], matrices[:, 1, 0])
    np.testing.assert_array_equal(shown["TN"], matrices[:, 0, 0])
    for name, want in (("precision", precision), ("recall", recall), ("F1", f1)):
        np.testing.assert_allclose(shown[name].astype(float), want, rtol=0, atol=1e-12)


def at_counted_thresholds(option: str = "abstain"):
    """A multi-class sketch under threshold_argmax at ``COUNTED``, reached by the sliders under
    argmax and then the rule picker."""
    at = open_sketch(MULTICLASS)
    assert at.sidebar.selectbox(key="rule_widget").options == [
        "Argmax, if it passes its threshold", "Most probable class passing its threshold"]
    for c, value in enumerate(COUNTED):
        move(at, c, value)
    choose(at, "nopred_widget", option)
    choose(at, "rule_widget", "threshold_argmax")
    assert at.session_state["dataset"].rule == DecisionRule("multiclass", "threshold_argmax", option)
    assert not warnings(at) and not errors(at)
    return at


@pytest.mark.parametrize("option", ["abstain", "fallback_argmax"])
def test_multiclass_sketch_counts_threshold_argmax_as_sklearn_does_on_the_rows(option):
    at = at_counted_thresholds(option)
    rule = DecisionRule("multiclass", "threshold_argmax", option)
    assert_table_is_sklearns(at, MULTICLASS, rule, COUNTED)
    move(at, 2, 0.65)  # a move inside the counted region: taken, its counts the rows' again
    assert thresholds(at) == [0.6, 0.7, 0.65] and not warnings(at)
    assert_table_is_sklearns(at, MULTICLASS, rule, [0.6, 0.7, 0.65])
    assert "most probable class passing its threshold" in " ".join(
        c.value for c in at.sidebar.caption)


def test_a_move_the_sketch_cannot_count_is_not_taken_and_the_page_says_why():
    at = at_counted_thresholds()
    rule = at.session_state["dataset"].rule
    sentence = refusal(MULTICLASS, rule, CLASHING)
    before = table(at)
    move(at, 0, CLASHING[0])
    assert sentence in warnings(at)
    assert "Traceback" not in warnings(at) and not errors(at)
    assert thresholds(at) == COUNTED  # the user's previous thresholds, and their numbers
    assert at.slider(key="thr_0_slider").value == COUNTED[0]
    assert table(at).equals(before)
    at.run()  # a rerun the browser sends by itself: nothing changed, the sentence stays
    assert sentence in warnings(at) and thresholds(at) == COUNTED
    move(at, 0, 0.55)  # the next counted move is taken, and the sentence is gone
    assert thresholds(at) == [0.55, 0.7, 0.8] and not warnings(at)

    # The optimiser's thresholds, where the bins cannot tell them: its error, nothing moved.
    at.button(key="optimise_f1").click().run()
    assert not at.exception
    assert "A sketch cannot count" in " ".join(errors(at))
    assert thresholds(at) == [0.55, 0.7, 0.8]

    # A config with such thresholds is not restored: the core's sentence, naming the file.
    doc = json.loads(export.config_json(at.session_state["dataset"], np.array(COUNTED)))
    doc["thresholds"] = dict(zip(MULTICLASS.classes, CLASHING))
    with pytest.raises(DataError, match="were not restored") as e:
        export.restore(json.dumps(doc), "clash.json", at.session_state["dataset"])
    assert sentence in str(e.value)

    # The Confusion page's sliders refuse the same way.
    at.switch_page("pages/confusion.py").run()
    move(at, 0, CLASHING[0], prefix="cm")
    assert sentence in warnings(at) and not errors(at)
    assert thresholds(at) == [0.55, 0.7, 0.8]
    # The sentence is about a slider: pages without sliders do not repeat it.
    at.switch_page("pages/export.py").run()
    assert not warnings(at) and not errors(at)


def test_choosing_threshold_argmax_where_the_bins_cannot_tell_keeps_the_previous_rule():
    at = open_sketch(MULTICLASS)
    for c, value in enumerate(CLASHING):
        move(at, c, value)  # argmax counts any thresholds
    sentence = refusal(MULTICLASS, DecisionRule("multiclass", "threshold_argmax", "abstain"),
                        CLASHING)
    choose(at, "rule_widget", "threshold_argmax")
    shown = " ".join(w.value for w in at.sidebar.warning)
    assert f"{sentence} The previous decision rule stays." in shown
    assert at.session_state["dataset"].rule.rule == "argmax"
    assert at.sidebar.selectbox(key="rule_widget").value == "argmax"
    assert thresholds(at) == CLASHING
    at.run()
    assert sentence in " ".join(w.value for w in at.sidebar.warning)
    move(at, 0, 0.2)  # the thresholds move on: the sentence about the rule is gone
    assert not at.sidebar.warning


def test_multilabel_sketch_offers_at_least_one_where_no_row_can_be_empty():
    at = open_sketch(LABELS)
    assert at.sidebar.selectbox(key="nopred_widget").options == [
        "Predict every label that passes", "At least one label per row (top label)"]
    rule = DecisionRule("multilabel", "threshold", "at_least_one")
    # At 0.5 some rows may have no label passing, and the bins do not say which: refused.
    sentence = refusal(LABELS, rule, [0.5, 0.5, 0.5])
    choose(at, "nopred_widget", "at_least_one")
    assert f"{sentence} The previous decision rule stays." in " ".join(
        w.value for w in at.sidebar.warning)
    assert at.session_state["dataset"].rule.no_prediction == "none"

    # With one label's threshold passed by every row, no row is empty: counted, exactly.
    move(at, 0, 0.0)
    choose(at, "nopred_widget", "at_least_one")
    assert at.session_state["dataset"].rule == rule and not warnings(at)
    assert_table_is_sklearns(at, LABELS, rule, [0.0, 0.5, 0.5])
    move(at, 2, 0.3)
    assert_table_is_sklearns(at, LABELS, rule, [0.0, 0.5, 0.3])

    # Moving that label up empties rows the bins cannot name: not taken, the page says why.
    sentence = refusal(LABELS, rule, [0.5, 0.5, 0.3])
    move(at, 0, 0.5)
    assert sentence in warnings(at) and not errors(at)
    assert thresholds(at) == [0.0, 0.5, 0.3]
    assert_table_is_sklearns(at, LABELS, rule, [0.0, 0.5, 0.3])


def test_a_sketch_opened_under_a_rule_it_cannot_count_there_gets_the_default_rule():
    at = open_app(MULTILABEL)
    choose(at, "nopred_widget", "at_least_one")  # rows in memory: counted at any thresholds
    rows = load(SAMPLES / f"{MULTILABEL}.csv")
    open_sketch(rows, name="digits-sketch.parquet", at=at)  # same labels: thresholds kept
    dataset = at.session_state["dataset"]
    assert dataset.rule == DecisionRule("multilabel", "threshold", "none")
    shown = " ".join(w.value for w in at.sidebar.warning)
    assert "A sketch cannot count 'at least one label per row'" in shown
    assert "“Predict every label that passes” is used instead" in shown
    assert thresholds(at) == [0.5] * len(rows.classes)
