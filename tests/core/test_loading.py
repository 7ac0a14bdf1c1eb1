"""Loading prediction files: role detection, label mapping, score kind, bad input.

Files are small and hand-written, so each test reads as the file a user would have. The bad-input
table lives in ``tests/conftest.py`` (``BAD_INPUTS``) and is shared with the CLI tests.
"""

from __future__ import annotations

import hashlib
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thresholdlab.loading import DEFAULT_MAX_BYTES, inspect_report, load
from thresholdlab.predictions import DataError, sigmoid, softmax


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path, text, name="data.csv", **overrides):
    return load(write(tmp_path, name, text), **overrides)


# --------------------------------------------------------------------------------------------
# Bad input: one DataError sentence per case (table in tests/conftest.py)
# --------------------------------------------------------------------------------------------


def test_bad_input_raises_one_sentence(bad_input, tmp_path):
    path = bad_input.make(tmp_path)
    with pytest.raises(DataError) as info:
        load(path, **bad_input.overrides)
    message = str(info.value)
    assert bad_input.fragment in message
    assert "\n" not in message
    assert "Traceback" not in message
    assert message.endswith(".")


@pytest.mark.parametrize(
    ("tail", "fragment"),
    [
        (b"1,0.5,0.5,caf\xe9\n", "column 'note', row 5001: the text is not UTF-8"),
        (b"1,0.5,0.5\n", "row 5001: 3 fields but the header has 4"),
        (b"1,0.5,x,ok\n", "column 'p_b', row 5001: 'x' is not a number; fix the value"),
        (b"1,0.5,,ok\n", "column 'p_b', row 5001: the score is missing or NaN"),
    ],
)
def test_errors_far_into_a_file_name_the_right_row(tail, fragment):
    # Past the sniffed head (64 KiB) and pyarrow's first block, so the slow paths are used.
    head = b"label,p_a,p_b,note\n" + b"0,0.125,0.875,fine\n" * 5000
    with pytest.raises(DataError, match=re.escape(f"File 'late.csv', {fragment}")):
        load(head + tail + b"0,0.25,0.75,ok\n", name="late.csv")


def test_size_limit_is_checked_before_parsing(tmp_path):
    path = write(tmp_path, "small.csv", "label,p_a\n1,0.5\n0,0.25\n")
    with pytest.raises(DataError, match=r"^File 'small.csv' is 23 bytes, over the limit of 10 "
                                        r"bytes; load a sample of its rows or split it\.$"):
        load(path, max_bytes=10)
    assert DEFAULT_MAX_BYTES == 2 * 1024**3


def test_bytes_over_limit(tmp_path):
    with pytest.raises(DataError, match="is 2 KiB, over the limit of 1 KiB"):
        load(b"x" * 2048, name="big.csv", max_bytes=1024)


def test_bytes_need_a_name():
    with pytest.raises(DataError, match="needs a file name whose extension"):
        load(b"label,p\n1,0.5\n")


# --------------------------------------------------------------------------------------------
# Column roles
# --------------------------------------------------------------------------------------------


def test_multiclass_with_text_labels_any_case(tmp_path):
    pset = load_text(
        tmp_path,
        "sample_id,label,p_cat,p_dog,p_bird\n"
        "s1,cat,0.7,0.2,0.1\ns2,dog,0.1,0.8,0.1\ns3,Bird,0.2,0.2,0.6\ns4,CAT,0.5,0.3,0.2\n",
    )
    assert pset.task == "multiclass"
    assert pset.classes == ("cat", "dog", "bird")
    assert pset.labels.tolist() == [0, 1, 2, 0]
    assert pset.labels.dtype == np.int64
    assert pset.columns == {
        "id": "sample_id", "label": "label", "labels": None,
        "scores": ["p_cat", "p_dog", "p_bird"], "ignored": [],
    }
    assert pset.label_mapping == {"CAT": "cat", "cat": "cat", "dog": "dog", "Bird": "bird"}
    assert pset.ids.tolist() == ["s1", "s2", "s3", "s4"]
    assert pset.notes == (
        "Column 'sample_id' looks like a row id and is ignored for scoring.",
        "Labels name the classes, matched ignoring case: CAT -> cat, cat -> cat, dog -> dog, "
        "Bird -> bird.",
        "All scores lie in [0, 1], so they are read as probabilities.",
    )
    assert pset.warnings == ()


@pytest.mark.parametrize("id_name", ["id", "ID", "Index", "row_id", "SAMPLE_ID", "uid"])
def test_id_like_columns_are_ignored_any_case(tmp_path, id_name):
    pset = load_text(tmp_path, f"{id_name},y,p_a,p_b,p_c\n7,0,.2,.3,.5\n8,2,.1,.1,.8\n")
    assert pset.columns["id"] == id_name
    assert pset.columns["scores"] == ["p_a", "p_b", "p_c"]
    assert f"Column '{id_name}' looks like a row id and is ignored for scoring." in pset.notes


def test_unnamed_index_is_ignored(tmp_path):
    # What DataFrame.to_csv writes by default: an empty first header cell.
    pset = load_text(tmp_path, ",label,p_a,p_b,p_c\n0,0,.2,.3,.5\n1,2,.1,.1,.8\n")
    assert pset.columns["id"] is None
    assert pset.columns["ignored"] == ["Unnamed: 0"]
    assert "Column 'Unnamed: 0' looks like a saved row index and is ignored." in pset.notes
    assert pset.classes == ("a", "b", "c")


@pytest.mark.parametrize(
    "label_name",
    ["label", "Labels", "TARGET", "y", "Y_True", "true", "Class", "truth", "Ground_Truth"],
)
def test_label_column_names_any_case(tmp_path, label_name):
    pset = load_text(tmp_path, f"{label_name},p_a,p_b,p_c\n0,.2,.3,.5\n2,.1,.1,.8\n1,.1,.8,.1\n")
    assert pset.columns["label"] == label_name
    assert pset.task == "multiclass"
    assert pset.labels.tolist() == [0, 2, 1]


def test_several_label_like_columns_first_wins_and_is_noted(tmp_path):
    pset = load_text(tmp_path, "target,label,p_a,p_b,p_c\n0,2,.2,.3,.5\n1,1,.1,.8,.1\n")
    assert pset.columns["label"] == "target"
    assert pset.columns["ignored"] == ["label"]
    assert (
        "Columns 'target', 'label' all look like labels; 'target' is used "
        "(choose another with --label-col)." in pset.notes
    )


def test_text_column_naming_score_columns_is_the_label(tmp_path):
    pset = load_text(
        tmp_path,
        "species,prob_setosa,prob_versicolor,prob_virginica\n"
        "setosa,.8,.1,.1\nvirginica,.1,.2,.7\nversicolor,.2,.6,.2\n",
    )
    assert pset.columns["label"] == "species"
    assert pset.classes == ("setosa", "versicolor", "virginica")
    assert pset.labels.tolist() == [0, 2, 1]
    assert (
        "Column 'species' holds text naming the score columns, so it is read as the labels."
        in pset.notes
    )


def test_text_column_naming_unprefixed_numeric_columns(tmp_path):
    pset = load_text(tmp_path, "animal,cat,dog,bird\ndog,.1,.8,.1\nbird,.2,.2,.6\n")
    assert pset.columns["label"] == "animal"
    assert pset.classes == ("cat", "dog", "bird")
    assert pset.labels.tolist() == [1, 2]


def test_unprefixed_numeric_columns_are_scores_when_a_label_exists(tmp_path):
    pset = load_text(
        tmp_path, "wine,barolo,grignolino,barbera\n1,.7,.2,.1\n3,.1,.1,.8\n2,.2,.6,.2\n",
        label_col="wine",
    )
    assert pset.classes == ("barolo", "grignolino", "barbera")
    assert pset.labels.tolist() == [0, 2, 1]
    assert (
        "No column has a score prefix, so the numeric columns 'barolo', 'grignolino', 'barbera' "
        "are read as scores." in pset.notes
    )
    assert "Labels look 1-based: 1 -> barolo, 2 -> grignolino, 3 -> barbera." in pset.notes


def test_prefixed_scores_leave_other_numeric_columns_unused(tmp_path):
    pset = load_text(tmp_path, "label,fold,p_a,p_b,p_c\n0,1,.2,.3,.5\n2,2,.1,.1,.8\n")
    assert pset.columns["scores"] == ["p_a", "p_b", "p_c"]
    assert pset.columns["ignored"] == ["fold"]
    assert "Column 'fold' is not used." in pset.notes


@pytest.mark.parametrize("prefix", ["p_", "prob_", "proba_", "score_", "logit_", "pred_", "y_pred_",
                                    "P_", "Y_PRED_"])
def test_every_score_prefix(tmp_path, prefix):
    pset = load_text(tmp_path, f"label,{prefix}a,{prefix}b,{prefix}c\n0,.2,.3,.5\n1,.1,.8,.1\n")
    assert pset.classes == ("a", "b", "c")


