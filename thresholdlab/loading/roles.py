"""Step 3: which column of a table is what (the id, the labels, the scores, the rest).

The naming rules of the input format decide first (score and truth prefixes, label and id
names, ignoring case and separators), then the values (text naming the classes, numeric
columns); the user's :class:`Overrides` win over both and are validated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from thresholdlab.loading.extra_columns import (
    drop_extra_columns, top_class_columns, top_class_note,
)
from thresholdlab.loading.spelling import _NA_TEXT, _normal, _quoted, _spell
from thresholdlab.loading.tag_sets import joins_classes, names_classes
from thresholdlab.loading.tables import REPEATED_NAMES
from thresholdlab.predictions import TASKS, DataError

SCORE_KINDS = ("probability", "logit")
ID_NAMES = frozenset({"id", "index", "row_id", "sample_id", "uid"})
LABEL_NAMES = (
    "label", "labels", "target", "y", "y_true", "true", "class", "truth", "ground_truth",
)
SCORE_PREFIXES = ("p_", "prob_", "proba_", "score_", "logit_", "pred_", "y_pred_")
# ``y_true_`` is not in the documented list of prefixes but is the obvious partner of ``y_pred_``; longest prefix
# wins, so ``y_true_cat`` pairs with ``y_pred_cat`` instead of being read as ``y_`` + "true_cat".
TRUTH_PREFIXES = ("y_", "true_", "label_", "target_", "y_true_")
_NUMERIC_SAMPLE = 1000


@dataclass(frozen=True)
class Overrides:
    """The user's corrections to detection (CLI options, sidebar controls)."""

    label_col: str | None = None
    label_cols: tuple[str, ...] | None = None
    score_cols: tuple[str, ...] | None = None
    task: str | None = None
    score_kind: str | None = None

    @classmethod
    def checked(cls, label_col, label_cols, score_cols, task, score_kind) -> Overrides:
        if task is not None and task not in TASKS:
            raise DataError(f"Task '{task}' is not one of {', '.join(TASKS)}.")
        if score_kind is not None and score_kind not in SCORE_KINDS:
            raise DataError(f"Score kind '{score_kind}' is not one of {', '.join(SCORE_KINDS)}.")
        label_cols, score_cols = _name_list(label_cols), _name_list(score_cols)
        if label_col is not None and label_cols is not None:
            raise DataError(
                "Give either one label column (--label-col) or several multi-label truth "
                "columns (--label-cols), not both."
            )
        # Several truth columns with task multiclass are one-hot labels (see one_hot_labels).
        if label_cols is not None and task == "binary" and len(label_cols) > 1:
            raise DataError(
                "Several label columns mean multi-label data, not binary; "
                "name a single label column with --label-col."
            )
        if label_col is not None and task == "multilabel":
            raise DataError(
                "Multi-label data needs one 0/1 truth column per class; "
                "name them with --label-cols instead of --label-col."
            )
        return cls(label_col or None, label_cols, score_cols, task, score_kind)

    @property
    def columns(self) -> list[str]:
        named = [self.label_col] if self.label_col else []
        return named + list(self.label_cols or ()) + list(self.score_cols or ())


def _name_list(value) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    names = tuple(str(v).strip() for v in value if str(v).strip())
    return names or None


@dataclass
class Roles:
    """Column roles of a table (the command-line ``columns``) plus the class name of each score column."""

    id: str | None
    label: str | None
    labels: list[str] | None
    scores: list[str]
    classes: list[str]
    named: bool
    ignored: list[str]
    notes: list[str]

    @property
    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "label": self.label,
            "labels": self.labels,
            "scores": list(self.scores),
            "ignored": list(self.ignored),
        }



