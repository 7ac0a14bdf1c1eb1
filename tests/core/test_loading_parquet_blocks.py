"""Scores move a block of rows at a time, laid out column by column: a Parquet file's columns
into the score matrix (noting the lowest and highest score on the way), and the matrix's rows
into the row sums of the "do not sum to 1" warning.

Every load here is compared with the whole-table reader, bit for bit or the same sentence, with
blocks and column groups small enough that a few hundred rows cross many block and row-group
boundaries; the row sums are compared with numpy's own ``sum(axis=1)`` to the last bit.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import thresholdlab.loading.parquet as parquet_module
import thresholdlab.loading.raw as raw_module
from thresholdlab.loading import SUM_TOLERANCE, load, sum_warnings
from thresholdlab.loading.scores import pairwise_row_sums

from tests.core.test_loading_streaming import parquet_both, parquet_bytes


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 40 rows and groups of 3 columns, so every file crosses many of both."""
    monkeypatch.setattr(raw_module, "COLUMN_BLOCK_BYTES", 1)
    monkeypatch.setattr(raw_module, "_COLUMN_BLOCK_ROWS", (40, 40))
    monkeypatch.setattr(parquet_module, "GROUP_COLUMNS", 3)


def _awkward(rng, shape, dtype):
    """Values whose float64 sums round at many places: magnitudes from 1 down to 1e-30."""
    return (rng.random(shape) * 10.0 ** -rng.integers(0, 30, size=shape)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 2, 3, 7, 8, 9, 15, 16, 17, 20, 24, 50, 127, 128, 129, 136, 257, 300])
def test_row_sums_are_numpys_to_the_last_bit(k, dtype):
    rng = np.random.default_rng(k)
    scores = np.concatenate([_awkward(rng, (400, k), dtype), rng.random((400, k)).astype(dtype)])
    expected = np.asarray(scores, dtype=np.float64).sum(axis=1)
    got = pairwise_row_sums(np.ascontiguousarray(scores.T), 0, k)
    assert got.dtype == np.float64
    assert np.array_equal(got.view(np.int64), expected.view(np.int64))


@pytest.mark.parametrize("k", [2, 3, 20, 130])
def test_rows_off_are_counted_as_numpys_row_sums_count_them(small_blocks, k):
    rng = np.random.default_rng(k)
    p = rng.random((2000, k)).astype(np.float32)
    p /= p.sum(axis=1, keepdims=True)
    # Rows on both sides of the tolerance, many a hair away from it.
    p[:300, 0] += np.float32(SUM_TOLERANCE) * rng.uniform(0.999, 1.001, size=300).astype(np.float32)
    p[300:400, 1] -= np.float32(2 * SUM_TOLERANCE)
    p[400:500] = _awkward(rng, (100, k), np.float32)
    sums = np.asarray(p, dtype=np.float64).sum(axis=1)
    count = int(np.count_nonzero(np.abs(sums - 1.0) > SUM_TOLERANCE))
    assert f"({count} of 2000 rows are off" in sum_warnings(p)[0]
    assert f"({count} of 2000 rows are off" in sum_warnings(p.astype(np.float64))[0]
    assert f"({count} of 2000 rows are off" in sum_warnings(np.asfortranarray(p))[0]


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
