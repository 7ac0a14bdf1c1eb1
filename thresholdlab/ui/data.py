"""Cached access to the core: load once per file content, index once per decision rule.

Every cache is keyed by plain strings (the file's key, ``Source.sha256``: the digest of an
upload's bytes, or of a file's path, size and change time; the override options, the rule); the
big objects ride along in ``_``-prefixed parameters so Streamlit never hashes them (its hashing
samples large arrays, so two different files of one shape could collide). ``st.cache_resource``
hands every session the same read-only object: never mutate what these functions return.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import streamlit as st

from thresholdlab.calibration import Reliability, class_reliability, confidence_reliability
from thresholdlab.curves import Curve, CurveIndex, downsample
from thresholdlab.decisions import DecisionRule
from thresholdlab.metrics import Report, RankingMetrics, binary_curve
from thresholdlab.predictions import PredictionSet
from thresholdlab.ui.ranking_job import RankingJob
from thresholdlab.sketch import (
    build_index,
    evaluate_index,
    is_binned,
    open_data,
    ranking_metrics as sketch_ranking_metrics,
)

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
DEFAULT_SAMPLE = "multiclass_wine_logits"
PRELOAD_ENV = "THRESHOLDLAB_FILE"  # set by `thresholdlab app FILE`: the file to open first
OVERRIDES_ENV = "THRESHOLDLAB_OVERRIDES"  # and its detection overrides, as JSON
MAX_PLOT_POINTS = 2000
SMALL_MULTIPLE_POINTS = 300
# Subset accuracy and samples-F1 (multi-label) look at every row; above this many score cells
# they are left out so a slider move stays O(K log n).
SAMPLE_BASED_LIMIT = 5_000_000

_FRIENDLY = {
    "multiclass_wine_logits": "Wine cultivars: 3 classes, softmax logits",
    "binary_breast_cancer": "Breast cancer: binary, probabilities",
    "multilabel_digits_10": "Digit properties: 10 labels, probabilities",
    "multilabel_sparse_30_logits": "Digit styles: 30 sparse labels, logits",
}


def samples() -> dict[str, str]:
    """Bundled sample files: file stem -> friendly name, the default first."""
    stems = sorted(p.stem for p in SAMPLE_DIR.glob("*.csv"))
    stems.sort(key=lambda s: (s != DEFAULT_SAMPLE, s not in _FRIENDLY, s))
    return {s: _FRIENDLY.get(s, s.replace("_", " ").capitalize()) for s in stems}


def sample_bytes(stem: str) -> bytes:
    return (SAMPLE_DIR / f"{stem}.csv").read_bytes()


@dataclass(frozen=True)
class Overrides:
    """The user's corrections to automatic detection; None / () mean "detect"."""

    task: str | None = None
    score_kind: str | None = None
    label_col: str | None = None
    label_cols: tuple[str, ...] = ()
    score_cols: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> "Overrides":
        """The overrides ``thresholdlab app FILE`` was given (none when unset or unreadable)."""
        try:
            given = json.loads(os.environ.get(OVERRIDES_ENV) or "{}")
        except ValueError:
            return cls()
        return cls(
            task=given.get("task"),
            score_kind=given.get("score_kind"),
            label_col=given.get("label_col"),
            label_cols=tuple(given.get("label_cols") or ()),
            score_cols=tuple(given.get("score_cols") or ()),
        )

    @property
    def key(self) -> str:
        """Plain-string cache key."""
        return json.dumps(
            [self.task, self.score_kind, self.label_col, list(self.label_cols),
             list(self.score_cols)]
        )

    def load_kwargs(self) -> dict:
        return {
            "task": self.task,
            "score_kind": self.score_kind,
            "label_col": self.label_col,
            "label_cols": list(self.label_cols) or None,
            "score_cols": list(self.score_cols) or None,
        }

    @property
    def any(self) -> bool:
        return self != Overrides()