def _prefix(column: str) -> tuple[str | None, str]:
    """("score" | "truth" | None, suffix) by the longest matching prefix, ignoring case and
    separators (see :func:`_normal`)."""
    low = _normal(column)
    best_kind, best_len = None, 0
    for kind, prefixes in (("score", SCORE_PREFIXES), ("truth", TRUTH_PREFIXES)):
        for p in prefixes:
            if low.startswith(p) and len(low) > len(p) and len(p) > best_len:
                best_kind, best_len = kind, len(p)
    if best_kind == "score" and low[:best_len] in ("pred_", "y_pred_") \
            and low[best_len:] in _PREDICTION_SUFFIXES:
        # y_pred_proba, pred_score: a score of no class by name; y_pred_label, pred_class:
        # predicted labels. (p_y, p_class name classes.)
        return None, column.strip()
    return best_kind, column.strip()[best_len:]


def _is_id_name(column: str, prefixes) -> bool:
    """A row id's name: one of ID_NAMES, or, without a score or truth prefix (``p_id`` scores
    a class named "id"), ``uuid``, ``guid`` or a name ending in ``_id`` or starting with
    ``id_`` (``patient_id``, "Image ID", ``id_user``), unless it names a class (``class_id``,
    ``true_label_id``, ``category_id``, ``predicted_id`` hold classes)."""
    low = _normal(column)
    if low in ID_NAMES:
        return True
    if prefixes[column][0] is not None:
        return False
    if low in ("uuid", "guid"):
        return True
    stem = low[:-3] if low.endswith("_id") else low[3:] if low.startswith("id_") else ""
    return bool(stem) and not any(stem == word or stem.endswith(f"_{word}")
                                  for word in _CLASS_WORDS)


# Words before "_id" that make it a class's number, not a row's.
_CLASS_WORDS = (*LABEL_NAMES, "category", "pred", "predicted", "prediction")


def _is_label_name(column: str, prefixes) -> bool:
    """A label column's name: one of LABEL_NAMES, or a truth prefix before one of them
    ("true_label", "y_class", "target_label"), as y_true is y_ before "true"."""
    kind, suffix = prefixes[column]
    return _normal(column) in LABEL_NAMES or (kind == "truth" and _normal(suffix) in LABEL_NAMES)


def _resolve_names(ov: Overrides, columns: list[str]) -> Overrides:
    """Overrides name columns as the user reads them: ``p_a`` finds a header cell `` p_a``."""
    by_stripped: dict[str, list[str]] = {}
    for c in columns:
        by_stripped.setdefault(c.strip(), []).append(c)

    def resolve(name):
        if name in columns or len(by_stripped.get(name, [])) != 1:
            return name
        return by_stripped[name][0]

    def resolve_all(names):
        return None if names is None else tuple(resolve(n) for n in names)

    return replace(
        ov,
        label_col=None if ov.label_col is None else resolve(ov.label_col),
        label_cols=resolve_all(ov.label_cols),
        score_cols=resolve_all(ov.score_cols),
    )


def _is_unnamed(column: str) -> bool:
    low = column.strip().lower()
    return low == "" or low.startswith("unnamed:")


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _is_numeric_or_na(series: pd.Series) -> bool:
    """Numeric, or numbers with missing-value words ("NA" from R, "null"): only an empty cell is
    missing while parsing (see _NA_OPTIONS), so such a score column arrives as text, and it must
    still count as a score so that its missing value is reported, not the column dropped."""
    if _is_numeric(series):
        return True
    if isinstance(series.dtype, pd.CategoricalDtype) or not _is_text(series):
        return False
    values = series.dropna().astype(str).str.strip()
    words = values.isin(_NA_TEXT)
    if not words.any():
        return False
    rest = values[~words]
    return bool(pd.to_numeric(rest, errors="coerce").notna().all())


