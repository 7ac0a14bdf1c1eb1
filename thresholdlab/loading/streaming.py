"""Step 2a, for plain CSV: read the file block by block straight into the final score matrix.

A 1,000,000 x 20 score file is 250 MB of text. Parsed as a whole table and then copied into the
score matrix, it held the text's parse buffers, the table and the matrix at once: about 9x the
float32 scores at the peak. Here the text is parsed a few MB at a time, each piece by pyarrow's
reader on all cores while the last piece's rows are copied (:func:`_batches`), and each block of
rows has its score columns written into one preallocated (n, K) float64 matrix, which is what
:class:`~thresholdlab.loading.raw.Raw` holds; the other columns (id, labels, anything else) are
kept as Arrow blocks and become pandas columns at the end. At the peak the process holds the
matrix, those few columns and two pieces of text and their rows.

Scores stay float64: the text ``0.3`` is the float64 nearest 0.3, and a float32 would read it as
0.30000001192..., so thresholds, ties and every metric would no longer be those of the file's
numbers. (A file whose numbers are all float32 values is still sorted in float32 by the curve
index, which checks that exactly.)

Only files that need nothing unusual come here: UTF-8 text without a ``sep=`` line, distinct
non-empty header names, columns whose type the first MiB settles (numbers, true/false, text).
Anything else, and any value later in the file that does not fit its column's type (a word in a
score column, invalid UTF-8, a ragged row), returns None, and the whole-table readers in
:mod:`~thresholdlab.loading.tables` read the file: its dialect notes, encodings (UTF-16, Latin-1
messages), comment lines and every error message come from there, worded as they always were.
"""

from __future__ import annotations

import codecs
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from thresholdlab.loading.raw import ScoreSummary
from thresholdlab.loading.roles import Overrides, likely_score_columns
from thresholdlab.loading.source import Source, release_arrow_memory
from thresholdlab.loading.tables import (
    _SEP_LINE, BLOCK_PER_COLUMN, REPEATED_NAMES, _repeated_names, empty_rows_at_end,
    empty_tail_note,
)
from thresholdlab.loading.text_layout import text_layout

HEAD_BYTES = 1 << 20
"""Column types are inferred from the file's first MiB, as pyarrow's ``read_csv`` infers them
from its first block; the rest of the file is converted to those types."""
BLOCK_BYTES = 1 << 20
"""Text per block pyarrow parses on one of its threads."""
PIECE_BYTES = 1 << 22
"""Text parsed at a time (:func:`_batches`): small enough that two pieces' text and tables
cost little beside the matrix, large enough to keep every core busy."""
_SPARE_ROWS = 1.25
"""The matrix is allocated for this many times the rows the head's row length predicts. Pages
that are never written cost no memory, so the estimate errs high; a file with longer rows than
its head grows the matrix in place (see :func:`_grow`)."""

_RELEASE_EVERY = 32
"""Blocks between hand-backs of Arrow's freed pages: its allocator keeps the pages of freed
blocks for reuse, tens of MB over a large file, which would count on top of the matrix."""


@dataclass
class Streamed:
    """A CSV read block by block: the table, and the score matrix filled on the way.

    ``frame`` holds every column of the file in file order; the columns in ``matrix_columns``
    are views of ``matrix``'s columns, so role detection reads them without a second copy.
    """

    frame: pd.DataFrame
    notes: list[str]
    matrix: np.ndarray  # (n, len(matrix_columns)) float64, C-contiguous
    matrix_columns: list[str]
    summary: ScoreSummary | None = None  # what the reader learnt of the matrix on the way


def read_csv_blocks(source: Source, ov: Overrides, fmt: str = "csv") -> Streamed | None:
    """Read a plain UTF-8 CSV or TSV block by block; None when the whole-table readers must."""
    try:
        head = _head(source)
        plan = _plan(head, source, fmt, ov)
        if plan is None:
            return None
        return _stream(source, plan)
    except MemoryError:
        raise  # the whole-table readers would need more still: load words it
    except Exception:
        # Any parse or conversion error: the whole-table readers word it from the whole file.
        release_arrow_memory()
        return None


@dataclass
class _Plan:
    sep: str
    decimal: str
    notes: list[str]
    names: list[str]  # as the parser reads the header (a byte-order mark included)
    types: list[pa.DataType]
    matrix_columns: list[str]
    rows_estimate: int
    end: int  # bytes read: the file without the rows of empty cells at its end (empty_tail)


def _head(source: Source) -> bytes:
    if source.data is not None:
        return source.data[:HEAD_BYTES]
    with source.path.open("rb") as f:
        return f.read(HEAD_BYTES)