@dataclass(frozen=True)
class Source:
    """Where the data came from: a bundled sample or an upload. ``raw`` holds the file's bytes;
    None for an upload the server's store keeps (``ui/uploads.py``)."""

    kind: str  # "sample" | "upload" | "file" (given to `thresholdlab app FILE`)
    name: str  # sample stem, or the file's name
    sha256: str
    raw: bytes | None = field(repr=False, compare=False, default=None)
    path: Path | None = field(repr=False, compare=False, default=None)  # a "file" on disk

    @classmethod
    def sample(cls, stem: str) -> "Source":
        raw = sample_bytes(stem)
        return cls("sample", stem, hashlib.sha256(raw).hexdigest(), raw)

    @classmethod
    def upload(cls, name: str, raw: bytes) -> "Source":
        return cls("upload", name, hashlib.sha256(raw).hexdigest(), raw)

    @classmethod
    def file(cls, path: str | Path) -> "Source":
        """A file on the server's disk (``thresholdlab app FILE``); OSError when unreadable.

        Its identity (``sha256``, the caches' key) is a digest of its path, size and change
        time, not of its content: hashing a file of gigabytes before each cache lookup would
        hold up its first view by seconds. Its content is hashed when a config or a comparison
        first asks for it (``PredictionSet.sha256``, what configs record). The file is read by
        the loader itself, straight from disk, never held as bytes."""
        path = Path(path).resolve()
        with path.open("rb"):  # unreadable: OSError now, in the sidebar's words
            stat = path.stat()
        identity = f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode()
        return cls("file", path.name, hashlib.sha256(identity).hexdigest(), path=path)

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv" if self.kind == "sample" else self.name


@dataclass(frozen=True, eq=False)
class Dataset:
    """Everything the pages need about the loaded data under the chosen decision rule."""

    source: Source
    overrides: Overrides
    rule: DecisionRule
    predictions: PredictionSet
    index: CurveIndex
    ranking: RankingMetrics
    # With calibrated scores in use (see ``ui.calibrated``): the fitted calibration, and the
    # same data set before it. ``predictions`` are then the calibrated probabilities.
    calibration: object = None
    uncalibrated: "Dataset | None" = None
    # While the whole-data ranking still runs (big files): ``ranking`` holds the classes
    # ranked so far, this job the rest (see ``ranking_job``; ``with_ranking`` swaps it in).
    ranking_job: object = None

    @property
    def key(self) -> str:
        """Plain-string identity for caches of derived results."""
        return "|".join(
            (self.source.sha256, self.overrides.key, self.rule.rule, self.rule.no_prediction)
        ) + self._calibration_key

    @property
    def data_key(self) -> str:
        """Identity of the scores, whatever the decision rule."""
        return f"{self.source.sha256}|{self.overrides.key}" + self._calibration_key

    @property
    def _calibration_key(self) -> str:
        return "" if self.calibration is None else f"|calibrated:{self.calibration.method}"

    @property
    def classes(self) -> tuple[str, ...]:
        return self.predictions.classes

    @property
    def task(self) -> str:
        return self.predictions.task

    @property
    def stem(self) -> str:
        return Path(self.source.file_name).stem

    @property
    def binned(self) -> bool:
        """True when the data is a sketch (counts per bin), not rows."""
        return is_binned(self.predictions)


def table_columns(source: Source) -> list[str] | None:
    """The column names of a CSV, TSV or Parquet file, read as loading reads it; None when it
    is not a table or cannot be parsed (then there is nothing to map)."""
    from thresholdlab import loading

    try:
        data = source.raw if source.raw is not None else source.path
        size = len(data) if isinstance(data, bytes) else Path(data).stat().st_size
        file = loading.read_source(data, source.file_name, size + 1)
        fmt = loading.file_format(file.file)
        if fmt not in ("csv", "tsv", "parquet"):
            return None
        frame, _ = loading.read_table(file.unpacked(loading.DEFAULT_MAX_BYTES).in_memory(), fmt)
        frame, _ = loading.spread_vectors(frame, file.file, frame.attrs.pop(loading.VECTORS, None))
    except Exception:  # noqa: BLE001 - a broken file keeps its own error sentence
        return None
    return [str(c) for c in frame.columns]


# --------------------------------------------------------------------------- cached core calls
@st.cache_resource(max_entries=8, show_spinner=False)
def _load(sha256: str, name: str, overrides_key: str, _raw, _overrides: Overrides,
          limits_key: str = "", _limits=None):
    from functools import partial

    from thresholdlab.loading import load

    raw = _Lazy.of(_raw)
    # An upload's or sample's key is the sha256 of its bytes, so the loader need not hash them
    # again; a file on disk is keyed by its path, size and change time, and hashed when a
    # config or a comparison first asks for its digest.
    digest = None if isinstance(_raw, (str, Path)) else sha256
    # A sketch file opens like a prediction file (as a Sketch, which describes itself alike).
    return open_data(raw, name=name, load=partial(load, limits=_limits, sha256=digest),
                     **_overrides.load_kwargs())


