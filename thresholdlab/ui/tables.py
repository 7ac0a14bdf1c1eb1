"""Tables and headline numbers of a finished :class:`~thresholdlab.metrics.Report`, for display.

Nothing is computed here: values are picked from the report and laid out.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from thresholdlab.metrics import Report


def interval_text(pair) -> str:
    """A 95% interval as the tables print it ("0.812 – 0.903"), "undefined" when it is not."""
    pair = np.asarray(pair, dtype=np.float64)
    if not np.isfinite(pair).all():
        return "undefined"
    return f"{pair[0]:.3f} – {pair[1]:.3f}"


def _or_nan(x: float) -> float:
    return float(x) if np.isfinite(x) else float("nan")


def metrics_frame(report: Report, *, sort_by_f1: bool = False) -> pd.DataFrame:
    """One row per class: threshold, counts, rates with Wilson 95% intervals, AP, ROC AUC.

    ``sort_by_f1``: weakest classes first (for many labels, where they matter most).
    Undefined AP / ROC AUC (a class with no positives or no negatives) are NaN.
    """
    m, c, r = report.per_class, report.counts, report.ranking
    frame = pd.DataFrame({
        "class": list(report.classes),
        "threshold": c.thresholds,
        "precision": m.precision,
        "recall": m.recall,
        "F1": m.f1,
        f"F{m.beta:g}": m.fbeta,
        "AP": [_or_nan(x) for x in r.average_precision],
        "ROC AUC": [_or_nan(x) for x in r.roc_auc],
        "support": c.support,
        "predicted": c.predicted,
        "TP": c.tp,
        "FP": c.fp,
        "FN": c.fn,
        "TN": c.tn,
        "precision 95% CI": [interval_text(p) for p in m.precision_ci],
        "recall 95% CI": [interval_text(p) for p in m.recall_ci],
        "specificity": m.specificity,
        "MCC": m.mcc,
        "prevalence": r.prevalence,
    })
    if sort_by_f1:
        frame = frame.sort_values("F1", kind="stable").reset_index(drop=True)
    return frame


def weakest(report: Report, n: int) -> list[str]:
    """The ``n`` classes with the lowest F1, weakest first (ties in class order)."""
    order = np.argsort(report.per_class.f1, kind="stable")[:n]
    return [report.classes[i] for i in order]


# How each column of :func:`metrics_frame` is printed, and its header's help.
_RATE = "{:.3f}"


def _columns(beta: float) -> dict[str, tuple[str, str]]:
    return {
        "threshold": ("{:.4f}", ""),
        "precision": (_RATE, "TP / predicted; 0 when nothing is predicted (flagged)."),
        "recall": (_RATE, "TP / support."),
        "F1": (_RATE, ""),
        f"F{beta:g}": (_RATE, "F-beta with the β of the optimise panel."),
        "AP": (_RATE, "Average precision, threshold-free, as scikit-learn. –: undefined."),
        "ROC AUC": (_RATE, "Threshold-free. –: undefined (no positives or negatives)."),
        "specificity": (_RATE, ""),
        "MCC": (_RATE, "Matthews correlation, one-vs-rest."),
        "prevalence": (_RATE, ""),
    }


TALL_TABLE_ROWS = 60  # above this many classes the table scrolls inside its own box

# The table's look, drawn once per page (not with every table: see :func:`metrics_html`).
TABLE_STYLE = """<style>
/* Every column in view from about 1,400 px (headers wrap, numbers never do); every row of a
   table of up to TALL_TABLE_ROWS classes in the page, longer ones scroll in their own box. */
.tl-metrics {overflow-x: auto;}
.tl-metrics.tl-tall {max-height: 80vh; overflow-y: auto;}
.tl-metrics table {border-collapse: collapse; font-size: 0.85rem;
                   font-variant-numeric: tabular-nums;}
.tl-metrics th, .tl-metrics td {padding: 0.25rem 0.35rem; border-bottom: 1px solid #e6eaf1;
                                text-align: right;}
.tl-metrics td {white-space: nowrap;}
.tl-metrics th {position: sticky; top: 0; background: #fff; color: #808495; font-weight: 600;
                vertical-align: bottom; line-height: 1.2;}
