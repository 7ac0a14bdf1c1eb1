"""Threshold configs: export -> import identity, validation messages, apply()."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import jsonschema
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import thresholdlab.torch as tt
from thresholdlab import config as config_module
from thresholdlab.config import ConfigError, ThresholdConfig, apply, config_schema
from thresholdlab.decisions import NO_PREDICTION_OPTIONS, RULES, DecisionRule, decide
from thresholdlab.predictions import DataError, from_arrays, logit, sigmoid

COMBOS = [
    (task, rule, option)
    for task in RULES
    for rule in RULES[task]
    for option in NO_PREDICTION_OPTIONS[task]
]
ANY_RULE = ("threshold", "argmax", "threshold_argmax")
ANY_OPTION = ("abstain", "fallback_argmax", "at_least_one", "none")


def bits(x: float) -> str:
    """Exact identity of a float, sign of zero included."""
    return float(x).hex()


def good_doc(**changes) -> dict:
    """A valid multiclass config as a JSON document, with top-level keys replaced."""
    doc = {
        "schema_version": 1,
        "created_by": "thresholdlab 0.1.0",
        "created_at": "2025-01-02T03:04:05Z",
        "task": "multiclass",
        "classes": ["cat", "dog", "bird"],
        "score_kind": "logit",
        "activation": "softmax",
        "decision_rule": "argmax",
        "comparison": ">=",
        "no_prediction": "abstain",
        "thresholds": {"cat": 0.5, "dog": 0.25, "bird": 0.125},
        "objective": "f1",
        "metrics": {"macro": {"f1": 0.5, "average_precision": None}},
        "data": {"file": "val.csv", "sha256": "ab" * 32, "rows": 10},
    }
    doc.update(changes)
    return doc


def sigmoid_doc(**changes) -> dict:
    doc = good_doc(
        task="multilabel",
        activation="sigmoid",
        decision_rule="threshold",
        no_prediction="none",
        thresholds={"cat": 0.5, "dog": 0.25, "bird": 0.0},
        logit_thresholds={"cat": 0.0, "dog": float(logit(0.25)), "bird": None},
    )
    doc.update(changes)
    return doc


def load_text(text, source="x.json"):
    return ThresholdConfig.from_json(text, source=source)


# --------------------------------------------------------------------- export -> import identity
SPECIAL = [0.0, -0.0, 1.0, 0.5, 5e-324, 2.2250738585072014e-308, 0.1 + 0.2, float(np.nextafter(1.0, 0.0))]
threshold_values = st.one_of(st.sampled_from(SPECIAL), st.floats(min_value=0.0, max_value=1.0))
class_name = st.text(max_size=12) | st.sampled_from(['"', "'", "it's", 'a "b"', "\\", "a.b", "🐱", "\u2028"])
json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True),
)
metrics_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def configs(draw):
    task = draw(st.sampled_from(sorted(RULES)))
    k = {"binary": 1, "multiclass": draw(st.integers(2, 6)), "multilabel": draw(st.integers(1, 6))}[task]
    classes = draw(st.lists(class_name, min_size=k, max_size=k, unique=True))
    score_kind = draw(st.sampled_from(["probability", "logit"]))
    thresholds = {c: draw(threshold_values) for c in classes}
    logit_thresholds = None
    sigmoid_task = score_kind == "logit" and task != "multiclass"
    if sigmoid_task and draw(st.booleans()):
        # the optimiser's case: midpoints on the logits, the probability threshold their sigmoid
        logits = draw(st.lists(st.floats(-800, 800), min_size=k, max_size=k))
        logit_thresholds = dict(zip(classes, logits))
        thresholds = dict(zip(classes, sigmoid(np.array(logits)).tolist()))
    return ThresholdConfig(
        created_at=draw(st.sampled_from([None, "2025-06-01T12:00:00Z", "2025-06-01T12:00:00+00:00"])),
        created_by=draw(st.sampled_from([None, "thresholdlab 0.1.0"])),
        task=task,
        classes=tuple(classes),
        score_kind=score_kind,
        decision_rule=draw(st.sampled_from(RULES[task])),
        no_prediction=draw(st.sampled_from(NO_PREDICTION_OPTIONS[task])),
        thresholds=thresholds,
        logit_thresholds=logit_thresholds,
        objective=draw(st.sampled_from(["manual", "f1", "fbeta:2", "precision>=0.9", "cost:1:5"])),
        metrics=draw(st.dictionaries(st.text(max_size=5), metrics_values, max_size=4)),
        data=draw(st.none() | st.fixed_dictionaries(
            {"file": st.text(max_size=10), "sha256": st.sampled_from(["", "0f" * 32]),
             "rows": st.integers(0, 10**12)})),
    )


@settings(max_examples=300, deadline=None)
@given(configs())
def test_export_import_is_identity_bit_for_bit(cfg):
    text = cfg.to_json()
    back = ThresholdConfig.from_json(text)
    assert back == cfg
    assert back.to_json() == text
    assert list(back.thresholds) == list(cfg.classes)
    assert [bits(back.thresholds[c]) for c in cfg.classes] == [bits(cfg.thresholds[c]) for c in cfg.classes]
    if cfg.activation == "sigmoid":
        assert [bits(back.logit_thresholds[c]) for c in cfg.classes] == [
            bits(cfg.logit_thresholds[c]) for c in cfg.classes
        ]
    else:
        assert back.logit_thresholds is None and '"logit_thresholds"' not in text
    # the file is strict JSON: no NaN / Infinity tokens anywhere
    json.loads(text, parse_constant=lambda token: pytest.fail(f"{token} written to JSON"))
    assert back.thresholds_for(cfg.classes[::-1]).tolist() == [cfg.thresholds[c] for c in cfg.classes[::-1]]


def test_save_and_load_keep_unicode_names_and_floats(tmp_path):
    pset = from_arrays(np.zeros((3, 3)), [0, 1, 2], task="multiclass", classes=["chat 🐱", 'a "b"', "it's"])
    t = [0.1 + 0.2, 5e-324, 1.0]
    cfg = ThresholdConfig.from_choice(pset, t, DecisionRule.default("multiclass"))
    path = tmp_path / "thresholds.json"
    cfg.save(path)
    assert "chat 🐱" in path.read_text(encoding="utf-8")  # readable, not \\u-escaped
    back = ThresholdConfig.load(path)
    assert back == cfg
    assert [bits(v) for v in back.thresholds_for(pset.classes)] == [bits(v) for v in t]
    # the dashboard's upload hands bytes, possibly with a BOM
    assert ThresholdConfig.from_json(b"\xef\xbb\xbf" + path.read_bytes()) == cfg


def test_to_json_key_order_follows_spec():
    cfg = ThresholdConfig.from_json(json.dumps(sigmoid_doc()))
    assert list(json.loads(cfg.to_json())) == [
        "schema_version", "created_by", "created_at", "task", "classes", "score_kind",
        "activation", "decision_rule", "comparison", "no_prediction", "thresholds",
        "logit_thresholds", "objective", "metrics", "data",
    ]
    assert json.loads(cfg.to_json())["comparison"] == ">="
    assert cfg.to_json().startswith('{\n  "schema_version": 1,')


def test_from_choice_fills_every_field():
    pset = from_arrays(np.array([0.2, 0.7, 0.9]), [0, 1, 1], task="binary", classes=["fraud"], file="val.csv")
    cfg = ThresholdConfig.from_choice(
        pset, np.array([0.4]), DecisionRule.default("binary"), objective="f1",
        metrics={"f1": np.float64(0.8), "roc_auc": float("nan"), "tp": np.int64(2),
                 "curve": np.array([0.5, np.inf]), "per_class": {3: (1, 2)}},
    )
    assert cfg.schema_version == 1
    assert cfg.created_by.startswith("thresholdlab ")
    assert cfg.created_at.endswith("Z")
    assert (cfg.task, cfg.classes, cfg.score_kind, cfg.activation) == ("binary", ("fraud",), "probability", "none")
    assert (cfg.decision_rule, cfg.comparison, cfg.no_prediction) == ("threshold", ">=", "none")
    assert cfg.thresholds == {"fraud": 0.4} and cfg.logit_thresholds is None
    assert cfg.metrics == {"f1": 0.8, "roc_auc": None, "tp": 2, "curve": [0.5, None], "per_class": {"3": [1, 2]}}
    assert type(cfg.metrics["tp"]) is int and type(cfg.metrics["f1"]) is float
    assert cfg.data == {"file": "val.csv", "sha256": "", "rows": 3}
    assert cfg.rule == DecisionRule("binary", "threshold", "none")
    assert ThresholdConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.objective = "manual"


def test_direct_construction_takes_task_defaults():
    cfg = ThresholdConfig(task="multiclass", classes=("a", "b"), thresholds={"b": 0.5, "a": 0.25})
    assert (cfg.decision_rule, cfg.no_prediction, cfg.activation) == ("argmax", "abstain", "none")
    assert list(cfg.thresholds) == ["a", "b"]  # stored in class order
    assert cfg.objective == "manual" and cfg.metrics == {} and cfg.data is None


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(thresholds=[0.5, 1.5]), "Invalid threshold config: thresholds.b must be a number between 0 and 1, got 1.5."),
        (dict(thresholds=[0.5, float("nan")]), "thresholds.b must be a number between 0 and 1, got nan."),
        (dict(thresholds=[0.5, float("inf")]), "thresholds.b must be a number between 0 and 1, got inf."),
        (dict(thresholds=[0.5]), "thresholds has shape (1,) but the data has 2 classes."),
        (dict(thresholds={"a": 0.5}), "thresholds must have one entry per class; missing 'b'."),
        (dict(thresholds={"a": 0.5, "b": 0.5, "c": 0.1}), "not a class: 'c'."),
        (dict(rule=DecisionRule.default("binary")), "the decision rule is for binary data but the data is multiclass."),
        (dict(logit_thresholds=[0.0, 0.0]), "logit_thresholds is only allowed when activation is 'sigmoid'"),
        (dict(metrics={"when": object()}), "metrics.when must be a JSON value, got object."),
    ],
)
def test_from_choice_rejects_bad_choices(kwargs, fragment):
    pset = from_arrays(np.array([[2.0, -1.0], [0.5, 0.1]]), [0, 1], task="multiclass", classes=["a", "b"])
    args = {"thresholds": [0.5, 0.5], "rule": DecisionRule.default("multiclass"), **kwargs}
    with pytest.raises(ConfigError) as info:
        ThresholdConfig.from_choice(pset, args.pop("thresholds"), args.pop("rule"), **args)
    assert fragment in str(info.value)
    assert isinstance(info.value, DataError)


# ------------------------------------------------------------------------- logit thresholds
def test_sigmoid_configs_carry_logit_of_each_threshold():
    t = np.array([0.5, 0.1 + 0.2, 5e-324, float(np.nextafter(1.0, 0.0)), 0.0, 1.0])
    scores = np.linspace(-3, 3, 12).reshape(2, 6)
    pset = from_arrays(scores, np.zeros((2, 6)), task="multilabel")
    assert pset.activation == "sigmoid"
    cfg = ThresholdConfig.from_choice(pset, t, DecisionRule.default("multilabel"))
    expected = logit(t)
    assert [bits(cfg.logit_thresholds[c]) for c in pset.classes] == [bits(v) for v in expected]
    assert cfg.logit_thresholds["class_4"] == -math.inf and cfg.logit_thresholds["class_5"] == math.inf
    written = json.loads(cfg.to_json())["logit_thresholds"]
    assert written["class_4"] is None and written["class_5"] is None  # JSON has no infinity
    assert written["class_0"] == 0.0
    back = ThresholdConfig.from_json(cfg.to_json())
    assert [bits(back.logit_thresholds[c]) for c in pset.classes] == [bits(v) for v in expected]


def test_explicit_logit_thresholds_are_kept_exactly():
    pset = from_arrays(np.array([-2.0, 0.3, 1.7]), [0, 1, 1], task="binary", classes=["fraud"])
    midpoint = (0.3 + 1.7) / 2 + 1e-13  # an optimiser midpoint, not logit(sigmoid(.)) of itself
    cfg = ThresholdConfig.from_choice(
        pset, sigmoid(np.array([midpoint])), DecisionRule.default("binary"), logit_thresholds=[midpoint]
    )
    assert bits(cfg.logit_thresholds["fraud"]) == bits(midpoint)
    assert bits(ThresholdConfig.from_json(cfg.to_json()).logit_thresholds["fraud"]) == bits(midpoint)


@pytest.mark.parametrize("score_kind, task", [("probability", "binary"), ("probability", "multilabel"),
                                              ("probability", "multiclass"), ("logit", "multiclass")])
def test_no_logit_thresholds_without_sigmoid(score_kind, task):
    scores = np.array([[0.2, 0.8], [0.6, 0.4]]) if score_kind == "probability" else np.array([[2.0, -1.0], [0.0, 3.0]])
    if task == "binary":
        scores = scores[:, :1]
    labels = [0, 1] if task != "multilabel" else [[0, 1], [1, 0]]
    pset = from_arrays(scores, labels, task=task, score_kind=score_kind)
    cfg = ThresholdConfig.from_choice(pset, np.full(pset.n_classes, 0.5))
    assert cfg.logit_thresholds is None
    assert "logit_thresholds" not in json.loads(cfg.to_json())


# ------------------------------------------------------------------------ validation messages
def _text(doc) -> str:
    return json.dumps(doc, allow_nan=True)


def _replace(old, new, base=None):
    return json.dumps(base or good_doc(), indent=2).replace(old, new, 1)


BAD_CONFIGS = [
    # (JSON text, exact message fragment)
    ("", "Config 'x.json' is not valid JSON: line 1, column 1: Expecting value."),
    ("{", "Config 'x.json' is not valid JSON: line 1, column 2: "),
    ('{\n  "task": "binary",\n  oops\n}', "is not valid JSON: line 3, column 3: "),
    ("[1, 2]", "Config 'x.json' must be a JSON object, got a list."),
    ('"thresholds"', "Config 'x.json' must be a JSON object, got 'thresholds'."),
    (_text({k: v for k, v in good_doc().items() if k != "thresholds"}),
     "Config 'x.json' is missing the required field 'thresholds'."),
    (_text({k: v for k, v in good_doc().items() if k != "schema_version"}),
     "Config 'x.json' is missing the required field 'schema_version'."),
    (_text(good_doc(schema_version=2)),
     "Config 'x.json': schema_version must be 1 (the only version this thresholdlab reads), got 2."),
    (_text(good_doc(treshold=0.5)), "Config 'x.json' has an unknown field 'treshold' (did you mean 'thresholds'?)."),
    (_text(good_doc(thresholds={"cat": "high", "dog": 0.2, "bird": 0.1})),
     "Config 'x.json': thresholds.cat must be a number between 0 and 1, got 'high'."),
    (_text(good_doc(thresholds={"cat": 1.5, "dog": 0.2, "bird": 0.1})),
     "thresholds.cat must be a number between 0 and 1, got 1.5."),
    (_text(good_doc(thresholds={"cat": -0.01, "dog": 0.2, "bird": 0.1})),
     "thresholds.cat must be a number between 0 and 1, got -0.01."),
    (_text(good_doc(thresholds={"cat": True, "dog": 0.2, "bird": 0.1})),
     "thresholds.cat must be a number between 0 and 1, got true."),
    (_text(good_doc(thresholds={"cat": None, "dog": 0.2, "bird": 0.1})),
     "thresholds.cat must be a number between 0 and 1, got null."),
    (_replace('"cat": 0.5', '"cat": NaN'), "thresholds.cat must be a number between 0 and 1, got NaN."),
    (_replace('"cat": 0.5', '"cat": Infinity'), "thresholds.cat must be a number between 0 and 1, got Infinity."),
    (_replace('"cat": 0.5', '"cat": 1e400'), "thresholds.cat must be a number between 0 and 1, got 1e400."),
    (_text(good_doc(classes=["cat", "dog", "a b"], thresholds={"cat": 0.5, "dog": 0.2, "a b": "x"})),
     "Config 'x.json': thresholds[\"a b\"] must be a number between 0 and 1, got 'x'."),
    (_text(good_doc(thresholds=[0.5, 0.2, 0.1])),
     "thresholds must be an object mapping each class to its threshold, got a list."),
    (_text(good_doc(thresholds={"cat": 0.5, "dog": 0.2})),
     "Config 'x.json': thresholds must have one entry per class; missing 'bird'."),
    (_text(good_doc(thresholds={"cat": 0.5, "dog": 0.2, "bird": 0.1, "cow": 0.3})),
     "thresholds must have one entry per class; not a class: 'cow'."),
    (_replace('"cat": 0.5', '"cat": 0.5, "cat": 0.6'), "Config 'x.json': thresholds has the key 'cat' more than once."),
    (_text(good_doc(task="regression")),
     "Config 'x.json': task must be 'binary', 'multiclass' or 'multilabel', got 'regression'."),
    (_text(good_doc(decision_rule="threshold")),
     "decision_rule must be 'argmax' or 'threshold_argmax' for multiclass data, got 'threshold'."),
    (_text(good_doc(decision_rule="vote")),
     "decision_rule must be 'threshold', 'argmax' or 'threshold_argmax', got 'vote'."),
    (_text(good_doc(no_prediction="at_least_one")),
     "no_prediction must be 'abstain' or 'fallback_argmax' for multiclass data, got 'at_least_one'."),
    (_text(sigmoid_doc(no_prediction="abstain")),
     "no_prediction must be 'none' or 'at_least_one' for multilabel data, got 'abstain'."),
    (_text(good_doc(score_kind="prob")), "score_kind must be 'probability' or 'logit', got 'prob'."),
    (_text(good_doc(activation="none")), "activation must be 'softmax' for multiclass logits, got 'none'."),
    (_text(good_doc(score_kind="probability")),
     "activation must be 'none' when score_kind is 'probability', got 'softmax'."),
    (_text(sigmoid_doc(activation="softmax")),
     "activation must be 'sigmoid' for binary and multilabel logits, got 'softmax'."),
    (_text(good_doc(comparison=">")), "comparison must be '>=' (a class is predicted when its probability >= its threshold), got '>'."),
    (_text(good_doc(classes=["cat", "dog", "cat"])), "Config 'x.json': classes lists 'cat' more than once."),
    (_text(good_doc(classes=["cat", 2, "bird"])), "Config 'x.json': classes[1] must be a string (a class name), got 2."),
    (_text(good_doc(classes="cat")), "classes must be a non-empty list of distinct class names, got 'cat'."),
    (_text(good_doc(task="binary", decision_rule="threshold", no_prediction="none", activation="sigmoid")),
     "classes must hold exactly one class (the positive class) for binary data, got a list."),
    (_text(good_doc(logit_thresholds={"cat": 0.0, "dog": 0.0, "bird": 0.0})),
     "Config 'x.json': logit_thresholds is only allowed when activation is 'sigmoid' (binary or multilabel logits); remove it."),
    (_text(sigmoid_doc(logit_thresholds={"cat": 1.0, "dog": float(logit(0.25)), "bird": None})),
     "Config 'x.json': logit_thresholds.cat is 1.0, whose sigmoid 0.7310585786300049 does not match thresholds.cat 0.5; "
     "change both together or remove logit_thresholds."),
    (_text(sigmoid_doc(logit_thresholds={"cat": None, "dog": float(logit(0.25)), "bird": None})),
     "Config 'x.json': logit_thresholds.cat may be null only where thresholds.cat is 0 or 1, got null."),
    (_text(sigmoid_doc(logit_thresholds={"cat": 0.0, "dog": float(logit(0.25))})),
     "logit_thresholds must have one entry per class; missing 'bird'."),
    (_text(sigmoid_doc(logit_thresholds={"cat": 0.0, "dog": float(logit(0.25)), "bird": None, "cow": None})),
     "logit_thresholds must have one entry per class; not a class: 'cow'."),
    (_text(sigmoid_doc(logit_thresholds={"cat": "0", "dog": float(logit(0.25)), "bird": None})),
     "logit_thresholds.cat must be a number (or null where the threshold is 0 or 1), got '0'."),
    (_text(good_doc(objective="")), "objective must be a non-empty string, got ''."),
    (_text(good_doc(metrics=[1, 2])), "Config 'x.json': metrics must be an object, got a list."),
    (_replace('"f1": 0.5', '"f1": NaN'),
     "Config 'x.json': metrics.macro.f1 is NaN, which is not a finite number; write null for an undefined value."),
    (_text(good_doc(data={"file": "val.csv", "sha256": "ab" * 32})), "Config 'x.json': data is missing the required field 'rows'."),
    (_text(good_doc(data={"file": "val.csv", "sha256": "ab" * 32, "rows": -1})),
     "data.rows must be a whole number of rows (0 or more), got -1."),
    (_text(good_doc(data={"file": "val.csv", "sha256": "ab" * 32, "rows": 2.5})),
     "data.rows must be a whole number of rows (0 or more), got 2.5."),
    (_text(good_doc(data={"file": "val.csv", "sha256": "xyz", "rows": 3})),
     "data.sha256 must be the file's SHA-256 as 64 hex digits (or empty), got 'xyz'."),
    (_text(good_doc(data={"file": "val.csv", "sha256": "", "rows": 3, "cols": 4})),
     "Config 'x.json': data has an unknown field 'cols'."),
    (_text(good_doc(data="val.csv")), "data must be an object with file, sha256 and rows, or null, got 'val.csv'."),
    (_text(good_doc(created_at="yesterday")), "Config 'x.json': created_at must be an ISO 8601 date and time, got 'yesterday'."),
    (_text(good_doc(created_by=7)), "created_by must be a string, got 7."),
]


@pytest.mark.parametrize("text, fragment", BAD_CONFIGS, ids=[f[1][:60] for f in BAD_CONFIGS])
def test_bad_configs_say_exactly_what_is_wrong(text, fragment):
    with pytest.raises(DataError) as info:
        load_text(text)
    message = str(info.value)
    assert fragment in message
    assert message.startswith("Config 'x.json'") and message.endswith(".")
    assert "\n" not in message and "Traceback" not in message


def test_good_documents_load():
    assert load_text(_text(good_doc())).thresholds == {"cat": 0.5, "dog": 0.25, "bird": 0.125}
    cfg = load_text(_text(sigmoid_doc()))
    assert cfg.logit_thresholds["bird"] == -math.inf
    # optional fields may be left out of a hand-written config
    minimal = {k: v for k, v in good_doc().items() if k in config_schema()["required"]}
    cfg = load_text(_text(minimal))
    assert (cfg.created_by, cfg.created_at, cfg.objective, cfg.metrics, cfg.data) == (None, None, "manual", {}, None)
    assert "created_at" not in json.loads(cfg.to_json())
    assert load_text(cfg.to_json()) == cfg


def test_load_reports_unreadable_files(tmp_path):
    with pytest.raises(DataError, match=r"^Cannot read config 'nope.json': No such file or directory\.$"):
        ThresholdConfig.load(tmp_path / "nope.json")
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"task": "caf\xe9"}')
    with pytest.raises(DataError, match=r"^Config 'latin1.json' is not UTF-8 text: byte 0xe9 at position 13 cannot be decoded\.$"):
        ThresholdConfig.load(path)


# ------------------------------------------------------------------------------ class matching
def _multiclass_set(classes, task="multiclass"):
    k = len(classes)
    return from_arrays(np.eye(k), np.arange(k), task=task, classes=classes)


def test_same_classes_in_another_order_line_up():
    cfg = load_text(_text(good_doc()))
    pset = _multiclass_set(["bird", "cat", "dog"])
    cfg.check_matches(pset)
    assert cfg.thresholds_for(pset.classes).tolist() == [0.125, 0.5, 0.25]
    assert cfg.thresholds_for(cfg.classes).dtype == np.float64


@pytest.mark.parametrize(
    "data_classes, message",
    [
        (["cat", "dog", "bird", "fish"], "The config's classes do not match the data: missing from the config: 'fish'."),
        (["cat", "dog"], "The config's classes do not match the data: not in the data: 'bird'."),
        (["cat", "dog", "owl"], "The config's classes do not match the data: missing from the config: 'owl'; not in the data: 'bird'."),
        (["Cat", "dog", "bird"], "The config's classes do not match the data: missing from the config: 'Cat'; not in the data: 'cat'."),
    ],
)
def test_class_mismatch_names_the_differing_classes(data_classes, message):
    cfg = load_text(_text(good_doc()))
    with pytest.raises(DataError) as info:
        cfg.check_matches(_multiclass_set(data_classes))
    assert str(info.value) == message
    with pytest.raises(DataError, match="do not match the data"):
        cfg.thresholds_for(data_classes)


def test_long_class_lists_are_shortened():
    cfg = ThresholdConfig(task="multilabel", classes=tuple(f"l{i}" for i in range(30)),
                          thresholds={f"l{i}": 0.5 for i in range(30)})
    pset = from_arrays(np.zeros((1, 30)), np.zeros((1, 30)), task="multilabel", classes=[f"m{i}" for i in range(30)])
    with pytest.raises(DataError, match=r"'m9' and 20 more; not in the data: 'l0', .* and 20 more\.$"):
        cfg.check_matches(pset)


def test_task_mismatch():
    cfg = load_text(_text(good_doc()))
    pset = from_arrays(np.zeros((2, 3)), np.zeros((2, 3)), task="multilabel", classes=["cat", "dog", "bird"])
    with pytest.raises(DataError, match=r"^The config is for multiclass data but the data is multilabel\.$"):
        cfg.check_matches(pset)


# ---------------------------------------------------------------------------------- the schema
def test_schema_is_valid_draft_2020_12_and_shipped_as_package_data():
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert list(schema["properties"]) == list(config_module._KEY_ORDER)


def test_schema_accepts_every_written_config():
    validator = jsonschema.Draft202012Validator(config_schema())
    for task, rule, option in COMBOS:
        for score_kind in ("probability", "logit"):
            k = 1 if task == "binary" else 3
            cfg = ThresholdConfig(task=task, classes=tuple("abc"[:k]), score_kind=score_kind,
                                  decision_rule=rule, no_prediction=option,
                                  thresholds=dict(zip("abc", [0.0, 0.5, 1.0])) if k == 3 else {"a": 1.0},
                                  metrics={"f1": float("nan")}, data={"file": "f", "sha256": "", "rows": 0})
            validator.validate(json.loads(cfg.to_json()))


@pytest.mark.parametrize(
    "doc",
    [
        good_doc(thresholds={"cat": 2, "dog": 0.2, "bird": 0.1}),
        good_doc(decision_rule="threshold"),
        good_doc(activation="sigmoid"),
        good_doc(logit_thresholds={"cat": 0.0, "dog": 0.0, "bird": 0.0}),
        good_doc(classes=["cat", "cat"]),
        good_doc(classes=["cat"]),
        good_doc(schema_version=2),
        good_doc(comparison=">"),
        good_doc(extra=1),
        good_doc(data={"file": "x", "rows": 1}),
        {k: v for k, v in good_doc().items() if k != "classes"},
        sigmoid_doc(logit_thresholds={"cat": "x", "dog": 0.0, "bird": None}),
    ],
)
def test_schema_rejects_bad_configs(doc):
    assert not jsonschema.Draft202012Validator(config_schema()).is_valid(doc)


def test_schema_and_decision_rule_agree_on_every_combination():
    """The schema's task/rule/activation tables and ThresholdConfig's checks never drift apart."""
    validator = jsonschema.Draft202012Validator(config_schema())
    for task in RULES:
        k = 1 if task == "binary" else 2
        classes = ["a", "b"][:k]
        for rule in ANY_RULE:
            for option in ANY_OPTION:
                for score_kind in ("probability", "logit"):
                    for activation in ("none", "softmax", "sigmoid"):
                        doc = dict(schema_version=1, task=task, classes=classes, score_kind=score_kind,
                                   activation=activation, decision_rule=rule, no_prediction=option,
                                   thresholds={c: 0.5 for c in classes})
                        try:
                            ThresholdConfig(**{**doc, "classes": tuple(classes)})
                            constructs = True
                        except DataError:
                            constructs = False
                        assert validator.is_valid(doc) == constructs, doc


# ---------------------------------------------------------------------------------------- apply
def _data(task, score_kind, seed, n=300, k=4):
    """Scores with many ties (one decimal) in the task's shape, and matching labels."""
    rng = np.random.default_rng(seed)
    k = 1 if task == "binary" else k
    if score_kind == "logit":
        scores = np.round(rng.normal(0, 2.5, (n, k)), 1)
    elif task == "multiclass":
        scores = np.round(rng.dirichlet(np.ones(k), n), 1)
    else:
        scores = np.round(rng.uniform(0, 1, (n, k)), 1)
    labels = rng.integers(0, k, n) if task == "multiclass" else rng.integers(0, 2, (n, k))
    return from_arrays(scores, labels, task=task, score_kind=score_kind)