@st.cache_resource(max_entries=16, show_spinner=False)
def _index(data_key: str, rule: str, no_prediction: str, _predictions: PredictionSet):
    rule_ = DecisionRule.default(_predictions.task, rule, no_prediction)
    return build_index(_predictions, rule_)


def index_under(dataset: Dataset, rule: DecisionRule):
    """``dataset``'s scores indexed under ``rule`` (cached: the same index the data set gets
    when that rule is chosen)."""
    if rule == dataset.rule:
        return dataset.index
    return _index(dataset.data_key, rule.rule, rule.no_prediction, dataset.predictions)


@st.cache_resource(max_entries=16, show_spinner=False)
def _ranking_job(data_key: str, rule: str, no_prediction: str, _index: CurveIndex) -> RankingJob:
    if is_binned(_index):
        return RankingJob(None, finished=sketch_ranking_metrics(_index))
    return RankingJob(_index)


def _ranking(data_key: str, rule: str, no_prediction: str, _index: CurveIndex):
    """The whole-data ranking, waiting for it (one job per data and rule, shared)."""
    return _ranking_job(data_key, rule, no_prediction, _index).result()


# Scores (rows x classes) a first view ranks before it shows anything (a fraction of a
# second); bigger files show the page first and are ranked in the background.
RANK_AT_ONCE = 2_000_000


def with_ranking(dataset: Dataset, *, wait: bool = False) -> Dataset:
    """``dataset`` with its finished whole-data ranking, if it was still running and is done
    now (or ``wait``: once it is); else ``dataset`` itself."""
    job = dataset.ranking_job
    if job is None or not (wait or job.done()):
        return dataset
    return replace(dataset, ranking=job.result(), ranking_job=None)


def load_predictions(source: Source, overrides: Overrides) -> PredictionSet:
    """The PredictionSet of ``source`` (cached by content); raises DataError.

    The server's ceilings on rows, columns and classes (environment variables, see
    :data:`thresholdlab.loading.limits.ENV`) are read on every call, so a file past one is
    refused with its sentence, and a changed setting is never answered from the cache.
    """
    from thresholdlab.loading import Limits

    limits = Limits.from_env()
    return _load(source.sha256, source.file_name, overrides.key, lazy_bytes(source), overrides,
                 "" if limits is None else limits.key, limits)


def lazy_bytes(source: Source) -> "bytes | _Lazy":
    """``source``'s bytes for a cached function's unhashed argument: a loaded upload's bytes live
    in the server's store, not in the session (ui/uploads.py), and are fetched only on a cache
    miss (:meth:`_Lazy.of`)."""
    from thresholdlab.ui import uploads

    if source.path is not None:
        return source.path  # the loader reads a file on disk itself
    return source.raw if source.raw is not None else _Lazy(lambda: uploads.file_bytes(source))


class _Lazy:
    """Bytes fetched on first use (a cache hit never needs them)."""

    def __init__(self, fetch):
        self.fetch = fetch

    @staticmethod
    def of(raw) -> bytes:
        """The bytes themselves, fetching them if ``raw`` is a promise."""
        return raw.fetch() if isinstance(raw, _Lazy) else raw


def open_dataset(
    source: Source, overrides: Overrides, rule: DecisionRule, progress=None
) -> Dataset:
    """Load (cached), index (cached) and rank (cached, in the background) ``source``.

    The whole-data ranking (AP, ROC AUC) of a big file is not waited for: the data set then
    carries the classes ranked so far and the running job (:func:`with_ranking`).

    ``progress``: an optional ``st.status`` container that gets one line per step, so a big
    file shows "rows read", "index built" instead of a frozen page.
    """
    started = time.perf_counter()
    predictions = load_predictions(source, overrides)
    if progress is not None:
        progress.write(
            f"{predictions.n_rows:,} rows read, "
            + (f"positive class {predictions.classes[0]} " if predictions.task == "binary" else
               f"{predictions.n_classes} {'class' if predictions.n_classes == 1 else 'classes'} ")
            + f"({time.perf_counter() - started:.2f} s)"
        )
    data_key = f"{source.sha256}|{overrides.key}"
    started = time.perf_counter()
    index = _index(data_key, rule.rule, rule.no_prediction, predictions)
    if progress is not None:
        progress.write(f"Index built ({time.perf_counter() - started:.2f} s)")
    job = _ranking_job(data_key, rule.rule, rule.no_prediction, index)
    if predictions.n_rows * predictions.n_classes <= RANK_AT_ONCE:
        return Dataset(source, overrides, rule, predictions, index, job.result())
    if progress is not None:
        progress.write("Average precision and ROC AUC: ranking every class in the background")
    return Dataset(source, overrides, rule, predictions, index, job.provisional(),
                   ranking_job=job)


