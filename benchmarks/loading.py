"""Benchmark 3: loading a 1,000,000 x 20 prediction file, CSV and Parquet.

``thresholdlab.loading.load`` against the bare parsers it builds on, in the same run:
``pandas.read_csv(engine="pyarrow")`` and ``pandas.read_parquet``. ``load`` also does what the
bare parse does not: the file's sha256 (caches and configs key on it), role detection, label
mapping, the finite/range checks of every score, and the float64 score matrix. No budget: the
ratio shows what validation costs on top of parsing.

The project reads a plain CSV with pyarrow's streaming reader, block by block straight into the
score matrix (``thresholdlab/loading/streaming.py``), and anything unusual with the whole-table
readers (``pandas.read_csv(engine="pyarrow")``, pandas' C engine to word an error); a Parquet
file's score columns go from pyarrow straight into the matrix (``loading/parquet.py``). The
table reports the C engine too, and for Parquet pyarrow alone (``pyarrow.parquet.read_table``).
"""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path

import pandas as pd

from benchmarks.common import Report, Row, Size, round_robin
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

    k = size.multiclass_classes
    for fmt in ("csv", "parquet"):
        path = data_file(data_dir, "multiclass", size.rows, k, fmt)
        mb = path.stat().st_size / 1e6
        case = f"load {fmt.upper()} multiclass {size.rows:,} x {k} ({mb:.0f} MB)"
        ours = lambda: load(path)  # noqa: E731
        if fmt == "csv":
            bare = lambda: pd.read_csv(path, engine="pyarrow")  # noqa: E731
            c_engine = lambda: pd.read_csv(path, engine="c")  # noqa: E731
            (bare_s, ours_s, c_s), _ = round_robin([bare, ours, c_engine], size.repeats)
            bare_name = "pd.read_csv pyarrow"
        else:
            import pyarrow.parquet as pq

            bare = lambda: pd.read_parquet(path)  # noqa: E731
            arrow = lambda: pq.read_table(path)  # noqa: E731
            (bare_s, ours_s, arrow_s), _ = round_robin([bare, ours, arrow], size.repeats)
            bare_name = "pd.read_parquet"
        report.add(Row("3", case, ours_s, "s", baseline=bare_s, baseline_name=bare_name,
                       budget="(info)", note="load() = read + sha256 + parse + detection + validation"))
        if fmt == "parquet":
            report.add(Row("3", case, ours_s, "s", baseline=arrow_s,
                           baseline_name="pyarrow.parquet.read_table", budget="(info)",
                           note="the same load() against pyarrow alone"))
        if fmt == "csv":
            report.add(Row("3", "pd.read_csv C engine, same CSV", c_s, "s", baseline=bare_s,
                           baseline_name="pd.read_csv pyarrow", budget="(info)",
                           note="the parser the project does not use first"))
        if not size.quick:
            report.notes.append(f"Profile of one load() of the {fmt.upper()} file:\n"
                                + profile_load(path))
