"""Sketches of Parquet and CSV files of any size, computed by DuckDB (``thresholdlab sketch``).

The rows never enter Python: DuckDB streams the files through one SQL aggregation (out of core,
in parallel, within a memory limit) and hands back a few thousand counts per class, which
:func:`thresholdlab.sketch_plan.assemble` turns into a :class:`~thresholdlab.sketch.Sketch`.
Only the first rows are read into Python, to detect the column roles as for a prediction file.
"""

from __future__ import annotations

import glob
import os
import threading
from pathlib import Path

from thresholdlab.predictions import DataError
from thresholdlab.sketch import DEFAULT_BINS, Sketch, _check_bins, sql_bin
from thresholdlab.sketch_plan import (
    Plan, assemble, check_bad_values, decide_score_kind, plan_data, shown_name,
)

MEMORY_LIMIT = "1GB"
"""DuckDB's own limit; the aggregation's state is a few MB, so this only bounds read buffers."""


def expand_files(patterns) -> list[str]:
    """Paths matching each pattern (globs allowed), in the order given, each once."""
    out: list[str] = []
    for pattern in patterns:
        pattern = str(pattern)
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise DataError(f"No file matches {pattern!r}.")
        for path in matches:
            if not os.path.isfile(path):
                raise DataError(f"Cannot open {path!r}: no such file.")
            if path not in out:
                out.append(path)
    if not out:
        raise DataError("Give at least one Parquet or CSV file to sketch.")
    return out


def _format(paths: list[str]) -> str:
    kinds = set()
    for p in paths:
        ext = Path(p).suffix.lower()
        if ext in (".parquet", ".pq"):
            kinds.add("parquet")
        elif ext in (".csv", ".tsv", ".txt"):
            kinds.add("tsv" if ext == ".tsv" else "csv")
        else:
            raise DataError(f"{Path(p).name!r}: a sketch is computed from Parquet or CSV files "
                            "(.parquet, .csv, .tsv); convert it first.")
    if len(kinds) > 1:
        raise DataError("Give files of one format per sketch (all Parquet or all CSV).")
    return kinds.pop()


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def source_sql(paths: list[str]) -> str:
    files = "[" + ", ".join(_literal(p) for p in paths) + "]"
    fmt = _format(paths)
    if fmt == "parquet":
        return f"read_parquet({files})"
    delim = ", delim='\\t'" if fmt == "tsv" else ""
    return f"read_csv({files}, header=true{delim})"


def probability_sql(scores: list[str], task: str, score_kind: str, extra: list[str],
                   source: str) -> str:
    """A sub-query with ``s0..`` (the scores as doubles), ``p0..`` (their probabilities, as numpy
    computes them) and the ``extra`` columns, from ``source``."""
    k = len(scores)
    cols = ", ".join(f"TRY_CAST({_quote(c)} AS DOUBLE) AS s{i}" for i, c in enumerate(scores))
    query = f"SELECT {cols}{''.join(', ' + e for e in extra)} FROM {source}"
    keep = ", ".join([f"s{i}" for i in range(k)] + [e.rsplit(" AS ", 1)[1] for e in extra])
    if score_kind == "probability":
        probs = ", ".join(f"s{i} AS p{i}" for i in range(k))
        return f"SELECT {keep}, {probs} FROM ({query})"
    if task == "multiclass":
        # Softmax as numpy computes it: shift by the row max, exponentiate, divide by the sum.
        m = f"greatest({', '.join(f's{i}' for i in range(k))})"
        exps = ", ".join(f"exp(s{i} - {m}) AS e{i}" for i in range(k))
        total = " + ".join(f"e{i}" for i in range(k))
        probs = ", ".join(f"e{i} / ({total}) AS p{i}" for i in range(k))
        return f"SELECT {keep}, {probs} FROM (SELECT {keep}, {exps} FROM ({query}))"
    probs = ", ".join(
        f"(CASE WHEN s{i} >= 0 THEN 1.0 / (1.0 + exp(-s{i})) ELSE exp(s{i}) / (1.0 + exp(s{i})) "
        f"END) AS p{i}" for i in range(k))
    return f"SELECT {keep}, {probs} FROM ({query})"