def test_y_pred_prefix_is_a_score_not_a_y_truth_column(tmp_path):
    pset = load_text(
        tmp_path, "y_true,y_pred_cat,y_pred_dog,y_pred_fox\ncat,.7,.2,.1\nfox,.1,.1,.8\n"
    )
    assert pset.task == "multiclass"
    assert pset.columns["label"] == "y_true"
    assert pset.classes == ("cat", "dog", "fox")


@pytest.mark.parametrize("truth_prefix", ["y_", "true_", "label_", "target_", "y_true_"])
def test_multilabel_truth_paired_by_suffix(tmp_path, truth_prefix):
    t = truth_prefix
    pset = load_text(
        tmp_path,
        f"id,{t}b,{t}a,y_pred_a,y_pred_b\n1,1,0,0.2,0.9\n2,0,1,0.7,0.1\n3,1,1,0.6,0.8\n",
    )
    assert pset.task == "multilabel"
    assert pset.classes == ("a", "b")
    assert pset.columns["labels"] == [f"{t}a", f"{t}b"]  # in score-column order
    assert pset.labels.tolist() == [[False, True], [True, False], [True, True]]
    assert pset.label_mapping == {f"{t}a": "a", f"{t}b": "b"}
    assert pset.columns["label"] is None


def test_one_truth_column_pair_is_binary(tmp_path):
    pset = load_text(tmp_path, "y_fraud,p_fraud\n0,0.1\n1,0.8\n")
    assert pset.task == "binary"
    assert pset.classes == ("fraud",)
    assert pset.columns["label"] == "y_fraud"


def test_multilabel_with_true_false_and_minus_one(tmp_path):
    pset = load_text(tmp_path, "y_a,y_b,p_a,p_b\nTrue,-1,.2,.3\nFalse,1,.5,.9\n")
    assert pset.labels.tolist() == [[True, False], [False, True]]
    assert "Truth values -1/1 in column 'y_b' are read as absent/present." in pset.notes


# --------------------------------------------------------------------------------------------
# Task and binary naming
# --------------------------------------------------------------------------------------------


def test_binary_positive_named_by_score_suffix(tmp_path):
    pset = load_text(tmp_path, "label,p_fraud\n0,0.1\n1,0.8\n0,0.3\n")
    assert pset.task == "binary"
    assert pset.classes == ("fraud",)
    assert pset.labels.shape == (3, 1) and pset.labels.dtype == bool
    assert pset.labels[:, 0].tolist() == [False, True, False]
    assert pset.label_mapping == {"0": "not fraud", "1": "fraud"}
    assert "Labels are 0/1: 1 is the positive class 'fraud'." in pset.notes


def test_binary_positive_named_by_label_spelling_without_prefix(tmp_path):
    pset = load_text(tmp_path, "y_true,y_pred\n0,0.2\n1,0.8\n")
    assert pset.classes == ("1",)
    assert pset.columns["scores"] == ["y_pred"]
    assert (
        "No column has a score prefix, so the numeric column 'y_pred' is read as the score."
        in pset.notes
    )


def test_binary_true_false_labels(tmp_path):
    pset = load_text(tmp_path, "label,p_spam\nTrue,0.9\nFalse,0.2\n")
    assert pset.labels[:, 0].tolist() == [True, False]
    assert pset.label_mapping == {"False": "not spam", "True": "spam"}


def test_binary_minus_one_one_labels_are_noted(tmp_path):
    pset = load_text(tmp_path, "label,score_churn\n-1,0.1\n1,0.7\n-1,0.4\n")
    assert pset.labels[:, 0].tolist() == [False, True, False]
    assert "Labels are -1/1: 1 is the positive class 'churn' and -1 the negative." in pset.notes


def test_binary_text_labels_one_naming_the_class(tmp_path):
    pset = load_text(tmp_path, "label,p_fraud\nlegit,0.1\nFraud,0.9\nlegit,0.2\n")
    assert pset.classes == ("fraud",)
    assert pset.labels[:, 0].tolist() == [False, True, False]
    assert pset.label_mapping == {"legit": "not fraud", "Fraud": "fraud"}
    note = "Label 'Fraud' names the positive class 'fraud'; 'legit' is read as negative."
    assert note in pset.notes


def test_one_label_naming_no_class_says_no_label_names_the_positive_class(tmp_path):
    pset = load_text(tmp_path, "label,p_fraud\nzz,0.1\nzz,0.9\nzz,0.2\n")
    assert pset.labels[:, 0].tolist() == [False, False, False]
    assert "No label names the positive class 'fraud'; 'zz' is read as negative." in pset.notes
    assert not any("Label " in note for note in pset.notes)


def test_float_labels_that_are_whole_numbers(tmp_path):
    pset = load_text(tmp_path, "label,p_a,p_b,p_c\n0.0,.2,.3,.5\n2.0,.1,.1,.8\n1.0,.1,.8,.1\n")
    assert pset.labels.tolist() == [0, 2, 1]
    assert pset.label_mapping == {"0": "a", "1": "b", "2": "c"}
    assert "Labels are class numbers counted from 0: 0 -> a, 1 -> b, 2 -> c." in pset.notes


def test_numeric_class_names_match_labels_by_name_before_position(tmp_path):
    # Class 0 never occurs: by name 1 -> "1", not 1-based 1 -> "0".
    pset = load_text(tmp_path, "label,p_0,p_1,p_2\n1,.2,.5,.3\n2,.1,.1,.8\n")
    assert pset.labels.tolist() == [1, 2]
    assert pset.label_mapping == {"1": "1", "2": "2"}


def test_two_probability_columns_with_binary_labels_are_binary_on_the_second(tmp_path):
    pset = load_text(tmp_path, "label,p_cat,p_dog\n0,0.7,0.3\n1,0.2,0.8\n1,0.4,0.6\n")
    assert pset.task == "binary"
    assert pset.classes == ("dog",)
    np.testing.assert_array_equal(pset.scores[:, 0], [0.3, 0.8, 0.6])
    assert pset.columns["scores"] == ["p_dog"]
    assert pset.columns["ignored"] == ["p_cat"]
    assert (
        "Two score columns with binary labels: the task is binary on the second, 'p_dog' "
        "(class 'dog'), and 'p_cat' is not used; use --task multiclass to keep both."
        in pset.notes
    )


@pytest.mark.parametrize("first, second, labels", [
    ("prob_1", "prob_0", ("0", "1")), ("p_yes", "p_no", ("no", "yes")),
    ("p_True", "p_False", ("False", "True")), ("p_pos", "p_neg", ("neg", "pos")),
])
def test_two_columns_whose_names_say_the_first_is_positive_are_binary_on_it(
        tmp_path, first, second, labels):
    neg, pos = labels
    pset = load_text(tmp_path, f"label,{first},{second}\n{neg},0.3,0.7\n{pos},0.8,0.2\n"
                               f"{pos},0.6,0.4\n")
    assert pset.task == "binary" and pset.classes == (first.split("_", 1)[1],)
    np.testing.assert_array_equal(pset.scores[:, 0], [0.3, 0.8, 0.6])
    assert pset.labels[:, 0].tolist() == [False, True, True]
    assert pset.columns["scores"] == [first] and pset.columns["ignored"] == [second]
    assert any(f"binary on the first, by its class name, '{first}'" in n for n in pset.notes)


def test_an_array_whose_classes_put_the_positive_first_names_its_columns_as_saved():
    import io as io_module

    out = io_module.BytesIO()
    np.savez(out, scores=np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]]),
             labels=np.array([1, 0, 1]), classes=np.array(["1", "0"]))
    pset = load(out.getvalue(), name="two.npz")
    np.testing.assert_array_equal(pset.scores[:, 0], [0.8, 0.3, 0.6])
    assert any("binary on the first, by its class name, 'scores[:, 0]' (class '1'), and "
               "'scores[:, 1]' is not used" in note for note in pset.notes)


def test_two_logit_columns_positive_first_are_the_difference_the_other_way(tmp_path):
    text = "label,logit_1,logit_0\n0,1.0,2.5\n1,3.0,-1.0\n"
    pset = load_text(tmp_path, text)
    np.testing.assert_allclose(pset.scores[:, 0], [1.0 - 2.5, 3.0 - -1.0])
    assert pset.classes == ("1",)


def test_two_logit_columns_become_their_difference(tmp_path):
    logits = np.array([[1.0, 2.5], [3.0, -1.0], [0.25, 0.5]])
    text = "label,logit_neg,logit_pos\n" + "".join(
        f"{y},{float(a)!r},{float(b)!r}\n" for y, (a, b) in zip([1, 0, 1], logits)
    )
    pset = load_text(tmp_path, text)
    assert pset.task == "binary" and pset.classes == ("pos",)
    assert pset.score_kind == "logit" and pset.activation == "sigmoid"
    np.testing.assert_array_equal(pset.scores[:, 0], logits[:, 1] - logits[:, 0])
    np.testing.assert_allclose(pset.probabilities[:, 0], softmax(logits)[:, 1], rtol=1e-12)
    assert any("softmax over two classes equals the sigmoid of that difference" in n
               for n in pset.notes)


