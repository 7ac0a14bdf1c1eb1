"""Binned sketches: per-class counts over a fixed probability grid, for data too big to hold.

Exact mode (:class:`~thresholdlab.curves.CurveIndex`) keeps every row. A :class:`Sketch` keeps,
for every class, how many positive and how many negative rows fall in each bin of the class's
probability over a fixed grid: ``n_bins`` equal bins on [0, 1] (10,000 by default) plus one
bin for probabilities of exactly 1. Multi-class sketches also keep, for the rows whose argmax is
each class, those rows' counts per bin split by true class, so the K x K confusion matrix and
its "no prediction" column follow under the ``argmax`` rule. Scores given as logits go through
the activation (softmax or sigmoid) before binning, as in exact mode.

A sketch is computed where the data lives: from arrays here (:meth:`Sketch.from_predictions`),
by DuckDB from Parquet or CSV files (``thresholdlab sketch``, :mod:`thresholdlab.sketch_duckdb`)
or by Apache Spark (:mod:`thresholdlab.spark`). Sketches of disjoint parts of the data add up
to the sketch of the whole (:meth:`Sketch.merge`, ``a + b``), and a sketch is saved as a Parquet
file carrying its schema version and grid (:meth:`Sketch.save`, :func:`read_sketch`).

Accuracy
--------
Edges are ``edges[i] = i / n_bins`` in float64 (i = 0 .. n_bins). Bin ``b < n_bins`` holds the
rows with ``edges[b] <= p < edges[b + 1]``, bin ``n_bins`` those with ``p >= 1``; every engine
computes the bin with the same IEEE operations (``floor(p * n_bins)``, corrected by one where
that product rounded across an edge), so the bins agree with the comparison ``p >= edges[i]``
bit for bit.

- At a threshold on an edge, every count, every §4 metric computed from counts, the confusion
  matrix and the PR/ROC points are exactly those of exact mode on the same rows.
- At a threshold t strictly between edges ``edges[i - 1] < t < edges[i]``, counts are those at
  ``edges[i]`` (the next edge up). The exact counts at t differ by at most the rows of bin
  ``i - 1``: ``0 <= TP(t) - TP(edges[i]) <= positives in that bin``, the same for FP with the
  negatives (multi-class ``argmax``: the class's argmax rows in that bin); every rate moves by
  at most that many rows over its denominator.
- Average precision and ROC AUC are those of scikit-learn on the rows' scores rounded down to
  their bin's lower edge (rows within one bin tie). Their error against the unbinned values is
  bounded by the share of positive-negative pairs that share a bin.
- The optimiser (:func:`optimise`) searches every edge with a non-empty bin: its optimum is the
  exact optimum among thresholds on edges. The unbinned optimum can be better by at most what
  one bin's rows can change.
- Scores given as logits are turned into probabilities by the engine that computes the sketch;
  its ``exp`` may differ from numpy's in the last bit, so a probability within one rounding
  step of an edge may fall on the other side of it than in exact mode.

Rules that weigh classes against each other row by row are counted where the per-class counts
decide them, and refused with the reason elsewhere (multi-class ``threshold_argmax`` with
per-class thresholds, multi-label ``at_least_one``; see
:mod:`thresholdlab.sketch_index`). Multi-label subset accuracy and samples-F1 need
every row and are not available from a sketch.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from thresholdlab.decisions import DecisionRule
from thresholdlab.predictions import DataError, PredictionSet

SCHEMA_VERSION = 1
DEFAULT_BINS = 10_000
METADATA_KEY = b"thresholdlab.sketch"
"""Key of the JSON header in a sketch file's Parquet key-value metadata."""

# Kinds of count in the long table of a sketch file.
_ONE_VS_REST = 0  # class, bin, truth 1/0 (positive / negative), count
_TOP = 1  # argmax class, bin, true class, count


def edges_of(n_bins: int) -> np.ndarray:
    """float64 (n_bins + 1,): ``i / n_bins``, the thresholds at which a sketch is exact."""
    return np.arange(n_bins + 1, dtype=np.float64) / n_bins


