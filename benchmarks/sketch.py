"""Sketch benchmarks: DuckDB and Spark sketches of big Parquet files against exact mode.

    python -m benchmarks.sketch data      # writes benchmarks/data/ (once; about 5 GB)
    python -m benchmarks.sketch duckdb    # DuckDB sketch of 100,000,000 rows x 10 classes
    python -m benchmarks.sketch exact     # pandas + exact mode, and DuckDB, at --rows (same file)
    python -m benchmarks.sketch spark     # Spark local[2] on 10,000,000 rows x 10 classes
    python -m benchmarks.sketch exact20   # exact mode at 10,000,000 x 20: load, index, view, move
    python -m benchmarks.sketch progress --rows 10000000  # one query against parts with a bar
    python -m benchmarks.sketch all --quick   # tiny sizes (a smoke run)

Each measurement runs in a fresh child process, so its peak memory (the child's high-water
resident set, ``VmHWM``) is its own. The machine these numbers come from was shared with other
jobs: compare ratios measured in the same run, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT, peak_rss_bytes

DATA = ROOT / "benchmarks" / "data"
CHUNK = 5_000_000


def make_parquet(path: Path, rows: int, classes: int, *, seed: int = 0) -> Path:
    """Multi-class probabilities (float32) and int32 labels, written chunk by chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from benchmarks.make_data import class_names  # imports pyarrow: only where data is written
    from thresholdlab.synthetic import synthetic_scores

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    names = class_names(classes)
    writer = None
    for i, start in enumerate(range(0, rows, CHUNK)):
        n = min(CHUNK, rows - start)
        scores, labels = synthetic_scores("multiclass", n, classes, seed=seed + i,
                                          dtype=np.float32)
        table = pa.table({"label": pa.array(labels.astype(np.int32)),
                          **{f"p_{c}": pa.array(scores[:, j]) for j, c in enumerate(names)}})
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=1_000_000)
        del scores, labels, table
    writer.close()
    tmp.rename(path)
    return path


def head_file(source: Path, path: Path, rows: int) -> Path:
    """The first ``rows`` rows of ``source`` (by DuckDB, out of core)."""
    import duckdb

    if not path.exists():
        duckdb.sql(f"COPY (SELECT * FROM read_parquet('{source}') LIMIT {rows}) TO '{path}' "
                   "(FORMAT parquet)")
    return path


