"""Step 2a, for Parquet: the score columns go straight from the file into the score matrix.

The whole-table reader (:func:`~thresholdlab.loading.tables.read_table`) turns every column into
a pandas column and then copies the score columns into the (n, K) matrix, so the scores are held
twice before the frame goes. Here the columns role detection will read as scores (by their names
and float type, :func:`~thresholdlab.loading.roles.likely_score_columns`) are decoded a few
at a time, on all cores (the other columns with the first few), and copied into the
preallocated matrix a block of rows at a time, on all cores too, which also gives the checks
their lowest and highest score and each row's sum without a pass of their own; only the other
columns (id, labels, the rest) become a pandas frame, and the score columns join it as views of
the matrix. The row count is in the file's footer, so the matrix is allocated once, at its size.

The values and types are those of the whole-table reader: float32 columns stay float32 (exact),
anything else becomes float64, a missing value is NaN. Files the whole-table reader refuses
(empty, not Parquet, repeated or nested columns, no rows), decimal columns (which that reader
turns into numbers) and pandas metadata that renames columns return None, and that reader words
what it makes of them.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from thresholdlab.loading.raw import ScoreSummary, column_block, column_block_rows
from thresholdlab.loading.roles import Overrides, likely_score_columns
from thresholdlab.loading.source import Source, release_arrow_memory
from thresholdlab.loading.streaming import Streamed
from thresholdlab.loading.tables import BLOCK_PER_COLUMN

GROUP_COLUMNS = 10
"""Score columns decoded together (in parallel) before they are copied into the matrix. Each
group's copy writes a part of every row of the matrix, so fewer, wider groups copy faster; the
decoded group and its decoding buffers are held beside the matrix, so narrower groups peak
lower (1,000,000 x 20: load's peak 2.45x the float32 matrix with groups of 10, the budget is
3x)."""

COPY_THREADS = min(os.cpu_count() or 1, 4)
"""Threads that copy a decoded group into the matrix, each a run of blocks of rows."""


def read_parquet_filled(source: Source, ov: Overrides) -> Streamed | None:
    """Read a Parquet file with its score columns filled into the matrix; None when the
    whole-table reader must read it."""
    if source.size == 0:
        return None
    try:
        with source.arrow_file() as handle:
            return _fill(pq.ParquetFile(handle, pre_buffer=False), ov)
    except MemoryError:
        raise  # the whole-table reader would need more still: load words it
    except Exception:
        # Whatever pyarrow or pandas stumble on is worded by the whole-table reader.
        release_arrow_memory()
        return None


def _fill(parquet: pq.ParquetFile, ov: Overrides) -> Streamed | None:
    schema = parquet.schema_arrow
    names = schema.names
    rows = parquet.metadata.num_rows
    if rows == 0 or not names or len(set(names)) != len(names):
        return None
    if any(pa.types.is_nested(t) or pa.types.is_decimal(t) for t in schema.types):
        return None  # decimals (SQL exports) become numbers in the whole-table reader
    index_columns = _plain_pandas_index(schema)
    if index_columns is None:
        return None
    data = [c for c in names if c not in index_columns]
    kinds = {c: schema.field(c).type for c in data}
    floats = {c for c, t in kinds.items() if pa.types.is_float32(t) or pa.types.is_float64(t)}
    scores = likely_score_columns(data, floats, ov)
    rest = [c for c in names if c not in set(scores)]
    if not scores or not [c for c in rest if c not in index_columns]:
        return None
    # float32 stays float32 as in score_matrix: the float32 values are the data.
    all32 = all(pa.types.is_float32(kinds[c]) for c in scores)
    matrix = np.empty((rows, len(scores)), dtype=np.float32 if all32 else np.float64)
    lows, highs = [], []
    # Each row's sum, for the sum-to-1 count of several probabilities per row.
    row_sums = np.empty(rows, dtype=matrix.dtype) if len(scores) > 1 else None
    for first in range(0, len(scores), GROUP_COLUMNS):
        group = scores[first:first + GROUP_COLUMNS]
        if first == 0:
            # The other columns decode with the first group, so that every read uses every core.
            table = parquet.read(columns=group + rest, use_threads=True)
            table, others = table.select(group), table.select(rest)
        else:
            table = parquet.read(columns=group, use_threads=True)
        _copy_group(matrix, first, [table.column(c) for c in group], lows, highs, row_sums)
        del table
    # np.min carries a NaN through, as matrix.min() would.
    summary = ScoreSummary(matrix, np.min(lows), np.max(highs), row_sums)
    # The file's pandas metadata comes along, as in tables._read_parquet.
    others = others.to_pandas(split_blocks=True, self_destruct=True)
    release_arrow_memory()
    place = {c: j for j, c in enumerate(scores)}
    frame = pd.DataFrame(
        {c: matrix[:, place[c]] if c in place else others[c] for c in data},
        index=others.index, copy=False,  # copy=False: the score columns stay views
    )
    # As tables._read_parquet: a saved pandas index stays visible as a column; names are text.
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    frame.columns = [str(c) for c in frame.columns]
    frame.attrs[BLOCK_PER_COLUMN] = True
    return Streamed(frame, [], matrix, list(scores), summary)


def _copy_group(matrix: np.ndarray, first: int, columns: list[pa.ChunkedArray],
                lows: list, highs: list, row_sums: np.ndarray | None = None) -> None:
    """Copy decoded score columns into ``matrix[:, first:first + len(columns)]``, a block of
    rows at a time, and note each block's lowest and highest score while it is in the cache;
    with ``row_sums``, also add the group's scores of each row to it (set it, for the first).

    Values are those of assigning each column: float32 as it is, or converted exactly to
    float64; a missing value becomes NaN, as pandas reads it, and check_finite names it.
    """
    step = column_block_rows(len(columns), matrix.dtype)
    blocks = [(start + offset, [piece[offset:offset + step] for piece in pieces])
              for start, pieces in _aligned_pieces(columns)
              for offset in range(0, len(pieces[0]), step)]
    # numpy copies and reduces without holding the GIL, so consecutive runs of blocks copy on
    # all cores at once (two groups of ten float32 columns of 1,000,000 rows, into a new
    # matrix: 0.033 s on one core, 0.022 s on two).
    runs = [run for run in np.array_split(np.arange(len(blocks)), COPY_THREADS) if run.size]
    with ThreadPoolExecutor(len(runs)) as pool:
        done = pool.map(lambda run: _copy_blocks(matrix, first, [blocks[b] for b in run],
                                                 row_sums), runs)
        for low, high in done:
            lows += low
            highs += high


def _copy_blocks(matrix: np.ndarray, first: int, blocks: list,
                 row_sums: np.ndarray | None) -> tuple[list, list]:
    """One thread's share of :func:`_copy_group`: (lowest, highest) score of each block."""
    width = len(blocks[0][1])
    block = column_block(width, matrix.dtype)
    lows, highs = [], []
    for row, pieces in blocks:
        part = block[:, :len(pieces[0])]
        for j, piece in enumerate(pieces):
            part[j] = piece
        rows = slice(row, row + part.shape[1])
        np.copyto(matrix[rows, first:first + width], part.T)
        if row_sums is not None:
            # Added in the order the groups come: rows_off takes its first sums in any order.
            if first == 0:
                row_sums[rows] = part.sum(axis=0)
            else:
                row_sums[rows] += part.sum(axis=0)
        lows.append(part.min())
        highs.append(part.max())
    return lows, highs


def _aligned_pieces(columns: list[pa.ChunkedArray]):
    """(first row, one numpy array per column) over runs of rows that every column holds in
    one chunk (a file's row groups), without a copy when a column has no missing values."""
    ends = {int(e) for c in columns for e in np.cumsum([len(chunk) for chunk in c.chunks])}
    bounds = sorted({0, *ends})
    for start, stop in zip(bounds, bounds[1:]):
        yield start, [c.slice(start, stop - start).to_numpy() for c in columns]


def _plain_pandas_index(schema: pa.Schema) -> list[str] | None:
    """Columns pandas metadata makes the index, or None when that metadata names a column
    otherwise than the file does (numbers, tuples): such files keep the whole-table reader."""
    raw = (schema.metadata or {}).get(b"pandas")
    if raw is None:
        return []
    meta = json.loads(raw)
    index = [c for c in meta.get("index_columns", []) if isinstance(c, str)]
    if len(meta.get("column_indexes", [])) > 1:
        return None
    for column in meta.get("columns", []):
        if column.get("field_name") not in index and column.get("name") != column.get("field_name"):
            return None
    for level in meta.get("column_indexes", []):
        if level.get("pandas_type") not in ("unicode", "object", "empty", None):
            return None
    return index
