"""Turn a user's prediction file into a :class:`PredictionSet`.

This is the boundary where user data is validated, once: every problem becomes one
:class:`DataError` sentence naming the file, column and row, and everything downstream trusts the
result. The steps, in order:

1. ``read_source``   a :class:`Source` (file name, and bytes or a path) from a path, an upload
   or raw bytes; size limit.
2. ``read_table`` / ``read_npz`` / ``read_pt``   parse the file, never unpickling anything.
3. ``detect_roles``  which columns are the id, the labels, the scores (tables only).
4. ``decide_task``, ``map_labels``, ``decide_score_kind``   what the numbers mean.

Each inference is reported in ``PredictionSet.notes`` as one sentence; degenerate but valid data
(a class with no positives) is reported in ``PredictionSet.warnings``.

Row numbers in messages count data rows from 1, as a spreadsheet shows them below the header.

Memory: a loaded file should cost about what its scores and labels take. So a Parquet file on
disk is read by pyarrow itself, never held as bytes; its parsed columns are handed to pandas
without copies and dropped as soon as the score matrix and labels exist; float32 probabilities
stay float32 (exact, see :func:`thresholdlab.predictions.from_arrays`); and the memory Arrow
pooled for the table goes back to the operating system before :func:`load` returns.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from thresholdlab.predictions import (
    PROBABILITY_SLACK, TASKS, DataError, PredictionSet, sigmoid, softmax,
)

DEFAULT_MAX_BYTES = 2 * 1024**3
"""Largest file :func:`load` reads (2 GiB); exact mode holds every row in memory."""

FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".npz": "npz",
    ".pt": "pt",
    ".pth": "pt",
}
SCORE_KINDS = ("probability", "logit")

ID_NAMES = frozenset({"id", "index", "row_id", "sample_id", "uid"})
LABEL_NAMES = (
    "label", "labels", "target", "y", "y_true", "true", "class", "truth", "ground_truth",
)
SCORE_PREFIXES = ("p_", "prob_", "proba_", "score_", "logit_", "pred_", "y_pred_")
# ``y_true_`` is not in the documented list of prefixes but is the obvious partner of ``y_pred_``; longest prefix
# wins, so ``y_true_cat`` pairs with ``y_pred_cat`` instead of being read as ``y_`` + "true_cat".
TRUTH_PREFIXES = ("y_", "true_", "label_", "target_", "y_true_")

SUM_TOLERANCE = 1e-3
"""Multi-class probability rows further than this from 1 count as "not summing to 1"."""
SUM_ROW_SHARE = 0.01
"""Warn about row sums only when more than this share of rows is off."""
REPEATED_NAMES = "thresholdlab_repeated_names"
"""``DataFrame.attrs`` key: header names given twice (see _repeated_names)."""
PERCENT_SUM_TOLERANCE = 1.0
"""Multi-class rows whose scores sum to 100 within this (rounded percentages) are percentages."""

# Only an empty cell is missing while parsing: the parsers' other missing-value words ("NA",
# "None", "null", ...) can be class names, so labels decide about them once the classes are
# known, and a score spelled so is reported as missing (see _NA_TEXT).
_NA_OPTIONS = {"keep_default_na": False, "na_values": [""]}
_NA_TEXT = frozenset({
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})
"""How spreadsheets, R and pandas write a missing value (pandas' default missing-value words)."""
_SEPARATORS = re.compile(r"[ .\-]")
_SNIFF_BYTES = 64 * 1024
_SUM_BLOCK_ROWS = 65536
_TRUE_WORDS = frozenset({"true", "yes"})
_FALSE_WORDS = frozenset({"false", "no"})
_MAX_LISTED = 10


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def load(
    source,
    *,
    name: str | None = None,
    label_col: str | None = None,
    label_cols: list[str] | str | None = None,
    score_cols: list[str] | str | None = None,
    task: str | None = None,
    score_kind: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> PredictionSet:
    """Read a prediction file, detect what its columns mean and validate every value.

    Parameters
    ----------
    source : str, Path, bytes or a binary file-like object (e.g. a Streamlit upload)
        The file. For bytes, ``name`` gives the file name whose extension picks the format.
    name : str, optional
        File name for messages, configs and the format; defaults to the path's base name or the
        upload's ``.name``.
    label_col, label_cols, score_cols, task, score_kind : optional
        Overrides of the detected roles; they win over detection and are validated.
        ``label_cols`` and ``score_cols`` are lists of column names or one comma-separated string.
    max_bytes : int
        Files larger than this are refused before they are parsed.

    Returns
    -------
    PredictionSet

    Raises
    ------
    DataError
        One sentence naming the file, column and row, ending with what to do.
    """
    source = read_source(source, name, max_bytes)
    overrides = Overrides.checked(label_col, label_cols, score_cols, task, score_kind)
    fmt = file_format(source.file)
    if fmt != "parquet":
        source = source.in_memory()  # only pyarrow's Parquet reader reads a file by itself
    # hashlib releases the GIL, so hashing a large file overlaps with parsing it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(source.sha256)
        raw = read_raw(source, fmt, overrides)
        # The parsed table is gone by now; give its memory back before the labels are built.
        release_arrow_memory()
        pset = finish(raw, overrides, sha256=digest.result())
    del raw  # its truth and label columns may still be Arrow memory
    release_arrow_memory()
    return pset


def read_raw(source: Source, fmt: str, overrides: Overrides) -> Raw:
    """Parse the file and pull out scores, labels and ids; the parsed table dies on return."""
    if fmt in ("npz", "pt"):
        arrays = (read_npz if fmt == "npz" else read_pt)(source.data, source.file)
        noun = "array" if fmt == "npz" else "tensor"
        return raw_from_arrays(arrays, source.file, overrides, noun)
    table, table_notes = read_table(source, fmt)
    raw = raw_from_table(table, source.file, overrides)
    raw.notes[:0] = table_notes
    return raw


def release_arrow_memory() -> None:
    """Hand the memory that Arrow's allocator keeps after a table is freed back to the OS.

    pyarrow's pool (mimalloc or jemalloc) holds freed pages for reuse, so without this a parsed
    table (Parquet, or CSV through pyarrow's parser) would go on counting in the process's
    memory long after it is gone.
    """
    pa.default_memory_pool().release_unused()


def inspect_report(pset: PredictionSet) -> dict:
    """The command-line ``inspect --json`` object for a loaded file, in plain JSON-ready types."""
    columns = pset.columns or {}
    return {
        "file": pset.file,
        "rows": pset.n_rows,
        "task": pset.task,
        "classes": list(pset.classes),
        "score_kind": pset.score_kind,
        "activation": pset.activation,
        "columns": {
            "id": columns.get("id"),
            "label": columns.get("label"),
            "labels": None if columns.get("labels") is None else list(columns["labels"]),
            "scores": list(columns.get("scores") or []),
            "ignored": list(columns.get("ignored") or []),
        },
        "label_mapping": {str(k): str(v) for k, v in (pset.label_mapping or {}).items()},
        "positives": {c: int(n) for c, n in zip(pset.classes, pset.positives)},
        "notes": list(pset.notes),
        "warnings": list(pset.warnings),
    }


# --------------------------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overrides:
    """The user's corrections to detection (CLI options, sidebar controls)."""

    label_col: str | None = None
    label_cols: tuple[str, ...] | None = None
    score_cols: tuple[str, ...] | None = None
    task: str | None = None
    score_kind: str | None = None

    @classmethod
    def checked(cls, label_col, label_cols, score_cols, task, score_kind) -> Overrides:
        if task is not None and task not in TASKS:
            raise DataError(f"Task '{task}' is not one of {', '.join(TASKS)}.")
        if score_kind is not None and score_kind not in SCORE_KINDS:
            raise DataError(f"Score kind '{score_kind}' is not one of {', '.join(SCORE_KINDS)}.")
        label_cols, score_cols = _name_list(label_cols), _name_list(score_cols)
        if label_col is not None and label_cols is not None:
            raise DataError(
                "Give either one label column (--label-col) or several multi-label truth "
                "columns (--label-cols), not both."
            )
        # Several truth columns with task multiclass are one-hot labels (see one_hot_labels).
        if label_cols is not None and task == "binary" and len(label_cols) > 1:
            raise DataError(
                "Several label columns mean multi-label data, not binary; "
                "name a single label column with --label-col."
            )
        if label_col is not None and task == "multilabel":
            raise DataError(
                "Multi-label data needs one 0/1 truth column per class; "
                "name them with --label-cols instead of --label-col."
            )
        return cls(label_col or None, label_cols, score_cols, task, score_kind)

    @property
    def columns(self) -> list[str]:
        named = [self.label_col] if self.label_col else []
        return named + list(self.label_cols or ()) + list(self.score_cols or ())


def _name_list(value) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    names = tuple(str(v).strip() for v in value if str(v).strip())
    return names or None


# --------------------------------------------------------------------------------------------
# 1. Source: bytes or path, and name
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A file to load: its display name and size, and either its bytes or its path.

    A file on disk is not read into memory up front: pyarrow reads Parquet from the path, and
    holding the bytes as well would cost the file's whole size on top of the parsed table.
    """

    file: str
    size: int
    data: bytes | None = None
    path: Path | None = None
    shown: str = ""  # the path as the user gave it, for messages

    def in_memory(self) -> Source:
        """The same source with its bytes read, for the parsers that need them all at once."""
        if self.data is not None:
            return self
        with _file_errors(self.shown):
            return replace(self, data=self.path.read_bytes())

    def sha256(self) -> str:
        """Hex digest of the file's bytes; a file on disk is hashed in chunks, never held whole."""
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest()
        with _file_errors(self.shown), self.path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()

    def arrow_file(self) -> pa.NativeFile:
        """The file for pyarrow to read: the path opened by pyarrow, or the bytes (no copy)."""
        if self.data is not None:
            return pa.BufferReader(self.data)
        with _file_errors(self.shown):
            return pa.OSFile(str(self.path))


@contextmanager
def _file_errors(shown: str):
    """OS errors while opening or reading a file on disk, as the one sentence a user can act on."""
    try:
        yield
    except FileNotFoundError:
        raise DataError(f"File '{shown}' was not found; check the path.") from None
    except PermissionError:
        raise DataError(f"File '{shown}' cannot be read: permission denied.") from None
    except OSError as exc:
        raise DataError(f"File '{shown}' cannot be read: {exc.strerror or exc}.") from None


def read_source(source, name: str | None, max_bytes: int) -> Source:
    """The file behind ``source`` and its display name; refuses files over ``max_bytes``.

    A path is checked here (it exists, is a file, is small enough, can be opened) but not read.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        file = name or path.name
        with _file_errors(f"{source}"):
            size = path.stat().st_size
            if path.is_dir():
                raise DataError(f"'{source}' is a folder, not a file; give the path of a file.")
            _check_size(file, size, max_bytes)
            with path.open("rb"):  # an unreadable file fails here, before anything is parsed
                pass
        return Source(file, size, path=path, shown=f"{source}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        name = name or getattr(source, "name", None)
        data = source.getvalue() if hasattr(source, "getvalue") else source.read()
        if not isinstance(data, (bytes, bytearray)):
            raise DataError("Uploads must be opened in binary mode; read the file as bytes.")
        data = bytes(data)
    else:
        raise DataError(
            f"Cannot read predictions from a {type(source).__name__}; "
            "give a file path or the file's bytes."
        )
    if not name:
        raise DataError(
            "Uploaded data needs a file name whose extension tells its format "
            "(.csv, .tsv, .parquet, .npz or .pt)."
        )
    file = Path(str(name)).name or str(name)
    _check_size(file, len(data), max_bytes)
    return Source(file, len(data), data=data)


def _check_size(file: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise DataError(
            f"File '{file}' is {_human_size(size)}, over the limit of {_human_size(max_bytes)}; "
            "load a sample of its rows or split it."
        )


def _human_size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.3g} {unit}"
    raise AssertionError("unreachable")


def file_format(file: str) -> str:
    """Format key (``csv``, ``tsv``, ``parquet``, ``npz``, ``pt``) from the file's extension."""
    ext = Path(file).suffix.lower()
    if ext not in FORMATS:
        shown = f"extension '{ext}'" if ext else "no extension"
        raise DataError(
            f"File '{file}' has {shown}, which ThresholdLab does not read; "
            "save it as .csv, .tsv, .parquet, .npz or .pt."
        )
    return FORMATS[ext]


# --------------------------------------------------------------------------------------------
# 2a. Tables: CSV, TSV, Parquet
# --------------------------------------------------------------------------------------------


def read_table(source: Source, fmt: str) -> tuple[pd.DataFrame, list[str]]:
    """Parse a table; returns the frame and notes on how it was read (delimiter, decimals)."""
    if fmt == "parquet":
        return _read_parquet(source), []
    data, file = source.data, source.file
    data, encoding_notes = _from_utf16(data, file)
    data, declared = _strip_sep_line(data)
    if not data[:_SNIFF_BYTES].strip() and not data.strip():
        raise _empty_error(file)
    text_head = _check_text(data, file)
    if declared is not None:
        sep, decimal, notes = sniff_dialect(text_head, sep=declared)
        notes.insert(0, f"The first line, 'sep={declared}', names the delimiter and is skipped.")
    else:
        sep, decimal, notes = sniff_dialect(text_head, sep="\t" if fmt == "tsv" else None)
    repeated = _repeated_names(text_head, sep)
    frame = _read_csv(data, file, sep, decimal)
    release_arrow_memory()  # pyarrow's parse buffers and table, freed by now (see load)
    _check_decoded(frame, file)
    if frame.shape[1] == 0:
        raise _empty_error(file)
    if len(frame) == 0:
        raise _no_rows_error(file, "has a header")
    # A second byte-order mark (files joined by a tool) would stick to the first name.
    frame.columns = [str(c).lstrip("\ufeff") for c in frame.columns]
    frame.attrs[REPEATED_NAMES] = repeated
    return frame, encoding_notes + notes


def _empty_error(file: str) -> DataError:
    return DataError(f"File '{file}' is empty; choose a file with a header and data rows.")


def _no_rows_error(file: str, what: str) -> DataError:
    return DataError(f"File '{file}' {what} but no data rows; add the rows and load it again.")


def _read_parquet(source: Source) -> pd.DataFrame:
    file = source.file
    if source.size == 0:
        raise _empty_error(file)
    try:
        with source.arrow_file() as handle:
            frame = _parquet_frame(handle, file)
    except DataError:
        raise
    except Exception:  # pyarrow raises many types; the user only needs to know it is not Parquet
        raise DataError(
            f"File '{file}' is not a valid Parquet file; write it with pandas.DataFrame.to_parquet "
            "or save it as CSV."
        ) from None
    release_arrow_memory()  # the reader's buffers, freed now, before the score matrix is built
    if frame.shape[1] == 0:
        raise DataError(f"File '{file}' has no columns; choose a file with scores and labels.")
    if len(frame) == 0:
        raise _no_rows_error(file, "has columns")
    # A saved pandas index comes back as the frame's index; keep it visible as a column.
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _parquet_frame(handle: pa.NativeFile, file: str) -> pd.DataFrame:
    """The frame ``pandas.read_parquet`` gives, built so that no column is ever held twice."""
    parquet = pq.ParquetFile(handle, pre_buffer=False)
    schema = parquet.schema_arrow
    first: dict[str, int] = {}
    for position, name in enumerate(schema.names, start=1):
        if name in first:
            # Columns are read by name below, and pandas refuses such a file too.
            raise DataError(
                f"File '{file}': column '{name}' appears twice (columns {first[name]} and "
                f"{position}); rename or remove one and save the file again."
            )
        first[name] = position
    # One column at a time, on this thread: reading the whole table at once (or through pandas,
    # which uses pyarrow's dataset scanner) holds more decoding buffers at its peak, and worker
    # threads keep freed memory cached in their own allocator heaps afterwards.
    columns = [parquet.read(columns=[name], use_threads=False).column(0) for name in schema.names]
    table = pa.Table.from_arrays(columns, schema=schema)  # the schema: pandas metadata, index
    del columns
    # split_blocks: one pandas block per column, so numeric columns without nulls become the
    # frame's columns without a copy, instead of being consolidated into one new (n, K) block.
    # self_destruct: the table lets go of each column once converted (it is unusable after).
    return table.to_pandas(split_blocks=True, self_destruct=True)


def _from_utf16(data: bytes, file: str) -> tuple[bytes, list[str]]:
    """UTF-16 text (Excel's "Unicode Text", PowerShell's redirection) as UTF-8, and a note.

    Known by its byte-order mark, or without one by the zero byte beside every character of
    plain ASCII text; anything else is left to the UTF-8 checks.
    """
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    else:
        head = data[:_SNIFF_BYTES]
        even, odd = head[0::2], head[1::2]
        if len(head) < 4 or len(head) % 2 and len(head) == len(data):
            return data, []
        if odd.count(0) == len(odd) and 0 not in even:
            encoding = "utf-16-le"
        elif even.count(0) == len(even) and 0 not in odd:
            encoding = "utf-16-be"
        else:
            return data, []
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise DataError(
            f"File '{file}' looks like UTF-16 text but cannot be decoded as such; save it with "
            "UTF-8 encoding and load it again."
        ) from None
    return text.lstrip("\ufeff").encode("utf-8"), ["The file is UTF-16 text and is read as such."]


def _check_text(data: bytes, file: str) -> str:
    """Decoded head of the file; refuses binary data and text that is not UTF-8."""
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        raise DataError(
            f"File '{file}' holds binary data, not text; "
            "choose a CSV or TSV file, or save the data as .parquet, .npz or .pt."
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # final=False: a multi-byte character cut by the head's end is not an error.
        text = decoder.decode(head, final=len(head) == len(data))
    except UnicodeDecodeError as exc:
        # Text in a legacy encoding (Windows-1252, Latin-1) has few bytes that are not UTF-8 and
        # no control characters; binary data has many of both.
        garbled = head.decode("utf-8", errors="replace").count("\ufffd")
        if garbled > 0.3 * max(len(head), 1) or not _looks_like_text(head):
            raise DataError(
                f"File '{file}' holds binary data, not text; "
                "choose a CSV or TSV file, or save the data as .parquet, .npz or .pt."
            ) from None
        raise DataError(_not_utf8_message(file, head, exc.start)) from None
    return text.lstrip("\ufeff")


def _looks_like_text(head: bytes) -> bool:
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return control <= 0.01 * max(len(head), 1)


def _not_utf8_message(file: str, data: bytes, position: int) -> str:
    line = data.count(b"\n", 0, position) + 1
    where = "in the header" if line == 1 else f"in row {line - 1}"
    return (
        f"File '{file}' is not UTF-8 text (byte 0x{data[position]:02x} {where}); "
        "save it with UTF-8 encoding and load it again."
    )


def sniff_dialect(text: str, sep: str | None = None) -> tuple[str, str, list[str]]:
    """Delimiter and decimal mark from the first lines of a CSV.

    The header decides: it holds no numbers, so a decimal comma cannot be mistaken for the
    delimiter there. Among delimiters present in the header, one that splits the next lines into
    the same number of fields wins; ties go to the most fields. A delimiter known beforehand
    (``sep``: tab for ``.tsv``, or an Excel ``sep=`` line) is taken as it is, and only the
    decimal mark is sniffed.
    """
    lines = [line for line in text.splitlines()[:21] if line.strip()]
    if not lines:
        return sep or ",", ".", []
    if len(text) >= _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of the head may be cut short
    header, body = lines[0], lines[1:]
    notes = []
    if sep is not None:
        best = sep
    else:
        best, best_key = ",", None
        for candidate in (",", ";", "\t", "|"):
            fields = _count_outside_quotes(header, candidate)
            if fields == 0:
                continue
            consistent = all(_count_outside_quotes(line, candidate) == fields for line in body)
            key = (consistent, fields)
            if best_key is None or key > best_key:
                best, best_key = candidate, key
        if best != ",":
            word = {";": "semicolons", "\t": "tabs", "|": "pipes"}[best]
            notes.append(f"Columns are separated by {word}.")
    decimal = "."
    sample = "\n".join(body)
    if best != "," and re.search(r"\d,\d", sample) and not re.search(r"\d\.\d", sample):
        decimal = ","
        notes.append("Numbers use a decimal comma.")
    return best, decimal, notes


def _count_outside_quotes(line: str, sep: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            count += 1
    return count


_SEP_LINE = re.compile(rb"\A(?:\xef\xbb\xbf)?sep=([^\r\n])[ ]*\r?\n", re.IGNORECASE)


def _strip_sep_line(data: bytes) -> tuple[bytes, str | None]:
    """The file without Excel's optional first line ``sep=;``, and the delimiter it names.

    Row numbers in messages then still count data rows below the header, as Excel shows them.
    """
    match = _SEP_LINE.match(data)
    if match is None:
        return data, None
    return data[match.end():], match.group(1).decode("latin-1")


def _repeated_names(text: str, sep: str) -> dict[str, tuple[int, int]]:
    """Column names given twice in the header: name -> (first position, second position).

    The parsers rename the second one (``note.1``), which is harmless for a column nothing
    uses but would invent a class or hide a label otherwise; ``detect_roles`` decides.
    """
    if "\n" not in text and "\r" not in text:
        text = text.rpartition(sep)[0]  # a header longer than the head: its last name is cut
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        header = next((record for record in reader if any(f.strip() for f in record)), [])
    except csv.Error:
        return {}  # the parsers report what they make of it
    first: dict[str, int] = {}
    repeated: dict[str, tuple[int, int]] = {}
    for position, name in enumerate(header, start=1):
        if not name.strip():
            continue  # unnamed columns get distinct names ("Unnamed: 3")
        if name in first and name not in repeated:
            repeated[name] = (first[name], position)
        first.setdefault(name, position)
    return repeated


def _read_csv(data: bytes, file: str, sep: str, decimal: str) -> pd.DataFrame:
    """pyarrow's multi-threaded parser first; the csv module and the C engine only on failure."""
    try:
        return pd.read_csv(
            io.BytesIO(data), engine="pyarrow", sep=sep, decimal=decimal, **_NA_OPTIONS
        )
    except Exception:
        pass
    # pyarrow's messages name neither the row nor (for short rows) the problem in a form a
    # user can act on, so look for a ragged row ourselves before trying the slower C engine.
    _raise_ragged_row(data, file, sep)
    try:
        return pd.read_csv(
            io.BytesIO(data), engine="c", sep=sep, decimal=decimal, encoding="utf-8-sig",
            low_memory=False, **_NA_OPTIONS,
        )
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8_message(file, data, exc.start)) from None
    except pd.errors.EmptyDataError:
        raise _empty_error(file) from None
    except Exception as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"File '{file}' could not be read as a table ({reason.rstrip('.')}); "
            "check that it is a CSV or TSV file."
        ) from None


def _raise_ragged_row(data: bytes, file: str, sep: str) -> None:
    """Raise DataError for the first data row whose field count differs from the header's."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8_message(file, data, exc.start)) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    n_fields, row = None, 0
    try:
        for record in reader:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank lines are skipped, as the parsers do
            if n_fields is None:
                n_fields = len(record)
                continue
            row += 1
            if len(record) != n_fields:
                more = "more" if len(record) > n_fields else "fewer"
                raise DataError(
                    f"File '{file}', row {row}: {len(record)} fields but the header has "
                    f"{n_fields} ({more} values than columns); fix that row and load it again."
                )
    except csv.Error:
        return  # let the C engine report what it makes of it


def _check_decoded(frame: pd.DataFrame, file: str) -> None:
    """pyarrow reads a column holding invalid UTF-8 as raw bytes; name the first bad value."""
    for column in frame.columns:
        if frame[column].dtype != object:
            continue
        for row, value in enumerate(frame[column].to_numpy(), start=1):
            if isinstance(value, bytes):
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    raise DataError(
                        f"File '{file}', column '{column}', row {row}: the text is not UTF-8; "
                        "save the file with UTF-8 encoding and load it again."
                    ) from None


# --------------------------------------------------------------------------------------------
# 2b. Arrays: NPZ and PyTorch .pt
# --------------------------------------------------------------------------------------------


def read_npz(data: bytes, file: str) -> dict[str, Any]:
    """Arrays of an NPZ archive; pickled (object) arrays are refused, never loaded."""
    try:
        archive = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception:
        raise DataError(
            f"File '{file}' is not a valid NPZ file; "
            "save it with numpy.savez(path, scores=..., labels=...)."
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(
            f"File '{file}' holds a single array, not an NPZ archive; "
            "save it with numpy.savez(path, scores=..., labels=...)."
        )
    arrays = {}
    with archive:
        for key in archive.files:
            try:
                arrays[key] = archive[key]
            except ValueError:
                raise DataError(
                    f"File '{file}', array '{key}' holds Python objects, which are never "
                    "unpickled; save numbers, and class names as a string array."
                ) from None
            except Exception:
                raise DataError(
                    f"File '{file}', array '{key}' is damaged; save the file again."
                ) from None
    return arrays


def read_pt(data: bytes, file: str) -> dict[str, Any]:
    """A dict of tensors from ``torch.save``, loaded with ``weights_only=True`` only."""
    if not data.startswith(b"PK\x03\x04"):  # torch.save writes a zip archive since PyTorch 1.6
        raise DataError(
            f"File '{file}' is not a valid PyTorch file; "
            "save it with torch.save({'scores': ..., 'labels': ...}, path)."
        )
    try:
        import torch  # lazily: most users never open a .pt file, and torch is slow to import
    except ImportError:
        raise DataError(
            f"Reading '{file}' needs PyTorch; install it (pip install torch) or save the "
            "scores and labels as .npz."
        ) from None
    try:
        obj = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception:
        raise DataError(
            f"File '{file}' could not be loaded safely: only tensors, numbers, strings, lists "
            "and dicts are read, never other Python objects; "
            "save {'scores': tensor, 'labels': tensor, 'classes': [names]} with torch.save."
        ) from None
    if not isinstance(obj, dict):
        raise DataError(
            f"File '{file}' holds a {type(obj).__name__}, not a dict; "
            "save {'scores': tensor, 'labels': tensor} with torch.save."
        )
    arrays = {}
    for key, value in obj.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            # float32 stays float32 (exact, half the memory), as for NPZ and Parquet; bfloat16
            # has no numpy equivalent, and float16 scores are widened as every other format does.
            if value.is_floating_point() and value.dtype not in (torch.float32, torch.float64):
                value = value.to(torch.float64)
            value = value.numpy()
        arrays[str(key)] = value
    return arrays


# --------------------------------------------------------------------------------------------
# 3. Roles: which column is what
# --------------------------------------------------------------------------------------------


@dataclass
class Raw:
    """What detection found, before task, label mapping and score kind are decided.

    ``score_names`` and ``label_names`` are how messages refer to each score column and label
    source (``column 'p_cat'``, ``array 'labels'``).
    """

    file: str
    scores: np.ndarray  # (n, K) as in the file, not yet checked for finiteness; float64, or
    # float32 when the file's scores are all float32 (float64 after finish if they are logits)
    score_names: list[str]
    classes: list[str] | None  # None: arrays without class names
    named: bool  # class names come from score prefixes or a classes array
    label: pd.Series | None = None
    label_name: str = ""
    truth: list[pd.Series] | None = None
    truth_names: list[str] | None = None
    ids: np.ndarray | None = None
    columns: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Roles:
    """Column roles of a table (the command-line ``columns``) plus the class name of each score column."""

    id: str | None
    label: str | None
    labels: list[str] | None
    scores: list[str]
    classes: list[str]
    named: bool
    ignored: list[str]
    notes: list[str]

    @property
    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "label": self.label,
            "labels": self.labels,
            "scores": list(self.scores),
            "ignored": list(self.ignored),
        }


def _normal(column: str) -> str:
    """A column name as the naming rules compare it: no case, and a space, hyphen or dot in
    place of an underscore ("Sample ID", "prob-cat" and R's "true.label" read as sample_id,
    prob_cat and true_label). Same length as the stripped name, so suffixes can be cut from it."""
    return _SEPARATORS.sub("_", column.strip().lower())


def _prefix(column: str) -> tuple[str | None, str]:
    """("score" | "truth" | None, suffix) by the longest matching prefix, ignoring case and
    separators (see :func:`_normal`)."""
    low = _normal(column)
    best_kind, best_len = None, 0
    for kind, prefixes in (("score", SCORE_PREFIXES), ("truth", TRUTH_PREFIXES)):
        for p in prefixes:
            if low.startswith(p) and len(low) > len(p) and len(p) > best_len:
                best_kind, best_len = kind, len(p)
    return best_kind, column.strip()[best_len:]


def _is_label_name(column: str, prefixes) -> bool:
    """A label column's name: one of LABEL_NAMES, or a truth prefix before one of them
    ("true_label", "y_class", "target_label"), as y_true is y_ before "true"."""
    kind, suffix = prefixes[column]
    return _normal(column) in LABEL_NAMES or (kind == "truth" and _normal(suffix) in LABEL_NAMES)


def _resolve_names(ov: Overrides, columns: list[str]) -> Overrides:
    """Overrides name columns as the user reads them: ``p_a`` finds a header cell `` p_a``."""
    by_stripped: dict[str, list[str]] = {}
    for c in columns:
        by_stripped.setdefault(c.strip(), []).append(c)

    def resolve(name):
        if name in columns or len(by_stripped.get(name, [])) != 1:
            return name
        return by_stripped[name][0]

    def resolve_all(names):
        return None if names is None else tuple(resolve(n) for n in names)

    return replace(
        ov,
        label_col=None if ov.label_col is None else resolve(ov.label_col),
        label_cols=resolve_all(ov.label_cols),
        score_cols=resolve_all(ov.score_cols),
    )


def _is_unnamed(column: str) -> bool:
    low = column.strip().lower()
    return low == "" or low.startswith("unnamed:")


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _is_numeric_or_na(series: pd.Series) -> bool:
    """Numeric, or numbers with missing-value words ("NA" from R, "null"): only an empty cell is
    missing while parsing (see _NA_OPTIONS), so such a score column arrives as text, and it must
    still count as a score so that its missing value is reported, not the column dropped."""
    if _is_numeric(series):
        return True
    if isinstance(series.dtype, pd.CategoricalDtype) or not _is_text(series):
        return False
    values = series.dropna().astype(str).str.strip()
    words = values.isin(_NA_TEXT)
    if not words.any():
        return False
    rest = values[~words]
    return bool(pd.to_numeric(rest, errors="coerce").notna().all())


def _is_text(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return pd.api.types.is_string_dtype(series.cat.categories)
    return pd.api.types.is_string_dtype(series)


def _quoted(names, limit: int = _MAX_LISTED) -> str:
    names = list(names)
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _plain(names) -> str:
    names = list(names)
    shown = ", ".join(str(n) for n in names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


def detect_roles(frame: pd.DataFrame, file: str, ov: Overrides) -> Roles:
    """Assign each column a role by the input-format rules; overrides win and are validated."""
    columns = list(frame.columns)
    ov = _resolve_names(ov, columns)
    missing = [c for c in ov.columns if c not in columns]
    if missing:
        raise DataError(
            f"File '{file}' has no column '{missing[0]}'; its columns are {_quoted(columns)}."
        )
    twice = sorted({c for c in ov.columns if ov.columns.count(c) > 1})
    if twice:
        raise DataError(
            f"Column '{twice[0]}' is given two roles; a column is either a label or a score."
        )
    notes: list[str] = []
    claimed = set(ov.columns)

    named_ids = [c for c in columns if _normal(c) in ID_NAMES and c not in claimed]
    unnamed = [c for c in columns if _is_unnamed(c) and c not in claimed]
    id_col = named_ids[0] if named_ids else None
    for c in named_ids:
        notes.append(f"Column '{c}' looks like a row id and is ignored for scoring.")
    for c in unnamed:
        if frame[c].isna().all():  # such as the column a delimiter at the end of each line makes
            notes.append(f"Column '{c}' has no name and no values, so it is ignored.")
        else:
            notes.append(f"Column '{c}' looks like a saved row index and is ignored.")
    free = [c for c in columns if c not in claimed and c not in named_ids and c not in unnamed]

    prefixes = {c: _prefix(c) for c in columns}
    label, labels = ov.label_col, list(ov.label_cols) if ov.label_cols else None

    # Score columns: given, else those with a score prefix.
    if ov.score_cols:
        scores = list(ov.score_cols)
    else:
        scores = [c for c in free if prefixes[c][0] == "score"]
    classes = [prefixes[c][1] if prefixes[c][0] == "score" else c.strip() for c in scores]
    named = bool(scores) and all(prefixes[c][0] == "score" for c in scores)

    if labels is not None:
        scores, classes = _pair_given_truth(labels, scores, classes, prefixes, ov, file)
        named = all(prefixes[c][0] == "score" for c in scores)
    elif label is None:
        label, labels, found_notes = _find_labels(
            frame, free, scores, classes, prefixes, file, ov.task
        )
        notes += found_notes

    predicted: list[str] = []
    if scores and not ov.score_cols:
        scores, classes, predicted = _drop_predicted_labels(frame, label, scores, classes)
    used = {label, id_col, *(labels or []), *scores, *predicted}
    if not scores:
        # No score prefix anywhere: with a label column, every remaining numeric column is a score.
        numeric = [c for c in free if c not in used and _is_numeric_or_na(frame[c])]
        if label is None and labels is None:
            found = _text_label_columns(frame, free, numeric, [c.strip() for c in numeric])
            label = found[0] if found else None
            if label is not None:
                notes.append(_text_label_note(found, "numeric columns"))
            elif numeric:
                raise _no_label_error(file)
        scores = [c for c in numeric if c != label]
        scores, _, predicted = _drop_predicted_labels(frame, label, scores, scores)
        if not scores:
            raise DataError(
                f"File '{file}' has no score columns: none is named with a score prefix "
                f"({', '.join(SCORE_PREFIXES)}) and no numeric column is left besides the labels; "
                "choose them with --score-cols (or in the sidebar)."
            )
        classes, named = [c.strip() for c in scores], False
        notes.append(
            f"No column has a score prefix, so the numeric column {_quoted(scores)} is read as "
            "the score."
            if len(scores) == 1
            else f"No column has a score prefix, so the numeric columns {_quoted(scores)} "
            "are read as scores."
        )
    if label is None and labels is None:
        raise _no_label_error(file)
    if predicted:
        notes.append(
            f"Column {_quoted(predicted)} holds predicted labels, not scores (every value is a "
            "label, a class name or a class number), so it is not used; name it with "
            "--score-cols to use it."
            if len(predicted) == 1
            else f"Columns {_quoted(predicted)} hold predicted labels, not scores (every value "
            "is a label, a class name or a class number), so they are not used; name them with "
            "--score-cols to use them."
        )

    _check_distinct_classes(scores, classes, file)
    used = {label, id_col, *(labels or []), *scores}
    notes += _check_repeated_names(frame, used, file)
    ignored = [c for c in columns if c not in used]
    unused = [c for c in ignored if c in free and c not in predicted]
    if unused:
        notes.append(
            f"Column {_quoted(unused)} is not used."
            if len(unused) == 1
            else f"Columns {_quoted(unused)} are not used."
        )
    return Roles(id_col, label, labels, scores, classes, named, ignored, notes)


def _check_repeated_names(frame: pd.DataFrame, used: set, file: str) -> list[str]:
    """A name given twice is an error when either column would be used, else a note."""
    notes = []
    for name, (first, second) in frame.attrs.get(REPEATED_NAMES, {}).items():
        copies = [c for c in frame.columns
                  if c == name or re.fullmatch(re.escape(name) + r"\.\d+", str(c))]
        if any(c in used for c in copies):
            raise DataError(
                f"File '{file}': column '{name}' appears twice in the header (columns {first} "
                f"and {second}); rename or remove one and load it again."
            )
        notes.append(f"Column '{name}' appears twice in the header; neither copy is used.")
    return notes


def _drop_predicted_labels(frame, label, scores, classes):
    """(scores, classes, dropped): candidate score columns that hold predicted labels left out.

    Such a column holds text, or whole numbers (an integer type) some above 1, every value of
    which is a label, a class name or a class number (counted from 0 or 1), while the other
    candidates hold fractions (a float type): an export of ``y_pred`` next to the scores, not
    a score. A column of only 0s and 1s stays a score: probabilities that are all exactly 0 or
    1 are written so too. Only for one label column; never for columns the user named as scores.
    """
    if label is None or len(scores) < 2:
        return scores, classes, []
    floats = [pd.api.types.is_float_dtype(frame[c]) for c in scores]
    if not any(floats):
        return scores, classes, []
    known = None
    dropped = []
    for c, is_float in zip(scores, floats):
        series = frame[c]
        if is_float:
            continue
        if not (_is_text(series) or (pd.api.types.is_integer_dtype(series) and series.max() > 1)):
            continue
        if known is None:
            names = [k for k, f in zip(classes, floats) if f]
            known = {_spell(v).strip().lower() for v in pd.unique(frame[label].dropna())}
            known |= {k.strip().lower() for k in names}
            known |= {str(i) for i in range(len(names) + 1)}
        values = {_spell(v).strip().lower() for v in pd.unique(series.dropna())}
        if values and values <= known:
            dropped.append(c)
    kept = [(s, k) for s, k in zip(scores, classes) if s not in dropped]
    return [s for s, _ in kept], [k for _, k in kept], dropped


def _no_label_error(file: str) -> DataError:
    return DataError(
        f"File '{file}' has no column that looks like the true labels "
        f"(such as {', '.join(LABEL_NAMES[:5])}); name it with --label-col (or in the sidebar)."
    )


def _find_labels(frame, free, scores, classes, prefixes, file, task=None):
    """(label column, truth columns, notes) by name, by suffix pairing, or by text values."""
    notes = []
    truth_by_suffix = {}
    for c in free:
        kind, suffix = prefixes[c]
        if kind == "truth":
            truth_by_suffix.setdefault(_normal(suffix), c)
    paired = [truth_by_suffix.get(_normal(k)) for k in classes]
    named_labels = [c for c in free if _is_label_name(c, prefixes) and c not in scores]

    # Truth columns covering every score column beat a label column: a multi-label file may
    # carry a "labels" text column as a convenience next to its 0/1 columns.
    if scores and all(paired):
        if len(scores) == 1:
            return paired[0], None, notes
        notes.append(
            f"The {len(paired)} columns {_quoted(paired, limit=3)} hold 0/1 truth paired by "
            "suffix with the score columns"
            + (", so the task is multi-label." if task != "multiclass" else ".")
        )
        return None, paired, notes
    if named_labels:
        if len(named_labels) > 1:
            notes.append(
                f"Columns {_quoted(named_labels)} all look like labels; '{named_labels[0]}' is "
                "used (choose another with --label-col)."
            )
        return named_labels[0], None, notes
    if scores and any(paired):
        lonely = scores[paired.index(None)]
        raise DataError(
            f"File '{file}': score column '{lonely}' has no 0/1 truth column to pair with "
            f"(such as 'y_{classes[scores.index(lonely)]}'); add it, or choose the columns with "
            "--score-cols and --label-cols."
        )
    if scores:
        found = _text_label_columns(frame, free, scores, classes)
        if found:
            notes.append(_text_label_note(found, "score columns"))
            return found[0], None, notes
    return None, None, notes


def _text_label_columns(frame, free, exclude, classes) -> list[str]:
    """Text columns most of whose distinct values name a class (ignoring case), in file order."""
    wanted = {c.strip().lower() for c in classes}
    found = []
    for c in free:
        if c in exclude or not _is_text(frame[c]):
            continue
        # Distinct values first: lower-casing a million strings is what would cost time.
        distinct = {str(v).strip().lower() for v in pd.unique(frame[c].dropna())}
        if distinct and sum(v in wanted for v in distinct) * 2 >= len(distinct):
            found.append(c)
    return found


def _text_label_note(found: list[str], what: str) -> str:
    """The note for the label column found by its text; several (true and predicted labels,
    say) cannot be told apart by their values, so the user is told which one was taken."""
    if len(found) == 1:
        return f"Column '{found[0]}' holds text naming the {what}, so it is read as the labels."
    return (
        f"Columns {_quoted(found)} all hold text naming the {what}; the first, '{found[0]}', is "
        "read as the labels (choose another with --label-col)."
    )


def _pair_given_truth(labels, scores, classes, prefixes, ov, file):
    """Score columns for given multi-label truth columns: by order if given, else by suffix."""
    if ov.score_cols:
        if len(labels) != len(scores):
            raise DataError(
                f"--label-cols names {len(labels)} columns but --score-cols names {len(scores)}; "
                "give one truth column per score column, in the same order."
            )
        return scores, classes
    by_class = {_normal(k): (s, k) for s, k in zip(scores, classes)}
    paired = []
    for c in labels:
        kind, suffix = prefixes[c]
        key = _normal(suffix if kind == "truth" else c)
        if key not in by_class:
            raise DataError(
                f"File '{file}': truth column '{c}' has no score column with the same suffix "
                f"(such as 'p_{key}'); name the score columns with --score-cols in the same order."
            )
        paired.append(by_class[key])
    return [s for s, _ in paired], [k for _, k in paired]


def _check_distinct_classes(scores, classes, file) -> None:
    seen = {}
    for s, k in zip(scores, classes):
        if k.lower() in seen:
            raise DataError(
                f"File '{file}': score columns '{seen[k.lower()]}' and '{s}' both name class "
                f"'{k}'; choose one of them with --score-cols."
            )
        seen[k.lower()] = s


def raw_from_table(frame: pd.DataFrame, file: str, ov: Overrides) -> Raw:
    """Detect roles and pull scores, labels and ids out of a parsed table."""
    roles = detect_roles(frame, file, ov)
    scores = score_matrix(frame, roles.scores, file)
    raw = Raw(
        file=file,
        scores=scores,
        score_names=[f"column '{c}'" for c in roles.scores],
        classes=roles.classes,
        named=roles.named,
        # A copy: a view would keep the whole pandas block the id column sits in alive (in a
        # CSV frame, every integer column, such as K truth columns).
        ids=None if roles.id is None else frame[roles.id].to_numpy(copy=True),
        columns=roles.as_dict,
        notes=roles.notes,
    )
    if roles.labels is not None:
        raw.truth = [frame[c] for c in roles.labels]
        raw.truth_names = [f"column '{c}'" for c in roles.labels]
    else:
        raw.label, raw.label_name = frame[roles.label], f"column '{roles.label}'"
    return raw


def score_matrix(frame: pd.DataFrame, columns: list[str], file: str) -> np.ndarray:
    """(n, K) C-contiguous scores, filled one column at a time.

    float32 when every score column is float32 (a model's output saved as it was), else float64.
    The first text value that is no number is an error.
    """
    # float32 values are the data: a float64 copy holds the same numbers in twice the memory.
    # Whether they are probabilities is decided later (finish); logits become float64 there.
    all32 = all(frame[c].dtype == np.float32 for c in columns)
    dtype = np.float32 if all32 else np.float64
    out = np.empty((len(frame), len(columns)), dtype=dtype)
    for k, c in enumerate(columns):
        series = frame[c]
        if pd.api.types.is_numeric_dtype(series):
            out[:, k] = _numbers(series)
            continue
        numbers = pd.to_numeric(series, errors="coerce")
        bad = (numbers.isna() & series.notna()).to_numpy()
        if bad.any():
            # A missing-value word ("NA", "null") is a missing score, which check_finite reports.
            rows = np.flatnonzero(bad)
            missing = [isinstance(v, str) and v.strip() in _NA_TEXT for v in series.iloc[rows]]
            if not all(missing):
                row = int(rows[missing.index(False)])
                raise DataError(
                    f"File '{file}', column '{c}', row {row + 1}: '{series.iloc[row]}' is not "
                    "a number."
                )
        out[:, k] = numbers.to_numpy(dtype=dtype, na_value=np.nan)
    return out


def _numbers(series: pd.Series) -> np.ndarray:
    """A numeric column's values as a numpy array; missing values (nullable types) as NaN.

    A numpy-typed column is returned as it is, without a float64 copy: comparing or storing its
    values gives what their float64 conversion would, and a million-row copy per column, freed
    straight away, leaves the allocator's heap larger for what comes after loading.
    """
    if isinstance(series.dtype, np.dtype):
        return series.to_numpy()
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def raw_from_arrays(arrays: dict[str, Any], file: str, ov: Overrides, noun: str = "array") -> Raw:
    """Scores, labels and class names from an NPZ or ``.pt`` dict, shapes checked.

    ``noun`` is what messages call an entry: "array" (NPZ) or "tensor" (``.pt``).
    """
    if ov.label_col or ov.label_cols or ov.score_cols:
        raise DataError(
            f"File '{file}' holds {noun}s, not columns; --label-col, --label-cols and "
            "--score-cols apply to tables only."
        )
    for key in ("scores", "labels"):
        if key not in arrays:
            held = ", ".join(f"'{k}'" for k in arrays) or "nothing"
            raise DataError(
                f"File '{file}' has no {noun} '{key}' (it holds {held}); "
                "save the scores and labels under the names 'scores' and 'labels'."
            )
    scores = np.asarray(arrays["scores"])
    labels = np.asarray(arrays["labels"])
    if scores.dtype.kind not in "biuf":
        raise DataError(
            f"File '{file}', {noun} 'scores' holds {scores.dtype} values, not numbers; "
            "save the scores as a float array."
        )
    if scores.ndim not in (1, 2) or labels.ndim not in (1, 2):
        bad, arr = ("scores", scores) if scores.ndim not in (1, 2) else ("labels", labels)
        raise DataError(
            f"File '{file}', {noun} '{bad}' has {arr.ndim} dimensions; "
            "it must be (rows,) or (rows, classes)."
        )
    if scores.shape[0] != labels.shape[0]:
        raise DataError(
            f"File '{file}': {noun} 'scores' has {scores.shape[0]} rows but {noun} 'labels' has "
            f"{labels.shape[0]}; save one score row and one label per sample."
        )
    if scores.shape[0] == 0:
        raise DataError(f"File '{file}' has no data rows; save at least one scored sample.")
    # float32 stays float32, as for table columns (see score_matrix).
    dtype = np.float32 if scores.dtype == np.float32 else np.float64
    scores = np.ascontiguousarray(scores.reshape(scores.shape[0], -1), dtype=dtype)
    k = scores.shape[1]
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim == 2 and labels.shape[1] != k:
        raise DataError(
            f"File '{file}': {noun} 'labels' has {labels.shape[1]} columns but 'scores' has {k}; "
            "multi-label truth needs one 0/1 column per score column."
        )
    classes, named = _array_classes(arrays.get("classes"), k, labels.ndim, file)
    ignored = [key for key in arrays if key not in ("scores", "labels", "classes")]
    raw = Raw(
        file=file,
        scores=scores,
        score_names=(
            [f"{noun} 'scores'"]
            if k == 1
            else [f"{noun} 'scores', column {j + 1}" for j in range(k)]
        ),
        classes=classes,
        named=named,
        columns={
            "id": None, "label": None, "labels": None, "scores": ["scores"], "ignored": ignored,
        },
    )
    if labels.ndim == 2:
        raw.truth = [pd.Series(labels[:, j]) for j in range(k)]
        raw.truth_names = [f"{noun} 'labels', column {j + 1}" for j in range(k)]
        raw.columns["labels"] = ["labels"]
    else:
        raw.label, raw.label_name = pd.Series(labels), f"{noun} 'labels'"
        raw.columns["label"] = "labels"
    return raw


def _array_classes(classes, k: int, label_ndim: int, file: str):
    """Class names from the optional ``classes`` array; binary may name [negative, positive]."""
    if classes is None:
        if label_ndim == 1 and k <= 2:
            return None, False  # binary: named after the positive label later
        return [f"class_{j}" for j in range(k)], False
    names = [str(c) for c in np.asarray(classes, dtype=object).reshape(-1)]
    if len(names) == k:
        return names, True
    if k == 1 and len(names) == 2:
        return names[1:], True  # [negative, positive] for a single binary score
    raise DataError(
        f"File '{file}': 'classes' names {len(names)} classes but 'scores' has {k} columns; "
        "give one name per score column."
    )


# --------------------------------------------------------------------------------------------
# 4. Task, labels, score kind
# --------------------------------------------------------------------------------------------


def finish(raw: Raw, ov: Overrides, sha256: str = "") -> PredictionSet:
    """Decide the task, map labels to classes, decide the score kind; build the PredictionSet."""
    check_finite(raw)
    notes, warnings = raw.notes, []
    task = decide_task(raw, ov)
    if raw.classes is None and task != "binary":
        raw.classes = [f"class_{j}" for j in range(raw.scores.shape[1])]
    scores, columns = raw.scores, dict(raw.columns)
    mapping: dict[str, str]

    if task == "multilabel":
        classes = list(raw.classes)
        labels, mapping, label_notes = map_truth_columns(raw, classes)
        if labels.shape[1] > 2 and (labels.sum(axis=1) == 1).all():
            label_notes.append(
                "Every row has exactly one positive label, as one-hot multi-class labels do; "
                "use --task multiclass to read them as one class per row."
            )
    elif task == "multiclass" and raw.truth is not None:
        classes = list(raw.classes)
        labels, mapping, label_notes = one_hot_labels(raw, classes)
    elif task == "multiclass":
        classes = list(raw.classes)
        labels, mapping, label_notes = map_labels(
            raw.label, classes, file=raw.file, where=raw.label_name
        )
    else:
        two = scores.shape[1] == 2
        names = raw.classes if raw.classes is not None else None
        positive, labels, mapping, label_notes = map_binary_labels(
            raw.label, names, named=raw.named or (two and names is not None),
            file=raw.file, where=raw.label_name,
        )
        classes = [positive]
        labels = labels[:, None]
    notes += label_notes

    kind, activation = decide_score_kind(raw, task, ov, notes)
    scores = raw.scores  # rounding just outside [0, 1] may have been clipped
    warnings += percent_warnings(raw, task, kind, ov)
    if kind == "logit":
        # Logits are held in float64, like everything computed from them: the difference of
        # two binary logit columns and the softmax / sigmoid.
        raw.scores = scores = scores.astype(np.float64, copy=False)
    if task == "binary" and scores.shape[1] == 2:
        scores, columns = _binary_from_two(raw, kind, columns, classes[0], notes)

    if activation == "softmax":
        probabilities = softmax(scores)
    elif activation == "sigmoid":
        probabilities = sigmoid(scores)
    else:
        probabilities = scores
    warnings += class_balance_warnings(task, classes, labels)
    if task == "multiclass" and activation == "none":
        warnings += sum_warnings(scores)

    # float64, or float32 for float32 probabilities (from_arrays keeps those the same way).
    return PredictionSet(
        task=task,
        classes=tuple(classes),
        scores=np.ascontiguousarray(scores),
        probabilities=np.ascontiguousarray(probabilities),
        labels=labels,
        score_kind=kind,
        activation=activation,
        file=raw.file,
        sha256=sha256,
        ids=raw.ids,
        columns=columns,
        label_mapping=mapping,
        notes=tuple(notes),
        warnings=tuple(warnings),
    )


def check_finite(raw: Raw) -> None:
    """The first missing, NaN or infinite score (row order, then column order) is an error."""
    # min and max carry any NaN or inf through without an (n, K) temporary; the boolean
    # mask is only built on the error path.
    low, high = raw.scores.min(), raw.scores.max()
    if np.isfinite(low) and np.isfinite(high):
        return
    finite = np.isfinite(raw.scores)
    row = int(np.argmin(finite.all(axis=1)))
    col = int(np.argmin(finite[row]))
    value = raw.scores[row, col]
    if np.isnan(value):
        what = "missing or NaN"  # pandas reads an empty cell as NaN, so the two look alike
    else:
        what = "infinite (inf)" if value > 0 else "infinite (-inf)"
    raise DataError(
        f"File '{raw.file}', {raw.score_names[col]}, row {row + 1}: the score is {what}; "
        "every score must be a finite number, so fix or drop that row."
    )


def decide_task(raw: Raw, ov: Overrides) -> str:
    """the input-format rules: one score column -> binary; K truth columns -> multi-label; else multi-class,
    except that two score columns with a single label column are binary on the second."""
    k = raw.scores.shape[1]
    if raw.truth is not None:
        if ov.task == "multiclass" and k > 1:
            return "multiclass"  # one-hot truth, checked in one_hot_labels
        if ov.task in ("binary", "multiclass"):
            raise DataError(
                f"File '{raw.file}' has one truth column per class, which is multi-label data; "
                f"for {ov.task} data name a single label column with --label-col."
            )
        if ov.task is None and k == 1:
            # One 0/1 truth column paired with one score column is plain binary data.
            raw.label, raw.label_name = raw.truth[0], raw.truth_names[0]
            raw.truth = None
            if raw.columns.get("labels"):
                raw.columns["label"], raw.columns["labels"] = raw.columns["labels"][0], None
            return "binary"
        return "multilabel"
    if ov.task == "multilabel":
        raise DataError(
            f"File '{raw.file}' has a single label column; multi-label data needs one 0/1 truth "
            "column per class, named with --label-cols."
        )
    if k == 1:
        if ov.task == "multiclass":
            raise DataError(
                f"File '{raw.file}' has one score column; multi-class data needs one per class, "
                "named with --score-cols."
            )
        return "binary"
    if ov.task == "multiclass":
        return "multiclass"
    if k == 2:
        return "binary"
    if ov.task == "binary":
        raise DataError(
            f"File '{raw.file}' has {k} score columns; binary data needs one (or two, for the "
            "negative and positive class), so choose them with --score-cols."
        )
    return "multiclass"


def decide_score_kind(raw: Raw, task: str, ov: Overrides, notes: list[str]) -> tuple[str, str]:
    """(score kind, activation): probabilities when every score lies in [0, 1], else logits.

    Scores at most :data:`PROBABILITY_SLACK` outside [0, 1] are probabilities with rounding
    error (a float32 softmax writes 1.0000001); they are clipped to [0, 1] and noted, since
    reading the whole file as logits for them would turn every probability into nonsense.
    """
    low, high = float(raw.scores.min()), float(raw.scores.max())
    all_inside = low >= 0.0 and high <= 1.0
    if not all_inside and ov.score_kind != "logit" and (
        low >= -PROBABILITY_SLACK and high <= 1.0 + PROBABILITY_SLACK
    ):
        outside = int(np.count_nonzero((raw.scores < 0.0) | (raw.scores > 1.0)))
        raw.scores = np.clip(raw.scores, 0.0, 1.0)
        all_inside = True
        off = max(-low, high - 1.0, 0.0)
        notes.append(
            f"One score lies outside [0, 1] by {off:.2g}, as rounding leaves probabilities, so "
            "it is clipped to [0, 1]."
            if outside == 1
            else f"{outside} scores lie outside [0, 1] by at most {off:.2g}, as rounding leaves "
            "probabilities, so they are clipped to [0, 1]."
        )
    if ov.score_kind == "probability" and not all_inside:
        inside = (raw.scores >= 0.0) & (raw.scores <= 1.0)
        row = int(np.argmin(inside.all(axis=1)))
        col = int(np.argmin(inside[row]))
        raise DataError(
            f"File '{raw.file}', {raw.score_names[col]}, row {row + 1}: score "
            f"{raw.scores[row, col]:g} lies outside [0, 1], so it cannot be a probability; "
            "use --score-kind logit."
        )
    kind = ov.score_kind or ("probability" if all_inside else "logit")
    if kind == "probability":
        activation = "none"
        if ov.score_kind:
            notes.append("Scores are read as probabilities, as requested.")
        else:
            notes.append("All scores lie in [0, 1], so they are read as probabilities.")
    else:
        activation = "softmax" if task == "multiclass" else "sigmoid"
        if ov.score_kind:
            notes.append(
                f"Scores are read as logits, as requested, and turned into probabilities by "
                f"{activation}."
            )
        else:
            notes.append(
                "Scores lie outside [0, 1], so they are read as logits and turned into "
                f"probabilities by {activation}."
            )
    return kind, activation


def percent_warnings(raw: Raw, task: str, kind: str, ov: Overrides) -> list[str]:
    """Scores in [0, 100] read as logits are most likely percentages, which softmax or sigmoid
    would turn into nonsense: an error when each row of scores sums to 100 (multi-class, or a
    negative and a positive column); a warning for single columns (binary, multi-label), where
    no row sum can tell. Nothing is said when the user chose the score kind."""
    if kind != "logit" or ov.score_kind is not None or raw.scores.min() < 0.0:
        return []  # logits nearly always include negative ones: one pass over them decides
    high = float(raw.scores.max())
    if high > 100.0:
        return []
    n = raw.scores.shape[0]
    if task != "multilabel" and raw.scores.shape[1] > 1:
        near = 0
        for start in range(0, n, _SUM_BLOCK_ROWS):
            block = np.asarray(raw.scores[start:start + _SUM_BLOCK_ROWS], dtype=np.float64)
            near += int((np.abs(block.sum(axis=1) - 100.0) <= PERCENT_SUM_TOLERANCE).sum())
        if near >= (1.0 - SUM_ROW_SHARE) * n:
            raise DataError(
                f"File '{raw.file}': the scores of each row sum to 100, so they look like "
                "percentages, not probabilities or logits; divide them by 100 and load the file "
                "again (or use --score-kind logit if they are logits)."
            )
        return []  # several scores per row that do not sum to 100: not percentages
    return [
        f"Scores lie between 0 and {high:g} and none is negative, as percentages would; they are "
        "read as logits, so if they are percentages, divide them by 100 and load the file again."
    ]


def _binary_from_two(raw: Raw, kind: str, columns: dict, positive: str, notes: list[str]):
    """Binary scores from a negative and a positive column (the positive one)."""
    names = raw.columns.get("scores") or []
    neg_col, pos_col = (names[0], names[1]) if len(names) == 2 else ("scores[:, 0]", "scores[:, 1]")
    if kind == "logit":
        # softmax over two logits equals the sigmoid of their difference, so nothing is lost.
        scores = (raw.scores[:, 1] - raw.scores[:, 0])[:, None]
        notes.append(
            f"Two logit columns with binary labels: the task is binary on '{pos_col}' (class "
            f"'{positive}') with logit '{pos_col}' minus '{neg_col}', since softmax over two "
            "classes equals the sigmoid of that difference; use --task multiclass to keep both."
        )
        return scores, columns
    notes.append(
        f"Two score columns with binary labels: the task is binary on the second, '{pos_col}' "
        f"(class '{positive}'), and '{neg_col}' is not used; use --task multiclass to keep both."
    )
    if len(names) == 2:
        ignored = [*columns.get("ignored", []), neg_col]
        columns = {**columns, "scores": [pos_col], "ignored": ignored}
    return np.ascontiguousarray(raw.scores[:, 1:2]), columns


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------


def _factorize(values: pd.Series, file: str, where: str, names=()) -> tuple[np.ndarray, list]:
    """Codes and distinct values; a missing label is an error naming its row.

    A missing-value word ("NA", "None", "null") is a missing label unless it names one of the
    classes ``names`` (ignoring case): "NA" may well be a class.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    wanted = {str(n).strip().lower() for n in names}
    words = [
        u for u, v in enumerate(uniques)
        if isinstance(v, str) and v.strip() in _NA_TEXT and v.strip().lower() not in wanted
    ]
    missing = codes < 0
    if words:
        missing |= np.isin(codes, np.asarray(words, dtype=codes.dtype))
    if missing.any():
        row = int(np.argmax(missing))
        raise DataError(
            f"File '{file}', {where}, row {row + 1}: the label is missing; "
            "fill it in or drop the row."
        )
    return codes, list(uniques)


def _spell(value) -> str:
    """A label as the file spells it; 1.0 read from a CSV is spelled 1."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _as_int(value) -> int | None:
    """The whole number a label stands for (1, 1.0, "1"), or None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return int(value) if float(value).is_integer() else None
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _as_bool(value) -> bool | None:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE_WORDS:
            return True
        if low in _FALSE_WORDS:
            return False
    return None


def _first_row(codes: np.ndarray, bad_codes) -> int:
    bad = np.isin(codes, np.asarray(list(bad_codes), dtype=codes.dtype))
    return int(np.argmax(bad))


def _mapping_sentence(pairs: list[tuple[str, str]]) -> str:
    shown = ", ".join(f"{a} -> {b}" for a, b in pairs[:_MAX_LISTED])
    more = len(pairs) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def map_labels(values: pd.Series, classes: list[str], *, file: str, where: str):
    """Multi-class labels -> int64 class ids (n,), label mapping and notes.

    Tried in order: labels that name the classes (ignoring case; numeric class names included),
    1-based class numbers when every label lies in 1..K and none is 0, 0-based class numbers
    0..K-1. The 1-based rule wins where both fit (labels 1 and 2 of three classes), as
    the input format says; the note shows the user which way it went.
    """
    codes, uniques = _factorize(values, file, where, classes)
    k = len(classes)
    spelled = [_spell(u) for u in uniques]
    by_lower = {c.strip().lower(): j for j, c in enumerate(classes)}
    by_name = [by_lower.get(s.strip().lower(), -1) for s in spelled]
    ints = [_as_int(u) for u in uniques]

    if all(j >= 0 for j in by_name):
        ids = by_name
        how = "name"
    elif all(i is not None and 1 <= i <= k for i in ints):
        ids, how = [i - 1 for i in ints], "1-based"
    elif all(i is not None and 0 <= i < k for i in ints):
        ids, how = ints, "0-based"
    else:
        _raise_unmatched(codes, spelled, by_name, ints, classes, file, where)

    lookup = np.asarray(ids, dtype=np.int64)
    labels = lookup[codes]
    order = sorted(range(len(uniques)), key=lambda u: (ids[u], spelled[u]))
    pairs = [(spelled[u], classes[ids[u]]) for u in order]
    mapping = dict(pairs)
    if how == "name":
        if any(s.strip() != s for s in spelled):
            shown = _mapping_sentence([(f"'{a}'", b) for a, b in pairs])
            note = (
                f"Labels name the classes, matched ignoring case and surrounding spaces: {shown}."
            )
        elif any(s != classes[j] for s, j in zip(spelled, ids)):
            note = f"Labels name the classes, matched ignoring case: {_mapping_sentence(pairs)}."
        else:
            note = f"Labels name the classes: {_mapping_sentence(pairs)}."
    elif how == "0-based":
        note = f"Labels are class numbers counted from 0: {_mapping_sentence(pairs)}."
    else:
        note = f"Labels look 1-based: {_mapping_sentence(pairs)}."
    return labels, mapping, [note]


def _raise_unmatched(codes, spelled, by_name, ints, classes, file, where):
    """The first row whose label fits none of the ways labels can name classes."""
    k = len(classes)
    if sum(i is not None for i in ints) > sum(j >= 0 for j in by_name):
        low = 0 if any(i is not None and i <= 0 for i in ints) else 1
        bad = [u for u, i in enumerate(ints) if i is None or not low <= i < low + k]
    else:
        bad = [u for u, j in enumerate(by_name) if j < 0]
    row = _first_row(codes, bad)
    value = spelled[codes[row]]
    raise DataError(
        f"File '{file}', {where}, row {row + 1}: label '{value}' matches no class; labels must "
        f"name a class ({_plain(classes)}) or number them 0..{k - 1} (or 1..{k}), so fix the "
        "label or choose the right columns with --label-col and --score-cols."
    )


def map_binary_labels(values: pd.Series, classes, *, named: bool, file: str, where: str):
    """Binary labels -> (positive class name, bool (n,), label mapping, notes).

    ``classes`` is [name] for one score column, [negative, positive] for two, or None (arrays
    without names). Accepted: 0/1, True/False, -1/1, or values naming the class (two columns:
    each of the two classes; one column: the positive class plus at most one other value).
    True/False may be spelled yes/no. Labels that name the classes are read by name even when
    they are also true/false words: with columns ``p_yes, p_no`` the label "no" is class "no".
    """
    codes, uniques = _factorize(values, file, where, classes or ())
    spelled = [_spell(u) for u in uniques]
    lowered = [s.strip().lower() for s in spelled]
    names = [c.strip().lower() for c in classes] if classes else []
    bools = [_as_bool(u) for u in uniques]
    ints = [_as_int(u) for u in uniques]
    notes: list[str] = []

    def positive_name(spelling: str) -> str:
        if classes and (named or len(classes) == 2):
            return classes[-1]
        return spelling

    if len(names) == 2:
        name_the_classes = all(s in names for s in lowered)
    else:
        name_the_classes = named and bool(names) and names[0] in lowered
    if all(b is not None for b in bools) and not name_the_classes:
        is_pos = bools
        true_spelling = next((s for s, b in zip(spelled, bools) if b), "True")
        positive = positive_name(true_spelling)
        yes_no = any(s in ("yes", "no") for s in lowered)
        how = "yes/no" if yes_no else "true/false"
    elif names and any(s in names for s in lowered):
        positive, is_pos = _binary_by_name(codes, spelled, lowered, classes, file, where)
        how = "name"
    elif any(i is not None for i in ints):
        present = {i for i in ints if i is not None}
        allowed = {0, 1}
        if -1 in present:
            allowed = {-1, 1}
        elif 2 in present and 0 not in present and classes is not None and len(classes) == 2:
            allowed = {1, 2}  # 1-based numbers of two classes; a lone 1 stays positive
        bad = [u for u, i in enumerate(ints) if i not in allowed]
        if bad:
            row = _first_row(codes, bad)
            raise DataError(
                f"File '{file}', {where}, row {row + 1}: label '{spelled[codes[row]]}' matches no "
                "class; binary labels must be 0/1, True/False or -1/1, so fix the label or choose "
                "the right columns with --label-col and --score-cols."
            )
        top = max(allowed)
        is_pos = [i == top for i in ints]
        positive = positive_name(str(top))
        how = {0: "0/1", -1: "-1/1", 1: "1/2"}[min(allowed)]
    elif not names or (len(names) == 1 and not named):
        # Text labels, none naming the class, and no score prefix to say which one is positive.
        raise _no_positive_error(spelled, file, where)
    else:
        positive, is_pos = _binary_by_name(codes, spelled, lowered, classes, file, where)
        how = "name"

    negative = f"not {positive}"
    pairs = sorted(
        ((s, positive if p else negative) for s, p in zip(spelled, is_pos)),
        key=lambda pair: (pair[1] == positive, pair[0]),
    )
    mapping = dict(pairs)
    pos_spelled = [s for s, p in zip(spelled, is_pos) if p]
    neg_spelled = [s for s, p in zip(spelled, is_pos) if not p]
    if how == "-1/1":
        notes.append(
            f"Labels are -1/1: 1 is the positive class '{positive}' and -1 the negative."
        )
    elif how == "1/2":
        notes.append(f"Labels look 1-based: 1 -> not {positive}, 2 -> {positive}.")
    elif how == "name":
        if neg_spelled:
            notes.append(
                f"Label {_quoted(pos_spelled) or repr(positive)} names the positive class "
                f"'{positive}'; {_quoted(neg_spelled)} is read as negative."
            )
        else:
            notes.append(f"Label {_quoted(pos_spelled)} names the positive class '{positive}'.")
    else:
        if pos_spelled:
            shown = pos_spelled[0]
        else:
            shown = {"true/false": "True", "yes/no": "yes"}.get(how, "1")
        notes.append(f"Labels are {how}: {shown} is the positive class '{positive}'.")
    lookup = np.asarray(is_pos, dtype=bool)
    return positive, lookup[codes], mapping, notes


def _no_positive_error(spelled, file, where) -> DataError:
    return DataError(
        f"File '{file}', {where}: cannot tell which of the labels "
        f"{_quoted(sorted(set(spelled)))} is the positive class; use 0/1, True/False or -1/1 "
        "labels, or name the score column after the positive label (such as 'p_<label>'), "
        "or choose another label column with --label-col."
    )


def _binary_by_name(codes, spelled, lowered, classes, file, where):
    """(positive class, is_positive per distinct value) for labels that name classes."""
    names = [c.strip().lower() for c in classes]
    if len(names) == 2:
        bad = [u for u, s in enumerate(lowered) if s not in names]
        if bad:
            row = _first_row(codes, bad)
            raise DataError(
                f"File '{file}', {where}, row {row + 1}: label '{spelled[codes[row]]}' matches no "
                f"class; labels must name one of {_quoted(classes)} or be 0/1, so fix the label "
                "or choose the right columns with --label-col and --score-cols."
            )
        return classes[1], [s == names[1] for s in lowered]
    # Distinct values in order of first appearance (factorize keeps it): the third one is wrong.
    others = list(dict.fromkeys(s for s in lowered if s != names[0]))
    if len(others) > 1 and len(others) == len(set(lowered)):
        raise _no_positive_error(spelled, file, where)  # no label names the class
    if len(others) > 1:
        row = _first_row(codes, [u for u, s in enumerate(lowered) if s == others[1]])
        raise DataError(
            f"File '{file}', {where}, row {row + 1}: label '{spelled[codes[row]]}' matches no "
            f"class; binary labels are '{classes[0]}' and one other value, so fix the label or "
            "choose the right columns with --label-col and --score-cols."
        )
    return classes[0], [s == names[0] for s in lowered]


def map_truth_columns(raw: Raw, classes: list[str]):
    """Multi-label 0/1 truth columns -> bool (n, K), mapping truth column -> class, notes."""
    n, k = raw.scores.shape
    labels = np.empty((n, k), dtype=bool)
    minus_one = []
    for j, (values, where) in enumerate(zip(raw.truth, raw.truth_names)):
        labels[:, j], used_minus_one = _truth_column(values, raw.file, where)
        if used_minus_one:
            minus_one.append(where)
    truth_cols = raw.columns.get("labels") or []
    if len(truth_cols) == k:
        mapping = {str(c): cls for c, cls in zip(truth_cols, classes)}
    else:
        mapping = {f"column {j + 1}": cls for j, cls in enumerate(classes)}
    notes = []
    if minus_one:
        notes.append(f"Truth values -1/1 in {_plain(minus_one)} are read as absent/present.")
    return labels, mapping, notes


def one_hot_labels(raw: Raw, classes: list[str]):
    """One-hot truth columns (Keras' ``to_categorical``) read as multi-class labels: int64
    class ids (n,), mapping truth column -> class, notes. A row without exactly one 1 names
    its row."""
    truth, mapping, notes = map_truth_columns(raw, classes)
    per_row = truth.sum(axis=1)
    if (per_row != 1).any():
        row = int(np.argmax(per_row != 1))
        raise DataError(
            f"File '{raw.file}', row {row + 1}: {int(per_row[row])} of the truth columns are 1, "
            "but multi-class data needs exactly one per row (one-hot); fix the row, or drop "
            "--task multiclass to read the data as multi-label."
        )
    notes.append(
        "The truth columns are one-hot (one 1 per row), so each row's class is the column "
        "holding its 1."
    )
    return truth.argmax(axis=1).astype(np.int64), mapping, notes


def _truth_column(values: pd.Series, file: str, where: str) -> tuple[np.ndarray, bool]:
    """bool (n,) presence from 0/1, True/False or -1/1 values; anything else names its row."""
    if pd.api.types.is_bool_dtype(values) and not values.isna().any():
        return values.to_numpy(dtype=bool), False
    if _is_numeric(values):
        # The common case, 0/1 numbers, without factorizing K columns of a million rows.
        numbers = _numbers(values)
        if ((numbers == 0.0) | (numbers == 1.0)).all():
            return numbers == 1.0, False
    codes, uniques = _factorize(values, file, where)
    bools = [_as_bool(u) for u in uniques]
    ints = [_as_int(u) for u in uniques]
    present = {i for i in ints if i is not None}
    allowed = {-1, 1} if -1 in present else {0, 1}
    is_pos = []
    bad = []
    for u, (b, i) in enumerate(zip(bools, ints)):
        if b is not None:
            is_pos.append(b)
        elif i in allowed:
            is_pos.append(i == 1)
        else:
            is_pos.append(False)
            bad.append(u)
    if bad:
        row = _first_row(codes, bad)
        raise DataError(
            f"File '{file}', {where}, row {row + 1}: truth value '{_spell(uniques[codes[row]])}' "
            "is not 0 or 1; multi-label truth columns hold 0/1 (or True/False), so fix the value."
        )
    return np.asarray(is_pos, dtype=bool)[codes], -1 in present


# --------------------------------------------------------------------------------------------
# Warnings for valid but degenerate data
# --------------------------------------------------------------------------------------------


def class_balance_warnings(task: str, classes: list[str], labels: np.ndarray) -> list[str]:
    """One sentence per class without positives or without negatives (never dropped)."""
    if task == "multiclass":
        positives = np.bincount(labels, minlength=len(classes))
        n = labels.shape[0]
    else:
        positives = labels.sum(axis=0)
        n = labels.shape[0]
    out = []
    for name, pos in zip(classes, positives):
        if pos == 0:
            out.append(
                f"Class '{name}' has no positive rows, so its average precision and ROC AUC "
                "are undefined."
            )
        elif pos == n:
            out.append(f"Class '{name}' has no negative rows, so its ROC AUC is undefined.")
    return out


def sum_warnings(probabilities: np.ndarray) -> list[str]:
    """Multi-class probabilities need not sum to 1; say so when many rows are far from it."""
    # Row sums in float64 for float32 input too (a float32 sum rounds differently), taken from
    # blocks of rows converted as a whole, so each row is summed exactly as a float64 array's
    # row would be, without a float64 copy of the whole matrix.
    count = 0
    for start in range(0, probabilities.shape[0], _SUM_BLOCK_ROWS):
        block = np.asarray(probabilities[start:start + _SUM_BLOCK_ROWS], dtype=np.float64)
        count += int((np.abs(block.sum(axis=1) - 1.0) > SUM_TOLERANCE).sum())
    if count > SUM_ROW_SHARE * probabilities.shape[0]:
        return [
            f"Scores do not sum to 1 per row ({count} of {probabilities.shape[0]} rows are off "
            f"by more than {SUM_TOLERANCE:g}); thresholds still apply to them as given."
        ]
    return []