def bin_index(probabilities: np.ndarray, n_bins: int) -> np.ndarray:
    """int64 array of bins: ``b`` with ``edges[b] <= p < edges[b + 1]``; ``n_bins`` for p >= 1.

    The same formula runs in DuckDB and Spark (see :func:`sql_bin`): ``floor(p * B)`` can round
    across an edge, so it is moved back by one where ``p < b / B`` or on by one where
    ``p >= (b + 1) / B``; divisions are IEEE-exact-rounded in every engine, so the result is
    the same everywhere. Probabilities below 0 land in bin 0, above 1 in the last.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    b = np.floor(p * n_bins)
    b -= p < b / n_bins
    b += p >= (b + 1) / n_bins
    np.clip(b, 0, n_bins, out=b)
    return b.astype(np.int64)


def sql_bin(p: str, floor: str, n_bins: int) -> str:
    """SQL for :func:`bin_index` of the double column ``p``, given ``floor`` = ``floor(p * B)``
    computed once in an inner query (DuckDB; Spark builds the same expression).

    Arithmetic rather than CASE: it is evaluated for every score of every row.
    """
    fixed = (f"{floor} - CAST({p} < {floor} / {n_bins}.0 AS INTEGER) "
             f"+ CAST({p} >= ({floor} + 1) / {n_bins}.0 AS INTEGER)")
    return f"CAST(least(greatest({fixed}, 0), {n_bins}) AS INTEGER)"


@dataclass(frozen=True, eq=False)
class Sketch:
    """Per-class binned counts of one data set (see the module docstring for the accuracy).

    Attributes
    ----------
    task, classes
        As in :class:`~thresholdlab.predictions.PredictionSet` (K classes).
    n_bins : int
        Equal bins on [0, 1]; the count arrays have one more column, for p >= 1.
    positive, negative : ndarray of int64, shape (K, n_bins + 1)
        Rows that do / do not belong to class k, by the bin of their probability of class k.
    top : ndarray of int64, shape (K, n_bins + 1, K), or None
        Multi-class only: ``top[c, b, j]`` counts rows whose argmax is c (ties to the lowest
        class index), whose probability of c lies in bin b, and whose true class is j.
    n_rows : int
    score_kind, activation, file, sha256, columns, label_mapping, notes, warnings
        As in :class:`~thresholdlab.predictions.PredictionSet`, so that the dashboard and the
        command line describe a sketch like a prediction file. ``sha256`` is that of the sketch
        file once saved or read.
    sources : tuple of str
        The files (or tables) the sketch was computed from.
    """

    task: str
    classes: tuple[str, ...]
    n_bins: int
    positive: np.ndarray
    negative: np.ndarray
    top: np.ndarray | None = None
    score_kind: str = "probability"
    activation: str = "none"
    file: str = "<memory>"
    sha256: str = ""
    columns: dict = field(default_factory=dict)
    label_mapping: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    binned = True
    """Marks a sketch where a PredictionSet is expected (the dashboard and CLI ask)."""

    # ------------------------------------------------------------------ PredictionSet-like
    @property
    def n_rows(self) -> int:
        return int(self.positive[0].sum() + self.negative[0].sum()) if len(self.classes) else 0

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def positives(self) -> np.ndarray:
        """int64 (K,): rows that belong to each class."""
        return self.positive.sum(axis=1).astype(np.int64)

    @property
    def edges(self) -> np.ndarray:
        return edges_of(self.n_bins)

    @property
    def bin_width(self) -> float:
        return 1.0 / self.n_bins

    # ------------------------------------------------------------------ building
    @classmethod
    def from_predictions(cls, predictions: PredictionSet, n_bins: int = DEFAULT_BINS) -> "Sketch":
        """The sketch of rows already in memory (tests, notebooks, one partition of many)."""
        _check_bins(n_bins)
        p = predictions.probabilities
        k = predictions.n_classes
        width = n_bins + 1
        truth = predictions.truth
        positive = np.zeros((k, width), dtype=np.int64)
        negative = np.zeros((k, width), dtype=np.int64)
        for c in range(k):
            bins = bin_index(p[:, c], n_bins)
            positive[c] = np.bincount(bins[truth[:, c]], minlength=width)
            negative[c] = np.bincount(bins[~truth[:, c]], minlength=width)
        top = None
        if predictions.task == "multiclass":
            arg = np.argmax(p, axis=1)
            bins = bin_index(p[np.arange(len(arg)), arg], n_bins)
            keys = (arg * width + bins) * k + predictions.labels
            top = np.bincount(keys, minlength=k * width * k).reshape(k, width, k).astype(np.int64)
        return cls(
            task=predictions.task,
            classes=tuple(predictions.classes),
            n_bins=n_bins,
            positive=positive,
            negative=negative,
            top=top,
            score_kind=predictions.score_kind,
            activation=predictions.activation,
            file=predictions.file,
            columns=dict(predictions.columns or {}),
            label_mapping=dict(predictions.label_mapping or {}),
            notes=tuple(predictions.notes),
            warnings=tuple(predictions.warnings),
            sources=(predictions.file,),
        )

    def merge(self, other: "Sketch") -> "Sketch":
        """The sketch of both data sets together: counts add (rows must not overlap)."""
        for name in ("task", "classes", "n_bins", "score_kind", "activation"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                raise DataError(
                    f"Sketches of {self.file!r} and {other.file!r} cannot be merged: their "
                    f"{name.replace('_', ' ')} differs ({mine!r} and {theirs!r})."
                )
        return replace(
            self,
            positive=self.positive + other.positive,
            negative=self.negative + other.negative,
            top=None if self.top is None else self.top + other.top,
            sha256="",
            notes=tuple(dict.fromkeys(self.notes + other.notes)),
            warnings=tuple(dict.fromkeys(self.warnings + other.warnings)),
            sources=self.sources + other.sources,
        )

    __add__ = merge

    def equals(self, other: "Sketch") -> bool:
        """True when both hold the same counts over the same grid and classes."""
        return (
            self.task == other.task
            and self.classes == other.classes
            and self.n_bins == other.n_bins
            and self.score_kind == other.score_kind
            and np.array_equal(self.positive, other.positive)
            and np.array_equal(self.negative, other.negative)
            and (self.top is None) == (other.top is None)
            and (self.top is None or np.array_equal(self.top, other.top))
        )

    # ------------------------------------------------------------------ file
    def header(self) -> dict:
        from thresholdlab import __version__

        return {
            "schema_version": SCHEMA_VERSION,
            "created_by": f"thresholdlab {__version__}",
            "grid": {"kind": "uniform", "low": 0.0, "high": 1.0, "n_bins": self.n_bins,
                     "last_bin": "p >= 1"},
            "task": self.task,
            "classes": list(self.classes),
            "score_kind": self.score_kind,
            "activation": self.activation,
            "rows": self.n_rows,
            "columns": self.columns,
            "label_mapping": {str(k): str(v) for k, v in self.label_mapping.items()},
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "sources": list(self.sources),
        }

    def to_bytes(self) -> bytes:
        """The sketch as a Parquet file: a long table of non-zero counts plus a JSON header.

        Columns: ``kind`` (0 one-vs-rest, 1 argmax rows), ``class``, ``bin``, ``truth`` (one-vs-rest:
        1 positive, 0 negative; argmax rows: the true class) and ``count``.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = []
        for truth, counts in ((1, self.positive), (0, self.negative)):
            c, b = np.nonzero(counts)
            parts.append((_ONE_VS_REST, c, b, np.full(len(c), truth), counts[c, b]))
        if self.top is not None:
            c, b, j = np.nonzero(self.top)
            parts.append((_TOP, c, b, j, self.top[c, b, j]))
        table = pa.table({
            "kind": pa.array(np.concatenate([np.full(len(p[1]), p[0]) for p in parts]), pa.int8()),
            "class": pa.array(np.concatenate([p[1] for p in parts]), pa.int32()),
            "bin": pa.array(np.concatenate([p[2] for p in parts]), pa.int32()),
            "truth": pa.array(np.concatenate([p[3] for p in parts]), pa.int32()),
            "count": pa.array(np.concatenate([p[4] for p in parts]), pa.int64()),
        })
        table = table.replace_schema_metadata({METADATA_KEY: json.dumps(self.header()).encode()})
        out = io.BytesIO()
        pq.write_table(table, out, compression="zstd")
        return out.getvalue()

    def save(self, path) -> None:
        Path(path).write_bytes(self.to_bytes())


