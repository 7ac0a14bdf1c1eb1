"""``optimize``, ``evaluate`` and ``apply`` on a sketch file take every rule a prediction file
takes: counted where the bins tell each row's decision (scikit-learn's numbers on the rows),
else exit 2 with the core's one sentence."""

import json

import numpy as np
import pytest
from sklearn.metrics import multilabel_confusion_matrix

from thresholdlab.cli import main
from thresholdlab.config import ThresholdConfig
from thresholdlab.decisions import DecisionRule, decide
from thresholdlab.predictions import DataError
from thresholdlab.sketch import Sketch, SketchIndex
from thresholdlab.synthetic import random_predictions

N_BINS = 20
MULTICLASS = random_predictions("multiclass", 600, 3, seed=1)
LABELS = random_predictions("multilabel", 600, 3, seed=1)


@pytest.fixture
def files(tmp_path):
    paths = {}
    for task, predictions in (("multiclass", MULTICLASS), ("multilabel", LABELS)):
        paths[task] = tmp_path / f"{task}-sketch.parquet"
        Sketch.from_predictions(predictions, N_BINS).save(paths[task])
    return paths


def sklearn_counts(predictions, thresholds, rule):
    """(K, 2, 2) one-vs-rest matrices of ``rule``'s row decisions, by scikit-learn."""
    chosen = decide(predictions.probabilities, np.asarray(thresholds), rule)
    if predictions.task == "multiclass":
        return multilabel_confusion_matrix(predictions.labels, chosen,
                                           labels=np.arange(predictions.n_classes))
    return multilabel_confusion_matrix(predictions.labels.astype(int), chosen.astype(int))


def core_sentence(predictions, rule, thresholds) -> str:
    index = SketchIndex.build(Sketch.from_predictions(predictions, N_BINS), rule)
    with pytest.raises(DataError) as e:
        index.counts_at(np.asarray(thresholds, dtype=np.float64))
    return str(e.value)


def config_with(path, tmp_path, thresholds, name="edited.json"):
    """The config at ``path`` with other thresholds (class order)."""
    doc = json.loads(path.read_text())
    doc["thresholds"] = dict(zip(doc["classes"], thresholds))
    out = tmp_path / name
    out.write_text(json.dumps(doc))
    return out


def evaluated(capsys, sketch, config) -> dict:
    capsys.readouterr()
    assert main(["evaluate", str(sketch), "--thresholds", str(config), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def assert_counts(report: dict, predictions, thresholds, rule):
    want = sklearn_counts(predictions, thresholds, rule)
    for c, name in enumerate(predictions.classes):
        row = report["per_class"][name]
        assert (row["tn"], row["fp"], row["fn"], row["tp"]) == tuple(want[c].ravel()), name


@pytest.mark.parametrize("option", ["abstain", "fallback_argmax"])
def test_threshold_argmax_on_a_sketch_is_counted_where_the_bins_tell_and_refused_elsewhere(
        option, files, tmp_path, capsys):
    sketch = files["multiclass"]
    out = tmp_path / "config.json"
    assert main(["optimize", str(sketch), "--objective", "precision>=0.7", "--rule",
                 "threshold_argmax", "--no-prediction", option, "-o", str(out)]) == 0
    config = ThresholdConfig.load(out)
    rule = DecisionRule("multiclass", "threshold_argmax", option)
    assert config.rule == rule
    assert_counts(evaluated(capsys, sketch, out), MULTICLASS,
                  config.thresholds_for(MULTICLASS.classes), rule)

    counted = config_with(out, tmp_path, [0.6, 0.7, 0.8], "counted.json")
    assert_counts(evaluated(capsys, sketch, counted), MULTICLASS, [0.6, 0.7, 0.8], rule)

    clashing = config_with(out, tmp_path, [0.1, 0.7, 0.8], "clashing.json")
    sentence = core_sentence(MULTICLASS, rule, [0.1, 0.7, 0.8])
    capsys.readouterr()
    assert main(["evaluate", str(sketch), "--thresholds", str(clashing)]) == 2
    assert capsys.readouterr().err == f"thresholdlab: error: {sentence}\n"

    # The optimiser's per-class F1 thresholds clash on this data: the same kind of sentence.
    assert main(["optimize", str(sketch), "--objective", "f1", "--rule", "threshold_argmax",
                 "--no-prediction", option, "-o", str(tmp_path / "f1.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("thresholdlab: error: A sketch cannot count the rule 'most probable "
                          "class passing its threshold' at these thresholds:")
    assert not (tmp_path / "f1.json").exists()


def test_at_least_one_on_a_sketch_is_counted_where_no_row_can_be_empty(files, tmp_path, capsys):
    sketch = files["multilabel"]
    rule = DecisionRule("multilabel", "threshold", "at_least_one")
    out = tmp_path / "config.json"
    assert main(["optimize", str(sketch), "--objective", "f1", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    doc["no_prediction"] = "at_least_one"
    out.write_text(json.dumps(doc))

    counted = config_with(out, tmp_path, [0.0, 0.5, 0.3], "counted.json")
    assert_counts(evaluated(capsys, sketch, counted), LABELS, [0.0, 0.5, 0.3], rule)

    refused = config_with(out, tmp_path, [0.5, 0.5, 0.3], "refused.json")
    sentence = core_sentence(LABELS, rule, [0.5, 0.5, 0.3])
    capsys.readouterr()
    assert main(["evaluate", str(sketch), "--thresholds", str(refused)]) == 2
    assert capsys.readouterr().err == f"thresholdlab: error: {sentence}\n"
    assert main(["optimize", str(sketch), "--objective", "f1", "--no-prediction", "at_least_one",
                 "-o", str(tmp_path / "f1.json")]) == 2
    assert capsys.readouterr().err == f"thresholdlab: error: {sentence}\n"


def test_apply_on_a_sketch_says_it_has_no_rows_whatever_the_rule(files, tmp_path, capsys):
    config = tmp_path / "config.json"
    assert main(["optimize", str(files["multiclass"]), "--objective", "precision>=0.7",
                 "--rule", "threshold_argmax", "-o", str(config)]) == 0
    capsys.readouterr()
    assert main(["apply", str(files["multiclass"]), "--thresholds", str(config),
                 "-o", str(tmp_path / "decisions.csv")]) == 2
    assert "is a sketch: it holds counts, not rows" in capsys.readouterr().err