def _plan(head: bytes, source: Source, fmt: str, ov: Overrides) -> _Plan | None:
    """Dialect, column types and the score columns the matrix takes, from the file's head
    (and, for rows of empty cells, its end)."""
    if not head.strip() or b"\x00" in head or _SEP_LINE.match(head):
        return None
    size = source.size
    whole = len(head) == size
    if not whole:
        cut = head.rfind(b"\n") + 1
        if head.count(b"\n") < 2:
            return None  # lines longer than the head: the whole-table reader copes with them
        head = head[:cut]
    text = head.decode("utf-8-sig", errors="strict") if whole else (
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False).lstrip("\ufeff")
    )
    layout = text_layout(text, source.file, sep="\t" if fmt == "tsv" else None)
    if not layout.plain:
        return None  # comment lines, spaces, row names: the whole-table reader reads the layout
    sep, decimal, notes = layout.sep, layout.decimal, list(layout.notes)
    if _repeated_names(text, sep):
        return None
    # As tables.read_table: rows of empty cells at the end are never read.
    empty_rows, empty_bytes = empty_rows_at_end(source, sep)
    end = size - empty_bytes
    if empty_rows:
        notes.append(empty_tail_note(empty_rows))
        head = head[:end]
    # One thread: the head is one block, and worker threads would keep its buffers cached.
    table = pacsv.read_csv(pa.BufferReader(head), read_options=pacsv.ReadOptions(
                               use_threads=False, block_size=len(head) + 1),
                           parse_options=_parse_options(sep),
                           convert_options=_convert_options(decimal))
    names = table.column_names
    if table.num_rows == 0 or any(not n.strip() for n in names) or len(set(names)) != len(names):
        return None
    types = table.schema.types
    if any(pa.types.is_temporal(t) or pa.types.is_binary(t) or pa.types.is_null(t)
           for t in types):
        return None  # dates, undecodable text and empty head columns: the whole-table readers
    shown = [n.lstrip("\ufeff") for n in names]
    floats = {s for s, t in zip(shown, types) if pa.types.is_float64(t)}
    body = len(head) - (head.find(b"\n") + 1)
    per_row = max(body / table.num_rows, 1.0)
    rows = table.num_rows if whole else int((size - (len(head) - body)) / per_row * _SPARE_ROWS)
    return _Plan(sep, decimal, notes, names, types, likely_score_columns(shown, floats, ov),
                 max(rows, 1) + 1024, end)


def _parse_options(sep: str) -> pacsv.ParseOptions:
    return pacsv.ParseOptions(delimiter=sep)


def _convert_options(decimal: str, types: dict | None = None) -> pacsv.ConvertOptions:
    # Only an empty cell is missing, as in tables._NA_OPTIONS.
    return pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True,
                                decimal_point=decimal, column_types=types)


def _stream(source: Source, plan: _Plan) -> Streamed | None:
    shown = [n.lstrip("\ufeff") for n in plan.names]
    in_matrix = {c: j for j, c in enumerate(plan.matrix_columns)}
    # Whole and fractional numbers outside the matrix (ids, label numbers) are filled into
    # arrays of their own the same way; text and true/false stay Arrow blocks until the end.
    numbers = {c: _Numbers(t, plan.rows_estimate) for c, t in zip(shown, plan.types)
               if c not in in_matrix and (pa.types.is_int64(t) or pa.types.is_float64(t))}
    kept: dict[str, list[pa.Array]] = {
        c: [] for c in shown if c not in in_matrix and c not in numbers
    }
    matrix = np.empty((plan.rows_estimate, len(plan.matrix_columns)), dtype=np.float64)
    n = blocks = 0
    # The head's types for every column: later blocks are converted, never re-inferred, so a
    # value that does not fit stops the read (and the whole-table readers take over).
    types = dict(zip(plan.names, plan.types))
    with source.arrow_file() as handle:
        for batch in _batches(handle, plan, types):
            rows = batch.num_rows
            if n + rows > matrix.shape[0]:
                matrix = _grow(matrix, n + rows)
            for i, c in enumerate(shown):
                column = batch.column(i)
                if c in in_matrix:
                    # An empty cell (null) becomes NaN, as pandas reads it; check_finite names it.
                    matrix[n:n + rows, in_matrix[c]] = column.to_numpy(zero_copy_only=False)
                elif c in numbers:
                    numbers[c].put(n, column)
                else:
                    kept[c].append(column)
            n += rows
            del batch
            blocks += 1
            if blocks % _RELEASE_EVERY == 0:
                release_arrow_memory()
    if n == 0:
        return None  # a header without rows is worded by the whole-table reader
    # Shrinking gives the pages past the last row back (realloc, no copy).
    matrix.resize((n, matrix.shape[1]), refcheck=False)
    rest = pd.DataFrame()
    if kept:
        table = pa.table({c: pa.chunked_array(kept[c], type=types[name])
                          for c, name in zip(shown, plan.names) if c in kept})
        kept.clear()
        # split_blocks: each column its own pandas block; self_destruct: each Arrow column is
        # freed as soon as it is converted (as in tables._read_plain_csv).
        rest = table.to_pandas(split_blocks=True, self_destruct=True)
        del table
    release_arrow_memory()
    columns = {}
    for c in shown:
        if c in in_matrix:
            columns[c] = matrix[:, in_matrix[c]]
        elif c in numbers:
            columns[c] = numbers.pop(c).finished(n)
        else:
            columns[c] = rest[c]
    frame = pd.DataFrame(columns, copy=False)  # copy=False: the score columns stay views
    frame.attrs[REPEATED_NAMES] = {}
    frame.attrs[BLOCK_PER_COLUMN] = True
    return Streamed(frame, plan.notes, matrix, list(plan.matrix_columns))