def _check_bins(n_bins) -> None:
    if not isinstance(n_bins, (int, np.integer)) or not 1 <= n_bins <= 1_000_000:
        raise ValueError(f"the number of bins must be a whole number from 1 to 1,000,000, not {n_bins!r}.")


def is_sketch(source) -> bool:
    """True when ``source`` (a path or the file's bytes) is a sketch file (cheap: the footer only)."""
    header = _header(source)
    return header is not None


def _header(source) -> dict | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            if bytes(source[:4]) != b"PAR1":
                return None
            schema = pq.read_schema(pa.BufferReader(bytes(source)))
        else:
            with open(source, "rb") as f:
                if f.read(4) != b"PAR1":
                    return None
            schema = pq.read_schema(str(source))
    except (OSError, pa.ArrowException, ValueError):
        return None
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return {}


def read_sketch(source, *, name: str | None = None) -> Sketch:
    """Read a sketch file (a path or its bytes); DataError when it is not a readable sketch."""
    import hashlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = bytes(source) if isinstance(source, (bytes, bytearray, memoryview)) else Path(source).read_bytes()
    shown = name or (Path(source).name if not isinstance(source, (bytes, bytearray, memoryview)) else "sketch")
    header = _header(raw)
    if header is None:
        raise DataError(f"{shown!r} is not a ThresholdLab sketch file (no sketch header in its Parquet metadata).")
    version = header.get("schema_version")
    if version != SCHEMA_VERSION:
        raise DataError(
            f"{shown!r} is a sketch of schema version {version!r}; this ThresholdLab reads "
            f"version {SCHEMA_VERSION}. Recompute it with this version's `thresholdlab sketch`."
        )
    try:
        n_bins = int(header["grid"]["n_bins"])
        classes = tuple(str(c) for c in header["classes"])
        task = header["task"]
        table = pq.read_table(pa.BufferReader(raw))
        cols = {n: table.column(n).to_numpy() for n in ("kind", "class", "bin", "truth", "count")}
    except (KeyError, TypeError, ValueError, pa.ArrowException) as e:
        raise DataError(f"{shown!r} is a damaged sketch file ({e}); recompute it.") from None
    k, width = len(classes), n_bins + 1
    kind, c, b, t, n = cols["kind"], cols["class"], cols["bin"], cols["truth"], cols["count"]
    bad = (c < 0) | (c >= k) | (b < 0) | (b >= width) | (n < 0)
    bad |= (kind == _TOP) & ((t < 0) | (t >= k))
    if bad.any():
        raise DataError(f"{shown!r} is a damaged sketch file (row {int(np.argmax(bad)) + 1} lies "
                        "outside its classes or grid); recompute it.")
    positive = np.zeros((k, width), dtype=np.int64)
    negative = np.zeros((k, width), dtype=np.int64)
    ovr = kind == _ONE_VS_REST
    pos = ovr & (t == 1)
    neg = ovr & (t == 0)
    np.add.at(positive, (c[pos], b[pos]), n[pos])
    np.add.at(negative, (c[neg], b[neg]), n[neg])
    top = None
    if task == "multiclass":
        top = np.zeros((k, width, k), dtype=np.int64)
        sel = kind == _TOP
        np.add.at(top, (c[sel], b[sel], t[sel]), n[sel])
    return Sketch(
        task=task,
        classes=classes,
        n_bins=n_bins,
        positive=positive,
        negative=negative,
        top=top,
        score_kind=header.get("score_kind", "probability"),
        activation=header.get("activation", "none"),
        file=shown,
        sha256=hashlib.sha256(raw).hexdigest(),
        columns=dict(header.get("columns") or {}),
        label_mapping=dict(header.get("label_mapping") or {}),
        notes=tuple(header.get("notes") or ()),
        warnings=tuple(header.get("warnings") or ()),
        sources=tuple(header.get("sources") or ()),
    )


