"""Step 5: read the labels: class names, 1- or 0-based class numbers, 0/1, True/False (or
yes/no, positive/negative, pos/neg), -1/1, one-hot and multi-hot truth columns, each mapping
told in a note.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from thresholdlab.loading.raw import Raw, _numbers
from thresholdlab.loading.roles import _is_numeric
from thresholdlab.loading.spelling import (
    _FALSE_WORDS, _MAX_LISTED, _NA_TEXT, _TRUE_WORDS, _WORD_PAIRS,
    _cell, _plain, _quoted, _spell,
)
from thresholdlab.predictions import DataError



def _factorize(values: pd.Series, file: str, where: str, names=()) -> tuple[np.ndarray, list]:
    """Codes and distinct values; a missing label is an error naming its row.

    A missing-value word ("NA", "None", "null") is a missing label unless it names one of the
    classes ``names`` (ignoring case): "NA" may well be a class.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    wanted = {str(n).strip().lower() for n in names}
    words = [
        u for u, v in enumerate(uniques)
        if isinstance(v, str) and v.strip() in _NA_TEXT and v.strip().lower() not in wanted
    ]
    missing = codes < 0
    if words:
        missing |= np.isin(codes, np.asarray(words, dtype=codes.dtype))
    if missing.any():
        row = int(np.argmax(missing))
        raise DataError(
            f"File '{file}', {where}, row {row + 1}: the label is missing; "
            "fill it in or drop the row."
        )
    return codes, list(uniques)


