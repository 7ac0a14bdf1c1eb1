"""Sketches of Parquet and CSV files of any size, computed by DuckDB (``thresholdlab sketch``).

The rows never enter Python: DuckDB streams the files through one SQL aggregation (out of core,
in parallel, within a memory limit) and hands back a few thousand counts per class, which
:func:`thresholdlab.sketch_plan.assemble` turns into a :class:`~thresholdlab.sketch.Sketch`.
Only the first rows are read into Python, to detect the column roles as for a prediction file.

Binary and multi-class tables are counted by one ``GROUP BY`` of plain ``count(*)`` over
(label, key) pairs, each row giving one key per class (its bin) and one for its argmax, rather
than by ``histogram`` aggregates per label: DuckDB 2.0 reports no progress for grouped
histograms until they end (so a bar would show elapsed time only), while this aggregation
reports the share of the input scanned as it goes. With a progress bar, Parquet files are
aggregated in parts of whole row groups (:func:`parquet_parts`) whose counts add up, so the bar
counts rows done.
"""

from __future__ import annotations

import glob
import gzip
import os
import threading
from dataclasses import dataclass
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
        if ext in (".gz", ".gzip"):  # DuckDB reads gzipped text as it goes
            ext = Path(Path(p).stem).suffix.lower()
            if ext not in (".csv", ".tsv", ".txt"):
                raise DataError(f"{Path(p).name!r}: a gzipped file is sketched when it is CSV "
                                "or TSV (.csv.gz, .tsv.gz); decompress it first.")
        elif ext in (".bz2", ".xz", ".zip"):
            raise DataError(f"{Path(p).name!r}: a sketch reads gzipped CSV (.csv.gz) but not "
                            f"{ext} files; decompress it (or gzip it) first.")
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
    options = {_csv_options(path, fmt) for path in paths}
    if len(options) > 1:
        raise DataError("The CSV files are laid out differently (delimiter, decimal mark or "
                        "lines above the header); give files written the same way.")
    return f"read_csv({files}, {options.pop()})"


