"""Text tables as numpy, R and hand-written exporters lay them out: ``#`` lines above the header
(``numpy.savetxt``'s header, a tool's banner), columns separated by spaces, R's row names, a
delimiter ending every row.

Each file is written by the library that writes it in the wild where one is at hand
(``numpy.savetxt``, ``pandas.DataFrame.to_csv``), and must load to exactly what the same
predictions load to from a plain CSV, from a path and from an upload's bytes.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from thresholdlab import slices
from thresholdlab.loading import load
from thresholdlab.loading.text_layout import sniff_dialect, text_layout
from thresholdlab.predictions import DataError

N = 300


def _predictions(seed=0, n=N):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    scores = rng.dirichlet([1, 1, 1], n).round(6)
    return labels, scores


def _plain(tmp_path, labels, scores):
    path = tmp_path / "plain.csv"
    frame = pd.DataFrame({"label": labels, **{f"p_{c}": scores[:, j] for j, c in enumerate("abc")}})
    frame.to_csv(path, index=False)
    return load(path)


def _same(loaded, expected):
    assert loaded.task == expected.task
    assert loaded.classes == expected.classes
    np.testing.assert_array_equal(loaded.labels, expected.labels)
    np.testing.assert_array_equal(loaded.scores, expected.scores)
    assert loaded.columns["scores"] == expected.columns["scores"]
    assert loaded.columns["label"] == expected.columns["label"]


def _both_ways(path):
    """The file loaded from its path and as an upload's bytes: the same predictions."""
    on_disk = load(path)
    uploaded = load(path.read_bytes(), name=path.name)
    _same(uploaded, on_disk)
    assert uploaded.notes == on_disk.notes
    return on_disk


SAVETXT = {
    # numpy.savetxt's header starts with its ``comments`` string, '# ' by default.
    "hash header, commas": dict(delimiter=",", header="label,p_a,p_b,p_c"),
    "hash header, spaces": dict(header="label p_a p_b p_c"),
    "hash header, tabs": dict(delimiter="\t", header="label\tp_a\tp_b\tp_c"),
    "plain header, spaces": dict(header="label p_a p_b p_c", comments=""),
    "two header lines": dict(delimiter=",", header="scores of model v3 on the test split\n"
                                                   "label,p_a,p_b,p_c"),
}


@pytest.mark.parametrize("options", SAVETXT.values(), ids=SAVETXT.keys())
def test_numpy_savetxt_files_load_as_the_plain_csv(tmp_path, options):
    labels, scores = _predictions()
    path = tmp_path / "savetxt.csv"
    np.savetxt(path, np.column_stack([labels, scores]), fmt=["%d", "%.6f", "%.6f", "%.6f"],
               **options)
    _same(_both_ways(path), _plain(tmp_path, labels, scores))


def test_numpy_savetxt_hash_header_is_said_once(tmp_path):
    labels, scores = _predictions()
    path = tmp_path / "savetxt.csv"
    np.savetxt(path, np.column_stack([labels, scores]), delimiter=",",
               header="exported 2026-01-01\nlabel,p_a,p_b,p_c")
    notes = load(path).notes
    assert notes[:2] == (
        "The header line starts with '#', as numpy.savetxt writes it, and is read without "
        "the '#'.",
        "The line starting with '#' above the header is a comment and is skipped.",
    )


@pytest.mark.parametrize("banner, said", [
    ("# exported by eval.py\n", "The line starting with '#' above the header is a comment "
                                "and is skipped."),
    ("# model: resnet50\n# split: test\n\n# seed: 0\n",
     "The 3 lines starting with '#' above the header are comments and are skipped."),
])
def test_comment_lines_above_the_header_are_skipped(tmp_path, banner, said):
    labels, scores = _predictions()
    frame = pd.DataFrame({"label": labels, **{f"p_{c}": scores[:, j] for j, c in enumerate("abc")}})
    path = tmp_path / "banner.csv"
    path.write_text(banner + frame.to_csv(index=False))
    loaded = _both_ways(path)
    _same(loaded, _plain(tmp_path, labels, scores))
    assert loaded.notes[0] == said


def test_a_comment_with_as_many_commas_as_the_header_is_still_a_comment(tmp_path):
    """What decides is the line below: a header holds names where the rows hold numbers."""
    path = tmp_path / "banner.csv"
    path.write_text("# run 7, fold 2, seed 0, test\nlabel,p_a,p_b,p_c\n0,.7,.2,.1\n2,.1,.1,.8\n")
    loaded = load(path)
    assert loaded.columns["scores"] == ["p_a", "p_b", "p_c"]
    assert loaded.labels.tolist() == [0, 2]