def test_task_override_keeps_two_classes(tmp_path):
    pset = load_text(tmp_path, "label,p_cat,p_dog\n0,0.7,0.3\n1,0.2,0.8\n", task="multiclass")
    assert pset.task == "multiclass"
    assert pset.classes == ("cat", "dog")
    assert pset.labels.tolist() == [0, 1]


# --------------------------------------------------------------------------------------------
# Score kind
# --------------------------------------------------------------------------------------------


def test_multiclass_logits_get_softmax(tmp_path):
    pset = load_text(tmp_path, "label,logit_a,logit_b,logit_c\n0,2.0,-1.0,0.5\n2,0.1,0.2,3.0\n")
    assert pset.score_kind == "logit" and pset.activation == "softmax"
    np.testing.assert_allclose(pset.probabilities, softmax(pset.scores))
    assert (
        "Scores lie outside [0, 1], so they are read as logits and turned into probabilities "
        "by softmax." in pset.notes
    )


def test_binary_logits_get_sigmoid(tmp_path):
    pset = load_text(tmp_path, "label,logit_fraud\n0,-2.0\n1,1.5\n")
    assert pset.activation == "sigmoid"
    np.testing.assert_allclose(pset.probabilities, sigmoid(pset.scores))


def test_probabilities_are_used_as_given(tmp_path):
    pset = load_text(tmp_path, "label,p_a,p_b,p_c\n0,.2,.3,.5\n1,.1,.8,.1\n")
    assert pset.score_kind == "probability" and pset.activation == "none"
    np.testing.assert_array_equal(pset.probabilities, pset.scores)


def test_score_kind_override_reads_probabilities_as_logits(tmp_path):
    pset = load_text(tmp_path, "label,p_a\n0,0.2\n1,0.9\n", score_kind="logit")
    assert pset.activation == "sigmoid"
    assert (
        "Scores are read as logits, as requested, and turned into probabilities by sigmoid."
        in pset.notes
    )


def test_rows_not_summing_to_one_warn(tmp_path):
    pset = load_text(tmp_path, "label,p_a,p_b,p_c\n0,.9,.8,.7\n1,.1,.8,.1\n2,.1,.1,.8\n")
    assert pset.warnings == (
        "Scores do not sum to 1 per row (1 of 3 rows are off by more than 0.001); "
        "thresholds still apply to them as given.",
    )


def test_scores_are_c_contiguous_float64(tmp_path):
    pset = load_text(tmp_path, "label,p_a,p_b,p_c\n0,1,0,0\n1,.1,.8,.1\n")
    for array in (pset.scores, pset.probabilities):
        assert array.dtype == np.float64 and array.flags["C_CONTIGUOUS"]
        assert array.shape == (2, 3)


# --------------------------------------------------------------------------------------------
# Degenerate but valid data
# --------------------------------------------------------------------------------------------


def test_class_with_no_positives_loads_with_a_warning(tmp_path):
    pset = load_text(tmp_path, "label,p_a,p_b,p_c\na,.6,.3,.1\nb,.1,.8,.1\n")
    assert pset.classes == ("a", "b", "c")  # never dropped
    assert pset.positives.tolist() == [1, 1, 0]
    assert pset.warnings == (
        "Class 'c' has no positive rows, so its average precision and ROC AUC are undefined.",
    )


def test_whole_file_of_one_class_is_valid(tmp_path):
    pset = load_text(tmp_path, "label,p_fraud\n1,0.9\n1,0.4\n")
    assert pset.labels[:, 0].tolist() == [True, True]
    assert pset.warnings == ("Class 'fraud' has no negative rows, so its ROC AUC is undefined.",)


def test_single_non_matching_text_label_is_negative(tmp_path):
    pset = load_text(tmp_path, "label,p_fraud\nlegit,0.1\nlegit,0.3\n")
    assert pset.labels[:, 0].tolist() == [False, False]
    assert pset.warnings == (
        "Class 'fraud' has no positive rows, so its average precision and ROC AUC are undefined.",
    )


# --------------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------------


MULTICLASS_ROWS = [(0, 0.7, 0.2, 0.1), (2, 0.1, 0.1, 0.8), (1, 0.25, 0.5, 0.25)]


@pytest.mark.parametrize(
    ("name", "sep", "note"),
    [
        ("data.csv", ",", None),
        ("data.csv", ";", "Columns are separated by semicolons."),
        ("data.csv", "\t", "Columns are separated by tabs."),
        ("data.csv", "|", "Columns are separated by pipes."),
        ("data.tsv", "\t", None),
        ("data.txt", ";", "Columns are separated by semicolons."),
    ],
)
def test_delimiters(tmp_path, name, sep, note):
    lines = [sep.join(["label", "p_a", "p_b", "p_c"])]
    lines += [sep.join(str(v) for v in row) for row in MULTICLASS_ROWS]
    pset = load_text(tmp_path, "\n".join(lines) + "\n", name=name)
    assert pset.classes == ("a", "b", "c")
    assert pset.labels.tolist() == [0, 2, 1]
    np.testing.assert_array_equal(pset.scores, [row[1:] for row in MULTICLASS_ROWS])
    if note:
        assert note in pset.notes
    else:
        assert not any(n.startswith("Columns are separated") for n in pset.notes)


def test_semicolon_csv_with_decimal_commas(tmp_path):
    pset = load_text(tmp_path, "label;p_a;p_b\n0;0,25;0,75\n1;0,5;0,5\n", task="multiclass")
    np.testing.assert_array_equal(pset.scores, [[0.25, 0.75], [0.5, 0.5]])
    assert "Numbers use a decimal comma." in pset.notes


def test_quoted_fields_with_delimiters_inside(tmp_path):
    pset = load_text(tmp_path, 'note,label,p_a,p_b,p_c\n"a, b",0,.2,.3,.5\n"c",1,.1,.8,.1\n')
    assert pset.labels.tolist() == [0, 1]
    assert pset.columns["ignored"] == ["note"]