def _csv_options(path: str, fmt: str) -> str:
    """DuckDB ``read_csv`` options that read a file as the loader lays it out
    (:func:`~thresholdlab.loading.text_layout.text_layout`): the same delimiter and decimal
    mark, lines above the header skipped, a header that numpy.savetxt started with '#'."""
    from thresholdlab.loading.tables import _strip_sep_line
    from thresholdlab.loading.text_layout import SNIFF_BYTES, SPACES, split_line, text_layout

    is_gzip = Path(path).suffix.lower() in (".gz", ".gzip")
    with (gzip.open if is_gzip else open)(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    head, declared = _strip_sep_line(head)
    name = Path(path).name
    layout = text_layout(head.decode("utf-8-sig", errors="replace"), name,
                         sep=declared or ("\t" if fmt == "tsv" else None))
    if layout.sep == SPACES or layout.extra is not None:
        what = ("has columns separated by spaces" if layout.sep == SPACES
                else "has one value more in each row than its header names")
        raise DataError(f"{name!r} {what}; a sketch reads files whose header names every "
                        "column, separated by commas, semicolons or tabs: save it so (pandas: "
                        "to_csv(index=False)) and sketch again.")
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    skip = (declared is not None) + body[:layout.skip].count(b"\n")
    options = [f"delim={_literal(layout.sep)}", f"decimal_separator={_literal(layout.decimal)}"]
    if layout.header is None:
        options += ["header=true", f"skip={skip}"]
    else:
        names = ", ".join(_literal(n) for n in split_line(layout.header, layout.sep))
        options += ["header=false", f"skip={skip + 1}", f"names=[{names}]"]
    return ", ".join(options)


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

    Binary and multi-class: one row per (raw label, key) with its count and the lowest and
    highest score of those rows (keys as written below). Multi-label: one row of per-class
    histograms (key ``bin * 2 + truth``) and bad-value counts.

    No FILTER clauses: a missing or non-finite score is counted as bad and refuses the whole
    table afterwards, so its bin does not matter, and every aggregate stays a plain one.
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
    every = ", ".join(f"s{i}" for i in range(k))
    if plan.task == "multilabel":
        select = [f"count(*) - count(CASE WHEN isfinite(s{i}) THEN 1 END) AS bad{i}"
                  for i in range(k)]
        select += [f"min(least({every})) AS low", f"max(greatest({every})) AS high"]
        for i in range(k):
            select.append(f"count(*) - count(CASE WHEN y{i} IN (0, 1) THEN 1 END) AS badlabel{i}")
            select.append(f"histogram(b{i} * 2 + CAST(y{i} AS INTEGER)) AS h{i}")
        return f"SELECT {', '.join(select)} FROM ({rows})"
    # One key per class and row: class i's bin at i * W + bin, or -(i + 1) for a score that is
    # missing or not finite (which refuses the table, so its bin would not matter); the argmax
    # and its bin at K * W + argmax * W + bin. Each row's lowest and highest scores ride along.
    keys = [f"CASE WHEN isfinite(s{i}) THEN {i * width} + b{i} ELSE {-(i + 1)} END"
            for i in range(k)]
    if plan.task == "multiclass":
        keys.append(f"{k * width} + topkey")
    unnested = (f"SELECT y, least({every}) AS lo, greatest({every}) AS hi, "
                f"unnest([{', '.join(keys)}]) AS key FROM ({rows})")
    return (f"SELECT y, key, count(*) AS n, min(lo) AS low, max(hi) AS high "
            f"FROM ({unnested}) GROUP BY y, key")


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


def _run(con, sql: str, report=None, fetch=None):
    """``fetch(con, sql)`` (by default :func:`_records`); with ``report``, a callable, DuckDB's
    own progress estimate for the query feeds it (a share from 0 to 1, 1 at the end)."""
    fetch = fetch or _records
    if report is None:
        return fetch(con, sql)
    # DuckDB only tracks progress with its bar enabled; its own printing stays off.
    con.execute("SET enable_progress_bar=true")
    return _polled(con, sql, report, fetch)


def _reporter(progress):
    """(report, close) for ``sketch_files``' ``progress``: None, a bar on the terminal (True), or
    the caller's own callable. ``report(share, label)`` takes the share of the pass done."""
    if not progress:
        return None, lambda: None
    if callable(progress):
        return (lambda share, label: progress(share)), lambda: None
    from tqdm import tqdm

    bar = tqdm(total=100, unit="%", desc="sketching", leave=False, disable=None,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    shown = ["sketching"]

    def report(share: float, label: str) -> None:
        if shown[0] != label:  # a second pass (on logits) starts its own bar
            shown[0] = label
            bar.reset()
            bar.set_description_str(label, refresh=False)
        bar.n = round(100 * share, 1)
        bar.refresh()

    return report, bar.close


_POLL_SECONDS = 0.25


def _polled(con, sql: str, report, fetch):
    """``fetch(con, sql)`` in a worker thread, polling ``con.query_progress()`` every
    :data:`_POLL_SECONDS`; ``report`` gets the share done (never lower than before), and 1 at
    the end."""
    result: dict = {}

    def work():
        try:
            result["rows"] = fetch(con, sql)
        except Exception as e:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = e

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    shown = 0.0
    while worker.is_alive():
        worker.join(_POLL_SECONDS)
        try:
            done = con.query_progress()  # percent; -1 before the query starts and after it ends
        except Exception:  # noqa: BLE001 - progress is a courtesy
            done = -1
        if done is not None and 0 <= done <= 100 and done / 100 > shown:
            shown = done / 100
            report(shown)
    if "error" in result:
        raise result["error"]
    report(1.0)
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
    progress=False,
    threads: int | None = None,
    memory_limit: str = MEMORY_LIMIT,
    max_parts: int = 50,
) -> Sketch:
    """Sketch Parquet or CSV ``files`` (paths or glob patterns) with DuckDB.

    Column roles are detected on the first rows as for a prediction file; the overrides are
    those of the command line. ``score_kind`` None: probabilities when every score of the whole
    table lies in [0, 1], else logits (then the aggregation runs a second time, on logits).
    ``progress``: False, True (a bar on the terminal) or a callable given the share of the
    rows done, from 0 to 1, by each pass over the files. With progress, Parquet files are
    aggregated in about ``max_parts`` parts of whole row groups (:func:`parquet_parts`), one
    after the other, whose counts add up to those of one query over everything (a sketch
    merges by addition), so the share is rows done over the rows the footers count; within a
    part, and for CSV files (one query), DuckDB's own estimate fills in.
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
        con.execute("SET enable_progress_bar_print=false")  # DuckDB's own bar would print to stdout
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
        parts = parquet_parts(paths, max_parts) if progress else None
        report, close = _reporter(progress)
        try:
            answer = _aggregate(con, plan, source, n_bins, kind, report, shown, parts, "sketching")
            decided, note = decide_score_kind(plan, answer.low, answer.high)
            if decided != kind:
                answer = _aggregate(con, plan, source, n_bins, decided, report, shown, parts,
                                    "sketching (logits)")
        finally:
            close()
    finally:
        con.close()
    return _assemble(plan, answer, n_bins, decided, note, paths)


def parquet_parts(paths: list[str], max_parts: int = 50) -> list[tuple[str, int, int]] | None:
    """Row ranges ``(file, first row, end row)`` covering Parquet ``paths``, each whole row
    groups, about ``max_parts`` of them in all (fewer when row groups are fewer); None for CSV
    or a footer that cannot be read (then one query over everything)."""
    import pyarrow.parquet as pq

    if _format(paths) != "parquet":
        return None
    try:
        footers = [(path, pq.ParquetFile(path).metadata) for path in paths]  # one read each
        groups = [(path, [footer.row_group(i).num_rows for i in range(footer.num_row_groups)])
                  for path, footer in footers]
    except Exception:  # noqa: BLE001 - the one query then reports the file's own error
        return None
    total = sum(sum(rows) for _, rows in groups)
    if total == 0:
        return None
    least = max(1, -(-total // max_parts))
    parts = []
    for path, rows in groups:
        start = end = 0
        for n in rows:
            end += n
            if end - start >= least:
                parts.append((path, start, end))
                start = end
        if end > start:
            parts.append((path, start, end))
    return parts


def part_sql(part: tuple[str, int, int]) -> str:
    """The rows of one part: DuckDB reads only the row groups that hold them."""
    path, start, end = part
    return (f"(SELECT * FROM read_parquet([{_literal(path)}], file_row_number=true) "
            f"WHERE file_row_number >= {start} AND file_row_number < {end})")


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__).rstrip(".") + "."


def _arrow(con, sql: str):
    return con.sql(sql).to_arrow_table()


@dataclass(frozen=True)
class _Answer:
    """The aggregation's answer: bad-value counts per score (then truth) column, the score
    range, and the counts as :func:`thresholdlab.sketch_plan.assemble` takes them."""

    bad: list
    low: float
    high: float
    groups: list | None = None
    multilabel: list | None = None


class _Tally:
    """Counts of one or more aggregations added up (parts of the same table, in any order).

    Binary and multi-class: per raw label, one flat count array indexed by the aggregation's
    key (K * W class keys, then K * W argmax keys). Multi-label: per class, counts indexed by
    ``bin * 2 + truth``.
    """

    def __init__(self, plan: Plan, n_bins: int):
        import numpy as np

        self.plan, self.width = plan, n_bins + 1
        k = len(plan.scores)
        self.bad = np.zeros(k * (2 if plan.task == "multilabel" else 1), dtype=np.int64)
        self.low, self.high = np.inf, -np.inf
        self.by_label: dict = {}  # raw label -> int64 (2 K W,)
        self.multilabel = np.zeros((k, 2 * self.width), dtype=np.int64)

    def add_row(self, row: dict) -> None:
        """The one row of a multi-label aggregation."""
        k = len(self.plan.scores)
        self.bad += [row[f"bad{i}"] for i in range(k)] + [row[f"badlabel{i}"] for i in range(k)]
        self._range(row["low"], row["high"])
        for i in range(k):
            keys, counts = _hist(row[f"h{i}"])
            _add(self.multilabel[i], keys, counts)

    def add_table(self, table) -> None:
        """The (label, key, n, low, high) rows of a binary or multi-class aggregation."""
        import numpy as np
        import pyarrow.compute as pc

        k = len(self.plan.scores)
        key = table["key"].to_numpy()
        n = table["n"].to_numpy()
        for i in range(k):
            self.bad[i] += int(n[key == -(i + 1)].sum())
        self._range(_finite(np.min, table["low"].to_numpy(zero_copy_only=False)),
                    _finite(np.max, table["high"].to_numpy(zero_copy_only=False)))
        labels = pc.dictionary_encode(table["y"], null_encoding="encode").combine_chunks()
        ids = labels.indices.to_numpy(zero_copy_only=False)
        good = key >= 0
        for y, raw in enumerate(labels.dictionary.to_pylist()):
            mine = good & (ids == y)
            if raw not in self.by_label:
                self.by_label[raw] = np.zeros(2 * k * self.width, dtype=np.int64)
            _add(self.by_label[raw], key[mine], n[mine])

    def _range(self, low, high) -> None:
        if low is not None:
            self.low = min(self.low, low)
        if high is not None:
            self.high = max(self.high, high)

    def answer(self) -> _Answer:
        import numpy as np

        k, width = len(self.plan.scores), self.width
        low = 0.0 if self.low == np.inf else float(self.low)
        high = 1.0 if self.high == -np.inf else float(self.high)
        if self.plan.task == "multilabel":
            hists = [_nonzero(self.multilabel[i]) for i in range(k)]
            return _Answer(bad=self.bad.tolist(), low=low, high=high, multilabel=hists)
        groups = []
        for raw, counts in self.by_label.items():
            per_class = [_nonzero(counts[i * width:(i + 1) * width]) for i in range(k)]
            top = _nonzero(counts[k * width:]) if self.plan.task == "multiclass" else None
            groups.append((raw, per_class, top))
        return _Answer(bad=self.bad.tolist(), low=low, high=high, groups=groups)


def _add(target, keys, counts) -> None:
    import numpy as np

    np.add.at(target, np.asarray(keys, dtype=np.int64), np.asarray(counts, dtype=np.int64))


def _nonzero(counts):
    """(keys, counts) of the non-zero entries of a dense count array."""
    import numpy as np

    at = np.flatnonzero(counts)
    return at, counts[at]


def _aggregate(con, plan, source, n_bins, kind, report, shown, parts=None,
               label: str = "sketching") -> _Answer:
    """Aggregate ``source`` (or each of ``parts`` in turn, adding up) and check the bad values."""
    import duckdb

    tally = _Tally(plan, n_bins)
    sources = [(source, 0, 1)]
    if parts:
        total = sum(end - start for _, start, end in parts)
        sources, done = [], 0
        for part in parts:
            sources.append((part_sql(part), done / total, (part[2] - part[1]) / total))
            done += part[2] - part[1]
    try:
        for sql_source, before, share in sources:
            sql = aggregation_sql(plan, sql_source, n_bins, kind)
            # Below 1 until every part is in: the last part's own 1 comes after the loop.
            step = None if report is None else (
                lambda q, before=before, share=share: report(min(before + share * q, 0.999), label))
            if plan.task == "multilabel":
                (row,) = _run(con, sql, step)
                tally.add_row(row)
            else:
                tally.add_table(_run(con, sql, step, _arrow))
    except duckdb.Error as e:
        raise DataError(f"Could not sketch {shown!r}: {_first_line(e)}") from None
    if report is not None:
        report(1.0, label)
    answer = tally.answer()
    check_bad_values(plan, answer.bad)
    return answer


def _finite(reduce, values):
    """``reduce`` over the values that are finite numbers; None when none is."""
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(reduce(finite)) if finite.size else None


def _assemble(plan: Plan, answer: _Answer, n_bins: int, kind: str, note, paths) -> Sketch:
    notes = (note,) if note else ()
    return assemble(plan, n_bins, kind, groups=answer.groups, multilabel=answer.multilabel,
                    notes=notes, sources=paths)