def _threshold_sets(pset, seed):
    """Thresholds equal to probabilities of the data (ties), random, and the extremes."""
    rng = np.random.default_rng(seed)
    k = pset.n_classes
    p = pset.probabilities
    yield p[rng.integers(0, pset.n_rows, k), np.arange(k)]
    yield np.full(k, p[rng.integers(pset.n_rows), 0])  # global mode, a value the data has
    yield rng.uniform(0, 1, k)
    yield np.where(rng.uniform(size=k) < 0.5, 0.0, 1.0)
    yield np.full(k, 1.0 / k)


def _check_all_paths(cfg, pset):
    t = cfg.thresholds_for(pset.classes)
    expected = decide(pset.probabilities, t, cfg.rule)
    scores = pset.scores
    if cfg.task == "binary":
        expected = expected[:, 0]
        scores = scores[:, 0]
    got_numpy = apply(cfg, scores)
    assert got_numpy.dtype == expected.dtype and np.array_equal(got_numpy, expected)
    got_torch = apply(cfg, torch.from_numpy(scores))
    assert got_torch.dtype == (torch.long if cfg.task == "multiclass" else torch.bool)
    assert np.array_equal(got_torch.numpy(), expected)
    # float32 input: both paths upcast the same float32 values exactly
    as32 = scores.astype(np.float32)
    assert np.array_equal(apply(cfg, torch.from_numpy(as32)).numpy(), apply(cfg, as32))
    return expected