def test_bom_crlf_and_padded_header_names(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufefflabel; p_a; p_b; p_c\r\n0;0.2;0.3;0.5\r\n2;0.1;0.1;0.8\r\n".encode())
    pset = load(path)
    assert pset.columns["label"] == "label"
    assert pset.classes == ("a", "b", "c")
    assert pset.labels.tolist() == [0, 2]


def test_parquet_keeps_a_saved_index_as_the_id(tmp_path):
    frame = pd.DataFrame({"y": [0, 1], "p_x": [0.2, 0.9]}, index=pd.Index(["u1", "u2"], name="uid"))
    path = tmp_path / "indexed.parquet"
    frame.to_parquet(path)
    pset = load(path)
    assert pset.columns["id"] == "uid"
    assert pset.ids.tolist() == ["u1", "u2"]


def test_parquet(tmp_path):
    frame = pd.DataFrame(
        {
            "row_id": ["r1", "r2", "r3"],
            "truth": pd.Series(["b", "a", "c"], dtype="category"),
            "proba_a": [0.2, 0.6, 0.1],
            "proba_b": [0.7, 0.3, 0.1],
            "proba_c": [0.1, 0.1, 0.8],
        }
    )
    path = tmp_path / "preds.parquet"
    frame.to_parquet(path)
    pset = load(path)
    assert pset.task == "multiclass" and pset.classes == ("a", "b", "c")
    assert pset.labels.tolist() == [1, 0, 2]
    assert pset.columns["id"] == "row_id"
    assert pset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_parquet_with_bool_labels(tmp_path):
    path = tmp_path / "b.parquet"
    pd.DataFrame({"label": [True, False], "p_spam": np.float32([0.9, 0.2])}).to_parquet(path)
    pset = load(path)
    assert pset.task == "binary" and pset.classes == ("spam",)
    # float32 probabilities stay float32 (test_float32_parquet_probabilities_stay_float32).
    assert pset.scores.dtype == np.float32


def test_parquet_decimal_scores_read_as_the_same_digits_in_a_csv(tmp_path):
    # SQL exports write NUMERIC(9, 6) scores as Parquet decimals; each must be the float64
    # nearest its digits, as the CSV holding those digits gives (pyarrow's direct cast is not).
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    text = [f"0.{v:06d}" for v in rng.integers(0, 10**6, 400)]
    labels = rng.integers(0, 2, 400)
    table = pa.table({
        "id": pa.array([decimal.Decimal(i) for i in range(400)], pa.decimal128(12, 0)),
        "label": pa.array([decimal.Decimal(int(v)) for v in labels], pa.decimal128(1, 0)),
        "score": pa.array([decimal.Decimal(t) for t in text], pa.decimal128(9, 6)),
    })
    pq.write_table(table, tmp_path / "sql.parquet")
    pset = load(tmp_path / "sql.parquet")
    csv = load_text(tmp_path, "id,label,score\n" + "".join(
        f"{i},{y},{t}\n" for i, (y, t) in enumerate(zip(labels, text))))
    assert pset.task == "binary" and pset.columns["scores"] == ["score"]
    assert pset.scores.dtype == np.float64
    np.testing.assert_array_equal(pset.scores, csv.scores)
    np.testing.assert_array_equal(pset.labels, csv.labels)
    assert pset.ids.dtype == np.int64 and pset.ids.tolist() == list(range(400))


def test_parquet_missing_decimal_score_names_its_row(tmp_path):
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    scores = pa.array([decimal.Decimal("0.25"), None, decimal.Decimal("0.5")], pa.decimal128(9, 6))
    pq.write_table(pa.table({"label": [0, 1, 1], "score": scores}), tmp_path / "gap.parquet")
    with pytest.raises(DataError, match=r"^File 'gap.parquet', column 'score', row 2: the score "
                                        r"is missing or NaN"):
        load(tmp_path / "gap.parquet")


def _score_frame(task, scores, labels, dtype):
    """A prediction table with score columns of ``dtype`` (float32 values either way)."""
    k = scores.shape[1]
    frame = pd.DataFrame({"id": np.arange(len(scores))})
    if task == "multiclass":
        frame["label"] = np.array([f"c{j}" for j in range(k)])[labels]
    for j in range(k):
        if task == "multilabel":
            frame[f"y_c{j}"] = labels[:, j].astype(np.int8)
        elif task == "binary":
            frame["label"] = labels[:, 0].astype(np.int8)
        frame[f"p_c{j}"] = scores[:, j].astype(dtype)
    return frame


def _nasty_thresholds(scores32, rng, count=25):
    """Thresholds on float32 scores, one float64 ulp either side, and between them."""
    values = np.unique(scores32).astype(np.float64)
    pool = np.concatenate((
        values, np.nextafter(values, np.inf), np.nextafter(values, -np.inf),
        (values[:-1] + values[1:]) / 2, [0.0, 1.0, 1e-300],
    ))
    return [rng.choice(pool, size=scores32.shape[1]) for _ in range(count)]


@pytest.mark.parametrize(
    ("task", "rules"),
    [
        ("binary", [("threshold", "none")]),
        ("multilabel", [("threshold", "none"), ("threshold", "at_least_one")]),
        ("multiclass", [("argmax", "abstain"), ("threshold_argmax", "fallback_argmax")]),
    ],
)
def test_float32_parquet_probabilities_stay_float32(tmp_path, task, rules):
    from thresholdlab.curves import CurveIndex
    from thresholdlab.decisions import DecisionRule, decide
    from thresholdlab.metrics import evaluate, ranking_metrics
    from thresholdlab.synthetic import synthetic_scores

    scores, labels = synthetic_scores(task, 2000, 4, seed=3, dtype=np.float32)
    scores = np.round(scores, 3).astype(np.float32)  # ties, and rows that do not sum to 1
    loaded = {}
    for dtype in (np.float32, np.float64):
        path = tmp_path / f"{task}_{np.dtype(dtype).name}.parquet"
        _score_frame(task, scores, labels, dtype).to_parquet(path)
        loaded[dtype] = load(path)
    p32, p64 = loaded[np.float32], loaded[np.float64]
    assert p32.scores.dtype == p32.probabilities.dtype == np.float32
    assert p64.scores.dtype == p64.probabilities.dtype == np.float64
    assert p32.scores.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(p32.scores, p64.scores)
    np.testing.assert_array_equal(p32.labels, p64.labels)
    assert (p32.task, p32.score_kind, p32.activation) == (p64.task, "probability", "none")
    assert (p32.notes, p32.warnings) == (p64.notes, p64.warnings)
    if task == "multiclass":
        assert p32.warnings  # the row-sum warning, counted in float64 for both
    rng = np.random.default_rng(8)
    for rule_name, option in rules:
        rule = DecisionRule(task, rule_name, option)
        i32, i64 = CurveIndex.build(p32, rule), CurveIndex.build(p64, rule)
        r32, r64 = ranking_metrics(i32), ranking_metrics(i64)
        for t in _nasty_thresholds(p32.scores, rng):
            np.testing.assert_array_equal(
                decide(p32.probabilities, t, rule), decide(p64.probabilities, t, rule)
            )
            report32 = evaluate(i32, t, ranking=r32).to_dict()
            assert report32 == evaluate(i64, t, ranking=r64).to_dict()


@pytest.mark.parametrize("task", ["binary", "multilabel", "multiclass"])
def test_float32_parquet_logits_become_float64(tmp_path, task):
    from thresholdlab.synthetic import synthetic_scores

    scores, labels = synthetic_scores(task, 500, 3, seed=5, logits=True, dtype=np.float32)
    path = tmp_path / "logits.parquet"
    _score_frame(task, scores, labels, np.float32).to_parquet(path)
    pset = load(path)
    assert pset.score_kind == "logit"
    assert pset.scores.dtype == pset.probabilities.dtype == np.float64
    np.testing.assert_array_equal(pset.scores, scores.astype(np.float64))
    activate = softmax if task == "multiclass" else sigmoid
    np.testing.assert_array_equal(pset.probabilities, activate(scores.astype(np.float64)))


def test_two_float32_logit_columns_are_subtracted_in_float64(tmp_path):
    neg, pos = np.float32([0.1, -2.5, 3.25]), np.float32([1.7, 0.3, -0.9])
    path = tmp_path / "two.parquet"
    pd.DataFrame({"label": [1, 0, 0], "logit_no": neg, "logit_yes": pos}).to_parquet(path)
    pset = load(path)
    assert pset.scores.dtype == np.float64
    difference = pos.astype(np.float64) - neg.astype(np.float64)
    np.testing.assert_array_equal(pset.scores[:, 0], difference)


def test_mixed_float32_and_float64_scores_load_as_float64(tmp_path):
    path = tmp_path / "mixed.parquet"
    pd.DataFrame(
        {"label": [0, 1], "p_a": np.float32([0.25, 0.5]), "p_b": [0.75, 0.5]}
    ).to_parquet(path)
    assert load(path).scores.dtype == np.float64


def test_float32_npz_probabilities_stay_float32(tmp_path):
    path = tmp_path / "p.npz"
    scores = np.float32([[0.9, 0.1], [0.3, 0.6]])
    np.savez(path, scores=scores, labels=np.array([[1, 0], [0, 1]]))
    pset = load(path)
    assert pset.scores.dtype == np.float32
    np.testing.assert_array_equal(pset.scores, scores)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_pt_probabilities_keep_float32_and_widen_the_rest(tmp_path, dtype):
    torch = pytest.importorskip("torch")
    path = tmp_path / "p.pt"
    scores = torch.tensor([[0.5, 0.25, 0.25], [0.125, 0.75, 0.125], [0.25, 0.25, 0.5]],
                          dtype=getattr(torch, dtype))  # values exact in every dtype here
    torch.save({"scores": scores, "labels": torch.tensor([0, 1, 2])}, path)
    pset = load(path)
    assert pset.scores.dtype == (np.float32 if dtype == "float32" else np.float64)
    np.testing.assert_array_equal(pset.probabilities, scores.double().numpy())


def test_parquet_from_path_bytes_and_upload_agree(tmp_path):
    path = tmp_path / "same.parquet"
    pd.DataFrame({"label": [0, 1, 1], "p_x": np.float32([0.2, 0.7, 0.9])}).to_parquet(path)
    data = path.read_bytes()

    class Upload(io.BytesIO):
        name = "same.parquet"

    sets = [load(path), load(data, name="same.parquet"), load(Upload(data))]
    for pset in sets:
        assert pset.sha256 == hashlib.sha256(data).hexdigest()
        np.testing.assert_array_equal(pset.scores, sets[0].scores)
        assert pset.scores.dtype == np.float32


def test_npz_multiclass_with_classes(tmp_path):
    path = tmp_path / "val.npz"
    scores = np.array([[2.0, 0.1, -1.0], [0.0, 3.0, 1.0]], dtype=np.float32)
    np.savez(path, scores=scores, labels=np.array([0, 1]), classes=np.array(["x", "y", "z"]))
    pset = load(path)
    assert pset.task == "multiclass" and pset.classes == ("x", "y", "z")
    assert pset.activation == "softmax"
    np.testing.assert_array_equal(pset.scores, scores.astype(np.float64))
    assert pset.columns == {"id": None, "label": "labels", "labels": None, "scores": ["scores"],
                            "ignored": []}


def test_npz_big_endian_arrays_load_as_their_values(tmp_path):
    path = tmp_path / "be.npz"
    scores = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.2, 0.5, 0.3]])
    np.savez(path, scores=scores.astype(">f8"), labels=np.array([0, 2, 1], dtype=">i2"))
    pset = load(path)
    assert pset.task == "multiclass" and pset.labels.tolist() == [0, 2, 1]
    np.testing.assert_array_equal(pset.scores, scores)


