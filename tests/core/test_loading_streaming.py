"""A plain CSV read block by block loads exactly as the whole-table readers load it.

Every test reads the same bytes twice: through :mod:`thresholdlab.loading.streaming` with tiny
blocks (so a few hundred rows cross many block boundaries, the type-deciding head ends early and
the matrix has to grow), and with the streaming reader switched off. The two must give the same
PredictionSet bit for bit, or the same one-sentence error.
"""

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

import thresholdlab.loading as loading
import thresholdlab.loading.raw as raw_module
import thresholdlab.loading.streaming as streaming
import thresholdlab.loading.tables as tables_module
from thresholdlab.loading import load
from thresholdlab.predictions import DataError

FIELDS = ("task", "classes", "score_kind", "activation", "file", "sha256", "columns",
          "label_mapping", "notes", "warnings")


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 512 bytes, pieces of 1,500 and a 2 KiB head; records which reads streamed and
    grew."""
    seen = {"streamed": 0, "grew": 0}
    monkeypatch.setattr(streaming, "HEAD_BYTES", 2048)
    monkeypatch.setattr(streaming, "BLOCK_BYTES", 512)
    monkeypatch.setattr(streaming, "PIECE_BYTES", 1500)
    read, grow = streaming.read_csv_blocks, streaming._grow

    def counted_read(*args, **kwargs):
        out = read(*args, **kwargs)
        seen["streamed"] += out is not None
        return out

    def counted_grow(*args):
        seen["grew"] += 1
        return grow(*args)

    monkeypatch.setattr(loading, "read_csv_blocks", counted_read)
    monkeypatch.setattr(streaming, "_grow", counted_grow)
    return seen


def outcome(data: bytes, name: str, **kwargs):
    try:
        return load(data, name=name, **kwargs)
    except DataError as exc:
        return str(exc)


def whole_table(data: bytes, name: str, **kwargs):
    streamed = loading.read_csv_blocks
    loading.read_csv_blocks = lambda *args, **kwargs: None
    try:
        return outcome(data, name, **kwargs)
    finally:
        loading.read_csv_blocks = streamed


def assert_same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    for field in FIELDS:
        assert getattr(a, field) == getattr(b, field), field
    for field in ("scores", "probabilities", "labels", "ids"):
        x, y = getattr(a, field), getattr(b, field)
        if x is None or y is None:
            assert x is None and y is None, field
            continue
        assert x.dtype == y.dtype and x.shape == y.shape, field
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), field  # bit for bit, NaN in place
        else:
            assert np.array_equal(x, y), field


def both(data: bytes, name: str = "preds.csv", **kwargs):
    streamed = outcome(data, name, **kwargs)
    assert_same(streamed, whole_table(data, name, **kwargs))
    return streamed


def _rows(n: int, seed: int = 0, k: int = 3):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(k), size=n)
    return p, rng.integers(0, k, size=n)


def _multiclass_csv(n=300, *, sep=",", decimal=".", text_labels=False, seed=0, ids=True,
                    newline="\n", bom=False) -> bytes:
    p, y = _rows(n, seed)
    names = ["cat", "dog", "eel"]
    header = (["id"] if ids else []) + ["label"] + [f"p_{c}" for c in names]
    lines = [sep.join(header)]
    for i in range(n):
        label = names[y[i]] if text_labels else str(y[i])
        cells = [repr(float(v)).replace(".", decimal) for v in p[i]]
        lines.append(sep.join(([str(i)] if ids else []) + [label] + cells))
    data = (newline.join(lines) + newline).encode()
    return b"\xef\xbb\xbf" + data if bom else data


# --------------------------------------------------------------------------------------------
# Files the streaming reader reads: same result, scores never copied
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [
    {},
    {"text_labels": True},
    {"ids": False},
    {"sep": ";", "decimal": ","},
    {"sep": "\t"},
    {"newline": "\r\n", "bom": True},
])
def test_plain_files_stream_and_load_the_same(small_blocks, options):
    data = _multiclass_csv(**options)
    pset = both(data)
    assert small_blocks["streamed"] == 1
    assert pset.n_rows == 300 and pset.scores.dtype == np.float64


def test_the_streamed_matrix_is_the_score_matrix_without_a_copy(small_blocks, monkeypatch):
    def no_copy(*args, **kwargs):
        raise AssertionError("the scores were copied out of the frame")

    monkeypatch.setattr(raw_module, "score_matrix", no_copy)
    pset = load(_multiclass_csv(), name="preds.csv")
    assert small_blocks["streamed"] == 1 and pset.scores.flags.c_contiguous


def test_decimals_keep_their_float64_values():
    # The text 0.3 is the float64 nearest 0.3; float32 would read it as 0.30000001192...
    pset = both(b"label,p_a\n1,0.3\n0,0.1\n1,0.30000001\n")
    assert pset.scores.dtype == np.float64
    assert pset.scores[:, 0].tolist() == [0.3, 0.1, 0.30000001]


def test_rows_shorter_than_the_head_grow_the_matrix(small_blocks):
    head = [f"{i % 3},{1 / 3 + 1e-9 * i!r},{1 / 3!r},{1 / 3 - 1e-9 * i!r}" for i in range(40)]
    tail = [f"{i % 3},0.5,0.25,0.25" for i in range(2000)]
    data = ("label,p_a,p_b,p_c\n" + "\n".join(head + tail) + "\n").encode()
    pset = both(data)
    assert small_blocks["streamed"] == 1 and small_blocks["grew"] >= 1
    assert pset.n_rows == 2040


def test_multilabel_and_binary_files(small_blocks):
    rng = np.random.default_rng(1)
    rows = [f"{i},{int(a > 0.5)},{int(b > 0.3)},{a},{b}"
            for i, (a, b) in enumerate(rng.random((200, 2)).tolist())]
    both(("id,y_a,y_b,p_a,p_b\n" + "\n".join(rows) + "\n").encode())
    rows = [f"{int(a > 0.5)},{1 - a},{a}" for a in rng.random(200).tolist()]
    both(("label,p_no,p_yes\n" + "\n".join(rows) + "\n").encode())
    assert small_blocks["streamed"] == 2


def test_overrides_choose_the_matrix_columns(small_blocks):
    rng = np.random.default_rng(2)
    rows = [f"{int(a > 0.5)},{a},{b}" for a, b in rng.random((200, 2)).tolist()]
    data = ("truth,first,second\n" + "\n".join(rows) + "\n").encode()
    pset = both(data, label_col="truth", score_cols="second")
    assert pset.columns["scores"] == ["second"]
    both(data, label_col="truth", score_cols=["second", "first"], task="multiclass")


def test_logits_that_only_appear_after_the_head(small_blocks):
    rng = np.random.default_rng(3)
    rows = [f"{i % 2},{rng.random()!r}" for i in range(100)]
    rows += [f"{i % 2},{rng.normal() * 4!r}" for i in range(300)]
    pset = both(("label,logit_yes\n" + "\n".join(rows) + "\n").encode())
    assert small_blocks["streamed"] == 1 and pset.score_kind == "logit"


# --------------------------------------------------------------------------------------------
# Anything the head did not settle: the whole-table readers take over, same result or sentence
# --------------------------------------------------------------------------------------------


def _late(cell_row: int, cell: str, column: int = 2, n: int = 300) -> bytes:
    p, y = _rows(n, seed=4)
    lines = ["id,label,p_cat,p_dog,p_eel"]
    for i in range(n):
        cells = [str(i), str(y[i]), *(repr(float(v)) for v in p[i])]
        if i + 1 == cell_row:
            cells[column] = cell
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("data, fragment", [
    (_late(250, "oops"), "column 'p_cat', row 250: 'oops' is not a number"),
    (_late(250, ""), "column 'p_cat', row 250: the score is missing or NaN"),
    (_late(250, "NA"), "column 'p_cat', row 250: the score is missing or NaN"),
    (_late(250, "-0.25"), "column 'p_cat', row 250: score -0.25 lies outside [0, 1]"),
    (_late(250, "0.1,0.2"), "row 250: 6 fields but the header has 5"),
])
def test_late_surprises_end_as_the_whole_table_readers_end(small_blocks, data, fragment):
    result = both(data)
    assert isinstance(result, str) and fragment in result


def test_invalid_utf8_after_the_head(small_blocks):
    data = _late(250, "@@", column=1).replace(b"@@", b"caf\xe9")
    result = both(data)
    assert isinstance(result, str) and "UTF-8" in result


def test_a_whole_number_column_that_turns_fractional(small_blocks):
    # The head holds only 0 and 1 in p_b, so its type is integer there; 0.5 later does not fit.
    rows = [f"{i % 2},{0.25 + 0.5 * (i % 2)!r},{i % 2}" for i in range(400)]
    rows += [f"{i % 2},{0.25 + 0.5 * (i % 2)!r},0.5" for i in range(200)]
    both(("label,p_a,p_b\n" + "\n".join(rows) + "\n").encode(), task="multiclass")
    assert small_blocks["streamed"] == 0


def test_an_empty_id_cell_after_the_head_makes_ids_float(small_blocks):
    pset = both(_late(250, "", column=0))
    assert small_blocks["streamed"] == 1
    assert pset.ids.dtype == np.float64 and np.isnan(pset.ids[249])


@pytest.mark.parametrize("data", [
    b"label,p_a\n",
    b"# exported by a tool\nlabel,p_a\n1,0.9\n0,0.1\n",
    b"sep=;\nlabel;p_a\n1;0,9\n0;0,1\n",
    b"label,p_a,p_a\n1,0.9,0.8\n0,0.1,0.2\n",
    b"label,,p_a\n1,,0.9\n0,,0.1\n",
    b"\xff\xfel\x00a\x00b\x00e\x00l\x00,\x00p\x00_\x00a\x00\n\x001\x00,\x000\x00.\x009\x00\n\x00",
])
def test_unusual_files_are_left_to_the_whole_table_readers(small_blocks, data):
    both(data)
    assert small_blocks["streamed"] == 0


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 120),
    seed=st.integers(0, 2**16),
    sep=st.sampled_from([",", ";", "\t"]),
    block=st.sampled_from([256, 512, 4096]),
    piece=st.sampled_from([7, 100, 1000, 1 << 22]),
    head=st.sampled_from([600, 2048, 1 << 20]),
    blank=st.floats(0, 0.2),
)
def test_random_tables_load_the_same_both_ways(n, seed, sep, block, piece, head, blank):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(3), size=n).round(rng.integers(1, 17))
    y = rng.integers(0, 3, size=n)
    lines = [sep.join(["label", "p_a", "p_b", "p_c"])]
    for i in range(n):
        lines.append(sep.join([str(y[i]), *(repr(float(v)) for v in p[i])]))
        if rng.random() < blank:
            lines.append("")
    data = ("\n".join(lines) + "\n").encode()
    saved = streaming.HEAD_BYTES, streaming.BLOCK_BYTES, streaming.PIECE_BYTES
    streaming.HEAD_BYTES, streaming.BLOCK_BYTES, streaming.PIECE_BYTES = head, block, piece
    try:
        assert_same(outcome(data, "t.csv"), whole_table(data, "t.csv"))
    finally:
        streaming.HEAD_BYTES, streaming.BLOCK_BYTES, streaming.PIECE_BYTES = saved


def test_a_file_on_disk_streams_from_its_path(small_blocks, tmp_path):
    path = tmp_path / "preds.csv"
    path.write_bytes(_multiclass_csv(text_labels=True))
    streamed = load(path)
    assert small_blocks["streamed"] == 1
    assert_same(streamed, whole_table(path.read_bytes(), "preds.csv"))


# --------------------------------------------------------------------------------------------
# Rows of empty cells at the end (Excel's ",,"): left out by both readers, with a note
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ending, rows", [
    (b",,,,\n", 1),
    (b",,,,\r\n,,,,\r\n,,,,\r\n", 3),
    (b",,,,\n\n,,,,\n\n", 2),
    (b",,,,", 1),
    (b",\n,,\n", 2),
    (b' , ,"","",\n   \n', 2),
])
def test_rows_of_empty_cells_at_the_end_are_left_out(small_blocks, ending, rows):
    data = _late(0, "")
    pset = both(data + ending)
    assert pset.n_rows == 300
    plain = both(data)
    np.testing.assert_array_equal(pset.scores, plain.scores)
    np.testing.assert_array_equal(pset.labels, plain.labels)
    note = ("The last row has only empty cells and is ignored." if rows == 1
            else f"The last {rows} rows have only empty cells and are ignored.")
    assert pset.notes == (note, *plain.notes)
    assert small_blocks["streamed"] == 2


def test_rows_of_empty_cells_longer_than_the_head_and_from_a_path(small_blocks, tmp_path,
                                                                  monkeypatch):
    # More empty rows than the head holds and than the end first read from disk.
    monkeypatch.setattr(tables_module, "TAIL_BYTES", 256)
    path = tmp_path / "preds.csv"
    data = _late(0, "").replace(b",", b";") + b";;;;\n" * 700
    path.write_bytes(data)
    streamed = load(path)
    assert small_blocks["streamed"] == 1 and streamed.n_rows == 300
    assert "The last 700 rows have only empty cells and are ignored." in streamed.notes
    assert_same(streamed, whole_table(data, "preds.csv"))
    assert_same(streamed, whole_table(path, "preds.csv"))


def test_rows_of_empty_cells_that_start_inside_the_head(small_blocks):
    data = _late(0, "", n=5) + b",,,,\r\n" * 1000
    pset = both(data)
    assert small_blocks["streamed"] == 1 and pset.n_rows == 5
    assert pset.notes[0] == "The last 1000 rows have only empty cells and are ignored."


@pytest.mark.parametrize("data, fragment", [
    (_late(0, "") + b",,,,\n0,1,0.5,0.25,0.25\n", "row 301: the score is missing"),
    (b"id,label,p_a\n,,\n,,\n", "has a header but no data rows"),
    (_late(0, "") + b",,,x\n,,,,\n", "row 301"),
])
def test_empty_rows_before_a_value_are_still_rows(small_blocks, data, fragment):
    result = both(data)
    assert isinstance(result, str) and fragment in result


# --------------------------------------------------------------------------------------------
# Parquet: the score columns go straight into the matrix, with the same result
# --------------------------------------------------------------------------------------------


def parquet_bytes(frame=None, *, table=None, **kwargs) -> bytes:
    out = io.BytesIO()
    if table is None:
        table = pa.Table.from_pandas(frame, preserve_index=kwargs.pop("preserve_index", None))
    pq.write_table(table, out, **kwargs)
    return out.getvalue()


def parquet_both(data: bytes, **kwargs):
    filled = outcome(data, "preds.parquet", **kwargs)
    saved = loading.read_parquet_filled
    loading.read_parquet_filled = lambda *args: None
    try:
        assert_same(filled, outcome(data, "preds.parquet", **kwargs))
    finally:
        loading.read_parquet_filled = saved
    return filled


def _frame(n=300, dtype=np.float32, seed=5):
    p, y = _rows(n, seed)
    return pd.DataFrame({"id": np.arange(n), "label": y,
                         **{f"p_{c}": p[:, j].astype(dtype) for j, c in enumerate("abc")}})


@pytest.fixture
def filled_reads(monkeypatch):
    seen = {"filled": 0}
    read = loading.read_parquet_filled

    def counted(*args):
        out = read(*args)
        seen["filled"] += out is not None
        return out

    monkeypatch.setattr(loading, "read_parquet_filled", counted)
    return seen


@pytest.mark.parametrize("make", [
    lambda: parquet_bytes(_frame()),
    lambda: parquet_bytes(_frame(dtype=np.float64)),
    lambda: parquet_bytes(_frame().astype({"p_b": np.float64})),
    lambda: parquet_bytes(_frame(), row_group_size=64),
    lambda: parquet_bytes(_frame().set_index("id")),
    lambda: parquet_bytes(_frame().set_index("id"), preserve_index=False),
    lambda: parquet_bytes(_frame().iloc[::-1]),
    lambda: parquet_bytes(_frame().assign(label=lambda f: f.label.map({0: "a", 1: "b", 2: "c"}))),
    lambda: parquet_bytes(table=pa.Table.from_pandas(_frame()).replace_schema_metadata()),
])
def test_parquet_files_fill_the_matrix_and_load_the_same(filled_reads, make):
    pset = parquet_both(make())
    assert filled_reads["filled"] == 1 and pset.n_rows == 300


def test_parquet_float32_scores_stay_float32_and_are_not_copied(filled_reads, monkeypatch):
    def no_copy(*args, **kwargs):
        raise AssertionError("the scores were copied out of the frame")

    monkeypatch.setattr(raw_module, "score_matrix", no_copy)
    pset = load(parquet_bytes(_frame()), name="preds.parquet")
    assert pset.scores.dtype == np.float32 and filled_reads["filled"] == 1


def test_parquet_multilabel_and_whole_number_scores():
    rng = np.random.default_rng(6)
    p = rng.random((200, 2))
    frame = pd.DataFrame({"y_a": (p[:, 0] > 0.5).astype(int), "y_b": (p[:, 1] > 0.3).astype(int),
                          "p_a": p[:, 0], "p_b": p[:, 1]})
    parquet_both(parquet_bytes(frame))
    # A score column of whole numbers is no float column: the matrix misses it, same result.
    parquet_both(parquet_bytes(frame.assign(p_b=(p[:, 1] > 0.5).astype(int))))


def test_parquet_missing_score_and_files_left_to_the_whole_table_reader(filled_reads):
    frame = _frame(dtype=np.float64)
    frame.loc[120, "p_b"] = np.nan
    assert "row 121: the score is missing or NaN" in parquet_both(parquet_bytes(frame))
    left = [
        b"",
        b"not parquet at all",
        parquet_bytes(_frame().iloc[:0]),
        parquet_bytes(_frame().set_axis(range(5), axis=1)),
        parquet_bytes(table=pa.table({"label": [1, 0], "p_a": [["0.1"], ["0.2"]]})),
        parquet_bytes(table=pa.Table.from_arrays(
            [pa.array([1, 0]), pa.array([0.9, 0.1]), pa.array([0.8, 0.2])],
            names=["label", "p_a", "p_a"])),
        parquet_bytes(pd.DataFrame({"label": [1, 0]})),
    ]
    for data in left:
        assert isinstance(parquet_both(data), str)
    assert filled_reads["filled"] == 1


@pytest.mark.parametrize("piece", [1, 40, 97, 1500, 1 << 22])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_pieces_of_any_size_parse_the_rows_they_cut_between(small_blocks, monkeypatch, piece,
                                                            newline):
    parsed = []
    real = streaming.pacsv.read_csv
    monkeypatch.setattr(streaming, "PIECE_BYTES", piece)
    monkeypatch.setattr(streaming.pacsv, "read_csv",
                        lambda *a, **k: parsed.append(1) or real(*a, **k))
    data = _multiclass_csv(n=120, newline=newline, bom=True, text_labels=True)
    streamed = outcome(data, "preds.csv")
    assert small_blocks["streamed"] == 1
    # The head, then one parse per piece: many when pieces are smaller than the file.
    assert len(parsed) > 3 if piece <= 1500 else len(parsed) == 2
    assert_same(streamed, whole_table(data, "preds.csv"))
    # A row of spaces far into the file stops the read in its piece: the whole-table readers
    # word it.
    lines = data.split(newline.encode())
    lines.insert(100, b"   ")
    both(newline.encode().join(lines))


@pytest.mark.parametrize("piece", [50, 300, 1000, 1 << 22])
def test_quoted_line_breaks_load_as_the_whole_table_readers_load_them(small_blocks,
                                                                     monkeypatch, piece):
    # A piece or block may end inside a quoted value: that read stops, and the whole-table
    # readers read the file; either way the same PredictionSet.
    monkeypatch.setattr(streaming, "PIECE_BYTES", piece)
    rng = np.random.default_rng(0)
    rows = ["id,label,note,p_a,p_b"]
    for i in range(300):
        p = rng.random()
        note = '"two\nlines"' if i % 37 == 0 else "plain"
        rows.append(f"{i},{int(p > 0.5)},{note},{p!r},{1 - p!r}")
    assert not isinstance(both(("\n".join(rows) + "\n").encode()), str)


def test_a_quoted_value_ending_on_the_last_line_is_no_empty_row():
    """A lone quote closing a multi-line text cell holds no delimiter but is no empty row."""
    from thresholdlab.loading.tables import empty_tail

    text = b'score,label,comment\n0.9,1,"two\nlines"\n0.2,0,"multi\n"\n'
    assert empty_tail(text, ",") == (0, 0)
    assert empty_tail(text + b',,\n"",""\n', ",") == (2, len(b',,\n"",""\n'))