@pytest.mark.parametrize("score_kind", ["probability", "logit"])
@pytest.mark.parametrize("task, rule, option", COMBOS)
def test_apply_numpy_equals_torch_equals_decide(task, rule, option, score_kind):
    for seed in range(3):
        pset = _data(task, score_kind, seed)
        for t in _threshold_sets(pset, seed):
            cfg = ThresholdConfig.from_choice(pset, t, DecisionRule(task, rule, option))
            _check_all_paths(cfg, pset)


@pytest.mark.parametrize("task, rule, option", COMBOS)
def test_torch_path_stays_exact_when_its_activation_is_off_by_an_ulp(task, rule, option, monkeypatch):
    """torch's exp and sums differ from numpy's in the last bit; ties must still come out the same."""

    def off_by_one_ulp(p):
        return torch.nextafter(p, torch.where(torch.rand_like(p) < 0.5, -1.0, 2.0).to(p.dtype))

    softmax_, sigmoid_ = tt.ThresholdHead._softmax, tt._sigmoid
    monkeypatch.setattr(tt.ThresholdHead, "_softmax", lambda head, x: off_by_one_ulp(softmax_(head, x)))
    monkeypatch.setattr(tt, "_sigmoid", lambda x: off_by_one_ulp(sigmoid_(x)))
    torch.manual_seed(0)
    for seed in range(3):
        pset = _data(task, "logit", seed)
        for t in _threshold_sets(pset, seed):
            cfg = ThresholdConfig.from_choice(pset, t, DecisionRule(task, rule, option))
            _check_all_paths(cfg, pset)