@pytest.mark.parametrize("names", [["a", "c", "c"], ["x", "x"]])
def test_npz_class_named_twice_is_one_sentence(tmp_path, names):
    path = tmp_path / "twice.npz"
    scores = np.full((2, len(names)), 1 / len(names))
    np.savez(path, scores=scores, labels=np.array([0, 1]), classes=np.array(names))
    with pytest.raises(DataError, match=r"^File 'twice.npz': 'classes' names class '\w' twice; "
                                        r"give each score column its own name\.$"):
        load(path)


def _save_arrays(path, **arrays):
    if path.suffix == ".pt":
        torch = pytest.importorskip("torch")
        torch.save({k: torch.as_tensor(v) if isinstance(v, np.ndarray) and v.dtype.kind in "biuf"
                    else v for k, v in arrays.items()}, path)
    else:
        np.savez(path, **arrays)
    return path


_NPZ_EXAMPLE = "such as numpy.savez(path, scores=..., labels=..., classes=[...])."
_PT_EXAMPLE = "such as torch.save({'scores': ..., 'labels': ..., 'classes': [...]}, path)."


@pytest.mark.parametrize(("name", "scores", "labels", "message"), [
    ("m.npz", np.eye(3), np.array(["cat", "dog", "bird"]),
     "File 'm.npz', array 'labels' holds text labels ('bird', 'cat', 'dog') but the file has no "
     "'classes' array naming the score columns; save one with one name per score column, in "
     "their order, " + _NPZ_EXAMPLE),
    ("m.pt", np.eye(3), ["cat", "dog", "bird"],
     "File 'm.pt', tensor 'labels' holds text labels ('bird', 'cat', 'dog') but the dict has no "
     "'classes' entry naming the score columns; save one with one name per score column, in "
     "their order, " + _PT_EXAMPLE),
    ("b.npz", np.array([0.2, 0.9]), np.array(["ham", "spam"]),
     "File 'b.npz', array 'labels' holds text labels ('ham', 'spam') but the file has no "
     "'classes' array naming the score columns; save one with the names of the negative and "
     "the positive class, in that order, " + _NPZ_EXAMPLE),
    ("b.npz", np.eye(3), np.array([0, 1, 5]),
     "File 'b.npz', array 'labels', row 3: label '5' matches no class; labels must name a class "
     "(class_0, class_1, class_2) or number them 0..2 (or 1..3), so fix the label."),
    ("c.npz", np.array([0.2, 0.9, 0.5]), np.array([0, 1, 3]),
     "File 'c.npz', array 'labels', row 3: label '3' matches no class; binary labels must be "
     "0/1, True/False or -1/1, so fix the label."),
])
def test_array_label_errors_say_what_to_save_not_which_columns(tmp_path, name, scores, labels,
                                                               message):
    path = _save_arrays(tmp_path / name, scores=scores, labels=labels)
    with pytest.raises(DataError) as info:
        load(path)
    assert str(info.value) == message


def test_array_labels_matching_no_saved_class_name_it(tmp_path):
    path = _save_arrays(tmp_path / "n.npz", scores=np.eye(3), labels=np.array(["a", "b", "z"]),
                        classes=np.array(["a", "b", "c"]))
    with pytest.raises(DataError, match=re.escape(
            "File 'n.npz', array 'labels', row 3: label 'z' matches no class; labels must name a "
            "class (a, b, c) or number them 0..2 (or 1..3), so fix the label or the class names "
            "saved under 'classes'.")):
        load(path)


@pytest.mark.parametrize(("arrays", "overrides", "message"), [
    ({"scores": np.eye(2), "labels": np.array([0, 1])}, {"label_col": "labels"},
     "File 'a.npz' holds arrays, not columns, so --label-col, --label-cols and --score-cols do "
     "not apply; leave them out, as the scores, labels and class names are read from the "
     "entries named 'scores', 'labels' and 'classes'."),
    ({"scores": np.ones((2, 2, 2)), "labels": np.array([0, 1])}, {},
     "File 'a.npz', array 'scores' has 3 dimensions; save it with shape (rows,) or "
     "(rows, classes)."),
    ({"scores": np.eye(3), "labels": np.eye(3)[:, :2]}, {},
     "File 'a.npz': array 'labels' has 2 columns but 'scores' has 3; save one 0/1 truth column "
     "per score column (multi-label) or one label per row."),
])
def test_array_shape_and_option_errors_say_what_to_do(tmp_path, arrays, overrides, message):
    path = _save_arrays(tmp_path / "a.npz", **arrays)
    with pytest.raises(DataError) as info:
        load(path, **overrides)
    assert str(info.value) == message


@pytest.mark.parametrize(("scores", "labels", "task", "message"), [
    (np.eye(3), np.eye(3), "binary",
     "File 't.npz' has one truth column per class, which is multi-label data; for binary data "
     "save one label per row."),
    (np.eye(3), np.array([0, 1, 2]), "multilabel",
     "File 't.npz' has a single label column; multi-label data needs one 0/1 truth column per "
     "class, saved as array 'labels' of shape (rows, classes)."),
    (np.array([0.1, 0.8]), np.array([0, 1]), "multiclass",
     "File 't.npz' has one score column; multi-class data needs one per class, saved as array "
     "'scores' of shape (rows, classes)."),
    (np.eye(3), np.array([0, 1, 2]), "binary",
     "File 't.npz' has 3 score columns; binary data needs one (or two, for the negative and "
     "positive class), so save only those."),
])
def test_task_override_errors_for_arrays_say_what_to_save(tmp_path, scores, labels, task,
                                                          message):
    path = _save_arrays(tmp_path / "t.npz", scores=scores, labels=labels)
    with pytest.raises(DataError) as info:
        load(path, task=task)
    assert str(info.value) == message