def aggregation_sql(plan: Plan, source: str, n_bins: int, score_kind: str) -> str:
    """The one aggregation that sketches the table (see :mod:`thresholdlab.sketch_plan`).

    No FILTER clauses: a missing or non-finite score is counted (``bad``) and refuses the whole
    table afterwards, so its bin does not matter (NULL bins are skipped, NaN lands in a valid
    bin), and every aggregate stays a plain one.
    """
    k = len(plan.scores)
    width = n_bins + 1
    extra = []
    if plan.task == "multilabel":
        for i, name in enumerate(plan.labels):
            extra.append(f"coalesce(TRY_CAST({_quote(name)} AS DOUBLE), "
                         f"CAST(TRY_CAST(CAST({_quote(name)} AS VARCHAR) AS BOOLEAN) AS DOUBLE)) AS y{i}")
    else:
        extra.append(f"{_quote(plan.label)} AS y")
    rows = probability_sql(list(plan.scores), plan.task, score_kind, extra, source)
    # floor(p * B) once per score, in its own level, then the bins.
    names = [e.rsplit(" AS ", 1)[1] for e in extra] + [f"s{i}" for i in range(k)]
    floors = ", ".join(f"p{i}, floor(p{i} * {n_bins}.0) AS f{i}" for i in range(k))
    bins = ", ".join(f"{sql_bin(f'p{i}', f'f{i}', n_bins)} AS b{i}" for i in range(k))
    if plan.task == "multiclass":
        # The argmax (ties to the lowest class, as numpy) and the bin of its probability.
        pm = f"greatest({', '.join(f'p{i}' for i in range(k))})"
        top = "CASE " + " ".join(f"WHEN p{i} = pm THEN {i}" for i in range(k)) + " END"
        rows = f"SELECT *, {pm} AS pm FROM ({rows})"
        floors += f", pm, floor(pm * {n_bins}.0) AS fm"
        bins += f", CAST(({top}) AS BIGINT) * {width} + {sql_bin('pm', 'fm', n_bins)} AS topkey"
    rows = (f"SELECT {', '.join(names)}, {bins} FROM (SELECT {', '.join(names)}, {floors} "
            f"FROM ({rows}))")
    select = ["count(*) AS n"]
    select += [f"count(*) - count(CASE WHEN isfinite(s{i}) THEN 1 END) AS bad{i}" for i in range(k)]
    every = ", ".join(f"s{i}" for i in range(k))
    select += [f"min(least({every})) AS low", f"max(greatest({every})) AS high"]
    if plan.task == "multilabel":
        for i in range(k):
            select.append(f"count(*) - count(CASE WHEN y{i} IN (0, 1) THEN 1 END) AS badlabel{i}")
            select.append(f"histogram(b{i} * 2 + CAST(y{i} AS INTEGER)) AS h{i}")
        return f"SELECT {', '.join(select)} FROM ({rows})"
    select.insert(0, "y")
    select += [f"histogram(b{i}) AS h{i}" for i in range(k)]
    if plan.task == "multiclass":
        select.append("histogram(topkey) AS top")
    return f"SELECT {', '.join(select)} FROM ({rows}) GROUP BY y"


def _hist(value) -> tuple[list, list]:
    if not value:
        return [], []
    if isinstance(value, dict):
        return list(value.keys()), list(value.values())
    keys, counts = value  # duckdb may hand a MAP back as {'key': [...], 'value': [...]}
    return list(keys), list(counts)