def _batches(handle: pa.NativeFile, plan: _Plan, types: dict):
    """The file's rows as record batches, parsed a piece of text at a time on all cores, the
    next piece while the caller copies the last one's batches.

    pyarrow's streaming reader (``open_csv``) parses on one core, its whole-table reader on
    all. Each piece ends at a line end: a row never holds a line break (``newlines_in_values``
    is off, as pyarrow's readers cut their blocks); a row longer than a piece makes the piece
    longer. Later pieces are parsed with the header's names and the head's column types.
    """
    parse_options = _parse_options(plan.sep)
    convert_options = _convert_options(plan.decimal, types)

    def parse(text, header: bool) -> pa.Table:
        read_options = pacsv.ReadOptions(
            block_size=BLOCK_BYTES, use_threads=True,
            column_names=None if header else plan.names,
        )
        return pacsv.read_csv(pa.BufferReader(text), read_options=read_options,
                              parse_options=parse_options, convert_options=convert_options)

    def pieces():
        carry = b""
        left = plan.end
        while True:
            data = handle.read(min(PIECE_BYTES, left))
            left -= len(data)
            text = carry + data if carry else data
            cut = text.rfind(b"\n") + 1 if data else len(text)
            # A view of the piece, not a copy; only the partial line after the cut is copied.
            piece, carry = memoryview(text)[:cut], text[cut:]
            if len(piece):
                yield piece
            if not data:
                return

    with ThreadPoolExecutor(max_workers=1) as parser:
        header = True
        pending = None
        for text in pieces():
            parsed = parser.submit(parse, text, header)
            header = False
            if pending is not None:
                yield from pending.result().to_batches()
            pending = parsed
        if pending is not None:
            yield from pending.result().to_batches()


class _Numbers:
    """One int64 or float64 column filled block by block, read as pandas reads Arrow's: an
    integer column with an empty cell becomes float64 with NaN there."""

    def __init__(self, kind: pa.DataType, rows: int):
        self.values = np.empty(rows, dtype=np.int64 if pa.types.is_int64(kind) else np.float64)
        self.missing: list[np.ndarray] = []

    def put(self, start: int, column: pa.Array) -> None:
        rows = len(column)
        if start + rows > self.values.shape[0]:
            self.values = _grow(self.values, start + rows)
        if column.null_count and self.values.dtype == np.int64:
            self.missing.append(start + np.flatnonzero(column.is_null().to_numpy(False)))
            column = column.fill_null(0)
        self.values[start:start + rows] = column.to_numpy(zero_copy_only=False)

    def finished(self, rows: int) -> np.ndarray:
        self.values.resize(rows, refcheck=False)
        if not self.missing:
            return self.values
        values = self.values.astype(np.float64)
        values[np.concatenate(self.missing)] = np.nan
        return values


def _grow(matrix: np.ndarray, rows: int) -> np.ndarray:
    """The matrix (or a column) with room for at least ``rows`` rows, grown in place where the allocator can.

    No view of the matrix exists while it is being filled, so resizing without the reference
    check is safe; numpy reallocates, which moves large blocks by remapping their pages.
    """
    matrix.resize((max(rows, int(matrix.shape[0] * 1.5)), *matrix.shape[1:]), refcheck=False)
    return matrix