@pytest.mark.parametrize(("error", "message"), [
    (PermissionError(13, "Permission denied"),
     "cannot be read: permission denied; give your user read access to it (or copy it "
     "somewhere readable) and load it again."),
    (OSError(5, "Input/output error"),
     "cannot be read (Input/output error); check the path and the disk, and load it again."),
])
def test_unreadable_files_say_what_to_do(tmp_path, monkeypatch, error, message):
    path = write(tmp_path, "locked.csv", "label,p_a\n1,0.5\n")

    def refuse(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(type(path), "open", refuse)
    with pytest.raises(DataError) as info:
        load(path)
    assert str(info.value) == f"File '{path}' {message}"


def test_npz_bytes_classes_and_labels_are_read_as_text(tmp_path):
    # numpy saves byte strings (dtype "S") as they are: np.array([b"cat", b"dog"]).
    path = tmp_path / "bytes.npz"
    labels = np.array([b"cat", b"bird", b"dog", b"Bird"])
    np.savez(path, scores=np.eye(3)[[0, 2, 1, 2]], labels=labels,
             classes=np.array([b"cat", b"dog", b"bird"]))
    pset = load(path)
    assert pset.classes == ("cat", "dog", "bird")
    assert pset.labels.tolist() == [0, 2, 1, 2]
    assert pset.label_mapping == {"cat": "cat", "dog": "dog", "bird": "bird", "Bird": "bird"}


def test_npz_bytes_binary_labels_and_bytes_that_are_no_text(tmp_path):
    path = tmp_path / "bin.npz"
    np.savez(path, scores=np.array([0.1, 0.9, 0.4]), labels=np.array([b"no", b"yes", b"no"]))
    pset = load(path)
    assert pset.classes == ("yes",) and pset.labels[:, 0].tolist() == [False, True, False]
    np.savez(path, scores=np.eye(2), labels=np.array([0, 1]), classes=np.array([b"\xff", b"b"]))
    with pytest.raises(DataError, match=r"^File 'bin.npz', 'classes' holds bytes that are not "
                                        r"UTF-8 text; save the class names as UTF-8 strings "
                                        r"\(or numbers\)\.$"):
        load(path)


def test_pt_classes_as_bytes_are_read_as_text(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "val.pt"
    torch.save({"scores": torch.eye(3), "labels": torch.tensor([0, 1, 2]),
                "classes": [b"a", b"b", b"c"]}, path)
    assert load(path).classes == ("a", "b", "c")


def test_npz_binary_without_classes_is_named_by_positive_label(tmp_path):
    path = tmp_path / "bin.npz"
    np.savez(path, scores=np.array([0.1, 0.9, 0.4]), labels=np.array([0, 1, 0]))
    pset = load(path)
    assert pset.task == "binary" and pset.classes == ("1",)
    assert pset.labels[:, 0].tolist() == [False, True, False]


def test_npz_multilabel(tmp_path):
    path = tmp_path / "ml.npz"
    labels = np.array([[1, 0, 0], [0, 1, 1]])
    np.savez(path, scores=np.array([[0.9, 0.2, 0.1], [0.1, 0.6, 0.7]]), labels=labels)
    pset = load(path)
    assert pset.task == "multilabel"
    assert pset.classes == ("class_0", "class_1", "class_2")
    np.testing.assert_array_equal(pset.labels, labels.astype(bool))


def test_npz_one_based_labels_without_classes(tmp_path):
    path = tmp_path / "ob.npz"
    np.savez(path, scores=np.eye(3)[[0, 2, 1]], labels=np.array([1, 3, 2]))
    pset = load(path)
    assert pset.labels.tolist() == [0, 2, 1]
    assert "Labels look 1-based: 1 -> class_0, 2 -> class_1, 3 -> class_2." in pset.notes


def test_pt_dict_of_tensors(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "val.pt"
    scores = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=torch.bfloat16)
    torch.save({"scores": scores, "labels": torch.tensor([0, 2]), "classes": ["a", "b", "c"]}, path)
    pset = load(path)
    assert pset.task == "multiclass" and pset.classes == ("a", "b", "c")
    assert pset.labels.tolist() == [0, 2]
    np.testing.assert_array_equal(pset.scores, scores.to(torch.float64).numpy())


def test_pt_multilabel_bool_tensor(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "ml.pt"
    truth = torch.tensor([[True, False], [False, True]])
    torch.save({"scores": torch.tensor([[3.0, -2.0], [-1.0, 4.0]]), "labels": truth}, path)
    pset = load(path)
    assert pset.task == "multilabel" and pset.activation == "sigmoid"
    np.testing.assert_array_equal(pset.labels, truth.numpy())


def test_bytes_and_file_like_sources(tmp_path):
    data = b"label,p_a\n0,0.2\n1,0.9\n"
    from_bytes = load(data, name="upload.csv")
    assert from_bytes.file == "upload.csv"
    assert from_bytes.sha256 == hashlib.sha256(data).hexdigest()

    class Upload(io.BytesIO):  # what Streamlit's UploadedFile looks like to us
        name = "up.csv"

    from_upload = load(Upload(data))
    assert from_upload.file == "up.csv"
    np.testing.assert_array_equal(from_upload.scores, from_bytes.scores)


# --------------------------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------------------------


def test_overrides_win_over_detection(tmp_path):
    text = "label,target,p_a,p_b,p_c,extra\n0,b,.2,.3,.5,7\n1,c,.1,.8,.1,9\n"
    pset = load_text(tmp_path, text, label_col="target", score_cols=["p_b", "p_c"])
    assert pset.columns["label"] == "target"
    assert pset.task == "binary" and pset.classes == ("c",)
    assert pset.labels[:, 0].tolist() == [False, True]


def test_score_cols_override_as_comma_string(tmp_path):
    pset = load_text(tmp_path, "y,a,b,c\n0,.2,.3,.5\n2,.1,.1,.8\n", score_cols="a, b, c")
    assert pset.classes == ("a", "b", "c")


def test_label_cols_override_pairs_by_order(tmp_path):
    pset = load_text(
        tmp_path,
        "has_cat,has_dog,cat_score,dog_score\n1,0,.9,.1\n0,1,.2,.7\n",
        label_cols=["has_cat", "has_dog"], score_cols=["cat_score", "dog_score"],
    )
    assert pset.task == "multilabel"
    assert pset.classes == ("cat_score", "dog_score")
    assert pset.labels.tolist() == [[True, False], [False, True]]


def test_label_cols_override_pairs_by_suffix(tmp_path):
    pset = load_text(tmp_path, "y_a,y_b,p_b,p_a\n1,0,.1,.9\n0,1,.7,.2\n", label_cols=["y_b", "y_a"])
    assert pset.task == "multilabel"
    assert pset.classes == ("b", "a")
    assert pset.columns["scores"] == ["p_b", "p_a"]
    assert pset.labels.tolist() == [[False, True], [True, False]]


def test_one_based_rule_wins_when_class_zero_is_absent(tmp_path):
    # the input-format rules: labels within 1..K with no 0 are 1-based, even when they also fit 0..K-1.
    pset = load_text(tmp_path, "label,p_a,p_b,p_c\n1,.2,.3,.5\n2,.1,.1,.8\n")
    assert pset.labels.tolist() == [0, 1]
    assert "Labels look 1-based: 1 -> a, 2 -> b." in pset.notes


def test_two_columns_with_only_label_one_stay_positive(tmp_path):
    pset = load_text(tmp_path, "label,p_neg,p_pos\n1,.2,.8\n1,.6,.4\n")
    assert pset.labels[:, 0].tolist() == [True, True]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"task": "nonsense"}, "Task 'nonsense' is not one of binary, multiclass, multilabel."),
        ({"score_kind": "odds"}, "Score kind 'odds' is not one of probability, logit."),
        ({"label_col": "label", "label_cols": ["y_a"]}, "Give either one label column"),
        ({"label_col": "label", "score_cols": ["label"]}, "Column 'label' is given two roles"),
        ({"task": "multilabel"}, "multi-label data needs one 0/1 truth column per class"),
        ({"task": "multiclass", "score_cols": ["p_a"]}, "multi-class data needs one per class"),
    ],
)
def test_invalid_overrides(tmp_path, overrides, fragment):
    with pytest.raises(DataError) as info:
        load_text(tmp_path, "label,p_a,p_b,p_c\n0,.2,.3,.5\n", **overrides)
    assert fragment in str(info.value)


def test_overrides_find_header_names_padded_with_spaces(tmp_path):
    pset = load_text(
        tmp_path, "label, p_a, p_b, p_c\n0,.2,.3,.5\n2,.1,.1,.8\n", score_cols="p_a,p_b,p_c"
    )
    assert pset.columns["scores"] == [" p_a", " p_b", " p_c"]
    assert pset.labels.tolist() == [0, 2]


# --------------------------------------------------------------------------------------------
# Files as spreadsheets, R, pandas and Keras write them
# --------------------------------------------------------------------------------------------


