"""Turn a user's prediction file into a :class:`PredictionSet`.

This is the boundary where user data is validated, once: every problem becomes one
:class:`DataError` sentence naming the file, column and row, and everything downstream trusts the
result. A file walks through the modules of this package in order::

    path, upload or bytes
      -> source     Source: display name, size, bytes or path; format by extension
      -> streaming  plain CSV / TSV, a few MB at a time on all cores: score columns straight
                    into the matrix
         parquet    Parquet: score columns straight into the matrix (others -> DataFrame)
         tables     anything else, CSV / TSV / Parquet -> DataFrame (encodings, delimiters,
                    ragged rows, and every parse error's wording); text_layout reads a text
                    file's delimiter, '#' lines and row names from its first lines
         arrays     NPZ / .pt -> dict of arrays (never unpickled)
      -> roles      which column is the id, the labels, the scores (tables only)
      -> raw        Raw: (n, K) score matrix, label values, ids, as in the file
      -> labels     labels -> class ids or 0/1 (names, 1-based, 0-based, one-hot, multi-hot)
      -> scores     finite? probabilities or logits? percentages? rows summing to 1?
      -> assemble   task decided, PredictionSet built with its notes and warnings

:func:`load` runs them all; ``spelling`` holds the wording every step shares.

Each inference is reported in ``PredictionSet.notes`` as one sentence; degenerate but valid data
(a class with no positives) is reported in ``PredictionSet.warnings``.

Row numbers in messages count data rows from 1, as a spreadsheet shows them below the header.

Memory: a loaded file should cost about what its scores and labels take. So a file on disk is
read by pyarrow itself, never held as bytes; the score columns of a plain CSV (block by block)
or a Parquet file (a few columns at a time) are written straight into the final score matrix,
which role detection then reads through views, so the scores are never held twice; float32
probabilities stay float32 and decimal text stays float64 (both exact, see
:func:`thresholdlab.predictions.from_arrays`); and the memory Arrow pooled while parsing goes
back to the operating system before :func:`load` returns.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

from thresholdlab.loading.arrays import read_npz, read_pt
from thresholdlab.loading.assemble import decide_task, finish
from thresholdlab.loading.limits import Limits
from thresholdlab.loading.labels import (
    class_balance_warnings, map_binary_labels, map_labels, map_truth_columns, one_hot_labels,
)
from thresholdlab.loading.parquet import read_parquet_filled
from thresholdlab.loading.raw import Raw, raw_from_arrays, raw_from_table, score_matrix
from thresholdlab.loading.roles import (
    ID_NAMES, LABEL_NAMES, SCORE_KINDS, SCORE_PREFIXES, TRUTH_PREFIXES, Overrides, Roles,
    detect_roles,
)
from thresholdlab.loading.scores import (
    PERCENT_SUM_TOLERANCE, SUM_ROW_SHARE, SUM_TOLERANCE, check_finite, decide_score_kind,
    percent_warnings, sum_warnings,
)
from thresholdlab.loading.source import (
    DEFAULT_MAX_BYTES, FORMATS, FileDigest, Source, file_format, out_of_memory_sentence,
    read_source, release_arrow_memory,
)
from thresholdlab.loading.streaming import read_csv_blocks
from thresholdlab.loading.tables import REPEATED_NAMES, VECTORS, read_table
from thresholdlab.loading.vectors import spread_vectors
from thresholdlab.loading.text_layout import sniff_dialect
from thresholdlab.predictions import DataError, PredictionSet

__all__ = [
    "DEFAULT_MAX_BYTES", "FORMATS", "ID_NAMES", "LABEL_NAMES", "Limits",
    "PERCENT_SUM_TOLERANCE",
    "REPEATED_NAMES", "SCORE_KINDS", "SCORE_PREFIXES", "SUM_ROW_SHARE", "SUM_TOLERANCE",
    "TRUTH_PREFIXES", "Overrides", "Raw", "Roles", "Source", "check_finite",
    "class_balance_warnings", "decide_score_kind", "decide_task", "detect_roles", "file_format",
    "finish", "inspect_report", "load", "map_binary_labels", "map_labels", "map_truth_columns",
    "one_hot_labels", "percent_warnings", "raw_from_arrays", "raw_from_table", "read_npz",
    "read_pt", "read_raw", "read_source", "read_table", "release_arrow_memory", "score_matrix",
    "sniff_dialect", "spread_vectors", "sum_warnings", "VECTORS",
]


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
    limits: Limits | None = None,
    sha256: str | None = None,
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
    limits : Limits, optional
        Ceilings on data rows, columns and classes; past one, a DataError says which.
    sha256 : str, optional
        The hex sha256 of the file's bytes, when the caller already has it (an upload it hashed
        to key a cache): ``PredictionSet.sha256`` is then this, as given, since configs record
        it to recognise the file it must be the digest of these very bytes. Otherwise bytes
        are hashed while they parse, and a file on disk when its digest is first asked for
        (:class:`~thresholdlab.loading.source.FileDigest`).

    Returns
    -------
    PredictionSet

    Raises
    ------
    DataError
        One sentence naming the file, column and row, ending with what to do; also for a
        file whose rows do not fit in the memory free (no other reader is tried then).
    """
    source = read_source(source, name, max_bytes)
    overrides = Overrides.checked(label_col, label_cols, score_cols, task, score_kind)
    fmt = file_format(source.file)
    try:
        return _load(source, fmt, overrides, limits, sha256, max_bytes)
    except MemoryError:
        # Readers never retry a file that ran out of memory with another reader: those
        # need more of it.
        release_arrow_memory()
        raise DataError(out_of_memory_sentence(source.file, fmt)) from None