def child(args: list[str]) -> dict:
    """Run ``python -m benchmarks.sketch _child ARGS`` and return its JSON (peak memory
    included: the child measures its own)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "benchmarks.sketch", "_child", *args],
                         cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    return result


# ------------------------------------------------------------------------------ child jobs
def job_duckdb(path: str, bins: int, threads: int | None, parts: bool = False) -> dict:
    """One query (no progress), or with progress: about 50 parts of whole row groups, the share
    done reported as it goes (``progress_at``: seconds -> share, a few of them)."""
    from thresholdlab.sketch_duckdb import sketch_files

    shares: list = []
    started = time.perf_counter()
    report = (lambda d: shares.append((round(time.perf_counter() - started, 1), round(d, 3)))
              if parts else False)
    sketch = sketch_files([path], n_bins=bins, threads=threads, progress=report)
    seconds = time.perf_counter() - started
    sketch.save(f"{path}.{'parts' if parts else 'single'}-sketch.parquet")
    return {"what": "duckdb sketch" + (", in parts with progress" if parts else ""),
            "rows": sketch.n_rows, "classes": sketch.n_classes, "seconds": seconds,
            "progress_at": shares[::max(1, len(shares) // 8)] + shares[-1:]}


def job_spark(path: str, bins: int) -> dict:
    from pyspark.sql import SparkSession

    from thresholdlab.spark import sketch

    started = time.perf_counter()
    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.driver.memory", "2g").config("spark.sql.shuffle.partitions", "8")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    session = time.perf_counter() - started
    started = time.perf_counter()
    result = sketch(spark.read.parquet(path), n_bins=bins, name=Path(path).name)
    seconds = time.perf_counter() - started
    jvm_peak = _descendants_peak_mb()
    spark.stop()
    return {"what": "spark sketch", "rows": result.n_rows, "session_s": session,
            "seconds": seconds, "jvm_peak_rss_mb": jvm_peak}


def _descendants_peak_mb() -> float:
    """Sum of the peak resident sets (VmHWM) of this process's descendants (Spark's JVM)."""
    import os

    total, stack = 0.0, [os.getpid()]
    while stack:
        pid = stack.pop()
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for kid in map(int, kids):
            stack.append(kid)
            try:
                for line in Path(f"/proc/{kid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                pass
    return total


def job_exact(path: str, moves: int) -> dict:
    """pandas + exact mode: load, index, ranking (first view's summaries), one slider move."""
    from thresholdlab.curves import CurveIndex
    from thresholdlab.loading import load
    from thresholdlab.metrics import evaluate, ranking_metrics

    t0 = time.perf_counter()
    pset = load(path, max_bytes=1 << 40)
    t1 = time.perf_counter()
    index = CurveIndex.build(pset)
    t2 = time.perf_counter()
    ranking = ranking_metrics(index)
    t3 = time.perf_counter()
    k = pset.n_classes
    rng = np.random.default_rng(0)
    timings = []
    for _ in range(moves):
        t = rng.random(k)
        s = time.perf_counter()
        evaluate(index, t, ranking=ranking, sample_based_metrics=False)
        timings.append(time.perf_counter() - s)
    return {"what": "exact mode", "rows": pset.n_rows, "classes": k, "load_s": t1 - t0,
            "index_s": t2 - t1, "ranking_s": t3 - t2, "first_view_s": t3 - t0,
            "move_median_ms": 1000 * float(np.median(timings)),
            "matrix_mb": pset.n_rows * k * 4 / 2**20}


def job_arrow(path: str) -> dict:
    """Reading the same columns with pyarrow alone (the loading budget's yardstick)."""
    import pyarrow.parquet as pq

    started = time.perf_counter()
    table = pq.read_table(path)
    seconds = time.perf_counter() - started
    return {"what": "pyarrow read", "rows": table.num_rows, "seconds": seconds}


def run_child(argv: list[str]) -> None:
    job, *rest = argv
    if job in ("duckdb", "duckdb_parts"):
        out = job_duckdb(rest[0], int(rest[1]), int(rest[2]) or None, job == "duckdb_parts")
    elif job == "spark":
        out = job_spark(rest[0], int(rest[1]))
    elif job == "exact":
        out = job_exact(rest[0], int(rest[1]))
    else:
        out = job_arrow(rest[0])
    # Not getrusage's ru_maxrss for this process: it survives exec, so it could be the parent's.
    out["peak_rss_mb"] = peak_rss_bytes() / 2**20
    # ru_maxrss is in kB on Linux. Children: Spark's JVM, when it has been waited for.
    out["peak_children_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(out))


# -------------------------------------------------------------------------------- commands
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        run_child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sketch", description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("data", "duckdb", "exact", "spark", "exact20", "progress",
                                         "all"))
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run")
    parser.add_argument("--rows", type=int, default=20_000_000,
                        help="exact: rows of the pandas + exact mode comparison")
    parser.add_argument("--bins", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, help="append results here, one JSON per line")
    args = parser.parse_args(argv)
    big_rows = 20_000 if args.quick else 100_000_000
    spark_rows = 5_000 if args.quick else 10_000_000
    exact_rows = 10_000 if args.quick else args.rows
    wide_rows = 10_000 if args.quick else 10_000_000
    d = args.data_dir
    big = d / f"multiclass_{big_rows}x10.parquet"
    steps = ["data", "duckdb", "exact", "spark", "exact20"] if args.step == "all" else [args.step]
    results = []
    for step in steps:
        if step == "data":
            started = time.perf_counter()
            make_parquet(big, big_rows, 10)
            make_parquet(d / f"multiclass_{wide_rows}x20.parquet", wide_rows, 20, seed=100)
            print(f"data ready in {time.perf_counter() - started:.0f} s: {big} "
                  f"({big.stat().st_size / 1e9:.2f} GB)")
            continue
        if step == "duckdb":
            results.append(child(["duckdb", str(big), str(args.bins), str(args.threads)]))
        elif step == "exact":
            part = head_file(big, d / f"multiclass_{exact_rows}x10.parquet", exact_rows)
            results.append(child(["arrow", str(part)]))
            results.append(child(["exact", str(part), "50"]))
            results.append(child(["duckdb", str(part), str(args.bins), str(args.threads)]))
        elif step == "spark":
            part = head_file(big, d / f"multiclass_{spark_rows}x10.parquet", spark_rows)
            results.append(child(["spark", str(part), str(args.bins)]))
        elif step == "progress":
            # Interleaved, twice: the machine's load drifts between runs.
            part = head_file(big, d / f"multiclass_{exact_rows}x10.parquet", exact_rows)
            for _ in range(2):
                for job in ("duckdb", "duckdb_parts"):
                    results.append(child([job, str(part), str(args.bins), str(args.threads)]))
            from thresholdlab.sketch import read_sketch

            single, parts = (read_sketch(f"{part}.{w}-sketch.parquet") for w in ("single", "parts"))
            print(f"parts add up to the single query's sketch: {single.equals(parts)}")
        elif step == "exact20":
            wide = d / f"multiclass_{wide_rows}x20.parquet"
            results.append(child(["arrow", str(wide)]))
            results.append(child(["exact", str(wide), "300"]))
    for r in results:
        print(json.dumps(r))
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
