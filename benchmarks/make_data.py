"""Write large synthetic prediction files in the documented input format, for benchmarks and demos.

    python -m benchmarks.make_data --task multilabel --rows 1000000 --classes 50 \\
        --format parquet -o ml.parquet

Layout (every column role is the one loading detects on its own):
- multiclass: ``id``, ``label`` (class ids 0..K-1, or names with ``--text-labels``), ``p_<class>``
- multilabel: ``id``, ``y_<class>`` (0/1) and ``p_<class>`` per class
- binary: ``id``, ``label`` (0/1), ``p_positive``

Scores are float32, as models emit them (``--dtype float64`` for doubles); ``--logits`` writes
``logit_`` columns instead of probabilities. Multi-label prevalences run from 30% down to 0.3%
across the labels (sparse, imbalanced, as the user describes). Parquet keeps the float32 type;
CSV holds each float32 as its shortest round-trip decimal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

from thresholdlab.synthetic import synthetic_scores

FORMATS = ("csv", "parquet")


def class_names(k: int) -> list[str]:
    width = len(str(max(k - 1, 0)))
    return [f"c{i:0{width}d}" for i in range(k)]


def multilabel_prevalence(k: int) -> np.ndarray:
    """Per-label prevalence, 30% for the first label down to 0.3% for the last."""
    return np.geomspace(0.3, 0.003, k) if k > 1 else np.array([0.3])


def prediction_arrays(task: str, rows: int, classes: int, *, seed: int = 0,
                      dtype=np.float32, logits: bool = False):
    """(scores (n, K), labels) of ``task`` as the benchmarks use them in memory."""
    prevalence = multilabel_prevalence(classes) if task == "multilabel" else 0.3
    return synthetic_scores(task, rows, classes, seed=seed, logits=logits,
                            prevalence=prevalence, dtype=dtype)


def prediction_table(task: str, rows: int, classes: int, *, seed: int = 0, dtype=np.float32,
                     logits: bool = False, text_labels: bool = False) -> pa.Table:
    """The documented input layout of :func:`prediction_arrays` as an Arrow table."""
    scores, labels = prediction_arrays(task, rows, classes, seed=seed, dtype=dtype, logits=logits)
    k = scores.shape[1]
    names = ["positive"] if task == "binary" else class_names(k)
    prefix = "logit_" if logits else "p_"
    columns: dict[str, pa.Array] = {"id": pa.array(np.arange(rows, dtype=np.int64))}
    if task == "multiclass":
        if text_labels:
            columns["label"] = pa.DictionaryArray.from_arrays(
                pa.array(labels.astype(np.int32)), pa.array(names)
            ).cast(pa.string())
        else:
            columns["label"] = pa.array(labels.astype(np.int32))
    elif task == "binary":
        columns["label"] = pa.array(labels[:, 0].astype(np.int8))
    else:
        for c, name in enumerate(names):
            columns[f"y_{name}"] = pa.array(labels[:, c].astype(np.int8))
    for c, name in enumerate(names):
        columns[f"{prefix}{name}"] = pa.array(np.ascontiguousarray(scores[:, c]))
    return pa.table(columns)


def write(table: pa.Table, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``table`` as CSV or Parquet (from ``fmt`` or the file's extension)."""
    path = Path(path)
    fmt = fmt or ("parquet" if path.suffix in (".parquet", ".pq") else "csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    elif fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return path


def make_file(path: str | Path, task: str, rows: int, classes: int, *, fmt: str | None = None,
              seed: int = 0, dtype=np.float32, logits: bool = False,
              text_labels: bool = False) -> Path:
    table = prediction_table(task, rows, classes, seed=seed, dtype=dtype, logits=logits,
                             text_labels=text_labels)
    return write(table, path, fmt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.make_data",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=("binary", "multiclass", "multilabel"), required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=20, help="ignored for binary")
    parser.add_argument("--format", choices=FORMATS, help="default: from the extension of -o")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--logits", action="store_true", help="write logits, not probabilities")
    parser.add_argument("--text-labels", action="store_true",
                        help="multi-class labels as class names instead of ids")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args(argv)
    path = make_file(args.output, args.task, args.rows, args.classes, fmt=args.format,
                     seed=args.seed, dtype=np.dtype(args.dtype).type, logits=args.logits,
                     text_labels=args.text_labels)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
