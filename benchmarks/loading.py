"""Benchmark 3: loading a 1,000,000 x 20 prediction file, CSV and Parquet.

``thresholdlab.loading.load`` against the bare parsers it builds on, in the same run:
``pandas.read_csv(engine="pyarrow")`` and ``pandas.read_parquet``, and pyarrow alone
(``pyarrow.csv.read_csv``, ``pyarrow.parquet.read_table``: the yardstick of SPEC section 9's
loading budget). ``load`` also does what the bare parse does not: role detection, label
mapping, the finite/range checks of every score, the sum-to-1 count and the score matrix. A
file on disk is hashed when its digest is first asked for (a config), not by ``load``.

Every timed call starts from the same state: Arrow's memory pool emptied, as in a process
reading its first file (``load`` leaves it so itself, so that a parsed table stops counting
in the process's memory). A pool still holding the pages of the previous read saves pyarrow
about 10 ms at this size: pyarrow timed alone that way is reported too ("warm pool").

The project reads a plain CSV with pyarrow's streaming reader, block by block straight into the
score matrix (``thresholdlab/loading/streaming.py``), and anything unusual with the whole-table
readers (``pandas.read_csv(engine="pyarrow")``, pandas' C engine to word an error); a Parquet
file's score columns go from pyarrow straight into the matrix (``loading/parquet.py``). The
table reports the C engine too.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path

import pandas as pd

from benchmarks.common import Report, Row, Size, median_seconds, round_robin
from benchmarks.make_data import make_file


def data_file(data_dir: Path, task: str, rows: int, k: int, fmt: str) -> Path:
    """A generated file, reused across runs (the name holds every parameter)."""
    path = data_dir / f"{task}_{rows}x{k}_seed0.{fmt}"
    if not path.exists():
        tmp = path.with_suffix(".partial")
        make_file(tmp, task, rows, k, fmt=fmt)
        tmp.rename(path)
    return path


def profile_load(path: Path, top: int = 12) -> str:
    """cProfile of one ``load``, the functions with the most own time."""
    from thresholdlab.loading import load

    profiler = cProfile.Profile()
    profiler.runcall(load, path)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


def run(report: Report, size: Size, data_dir: Path) -> None:
    from thresholdlab.loading import load
    from thresholdlab.loading.source import release_arrow_memory

    k = size.multiclass_classes
    for fmt in ("csv", "parquet"):
        path = data_file(data_dir, "multiclass", size.rows, k, fmt)
        mb = path.stat().st_size / 1e6
        case = f"load {fmt.upper()} multiclass {size.rows:,} x {k} ({mb:.0f} MB)"
        ours = lambda: load(path)  # noqa: E731
        if fmt == "csv":
            import pyarrow.csv as pacsv

            bare = lambda: pd.read_csv(path, engine="pyarrow")  # noqa: E731
            c_engine = lambda: pd.read_csv(path, engine="c")  # noqa: E731
            arrow = lambda: pacsv.read_csv(path)  # noqa: E731
            (bare_s, ours_s, c_s, arrow_s), _ = round_robin(
                [bare, ours, c_engine, arrow], size.repeats, before=release_arrow_memory)
            arrow_name = "pyarrow.csv.read_csv"
            bare_name = "pd.read_csv pyarrow"
        else:
            import pyarrow.parquet as pq

            bare = lambda: pd.read_parquet(path)  # noqa: E731
            arrow = lambda: pq.read_table(path)  # noqa: E731
            (bare_s, ours_s, arrow_s), _ = round_robin([bare, ours, arrow], size.repeats,
                                                      before=release_arrow_memory)
            # pyarrow read after pyarrow read, its pool keeping the pages of the last one.
            arrow_warm, _ = median_seconds(arrow, size.repeats)
            arrow_name = "pyarrow.parquet.read_table"
            bare_name = "pd.read_parquet"
        report.add(Row("3", case, ours_s, "s", baseline=bare_s, baseline_name=bare_name,
                       budget="(info)", note="load() = read + parse + detection + validation"))
        report.add(Row("3", case, ours_s, "s", baseline=arrow_s, baseline_name=arrow_name,
                       budget="<= 1.5x", ok=ours_s <= 1.5 * arrow_s,
                       note="SPEC 9 loading: the same load() against pyarrow alone"))
        if fmt == "parquet":
            report.add(Row("3", case, ours_s, "s", baseline=arrow_warm,
                           baseline_name="read_table, warm pool", budget="(info)",
                           note="pyarrow timed alone, its pool keeping the pages of the last read"))
        if fmt == "csv":
            report.add(Row("3", "pd.read_csv C engine, same CSV", c_s, "s", baseline=bare_s,
                           baseline_name="pd.read_csv pyarrow", budget="(info)",
                           note="the parser the project does not use first"))
        if not size.quick:
            report.notes.append(f"Profile of one load() of the {fmt.upper()} file:\n"
                                + profile_load(path))
