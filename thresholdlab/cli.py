"""The ``thresholdlab`` command line (SPEC §7); also ``python -m thresholdlab``.

Subcommands: ``app``, ``inspect``, ``optimize``, ``evaluate``, ``apply``. Every subcommand takes
the SPEC §2 overrides of the detected column roles.

Errors are handled in one place, :func:`main`: bad input (:class:`DataError`, a ``ValueError``
from argument validation in the core, an ``OSError`` such as a missing file) prints one line
``thresholdlab: error: <sentence>`` on stderr and exits with code 2, never with a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from thresholdlab import __version__
from thresholdlab.decisions import NO_PREDICTION_OPTIONS, RULES
from thresholdlab.loading import inspect_report, load
from thresholdlab.predictions import TASKS, DataError, PredictionSet

PROG = "thresholdlab"
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input or usage, 1 internal)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has already printed usage and its error (code 2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
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


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
    """The SPEC §2 overrides every subcommand takes (a parent parser shared by all)."""
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

    app = sub.add_parser("app", parents=common, help="start the dashboard")
    app.add_argument("file", nargs="?", metavar="FILE", help="file to preload (sample when none)")
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
        "--objective", required=True, metavar="OBJ",
        help="f1, fbeta:B, youden, cost:CFP:CFN, precision>=X or recall>=X",
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
    return parser


def load_from_args(args: argparse.Namespace) -> PredictionSet:
    """Load ``args.file`` with the overrides given on the command line."""
    return load(
        args.file,
        label_col=args.label_col,
        label_cols=args.label_cols,
        score_cols=args.score_cols,
        task=args.task,
        score_kind=args.score_kind,
    )


# --------------------------------------------------------------------------------------------
# inspect
# --------------------------------------------------------------------------------------------


def cmd_inspect(args: argparse.Namespace) -> int:
    report = inspect_report(load_from_args(args))
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
    for title, sentences in (("Notes", report["notes"]), ("Warnings", report["warnings"])):
        if sentences:
            lines.append(title)
            lines += [f"  - {s}" for s in sentences]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# To be filled in by the lead (curves, metrics, optimise, config are being written now)
# --------------------------------------------------------------------------------------------


def _not_yet(command: str) -> int:
    _error(f"'{command}' is not yet available in this version.")
    return EXIT_INTERNAL


def cmd_app(args: argparse.Namespace) -> int:
    """TODO(lead): start Streamlit on app.py with args.file preloaded (sample when None)."""
    return _not_yet("app")


def cmd_optimize(args: argparse.Namespace) -> int:
    """TODO(lead): load_from_args, optimise(args.objective, global=args.global_mode, rule=
    args.rule, no_prediction=args.no_prediction), write the §6 config to args.output."""
    return _not_yet("optimize")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """TODO(lead): load_from_args, read args.thresholds, print metrics (§7 JSON with --json)."""
    return _not_yet("evaluate")


def cmd_apply(args: argparse.Namespace) -> int:
    """TODO(lead): load_from_args, read args.thresholds, write §7 decisions CSV to args.output."""
    return _not_yet("apply")


if __name__ == "__main__":  # pragma: no cover - python -m thresholdlab goes through __main__
    raise SystemExit(main())
