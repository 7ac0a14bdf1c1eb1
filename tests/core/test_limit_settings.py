"""Ceilings on rows, columns and classes set in the environment, for the command line.

The dashboard reads the same settings (tests/ui/test_limit_settings.py).
"""

from __future__ import annotations

import pytest

from thresholdlab.cli import main
from thresholdlab.loading import Limits
from thresholdlab.loading.limits import ENV
from thresholdlab.predictions import DataError

CSV = "id,label,p_cat,p_dog,p_eel\n1,cat,0.7,0.2,0.1\n2,dog,0.1,0.8,0.1\n3,eel,0.2,0.2,0.6\n"


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "three.csv"
    p.write_text(CSV)
    return p


@pytest.fixture(autouse=True)
def no_limits_set(monkeypatch):
    for variable in ENV.values():
        monkeypatch.delenv(variable, raising=False)


def test_nothing_set_means_no_limits():
    assert Limits.from_env({}) is None
    assert Limits.from_env({"THRESHOLDLAB_MAX_ROWS": "  "}) is None


def test_each_setting_is_read():
    limits = Limits.from_env({"THRESHOLDLAB_MAX_ROWS": "5_000_000",
                              "THRESHOLDLAB_MAX_COLUMNS": "200",
                              "THRESHOLDLAB_MAX_CLASSES": "1,000"})
    assert limits == Limits(max_rows=5_000_000, max_columns=200, max_classes=1000)


@pytest.mark.parametrize("value", ["0", "-3", "many", "2.5", "1e6"])
def test_a_bad_setting_is_one_sentence_naming_it(value):
    with pytest.raises(DataError) as error:
        Limits.from_env({"THRESHOLDLAB_MAX_CLASSES": value})
    message = str(error.value)
    assert message == (f"The setting THRESHOLDLAB_MAX_CLASSES={value!r} is not a whole number of "
                       "at least 1; fix it or unset it for no limit.")


@pytest.mark.parametrize("variable, value, fragment", [
    ("THRESHOLDLAB_MAX_ROWS", "2", "File 'three.csv' has 3 data rows, over the limit of 2; "
                                   "load a sample of its rows or use a sketch."),
    ("THRESHOLDLAB_MAX_COLUMNS", "4", "File 'three.csv' has 5 columns, over the limit of 4; "
                                      "keep only the id, label and score columns."),
    ("THRESHOLDLAB_MAX_CLASSES", "2", "File 'three.csv' has 3 classes, over the limit of 2; "
                                      "keep the classes you need or merge the rare ones."),
    ("THRESHOLDLAB_MAX_ROWS", "zero", "The setting THRESHOLDLAB_MAX_ROWS='zero' is not a whole "
                                      "number"),
])
def test_the_command_line_stops_past_a_limit_with_its_sentence(
        path, monkeypatch, capsys, variable, value, fragment):
    monkeypatch.setenv(variable, value)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1


def test_the_command_line_loads_within_the_limits(path, monkeypatch, capsys):
    monkeypatch.setenv("THRESHOLDLAB_MAX_ROWS", "3")
    monkeypatch.setenv("THRESHOLDLAB_MAX_COLUMNS", "5")
    monkeypatch.setenv("THRESHOLDLAB_MAX_CLASSES", "3")
    assert main(["inspect", str(path)]) == 0
