"""What every command of the command line shares: the program's name, warnings on stderr,
loading FILE with the role overrides, and the metrics table (used by :mod:`thresholdlab.cli`,
:mod:`thresholdlab.cli_trust` and :mod:`thresholdlab.evaluation_cli`, which import this module
and never each other's)."""

from __future__ import annotations

import argparse
import sys
from functools import partial

from thresholdlab.loading import Limits, load
from thresholdlab.predictions import DataError, PredictionSet
from thresholdlab.sketch import open_data

PROG = "thresholdlab"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {_one_line(message)}", file=sys.stderr)


def overrides(args: argparse.Namespace) -> dict:
    """The column-role overrides given on the command line, as keyword arguments of ``load``."""
    return {
        "label_col": args.label_col,
        "label_cols": args.label_cols,
        "score_cols": args.score_cols,
        "task": args.task,
        "score_kind": args.score_kind,
    }


def load_from_args(args: argparse.Namespace) -> PredictionSet:
    """Load ``args.file`` with the overrides given on the command line (a sketch file opens as
    a :class:`~thresholdlab.sketch.Sketch`, which the commands use like a PredictionSet)."""
    # Ceilings on rows, columns and classes come from the environment (loading.limits.ENV).
    limited = partial(load, limits=Limits.from_env())
    return open_data(args.file, load=partial(_if_it_fits, limited), **overrides(args))


def _if_it_fits(load_file, source, **kwargs) -> PredictionSet:
    """``load_file(source, ...)`` unless the file is too large for exact mode here: then one
    sentence naming the sketch command, before the file is read (a sketch opens instead)."""
    from thresholdlab.memory_fit import too_large_sentence

    too_large = too_large_sentence(source, kwargs.get("name"))
    if too_large is not None:
        raise DataError(too_large)
    return load_file(source, **kwargs)


def format_report(report) -> str:
    """Per-class metrics and aggregates as an aligned table."""
    d = report.to_dict()

    def num(x):
        return "-" if x is None else f"{x:.4f}"

    width = max(8, *(len(c) for c in d["classes"]))
    head = f"{'class':<{width}}  threshold  precision  recall     f1         support  AP      ROC AUC"
    lines = [head]
    for name, m in d["per_class"].items():
        lines.append(
            f"{name:<{width}}  {m['threshold']:<9.4g}  {num(m['precision']):<9}  "
            f"{num(m['recall']):<9}  {num(m['f1']):<9}  {m['support']:<7}  "
            f"{num(m['average_precision']):<6}  {num(m['roc_auc'])}"
        )
    for avg in ("macro", "micro", "weighted"):
        a = d[avg]
        lines.append(
            f"{avg:<{width}}  {'':<9}  {num(a['precision']):<9}  {num(a['recall']):<9}  "
            f"{num(a['f1'])}"
        )
    extras = [
        (key, d.get(key))
        for key in ("accuracy", "accuracy_covered", "coverage", "hamming_loss", "samples_f1")
    ]
    lines.append("  ".join(f"{key} {num(value)}" for key, value in extras if value is not None))
    lines += [f"warning: {w}" for w in d["warnings"]]
    return "\n".join(lines)
