"""Command-line parts of held-out evaluation: ``evaluate --bootstrap N``,
``optimize --holdout FILE | --split SHARE --seed S [--spread N]`` and ``compare FILE FILE...``.

``cli.py`` registers these options; its one ``optimize`` calls the steps here
(:func:`held_out_step`, :func:`spread_step`, :func:`groups_step`) when they are asked for, so
that commands run without them exactly as before.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from thresholdlab.cli_common import format_report, load_from_args
from thresholdlab.evaluation import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    DEFAULT_SPREAD_RESAMPLES,
    bootstrap_intervals,
    compare,
    matching_classes,
    optimum_spread,
    stratified_split,
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text}")
    return value


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.3, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"the share must lie strictly between 0 and 1, got {text}")
    return value


def add_arguments(sub, optimize, evaluate, common) -> None:
    """Add the held-out options to ``optimize`` and ``evaluate`` and the ``compare`` command."""
    group = optimize.add_argument_group("held-out evaluation")
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--holdout", metavar="FILE",
        help="evaluation data: thresholds chosen on the main file are reported on FILE",
    )
    where.add_argument(
        "--split", type=_share, metavar="SHARE",
        help="hold out SHARE of the rows (stratified by class) for evaluation",
    )
    group.add_argument("--seed", type=int, default=DEFAULT_SEED,
                       help=f"seed of the split and of every bootstrap (default {DEFAULT_SEED})")
    group.add_argument(
        "--bootstrap", type=_positive_int, default=DEFAULT_RESAMPLES, metavar="N",
        help=f"bootstrap resamples for intervals on the evaluation data (default {DEFAULT_RESAMPLES})",
    )
    group.add_argument(
        "--spread", type=_positive_int, metavar="N",
        help="re-optimise on N bootstrap resamples of the tuning rows and report the band of "
             f"chosen thresholds (e.g. {DEFAULT_SPREAD_RESAMPLES})",
    )

    slices_group = optimize.add_argument_group("per-slice thresholds (binary, multi-label)")
    slices_group.add_argument(
        "--groups", metavar="COLUMN",
        help="also choose thresholds per value of the extra column COLUMN, stored in the "
             "config's groups section (apply then decides each row with its slice's thresholds)",
    )
    slices_group.add_argument(
        "--group-objective", default="equal_recall", metavar="OBJ",
        help="equal_recall (every slice gets the recall the chosen thresholds give overall; the "
             "default) or an objective such as f1, optimised on each slice",
    )

    evaluate.add_argument(
        "--bootstrap", type=_positive_int, metavar="N",
        help="add bootstrap 95%% intervals from N resamples beside the Wilson intervals",
    )
    evaluate.add_argument("--seed", type=int, default=DEFAULT_SEED,
                          help=f"seed of the bootstrap (default {DEFAULT_SEED})")

    cmp = sub.add_parser(
        "compare", parents=common,
        help="compare two or more prediction files over the same classes",
    )
    cmp.add_argument("files", nargs="+", metavar="FILE")
    cmp.add_argument("--objective", default="f1", metavar="OBJ",
                     help="each model's thresholds optimise this (default f1)")
    cmp.add_argument("--bootstrap", type=_positive_int, default=DEFAULT_RESAMPLES, metavar="N",
                     help=f"resamples for the macro-F1 difference (default {DEFAULT_RESAMPLES})")
    cmp.add_argument("--seed", type=int, default=DEFAULT_SEED)
    cmp.add_argument("--json", action="store_true", help="print the comparison as JSON")
    cmp.set_defaults(func=cmd_compare)


def _interval(pair) -> str:
    if pair is None or not np.isfinite(pair).all():
        return "-"
    return f"[{pair[0]:.4f}, {pair[1]:.4f}]"


def held_out_parts(args: argparse.Namespace, predictions):
    """(tuning data, evaluation data or None, what the config records of the split or None)
    for ``optimize --holdout FILE`` or ``--split SHARE``; the whole file and None otherwise."""
    if args.holdout:
        evaluation = matching_classes(predictions, load_from_args(argparse.Namespace(
            **{**vars(args), "file": args.holdout})))
        return predictions, evaluation, {"holdout_file": evaluation.file,
                                         "holdout_rows": evaluation.n_rows}
    if args.split is not None:
        split = stratified_split(predictions, args.split, args.seed)
        return split.tuning, split.evaluation, {
            "share": split.share, "seed": split.seed, "tuning_rows": len(split.tuning_rows),
            "evaluation_rows": len(split.evaluation_rows)}
    return predictions, None, None


def held_out_step(args: argparse.Namespace, index, evaluation, best, split_info):
    """The report on the evaluation rows of thresholds ``best`` chosen on ``index``, the
    ``held_out`` entry of the config's metrics, and the lines to print."""
    from thresholdlab.evaluation import held_out_at

    result = held_out_at(index, evaluation, best, n_resamples=args.bootstrap, seed=args.seed)
    tuning = index.predictions
    lines = [
        f"Chosen on {tuning.n_rows:,} tuning rows, reported above on {evaluation.n_rows:,} "
        + (f"rows of {evaluation.file}." if args.holdout else
           f"held-out rows (share {args.split:g}, seed {args.seed}, stratified by class)."),
        format_held_out(result),
    ]
    return result.evaluation, {**result.to_dict(), **split_info}, lines