def test_apply_hand_written_ties():
    """Multi-class argmax ties go to the lowest class index; >= includes the threshold."""
    cfg = ThresholdConfig(task="multiclass", classes=("a", "b", "c"),
                          thresholds={"a": 0.4, "b": 0.3, "c": 0.5})
    scores = np.array([[0.4, 0.4, 0.2], [0.3, 0.3, 0.4], [0.2, 0.3, 0.5], [0.1, 0.45, 0.45]])
    assert apply(cfg, scores).tolist() == [0, -1, 2, 1]
    assert apply(cfg, torch.tensor(scores)).tolist() == [0, -1, 2, 1]
    cfg = dataclasses.replace(cfg, decision_rule="threshold_argmax")
    assert apply(cfg, scores).tolist() == [0, 1, 2, 1]
    cfg = dataclasses.replace(cfg, decision_rule="argmax", no_prediction="fallback_argmax")
    assert apply(cfg, torch.tensor(scores)).tolist() == [0, 2, 2, 1]


@pytest.mark.parametrize("rule, option, expected", [
    ("argmax", "abstain", [0, 0, -1, 1, 2]),
    ("argmax", "fallback_argmax", [0, 0, 0, 1, 2]),
    ("threshold_argmax", "abstain", [0, 0, 2, 1, 2]),
    ("threshold_argmax", "fallback_argmax", [0, 0, 2, 1, 2]),
])
def test_apply_on_tensors_softmax_ties_at_thresholds_and_saturated_logits(rule, option, expected):
    """Saturated logits give probabilities of exactly 0, 1/2 and 1/3; thresholds sit on them."""
    cfg = ThresholdConfig(task="multiclass", classes=("a", "b", "c"), score_kind="logit",
                          thresholds={"a": 0.5, "b": 0.5, "c": 1 / 3}, decision_rule=rule,
                          no_prediction=option)
    scores = np.array([[800.0, 800.0, -800.0], [1e300, 1e300, 0.0], [0.0, 0.0, 0.0],
                       [-1e300, 5.0, 5.0], [-800.0, -800.0, 800.0]])
    assert apply(cfg, scores).tolist() == expected
    assert apply(cfg, torch.from_numpy(scores)).tolist() == expected
    assert apply(cfg, torch.from_numpy(np.asfortranarray(scores))).tolist() == expected


