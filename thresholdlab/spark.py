"""Sketches of Spark DataFrames, for data that lives on a cluster (``pip install thresholdlab[spark]``).

:func:`sketch` runs DataFrame aggregations only: no row is collected to the driver and no Python
function runs per row. Each row's bins are computed by Spark's own column expressions with the
same IEEE operations as DuckDB and numpy (:func:`thresholdlab.sketch.bin_index`), so the Spark,
DuckDB and in-memory sketches of the same rows are identical. What comes back to the driver is
the aggregated counts (at most a few thousand per class and label) and the first rows, read to
detect column roles as for a prediction file.

Example::

    from pyspark.sql import SparkSession
    from thresholdlab.spark import sketch

    spark = SparkSession.builder.getOrCreate()
    df = spark.read.parquet("s3://bucket/scores/")
    sketch(df, label="label", scores=["p_cat", "p_dog", "p_fox"]).save("scores-sketch.parquet")
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from thresholdlab.predictions import DataError
from thresholdlab.sketch import DEFAULT_BINS, Sketch, _check_bins
from thresholdlab.sketch_plan import (
    assemble, check_bad_values, decide_score_kind, plan_data, shown_name,
)


def _functions():
    try:
        from pyspark.sql import functions as F
    except ImportError:
        raise DataError(
            "Spark sketches need pyspark: pip install 'thresholdlab[spark]' (and Java 17)."
        ) from None
    return F


def sketch(
    df,
    *,
    label: str | None = None,
    scores: list[str] | None = None,
    labels: list[str] | None = None,
    task: str | None = None,
    score_kind: str | None = None,
    n_bins: int = DEFAULT_BINS,
    name: str = "spark",
) -> Sketch:
    """The sketch of a Spark DataFrame of scores and true labels.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
    label : the label column (binary, multi-class); detected when None
    scores : score columns, one per class, in class order; detected when None
    labels : multi-label 0/1 truth columns, one per score column
    task, score_kind : as the command line's ``--task`` / ``--score-kind``; detected when None
        (score kind from the whole DataFrame's score range)
    n_bins : equal bins on [0, 1]
    name : how messages and the sketch name the data
    """
    F = _functions()
    _check_bins(n_bins)

    def read_head(n: int):
        # Arrow, not toPandas: pyspark's own pandas conversion lags pandas releases.
        limited = df.limit(n)
        return limited.toArrow().to_pandas() if hasattr(limited, "toArrow") else limited.toPandas()

    plan = plan_data(read_head, name, label_col=label, label_cols=labels, score_cols=scores,
                     task=task, score_kind=score_kind)
    k = len(plan.scores)
    s = [F.col(_ref(c)).cast("double") for c in plan.scores]
    finite = [x.isNotNull() & ~F.isnan(x) & (F.abs(x) != float("inf")) for x in s]
    checks = [F.count(F.lit(1)).alias("n")]
    checks += [F.sum(F.when(ok, 0).otherwise(1)).alias(f"bad{i}") for i, ok in enumerate(finite)]
    checks += [F.min(F.least(*s) if k > 1 else s[0]).alias("low"),
               F.max(F.greatest(*s) if k > 1 else s[0]).alias("high")]
    truth = []
    if plan.task == "multilabel":
        for i, c in enumerate(plan.labels):
            col = F.col(_ref(c))
            y = F.coalesce(col.cast("double"), col.cast("string").cast("boolean").cast("double"))
            truth.append(y)
            checks.append(F.sum(F.when(y.isin(0.0, 1.0), 0).otherwise(1)).alias(f"badlabel{i}"))
    summary = df.agg(*checks).first()  # one row of aggregates
    bad = [int(summary[f"bad{i}"] or 0) for i in range(k)]
    bad += [int(summary[f"badlabel{i}"] or 0) for i in range(len(truth))]
    check_bad_values(plan, bad)
    low = summary["low"] if summary["low"] is not None else 0.0
    high = summary["high"] if summary["high"] is not None else 1.0
    kind, note = decide_score_kind(plan, low, high)

    width = n_bins + 1
    p = _probabilities(F, s, plan.task, kind)
    bins = [_bin(F, pi, n_bins) for pi in p]
    if plan.task == "multilabel":
        keys = [(F.lit(i * width) + b) * 2 + truth[i].cast("long") for i, b in enumerate(bins)]
        key, count = _counts(df.select(F.explode(F.array(*keys)).alias("key")).groupBy("key"))
        c, rest = np.divmod(key, 2 * width)
        per_class = [(rest[c == i], count[c == i]) for i in range(k)]
        return assemble(plan, n_bins, kind, multilabel=per_class, notes=(note,) if note else (),
                        sources=(name,))
    keys = [F.lit(i * width) + b for i, b in enumerate(bins)]
    if plan.task == "multiclass":
        pm = F.greatest(*p)
        top = F.lit(None).cast("long")
        for i in reversed(range(k)):  # the first class equal to the max wins, as numpy's argmax
            top = F.when(p[i] == pm, F.lit(i)).otherwise(top)
        keys.append(F.lit(k * width) + top.cast("long") * width + _bin(F, pm, n_bins))
    grouped = df.select(F.col(_ref(plan.label)).alias("y"),
                        F.explode(F.array(*keys)).alias("key")).groupBy("y", "key")
    key, count, y = _counts(grouped, with_label=True)
    # Each distinct raw label once (1 and 1.0 and True kept apart, as DuckDB groups them).
    seen: dict = {}
    codes = np.fromiter((seen.setdefault((type(v), v), len(seen)) for v in y), np.int64, len(y))
    listed = []
    for (_, raw), code in seen.items():
        mine = codes == code
        c, rest = np.divmod(key[mine], width)
        n = count[mine]
        per_class = [(rest[c == i], n[c == i]) for i in range(k)]
        top = (key[mine][c >= k] - k * width, n[c >= k]) if plan.task == "multiclass" else None
        listed.append((raw, per_class, top))
    return assemble(plan, n_bins, kind, groups=listed, notes=(note,) if note else (),
                    sources=(name,))


def _counts(grouped, with_label: bool = False):
    """(key, count[, label]) of a grouped count, as numpy arrays: the aggregated counts come
    to the driver through Arrow (a few hundred thousand rows, never the data's rows)."""
    counted = grouped.count()
    table = counted.toArrow() if hasattr(counted, "toArrow") else None
    if table is not None:
        key = table.column("key").to_numpy().astype(np.int64)
        count = table.column("count").to_numpy().astype(np.int64)
        labels = table.column("y").to_pylist() if with_label else None
    else:
        rows = counted.collect()
        key = np.array([r["key"] for r in rows], dtype=np.int64)
        count = np.array([r["count"] for r in rows], dtype=np.int64)
        labels = [r["y"] for r in rows] if with_label else None
    return (key, count, labels) if with_label else (key, count)


def _ref(name: str) -> str:
    """A column name as Spark's ``col`` reads it literally (dots and spaces included)."""
    return "`" + str(name).replace("`", "``") + "`"


def _probabilities(F, s, task: str, kind: str):
    """Each class's probability as numpy computes it (see :mod:`thresholdlab.sketch_duckdb`)."""
    if kind == "probability":
        return s
    if task == "multiclass":
        m = F.greatest(*s) if len(s) > 1 else s[0]
        e = [F.exp(x - m) for x in s]
        total = e[0]
        for x in e[1:]:
            total = total + x
        return [x / total for x in e]
    return [F.when(x >= 0, 1.0 / (1.0 + F.exp(-x))).otherwise(F.exp(x) / (1.0 + F.exp(x)))
            for x in s]


def _bin(F, p, n_bins: int):
    """:func:`thresholdlab.sketch.bin_index` as a Spark column expression."""
    f = F.floor(p * float(n_bins)).cast("double")
    fixed = (f - (p < f / float(n_bins)).cast("double")
             + (p >= (f + 1.0) / float(n_bins)).cast("double"))
    return F.least(F.greatest(fixed, F.lit(0.0)), F.lit(float(n_bins))).cast("long")


def sketch_paths(files, *, n_bins: int = DEFAULT_BINS, master: str | None = None,
                 label_col=None, label_cols=None, score_cols=None, task=None,
                 score_kind=None) -> Sketch:
    """``thresholdlab sketch --engine spark``: read Parquet or CSV ``files`` (paths or globs
    that Spark understands, local or remote) in a Spark session and sketch them."""
    _functions()
    from pyspark.sql import SparkSession

    files = [str(f) for f in files]
    builder = SparkSession.builder.appName("thresholdlab sketch")
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    # Not sketch_duckdb's format check: Spark reads .csv, .tsv and .txt files together (comma-
    # separated unless every one is .tsv), where DuckDB asks for one kind.
    # Spark's readers open gzip and bzip2 text by its extension.
    suffixes = {Path(Path(f).stem).suffix.lower() if Path(f).suffix.lower() in (".gz", ".bz2")
                else Path(f).suffix.lower() for f in files}
    if suffixes <= {".parquet", ".pq"}:
        df = spark.read.parquet(*files)
    elif suffixes <= {".csv", ".tsv", ".txt"}:
        sep = "\t" if suffixes == {".tsv"} else ","
        df = spark.read.csv(files, header=True, inferSchema=True, sep=sep)
    else:
        raise DataError("Give files of one format per sketch (all Parquet or all CSV).")
    shown = shown_name(files)
    result = sketch(df, label=label_col, scores=score_cols, labels=label_cols, task=task,
                    score_kind=score_kind, n_bins=n_bins, name=shown)
    from dataclasses import replace

    return replace(result, sources=tuple(files))