def spread_step(args: argparse.Namespace, index, objective, best):
    """``--spread N``: the ``optimum_spread`` entry of the config's metrics and its table."""
    if best.mode == "global":
        raise ValueError("--spread re-optimises each class on its own; leave out --global.")
    spread = optimum_spread(index, objective, n_resamples=args.spread, seed=args.seed,
                            optimum=best)
    classes = index.predictions.classes
    return spread.to_dict(classes), format_spread(spread, classes)


def format_held_out(result) -> str:
    classes = result.tuning.classes
    width = max(8, *(len(c) for c in classes))
    ci = result.intervals.per_class["f1"]
    lines = [f"{'class':<{width}}  threshold  F1 tuning  F1 held-out  drop     held-out F1 95% bootstrap"]
    for i, name in enumerate(classes):
        lines.append(
            f"{name:<{width}}  {result.optimum.thresholds[i]:<9.4g}  "
            f"{result.tuning.per_class.f1[i]:<9.4f}  {result.evaluation.per_class.f1[i]:<11.4f}  "
            f"{result.drop['f1'][i]:<+7.4f}  {_interval(ci[i])}"
        )
    macro = result.intervals.aggregate.get("macro_f1")
    lines.append(
        f"{'macro':<{width}}  {'':<9}  {result.tuning.aggregates.macro['f1']:<9.4f}  "
        f"{result.evaluation.aggregates.macro['f1']:<11.4f}  {result.macro_drop['f1']:<+7.4f}  "
        f"{_interval(macro)}"
    )
    lines.append(f"Bootstrap: {result.intervals.method}")
    return "\n".join(lines)


def format_spread(spread, classes) -> str:
    width = max(8, *(len(c) for c in classes))
    lines = [f"{'class':<{width}}  threshold  optimum 95% band over {spread.n_resamples} resamples  width"]
    for i, name in enumerate(classes):
        binned = "" if spread.exact[i] else "  (binned)"
        lines.append(
            f"{name:<{width}}  {spread.optimum.thresholds[i]:<9.4g}  "
            f"{_interval(spread.band[i]):<38}  {spread.width[i]:.4f}{binned}"
        )
    return "\n".join(lines)


def print_with_bootstrap(args: argparse.Namespace, report) -> int:
    """``evaluate --bootstrap N``: the report plus bootstrap intervals beside Wilson's."""
    intervals = bootstrap_intervals(report.counts, report.task, n_resamples=args.bootstrap, seed=args.seed)
    if args.json:
        out = report.to_dict()
        out["bootstrap"] = intervals.to_dict(report.classes)
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(format_report(report))
    print(format_intervals(report, intervals))
    return 0


def format_intervals(report, intervals) -> str:
    classes = report.classes
    width = max(8, *(len(c) for c in classes))
    m = report.per_class
    lines = [f"{'class':<{width}}  metric     value   bootstrap 95%       Wilson 95%"]
    for i, name in enumerate(classes):
        for metric, wilson in (("precision", m.precision_ci[i]), ("recall", m.recall_ci[i]),
                               ("f1", None)):
            lines.append(
                f"{name:<{width}}  {metric:<9}  {getattr(m, metric)[i]:.4f}  "
                f"{_interval(intervals.per_class[metric][i]):<18}  {_interval(wilson)}"
            )
    for metric, pair in intervals.aggregate.items():
        lines.append(f"{metric:<{width + 11}}  {'':<6}  {_interval(pair)}")
    lines.append(f"Bootstrap: {intervals.method}")
    return "\n".join(lines)


