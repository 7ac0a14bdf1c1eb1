"""Step 2b: a column holding each row's scores as one vector, spread into one column per class.

``df["probs"] = list(model.predict_proba(x))`` is a common way to keep a model's outputs next
to the labels. Parquet stores such a column as a list of numbers per row; ``to_csv`` writes
each as text, ``[0.1 0.2 0.7]`` for a numpy array (wrapped over lines when long) or
``[0.1, 0.2, 0.7]`` for a list. Either becomes the columns ``p_0 .. p_{K-1}`` (classes 0 to
K-1, which integer labels name by position), or, for a column named as labels are (a
multi-label file's multi-hot truth), ``y_0 .. y_{K-1}``, which pair with them. Only columns
named as scores or labels are spread: a list of something else (a bounding box) is not used.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from thresholdlab.loading.spelling import _normal
from thresholdlab.predictions import DataError

_VECTOR_TEXT = re.compile(r"\s*\[[-+0-9.eEinfaINFA,\s]*\]\s*")
_NUMPY_SCALAR = re.compile(r"np\.[a-z]+[0-9]*\(\s*([^()]*?)\s*\)")
"""numpy 2 writes a list of its numbers as ``[np.float64(0.25), ...]``."""
_SAMPLE = 200
_PREFIX_WORDS = frozenset({"p", "prob", "proba", "score", "logit", "pred"})
_SCORE_NAMES = frozenset({"p", "prob", "probs", "proba", "probas", "probability",
                          "probabilities", "score", "scores", "logit", "logits", "output",
                          "outputs", "pred", "preds", "prediction", "predictions", "yhat",
                          "softmax", "sigmoid", "conf", "confidence"})
LABEL_WORDS = ("label", "labels", "target", "targets", "y", "y_true", "true", "truth")
"""Names of a vector column of 0/1 truth (multi-hot labels), spread as ``y_`` columns."""


def is_vector_type(kind: pa.DataType) -> bool:
    """A Parquet column of numbers per row (list, large list or fixed-size list of numbers, or
    of nothing: pandas writes a column of empty lists so)."""
    return ((pa.types.is_list(kind) or pa.types.is_large_list(kind)
             or pa.types.is_fixed_size_list(kind))
            and (pa.types.is_floating(kind.value_type) or pa.types.is_integer(kind.value_type)
                 or pa.types.is_boolean(kind.value_type) or pa.types.is_null(kind.value_type)))


def is_text_list(kind: pa.DataType) -> bool:
    """A Parquet column of a list of text per row (a row's tags)."""
    return ((pa.types.is_list(kind) or pa.types.is_large_list(kind))
            and (pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)))


def arrow_vectors(column: pa.ChunkedArray, name: str, file: str) -> np.ndarray:
    """The (n, K) values of a Parquet column of equal-length vectors."""
    column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0]) + 1
        raise DataError(f"File '{file}', column '{name}', row {row}: the vector is missing; "
                        "fill it or drop the row and load the file again.")
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    return _rows(pc.list_flatten(column).to_numpy(zero_copy_only=False), lengths, name, file)


def single_values(column: pa.ChunkedArray) -> pa.Array | None:
    """A list column's values when every row's list holds exactly one; else None."""
    column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if column.null_count or not pc.all(pc.equal(pc.list_value_length(column), 1)).as_py():
        return None
    return pc.list_flatten(column)


