"""The ``thresholdlab`` command line; also ``python -m thresholdlab``.

Subcommands: ``app``, ``inspect``, ``optimize``, ``evaluate``, ``apply``, ``compare``,
``calibrate``, ``sketch``. Every subcommand takes
the overrides of the detected column roles (``--label-col``, ``--score-cols``, ...).

Errors are handled in one place, :func:`main` (:func:`run` is the installed command): bad input (:class:`DataError`, a ``ValueError``
from argument validation in the core, an ``OSError`` such as a missing file) prints one line
``thresholdlab: error: <sentence>`` on stderr and exits with code 2, never with a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

import subprocess
from pathlib import Path

from thresholdlab import __version__
from thresholdlab import cli_trust  # calibrate, costs
from thresholdlab.calibration_fit import METHODS as CALIBRATION_METHODS
from thresholdlab.calibration_fit import calibrate
# Shared with the calibration and held-out commands; still reachable as ``cli.NAME``.
from thresholdlab.cli_common import (
    PROG, _one_line, _warn, format_report, load_from_args, overrides,
)
from thresholdlab.config import ThresholdConfig
from thresholdlab.decisions import (
    NO_PREDICTION_OPTIONS,
    RULES,
    DecisionRule,
    decide,
    decisions_frame,
)
from thresholdlab.loading import inspect_report
from thresholdlab.optimise import OBJECTIVES_HELP, Objective
from thresholdlab.predictions import TASKS, DataError, PredictionSet
from thresholdlab.sketch import build_index, evaluate_index, is_binned, optimise_index
from thresholdlab.spreadsheet_safety import safe_csv

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
EXIT_BROKEN_PIPE = 141
"""What a shell reports for a command whose reader went away (128 + SIGPIPE), as ``| head``."""
APP_FILE_ENV = "THRESHOLDLAB_FILE"
APP_OVERRIDES_ENV = "THRESHOLDLAB_OVERRIDES"
"""Environment variable through which ``thresholdlab app FILE`` tells the dashboard what to open."""


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input or usage, 1 internal,
    141 when the reader of the output went away)."""
    parser = build_parser()
    argv, streamlit_options = split_streamlit_options(list(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
        args.streamlit_options = streamlit_options
    except SystemExit as exc:  # argparse has already printed usage and its error (code 2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # The reader of the output stopped reading (``thresholdlab inspect FILE | head``): not an
        # error in the input, and nothing left to say. stdout goes to devnull so that the flush
        # at exit does not fail once more.
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    except (DataError, ValueError, OSError) as exc:
        _error(_sentence(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one line, unless the developer asks for more
        if os.environ.get("THRESHOLDLAB_DEBUG"):
            raise
        _error(
            f"internal error ({type(exc).__name__}: {_one_line(str(exc))}); please report it, "
            "and set THRESHOLDLAB_DEBUG=1 to see the traceback."
        )
        return EXIT_INTERNAL


def run() -> None:
    """The ``thresholdlab`` command: :func:`main`, then leave without finalizing Python.

    pyarrow's CSV reader may let go of the file it read on one of its own threads a moment
    after the read returned. When that moment falls in the interpreter's shutdown, the thread
    cannot take the GIL and the process aborts (exit 134, "terminate called without an active
    exception") after the command has done and written everything. Commands close what they
    write and stop what they start (DuckDB, Spark, the dashboard's process) before returning,
    so once the output is flushed nothing is left that finalizing would do.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader went away before the last of the output
            code = code or EXIT_BROKEN_PIPE
        except (OSError, ValueError):  # the stream was closed
            pass
    os._exit(code)


def _stdout_to_devnull() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor
        pass


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _sentence(exc: BaseException) -> str:
    """One line for the user; an OSError names its file the way a user would read it."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f" '{exc.filename}'" if exc.filename else ""
        return _one_line(f"cannot open{where}: {exc.strerror}.")
    return _one_line(str(exc)) or type(exc).__name__


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def _comma_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated column names")
    return names


def _override_options() -> argparse.ArgumentParser:
    """The column-role overrides every subcommand takes (a parent parser shared by all)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("column roles (override what is detected)")
    group.add_argument("--label-col", metavar="COL", help="column holding the true labels")
    group.add_argument(
        "--label-cols", metavar="COL,COL", type=_comma_list,
        help="multi-label 0/1 truth columns, comma-separated, one per score column",
    )
    group.add_argument(
        "--score-cols", metavar="COL,COL", type=_comma_list,
        help="score columns, comma-separated, one per class",
    )
    group.add_argument("--task", choices=TASKS, help="binary, multiclass or multilabel")
    group.add_argument(
        "--score-kind", choices=("probability", "logit"),
        help="whether scores are probabilities or logits (softmax/sigmoid is applied to logits)",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Choose classification thresholds from saved model scores and true labels.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    common = [_override_options()]
    rules = sorted({r for options in RULES.values() for r in options})
    no_prediction = sorted({o for options in NO_PREDICTION_OPTIONS.values() for o in options})

    app = sub.add_parser(
        "app", parents=common, help="start the dashboard",
        epilog="Any Streamlit option (--server.maxUploadSize 500, --theme.base dark, ...) is "
               "passed on to `streamlit run`.",
    )
    app.add_argument("file", nargs="?", metavar="FILE", help="file to preload (sample when none)")
    app.add_argument("--port", type=int, metavar="N", help="port to serve on (default 8501)")
    app.add_argument("--host", metavar="H",
                     help="address to serve on (default: every interface; 127.0.0.1 for this "
                          "machine only)")
    app.set_defaults(func=cmd_app)

    inspect = sub.add_parser(
        "inspect", parents=common,
        help="show the detected task, classes, score kind, label mapping and counts",
    )
    inspect.add_argument("file", metavar="FILE")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.set_defaults(func=cmd_inspect)

    optimize = sub.add_parser(
        "optimize", parents=common, help="optimise thresholds and write a config"
    )
    optimize.add_argument("file", metavar="FILE")
    optimize.add_argument(
        "--objective", metavar="OBJ",
        help=f"{OBJECTIVES_HELP} (or give --cost, --pos-weight or --cost-matrix instead)",
    )
    optimize.add_argument(
        "--global", dest="global_mode", action="store_true",
        help="one threshold for every class, maximising the macro objective",
    )
    optimize.add_argument("--rule", choices=rules, help="decision rule (multi-class)")
    optimize.add_argument(
        "--no-prediction", choices=no_prediction, metavar="OPT",
        help=f"what a row with no class passing gets: {', '.join(no_prediction)}",
    )
    optimize.add_argument(
        "--calibration", choices=CALIBRATION_METHODS, metavar="METHOD",
        help="fit this calibration first (temperature, vector, platt, isotonic) and choose the "
        "thresholds on calibrated scores; both go into the config",
    )
    optimize.add_argument(
        "--cost", action="append", metavar="[CLASS=]CFP:CFN",
        help="cost of a false positive and of a false negative: CLASS=CFP:CFN for one class "
        "(repeat it), CFP:CFN for every other class; minimises each class's cost",
    )
    optimize.add_argument(
        "--pos-weight", action="append", metavar="CLASS=W",
        help="the pos_weight CLASS was trained with; read as the costs 1:W it implies",
    )
    optimize.add_argument(
        "--cost-matrix", metavar="FILE.csv",
        help="multi-class: decide by least expected cost; CSV with a header of predicted "
        "classes and one row per true class (first cell its name), optional 'abstain' column",
    )
    optimize.add_argument(
        "--abstain-cost", type=float, metavar="X",
        help="with --cost-matrix: the cost of making no prediction",
    )
    optimize.add_argument("-o", "--output", required=True, metavar="CONFIG.json")
    optimize.set_defaults(func=cmd_optimize)

    evaluate = sub.add_parser("evaluate", parents=common, help="metrics at a config's thresholds")
    evaluate.add_argument("file", metavar="FILE")
    evaluate.add_argument("--thresholds", required=True, metavar="CONFIG.json")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    evaluate.set_defaults(func=cmd_evaluate)

    apply = sub.add_parser("apply", parents=common, help="write one decision per input row")
    apply.add_argument("file", metavar="FILE")
    apply.add_argument("--thresholds", required=True, metavar="CONFIG.json")
    apply.add_argument("-o", "--output", required=True, metavar="DECISIONS.csv")
    apply.set_defaults(func=cmd_apply)

    from thresholdlab import evaluation_cli  # held-out options and the compare command

    evaluation_cli.add_arguments(sub, optimize, evaluate, common)

    calibrate_cmd = sub.add_parser(
        "calibrate", parents=common,
        help="fit a calibration and show ECE, Brier score and log-loss before and after",
    )
    calibrate_cmd.add_argument("file", metavar="FILE")
    calibrate_cmd.add_argument("--method", required=True, choices=CALIBRATION_METHODS)
    calibrate_cmd.add_argument(
        "-o", "--output", metavar="CONFIG.json",
        help="write a config with the calibration (thresholds 0.5 for binary and multi-label, "
        "plain argmax for multi-class)",
    )
    calibrate_cmd.add_argument("--json", action="store_true", help="print the report as JSON")
    calibrate_cmd.set_defaults(func=cli_trust.cmd_calibrate)
    _add_sketch_parser(sub, common)
    return parser




# --------------------------------------------------------------------------------------------
# inspect
# --------------------------------------------------------------------------------------------


def cmd_inspect(args: argparse.Namespace) -> int:
    data = load_from_args(args)
    report = inspect_report(data)
    if is_binned(data):
        report["sketch"] = _sketch_summary(data)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(format_inspect(report))
    return 0


def format_inspect(report: dict) -> str:
    """The ``inspect`` report as aligned, human-readable lines."""
    columns = report["columns"]
    activation = {
        "none": "used as given",
        "softmax": "softmax turns them into probabilities",
        "sigmoid": "sigmoid turns them into probabilities",
    }[report["activation"]]
    role_lines = [
        ("id", columns["id"]),
        ("label", columns["label"]),
        ("labels", ", ".join(columns["labels"]) if columns["labels"] else None),
        ("scores", ", ".join(columns["scores"])),
        ("ignored", ", ".join(columns["ignored"])),
    ]
    roles = [f"{role}: {value}" for role, value in role_lines if value]
    mapping = ", ".join(f"{k} -> {v}" for k, v in report["label_mapping"].items())
    positives = ", ".join(f"{c} {n}" for c, n in report["positives"].items())
    lines = [
        f"File        {report['file']} ({report['rows']} rows)",
        f"Task        {report['task']}",
        f"Classes     {', '.join(report['classes'])}",
        f"Scores      {report['score_kind']} ({activation})",
        f"Columns     {roles[0]}",
        *(f"            {r}" for r in roles[1:]),
        f"Labels      {mapping}",
        f"Positives   {positives}",
    ]
    if report.get("sketch"):
        sk = report["sketch"]
        lines.append(f"Binned      sketch of {sk['n_bins']:,} bins of width {sk['bin_width']:g}; "
                     "metrics are exact at bin edges")
    for title, sentences in (("Notes", report["notes"]), ("Warnings", report["warnings"])):
        if sentences:
            lines.append(title)
            lines += [f"  - {s}" for s in sentences]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# optimize, evaluate, apply, app
# --------------------------------------------------------------------------------------------


def _config_for(args: argparse.Namespace, predictions: PredictionSet) -> ThresholdConfig:
    """The config named by ``--thresholds``, checked against the loaded data."""
    config = ThresholdConfig.load(args.thresholds)
    config.check_matches(predictions)
    return config


def cmd_optimize(args: argparse.Namespace) -> int:
    """Load, calibrate (``--calibration``), choose thresholds for an objective or for costs,
    optionally report on held-out rows, the optimum's spread and per-slice thresholds, then
    write the config."""
    from thresholdlab import evaluation_cli

    costs_given = bool(args.cost_matrix or args.cost or args.pos_weight)
    if costs_given and args.objective:
        raise DataError("Give either --objective or costs (--cost, --pos-weight, --cost-matrix), not both.")
    if not (costs_given or args.objective):
        raise DataError("optimize needs --objective OBJ, --cost CFP:CFN or --cost-matrix FILE.csv.")
    predictions = load_from_args(args)
    _check_optimize_options(args, predictions)
    tuning, evaluation, split_info = evaluation_cli.held_out_parts(args, predictions)
    calibration, tuned = cli_trust.calibrated(tuning, args.calibration)
    if args.cost_matrix:
        config, lines = cli_trust.cost_matrix_choice(args, tuning, tuned, calibration)
        return _finish_optimize(args, config, lines, "cost_matrix rule")

    rule = DecisionRule.default(predictions.task, args.rule, args.no_prediction)
    mode = "global" if args.global_mode else "per_class"
    lines: list[str] = []
    if args.objective:
        objective = Objective.parse(args.objective)
        costs, chosen_for = None, objective.text
    else:
        costs = cli_trust.class_costs(args, predictions.classes)
        objective, chosen_for = None, cli_trust.costs_objective(costs)
    index = build_index(tuned, rule)
    if costs is None:
        best = optimise_index(index, objective, mode=mode)
        written = f"{chosen_for}, {best.mode.replace('_', '-')}"
    else:
        from thresholdlab.costs import optimise_costs

        best = optimise_costs(index, costs)
        lines.append(cli_trust.format_costs(best))
        written = chosen_for
    if evaluation is not None:
        evaluated = evaluation if calibration is None else calibrate(evaluation, calibration)
        report, held, held_lines = evaluation_cli.held_out_step(args, index, evaluated, best, split_info)
        metrics = {**report.to_dict(), "held_out": held}
    else:
        report = evaluate_index(index, best.thresholds)
        metrics, held_lines = report.to_dict(), []
    lines += [format_report(report), *held_lines]
    if args.spread is not None:
        metrics["optimum_spread"], line = evaluation_cli.spread_step(args, index, objective, best)
        lines.append(line)
    groups = None
    if args.groups:
        groups, line = evaluation_cli.groups_step(
            args, predictions, tuned, best.thresholds, report.per_class.recall, rule)
        lines.append(line)
    config = ThresholdConfig.from_choice(
        tuning, best.thresholds, rule, objective=chosen_for, metrics=metrics,
        logit_thresholds=best.logit_thresholds, calibration=calibration, costs=costs,
    )
    if groups is not None:
        config = dataclasses.replace(config, groups=groups)
    return _finish_optimize(args, config, lines, written, best, rule)


def _check_optimize_options(args: argparse.Namespace, predictions) -> None:
    """One sentence for options that cannot go together, before any work is done."""
    held = [name for name, given in (
        ("--holdout", args.holdout), ("--split", args.split is not None),
        ("--spread", args.spread is not None), ("--groups", args.groups)) if given]
    if is_binned(predictions):
        rows = [*held, *(["--calibration"] if args.calibration else []),
                *(["--cost-matrix"] if args.cost_matrix else [])]
        if rows:
            raise DataError(
                f"{predictions.file!r} is a sketch: it holds counts per bin, not rows, so "
                f"{', '.join(rows)} cannot be used with it; give the prediction files instead."
            )
    if args.cost_matrix:
        if args.cost or args.pos_weight:
            raise DataError("Give --cost-matrix or per-class --cost, not both.")
        if held:
            raise DataError(
                f"--cost-matrix decides by least expected cost, with no thresholds to choose, "
                f"so {', '.join(held)} cannot be used with it."
            )
    elif args.abstain_cost is not None:
        raise DataError("--abstain-cost goes with --cost-matrix.")
    if not args.objective and (args.holdout or args.split is not None or args.spread is not None):
        raise DataError(
            "--holdout, --split and --spread report an objective's optimum; give --objective "
            "instead of costs."
        )
    if args.groups and (args.holdout or args.split is not None):
        raise ValueError("--groups chooses per-slice thresholds on the whole file; leave out "
                         "--holdout and --split.")


def _finish_optimize(args, config, lines, written, best=None, rule=None) -> int:
    """What every ``optimize`` ends with: the config saved, warnings on stderr, the report."""
    config.save(args.output)
    if best is not None:
        for sentence in dict.fromkeys(getattr(best, "infeasible", {}).values()):
            _warn(sentence)
        if not getattr(best, "exact", rule.per_class):
            _warn(
                f"Under decision rule '{rule.rule}' with no-prediction '{rule.no_prediction}' a "
                "class's decisions also depend on the other classes' thresholds, so each class "
                "was optimised on its own curve: a good start, not the joint optimum. The "
                "metrics below are exact for these thresholds."
            )
    print("\n".join(lines))
    print(f"Wrote {args.output} ({written}).")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    predictions = load_from_args(args)
    config = _config_for(args, predictions)
    extra = {}
    if config.cost_matrix is not None:
        from thresholdlab.costs import cost_matrix_result

        scored = cli_trust.scored_by(config, predictions)
        result = cost_matrix_result(scored, config.cost_matrix)
        report = result.report
        extra = {"total_cost": result.total_cost, "mean_cost": result.mean_cost}
    else:
        index = build_index(cli_trust.scored_by(config, predictions), config.rule)
        if config.groups:  # per-slice thresholds: each row by its slice's
            from thresholdlab.evaluation_cli import grouped_report

            report = grouped_report(args, index, config)
        else:
            report = evaluate_index(index, config.thresholds_for(predictions.classes))
    if getattr(args, "bootstrap", None):
        from thresholdlab import evaluation_cli

        return evaluation_cli.print_with_bootstrap(args, report)
    if args.json:
        print(json.dumps({**report.to_dict(), **extra}, indent=2, ensure_ascii=False))
    else:
        print(format_report(report))
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    predictions = load_from_args(args)
    if is_binned(predictions):
        raise DataError(
            f"{predictions.file!r} is a sketch: it holds counts, not rows, so there is nothing "
            "to decide row by row; apply the config to the prediction files instead."
        )
    config = _config_for(args, predictions)
    if config.cost_matrix is not None:
        from thresholdlab.costs import cost_matrix_decisions

        decisions = cost_matrix_decisions(
            cli_trust.scored_by(config, predictions), config.cost_matrix
        )
    elif config.groups:  # per-slice thresholds: each row by its slice's
        from thresholdlab.evaluation_cli import group_decisions

        decisions = group_decisions(args, cli_trust.scored_by(config, predictions), config)
    else:
        decisions = decide(
            cli_trust.scored_by(config, predictions).probabilities,
            config.thresholds_for(predictions.classes),
            config.rule,
        )
    # Class names and ids come from the user's file: no cell may open as a live formula.
    safe_csv(decisions_frame(predictions, decisions), args.output)
    print(f"Wrote {predictions.n_rows} decisions to {args.output}.")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Start the dashboard with Streamlit; FILE (checked first) is preloaded."""
    app = Path(__file__).resolve().parent.parent / "app.py"
    if not app.exists():
        raise DataError(
            "The dashboard's app.py is not next to this installation; run 'thresholdlab app' "
            "from a source checkout (pip install -e .)."
        )
    env = dict(os.environ)
    if args.file:
        load_from_args(args)  # bad input fails here, in one line, before a server starts
        env[APP_FILE_ENV] = str(Path(args.file).resolve())
        env[APP_OVERRIDES_ENV] = json.dumps(overrides(args))
    command = [sys.executable, "-m", "streamlit", "run", str(app),
               "--browser.gatherUsageStats", "false"]
    if args.port is not None:
        command += ["--server.port", str(args.port)]
    if args.host:
        command += ["--server.address", args.host]
    # Given last, so an explicit --server.port wins over --port, as the user typed it.
    command += list(getattr(args, "streamlit_options", None) or [])
    return subprocess.call(command, env=env)


# --------------------------------------------------------------------------------------------
# sketch
# --------------------------------------------------------------------------------------------


def _sketch_summary(sketch) -> dict:
    return {"n_bins": sketch.n_bins, "bin_width": sketch.bin_width, "sources": list(sketch.sources)}


def _add_sketch_parser(sub, common) -> None:
    from thresholdlab.sketch import DEFAULT_BINS

    sketch = sub.add_parser(
        "sketch", parents=common,
        help="bin Parquet/CSV files of any size into a sketch file the other commands open",
        description=(
            "Count, per class, positive and negative rows per probability bin, in DuckDB (out of "
            "core, the default) or Apache Spark. The sketch file opens like a prediction file; "
            "every metric is exact at bin edges."
        ),
    )
    sketch.add_argument("files", nargs="+", metavar="FILE",
                        help="Parquet or CSV files (globs too); Spark: any path Spark reads")
    sketch.add_argument("-o", "--output", required=True, metavar="SKETCH.parquet")
    sketch.add_argument("--bins", type=int, default=DEFAULT_BINS, metavar="N",
                        help=f"equal bins on [0, 1] (default {DEFAULT_BINS:,})")
    sketch.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="duckdb (embedded, default) or spark")
    sketch.add_argument("--master", metavar="URL", default=None,
                        help="Spark master (default: local[*], or the session's own)")
    sketch.set_defaults(func=cmd_sketch)


def cmd_sketch(args: argparse.Namespace) -> int:
    import time

    roles = overrides(args)
    started = time.perf_counter()
    if args.engine == "spark":
        from thresholdlab.spark import sketch_paths

        result = sketch_paths(args.files, n_bins=args.bins, master=args.master, **roles)
    else:
        from thresholdlab.sketch_duckdb import sketch_files

        result = sketch_files(args.files, n_bins=args.bins, progress=True, **roles)
    result.save(args.output)
    seconds = time.perf_counter() - started
    print(f"Wrote {args.output}: {result.n_rows:,} rows, {result.task}, "
          f"{result.n_classes} {'class' if result.n_classes == 1 else 'classes'}, "
          f"{result.n_bins:,} bins ({seconds:.1f} s).")
    for sentence in (*result.notes, *result.warnings):
        print(f"  - {sentence}")
    return 0


def split_streamlit_options(argv: list[str]) -> tuple[list[str], list[str]]:
    """``thresholdlab app``'s own arguments, and the Streamlit options to pass on.

    Streamlit's options are all ``--section.name`` (``--server.maxUploadSize 500`` or
    ``--server.maxUploadSize=500``), a form none of ours takes, so they are told apart by the dot
    and carried over with their value. Other commands take no Streamlit options.
    """
    if not argv or argv[0] != "app":
        return argv, []
    own, passed = [], []
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            own += argv[i - 1:]
            break
        name = token.split("=", 1)[0]
        if not (token.startswith("--") and "." in name.strip("-.")):
            own.append(token)
            continue
        passed.append(token)
        if "=" not in token and i < len(argv) and not argv[i].startswith("--"):
            passed.append(argv[i])
            i += 1
    return own, passed


if __name__ == "__main__":  # pragma: no cover - python -m thresholdlab goes through __main__
    raise SystemExit(main())
