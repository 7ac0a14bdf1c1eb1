"""Will a prediction file fit in memory in exact mode? An estimate made before loading it.

Exact mode holds every row: the score matrix, the sorted per-class index and, while parsing,
the reader's own buffers. Past the memory the machine has, the process would be killed midway;
a sketch (``thresholdlab sketch``) holds a few MB whatever the rows. :func:`too_large_sentence`
estimates exact mode's peak from what a file says about itself without being parsed (Parquet:
its footer's row count and column types; CSV/TSV: its size and its first rows), compares it with
the memory available now, and returns the one sentence that says so and how to make a sketch.

The peak is a multiple of the score matrix, from the project's own measurements (BENCHMARKS.md,
benchmark 4 and the sketch benchmarks): Parquet peaked at 2.5x-3.8x the float32 matrix from
load to first view; CSV, read block by block, at 2.7x while loading, but its scores are float64
(twice a float32 matrix) when they reach the index. The factors below round those up: the
sentence should come before a load that would fail, not after.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from thresholdlab.loading.streaming import HEAD_BYTES  # the head the CSV reader plans from
from thresholdlab.predictions import DataError

PEAK_PER_SCORE_BYTES = {"parquet": 4.0, "csv": 8.0}
"""Exact mode's peak per score value, as a multiple of the bytes of the file's score type
(Parquet: 4 for float32 columns, 8 for float64; CSV: 4, against a float32 matrix, so 8.0 is
Parquet's 4x on the float64 matrix CSV scores become)."""
MEMORY_ENV = "THRESHOLDLAB_MEMORY_MB"
"""Environment variable: the memory, in MB, one file may take in exact mode (overrides what the
machine reports; a shared server can set it lower)."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Exact mode's estimated peak memory for one file.

    rows : data rows (Parquet: from its footer; CSV: estimated from its size, ``rows_exact``
        False unless the whole file was read)
    scores : score values per row (columns of float type in Parquet; the classes the loader
        finds in the first rows of a CSV file)
    peak_bytes : the estimated peak
    """

    file: str
    fmt: str
    rows: int
    scores: int
    peak_bytes: int
    rows_exact: bool = True


def available_memory() -> int | None:
    """Bytes of memory available now: :data:`MEMORY_ENV` when set, else the smaller of the
    kernel's ``MemAvailable`` and what the process's cgroup still allows; None when unknown."""
    given = os.environ.get(MEMORY_ENV, "").strip()
    if given:
        try:
            mb = float(given)
        except ValueError:
            mb = -1.0
        if not mb > 0:
            raise DataError(f"{MEMORY_ENV} is {given!r}; give the memory in MB as a positive number.")
        return int(mb * 2**20)
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
            found.append(max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def estimate(source, name: str | None = None) -> MemoryEstimate | None:
    """Exact mode's peak for ``source`` (a path or the file's bytes); None for formats other
    than Parquet and CSV/TSV, sketch files, and files whose shape cannot be read cheaply (their
    load says what is wrong)."""
    from thresholdlab.loading import file_format
    from thresholdlab.loading.source import compression
    from thresholdlab.sketch import is_sketch

    raw = bytes(source) if isinstance(source, (bytes, bytearray, memoryview)) else None
    file = name or (Path(source).name if raw is None else "data")
    try:
        fmt = file_format(file)
    except DataError:
        return None
    if fmt not in ("parquet", "csv", "tsv") or is_sketch(raw if raw is not None else source):
        return None
    if compression(file) is not None:
        return None  # the size on disk says little about the text's
    try:
        if fmt == "parquet":
            return _parquet(raw if raw is not None else source, file)
        return _csv(raw, None if raw is not None else Path(source), file, fmt)
    except Exception:  # noqa: BLE001 - a file whose shape is unreadable loads to its own sentence
        return None


def _parquet(source, file: str) -> MemoryEstimate:
    import pyarrow as pa
    import pyarrow.parquet as pq

    handle = pa.BufferReader(source) if isinstance(source, bytes) else str(source)
    parquet = pq.ParquetFile(handle)
    rows = parquet.metadata.num_rows
    floats = [f.type for f in parquet.schema_arrow if pa.types.is_floating(f.type)]
    scores = len(floats) or max(1, len(parquet.schema_arrow) - 1)
    item = max((t.bit_width // 8 for t in floats), default=8)
    item = max(item, 4)  # float16 columns become float32
    peak = PEAK_PER_SCORE_BYTES["parquet"] * item * rows * scores
    return MemoryEstimate(file, "parquet", rows, scores, int(peak))


def _csv(raw: bytes | None, path: Path | None, file: str, fmt: str) -> MemoryEstimate:
    from thresholdlab.loading import load

    if raw is not None:
        size, head = len(raw), raw[:HEAD_BYTES]
    else:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
    whole = len(head) >= size
    if not whole:
        head = head[: head.rfind(b"\n") + 1]  # whole lines only
    lines = head.count(b"\n") + (0 if whole and head.endswith(b"\n") else int(whole))
    if lines < 2:
        raise ValueError("too few lines to estimate")
    header = head.find(b"\n") + 1
    if whole:
        rows, exact = lines - 1, True
    else:
        per_row = (len(head) - header) / (lines - 1)
        rows, exact = int(round((size - header) / per_row)), False
    scores = load(head, name=file).n_classes
    peak = PEAK_PER_SCORE_BYTES["csv"] * 4 * rows * scores
    return MemoryEstimate(file, fmt, rows, scores, int(peak), exact)


def _surely_fits(source, name: str | None, available: int) -> bool:
    """True for a CSV/TSV file too small to need the estimate: a score takes at least two bytes
    of text (a digit and a delimiter), so exact mode's peak is at most
    ``PEAK_PER_SCORE_BYTES["csv"] * 4 / 2`` times the file's size. (Parquet compresses tied
    scores far below their size in memory: no such bound.)"""
    text = str(name or ("" if isinstance(source, (bytes, bytearray, memoryview)) else source))
    if not text.lower().endswith((".csv", ".tsv", ".txt")):
        return False
    try:
        size = len(source) if isinstance(source, (bytes, bytearray, memoryview)) else Path(source).stat().st_size
    except OSError:
        return False
    return PEAK_PER_SCORE_BYTES["csv"] * 4 / 2 * size <= available


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError  # unreachable


def too_large_sentence(source, name: str | None = None, *, available: int | None = None) -> str | None:
    """One sentence when ``source`` would not fit in memory in exact mode, else None.

    ``available`` in bytes; by default :func:`available_memory` (None, unknown: no sentence).
    The sentence names the file, the estimate and the memory available, and the command that
    makes a sketch of the file, which opens in its place.
    """
    if available is None:
        available = available_memory()
    if available is None or _surely_fits(source, name, available):
        return None
    found = estimate(source, name)
    if found is None or found.peak_bytes <= available:
        return None
    about = "" if found.rows_exact else "about "
    stem = Path(found.file).stem
    return (
        f"{found.file!r} is too large for exact mode here: its {about}{found.rows:,} rows x "
        f"{found.scores:,} {'score' if found.scores == 1 else 'scores'} need about "
        f"{_size(found.peak_bytes)} of memory and {_size(available)} is available; make a "
        f"sketch of it with `thresholdlab sketch {found.file} -o {stem}-sketch.parquet` "
        "(DuckDB, out of core) and open that file instead."
    )