def test_excel_sep_line_names_the_delimiter(tmp_path):
    pset = load_text(tmp_path, "sep=;\r\nlabel;p_a;p_b;p_c\r\n0;0,7;0,2;0,1\r\n2;0,1;0,1;0,8\r\n")
    assert pset.labels.tolist() == [0, 2]
    np.testing.assert_array_equal(pset.scores, [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    assert pset.notes[:2] == (
        "The first line, 'sep=;', names the delimiter and is skipped.",
        "Numbers use a decimal comma.",
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_as_excel_saves_unicode_text(tmp_path, encoding):
    path = tmp_path / "unicode.txt"
    text = "label\tp_caf\u00e9\tp_b\r\ncaf\u00e9\t0,7\t0,3\r\nb\t0,1\t0,9\r\n"
    path.write_bytes(text.encode(encoding))
    pset = load(path, task="multiclass")
    assert pset.classes == ("caf\u00e9", "b")
    assert pset.labels.tolist() == [0, 1]
    np.testing.assert_array_equal(pset.scores, [[0.7, 0.3], [0.1, 0.9]])
    assert pset.notes[0] == "The file is UTF-16 text and is read as such."


def test_tsv_with_decimal_commas(tmp_path):
    pset = load_text(tmp_path, "label\tp_a\tp_b\tp_c\n0\t0,7\t0,2\t0,1\n", name="data.tsv")
    np.testing.assert_array_equal(pset.scores, [[0.7, 0.2, 0.1]])
    assert "Numbers use a decimal comma." in pset.notes


def test_empty_column_from_trailing_delimiters_is_ignored_as_such(tmp_path):
    pset = load_text(tmp_path, "label,p_a,p_b,p_c,\n0,.2,.3,.5,\n2,.1,.1,.8,\n")
    assert pset.columns["ignored"] == ["Unnamed: 4"]
    assert "Column 'Unnamed: 4' has no name and no values, so it is ignored." in pset.notes
    assert not any("saved row index" in note for note in pset.notes)


def test_header_names_with_spaces_hyphens_and_dots(tmp_path):
    pset = load_text(
        tmp_path,
        "Sample ID,TRUE_LABEL,Prob Class A,Prob Class B,prob-class-c\n"
        "s1,Class A,.7,.2,.1\ns2,class-c,.1,.1,.8\n",
    )
    assert pset.columns == {
        "id": "Sample ID", "label": "TRUE_LABEL", "labels": None,
        "scores": ["Prob Class A", "Prob Class B", "prob-class-c"], "ignored": [],
    }
    assert pset.classes == ("Class A", "Class B", "class-c")
    assert pset.labels.tolist() == [0, 2]


@pytest.mark.parametrize("name", ["true_label", "y_label", "target_class", "true.label"])
def test_truth_prefix_before_a_label_name_is_the_label_column(tmp_path, name):
    pset = load_text(tmp_path, f"{name},p_a,p_b,p_c\n0,.2,.3,.5\n2,.1,.1,.8\n")
    assert pset.columns["label"] == name
    assert pset.labels.tolist() == [0, 2]


def test_multilabel_names_with_spaces(tmp_path):
    pset = load_text(tmp_path, "Y Cat,Y Dog,P Cat,P Dog\n1,0,.9,.1\n0,1,.2,.8\n")
    assert pset.task == "multilabel"
    assert pset.classes == ("Cat", "Dog")
    assert pset.labels.tolist() == [[True, False], [False, True]]


@pytest.mark.parametrize(
    ("text", "dropped"),
    [
        ("label,pred_label,proba_a,proba_b,proba_c\n0,0,.7,.2,.1\n1,2,.1,.3,.6\n", "pred_label"),
        ("label,pred_class,p_cat,p_dog,p_bird\ncat,cat,.7,.2,.1\ndog,bird,.1,.3,.6\n",
         "pred_class"),
        ("label,predicted,cat,dog,bird\n0,0,.7,.2,.1\n2,2,.1,.1,.8\n", "predicted"),
    ],
)
def test_predicted_label_columns_are_not_read_as_scores(tmp_path, text, dropped):
    pset = load_text(tmp_path, text)
    assert pset.task == "multiclass"
    assert len(pset.classes) == 3 and dropped not in pset.columns["scores"]
    assert pset.columns["ignored"] == [dropped]
    assert pset.score_kind == "probability"
    assert (
        f"Column '{dropped}' holds predicted labels, not scores (every value is a label, a class "
        "name or a class number), so it is not used; name it with --score-cols to use it."
    ) in pset.notes


def test_several_text_columns_naming_the_classes_are_noted(tmp_path):
    pset = load_text(
        tmp_path, "predicted,actual,p_cat,p_dog,p_bird\ncat,cat,.7,.2,.1\nbird,dog,.1,.3,.6\n"
    )
    assert pset.columns["label"] == "predicted"
    assert (
        "Columns 'predicted', 'actual' all hold text naming the score columns; the first, "
        "'predicted', is read as the labels (choose another with --label-col)." in pset.notes
    )
    assert load_text(tmp_path, "predicted,actual,p_cat,p_dog,p_bird\ncat,cat,.7,.2,.1\n",
                     label_col="actual").columns["label"] == "actual"


def test_score_column_of_whole_zeros_and_ones_stays_a_score(tmp_path):
    # R writes the doubles 0 and 1 without a decimal point: still probabilities.
    pset = load_text(tmp_path, "label,p_a,p_b,p_c\n0,.7,.3,0\n2,.1,.1,1\n")
    assert pset.columns["scores"] == ["p_a", "p_b", "p_c"]


@pytest.mark.parametrize("header, row", [
    ("patient_id,label,score", "{i},{y},{p}"),
    ("label,score,user_id", "{y},{p},{i}"),
    ("Image ID,label,score", "{i},{y},{p}"),
    ("id_user,label,score", "{i},{y},{p}"),
    ("uuid,label,score", "u{i},{y},{p}"),
])
def test_id_like_names_are_ids_not_scores(tmp_path, header, row):
    rng = np.random.default_rng(5)
    lines = [row.format(i=1000 + i, y=i % 2, p=round(rng.random(), 4)) for i in range(40)]
    pset = load_text(tmp_path, "\n".join([header, *lines]) + "\n")
    assert pset.task == "binary" and pset.columns["scores"] == ["score"]
    id_column = next(c for c in header.split(",") if c not in ("label", "score"))
    assert pset.columns["id"] == id_column
    assert f"Column '{id_column}' looks like a row id and is ignored for scoring." in pset.notes
    assert pset.ids[0] in (1000, "u1000")


def test_an_id_like_column_is_no_class_of_a_multiclass_file(tmp_path):
    text = "image_id,label,cat,dog,bird\n7,cat,.7,.2,.1\n8,dog,.2,.7,.1\n9,bird,.1,.1,.8\n"
    pset = load_text(tmp_path, text)
    assert pset.classes == ("cat", "dog", "bird") and pset.columns["id"] == "image_id"


@pytest.mark.parametrize("name", ["class_id", "category_id", "true_label_id", "predicted_id"])
def test_names_of_class_numbers_are_not_ids(tmp_path, name):
    """``class_id`` holds a class, not a row: never the id (here a column left unused)."""
    pset = load_text(tmp_path, f"label,{name},p_a,p_b,p_c\n0,0,.7,.2,.1\n1,1,.2,.7,.1\n"
                               "2,2,.1,.1,.8\n")
    assert pset.columns["id"] is None and name in pset.columns["ignored"]


def test_a_score_prefix_before_id_names_a_class(tmp_path):
    pset = load_text(tmp_path, "label,p_id,p_name,p_x\nid,.7,.2,.1\nname,.2,.7,.1\nx,.1,.1,.8\n")
    assert pset.classes == ("id", "name", "x") and pset.columns["id"] is None


def test_a_0_1_prediction_beside_an_unprefixed_score_is_left_out(tmp_path):
    rng = np.random.default_rng(6)
    p = rng.random(50).round(4)
    lines = [f"{i % 2},{q},{int(q >= 0.5)}" for i, q in enumerate(p)]
    pset = load_text(tmp_path, "label,proba,pred\n" + "\n".join(lines) + "\n")
    assert pset.task == "binary" and pset.columns["scores"] == ["proba"]
    np.testing.assert_array_equal(pset.scores[:, 0], p)
    assert any("Column 'pred' holds predicted labels" in note for note in pset.notes)


def _labels_and_scores(counted_from, n=300, seed=0):
    """Labels 1 and 2 of classes cat, dog, bird, whose scores favour the class they name when
    counted from ``counted_from``."""
    rng = np.random.default_rng(seed)
    y = rng.integers(1, 3, n)
    p = rng.dirichlet([1, 1, 1], n)
    p[np.arange(n), y - counted_from] += 1.5
    p /= p.sum(axis=1, keepdims=True)
    return "label,p_cat,p_dog,p_bird\n" + "".join(
        f"{a},{b[0]:.4f},{b[1]:.4f},{b[2]:.4f}\n" for a, b in zip(y, p))


def test_labels_read_1_based_that_the_scores_say_count_from_0_get_a_warning(tmp_path):
    pset = load_text(tmp_path, _labels_and_scores(counted_from=0))
    assert "Labels look 1-based: 1 -> cat, 2 -> dog." in pset.notes  # the input rule stands
    [warning] = [w for w in pset.warnings if "read as 1-based" in w]
    top = pset.probabilities.argmax(axis=1)
    as_read, from_zero = np.mean(top == pset.labels), np.mean(top == pset.labels + 1)
    assert from_zero > as_read + 0.2
    assert warning == (
        "Labels 1..2 are read as 1-based, as labels without a 0 are, but each row's top-scored "
        f"class matches them counted from 0 in {from_zero:.0%} of rows against {as_read:.0%} "
        "as read; if they count from 0, save them as class names (or add 1 to each) and load "
        "the file again.")


def test_labels_that_are_1_based_get_no_warning(tmp_path):
    pset = load_text(tmp_path, _labels_and_scores(counted_from=1))
    assert not [w for w in pset.warnings if "read as 1-based" in w]
    # Labels 1..3 of three classes cannot count from 0: nothing to compare.
    pset = load_text(tmp_path, "label,p_a,p_b,p_c\n1,.1,.1,.8\n2,.8,.1,.1\n3,.1,.8,.1\n")
    assert not [w for w in pset.warnings if "read as 1-based" in w]


@pytest.mark.parametrize("text, task, scores", [
    # R writes a class's probabilities of exactly 0 or 1 as whole numbers: still a class.
    ("label,a,b,c\na,0.9,0.1,0\nb,0.2,0.8,0\na,0.6,0.4,0\nb,0.3,0.7,0\n", "multiclass",
     ["a", "b", "c"]),
    ("label,neg,pos\n0,0.9,0\n1,0.2,1\n0,0.6,0\n", "binary", ["pos"]),
])
def test_a_0_1_column_not_named_as_predictions_stays_a_score(tmp_path, text, task, scores):
    pset = load_text(tmp_path, text)
    assert pset.task == task and pset.columns["scores"] == scores


def test_missing_value_words_that_name_classes_are_labels(tmp_path):
    pset = load_text(
        tmp_path, "label,p_EU,p_NA,p_none\nEU,.7,.2,.1\nNA,.1,.8,.1\nNone,.1,.1,.8\n"
    )
    assert pset.classes == ("EU", "NA", "none")
    assert pset.labels.tolist() == [0, 1, 2]


def test_missing_value_word_in_a_score_column_is_a_missing_score(tmp_path):
    with pytest.raises(DataError, match=r"column 'p_b', row 2: the score is missing or NaN"):
        load_text(tmp_path, "label,p_a,p_b\n0,.5,.5\n1,.2,N/A\n")


def test_labels_with_surrounding_spaces_are_noted(tmp_path):
    pset = load_text(tmp_path, 'label,p_cat,p_dog\n" cat",.7,.3\n"dog ",.1,.9\n', task="multiclass")
    assert pset.labels.tolist() == [0, 1]
    assert (
        "Labels name the classes, matched ignoring case and surrounding spaces: ' cat' -> cat, "
        "'dog ' -> dog." in pset.notes
    )


def test_yes_no_labels_are_true_false(tmp_path):
    pset = load_text(tmp_path, "label,p_churn\nYes,.8\nNo,.1\nyes,.6\n")
    assert pset.labels[:, 0].tolist() == [True, False, True]
    assert "Labels are yes/no: Yes is the positive class 'churn'." in pset.notes
    truth = load_text(tmp_path, "y_a,y_b,p_a,p_b\nyes,no,.9,.1\nno,yes,.2,.8\n")
    assert truth.labels.tolist() == [[True, False], [False, True]]


@pytest.mark.parametrize(
    ("positive", "negative", "how"),
    [("Positive", "Negative", "positive/negative"), ("POSITIVE", "negative", "positive/negative"),
     ("pos", "neg", "pos/neg"), ("Pos", "NEG", "pos/neg")],
)
def test_positive_negative_labels_are_true_false(tmp_path, positive, negative, how):
    pset = load_text(tmp_path, f"label,score\n{positive},.8\n{negative},.1\n{positive},.6\n")
    assert pset.task == "binary" and pset.classes == (positive,)
    assert pset.labels[:, 0].tolist() == [True, False, True]
    assert pset.label_mapping == {negative: f"not {positive}", positive: positive}
    assert f"Labels are {how}: {positive} is the positive class '{positive}'." in pset.notes
    named = load_text(tmp_path, f"label,p_spam\n{positive},.8\n{negative},.1\n")
    assert named.classes == ("spam",) and named.labels[:, 0].tolist() == [True, False]


def test_labels_naming_the_class_win_over_positive_negative_words(tmp_path):
    # A score column named after "negative" says which label it scores.
    pset = load_text(tmp_path, "label,p_negative\npositive,.1\nnegative,.9\n")
    assert pset.classes == ("negative",) and pset.labels[:, 0].tolist() == [False, True]
    two = load_text(tmp_path, "label,p_neg,p_pos\npos,.1,.9\nneg,.8,.2\nneg,.7,.3\n")
    assert two.classes == ("pos",) and two.labels[:, 0].tolist() == [True, False, False]
    truth = load_text(tmp_path, "y_a,y_b,p_a,p_b\npos,neg,.9,.1\nNegative,Positive,.2,.8\n")
    assert truth.labels.tolist() == [[True, False], [False, True]]


@pytest.mark.parametrize("header", ["label,p_True,p_False", "label,p_False,p_True"])
def test_true_false_labels_naming_the_two_columns_follow_the_names(tmp_path, header):
    pset = load_text(tmp_path, f"{header}\nTrue,.9,.1\nFalse,.2,.8\nTrue,.7,.3\n")
    positive = pset.classes[0]
    assert pset.columns["scores"] == [f"p_{positive}"]
    # The positive class's label marks its rows positive, whichever of True/False it is.
    assert pset.labels[:, 0].tolist() == [v == positive for v in ("True", "False", "True")]


@pytest.mark.parametrize("value", ["1.0000001", "-1e-09"])
def test_probabilities_with_rounding_just_outside_0_1_are_clipped(tmp_path, value):
    pset = load_text(tmp_path, f"label,p_a,p_b,p_c\n0,{value},.2,.1\n2,.1,.1,.8\n")
    assert pset.score_kind == "probability" and pset.activation == "none"
    assert pset.scores.min() >= 0.0 and pset.scores.max() <= 1.0
    assert pset.scores[0, 0] == (1.0 if value.startswith("1") else 0.0)
    assert any(n.startswith("One score lies outside [0, 1] by ") for n in pset.notes)


def test_scores_far_outside_0_1_stay_logits(tmp_path):
    pset = load_text(tmp_path, "label,p_a,p_b,p_c\n0,1.001,.2,.1\n2,.1,.1,.8\n")
    assert pset.score_kind == "logit"


def test_percentages_outside_multiclass_warn(tmp_path):
    pset = load_text(tmp_path, "label,p_fraud\n0,12.5\n1,87\n0,3\n")
    assert pset.score_kind == "logit"
    assert pset.warnings == (
        "Scores lie between 0 and 87 and none is negative, as percentages would; they are read "
        "as logits, so if they are percentages, divide them by 100 and load the file again.",
    )


def test_positive_multiclass_logits_that_do_not_sum_to_100_are_not_called_percentages(tmp_path):
    pset = load_text(tmp_path, "label,p_a,p_b,p_c\n0,7.5,0.5,2\n2,0.5,1,19.9\n1,3,4,1\n")
    assert pset.score_kind == "logit" and pset.activation == "softmax"
    assert not any("percentages" in w for w in pset.warnings)


def test_percentages_read_as_logits_on_request(tmp_path):
    text = "label,p_a,p_b\n0,70,30\n1,10,90\n"
    pset = load_text(tmp_path, text, task="multiclass", score_kind="logit")
    assert pset.score_kind == "logit" and pset.warnings == ()


def test_one_hot_truth_is_multilabel_with_a_note_and_multiclass_on_request(tmp_path):
    text = "y_a,y_b,y_c,p_a,p_b,p_c\n1,0,0,.7,.2,.1\n0,0,1,.1,.1,.8\n0,1,0,.2,.5,.3\n"
    auto = load_text(tmp_path, text)
    assert auto.task == "multilabel"
    assert (
        "Every row has exactly one positive label, as one-hot multi-class labels do; use --task "
        "multiclass to read them as one class per row." in auto.notes
    )
    pset = load_text(tmp_path, text, task="multiclass")
    assert pset.task == "multiclass" and pset.activation == "none"
    assert pset.labels.tolist() == [0, 2, 1] and pset.labels.dtype == np.int64
    assert pset.label_mapping == {"y_a": "a", "y_b": "b", "y_c": "c"}
    assert (
        "The truth columns are one-hot (one 1 per row), so each row's class is the column "
        "holding its 1." in pset.notes
    )
    assert not any("multi-label" in note for note in pset.notes)


def test_one_hot_npz_labels_as_multiclass(tmp_path):
    path = tmp_path / "keras.npz"
    np.savez(path, scores=np.array([[.7, .2, .1], [.1, .8, .1]]), labels=np.eye(3)[[0, 1]],
             classes=np.array(["a", "b", "c"]))
    pset = load(path, task="multiclass")
    assert pset.classes == ("a", "b", "c") and pset.labels.tolist() == [0, 1]


# --------------------------------------------------------------------------------------------
# inspect report
# --------------------------------------------------------------------------------------------


def test_inspect_report_has_exactly_the_spec_keys_and_is_json(tmp_path):
    pset = load_text(tmp_path, "id,y,p_a,p_b,p_c\n1,1,.2,.3,.5\n2,3,.1,.1,.8\n")
    report = inspect_report(pset)
    assert list(report) == ["file", "rows", "task", "classes", "score_kind", "activation",
                            "columns", "label_mapping", "positives", "notes", "warnings"]
    assert list(report["columns"]) == ["id", "label", "labels", "scores", "ignored"]
    assert json.loads(json.dumps(report)) == report
    assert report["rows"] == 2
    assert report["positives"] == {"a": 1, "b": 0, "c": 1}
    assert report["label_mapping"] == {"1": "a", "3": "c"}


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 2), min_size=n, max_size=n),
            st.lists(
                st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=64), min_size=3, max_size=3),
                min_size=n, max_size=n,
            ),
        )
    )
)
def test_csv_round_trip_keeps_every_score_bit_for_bit(rows):
    labels, scores = rows
    text = "label,logit_a,logit_b,logit_c\n" + "".join(
        f"{y},{a!r},{b!r},{c!r}\n" for y, (a, b, c) in zip(labels, scores)
    )
    # Said to be logits: scores that all happen to lie within 1e-6 of [0, 1] would otherwise be
    # read as probabilities, and rounding just outside [0, 1] clipped, as documented.
    pset = load(text.encode(), name="rt.csv", task="multiclass", score_kind="logit")
    np.testing.assert_array_equal(pset.scores, np.array(scores, dtype=np.float64))
    assert pset.positives.sum() == len(labels)


def test_a_name_given_twice_for_an_unused_column_is_only_noted(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("label,p_a,p_b,p_c,note,note\n0,.7,.2,.1,x,y\n1,.2,.7,.1,z,w\n2,.1,.1,.8,v,u\n")
    pset = load(path)
    assert pset.classes == ("a", "b", "c")
    assert "Column 'note' appears twice in the header; neither copy is used." in pset.notes


def test_a_header_longer_than_the_sniffed_head_is_not_a_repeated_name(tmp_path):
    # Past 64 KiB the sniffed head cuts the last name short ('p_9' of 'p_9533'), which must not
    # read as a second 'p_9'.
    k = 9534
    names = [f"p_{i}" for i in range(k)]
    row = ",".join("0" for _ in range(k - 1)) + ",1"
    path = tmp_path / "wide.csv"
    path.write_text("label," + ",".join(names) + "\n" + f"{k - 1}," + row + "\n"
                    + "0,1," + ",".join("0" for _ in range(k - 1)) + "\n")
    pset = load(path)
    assert pset.n_classes == k