def test_rows_after_comment_lines_keep_their_numbers_in_messages(tmp_path):
    path = tmp_path / "banner.csv"
    path.write_text("# exported\n# by eval.py\nlabel,p_a,p_b,p_c\n0,.7,.2,.1\n2,.1,.1,.8\n"
                    "1,nan,.5,.5\n")
    with pytest.raises(DataError, match=r"column 'p_a', row 3"):
        load(path)


def test_comment_lines_above_a_byte_order_mark_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff# exported\nlabel,p_a,p_b,p_c\n0,.7,.2,.1\n2,.1,.1,.8\n".encode())
    assert load(path).columns["scores"] == ["p_a", "p_b", "p_c"]


def test_a_column_named_hash_is_a_column_not_a_comment(tmp_path):
    path = tmp_path / "numbered.csv"
    path.write_text("#,label,p_a,p_b,p_c\n1,0,.7,.2,.1\n2,2,.1,.1,.8\n")
    loaded = load(path)
    assert loaded.columns["scores"] == ["p_a", "p_b", "p_c"]
    assert "#" in loaded.columns["ignored"]
    assert not any("'#'" in note and "comment" in note for note in loaded.notes)


@pytest.mark.parametrize("text, message", [
    ("# only\n# comments\n", "has only lines starting with '#' (comments), no header or rows"),
    ("# label,p_a\n0,.7,.3\n1,.2,.8\n", "has no header naming its columns: the first line below "
                                         "the lines starting with '#' is already data"),
])
def test_hash_lines_without_a_header_are_one_sentence(tmp_path, text, message):
    path = tmp_path / "hashes.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=re.escape(message)):
        load(path)


def test_r_write_table_defaults_spaces_quotes_and_row_names(tmp_path):
    """R's ``write.table(df, file)``: space-separated, text quoted, each row led by its row
    name, which the header does not name."""
    labels, scores = _predictions()
    names = np.array(["a", "b", "c"])[labels]
    rows = [f'"{i}" "{names[i - 1]}" ' + " ".join(f"{v:.6f}" for v in scores[i - 1])
            for i in range(1, N + 1)]
    path = tmp_path / "preds.txt"
    path.write_text('"label" "p_a" "p_b" "p_c"\n' + "\n".join(rows) + "\n")
    loaded = _both_ways(path)
    expected = _plain(tmp_path, labels, scores)
    np.testing.assert_array_equal(loaded.scores, expected.scores)
    np.testing.assert_array_equal(loaded.labels, expected.labels)
    assert loaded.columns["ignored"] == ["Unnamed: 0"]
    assert "Columns are separated by spaces." in loaded.notes
    assert ("Each row has one value more than the header names: the first is read as row "
            "names, as R's write.table writes them.") in loaded.notes


def test_row_names_with_commas_are_the_first_column(tmp_path):
    """R's ``write.table(df, file, sep=",")``: the same layout with commas."""
    path = tmp_path / "preds.csv"
    path.write_text('"label","p_a","p_b"\n"r1","a",0.2,0.8\n"r2","b",0.6,0.4\n"r3","a",0.7,0.3\n')
    loaded = _both_ways(path)
    assert loaded.task == "multiclass" or loaded.classes == ("b",)
    np.testing.assert_array_equal(loaded.scores[:, -1], [0.8, 0.4, 0.3])


def test_a_delimiter_ending_every_row_shifts_no_column(tmp_path):
    """``f.write(f"{y},{p_a},{p_b},\\n")`` under a header without one: the empty last value
    is dropped; read as row names it would move every column one place to the left."""
    path = tmp_path / "trailing.csv"
    path.write_text("label,p_a,p_b,p_c\n0,.7,.2,.1,\n2,.1,.1,.8,\n1,.3,.4,.3,\n")
    loaded = load(path)
    assert loaded.labels.tolist() == [0, 2, 1]
    np.testing.assert_array_equal(loaded.scores[0], [0.7, 0.2, 0.1])
    assert ("Every row ends with a delimiter after its last value; the empty field is "
            "ignored.") in loaded.notes


def test_a_row_out_of_the_row_names_layout_is_named(tmp_path):
    """The layout is read from the first lines; a row further down that leaves it is named."""
    path = tmp_path / "preds.csv"
    rows = "".join(f'"r{i}",{i % 2},0.2,0.8\n' for i in range(1, 41))
    path.write_text("label,p_a,p_b\n" + rows + '"r41",0,0.7\n')
    with pytest.raises(DataError, match=r"row 41: 3 fields but the rows above have 4; fix"):
        load(path)