def _load(source: Source, fmt: str, overrides: Overrides, limits: Limits | None,
          sha256: str | None, max_bytes: int = DEFAULT_MAX_BYTES) -> PredictionSet:
    if fmt in ("npz", "pt"):
        source = source.in_memory()  # pyarrow reads Parquet and plain CSV by itself
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = _digest(source, sha256, pool)  # of the file as given, compressed or not
        raw = read_raw(source.unpacked(max_bytes), fmt, overrides)
        if limits is not None:
            limits.check_table(source.file, raw.scores.shape[0], _column_count(raw))
        # The parsed table is gone by now; give its memory back before the labels are built.
        release_arrow_memory()
        pset = finish(raw, overrides, digest=digest.result() if isinstance(digest, Future)
                      else digest)
    if limits is not None:
        limits.check_classes(source.file, pset.n_classes)
    del raw  # its truth and label columns may still be Arrow memory
    release_arrow_memory()
    return pset


def _digest(source: Source, sha256: str | None, pool: ThreadPoolExecutor):
    """What ``PredictionSet.sha256`` will read: ``sha256`` when given; bytes in memory (an
    upload, a ``.npz`` read whole) hashed on ``pool`` while they parse (hashlib releases the
    GIL); a file read from its path, a :class:`FileDigest` that hashes it when first asked
    for."""
    if sha256 is not None:
        return sha256
    if source.data is not None:
        return pool.submit(source.sha256)
    return FileDigest(source)


def _column_count(raw: Raw) -> int:
    """Columns of the file (tables) or score columns (arrays), as the limit counts them."""
    c = raw.columns
    if c.get("ignored") is None and not c.get("scores"):
        return raw.scores.shape[1]
    named = [c.get("id"), c.get("label"), *(c.get("labels") or []), *(c.get("scores") or []),
             *(c.get("ignored") or [])]
    return max(len([n for n in named if n is not None]), raw.scores.shape[1])


def read_raw(source: Source, fmt: str, overrides: Overrides) -> Raw:
    """Parse the file and pull out scores, labels and ids; the parsed table dies on return."""
    if fmt in ("npz", "pt"):
        notes: list[str] = []
        arrays = (read_npz(source.data, source.file) if fmt == "npz"
                  else read_pt(source.data, source.file, notes))
        noun = "array" if fmt == "npz" else "tensor"
        raw = raw_from_arrays(arrays, source.file, overrides, noun)
        raw.notes[:0] = notes
        return raw
    # Most files: the score columns go straight into the score matrix as they are read.
    read = read_parquet_filled if fmt == "parquet" else partial(read_csv_blocks, fmt=fmt)
    filled = read(source, overrides)
    if filled is not None:
        frame, vector_notes = spread_vectors(filled.frame, source.file)
        raw = raw_from_table(frame, source.file, overrides,
                             filled=(filled.matrix, filled.matrix_columns),
                             summary=filled.summary)
        raw.notes[:0] = filled.notes + vector_notes
        return raw
    table, table_notes = read_table(source, fmt)
    table, vector_notes = spread_vectors(table, source.file, table.attrs.pop(VECTORS, None))
    raw = raw_from_table(table, source.file, overrides)
    raw.notes[:0] = table_notes + vector_notes
    return raw


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