def open_data(source, *, name: str | None = None, load=None, **overrides):
    """A prediction file or a sketch file, whichever ``source`` is.

    Returns a :class:`Sketch` for a sketch file, else ``load(source, name=..., **overrides)``
    (by default :func:`thresholdlab.loading.load`). Column-role overrides do not apply to a
    sketch (its roles were fixed when it was computed); giving one is an error.
    """
    if is_sketch(source):
        given = [k.replace("_", "-") for k, v in overrides.items() if v]
        if given:
            raise DataError(
                f"{name or Path(str(source)).name!r} is a sketch, whose column roles were fixed "
                f"when it was computed: --{', --'.join(given)} cannot change them."
            )
        return read_sketch(source, name=name)
    if load is None:
        from thresholdlab.loading import load
    kwargs = {"name": name} if name is not None else {}
    return load(source, **kwargs, **overrides)


# The index, metrics and optimum of a sketch live in their own module; their names are reachable
# from here too, as ``thresholdlab.sketch.SketchIndex``.
from thresholdlab.sketch_index import (  # noqa: E402, F401
    SketchIndex, evaluate, optimise, ranking_metrics,
)


# ---------------------------------------------------------------------- either kind of data
def is_binned(data) -> bool:
    """True for a :class:`Sketch` or :class:`SketchIndex`, False for rows in memory."""
    return bool(getattr(data, "binned", False))


def build_index(data, rule: DecisionRule | None = None):
    """A :class:`SketchIndex` for a sketch, a :class:`~thresholdlab.curves.CurveIndex` for rows."""
    if is_binned(data):
        return SketchIndex.build(data, rule)
    from thresholdlab.curves import CurveIndex

    return CurveIndex.build(data, rule)


def evaluate_index(index, thresholds, **kwargs):
    """:func:`thresholdlab.metrics.evaluate` for rows, :func:`evaluate` for a sketch."""
    if is_binned(index):
        kwargs.pop("sample_based_metrics", None)
        return evaluate(index, thresholds, **kwargs)
    from thresholdlab.metrics import evaluate as evaluate_rows

    return evaluate_rows(index, thresholds, **kwargs)


def optimise_index(index, objective, *, mode: str = "per_class"):
    """:func:`thresholdlab.optimise.optimise` for rows, :func:`optimise` for a sketch."""
    if is_binned(index):
        return optimise(index, objective, mode=mode)
    from thresholdlab.optimise import optimise as optimise_rows

    return optimise_rows(index, objective, mode=mode)