def cmd_compare(args: argparse.Namespace) -> int:
    if len(args.files) < 2:
        raise ValueError("compare needs two or more prediction files.")
    sets = [load_from_args(argparse.Namespace(**{**vars(args), "file": f})) for f in args.files]
    from pathlib import Path

    result = compare(sets, objective=args.objective, n_resamples=args.bootstrap, seed=args.seed,
                     names=[Path(f).name for f in args.files])
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_comparison(result))
    return 0


def format_comparison(result) -> str:
    models = result.models
    classes = models[0].predictions.classes
    width = max(8, *(len(c) for c in classes))
    col = max(12, *(len(m.name) for m in models))
    lines = [f"F1 at each model's own {result.objective} thresholds"]
    lines.append(f"{'class':<{width}}  " + "  ".join(f"{m.name:<{col}}" for m in models))
    for i, name in enumerate(classes):
        lines.append(f"{name:<{width}}  " + "  ".join(
            f"{m.report.per_class.f1[i]:<{col}.4f}" for m in models))
    lines.append(f"{'macro':<{width}}  " + "  ".join(
        f"{m.report.aggregates.macro['f1']:<{col}.4f}" for m in models))
    for m, d in zip(models[1:], result.differences):
        lines.append(
            f"macro-F1 {models[0].name} - {m.name}: {d.observed:+.4f}, 95% bootstrap "
            f"{_interval(d.interval)} over {d.n_resamples} resamples (seed {d.seed}); "
            f"{models[0].name} higher in {d.share_better:.1%} of them. {d.note}"
        )
    return "\n".join(lines)


def _slice_values(path, predictions, column: str):
    from thresholdlab.slices import slice_columns

    return slice_columns(path, predictions, max_levels=None, only=[column])[column]


def groups_step(args: argparse.Namespace, predictions, tuned, thresholds, recall, rule):
    """``--groups COLUMN``: the config's ``groups`` section (thresholds per slice value, on the
    scores the thresholds apply to, ``tuned``; ``recall`` is each class's recall there at
    ``thresholds``, the target of equal_recall) and a summary table per slice."""
    from thresholdlab.groups import make_groups
    from thresholdlab.slices import equal_recall, per_slice_thresholds, slice_indices, slice_metrics

    values = _slice_values(args.file, predictions, args.groups)
    indices = slice_indices(tuned, values, rule)  # once, for the thresholds and the table
    if args.group_objective == "equal_recall":
        table, _ = equal_recall(tuned, values, thresholds, rule, target=recall,
                                indices=indices)
    else:
        table = per_slice_thresholds(tuned, values, args.group_objective, rule, indices=indices)
    groups = make_groups(args.groups, table, tuned.classes, objective=args.group_objective)
    report = slice_metrics(tuned, values, thresholds, rule, column=args.groups,
                           group_thresholds=table, indices=indices)
    return groups, format_slices(report, tuned.classes)


def format_slices(report, classes) -> str:
    width = max(8, *(len(v) for v in report.values), len(report.column))
    lines = [f"{report.column:<{width}}  rows      macro F1  " + "  ".join(
        f"recall {c:<6}" for c in classes[:8])]
    for s, value in enumerate(report.values):
        r = report.reports[s]
        mark = "  <- worst" if s == report.worst else ""
        lines.append(f"{value:<{width}}  {report.rows[s]:<8}  {r.aggregates.macro['f1']:<8.4f}  "
                     + "  ".join(f"{r.per_class.recall[c]:<13.4f}" for c in range(min(8, len(classes))))
                     + mark)
    return "\n".join(lines)


def group_decisions(args, predictions, config):
    """``apply`` for a config with groups: each row decided with its slice's thresholds."""
    from thresholdlab.groups import decide_with_groups

    values = _slice_values(args.file, predictions, config.groups["column"])
    return decide_with_groups(config, predictions.probabilities, values, predictions.classes)


def grouped_report(args, index, config):
    """``evaluate`` for a config with groups: each row decided with its slice's thresholds."""
    from thresholdlab.slices import grouped_report as report_of

    values = _slice_values(args.file, index.predictions, config.groups["column"])
    return report_of(index, config, values)