.tl-metrics th:first-child, .tl-metrics td:first-child {text-align: left; position: sticky;
                                                        left: 0; background: #fff;}
/* Narrow screens: optimise controls wrap onto more rows rather than cut their text (the
   Thresholds page's tiles: thresholds_layout.STYLE). */
.st-key-opt_inputs [data-testid="stHorizontalBlock"],
.st-key-opt_buttons [data-testid="stHorizontalBlock"] {flex-wrap: wrap;}
.st-key-opt_inputs [data-testid="stColumn"] {flex: 1 1 8.5rem !important; min-width: 8.5rem;}
.st-key-opt_buttons [data-testid="stColumn"] {flex: 1 1 16rem !important; min-width: 16rem;}
</style>"""


def _cell(value, fmt: str | None) -> tuple[str, str]:
    """(text shown, exact value) of one cell; the exact value is ``repr`` of the number."""
    if isinstance(value, str):
        return value, value
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}", str(int(value))
    x = float(value)
    if not math.isfinite(x):
        return "–", repr(x)
    return (fmt or "{:.4g}").format(x), repr(x)


def metrics_html(frame: pd.DataFrame, beta: float) -> str:
    """:func:`metrics_frame` as a light HTML table.

    Plain rows draw at once in the page, where a data grid redraws its canvas a few frames
    after every slider move. Its look is :data:`TABLE_STYLE`, put on the page once. Each cell
    also carries its exact value (``data-value``), so a test (or a reader of the page source)
    checks the numbers themselves, not rounded text.
    """
    formats = _columns(beta)
    head = "".join(
        f'<th title="{html.escape(formats.get(c, ("", ""))[1])}">{html.escape(str(c))}</th>'
        for c in frame.columns
    )
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            text, exact = _cell(value, formats.get(column, (None, ""))[0])
            cells.append(f'<td data-value="{html.escape(exact)}">{html.escape(text)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    tall = " tl-tall" if len(frame) > TALL_TABLE_ROWS else ""
    return (f'<div class="tl-metrics{tall}"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


@dataclass(frozen=True)
class Headline:
    label: str
    value: float | None
    help: str
    percent: bool = False

    @property
    def text(self) -> str:
        return format_value(self.value, percent=self.percent)


def format_value(value: float | None, *, percent: bool = False) -> str:
    """How the headline numbers are printed (tests format the core's values the same way)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.1%}" if percent else f"{value:.3f}"


def tiles_html(heads: list[Headline]) -> str:
    """The headline numbers as one row of tiles (wrapping on narrow screens), drawn as one block
    that a move updates in place. A tile's explanation shows while the pointer rests on it or
    while it has keyboard focus (Tab reaches every tile); its look is in the page's style."""
    tiles = "".join(
        f'<div class="tl-tile" tabindex="0" data-label="{html.escape(h.label)}">'
        f'<div class="tl-tile-label">{html.escape(h.label)}</div>'
        f'<div class="tl-tile-value">{html.escape(h.text)}</div>'
        f'<div class="tl-tile-help" role="tooltip">{html.escape(h.help)}</div></div>'
        for h in heads
    )
    return f'<div class="tl-tiles">{tiles}</div>'


def notes_html(*notes: str | None) -> str:
    """Plain sentences as small grey paragraphs (the look of a caption); None is left out."""
    return "".join(f'<p class="tl-note">{html.escape(n)}</p>' for n in notes if n)


def warnings_html(warnings) -> str:
    """The report's warnings folded under one line ("Warnings (n)"), open on a click."""
    if not warnings:
        return ""
    items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
    return (f'<details class="tl-warnings"><summary>Warnings ({len(warnings)})</summary>'
            f"<ul>{items}</ul></details>")


def headlines(report: Report) -> list[Headline]:
    """The numbers shown above the table, task by task, the task's own first."""
    a, m = report.aggregates, report.per_class
    if report.task == "binary":
        # The positive class's own numbers, as in its table row (the JSON's per_class entry);
        # the JSON's macro averages also count the negative class.
        of = f"Of {report.classes[0]}, the positive class: "
        return [
            Headline("Precision", float(m.precision[0]), of + "TP / predicted positive."),
            Headline("Recall", float(m.recall[0]), of + "TP / actual positive."),
            Headline("F1", float(m.f1[0]), of + "harmonic mean of precision and recall."),
            Headline("Accuracy", a.accuracy, "Right decisions over every row."),
            Headline("Specificity", float(m.specificity[0]), "TN / actual negative."),
        ]
    averages = [
        Headline("Macro F1", a.macro["f1"], "Mean of the per-class F1: classes count alike."),
        Headline("Micro F1", a.micro["f1"], "F1 of the summed counts: frequent classes dominate."),
        Headline("Macro precision", a.macro["precision"], "Mean of the per-class precision."),
        Headline("Macro recall", a.macro["recall"], "Mean of the per-class recall."),
    ]
    if report.task == "multiclass":
        return [
            Headline("Coverage", a.coverage, "Share of rows that get a prediction.", percent=True),
            Headline("Accuracy (predicted rows)", a.accuracy_covered,
                     "Right predictions over the rows that got a prediction."),
            Headline("Accuracy (all rows)", a.accuracy,
                     "Right predictions over every row; an abstained row counts as wrong."),
            Headline("Weighted F1", a.weighted["f1"], "Per-class F1 weighted by support."),
            *averages,
        ]
    # Both need every row's decisions; on large data they are left out of slider moves.
    skipped = (" Not computed for data this large: it reads every row, and a slider move here "
               "only reads the sorted index. `thresholdlab evaluate` computes it."
               if a.samples_f1 is None else "")
    return [
        *averages,
        Headline("Samples F1", a.samples_f1,
                 "F1 of each row's label set, averaged over rows." + skipped),
        Headline("Subset accuracy", a.subset_accuracy,
                 "Rows whose every label is right: strict, drops fast with many labels." + skipped),
        Headline("Hamming loss", a.hamming_loss,
                 "Share of wrong (row, label) cells. With sparse labels, predicting nothing "
                 "already scores low (good) here: look at recall and F1 instead."),
        Headline("Weighted F1", a.weighted["f1"], "Per-class F1 weighted by support."),
    ]


def argmax_curve_note(name: str, curve, average_precision: float, roc_auc: float,
                      pending: bool = False) -> str:
    """Multi-class argmax: why the reachable curve stops short of recall 1; ``pending``: the
    one-vs-rest curve, AP and ROC AUC are still being computed (a big file's first view)."""
    reach = float(curve.recall[-1]) if len(curve.recall) else 0.0
    said = (
        f"Under argmax only rows whose top class is {name} can be predicted as {name}, so its "
        f"threshold moves along the solid curve, which stops at recall {reach:.3f}."
    )
    if pending:
        return (said + " The dotted one-vs-rest curve over every row, the one AP and ROC AUC "
                "rank, is drawn once they are computed.")
    return (
        f"{said} The dotted one-vs-rest curve over every row is the one AP "
        f"({format_value(average_precision)}) and ROC AUC ({format_value(roc_auc)}) rank."
    )


def coverage_note(report: Report, abstains: bool = True) -> str | None:
    """Multi-class: what abstaining costs at these thresholds, in one sentence.

    ``abstains``: False under a rule that falls back to the argmax, where no row is left
    without a prediction whatever the thresholds.
    """
    if report.task != "multiclass":
        return None
    a, n = report.aggregates, report.counts.n_rows
    abstained = report.counts.abstained
    if abstained == 0:
        return (
            f"Every row gets a prediction (coverage 100%): accuracy {a.accuracy:.3f}."
            + (" Raise a threshold to abstain on the rows whose top class is not confident "
               "enough." if abstains else "")
        )
    return (
        f"{abstained:,} of {n:,} rows ({abstained / n:.1%}) get no prediction. On the rows "
        f"predicted, accuracy is {format_value(a.accuracy_covered)}; over all rows, counting "
        f"an abstention as wrong, {a.accuracy:.3f}. Abstaining buys accuracy with coverage."
    )


def sparse_labels_note(report: Report) -> str | None:
    """Multi-label: why accuracy-like numbers flatter a model on sparse labels."""
    if report.task != "multilabel":
        return None
    density = float(np.mean(report.ranking.prevalence))
    return (
        f"On average {density:.1%} of the (row, label) cells are positive, so predicting no label "
        f"at all already scores a Hamming loss of {density:.3f} and a per-label accuracy of "
        f"{1 - density:.1%}. Judge sparse labels by recall, precision and F1 per label."
    )


def calibration_frame(reliabilities) -> pd.DataFrame:
    """ECE, MCE and rows of each class's reliability diagram, worst calibrated first."""
    frame = pd.DataFrame({
        "class": [r.name for r in reliabilities],
        "ECE": [r.ece for r in reliabilities],
        "MCE": [r.mce for r in reliabilities],
        "rows": [r.n_rows for r in reliabilities],
    })
    return frame.sort_values("ECE", ascending=False, kind="stable").reset_index(drop=True)


def calibration_report_frame(report) -> pd.DataFrame:
    """ECE, Brier score and log-loss before and after a calibration, per class and overall."""
    rows = []
    for i, name in enumerate(report.classes):
        rows.append((name, *(report.before[m][i] for m in ("ece", "brier", "log_loss")),
                     *(report.after[m][i] for m in ("ece", "brier", "log_loss"))))
    if len(report.classes) > 1:
        b, a = report.overall_before, report.overall_after
        rows.append(("overall", b["ece"], b["brier"], b["log_loss"],
                     a["ece"], a["brier"], a["log_loss"]))
    return pd.DataFrame(rows, columns=["class", "ECE before", "Brier before", "log-loss before",
                                       "ECE after", "Brier after", "log-loss after"])


def costs_frame(best, current) -> pd.DataFrame:
    """Per class: costs, the least-cost threshold and its cost beside the Bayes threshold and
    the current thresholds' cost."""
    return pd.DataFrame({
        "class": list(best.classes),
        "CFP:CFN": [f"{fp:g}:{fn:g}" for fp, fn in zip(best.cost_fp, best.cost_fn)],
        "least-cost threshold": best.thresholds,
        "its cost": best.cost,
        "Bayes threshold": best.bayes,
        "cost at Bayes": best.cost_at_bayes,
        "current cost": best.cost_fp * current.fp + best.cost_fn * current.fn,
    })


# ------------------------------------------------------------------- one class's confusion counts
MAX_COUNT_COLUMNS = 5  # multi-class: the class itself and the classes it is most confused with


def _count_cell(n: int, same: bool = False) -> str:
    style = ' class="tl-hit"' if same else ""
    return f'<td{style} data-value="{int(n)}">{int(n):,}</td>'


def _row_head(text: str, title: str = "") -> str:
    # A cell, not a header: every row of the table has as many cells as the head has columns.
    tip = f' title="{html.escape(title)}"' if title else ""
    return f'<td class="tl-row-head"{tip} data-value="{text}">{text}</td>'


def class_counts_html(report: Report, c: int) -> str:
    """Confusion counts of class ``c`` at the current thresholds, as a small table.

    Binary and multi-label: the 2 x 2 (true in rows, predicted in columns). Multi-class: the
    class's row of the K x K matrix (its rows, by predicted class, no prediction included) and
    its column (the rows predicted as it, by true class), over the class itself and the classes
    it is most confused with; the rest are summed. Every cell carries its count in
    ``data-value``.
    """
    counts = report.counts
    name = html.escape(report.classes[c])
    if counts.confusion is None:
        tp, fp, fn, tn = (int(x[c]) for x in (counts.tp, counts.fp, counts.fn, counts.tn))
        body = (
            f"<thead><tr><th></th><th>predicted {name}</th><th>predicted not</th></tr></thead>"
            f"<tr>{_row_head(f'true {name}')}{_count_cell(tp, True)}{_count_cell(fn)}</tr>"
            f"<tr>{_row_head('true not')}{_count_cell(fp)}{_count_cell(tn, True)}</tr>"
        )
        return (f'<div class="tl-counts" data-class="{name}"><div class="tl-counts-title">'
                f"Counts: {name}</div><table>{body}</table></div>")
    matrix = np.asarray(counts.confusion, dtype=np.int64)  # (K, K + 1): true x predicted, none
    k = len(report.classes)
    row, column = matrix[c, :k], matrix[:k, c]
    others = [j for j in np.argsort(-(row + column), kind="stable") if j != c]
    shown = [c, *others[:MAX_COUNT_COLUMNS - 1]]
    rest = others[MAX_COUNT_COLUMNS - 1:]
    heads = [html.escape(report.classes[j]) for j in shown]
    row_cells = [_count_cell(row[j], j == c) for j in shown]
    col_cells = [_count_cell(column[j], j == c) for j in shown]
    if rest:
        heads.append(f"{len(rest)} other classes")
        row_cells.append(_count_cell(row[rest].sum()))
        col_cells.append(_count_cell(column[rest].sum()))
    heads.append("no prediction")
    row_cells.append(_count_cell(matrix[c, k]))
    col_cells.append('<td data-value="">–</td>')
    body = (
        "<thead><tr><th></th>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr></thead>"
        f"<tr>{_row_head(f'true {name} → predicted', f'Rows of {name}, by the class predicted')}"
        + "".join(row_cells) + "</tr>"
        f"<tr>{_row_head(f'predicted {name} ← true', f'Rows predicted as {name}, by true class')}"
        + "".join(col_cells) + "</tr>"
    )
    return (f'<div class="tl-counts" data-class="{name}"><div class="tl-counts-title">'
            f"Counts: {name}</div><table>{body}</table></div>")