# --------------------------------------------------------------------- queries at thresholds
def report(dataset: Dataset, thresholds: np.ndarray, beta: float = 1.0) -> Report:
    """Every metric at ``thresholds``: O(K log n) for per-class rules, rows untouched
    (multi-label subset accuracy and samples-F1 excepted, and only for data that is small)."""
    p = dataset.predictions
    return evaluate_index(
        dataset.index,
        thresholds,
        beta=beta,
        ranking=dataset.ranking,
        sample_based_metrics=p.n_rows * p.n_classes <= SAMPLE_BASED_LIMIT,
    )


@st.cache_resource(max_entries=512, show_spinner=False)
def _plot_curve(data_key: str, c: int, max_points: int, _index: CurveIndex) -> Curve:
    return downsample(_index.curve(c), max_points)


def plot_curve(dataset: Dataset, c: int, max_points: int = MAX_PLOT_POINTS) -> Curve:
    """Class ``c``'s reachable curve (what moving t_c traces), at most ``max_points`` points."""
    return _plot_curve(dataset.key, c, max_points, dataset.index)


@st.cache_resource(max_entries=512, show_spinner=False)
def _one_vs_rest_curve(data_key: str, c: int, _predictions: PredictionSet) -> Curve:
    return downsample(full_one_vs_rest_curve(_predictions, c), MAX_PLOT_POINTS)


def full_one_vs_rest_curve(predictions: PredictionSet, c: int) -> Curve:
    """Multi-class class ``c``'s curve over every row, every distinct score (not cached: one sort
    of the class's column; callers cache what they draw from it)."""
    thresholds, tp, fp = binary_curve(predictions.labels == c, predictions.probabilities[:, c])
    positives = int(predictions.positives[c])
    return Curve(thresholds, tp, fp, positives, predictions.n_rows - positives)


def one_vs_rest_curve(dataset: Dataset, c: int) -> Curve | None:
    """Multi-class only: class ``c``'s curve over every row (the one AP and ROC AUC rank),
    which under ``argmax`` differs from the reachable one. None for other tasks."""
    if dataset.task != "multiclass":
        return None
    if dataset.binned:
        return _plot_one_vs_rest(dataset.key, c, dataset.index)
    return _one_vs_rest_curve(dataset.data_key, c, dataset.predictions)


@st.cache_resource(max_entries=512, show_spinner=False)
def _plot_one_vs_rest(data_key: str, c: int, _index) -> Curve:
    return downsample(_index.one_vs_rest_curve(c), MAX_PLOT_POINTS)


@dataclass(frozen=True)
class ThresholdSeries:
    """Precision, recall and F1 of one class at each plotted threshold (float32, for plotly)."""

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray


def threshold_series(curve: Curve) -> ThresholdSeries:
    """Rates along a (down-sampled) curve, as float32 for the chart."""
    as32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    return ThresholdSeries(
        as32(curve.thresholds), as32(curve.precision), as32(curve.recall), as32(curve.f1)
    )


# --------------------------------------------------------------------------------- calibration
@st.cache_resource(max_entries=64, show_spinner=False)
def _reliabilities(data_key: str, n_bins: int, strategy: str, _predictions: PredictionSet):
    per_class = tuple(
        class_reliability(_predictions, c, n_bins=n_bins, strategy=strategy)
        for c in range(_predictions.n_classes)
    )
    top = (
        confidence_reliability(_predictions, n_bins=n_bins, strategy=strategy)
        if _predictions.task == "multiclass"
        else None
    )
    return per_class, top


def reliabilities(
    dataset: Dataset, n_bins: int, strategy: str
) -> tuple[tuple[Reliability, ...], Reliability | None]:
    """Per-class reliability diagrams, and the multi-class top-label one (None otherwise)."""
    return _reliabilities(dataset.data_key, n_bins, strategy, dataset.predictions)


def clear_caches() -> None:
    """Drop every cached load, index and curve (tests use it between apps)."""
    for fn in (_load, _index, _ranking_job, _plot_curve, _one_vs_rest_curve, _reliabilities,
               _plot_one_vs_rest):
        fn.clear()