def _is_mostly_numeric(series: pd.Series) -> bool:
    """Text in which more than half of the filled cells are numbers: a score column with bad
    cells ("oops", "n/a!"), which must be read as a score so that the first bad cell is
    reported by column and row, not the column dropped as text. A sample of the first cells
    decides for most columns (names, ids), so a long text column costs little."""
    if isinstance(series.dtype, pd.CategoricalDtype) or not _is_text(series):
        return False
    values = series.dropna()
    for cells in (values.iloc[:_NUMERIC_SAMPLE], values):
        if len(cells) == 0:
            return False
        text = cells.astype(str).str.strip()
        numbers = pd.to_numeric(text[~text.isin(_NA_TEXT)], errors="coerce").notna()
        if numbers.sum() * 2 <= len(cells):
            return False
        if len(cells) == len(values):
            break
    return True


def _is_text(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return pd.api.types.is_string_dtype(series.cat.categories)
    return pd.api.types.is_string_dtype(series)


def detect_roles(frame: pd.DataFrame, file: str, ov: Overrides) -> Roles:
    """Assign each column a role by the input-format rules; overrides win and are validated."""
    columns = list(frame.columns)
    ov = _resolve_names(ov, columns)
    missing = [c for c in ov.columns if c not in columns]
    if missing:
        raise DataError(
            f"File '{file}' has no column '{missing[0]}'; its columns are {_quoted(columns)}."
        )
    twice = sorted({c for c in ov.columns if ov.columns.count(c) > 1})
    if twice:
        raise DataError(
            f"Column '{twice[0]}' is given two roles; a column is either a label or a score."
        )
    notes: list[str] = []
    claimed = set(ov.columns)

    prefixes = {c: _prefix(c) for c in columns}
    named_ids = [c for c in columns if _is_id_name(c, prefixes) and c not in claimed]
    unnamed = [c for c in columns if _is_unnamed(c) and c not in claimed]
    # The id: the first column named as ids usually are, else the first id-like one.
    id_col = next((c for c in named_ids if _normal(c) in ID_NAMES), named_ids[0] if named_ids
                  else None)
    for c in named_ids:
        notes.append(f"Column '{c}' looks like a row id and is ignored for scoring.")
    for c in unnamed:
        if frame[c].isna().all():  # such as the column a delimiter at the end of each line makes
            notes.append(f"Column '{c}' has no name and no values, so it is ignored.")
        else:
            notes.append(f"Column '{c}' looks like a saved row index and is ignored.")
    free = [c for c in columns if c not in claimed and c not in named_ids and c not in unnamed]

    label, labels = ov.label_col, list(ov.label_cols) if ov.label_cols else None

    # Score columns: given, else those with a score prefix.
    if ov.score_cols:
        scores = list(ov.score_cols)
    else:
        scores = [c for c in free if prefixes[c][0] == "score"]
    classes = [prefixes[c][1] if prefixes[c][0] == "score" else c.strip() for c in scores]
    named = bool(scores) and all(prefixes[c][0] == "score" for c in scores)

    if labels is not None:
        scores, classes = _pair_given_truth(labels, scores, classes, prefixes, ov, file)
        named = all(prefixes[c][0] == "score" for c in scores)
    elif label is None:
        label, labels, found_notes = _find_labels(
            frame, free, scores, classes, prefixes, file, ov.task
        )
        notes += found_notes

    predicted: list[str] = []
    codes: list[str] = []  # category codes among prefix-less numeric columns (not scores)
    if scores and not ov.score_cols:
        scores, classes, predicted = _drop_predicted_labels(frame, label, scores, classes)
        # One label per row: a multi-label "any" label's score may be the others' maximum
        # (truth columns, or tag sets such as 'cat|any').
        one_label = labels is None and not (label is not None and joins_classes(frame[label]))
        tops = top_class_columns(frame, scores) if one_label else []
        if tops:
            classes = [k for c, k in zip(scores, classes) if c not in tops]
            scores = [c for c in scores if c not in tops]
            codes += tops  # kept as extra columns: they can slice the rows
            notes.append(top_class_note(tops))
    used = {label, id_col, *(labels or []), *scores, *predicted}
    if not scores:
        # No score prefix anywhere: with a label column, every remaining numeric column is a score.
        numeric = [c for c in free if c not in used
                   and (_is_numeric_or_na(frame[c]) or _is_mostly_numeric(frame[c]))]
        if label is None and labels is None:
            found = _text_label_columns(frame, free, numeric, [c.strip() for c in numeric])
            label = found[0] if found else None
            if label is not None:
                notes.append(_text_label_note(found, "numeric columns"))
            elif numeric:
                raise _no_label_error(file)
        scores = [c for c in numeric if c != label]
        scores, _, predicted = _drop_predicted_labels(frame, label, scores, scores)
        scores, codes = _drop_category_codes(frame, scores)
        if codes:
            notes.append(_category_code_note(codes))
        scores, extras, extras_note = drop_extra_columns(frame, label, scores)
        codes += extras  # kept as extra columns: they can slice the rows
        if extras_note:
            notes.append(extras_note)
        if not scores:
            raise DataError(
                f"File '{file}' has no score columns: none is named with a score prefix "
                f"({', '.join(SCORE_PREFIXES)}) and no numeric column is left besides the labels; "
                "choose them with --score-cols (or in the sidebar)."
            )
        classes, named = [c.strip() for c in scores], False
        notes.append(
            f"No column has a score prefix, so the numeric column {_quoted(scores)} is read as "
            "the score."
            if len(scores) == 1
            else f"No column has a score prefix, so the numeric columns {_quoted(scores)} "
            "are read as scores."
        )
    if label is None and labels is None:
        raise _no_label_error(file)
    if label is not None and not ov.score_cols:
        # Named as predictions beside prefixed scores (pred_label, y_pred): said as such.
        taken = {label, id_col, *scores, *predicted, *codes}
        known = None
        for c in free:
            if c not in taken and _names_predictions(c):
                known = known or _label_values(frame, label, classes)
                if _holds_only(frame[c], known):
                    predicted.append(c)
    if predicted:
        notes.append(
            f"Column {_quoted(predicted)} holds predicted labels, not scores (every value is a "
            "label, a class name or a class number), so it is not used; name it with "
            "--score-cols to use it."
            if len(predicted) == 1
            else f"Columns {_quoted(predicted)} hold predicted labels, not scores (every value "
            "is a label, a class name or a class number), so they are not used; name them with "
            "--score-cols to use them."
        )

    _check_distinct_classes(scores, classes, file)
    used = {label, id_col, *(labels or []), *scores}
    notes += _check_repeated_names(frame, used, file)
    ignored = [c for c in columns if c not in used]
    unused = [c for c in ignored if c in free and c not in predicted and c not in codes]
    if unused:
        notes.append(
            f"Column {_quoted(unused)} is not used."
            if len(unused) == 1
            else f"Columns {_quoted(unused)} are not used."
        )
    return Roles(id_col, label, labels, scores, classes, named, ignored, notes)


def _check_repeated_names(frame: pd.DataFrame, used: set, file: str) -> list[str]:
    """A name given twice is an error when either column would be used, else a note."""
    notes = []
    for name, (first, second) in frame.attrs.get(REPEATED_NAMES, {}).items():
        copies = [c for c in frame.columns
                  if c == name or re.fullmatch(re.escape(name) + r"\.\d+", str(c))]
        if any(c in used for c in copies):
            raise DataError(
                f"File '{file}': column '{name}' appears twice in the header (columns {first} "
                f"and {second}); rename or remove one and load it again."
            )
        notes.append(f"Column '{name}' appears twice in the header; neither copy is used.")
    return notes


def _drop_predicted_labels(frame, label, scores, classes):
    """(scores, classes, dropped): candidate score columns that hold predicted labels left out.

    Such a column holds text, or whole numbers (an integer type), every value of which is a
    label, a class name or a class number (counted from 0 or 1), while the other candidates
    hold fractions (a float type): an export of ``y_pred`` next to the scores, not a score. A
    column of only 0s and 1s counts only when named as predictions are (``pred``,
    ``y_pred``, ``predicted_label``, ...; :func:`_names_predictions`), beside a float column
    holding a value that is not a whole number (``proba, pred``): R writes a class's
    probabilities of exactly 0 or 1 as whole numbers. Only for one label column; never for
    columns the user named as scores.
    """
    if label is None or len(scores) < 2:
        return scores, classes, []
    floats = [pd.api.types.is_float_dtype(frame[c]) for c in scores]
    if not any(floats):
        return scores, classes, []
    fractional = None  # whether some float candidate holds a fraction; looked at when needed
    known = None
    dropped = []
    float_classes = {k.strip().lower() for k, f in zip(classes, floats) if f}
    for c, k, is_float in zip(scores, classes, floats):
        series = frame[c]
        if is_float:
            continue
        whole = pd.api.types.is_integer_dtype(series)
        # A 0/1 column is a prediction only by its name, or beside a float column of the same
        # class (p_fraud, pred_fraud): R writes a class's probabilities of exactly 0 or 1 (a
        # class never predicted) as whole numbers too.
        hard = whole and (_names_predictions(c) or k.strip().lower() in float_classes)
        if hard and series.max() <= 1 and fractional is None:
            fractional = any(_has_fraction(frame[k]) for k, f in zip(scores, floats) if f)
        if not (_is_text(series) or (whole and (series.max() > 1 or (hard and fractional)))):
            continue
        if known is None:
            known = _label_values(frame, label, [k for k, f in zip(classes, floats) if f])
        if _holds_only(series, known):
            dropped.append(c)
    kept = [(s, k) for s, k in zip(scores, classes) if s not in dropped]
    return [s for s, _ in kept], [k for _, k in kept], dropped


def _label_values(frame, label, classes) -> set[str]:
    """What a column of predicted labels holds: labels, class names, class numbers."""
    known = {_spell(v).strip().lower() for v in pd.unique(frame[label].dropna())}
    known |= {k.strip().lower() for k in classes}
    return known | {str(i) for i in range(len(classes) + 1)}


def _holds_only(series: pd.Series, known: set[str]) -> bool:
    values = {_spell(v).strip().lower() for v in pd.unique(series.dropna())}
    return bool(values) and values <= known


_PREDICTION_WORDS = frozenset({"pred", "preds", "prediction", "predictions", "predicted",
                               "yhat", "hat", "decision", "decisions"})
_PREDICTED_WORDS = frozenset({"y", "label", "labels", "class", "classes", "cls", "category"})


_PREDICTION_SUFFIXES = frozenset({"prob", "probs", "proba", "probas", "probability",
                                  "probabilities", "score", "scores", "logit", "logits", "conf",
                                  "confidence", "label", "labels", "class", "classes", "cls"})
"""What follows ``pred_`` or ``y_pred_`` in a name that says what it holds, not a class."""


def _names_predictions(column: str) -> bool:
    """Whether a name says the column holds predicted labels: a prediction word, with at most
    words for a label beside it (``pred``, ``y_pred``, ``yhat``, ``predicted_label``,
    ``pred_class``), so never a class's score (``pred_malignant``) nor a probability
    (``y_pred_prob``)."""
    words = set(_normal(column).split("_")) - {""}
    return bool(words & _PREDICTION_WORDS) and words <= _PREDICTION_WORDS | _PREDICTED_WORDS


def _has_fraction(series: pd.Series) -> bool:
    """Whether a float column holds a finite value that is not a whole number."""
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = values[np.isfinite(values)]
    return bool(np.any(finite != np.floor(finite)))


# A column with more distinct values than this is never taken for a category code.
_MAX_CODES = 20


def _drop_category_codes(frame, scores) -> tuple[list[str], list[str]]:
    """(scores, codes): prefix-less numeric columns that hold category codes left out.

    Such a column (a region number, an age band 1..5) has an integer type, 2 to 20 distinct
    values and some value outside [0, 1], beside fractional scores (float columns holding a
    value that is not a whole number) that are probabilities (every value within [0, 1], so
    the column cannot be one) or logits (some value below 0): a model's logits come from float
    arithmetic and are never written as a handful of whole numbers. Scores beside which the
    codes could be percentages (fractions above 1, none below 0) keep every column, as do
    files whose columns are all whole numbers. A column left out stays an extra column, so it
    can slice the rows."""
    if len(scores) < 2:
        return scores, []
    codes = []
    for c in scores:  # integer columns first: most files have none, and then this costs nothing
        series = frame[c]
        if not pd.api.types.is_integer_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        values = series.dropna()
        if not len(values) or (values.min() >= 0 and values.max() <= 1):
            continue  # 0s and 1s: probabilities written as whole numbers
        if 2 <= values.nunique() <= _MAX_CODES:
            codes.append(c)
    if not codes:
        return scores, []
    fractional = []
    for c in scores:
        series = frame[c]
        if c not in codes and pd.api.types.is_float_dtype(series) and _has_fraction(series):
            fractional.append(series.dropna())
    if not fractional:
        return scores, []
    low = min(float(v.min()) for v in fractional)
    high = max(float(v.max()) for v in fractional)
    if not (low < 0.0 or high <= 1.0):  # fractions above 1 and none below 0: maybe percentages
        return scores, []
    return [c for c in scores if c not in codes], codes


def _category_code_note(codes: list[str]) -> str:
    if len(codes) == 1:
        return (
            f"Column '{codes[0]}' holds a few whole numbers beside fractional scores, so it is "
            "read as a category (it can slice the rows), not as a score; name it with "
            "--score-cols to use it as one."
        )
    return (
        f"Columns {_quoted(codes)} hold a few whole numbers beside fractional scores, so they "
        "are read as categories (they can slice the rows), not as scores; name them with "
        "--score-cols to use them as scores."
    )


def _no_label_error(file: str) -> DataError:
    return DataError(
        f"File '{file}' has no column that looks like the true labels "
        f"(such as {', '.join(LABEL_NAMES[:5])}); name it with --label-col, or a multi-label "
        "file's 0/1 truth columns with --label-cols (or in the sidebar)."
    )


def _find_labels(frame, free, scores, classes, prefixes, file, task=None):
    """(label column, truth columns, notes) by name, by suffix pairing, or by text values."""
    notes = []
    truth_by_suffix = {}
    for c in free:
        kind, suffix = prefixes[c]
        if kind == "truth":
            truth_by_suffix.setdefault(_normal(suffix), c)
    paired = [truth_by_suffix.get(_normal(k)) for k in classes]
    named_labels = [c for c in free if _is_label_name(c, prefixes) and c not in scores]

    # Truth columns covering every score column beat a label column: a multi-label file may
    # carry a "labels" text column as a convenience next to its 0/1 columns.
    if scores and all(paired):
        if len(scores) == 1:
            return paired[0], None, notes
        notes.append(
            f"The {len(paired)} columns {_quoted(paired, limit=3)} hold 0/1 truth paired by "
            "suffix with the score columns"
            + (", so the task is multi-label." if task != "multiclass" else ".")
        )
        return None, paired, notes
    if named_labels:
        if len(named_labels) > 1:
            notes.append(
                f"Columns {_quoted(named_labels)} all look like labels; '{named_labels[0]}' is "
                "used (choose another with --label-col)."
            )
        return named_labels[0], None, notes
    if scores and any(paired):
        lonely = scores[paired.index(None)]
        raise DataError(
            f"File '{file}': score column '{lonely}' has no 0/1 truth column to pair with "
            f"(such as 'y_{classes[scores.index(lonely)]}'); add it, or choose the columns with "
            "--score-cols and --label-cols."
        )
    if scores:
        found = _text_label_columns(frame, free, scores, classes)
        if found:
            notes.append(_text_label_note(found, "score columns"))
            return found[0], None, notes
    return None, None, notes


def _text_label_columns(frame, free, exclude, classes) -> list[str]:
    """Text columns most of whose distinct values name a class (ignoring case), or join
    classes (``tech|sports``, see :mod:`~thresholdlab.loading.tag_sets`), in file order."""
    wanted = {c.strip().lower() for c in classes}
    found, joined = [], []
    for c in free:
        if c in exclude or not _is_text(frame[c]):
            continue
        # Distinct values first: lower-casing a million strings is what would cost time.
        distinct = {str(v).strip().lower() for v in pd.unique(frame[c].dropna())}
        if not distinct:
            continue
        if sum(v in wanted for v in distinct) * 2 >= len(distinct):
            found.append(c)
            continue
        sample = list(distinct)[:_TAG_SAMPLE]  # free text has many values: a look is enough
        if sum(names_classes(v, wanted) for v in sample) * 2 >= len(sample):
            joined.append(c)
    return found + joined  # a column of single class names before one of tag sets


_TAG_SAMPLE = 1000


def _text_label_note(found: list[str], what: str) -> str:
    """The note for the label column found by its text; several (true and predicted labels,
    say) cannot be told apart by their values, so the user is told which one was taken."""
    if len(found) == 1:
        return f"Column '{found[0]}' holds text naming the {what}, so it is read as the labels."
    return (
        f"Columns {_quoted(found)} all hold text naming the {what}; the first, '{found[0]}', is "
        "read as the labels (choose another with --label-col)."
    )


def _pair_given_truth(labels, scores, classes, prefixes, ov, file):
    """Score columns for given multi-label truth columns: by order if given, else by suffix."""
    if ov.score_cols:
        if len(labels) != len(scores):
            raise DataError(
                f"--label-cols names {len(labels)} columns but --score-cols names {len(scores)}; "
                "give one truth column per score column, in the same order."
            )
        return scores, classes
    by_class = {_normal(k): (s, k) for s, k in zip(scores, classes)}
    paired = []
    for c in labels:
        kind, suffix = prefixes[c]
        key = _normal(suffix if kind == "truth" else c)
        if key not in by_class:
            raise DataError(
                f"File '{file}': truth column '{c}' has no score column with the same suffix "
                f"(such as 'p_{key}'); name the score columns with --score-cols in the same order."
            )
        paired.append(by_class[key])
    return [s for s, _ in paired], [k for _, k in paired]


def _check_distinct_classes(scores, classes, file) -> None:
    seen = {}
    for s, k in zip(scores, classes):
        if k.lower() in seen:
            raise DataError(
                f"File '{file}': score columns '{seen[k.lower()]}' and '{s}' both name class "
                f"'{k}'; choose one of them with --score-cols."
            )
        seen[k.lower()] = s


def likely_score_columns(columns: list[str], floats: set[str], ov: Overrides) -> list[str]:
    """The float columns role detection will most likely read as scores, in its order.

    For the readers that fill the score matrix while they read (``loading.streaming``,
    ``loading.parquet``), before the table exists: the same naming rules as
    :func:`detect_roles`, the columns the user named, else those with a score prefix, else
    every float column that is no id or label. A guess that turns out wrong costs a copy of the
    scores, never a different result.
    """
    ov = _resolve_names(ov, columns)
    if ov.score_cols:
        wanted = list(ov.score_cols)
        return wanted if all(c in floats for c in wanted) else []
    claimed = set(ov.columns)
    prefixes = {c: _prefix(c) for c in columns}
    free = [c for c in columns
            if c not in claimed and not _is_id_name(c, prefixes) and not _is_unnamed(c)]
    prefixed = [c for c in free if prefixes[c][0] == "score"]
    if prefixed:
        return [c for c in prefixed if c in floats]
    return [c for c in free if c in floats and prefixes[c][0] is None
            and not _is_label_name(c, prefixes)]