@pytest.mark.parametrize("option, expected", [
    ("none", [[True, True, False], [False, False, False], [False, False, False]]),
    ("at_least_one", [[True, True, False], [False, True, False], [True, False, False]]),
])
def test_apply_on_tensors_sigmoid_ties_at_thresholds_and_saturated_logits(option, expected):
    """sigmoid(37) rounds to exactly 1.0, sigmoid(36.7) just below it; sigmoid(-744) is the
    subnormal 1e-323, above sigmoid(-800) == 0, so it is the top label of its row."""
    cfg = ThresholdConfig(task="multilabel", classes=("a", "b", "c"), score_kind="logit",
                          thresholds={"a": 1.0, "b": 1.0, "c": 0.5}, no_prediction=option)
    scores = np.array([[40.0, 37.0, -800.0], [-800.0, -744.0, -800.0], [36.7, 0.0, -40.0]])
    assert apply(cfg, scores).tolist() == expected
    got = apply(cfg, torch.from_numpy(scores))
    assert got.dtype == torch.bool and got.tolist() == expected
    binary = ThresholdConfig(task="binary", classes=("y",), score_kind="logit", thresholds={"y": 1.0})
    assert apply(binary, torch.tensor([37.0, 36.7, -800.0], dtype=torch.float64)).tolist() == [True, False, False]
    binary = dataclasses.replace(binary, thresholds={"y": 0.0}, logit_thresholds=None)
    assert apply(binary, torch.tensor([[-800.0], [0.0]], dtype=torch.float64)).tolist() == [[True], [True]]


