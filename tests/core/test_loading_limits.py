"""Ceilings on rows, columns and classes: a file past one is one sentence naming it."""

from __future__ import annotations

import numpy as np
import pytest

from thresholdlab.loading import Limits, load
from thresholdlab.predictions import DataError

CSV = "id,label,p_cat,p_dog,p_eel\n1,cat,0.7,0.2,0.1\n2,dog,0.1,0.8,0.1\n3,eel,0.2,0.2,0.6\n"


def _one_sentence(message: str) -> None:
    assert message.count(". ") == 0 and message.endswith(".")


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "three.csv"
    p.write_text(CSV)
    return p


def test_a_file_within_every_limit_loads_as_without_limits(path):
    limited = load(path, limits=Limits(max_rows=3, max_columns=5, max_classes=3))
    plain = load(path)
    assert limited.classes == plain.classes
    np.testing.assert_array_equal(limited.scores, plain.scores)


@pytest.mark.parametrize(
    ("limits", "fragment"),
    [
        (Limits(max_rows=2), "File 'three.csv' has 3 data rows, over the limit of 2; load a"),
        (Limits(max_columns=4), "File 'three.csv' has 5 columns, over the limit of 4; keep only"),
        (Limits(max_classes=2), "File 'three.csv' has 3 classes, over the limit of 2; keep the"),
    ],
    ids=["rows", "columns", "classes"],
)
def test_past_a_limit_is_one_sentence_naming_it(path, limits, fragment):
    with pytest.raises(DataError) as info:
        load(path, limits=limits)
    assert fragment in str(info.value)
    _one_sentence(str(info.value))


def test_limits_count_arrays_too(tmp_path):
    p = tmp_path / "arrays.npz"
    np.savez(p, scores=np.full((4, 3), 1 / 3), labels=np.array([0, 1, 2, 0]))
    with pytest.raises(DataError, match="has 4 data rows, over the limit of 3"):
        load(p, limits=Limits(max_rows=3))
    with pytest.raises(DataError, match="has 3 classes, over the limit of 2"):
        load(p, limits=Limits(max_classes=2))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_a_limit_that_is_not_a_positive_whole_number_is_refused(bad):
    with pytest.raises(DataError, match="give a whole number of at least 1"):
        Limits(max_rows=bad)