def _as_int(value) -> int | None:
    """The whole number a label stands for (1, 1.0, "1"), or None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return int(value) if float(value).is_integer() else None
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _as_bool(value) -> bool | None:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE_WORDS:
            return True
        if low in _FALSE_WORDS:
            return False
    return None


def _first_row(codes: np.ndarray, bad_codes) -> int:
    bad = np.isin(codes, np.asarray(list(bad_codes), dtype=codes.dtype))
    return int(np.argmax(bad))


def _mapping_sentence(pairs: list[tuple[str, str]]) -> str:
    shown = ", ".join(f"{a} -> {b}" for a, b in pairs[:_MAX_LISTED])
    more = len(pairs) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def map_labels(values: pd.Series, classes: list[str], *, file: str, where: str,
               arrays: str = "", named: bool = True):
    """Multi-class labels -> int64 class ids (n,), label mapping and notes.

    Tried in order: labels that name the classes (ignoring case; numeric class names included),
    1-based class numbers when every label lies in 1..K and none is 0, 0-based class numbers
    0..K-1. The 1-based rule wins where both fit (labels 1 and 2 of three classes), as
    the input format says; the note shows the user which way it went.

    ``arrays`` is "array" (NPZ) or "tensor" (``.pt``) for a file of arrays, whose messages say
    what to save rather than which columns to choose; ``named`` is False when ``classes`` are
    stand-ins (``class_0``...) for class names the file does not give.
    """
    codes, uniques = _factorize(values, file, where, classes)
    k = len(classes)
    spelled = [_spell(u) for u in uniques]
    by_lower = {c.strip().lower(): j for j, c in enumerate(classes)}
    by_name = [by_lower.get(s.strip().lower(), -1) for s in spelled]
    ints = [_as_int(u) for u in uniques]

    if all(j >= 0 for j in by_name):
        ids = by_name
        how = "name"
    elif all(i is not None and 1 <= i <= k for i in ints):
        ids, how = [i - 1 for i in ints], "1-based"
    elif all(i is not None and 0 <= i < k for i in ints):
        ids, how = ints, "0-based"
    elif arrays and not named and any(i is None for i in ints):
        raise _unnamed_classes_error(spelled, file, where, arrays, binary=False)
    else:
        _raise_unmatched(codes, spelled, by_name, ints, classes, file, where, arrays, named)

    lookup = np.asarray(ids, dtype=np.int64)
    labels = lookup[codes]
    order = sorted(range(len(uniques)), key=lambda u: (ids[u], spelled[u]))
    pairs = [(spelled[u], classes[ids[u]]) for u in order]
    mapping = dict(pairs)
    if how == "name":
        if any(s.strip() != s for s in spelled):
            shown = _mapping_sentence([(f"'{a}'", b) for a, b in pairs])
            note = (
                f"Labels name the classes, matched ignoring case and surrounding spaces: {shown}."
            )
        elif any(s != classes[j] for s, j in zip(spelled, ids)):
            note = f"Labels name the classes, matched ignoring case: {_mapping_sentence(pairs)}."
        else:
            note = f"Labels name the classes: {_mapping_sentence(pairs)}."
    elif how == "0-based":
        note = f"Labels are class numbers counted from 0: {_mapping_sentence(pairs)}."
    else:
        note = f"Labels look 1-based: {_mapping_sentence(pairs)}."
    return labels, mapping, [note]


def _fix_label(arrays: str, named: bool = True) -> str:
    """What to do about a label that matches no class: a table's columns can be chosen, while
    the arrays of an NPZ or ``.pt`` file are found by their names (``named``: the file gives
    the class names)."""
    if not arrays:
        return "fix the label or choose the right columns with --label-col and --score-cols"
    return "fix the label or the class names saved under 'classes'" if named else "fix the label"


def _unnamed_classes_error(spelled, file, where, arrays: str, binary: bool) -> DataError:
    """Text labels in a file of arrays that names no classes: only a ``classes`` entry can
    say which score column each label names."""
    if arrays == "tensor":
        missing = "the dict has no 'classes' entry"
        example = "torch.save({'scores': ..., 'labels': ..., 'classes': [...]}, path)"
    else:
        missing = "the file has no 'classes' array"
        example = "numpy.savez(path, scores=..., labels=..., classes=[...])"
    order = ("the names of the negative and the positive class, in that order" if binary
             else "one name per score column, in their order")
    return DataError(
        f"File '{file}', {where} holds text labels ({_quoted(sorted(set(spelled)), 3)}) but "
        f"{missing} naming the score columns; save one with {order}, such as {example}."
    )


def _raise_unmatched(codes, spelled, by_name, ints, classes, file, where, arrays="",
                     named=True):
    """The first row whose label fits none of the ways labels can name classes."""
    k = len(classes)
    if sum(i is not None for i in ints) > sum(j >= 0 for j in by_name):
        low = 0 if any(i is not None and i <= 0 for i in ints) else 1
        bad = [u for u, i in enumerate(ints) if i is None or not low <= i < low + k]
    else:
        bad = [u for u, j in enumerate(by_name) if j < 0]
    row = _first_row(codes, bad)
    value = spelled[codes[row]]
    raise DataError(
        f"File '{file}', {where}, row {row + 1}: label '{_cell(value)}' matches no class; labels must "
        f"name a class ({_plain(classes)}) or number them 0..{k - 1} (or 1..{k}), so "
        f"{_fix_label(arrays, named)}."
    )


def map_binary_labels(values: pd.Series, classes, *, named: bool, file: str, where: str,
                      arrays: str = ""):
    """Binary labels -> (positive class name, bool (n,), label mapping, notes).

    ``classes`` is [name] for one score column, [negative, positive] for two, or None (arrays
    without names). Accepted: 0/1, True/False, -1/1, or values naming the class (two columns:
    each of the two classes; one column: the positive class plus at most one other value).
    True/False may be spelled yes/no, positive/negative or pos/neg (any case). Labels that name
    the classes are read by name even when they are also true/false words: with columns
    ``p_yes, p_no`` the label "no" is class "no". ``arrays``: as for :func:`map_labels`.
    """
    codes, uniques = _factorize(values, file, where, classes or ())
    spelled = [_spell(u) for u in uniques]
    lowered = [s.strip().lower() for s in spelled]
    names = [c.strip().lower() for c in classes] if classes else []
    if names == ["0"] and not named:
        # pandas names a lone column of model outputs 0 (pd.DataFrame(model.predict(x))): a
        # position, not label 0 made the positive class.
        names = []
    bools = [_as_bool(u) for u in uniques]
    ints = [_as_int(u) for u in uniques]
    notes: list[str] = []

    def positive_name(spelling: str) -> str:
        if classes and (named or len(classes) == 2):
            return classes[-1]
        return spelling

    if len(names) == 2:
        name_the_classes = all(s in names for s in lowered)
    else:
        name_the_classes = named and bool(names) and names[0] in lowered
    if all(b is not None for b in bools) and not name_the_classes:
        is_pos = bools
        words = next((pair for pair in _WORD_PAIRS if set(pair) & set(lowered)), ("true", "false"))
        how = "/".join(words)
        # A file of negatives only: yes/no and true/false files have always named it "True".
        unseen = "True" if how in ("yes/no", "true/false") else words[0]
        true_spelling = next((s for s, b in zip(spelled, bools) if b), unseen)
        positive = positive_name(true_spelling)
    elif names and any(s in names for s in lowered):
        positive, is_pos = _binary_by_name(codes, spelled, lowered, classes, file, where, arrays)
        how = "name"
    elif any(i is not None for i in ints):
        present = {i for i in ints if i is not None}
        allowed = {0, 1}
        if -1 in present:
            allowed = {-1, 1}
        elif 2 in present and 0 not in present and classes is not None and len(classes) == 2:
            allowed = {1, 2}  # 1-based numbers of two classes; a lone 1 stays positive
        bad = [u for u, i in enumerate(ints) if i not in allowed]
        if bad:
            row = _first_row(codes, bad)
            raise DataError(
                f"File '{file}', {where}, row {row + 1}: label '{_cell(spelled[codes[row]])}' matches no "
                f"class; binary labels must be 0/1, True/False or -1/1, so "
                f"{_fix_label(arrays, named=False)}."
            )
        top = max(allowed)
        is_pos = [i == top for i in ints]
        positive = positive_name(str(top))
        how = {0: "0/1", -1: "-1/1", 1: "1/2"}[min(allowed)]
    elif not names or (len(names) == 1 and not named):
        # Text labels, none naming the class, and no score prefix to say which one is positive.
        raise _no_positive_error(spelled, file, where, arrays)
    else:
        positive, is_pos = _binary_by_name(codes, spelled, lowered, classes, file, where, arrays)
        how = "name"

    negative = f"not {positive}"
    pairs = sorted(
        ((s, positive if p else negative) for s, p in zip(spelled, is_pos)),
        key=lambda pair: (pair[1] == positive, pair[0]),
    )
    mapping = dict(pairs)
    pos_spelled = [s for s, p in zip(spelled, is_pos) if p]
    neg_spelled = [s for s, p in zip(spelled, is_pos) if not p]
    if how == "-1/1":
        notes.append(
            f"Labels are -1/1: 1 is the positive class '{positive}' and -1 the negative."
        )
    elif how == "1/2":
        notes.append(f"Labels look 1-based: 1 -> not {positive}, 2 -> {positive}.")
    elif how == "name":
        if neg_spelled and not pos_spelled:
            # One value, naming no class: every row is a negative of the score column's class.
            notes.append(
                f"No label names the positive class '{positive}'; {_quoted(neg_spelled)} is read "
                "as negative."
            )
        elif neg_spelled:
            notes.append(
                f"Label {_quoted(pos_spelled)} names the positive class '{positive}'; "
                f"{_quoted(neg_spelled)} is read as negative."
            )
        else:
            notes.append(f"Label {_quoted(pos_spelled)} names the positive class '{positive}'.")
    else:
        if pos_spelled:
            shown = pos_spelled[0]
        else:
            words = {"/".join(pair): pair[0] for pair in _WORD_PAIRS}
            shown = {**words, "true/false": "True"}.get(how, "1")
        notes.append(f"Labels are {how}: {shown} is the positive class '{positive}'.")
    lookup = np.asarray(is_pos, dtype=bool)
    return positive, lookup[codes], mapping, notes


def _no_positive_error(spelled, file, where, arrays: str = "") -> DataError:
    """Binary text labels none of which says it is the positive one; arrays have no score
    column to name after it, so their sentence asks for class names instead."""
    if arrays:
        return _unnamed_classes_error(spelled, file, where, arrays, binary=True)
    return DataError(
        f"File '{file}', {where}: cannot tell which of the labels "
        f"{_quoted(sorted(set(spelled)))} is the positive class; use 0/1, True/False or -1/1 "
        "labels, or name the score column after the positive label (such as 'p_<label>'), "
        "or choose another label column with --label-col."
    )


def _binary_by_name(codes, spelled, lowered, classes, file, where, arrays=""):
    """(positive class, is_positive per distinct value) for labels that name classes."""
    names = [c.strip().lower() for c in classes]
    if len(names) == 2:
        bad = [u for u, s in enumerate(lowered) if s not in names]
        if bad:
            row = _first_row(codes, bad)
            raise DataError(
                f"File '{file}', {where}, row {row + 1}: label '{_cell(spelled[codes[row]])}' matches no "
                f"class; labels must name one of {_quoted(classes)} or be 0/1, so "
                f"{_fix_label(arrays)}."
            )
        return classes[1], [s == names[1] for s in lowered]
    # Distinct values in order of first appearance (factorize keeps it): the third one is wrong.
    others = list(dict.fromkeys(s for s in lowered if s != names[0]))
    if len(others) > 1 and len(others) == len(set(lowered)):
        # No label names the class.
        raise _no_positive_error(spelled, file, where, arrays)
    if len(others) > 1:
        row = _first_row(codes, [u for u, s in enumerate(lowered) if s == others[1]])
        raise DataError(
            f"File '{file}', {where}, row {row + 1}: label '{_cell(spelled[codes[row]])}' matches no "
            f"class; binary labels are '{classes[0]}' and one other value, so "
            f"{_fix_label(arrays)}."
        )
    return classes[0], [s == names[0] for s in lowered]


def map_truth_columns(raw: Raw, classes: list[str]):
    """Multi-label 0/1 truth columns -> bool (n, K), mapping truth column -> class, notes."""
    n, k = raw.scores.shape
    labels = np.empty((n, k), dtype=bool)
    minus_one = []
    for j, (values, where) in enumerate(zip(raw.truth, raw.truth_names)):
        labels[:, j], used_minus_one = _truth_column(values, raw.file, where)
        if used_minus_one:
            minus_one.append(where)
    truth_cols = raw.columns.get("labels") or []
    if raw.truth_keys is not None:
        mapping = dict(zip(raw.truth_keys, classes))
    elif len(truth_cols) == k:
        mapping = {str(c): cls for c, cls in zip(truth_cols, classes)}
    else:
        mapping = {f"column {j + 1}": cls for j, cls in enumerate(classes)}
    notes = []
    if minus_one:
        notes.append(f"Truth values -1/1 in {_plain(minus_one)} are read as absent/present.")
    return labels, mapping, notes


def one_hot_labels(raw: Raw, classes: list[str]):
    """One-hot truth columns (Keras' ``to_categorical``) read as multi-class labels: int64
    class ids (n,), mapping truth column -> class, notes. A row without exactly one 1 names
    its row."""
    truth, mapping, notes = map_truth_columns(raw, classes)
    per_row = truth.sum(axis=1)
    if (per_row != 1).any():
        row = int(np.argmax(per_row != 1))
        raise DataError(
            f"File '{raw.file}', row {row + 1}: {int(per_row[row])} of the truth columns are 1, "
            "but multi-class data needs exactly one per row (one-hot); fix the row, or drop "
            "--task multiclass to read the data as multi-label."
        )
    notes.append(
        "The truth columns are one-hot (one 1 per row), so each row's class is the column "
        "holding its 1."
    )
    return truth.argmax(axis=1).astype(np.int64), mapping, notes


def _truth_column(values: pd.Series, file: str, where: str) -> tuple[np.ndarray, bool]:
    """bool (n,) presence from 0/1, True/False or -1/1 values; anything else names its row."""
    if pd.api.types.is_bool_dtype(values) and not values.isna().any():
        return values.to_numpy(dtype=bool), False
    if _is_numeric(values):
        # The common case, 0/1 numbers, without factorizing K columns of a million rows.
        numbers = _numbers(values)
        if ((numbers == 0.0) | (numbers == 1.0)).all():
            return numbers == 1.0, False
    codes, uniques = _factorize(values, file, where)
    bools = [_as_bool(u) for u in uniques]
    ints = [_as_int(u) for u in uniques]
    present = {i for i in ints if i is not None}
    allowed = {-1, 1} if -1 in present else {0, 1}
    is_pos = []
    bad = []
    for u, (b, i) in enumerate(zip(bools, ints)):
        if b is not None:
            is_pos.append(b)
        elif i in allowed:
            is_pos.append(i == 1)
        else:
            is_pos.append(False)
            bad.append(u)
    if bad:
        row = _first_row(codes, bad)
        raise DataError(
            f"File '{file}', {where}, row {row + 1}: truth value '{_cell(_spell(uniques[codes[row]]))}' "
            "is not 0 or 1; multi-label truth columns hold 0/1 (or True/False), so fix the value."
        )
    return np.asarray(is_pos, dtype=bool)[codes], -1 in present


def label_base_warnings(labels: np.ndarray, mapping: dict, classes: list[str],
                        scores: np.ndarray) -> list[str]:
    """A warning when multi-class labels were read as 1-based class numbers (the input rule:
    all within 1..K, no 0) though counting from 0 fits them too (none is K) and the scores'
    top class agrees with that reading far more often: a file of 0-based labels in which
    class 0 never occurs reads shifted by one class."""
    k = len(classes)
    numbers = [_as_int(label) for label in mapping]
    if not numbers or any(i is None for i in numbers):
        return []
    place = {c: j for j, c in enumerate(classes)}
    one_based = all(place[mapping[label]] == i - 1 for label, i in zip(mapping, numbers))
    if not one_based or max(numbers) >= k or len(labels) == 0:
        return []
    top = np.argmax(scores, axis=1)
    as_read = float(np.mean(top == labels))
    from_zero = float(np.mean(top == labels + 1))
    if from_zero < as_read + 0.2:
        return []
    return [
        f"Labels {min(numbers)}..{max(numbers)} are read as 1-based, as labels without a 0 are, "
        f"but each row's top-scored class matches them counted from 0 in {from_zero:.0%} of "
        f"rows against {as_read:.0%} as read; if they count from 0, save them as class names "
        "(or add 1 to each) and load the file again."
    ]


def class_balance_warnings(task: str, classes: list[str], labels: np.ndarray) -> list[str]:
    """One sentence per class without positives or without negatives (never dropped)."""
    if task == "multiclass":
        positives = np.bincount(labels, minlength=len(classes))
    else:
        positives = labels.sum(axis=0)
    return balance_warnings(classes, positives, labels.shape[0])


def balance_warnings(classes, positives, n: int) -> list[str]:
    """One sentence per class without positives or without negatives, from each class's
    number of positive rows out of ``n`` rows (sketches count them without the rows)."""
    out = []
    for name, pos in zip(classes, positives):
        if pos == 0:
            out.append(
                f"Class '{name}' has no positive rows, so its average precision and ROC AUC "
                "are undefined."
            )
        elif pos == n:
            out.append(f"Class '{name}' has no negative rows, so its ROC AUC is undefined.")
    return out