def test_apply_on_tensors_builds_a_head_once_per_config(monkeypatch):
    """Building a sigmoid head bisects every threshold; apply keeps one per decision-relevant
    content (thresholds, rule, classes, device), so a changed threshold gets its own."""
    built = []
    init = tt.ThresholdHead.__init__

    def counting_init(head, config, **kwargs):
        built.append(config)
        init(head, config, **kwargs)

    monkeypatch.setattr(tt.ThresholdHead, "__init__", counting_init)
    tt._head.cache_clear()
    classes = ("a", "b", "c")
    cfg = ThresholdConfig(task="multilabel", classes=classes, score_kind="logit",
                          thresholds={"a": 0.2, "b": 0.4, "c": 0.6}, no_prediction="at_least_one")
    scores = np.random.default_rng(8).normal(0, 2, (50, 3))
    for _ in range(3):
        assert np.array_equal(apply(cfg, torch.from_numpy(scores)).numpy(), apply(cfg, scores))
    assert len(built) == 1
    moved = dataclasses.replace(cfg, thresholds={"a": 0.2, "b": 0.4, "c": 0.99}, logit_thresholds=None)
    assert np.array_equal(apply(moved, torch.from_numpy(scores)).numpy(), apply(moved, scores))
    assert len(built) == 2


