"""The command line's calibration and cost parts: ``calibrate``, and what ``optimize`` uses for
``--calibration``, ``--cost``, ``--pos-weight`` and ``--cost-matrix`` (see
:mod:`thresholdlab.cli`, which parses the arguments, runs ``optimize`` and handles errors)."""

from __future__ import annotations

import argparse
import json
import sys

from thresholdlab.calibration_fit import calibrate, calibration_report, fit_calibration
from thresholdlab.cli_common import _warn, format_report, load_from_args
from thresholdlab.config import ThresholdConfig
from thresholdlab.cost_config import cost_matrix_config
from thresholdlab.costs import (
    ClassCost, CostMatrix, cost_matrix_result, decisions_cost,
    parse_costs, pos_weight_cost, pos_weight_sentence,
)
from thresholdlab.decisions import DecisionRule, decide
from thresholdlab.predictions import PredictionSet



# --------------------------------------------------------------------------------------------
# calibrate (and the calibration of optimize, evaluate, apply)
# --------------------------------------------------------------------------------------------


def calibrated(predictions: PredictionSet, method: str | None):
    """(calibration or None, the data the thresholds are chosen on); reports the fit on stderr."""
    if not method:
        return None, predictions
    calibration = fit_calibration(predictions, method)
    tuned = calibrate(predictions, calibration)
    report = calibration_report(predictions, calibration, tuned)
    before, after = report.overall_before, report.overall_after
    print(
        f"Calibrated ({method}): log-loss {before['log_loss']:.4f} -> {after['log_loss']:.4f}, "
        f"ECE {before['ece']:.4f} -> {after['ece']:.4f}; thresholds are on calibrated scores.",
        file=sys.stderr,
    )
    for note in calibration.notes:
        _warn(note)
    return calibration, tuned


def scored_by(config: ThresholdConfig, predictions: PredictionSet) -> PredictionSet:
    """``predictions`` with the probabilities ``config`` decides on (calibrated, if it says so)."""
    if config.calibration is None:
        return predictions
    return calibrate(predictions, config.calibration)


def cmd_calibrate(args: argparse.Namespace) -> int:
    predictions = load_from_args(args)
    calibration = fit_calibration(predictions, args.method)
    tuned = calibrate(predictions, calibration)
    report = calibration_report(predictions, calibration, tuned)
    if args.output:
        default = 0.0 if predictions.task == "multiclass" else 0.5
        config = ThresholdConfig.from_choice(
            predictions, [default] * predictions.n_classes, calibration=calibration
        )
        config.save(args.output)
    if args.json:
        out = {
            "file": predictions.file, "task": predictions.task,
            "classes": list(predictions.classes), **report.to_dict(),
            "calibration": calibration.to_dict(), "warnings": list(calibration.notes),
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print(format_calibration(report))
        for note in calibration.notes:
            _warn(note)
    if args.output:
        print(f"Wrote {args.output} ({args.method} calibration).", file=sys.stderr if args.json else sys.stdout)
    return 0


def format_calibration(report) -> str:
    """ECE, Brier score and log-loss before -> after, per class and overall, as aligned lines."""
    width = max(8, *(len(c) for c in report.classes))
    lines = [
        f"{'class':<{width}}  {'ECE before':>10} {'after':>8}  {'Brier before':>12} {'after':>8}  "
        f"{'log-loss before':>15} {'after':>8}"
    ]

    def row(name, before, after):
        return (
            f"{name:<{width}}  {before['ece']:>10.4f} {after['ece']:>8.4f}  "
            f"{before['brier']:>12.4f} {after['brier']:>8.4f}  "
            f"{before['log_loss']:>15.4f} {after['log_loss']:>8.4f}"
        )

    for i, name in enumerate(report.classes):
        lines.append(row(
            name,
            {m: v[i] for m, v in report.before.items()},
            {m: v[i] for m, v in report.after.items()},
        ))
    lines.append(row("overall", report.overall_before, report.overall_after))
    return "\n".join(lines)



# --------------------------------------------------------------------------------------------
# optimize with costs: per class (--cost, --pos-weight) or a cost matrix (--cost-matrix)
# --------------------------------------------------------------------------------------------


def _pos_weights(specs, classes) -> dict[str, float]:
    out = {}
    for spec in specs or ():
        name, sep, value = str(spec).rpartition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = None
        if not sep or weight is None:
            raise ValueError(f"--pos-weight {spec!r} is not CLASS=W (for example 'fraud=12').")
        if name not in classes:
            raise ValueError(f"--pos-weight names class {name!r}, which is not in the data.")
        out[name] = weight
    return out


def cost_matrix_choice(args: argparse.Namespace, predictions: PredictionSet, tuned, calibration):
    """``optimize --cost-matrix``: the config (the matrix rule, no thresholds) and the lines to
    print."""
    matrix = CostMatrix.read_csv(args.cost_matrix, predictions.classes, args.abstain_cost)
    result = cost_matrix_result(tuned, matrix)
    argmax = decide(tuned.probabilities, [0.0] * tuned.n_classes, DecisionRule.default("multiclass"))
    metrics = {**result.report.to_dict(), "total_cost": result.total_cost,
               "mean_cost": result.mean_cost}
    config = cost_matrix_config(predictions, matrix, calibration=calibration, metrics=metrics)
    lines = [
        format_report(result.report),
        f"Total cost {result.total_cost:.6g} ({result.mean_cost:.4g} a row); the plain argmax "
        f"costs {decisions_cost(tuned, matrix, argmax):.6g}.",
    ]
    return config, lines


def class_costs(args: argparse.Namespace, classes) -> dict[str, ClassCost]:
    """``--cost`` and ``--pos-weight`` as each class's costs; a pos_weight is explained on
    stderr."""
    costs = parse_costs(args.cost, classes)
    for name, weight in _pos_weights(args.pos_weight, classes).items():
        costs[name] = pos_weight_cost(weight)
        print(pos_weight_sentence(name, weight), file=sys.stderr)
    return costs


def costs_objective(costs: dict[str, ClassCost]) -> str:
    """The config's ``objective`` text for per-class costs."""
    pairs = {(v.fp, v.fn) for v in costs.values()}
    return f"cost:{ClassCost(*pairs.pop()).text}" if len(pairs) == 1 else "cost:per_class"


def format_costs(best) -> str:
    """Per class: costs, the minimum-cost threshold and its cost beside the Bayes threshold."""
    width = max(8, *(len(c) for c in best.classes))
    lines = [
        f"{'class':<{width}}  {'CFP:CFN':<11}  {'best':<8}  {'cost':>9}  {'Bayes':<8}  "
        f"{'cost there':>10}"
    ]
    for i, name in enumerate(best.classes):
        ratio = f"{best.cost_fp[i]:g}:{best.cost_fn[i]:g}"
        lines.append(
            f"{name:<{width}}  {ratio:<11}  {best.thresholds[i]:<8.4g}  {best.cost[i]:>9.6g}  "
            f"{best.bayes[i]:<8.4g}  {best.cost_at_bayes[i]:>10.6g}"
        )
    lines.append(
        "Bayes = CFP / (CFP + CFN), the threshold a calibrated model would use; the further it "
        "lies from the best, the less the scores mean what they say."
    )
    return "\n".join(lines)