def _records(con, sql: str) -> list[dict]:
    """The answer to ``sql``, one dict per row keyed by the query's own column names."""
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def _run(con, sql: str, progress: bool) -> list[dict]:
    """Run ``sql`` (see :func:`_records`) with a progress bar fed by DuckDB's own progress
    estimate."""
    if not progress:
        return _records(con, sql)
    from tqdm import tqdm

    # DuckDB only tracks progress with its bar enabled; its own printing stays off.
    con.execute("SET enable_progress_bar=true")
    con.execute("SET enable_progress_bar_print=false")
    result: dict = {}

    def work():
        try:
            result["rows"] = _records(con, sql)
        except Exception as e:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = e

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    with tqdm(total=100, unit="%", desc="sketching", leave=False, disable=None,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}") as bar:
        while worker.is_alive():
            worker.join(0.25)
            try:
                done = con.query_progress()
            except Exception:  # noqa: BLE001 - progress is a courtesy
                done = -1
            if done is not None and done >= 0:
                bar.n = min(100.0, float(done))
                bar.refresh()
        bar.n = 100
        bar.refresh()
    if "error" in result:
        raise result["error"]
    return result["rows"]


def sketch_files(
    files,
    *,
    n_bins: int = DEFAULT_BINS,
    label_col=None,
    label_cols=None,
    score_cols=None,
    task=None,
    score_kind=None,
    progress: bool = False,
    threads: int | None = None,
    memory_limit: str = MEMORY_LIMIT,
) -> Sketch:
    """Sketch Parquet or CSV ``files`` (paths or glob patterns) with DuckDB.

    Column roles are detected on the first rows as for a prediction file; the overrides are
    those of the command line. ``score_kind`` None: probabilities when every score of the whole
    table lies in [0, 1], else logits (then the aggregation runs a second time, on logits).
    """
    import duckdb

    _check_bins(n_bins)
    paths = expand_files(files)
    shown = shown_name(paths)
    source = source_sql(paths)
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit={_literal(memory_limit)}")
        con.execute("SET preserve_insertion_order=false")
        if threads:
            con.execute(f"SET threads={int(threads)}")

        def read_head(n: int):
            try:
                return con.execute(f"SELECT * FROM {source} LIMIT {n}").fetchdf()
            except duckdb.Error as e:
                raise DataError(f"Could not read {shown!r}: {_first_line(e)}") from None

        plan = plan_data(read_head, shown, label_col=label_col, label_cols=label_cols,
                         score_cols=score_cols, task=task, score_kind=score_kind)
        kind = score_kind or "probability"
        rows = _aggregate(con, plan, source, n_bins, kind, progress, shown)
        low, high = _range(plan, rows)
        decided, note = decide_score_kind(plan, low, high)
        if decided != kind:
            rows = _aggregate(con, plan, source, n_bins, decided, progress, shown)
    finally:
        con.close()
    return _assemble(plan, rows, n_bins, decided, note, paths)


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__).rstrip(".") + "."


def _aggregate(con, plan, source, n_bins, kind, progress, shown):
    import duckdb

    sql = aggregation_sql(plan, source, n_bins, kind)
    try:
        rows = _run(con, sql, progress)
    except duckdb.Error as e:
        raise DataError(f"Could not sketch {shown!r}: {_first_line(e)}") from None
    k = len(plan.scores)
    bad = [sum(r[f"bad{i}"] for r in rows) for i in range(k)]
    if plan.task == "multilabel":
        bad += [rows[0][f"badlabel{i}"] for i in range(k)]
    check_bad_values(plan, bad)
    return rows


def _range(plan: Plan, rows) -> tuple[float, float]:
    """The lowest and highest finite score over every group of the answer."""
    lows = [r["low"] for r in rows if r["low"] is not None]
    highs = [r["high"] for r in rows if r["high"] is not None]
    return (min(lows) if lows else 0.0, max(highs) if highs else 1.0)


def _assemble(plan: Plan, rows, n_bins: int, kind: str, note, paths) -> Sketch:
    k = len(plan.scores)
    notes = (note,) if note else ()
    if plan.task == "multilabel":
        hists = [_hist(rows[0][f"h{i}"]) for i in range(k)]
        return assemble(plan, n_bins, kind, multilabel=hists, notes=notes, sources=paths)
    groups = []
    for r in rows:
        per_class = [_hist(r[f"h{i}"]) for i in range(k)]
        top = _hist(r["top"]) if plan.task == "multiclass" else None
        groups.append((r["y"], per_class, top))
    return assemble(plan, n_bins, kind, groups=groups, notes=notes, sources=paths)