def test_apply_binary_keeps_the_input_shape():
    pset = from_arrays(np.array([-1.0, 0.0, 2.0]), [0, 1, 1], task="binary", classes=["fraud"])
    cfg = ThresholdConfig.from_choice(pset, [0.5])
    assert apply(cfg, np.array([-1.0, 0.0, 2.0])).tolist() == [False, True, True]
    assert apply(cfg, np.array([[-1.0], [0.0], [2.0]])).tolist() == [[False], [True], [True]]
    assert apply(cfg, [-1.0, 0.0, 2.0]).tolist() == [False, True, True]
    out = apply(cfg, torch.tensor([[-1.0], [0.0], [2.0]]))
    assert out.dtype == torch.bool and out.shape == (3, 1)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_apply_on_no_rows(task):
    k = 1 if task == "binary" else 3
    cfg = ThresholdConfig(task=task, classes=tuple("abc"[:k]), thresholds=dict.fromkeys("abc"[:k], 0.5),
                          score_kind="logit")
    empty = np.zeros((0, k))
    assert apply(cfg, empty).shape == apply(cfg, torch.from_numpy(empty)).shape == ((0,) if task == "multiclass" else (0, k))


def test_apply_reads_a_config_file(tmp_path):
    cfg = load_text(_text(good_doc()))
    cfg.save(tmp_path / "t.json")
    scores = np.array([[3.0, 0.0, 0.0], [0.0, 0.0, 0.1]])
    assert apply(tmp_path / "t.json", scores).tolist() == apply(cfg, scores).tolist() == [0, 2]


