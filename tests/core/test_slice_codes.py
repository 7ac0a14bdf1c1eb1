"""A prefix-less file's integer category codes (region number, age band) are slices, not scores;
files whose columns could all be scores load as before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import thresholdlab as tl
from thresholdlab.loading import roles
from thresholdlab.predictions import DataError
from thresholdlab.slices import slice_columns


def _write(tmp_path, frame, name="preds.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _load_as_before(path, monkeypatch, extras=True, **kw):
    """The file loaded without the category-code rule: what the loader did before it (and,
    with ``extras`` False, without the rule for numbers beside one probability either)."""
    with monkeypatch.context() as m:
        m.setattr(roles, "_drop_category_codes", lambda frame, scores: (scores, []))
        if not extras:
            m.setattr(roles, "drop_extra_columns",
                      lambda frame, label, scores: (scores, [], None))
        return tl.load(path, **kw)


def _multiclass(n=240, seed=0, kind="probability"):
    rng = np.random.default_rng(seed)
    if kind == "probability":
        scores = rng.dirichlet([1, 1, 1], n).round(4)
    else:
        scores = rng.normal(0, 2, (n, 3)).round(3)
    frame = pd.DataFrame(scores, columns=["barolo", "grignolino", "barbera"])
    frame["label"] = rng.integers(0, 3, n)
    frame["age_band"] = rng.integers(1, 6, n)
    frame["region"] = rng.choice([11, 12, 13, 14], n)
    return frame


@pytest.mark.parametrize("kind", ["probability", "logit"])
def test_integer_codes_beside_fractional_scores_are_slices(kind, tmp_path):
    frame = _multiclass(kind=kind)
    path = _write(tmp_path, frame)
    predictions = tl.load(path)
    assert predictions.classes == ("barolo", "grignolino", "barbera")
    assert predictions.score_kind == kind
    np.testing.assert_array_equal(predictions.scores, frame[["barolo", "grignolino", "barbera"]])
    assert predictions.columns["ignored"] == ["age_band", "region"]
    assert any("'age_band', 'region' hold a few whole numbers" in note and "--score-cols" in note
               for note in predictions.notes)
    assert not any("are not used" in note for note in predictions.notes)
    found = slice_columns(path, predictions)
    assert list(found) == ["age_band", "region"]
    np.testing.assert_array_equal(found["age_band"], frame["age_band"].astype(str))


def test_binary_score_beside_an_age_band_stays_binary_on_its_score(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"score": rng.random(200).round(3), "label": rng.integers(0, 2, 200),
                          "age_band": rng.integers(1, 6, 200)})
    path = _write(tmp_path, frame)
    predictions = tl.load(path)
    assert predictions.task == "binary" and predictions.columns["scores"] == ["score"]
    np.testing.assert_array_equal(predictions.probabilities[:, 0], frame["score"])
    assert list(slice_columns(path, predictions)) == ["age_band"]
    # Before, the band was read as a second logit and became the positive class.
    before = _load_as_before(path, monkeypatch, extras=False)
    assert before.columns["scores"] == ["score", "age_band"]


def test_a_code_named_as_a_score_is_a_score(tmp_path):
    frame = _multiclass()
    path = _write(tmp_path, frame)
    names = ["barolo", "grignolino", "barbera", "age_band"]
    predictions = tl.load(path, score_cols=names, task="multiclass", score_kind="logit")
    assert predictions.columns["scores"] == names


def _percent(n=60, seed=2):
    """Percentages: one column of whole numbers beside fractional ones (could be codes)."""
    rng = np.random.default_rng(seed)
    first = rng.choice([10, 20, 30, 40, 50], n)
    second = np.round(rng.uniform(0, 100 - first), 1)
    return pd.DataFrame({"a": first, "b": second, "c": np.round(100 - first - second, 1),
                         "label": rng.integers(0, 3, n)})


def _whole_numbers(n=60, seed=3):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.integers(-5, 6, n), "b": rng.integers(-5, 6, n),
                         "label": rng.integers(0, 2, n)})


def _zero_one_beside_probabilities(n=60, seed=4):
    rng = np.random.default_rng(seed)
    p = rng.random(n).round(3)
    return pd.DataFrame({"a": p, "b": (p < 0.5).astype(int), "label": rng.integers(0, 2, n)})


def _many_values_beside_logits(n=80, seed=5):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n).round(3), "b": rng.integers(-40, 40, n),
                         "label": rng.integers(0, 2, n)})


def _prefixed(n=60, seed=6):
    frame = _multiclass(n, seed)
    return frame.rename(columns={c: "p_" + c for c in ("barolo", "grignolino", "barbera")})


@pytest.mark.parametrize("make", [
    _percent, _whole_numbers, _zero_one_beside_probabilities, _many_values_beside_logits,
    _prefixed,
])
def test_files_without_codes_load_exactly_as_before(make, tmp_path, monkeypatch):
    path = _write(tmp_path, make())
    try:
        before = _load_as_before(path, monkeypatch)
    except DataError as error:  # percentages stop the load, as they did
        with pytest.raises(DataError) as now:
            tl.load(path)
        assert str(now.value) == str(error)
        return
    now = tl.load(path)
    assert now.columns == before.columns and now.notes == before.notes
    assert now.classes == before.classes and now.task == before.task
    np.testing.assert_array_equal(now.scores, before.scores)
    np.testing.assert_array_equal(now.labels, before.labels)
