"""``thresholdlab inspect`` and the command line's error handling.

Every bad input of ``tests/conftest.py`` must end the command with exit code 2 and exactly one
line on stderr, never a traceback: in-process through ``main([...])`` and as a real process
through ``python -m thresholdlab``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from thresholdlab import cli
from thresholdlab.cli import build_parser, main

SPEC_KEYS = ["file", "rows", "task", "classes", "score_kind", "activation", "columns",
             "label_mapping", "positives", "notes", "warnings"]
COLUMN_KEYS = ["id", "label", "labels", "scores", "ignored"]

WINES = (
    "sample_id,cultivar,barolo,grignolino,barbera\n"
    "a,1,2.0,0.5,-1.0\n"
    "b,3,0.1,0.2,3.0\n"
    "c,2,0.0,1.5,0.2\n"
    "d,3,-0.5,0.1,2.2\n"
)


@pytest.fixture
def wines(tmp_path):
    path = tmp_path / "wines.csv"
    path.write_text(WINES)
    return path


def test_inspect_prints_a_readable_report(wines, capsys):
    assert main(["inspect", str(wines), "--label-col", "cultivar"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[:4] == [
        "File        wines.csv (4 rows)",
        "Task        multiclass",
        "Classes     barolo, grignolino, barbera",
        "Scores      logit (softmax turns them into probabilities)",
    ]
    assert "Columns     id: sample_id" in lines
    assert "            label: cultivar" in lines
    assert "            scores: barolo, grignolino, barbera" in lines
    assert "Labels      1 -> barolo, 2 -> grignolino, 3 -> barbera" in lines
    assert "Positives   barolo 1, grignolino 1, barbera 2" in lines
    assert "  - Labels look 1-based: 1 -> barolo, 2 -> grignolino, 3 -> barbera." in lines


def test_inspect_json_has_exactly_the_spec_keys(wines, capsys):
    assert main(["inspect", str(wines), "--json", "--label-col", "cultivar"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report) == SPEC_KEYS
    assert list(report["columns"]) == COLUMN_KEYS
    assert report["file"] == "wines.csv"
    assert report["rows"] == 4
    assert report["task"] == "multiclass"
    assert report["classes"] == ["barolo", "grignolino", "barbera"]
    assert (report["score_kind"], report["activation"]) == ("logit", "softmax")
    assert report["columns"] == {"id": "sample_id", "label": "cultivar", "labels": None,
                                 "scores": ["barolo", "grignolino", "barbera"], "ignored": []}
    assert report["label_mapping"] == {"1": "barolo", "2": "grignolino", "3": "barbera"}
    assert report["positives"] == {"barolo": 1, "grignolino": 1, "barbera": 2}
    assert report["warnings"] == []


def test_inspect_json_reports_a_class_without_positives(tmp_path, capsys):
    path = tmp_path / "ml.csv"
    path.write_text("y_a,y_b,p_a,p_b\n1,0,.9,.2\n0,0,.3,.1\n")
    assert main(["inspect", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "multilabel"
    assert report["positives"] == {"a": 1, "b": 0}
    assert report["warnings"] == [
        "Class 'b' has no positive rows, so its average precision and ROC AUC are undefined."
    ]


def test_overrides_are_passed_through(tmp_path, capsys):
    path = tmp_path / "two.csv"
    path.write_text("label,p_cat,p_dog\n0,0.7,0.3\n1,0.2,0.8\n")
    assert main(["inspect", str(path), "--json", "--task", "multiclass",
                 "--score-cols", "p_cat,p_dog", "--score-kind", "logit"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "multiclass"
    assert report["classes"] == ["cat", "dog"]
    assert report["activation"] == "softmax"


# --------------------------------------------------------------------------------------------
# Bad input: exit 2, one line, no traceback
# --------------------------------------------------------------------------------------------


def test_bad_input_in_process(bad_input, tmp_path, capsys):
    path = bad_input.make(tmp_path)
    code = main(["inspect", str(path), *bad_input.cli_options()])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n")
    assert err.startswith("thresholdlab: error: ")
    assert bad_input.fragment in err
    assert "Traceback" not in err


def test_bad_input_as_a_real_process(bad_input, cli_runs_on_bad_inputs):
    result = cli_runs_on_bad_inputs[bad_input.id]
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("thresholdlab: error: ")
    assert bad_input.fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_inspect_json_as_a_real_process(wines):
    result = subprocess.run(
        [sys.executable, "-m", "thresholdlab", "inspect", str(wines), "--json",
         "--label-col", "cultivar"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)) == SPEC_KEYS


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nonsense"],
        ["inspect"],
        ["inspect", "x.csv", "--task", "regression"],
        ["inspect", "x.csv", "--score-kind", "odds"],
        ["optimize", "x.csv", "-o", "c.json"],  # --objective is required
        ["evaluate", "x.csv"],  # --thresholds is required
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "inspect" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (ValueError("decision rule 'x' does not apply to binary data"),
         "thresholdlab: error: decision rule 'x' does not apply to binary data\n"),
        (PermissionError(13, "Permission denied", "out.json"),
         "thresholdlab: error: cannot open 'out.json': Permission denied.\n"),
        (ValueError("two\nlines"), "thresholdlab: error: two lines\n"),
    ],
)
def test_core_errors_become_one_line(monkeypatch, capsys, wines, raised, expected):
    def fail(args):
        raise raised

    monkeypatch.setattr(cli, "load_from_args", fail)
    assert main(["inspect", str(wines)]) == 2
    assert capsys.readouterr().err == expected


def test_output_into_a_closed_pipe_ends_quietly(wines):
    # As ``thresholdlab inspect FILE | head -1`` once head has exited: nobody reads stdout.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "thresholdlab", "inspect", str(wines), "--label-col",
             "cultivar"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120,
        )
    finally:
        os.close(write_end)
    assert result.returncode == cli.EXIT_BROKEN_PIPE == 141
    assert result.stderr == ""


def test_internal_errors_are_one_line_with_exit_1(monkeypatch, capsys, wines):
    def crash(args):
        raise KeyError("boom")

    monkeypatch.setattr(cli, "load_from_args", crash)
    monkeypatch.delenv("THRESHOLDLAB_DEBUG", raising=False)
    assert main(["inspect", str(wines)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("thresholdlab: error: internal error (KeyError")


# --------------------------------------------------------------------------------------------
# Arguments of the other subcommands
# --------------------------------------------------------------------------------------------


def test_optimize_arguments():
    args = build_parser().parse_args(
        ["optimize", "v.csv", "--objective", "precision>=0.9", "--global", "--rule",
         "threshold_argmax", "--no-prediction", "fallback_argmax", "-o", "c.json",
         "--label-cols", "y_a,y_b", "--score-cols", "p_a, p_b", "--task", "multilabel",
         "--score-kind", "logit"]
    )
    assert args.func is cli.cmd_optimize
    assert (args.file, args.objective, args.global_mode, args.rule, args.no_prediction,
            args.output) == ("v.csv", "precision>=0.9", True, "threshold_argmax",
                             "fallback_argmax", "c.json")
    assert args.label_cols == ["y_a", "y_b"] and args.score_cols == ["p_a", "p_b"]
    assert (args.task, args.score_kind, args.label_col) == ("multilabel", "logit", None)


def test_evaluate_apply_and_app_arguments():
    parser = build_parser()
    evaluate = parser.parse_args(["evaluate", "v.csv", "--thresholds", "c.json", "--json"])
    assert (evaluate.func, evaluate.thresholds, evaluate.json) == (cli.cmd_evaluate, "c.json", True)
    apply = parser.parse_args(["apply", "v.csv", "--thresholds", "c.json", "-o", "d.csv",
                               "--label-col", "y"])
    assert (apply.func, apply.output, apply.label_col) == (cli.cmd_apply, "d.csv", "y")
    assert parser.parse_args(["app"]).file is None
    assert parser.parse_args(["app", "v.csv", "--task", "binary"]).file == "v.csv"


# --------------------------------------------------------------------------------------------
# The core stays light
# --------------------------------------------------------------------------------------------


def test_importing_the_core_loads_neither_streamlit_nor_torch():
    code = (
        "import sys, thresholdlab, thresholdlab.loading, thresholdlab.cli; "
        "print(sorted(m for m in ('streamlit', 'plotly', 'torch') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
