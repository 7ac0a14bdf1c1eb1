"""A Parquet file's scores move into the matrix a block of rows at a time (noting the lowest and
highest score on the way), and the "do not sum to 1" warning counts rows from a sum in the
scores' own precision, summing again in float64 only the rows near the tolerance.

Every load here is compared with the whole-table reader, bit for bit or the same sentence, with
blocks and column groups small enough that a few hundred rows cross many block and row-group
boundaries; the count of rows off is compared with float64 row sums, row for row.
"""

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import thresholdlab.loading as loading
import thresholdlab.loading.parquet as parquet_module
import thresholdlab.loading.raw as raw_module
from thresholdlab.loading import SUM_TOLERANCE, load, sum_warnings
from thresholdlab.loading.scores import rows_off
from thresholdlab.predictions import DataError

FIELDS = ("task", "classes", "score_kind", "activation", "file", "sha256", "columns",
          "label_mapping", "notes", "warnings")


def parquet_bytes(frame: pd.DataFrame, **kwargs) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame), out, **kwargs)
    return out.getvalue()


def _outcome(data: bytes):
    try:
        return load(data, name="preds.parquet")
    except DataError as exc:
        return str(exc)


def parquet_both(data: bytes):
    """The load through the block copy, checked against the whole-table reader's load: the
    same PredictionSet bit for bit, or the same sentence."""
    filled = _outcome(data)
    saved = loading.read_parquet_filled
    loading.read_parquet_filled = lambda *args: None
    try:
        whole = _outcome(data)
    finally:
        loading.read_parquet_filled = saved
    if isinstance(filled, str) or isinstance(whole, str):
        assert filled == whole
        return filled
    for field in FIELDS:
        assert getattr(filled, field) == getattr(whole, field), field
    for field in ("scores", "probabilities", "labels", "ids"):
        x, y = getattr(filled, field), getattr(whole, field)
        assert x.dtype == y.dtype and x.shape == y.shape and x.strides == y.strides, field
        assert np.array_equal(x, y), field
    return filled


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 40 rows and groups of 3 columns, so every file crosses many of both."""
    monkeypatch.setattr(raw_module, "COLUMN_BLOCK_BYTES", 1)
    monkeypatch.setattr(raw_module, "_COLUMN_BLOCK_ROWS", (40, 40))
    monkeypatch.setattr(parquet_module, "GROUP_COLUMNS", 3)


def _awkward(rng, shape, dtype):
    """Values whose float64 sums round at many places: magnitudes from 1 down to 1e-30."""
    return (rng.random(shape) * 10.0 ** -rng.integers(0, 30, size=shape)).astype(dtype)


def _float64_count(p):
    sums = np.asarray(p, dtype=np.float64).sum(axis=1)
    return int(np.count_nonzero(np.abs(sums - 1.0) > SUM_TOLERANCE))


def _on_the_edge(rng, n, k, dtype):
    """Rows whose float64 sum lies within a few units in the last place of 1 +- the tolerance,
    where a sum in float32 (or in another order) can fall on either side."""
    p = rng.random((n, k))
    p /= p.sum(axis=1, keepdims=True)
    p = p.astype(dtype)
    target = 1.0 + SUM_TOLERANCE * rng.choice([-1.0, 1.0], size=n)
    for _ in range(3):  # move the last column so that the float64 sum hits the target
        gap = target - np.asarray(p, dtype=np.float64).sum(axis=1)
        p[:, -1] = (p[:, -1].astype(np.float64) + gap).astype(dtype)
    # Then a unit of the last column's precision up or down, or none.
    step = rng.integers(-1, 2, size=n)
    p[:, -1] = np.where(step == 0, p[:, -1],
                        np.nextafter(p[:, -1], np.where(step > 0, 2, -1).astype(dtype)))
    return np.clip(p, 0, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [2, 3, 7, 8, 9, 20, 50, 129, 300])
def test_rows_off_are_those_of_float64_row_sums(k, dtype):
    rng = np.random.default_rng(k)
    p = np.concatenate([
        _on_the_edge(rng, 3000, k, dtype),
        _awkward(rng, (200, k), dtype),
        rng.random((200, k)).astype(dtype),
        np.full((5, k), 1.0 / k, dtype=dtype),
    ])
    p = p[rng.permutation(len(p))]
    count = _float64_count(p)
    assert 0 < count < len(p) and rows_off(p) == count
    assert f"({count} of {len(p)} rows are off" in sum_warnings(p)[0]
    # First sums taken elsewhere (a reader, a group of columns at a time) in any column order,
    # in the scores' own precision: the same count.
    for columns in (rng.permutation(k), np.arange(k)[::-1], np.arange(k)):
        sums = np.zeros(len(p), dtype=dtype)
        for start in range(0, k, 3):
            sums += p[:, columns[start:start + 3]].sum(axis=1)
        assert rows_off(p, p.min(), sums) == count


def test_rows_near_the_tolerance_are_summed_again_and_only_those(monkeypatch):
    import thresholdlab.loading.scores as scores_module

    rng = np.random.default_rng(4)
    p = _on_the_edge(rng, 2000, 20, np.float32)
    summed = []
    real = scores_module._rows_off_float64
    monkeypatch.setattr(scores_module, "_rows_off_float64",
                        lambda rows: summed.append(len(rows)) or real(rows))
    assert rows_off(p) == _float64_count(p)
    assert len(summed) == 1 and 0 < summed[0] < 2000


def test_rows_off_of_negative_or_missing_scores_are_summed_in_float64():
    rng = np.random.default_rng(8)
    p = rng.random((500, 4)) - 0.1
    assert rows_off(p) == _float64_count(p)
    p = rng.random((500, 4)).astype(np.float32)
    p[7, 2] = np.nan
    assert rows_off(p) == _float64_count(p)
    assert rows_off(np.zeros((0, 3))) == 0


def _multiclass(n=700, k=5, seed=3, dtype=np.float32):
    rng = np.random.default_rng(seed)
    p = rng.random((n, k))
    p /= p.sum(axis=1, keepdims=True)
    return pd.DataFrame({"id": np.arange(n), "label": rng.integers(0, k, size=n),
                         **{f"p_{j}": p[:, j].astype(dtype) for j in range(k)}})


def _off(frame, rows):
    out = frame.copy()
    out.loc[:rows - 1, "p_0"] = out.loc[:rows - 1, "p_0"] + 0.01
    return out


def _clipped(frame):
    """Two scores a rounding error above 1, which loading clips: the matrix changes after the
    blocks were summarised, so the checks must read the clipped one."""
    out = frame.copy()
    out.loc[[10, 500], "p_3"] = np.float32(1.0000001)
    return out


@pytest.mark.parametrize("make", [
    lambda: parquet_bytes(_multiclass()),
    lambda: parquet_bytes(_multiclass(), row_group_size=100),  # row groups across blocks
    lambda: parquet_bytes(_multiclass(dtype=np.float64), row_group_size=33),
    lambda: parquet_bytes(_multiclass().astype({"p_2": np.float64})),
    lambda: parquet_bytes(_off(_multiclass(), 200)),  # the sum warning, 200 of 700 rows
    lambda: parquet_bytes(_off(_multiclass(), 5)),  # rows off, too few to warn
    lambda: parquet_bytes(_multiclass(k=30)),
    lambda: parquet_bytes(_multiclass(k=2)),
    lambda: parquet_bytes(_clipped(_multiclass())),
    lambda: parquet_bytes(_multiclass().assign(p_1=lambda f: f.p_1 * 8 - 4)),  # logits
    lambda: parquet_bytes(_multiclass().assign(p_1=lambda f: f.p_1 + 3), row_group_size=50),
])
def test_parquet_blocks_load_as_the_whole_table_reader(small_blocks, make):
    pset = parquet_both(make())
    assert not isinstance(pset, str), pset
    assert pset.n_rows == 700


def test_clipped_scores_are_checked_after_clipping(small_blocks):
    pset = parquet_both(parquet_bytes(_clipped(_multiclass())))
    assert any("clipped to [0, 1]" in note for note in pset.notes)
    assert pset.scores.max() == 1.0 and "(2 of 700 rows" not in " ".join(pset.warnings)


def test_the_lowest_and_highest_score_come_from_the_blocks(small_blocks, monkeypatch):
    import thresholdlab.loading.scores as scores_module

    found = []
    real = scores_module.score_range

    def spy(raw):
        summary = raw.summary
        found.append(summary is not None and summary.scores is raw.scores)
        low, high = real(raw)
        assert low == raw.scores.min() and high == raw.scores.max()
        return low, high

    monkeypatch.setattr(scores_module, "score_range", spy)
    parquet_both(parquet_bytes(_multiclass(), row_group_size=90))
    # The Parquet load: the reader's numbers, every time; the whole-table load: its own, once.
    assert found == [True, True, False, True]


@pytest.mark.parametrize("where", [0, 63, 64, 650, 699])
def test_a_missing_or_infinite_score_in_any_block_is_named(small_blocks, where):
    frame = _multiclass(dtype=np.float64)
    frame.loc[where, "p_3"] = np.nan
    assert f"row {where + 1}: the score is missing or NaN" in parquet_both(
        parquet_bytes(frame, row_group_size=128))
    frame.loc[where, "p_3"] = -np.inf
    assert f"row {where + 1}: the score is infinite (-inf)" in parquet_both(parquet_bytes(frame))


def test_columns_chunked_differently_are_copied_whole(small_blocks):
    rng = np.random.default_rng(9)
    values = [rng.random(500).astype(np.float32) for _ in range(4)]
    cuts = [[500], [100, 400], [250, 250], [1, 2, 3, 494]]
    columns = []
    for v, sizes in zip(values, cuts):
        ends = np.cumsum(sizes)
        columns.append(pa.chunked_array([v[e - s:e] for s, e in zip(sizes, ends)]))
    matrix = np.full((500, 6), -1.0)
    lows, highs = [], []
    parquet_module._copy_group(matrix, 1, columns, lows, highs)
    expected = np.stack(values, axis=1)
    assert np.array_equal(matrix[:, 1:5], expected)
    assert (matrix[:, [0, 5]] == -1.0).all()
    assert min(lows) == expected.min() and max(highs) == expected.max()


def test_parquet_and_csv_of_the_same_numbers_load_the_same():
    frame = _off(_multiclass(dtype=np.float64), 100)
    as_csv = frame.to_csv(index=False, float_format="%.17g").encode()
    csv = load(as_csv, name="preds.csv")
    parquet = load(parquet_bytes(frame), name="preds.parquet")
    assert parquet.scores.dtype == csv.scores.dtype == np.float64
    assert parquet.scores.flags.c_contiguous and csv.scores.flags.c_contiguous
    same = {f: getattr(parquet, f) for f in ("task", "classes", "notes", "warnings", "columns")}
    assert same == {f: getattr(csv, f) for f in same}
    for field in ("scores", "probabilities", "labels", "ids"):
        assert np.array_equal(getattr(parquet, field), getattr(csv, field)), field


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_reader_takes_every_row_s_sum_on_its_threads(small_blocks, monkeypatch, threads):
    from thresholdlab.loading.roles import Overrides
    from thresholdlab.loading.source import read_source

    monkeypatch.setattr(parquet_module, "COPY_THREADS", threads)
    frame = _off(_multiclass(n=1000, k=8, dtype=np.float32), 100)
    source = read_source(parquet_bytes(frame, row_group_size=300), "p.parquet", 1 << 30)
    raw = loading.read_raw(source, "parquet", Overrides())
    summary = raw.summary
    assert summary.scores is raw.scores and summary.row_sums.dtype == np.float32
    exact = raw.scores.astype(np.float64).sum(axis=1)
    assert np.allclose(summary.row_sums, exact, rtol=1e-6, atol=0)
    assert (summary.low, summary.high) == (raw.scores.min(), raw.scores.max())
    assert rows_off(raw.scores, summary.low, summary.row_sums) == _float64_count(raw.scores)


def test_decimal_columns_step_aside_to_the_whole_table_reader(small_blocks):
    import decimal

    rng = np.random.default_rng(3)
    digits = [f"0.{v:06d}" for v in rng.integers(0, 10**6, 300)]
    table = pa.table({
        "id": pa.array(np.arange(300)),
        "label": pa.array(rng.integers(0, 3, 300)),
        "p_a": pa.array([decimal.Decimal(d) for d in digits], pa.decimal128(9, 6)),
        "p_b": pa.array(rng.random(300)),
        "p_c": pa.array([decimal.Decimal(d) for d in reversed(digits)], pa.decimal256(40, 20)),
    })
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=70)
    pset = parquet_both(out.getvalue())
    assert pset.columns["scores"] == ["p_a", "p_b", "p_c"]
    np.testing.assert_array_equal(pset.scores[:, 0], [float(d) for d in digits])