@pytest.mark.parametrize(
    "scores, message",
    [
        (np.zeros((5, 4)), "scores have 4 columns but the config has 3 classes ('cat', 'dog', 'bird'); "
                           "pass one column per class, in the config's order."),
        (np.zeros(5), "scores for a multiclass config must be 2-D (rows, classes), got shape (5,)."),
        (np.zeros((2, 3, 1)), "must be 2-D (rows, classes), got shape (2, 3, 1)."),
        (np.array([[0.0, np.nan, 1.0]]), "scores contain NaN or infinite values"),
        (np.array([[0.0, np.inf, 1.0]]), "scores contain NaN or infinite values"),
    ],
)
def test_apply_rejects_scores_that_do_not_fit(scores, message):
    cfg = load_text(_text(good_doc()))
    for given_scores in (scores, torch.from_numpy(scores)):
        with pytest.raises(ValueError) as info:
            apply(cfg, given_scores)
        assert message in str(info.value)


@pytest.mark.parametrize("task,rule", [("binary", "threshold"), ("multilabel", "threshold"),
                                       ("multiclass", "argmax"),
                                       ("multiclass", "threshold_argmax")])
def test_probabilities_a_rounding_error_outside_0_1_are_clipped_as_loading_clips_them(task, rule):
    scores = np.array([[0.2, 0.8, 0.0], [1.0000001, -3e-8, 0.0], [-3e-8, 0.5, 0.5],
                       [0.4, 0.6, 0.0]])
    k = 1 if task == "binary" else 3
    scores = scores[:, :k]
    classes = ("a", "b", "c")[:k]
    cfg = ThresholdConfig(task=task, classes=classes, decision_rule=rule,
                          thresholds={c: t for c, t in zip(classes, (0.0, 0.5, 1.0))})
    expected = apply(cfg, np.clip(scores, 0.0, 1.0))
    given = scores.copy()
    np.testing.assert_array_equal(apply(cfg, given), expected)
    np.testing.assert_array_equal(given, scores)  # the caller's array is not clipped in place
    np.testing.assert_array_equal(apply(cfg, torch.from_numpy(scores)).numpy(), expected)
    np.testing.assert_array_equal(tt.ThresholdHead(cfg)(torch.from_numpy(scores)).numpy(), expected)
    with pytest.raises(ValueError, match="outside"):
        apply(cfg, scores - 1e-5)


def test_apply_rejects_logits_for_a_probability_config_and_two_columns_for_binary():
    cfg = ThresholdConfig(task="multilabel", classes=("a", "b"), thresholds={"a": 0.5, "b": 0.5})
    with pytest.raises(ValueError, match=r"expects probabilities \(score_kind 'probability'\) but the scores include -2\.0"):
        apply(cfg, torch.tensor([[0.5, -2.0]]))
    binary = ThresholdConfig(task="binary", classes=("fraud",), thresholds={"fraud": 0.5})
    with pytest.raises(ValueError, match=r"shape \(n,\) or \(n, 1\), got \(2, 2\); pass the positive class 'fraud'"):
        apply(binary, np.full((2, 2), 0.5))


def test_numpy_use_never_imports_torch():
    code = (
        "import sys, numpy as np\n"
        "from thresholdlab.config import ThresholdConfig, apply\n"
        "cfg = ThresholdConfig(task='binary', classes=('y',), thresholds={'y': 0.5})\n"
        "assert apply(cfg, np.array([0.2, 0.7])).tolist() == [False, True]\n"
        "ThresholdConfig.from_json(cfg.to_json())\n"
        "assert 'torch' not in sys.modules and 'streamlit' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("task, rule, option", COMBOS)
def test_apply_on_cuda_matches_numpy(task, rule, option):
    for score_kind in ("probability", "logit"):
        pset = _data(task, score_kind, seed=11, n=5000, k=6)
        for t in _threshold_sets(pset, 11):
            cfg = ThresholdConfig.from_choice(pset, t, DecisionRule(task, rule, option))
            scores = pset.scores if task != "binary" else pset.scores[:, 0]
            got = apply(cfg, torch.from_numpy(scores).cuda())
            assert got.device.type == "cuda"
            assert np.array_equal(got.cpu().numpy(), apply(cfg, scores))


def test_editing_one_config_does_not_change_another_configs_tensor_decisions():
    def make():
        return ThresholdConfig(task="multiclass", classes=("a", "b", "c"), score_kind="logit",
                               thresholds={"a": 1 / 3, "b": 0.5, "c": 0.5})

    first, second = make(), make()
    x = torch.zeros((4, 3), dtype=torch.float64)  # p = 1/3 each: class a, exactly at its threshold
    assert apply(first, x).tolist() == [0, 0, 0, 0]
    first.thresholds["a"] = 0.9  # edited in place after use
    assert apply(second, x).tolist() == apply(second, x.numpy()).tolist() == [0, 0, 0, 0]
