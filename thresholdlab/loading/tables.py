"""Step 2a: parse a table (CSV, TSV, Parquet) into a pandas frame.

Encodings (UTF-8 with or without a byte-order mark, UTF-16; anything else is named), the
delimiter and decimal mark (sniffed from the header, or Excel's ``sep=`` line), rows of empty
cells at the end, ragged rows, repeated header names and Parquet decimals are settled here.
Nothing here knows what a column means.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from thresholdlab.loading.source import Source, release_arrow_memory
from thresholdlab.loading.vectors import (
    arrow_vectors, is_text_list, is_vector_type, single_values, spread_by_name,
)
from thresholdlab.loading.text_layout import (
    SNIFF_BYTES, SPACES, TextLayout, split_line, text_layout,
)
from thresholdlab.predictions import DataError

REPEATED_NAMES = "thresholdlab_repeated_names"
"""``DataFrame.attrs`` key: header names given twice (see _repeated_names)."""
VECTORS = "thresholdlab_vectors"
"""``DataFrame.attrs`` key: Parquet columns of a vector per row, as (n, K) arrays."""
BLOCK_PER_COLUMN = "thresholdlab_block_per_column"
"""``DataFrame.attrs`` key: True when each column is its own pandas block, so that taking a
column out frees its memory (taking one out of a shared block would copy the rest)."""
# Only an empty cell is missing while parsing: the parsers' other missing-value words ("NA",
# "None", "null", ...) can be class names, so labels decide about them once the classes are
# known, and a score spelled so is reported as missing (see _NA_TEXT).
_NA_OPTIONS = {"keep_default_na": False, "na_values": [""]}
_SNIFF_BYTES = SNIFF_BYTES


def read_table(source: Source, fmt: str) -> tuple[pd.DataFrame, list[str]]:
    """Parse a table; returns the frame and notes on how it was read (delimiter, decimals)."""
    if fmt == "parquet":
        return _read_parquet(source), []
    fast = _read_plain_csv(source, fmt)
    if fast is not None:
        return fast
    source = source.in_memory()
    data, file = source.data, source.file
    data, encoding_notes = _from_utf16(data, file)
    data, declared = _strip_sep_line(data)
    if not data[:_SNIFF_BYTES].strip() and not data.strip():
        raise _empty_error(file)
    text_head = _check_text(data, file)
    layout = text_layout(text_head, file, sep=declared or ("\t" if fmt == "tsv" else None))
    notes = list(layout.notes)
    if declared is not None:
        notes.insert(0, f"The first line, 'sep={declared}', names the delimiter and is skipped.")
    if not layout.plain:
        data = layout.text(data)
        text_head = _check_text(data, file)
    sep = layout.sep
    repeated = _repeated_names(text_head, sep)
    empty_rows, empty_bytes = empty_tail(data, sep)
    if empty_rows:
        data = data[:len(data) - empty_bytes]
        notes.append(empty_tail_note(empty_rows))
    frame = _read_csv(data, file, layout)
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


def _read_plain_csv(source: Source, fmt: str) -> tuple[pd.DataFrame, list[str]] | None:
    """A plain UTF-8 CSV parsed by pyarrow from its path (or the upload's bytes); else None.

    :mod:`~thresholdlab.loading.streaming` reads most such files first, block by block; this
    whole-table read takes those whose column types the first MiB does not settle.

    A 1,000,000 x 20 score file is 250 MB of text. Read as a whole it was held as bytes, parsed
    into a table, and copied into one consolidated pandas block: 12x the float32 scores at the
    peak. Here pyarrow reads the file itself, block by block, with the options and type
    inference ``pandas.read_csv(engine="pyarrow")`` uses, and each column becomes its own pandas
    array as the table lets go of it, so no column is held twice. Anything unusual (UTF-16, a
    ``sep=`` line, repeated or empty header names, dates, undecodable text, any parser error)
    returns None, and :func:`read_table` reads the file as before: errors are worded there, from
    the whole file, exactly as they always were.
    """
    try:
        head = _head(source)
        if not head.strip() or b"\x00" in head or _SEP_LINE.match(head):
            return None
        if len(head) == _SNIFF_BYTES and head.count(b"\n") < 2:
            return None  # lines longer than the head: the full reader copes with them
        text_head = head.decode("utf-8-sig", errors="strict") if len(head) < _SNIFF_BYTES else (
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False).lstrip("\ufeff")
        )
        layout = text_layout(text_head, source.file, sep="\t" if fmt == "tsv" else None)
        if not layout.plain:
            return None  # comment lines, spaces, row names: read_table reads the layout
        sep, decimal, notes = layout.sep, layout.decimal, list(layout.notes)
        if _repeated_names(text_head, sep):
            return None
        if empty_rows_at_end(source, sep)[0]:
            return None  # rows of empty cells at the end: read_table leaves them out
        # Only an empty cell is missing, as in _NA_OPTIONS.
        convert = pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True,
                                       decimal_point=decimal)
        with source.arrow_file() as handle:
            table = pacsv.read_csv(handle, parse_options=pacsv.ParseOptions(delimiter=sep),
                                   convert_options=convert)
        names = table.column_names
        if any(not n.strip() for n in names) or len(set(names)) != len(names):
            return None
    except MemoryError:
        raise  # the other readers would need more still: load words it
    except Exception:
        return None
    if table.num_rows == 0 or any(
        pa.types.is_temporal(t) or pa.types.is_binary(t) for t in table.schema.types
    ):
        return None  # words, dates and undecodable text are worded by the full reader
    # pandas turns a column with no values at all into float64 NaN, as read_csv does.
    for i, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(i, field.with_type(pa.float64()),
                                     table.column(i).cast(pa.float64()))
    # split_blocks: each column its own block, no (n, K) consolidation copy; self_destruct:
    # each Arrow column is freed as soon as it is converted.
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    release_arrow_memory()
    frame.columns = [str(c).lstrip("\ufeff") for c in frame.columns]
    frame.attrs[REPEATED_NAMES] = {}
    frame.attrs[BLOCK_PER_COLUMN] = True
    return frame, notes


def _head(source: Source) -> bytes:
    if source.data is not None:
        return source.data[:_SNIFF_BYTES]
    with source.path.open("rb") as f:
        return f.read(_SNIFF_BYTES)


TAIL_BYTES = 64 * 1024
"""The end of a file on disk read first when looking for rows of empty cells at its end
(:func:`empty_rows_at_end`); twice as much again while all of it is such rows."""


def empty_rows_at_end(source: Source, sep: str) -> tuple[int, int]:
    """:func:`empty_tail` of the whole file, reading only its end from disk."""
    if source.data is not None:
        return empty_tail(source.data, sep)
    length = TAIL_BYTES
    with source.path.open("rb") as f:
        while True:
            f.seek(max(source.size - length, 0))
            ending = f.read(length)
            rows, cut = empty_tail(ending, sep)
            # Empty rows up to the first line read: there may be more above it.
            if not rows or len(ending) >= source.size or b"\n" in ending[:len(ending) - cut - 1]:
                return rows, cut
            length *= 2


def empty_tail(ending: bytes, sep: str) -> tuple[int, int]:
    """Rows at the very end of a CSV whose every cell is empty, and the bytes they take.

    Excel writes a row of delimiters (``,,``) for each formatted but empty row below the data;
    such rows are no samples, so both CSV readers leave them out. Only rows below the last one
    holding a value go, so every other row keeps the number messages give it (an empty row
    between data rows is still named as a missing value). ``ending`` is the file or its end;
    its first line (the header, or a line cut by where ``ending`` starts) is never cut. A
    line is an empty row when it holds nothing but delimiters, spaces and quotes; a blank line
    (which the parsers skip) is cut with them but not counted.
    """
    allowed = frozenset(f"{sep} \t\r\"".encode())
    rows, cut, end = 0, len(ending), len(ending)
    while end > 0:
        start = ending.rfind(b"\n", 0, end) + 1
        if start == 0:
            break  # the header, or a line the tail may have cut
        line = ending[start:end]
        # An odd number of quotes: the end of a quoted value that spans lines, not a row.
        if not allowed.issuperset(line) or line.count(b'"') % 2:
            break
        rows += line not in (b"", b"\r")
        cut, end = start, start - 1
    return rows, len(ending) - cut if rows else 0


def empty_tail_note(rows: int) -> str:
    """The note for :func:`empty_tail`'s rows left out."""
    if rows == 1:
        return "The last row has only empty cells and is ignored."
    return f"The last {rows} rows have only empty cells and are ignored."


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
    except (DataError, MemoryError):
        raise
    except Exception:  # pyarrow raises many types; the user only needs to know it is not Parquet
        raise DataError(
            f"File '{file}' is not a valid Parquet file; write it with pandas.DataFrame.to_parquet "
            "or save it as CSV."
        ) from None
    release_arrow_memory()  # the reader's buffers, freed now, before the score matrix is built
    if frame.shape[1] == 0 and not frame.attrs.get(VECTORS):
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
        kind = schema.field(position - 1).type
        if pa.types.is_nested(kind) and not is_vector_type(kind) and not is_text_list(kind):
            # A list or struct cell is no label, id or score; pandas would hand it on as an
            # array object that breaks far from here.
            raise DataError(
                f"File '{file}', column '{name}' holds nested values ({kind}), not one value per "
                "row; flatten it into plain columns (or drop it) and save the file again."
            )
    # One column at a time, on this thread: reading the whole table at once (or through pandas,
    # which uses pyarrow's dataset scanner) holds more decoding buffers at its peak, and worker
    # threads keep freed memory cached in their own allocator heaps afterwards.
    # Lists named as scores or labels are read as (n, K) arrays; a list of one value per row
    # is that value; other lists (None) are not used.
    vectors, singles = {}, {}
    for name, kind in zip(schema.names, schema.types):
        if is_vector_type(kind) or is_text_list(kind):
            column = parquet.read(columns=[name], use_threads=False).column(0)
            if is_text_list(kind):  # a row's tags: a list's text, as to_csv writes it
                joined = pc.binary_join(column, "', '")
                singles[name] = pc.binary_join_element_wise("['", joined, "']", "")
            elif spread_by_name(name, schema.names):
                vectors[name] = arrow_vectors(column, name, file)
            elif (single := single_values(column)) is not None:
                singles[name] = single
            else:
                vectors[name] = None
    plain = [field for field in schema if field.name not in vectors]
    columns = [singles[f.name] if f.name in singles else
               _decimals_as_numbers(parquet.read(columns=[f.name], use_threads=False).column(0))
               for f in plain]
    schema = pa.schema([field.with_type(column.type) for field, column in zip(plain, columns)],
                       metadata=schema.metadata)
    table = pa.Table.from_arrays(columns, schema=schema)  # the schema: pandas metadata, index
    del columns
    # split_blocks: one pandas block per column, so numeric columns without nulls become the
    # frame's columns without a copy, instead of being consolidated into one new (n, K) block.
    # self_destruct: the table lets go of each column once converted (it is unusable after).
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    if not plain:  # vectors only: the rows are theirs
        frame = pd.DataFrame(index=pd.RangeIndex(parquet.metadata.num_rows))
    if vectors:
        frame.attrs[VECTORS] = vectors  # spread into columns by load, with a note each
    return frame


def _decimals_as_numbers(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A decimal column (SQL exports write NUMERIC scores so) as numbers pandas computes with:
    whole numbers that fit as int64, anything else as float64; other columns as they are.

    Through the decimal text, which pyarrow reads as the float64 nearest it, as a CSV holding
    the same digits is read: its direct decimal-to-float cast is off by one unit in the last
    place for about a third of six-digit fractions.
    """
    kind = column.type
    if not pa.types.is_decimal(kind):
        return column
    if kind.scale == 0 and kind.precision <= 18:
        return column.cast(pa.int64())
    return column.cast(pa.string()).cast(pa.float64())


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


def _read_csv(data: bytes, file: str, layout: TextLayout) -> pd.DataFrame:
    """pyarrow's multi-threaded parser first; the csv module and the C engine only on failure
    or for what pyarrow does not parse (runs of spaces, a value more than the header names)."""
    if layout.plain:
        try:
            return pd.read_csv(io.BytesIO(data), engine="pyarrow", sep=layout.sep,
                               decimal=layout.decimal, **_NA_OPTIONS)
        except MemoryError:
            raise
        except Exception:
            pass
    # pyarrow's messages name neither the row nor (for short rows) the problem in a form a
    # user can act on, so look for a ragged row ourselves before trying the slower C engine.
    _raise_ragged_row(data, file, layout)
    try:
        frame = pd.read_csv(io.BytesIO(data), engine="c", encoding="utf-8-sig",
                            low_memory=False, **layout.pandas_options(), **_NA_OPTIONS)
        return layout.row_names_kept(frame)
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8_message(file, data, exc.start)) from None
    except pd.errors.EmptyDataError:
        raise _empty_error(file) from None
    except MemoryError:
        raise
    except Exception as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"File '{file}' could not be read as a table ({reason.rstrip('.')}); "
            "check that it is a CSV or TSV file."
        ) from None


def _raise_ragged_row(data: bytes, file: str, layout: TextLayout) -> None:
    """Raise DataError for the first data row whose field count differs from the header's
    (one more, when every row holds row names or ends with a delimiter)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8_message(file, data, exc.start)) from None
    if layout.sep == SPACES:
        reader = (split_line(line, SPACES) for line in text.splitlines())
    else:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.sep)
    n_fields, row = None, 0
    try:
        for record in reader:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank lines are skipped, as the parsers do
            if n_fields is None:
                n_fields = len(record)
                continue
            row += 1
            if len(record) != n_fields + (layout.extra is not None):
                raise DataError(_ragged_message(file, row, len(record), n_fields, layout))
    except csv.Error:
        return  # let the C engine report what it makes of it


def _ragged_message(file: str, row: int, fields: int, names: int, layout: TextLayout) -> str:
    if layout.extra is not None:
        return (f"File '{file}', row {row}: {fields} fields but the rows above have "
                f"{names + 1}; fix that row and load it again.")
    more = "more" if fields > names else "fewer"
    return (f"File '{file}', row {row}: {fields} fields but the header has {names} ({more} "
            "values than columns); fix that row and load it again.")


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
