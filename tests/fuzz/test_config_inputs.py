"""Threshold configs through ``ThresholdConfig.from_json`` (what ``load``, ``apply`` and the
dashboard's import use): any file ends in a valid config or one sentence."""

import copy
import json

import numpy as np
import pytest
from hypothesis import given, strategies as st

import thresholdlab as tl
from thresholdlab.config import ThresholdConfig
from thresholdlab.decisions import DecisionRule
from targets import budget, config_target, load_target, valid_csv

PSET = tl.load(valid_csv(), name="data.csv")
VALID = json.loads(ThresholdConfig.from_choice(
    PSET, np.array([0.2, 0.4, 0.4]), DecisionRule.default(PSET.task)
).to_json())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def dumps(doc) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


@budget(80)
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    config_target(data)


@budget(80)
@given(json_values)
def test_any_json_document(doc):
    config_target(dumps(doc))


FIELDS = list(VALID) + ["extra"]


@budget(150)
@given(st.lists(st.tuples(st.sampled_from(FIELDS), st.one_of(st.just("<delete>"), json_values)),
                min_size=1, max_size=3))
def test_valid_config_with_fields_replaced(changes):
    doc = copy.deepcopy(VALID)
    for key, value in changes:
        if value == "<delete>":
            doc.pop(key, None)
        else:
            doc[key] = value
    config_target(dumps(doc), PSET)


THRESHOLD_VALUES = st.one_of(
    st.floats(), st.integers(-10**30, 10**30), st.text(max_size=4), st.none(), st.booleans(),
    st.lists(st.floats(0, 1), max_size=2), st.just(10**400),
)


@budget(100)
@given(st.dictionaries(st.sampled_from(["cat", "dog", "eel", "fox", "", "Cat"]), THRESHOLD_VALUES,
                       max_size=4),
       st.booleans())
def test_thresholds_out_of_range_or_not_numbers(thresholds, keep_logits):
    doc = copy.deepcopy(VALID)
    doc["thresholds"] = thresholds
    config = config_target(dumps(doc), PSET)
    if config is not None:  # then every threshold was a number in [0, 1] for exactly these classes
        assert set(thresholds) == set(PSET.classes)
        assert all(not isinstance(v, bool) and 0 <= v <= 1 for v in thresholds.values())


@budget(60)
@given(st.lists(st.text(max_size=6), max_size=5),
       st.sampled_from(["binary", "multiclass", "multilabel", "regression", ""]))
def test_classes_or_task_not_matching_the_data(classes, task):
    doc = copy.deepcopy(VALID)
    doc["classes"] = classes
    doc["task"] = task
    doc["thresholds"] = {c: 0.5 for c in classes}
    config_target(dumps(doc), PSET)


@pytest.mark.parametrize("version", [0, 2, -1, "1", 1.0, 1.5, None, True, 10**100])
def test_wrong_version(version):
    doc = dict(VALID, schema_version=version)
    assert config_target(dumps(doc), PSET) is None or version == 1.0


@pytest.mark.parametrize("depth", [100, 10_000, 200_000])
def test_deeply_nested(depth):
    for opener, closer in (("[", "]"), ('{"a":', "}")):
        config_target((opener * depth + "1" + closer * depth).encode())
    doc = dict(VALID)
    text = json.dumps(doc)
    nested = "[" * depth + "]" * depth
    config_target(text.replace('"metrics": {', f'"metrics": {{"deep": {nested}, ', 1).encode(), PSET)


@pytest.mark.parametrize("what", ["long-string", "many-classes", "big-metrics", "long-number"])
def test_huge(what):
    doc = copy.deepcopy(VALID)
    if what == "long-string":
        doc["objective"] = "x" * 5_000_000
    elif what == "many-classes":
        doc["classes"] = [f"c{i}" for i in range(10_000)]  # was quadratic to read
        doc["thresholds"] = {c: 0.5 for c in doc["classes"]}
    elif what == "big-metrics":
        doc["metrics"] = {f"m{i}": list(range(50)) for i in range(2_000)}
    data = dumps(doc)
    if what == "long-number":
        data = data.replace(b'"schema_version": 1', b'"schema_version": 1' + b"0" * 100_000)
    config_target(data, PSET)


@pytest.mark.parametrize("text", [
    b"", b"   ", b"{", b"}", b"null", b"[]", b"{}", b'"a"', b"NaN", b"\xff\xfe{\x00}\x00",
    b'{"schema_version": 1,}', b"\xef\xbb\xbf{}", b'{"a": 1, "a": 2}', b"\x00" * 10,
])
def test_malformed(text):
    assert config_target(text) is None


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_threshold(token):
    text = json.dumps(VALID).replace('"cat": 0.2', f'"cat": {token}', 1)
    assert config_target(text.encode(), PSET) is None


def test_config_file_on_disk_is_checked_the_same(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b"[" * 100_000)
    with pytest.raises(tl.DataError, match="^Config 'bad.json'"):
        ThresholdConfig.load(path)
    with pytest.raises(tl.DataError):
        tl.apply(path, np.zeros((2, 3)))