def test_spaces_are_a_delimiter_only_where_the_rows_agree(tmp_path):
    """A header of words with spaces and one value per row is still one column."""
    assert sniff_dialect("label p_a p_b\n0 .7 .3\n1 .2 .8\n")[0] == " "
    assert sniff_dialect("label p_a p_b\n0 .7 .3\n1 .2\n")[0] == ","
    assert sniff_dialect("my score\n0.5\n0.25\n")[0] == ","
    assert sniff_dialect("label,p a,p b\n0,.7,.3\n")[0] == ","
    assert text_layout("label,p_a\n0,.7\n", "f.csv").plain


def test_slices_read_the_same_layouts(tmp_path):
    """A slice column of a numpy.savetxt file or of an R table lines up with its rows."""
    labels, scores = _predictions(n=60)
    region = np.where(np.arange(60) % 3 == 0, "north", "south")
    text = "\n".join(f'"{i + 1}" "{region[i]}" {labels[i]} ' + " ".join(f"{v:.6f}" for v in scores[i])
                     for i in range(60))
    r_table = tmp_path / "r.txt"
    r_table.write_text('"region" "label" "p_a" "p_b" "p_c"\n' + text + "\n")
    banner = tmp_path / "banner.csv"
    banner.write_text("# exported\n" + pd.DataFrame({
        "region": region, "label": labels,
        **{f"p_{c}": scores[:, j] for j, c in enumerate("abc")}}).to_csv(index=False))
    for path in (r_table, banner):
        predictions = load(path)
        columns = slices.slice_columns(path, predictions, only=["region"])
        np.testing.assert_array_equal(columns["region"], region)


@pytest.mark.parametrize("options", [SAVETXT["hash header, commas"], SAVETXT["two header lines"],
                                     dict(delimiter=";", header="label;p_a;p_b;p_c",
                                          comments="# exported\n")])
def test_duckdb_sketches_read_the_layout_as_loading_does(tmp_path, options):
    from thresholdlab.sketch import Sketch
    from thresholdlab.sketch_duckdb import sketch_files

    labels, scores = _predictions()
    path = tmp_path / "savetxt.csv"
    np.savetxt(path, np.column_stack([labels, scores]), fmt=["%d", "%.6f", "%.6f", "%.6f"],
               **options)
    assert sketch_files([str(path)], n_bins=100).equals(Sketch.from_predictions(load(path), 100))


@pytest.mark.parametrize("text, said", [
    ("label p_a p_b p_c\n0 .7 .2 .1\n2 .1 .1 .8\n", "has columns separated by spaces"),
    ('label,p_a,p_b,p_c\n"r1",0,.7,.2,.1\n"r2",2,.1,.1,.8\n',
     "has one value more in each row than its header names"),
])
def test_duckdb_sketches_refuse_layouts_duckdb_cannot_read_alike(tmp_path, text, said):
    from thresholdlab.sketch_duckdb import sketch_files

    path = tmp_path / "preds.csv"
    path.write_text(text)
    load(path)  # exact mode reads it
    with pytest.raises(DataError, match=said):
        sketch_files([str(path)], n_bins=100)


def test_ids_that_start_with_a_hash_are_no_comments(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("#id,label,p_a,p_b,p_c\n#1,0,.7,.2,.1\n#2,2,.1,.1,.8\n#3,1,.2,.6,.2\n")
    loaded = load(path)
    assert loaded.columns["scores"] == ["p_a", "p_b", "p_c"] and loaded.n_rows == 3


def test_a_comment_above_a_header_of_class_numbers(tmp_path):
    """The line below the comment names columns by numbers, over text labels."""
    path = tmp_path / "numbers.csv"
    path.write_text("# exported\nlabel,0,1,2\n0,0.1,0.2,0.7\n2,0.5,0.3,0.2\n")
    loaded = load(path)
    assert loaded.classes == ("0", "1", "2") and loaded.labels.tolist() == [0, 2]


def test_a_hash_header_with_old_mac_line_ends(tmp_path):
    path = tmp_path / "cr.csv"
    path.write_bytes(b"# label,p_a,p_b,p_c\r0,.7,.2,.1\r2,.1,.1,.8\r")
    assert load(path).labels.tolist() == [0, 2]


@pytest.mark.parametrize("text", ["label,p\n1,0,9\n0,0,2\n1,0,7\n0,0,4\n",
                                  "id,label,score\n1,1,0,943\n2,0,0,212\n3,1,0,876\n"])
def test_one_more_value_per_row_is_row_names_only_when_quoted_and_different(tmp_path, text):
    """An unquoted decimal comma under a comma delimiter also gives every row one more value;
    R quotes its row names, so these name no rows, and the ragged row is named as before."""
    path = tmp_path / "euro.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=r"row 1: \d fields but the header has \d"):
        load(path)