def spread_vectors(frame: pd.DataFrame, file: str,
                   vectors: dict[str, np.ndarray | None] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with each vector column replaced by one column per position, and a note for
    each. ``vectors`` are columns already read as (n, K) arrays (Parquet lists named as scores
    or labels; None for other lists, which are not used); text columns of the frame written as
    vectors (CSV) are found here."""
    vectors = dict(vectors or {})
    notes = []
    for name in list(vectors):
        if vectors[name] is None:  # a list of something else (bounding boxes): not used
            del vectors[name]
            notes.append(f"Column '{name}' holds a list per row, which is neither scores nor "
                         "labels by its name, so it is not used.")
    for name in frame.columns:
        if name not in vectors and spread_by_name(name, frame.columns) \
                and _written_as_vectors(frame[name]):
            vectors[name] = _text_vectors(frame[name], name, file)
    if not vectors:
        return frame, notes
    scores = [n for n, v in vectors.items() if _normal(n) not in LABEL_WORDS and v.shape[1] > 1]
    if len(scores) > 1:
        raise DataError(
            f"File '{file}' has {len(scores)} columns holding a vector of scores per row "
            f"({', '.join(repr(n) for n in scores)}); keep one of them and load the file again."
        )
    spread = {}
    for name, values in vectors.items():
        if values.shape[1] == 1:  # a list of one: that value
            spread[name] = pd.DataFrame({name: values[:, 0]}, index=frame.index)
            notes.append(f"Column '{name}' holds one number per row in a list, read as that "
                         "number.")
            continue
        prefix = "p_" if name in scores else "y_"
        names = [f"{prefix}{j}" for j in range(values.shape[1])]
        taken = [n for n in names if n in frame.columns and n not in vectors]
        if taken:
            raise DataError(
                f"File '{file}', column '{name}': its vector would be read as columns "
                f"{names[0]}..{names[-1]}, but column '{taken[0]}' exists; rename one and load "
                "the file again."
            )
        spread[name] = pd.DataFrame(values, columns=names, index=frame.index)
        what = "score" if name in scores else "0/1 truth"
        notes.append(f"Column '{name}' holds {values.shape[1]} numbers per row, read as the "
                     f"{what} columns {names[0]}..{names[-1]} (classes 0 to "
                     f"{values.shape[1] - 1}).")
    parts = [spread[c] if c in spread else frame[[c]] for c in frame.columns]
    parts += [spread[c] for c in spread if c not in frame.columns]  # read apart (Parquet lists)
    out = pd.concat(parts, axis=1)
    out.attrs.update(frame.attrs)
    return out, notes


def spread_by_name(name: str, columns=()) -> bool:
    """Whether a vector column is spread by its name: labels (``labels``, ``y_true``), or
    scores (``probs``, ``logits``, ``y_score``, ``outputs``) when none of the other
    ``columns`` carries a score prefix (then the vector is a prediction, an embedding)."""
    if _normal(name) in LABEL_WORDS:
        return True
    words = _normal(name).split("_")
    if not set(words) & _SCORE_NAMES:
        return False
    if words[0] in _PREFIX_WORDS and not set(words[1:]) <= _SCORE_NAMES:
        return False  # p_cat: a class's score, not a vector of every class's
    return not any(_normal(c).split("_")[0] in _PREFIX_WORDS and len(_normal(c).split("_")) > 1
                   for c in columns if c != name)


def _written_as_vectors(series: pd.Series) -> bool:
    if not pd.api.types.is_string_dtype(series) and series.dtype != object:
        return False
    sample = series.dropna().head(_SAMPLE)
    looks = [isinstance(v, str) and bool(_VECTOR_TEXT.fullmatch(_bare(v))) for v in sample]
    # Most, from the first: a broken cell among vectors is named by _text_vectors.
    return bool(looks) and looks[0] and sum(looks) * 2 > len(looks)


def _bare(text: str) -> str:
    return _NUMPY_SCALAR.sub(r"\1", text) if "np." in text else text


def _text_vectors(series: pd.Series, name: str, file: str) -> np.ndarray:
    """The (n, K) numbers of a text column of vectors, parsed by Arrow's string kernels (a
    Python list per cell would cost more than the file)."""
    text = pa.array(series.astype(object).where(series.notna(), None), type=pa.large_string())
    if "np." in (series.iloc[0] if isinstance(series.iloc[0], str) else ""):
        text = pc.replace_substring_regex(text, r"np\.[a-z]+[0-9]*\(\s*([^()]*?)\s*\)", r"\1")
    ok = pc.fill_null(pc.match_substring_regex(text, "^" + _VECTOR_TEXT.pattern + "$"), False)
    if not pc.all(ok).as_py():
        row = int(np.flatnonzero(~ok.to_numpy(zero_copy_only=False))[0]) + 1
        raise DataError(f"File '{file}', column '{name}', row {row}: not a vector of numbers "
                        "like the rows above; fix that cell and load the file again.")
    inner = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"[\[\],]", " "))
    cells = pc.split_pattern_regex(inner, r"\s+")
    lengths = pc.list_value_length(cells).to_numpy(zero_copy_only=False)
    lengths = np.where(pc.equal(inner, "").to_numpy(zero_copy_only=False), 0, lengths)
    try:
        flat = pc.cast(pc.list_flatten(cells), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DataError(f"File '{file}', column '{name}': a vector holds something that is "
                        "not a number; fix it and load the file again.") from None
    return _rows(flat.to_numpy(zero_copy_only=False), lengths, name, file)


def _rows(flat: np.ndarray, lengths: np.ndarray, name: str, file: str) -> np.ndarray:
    width = int(lengths[0]) if len(lengths) else 0
    odd = np.flatnonzero(lengths != width)
    if odd.size:
        raise DataError(
            f"File '{file}', column '{name}', row {odd[0] + 1}: a vector of {lengths[odd[0]]} "
            f"numbers where the first row has {width}; save one number per class in every "
            "row and load the file again."
        )
    if width == 0:
        raise DataError(f"File '{file}', column '{name}' holds empty vectors; save one number "
                        "per class in each row.")
    values = flat.reshape(len(lengths), width)
    return values.astype(np.float64) if values.dtype == bool else values
