"""Collect a PyTorch model's validation scores as a table ThresholdLab reads.

:func:`collect` runs a model over a ``DataLoader`` and returns its scores and the true labels as
a table in the format ThresholdLab reads (``logit_<class>`` or ``p_<class>`` score columns, a
``label`` column or ``y_<class>`` truth columns), optionally written to CSV or Parquet for
``thresholdlab optimize`` or the dashboard. Import it from :mod:`thresholdlab.torch`, where
:class:`~thresholdlab.torch.ThresholdHead` serves the thresholds chosen on that table.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from thresholdlab.predictions import DataError, sigmoid, softmax

INPUT_KEYS = ("x", "input", "inputs", "features")
"""Keys :func:`collect` looks for in dict batches for the model's input, in this order."""
TARGET_KEYS = ("y", "label", "labels", "target", "targets")
"""Keys :func:`collect` looks for in dict batches for the true labels, in this order."""

ACTIVATIONS = ("auto", "none", "softmax", "sigmoid")
OUTPUT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}

# progress=None shows a bar only for loaders longer than this (and only on a terminal).
PROGRESS_MIN_BATCHES = 50


# --------------------------------------------------------------------------------------------
# collect
# --------------------------------------------------------------------------------------------


def collect(
    model: nn.Module,
    loader,
    *,
    device: str | torch.device | None = None,
    activation: str = "auto",
    class_names: Sequence[str] | None = None,
    task: str | None = None,
    output: str | os.PathLike | None = None,
    progress: bool | None = None,
    input_key: str | int | None = None,
    target_key: str | int | None = None,
    label_base: int | None = None,
):
    """Run ``model`` over ``loader``; return its scores and true labels as ThresholdLab reads them.

    The model runs in eval mode under ``torch.inference_mode()``; the training mode of every
    submodule is restored afterwards, even when a batch fails.

    Parameters
    ----------
    model : nn.Module
        Maps a batch's input to scores of shape (B, K), or (B,) / (B, 1) for a binary model.
        Outputs that are a tuple or list (first element), a mapping with ``"logits"`` or an object
        with a ``.logits`` attribute (Hugging Face) are unwrapped.
    loader : iterable of batches, usually a ``torch.utils.data.DataLoader``
        Each batch is either a tuple/list ``(inputs, targets)`` or a mapping. For a mapping the
        input is found under the first of :data:`INPUT_KEYS` (``x``, ``input``, ``inputs``,
        ``features``) and the targets under the first of :data:`TARGET_KEYS` (``y``, ``label``,
        ``labels``, ``target``, ``targets``) it has; name others with ``input_key`` and
        ``target_key``. Tuples longer than two need ``target_key`` (an index). Inputs (tensors,
        or lists/tuples/dicts of tensors) are moved to ``device``.
        Targets: multi-class, integer class numbers (B,) counted from 0 or from 1 (see
        ``label_base``); binary, 0/1 (or bool, or -1/1) of shape (B,) or (B, 1); multi-label,
        0/1 (float, int or bool) of shape (B, K).
    device : str or torch.device, optional
        Where inputs go. Default: the device of the model's first parameter (CPU if it has none).
    activation : {"auto", "none", "softmax", "sigmoid"}
        ``"auto"`` writes what the model outputs, as ``logit_<class>`` columns, or as
        ``p_<class>`` when every output lies in [0, 1] (which is how loading will read them);
        ``"none"`` writes the raw outputs as neutral ``score_<class>`` columns and lets loading
        decide; ``"softmax"`` / ``"sigmoid"`` turn the outputs into probabilities first (float64,
        the same functions loading uses) and write ``p_<class>``.
    class_names : sequence of str, optional
        One name per output column (binary: the positive class). Default ``class_<i>`` (numbered
        like the labels: from 1 for 1-based labels), and ``positive`` for a binary model.
    task : {"binary", "multiclass", "multilabel"}, optional
        Default: binary for one output column; multi-class for K >= 2 columns and 1-D targets;
        multi-label for (B, K) targets. ``task="multiclass"`` with (B, K) one-hot targets takes
        each row's single 1.
    output : path, optional
        Also write the table there: ``.csv``, ``.tsv``, ``.parquet`` or ``.pq``. CSV floats are
        written with ``repr`` (shortest text that reads back as the same float64), so a float32
        output reads back bit for bit as its float64 value.
    progress : bool, optional
        tqdm progress bar on stderr. Default: shown when the loader has more than
        ``PROGRESS_MIN_BATCHES`` batches (or an unknown length) and stderr is a terminal.
    input_key, target_key : str or int, optional
        Where the input and the targets are in each batch (a mapping key or a tuple index).
    label_base : {0, 1}, optional
        Multi-class only: whether class numbers count from 0 (output column k is label k) or from 1
        (output column k is label k + 1). Default: detected as the loader does: 1-based when every
        label lies in 1..K and none is 0, else 0-based.

    Returns
    -------
    pandas.DataFrame
        One row per example, in loader order: the score columns, then ``label`` (binary,
        multi-class) or ``y_<class>`` 0/1 columns (multi-label). Scores are float64 holding the
        model's values exactly. ``frame.attrs["thresholdlab"]`` holds ``task``, ``classes``,
        ``label_mapping`` and ``notes`` (one sentence per inference made).

    Labels are written as the loader gives them, never renumbered: 1-based labels stay 1..K in
    the file and loading reports "Labels look 1-based: 1 -> ...". The one exception: when loading
    would read the numbers differently from ``label_base`` (0-based labels 1..K-1 of K classes,
    with class 0 absent, read as 1-based by the loader), the labels are written as class names, and
    a note says so.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}.")
    if task is not None and task not in ("binary", "multiclass", "multilabel"):
        raise ValueError(f"task must be 'binary', 'multiclass' or 'multilabel', got {task!r}.")
    if label_base not in (None, 0, 1):
        raise ValueError(f"label_base must be 0, 1 or None (detect), got {label_base!r}.")
    fmt = None
    if output is not None:
        fmt = OUTPUT_FORMATS.get(Path(output).suffix.lower())
        if fmt is None:
            raise ValueError(
                f"cannot tell the format of {os.fspath(output)!r} from its extension; use "
                f"{', '.join(OUTPUT_FORMATS)}."
            )
    device = _model_device(model) if device is None else torch.device(device)
    scores, targets = _run(model, loader, device, progress, input_key, target_key)
    frame, info = _table(scores, targets, activation, class_names, task, label_base)
    frame.attrs["thresholdlab"] = info
    if output is not None:
        _write(frame, Path(output), fmt)
    return frame


def _model_device(model: nn.Module) -> torch.device:
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


def _run(model, loader, device, progress, input_key, target_key):
    """float64 scores (n, K or 1-D) and targets (n, ...) as numpy, in loader order."""
    modes = [(m, m.training) for m in model.modules()]
    outs: list[torch.Tensor] = []
    ys: list[torch.Tensor] = []
    try:
        model.eval()
        with torch.inference_mode():
            for b, batch in enumerate(_progress(loader, progress)):
                x, y = _split_batch(batch, b, input_key, target_key)
                out = _unwrap_output(model(_to_device(x, device)), b)
                y = torch.as_tensor(y)
                if out.ndim == 0 or out.ndim > 2:
                    raise ValueError(
                        f"batch {b}: the model output has shape {tuple(out.shape)}; collect needs "
                        "(batch, classes), or (batch,) for a binary model."
                    )
                if y.ndim == 0 or y.shape[0] != out.shape[0]:
                    raise ValueError(
                        f"batch {b}: {out.shape[0]} model outputs but targets of shape "
                        f"{tuple(y.shape)}; each example needs its target."
                    )
                if outs and out.shape[1:] != outs[0].shape[1:]:
                    raise ValueError(
                        f"batch {b}: the model output has shape {tuple(out.shape)} but batch 0's "
                        f"had {tuple(outs[0].shape)}."
                    )
                if ys and y.shape[1:] != ys[0].shape[1:]:
                    raise ValueError(
                        f"batch {b}: targets have shape {tuple(y.shape)} but batch 0's had "
                        f"{tuple(ys[0].shape)}."
                    )
                # float64 holds every float16/bfloat16/float32 value exactly.
                outs.append(out.detach().to("cpu", torch.float64))
                ys.append(y.detach().cpu())
    finally:
        for module, training in modes:
            module.training = training
    if not outs:
        raise ValueError("the loader yielded no batches; collect needs at least one example.")
    return torch.cat(outs).numpy(), torch.cat(ys).numpy()


def _progress(loader, progress: bool | None):
    try:
        total = len(loader)
    except TypeError:
        total = None
    if progress is None:
        progress = (total is None or total > PROGRESS_MIN_BATCHES) and _stderr_is_terminal()
    if not progress:
        return loader
    from tqdm.auto import tqdm  # lazy: only a visible bar needs it

    return tqdm(loader, total=total, desc="collect", unit="batch", file=sys.stderr, leave=False)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _split_batch(batch, b: int, input_key, target_key):
    """(inputs, targets) of one batch; see :func:`collect` for the accepted shapes."""
    if isinstance(batch, Mapping):
        return (
            batch[_find_key(batch, input_key, INPUT_KEYS, "input", "input_key", b)],
            batch[_find_key(batch, target_key, TARGET_KEYS, "target", "target_key", b)],
        )
    if isinstance(batch, (tuple, list)):
        n = len(batch)
        xi = 0 if input_key is None else input_key
        yi = target_key
        if yi is None:
            if n != 2:
                raise ValueError(
                    f"batch {b} is a {type(batch).__name__} of {n} items; collect reads "
                    "(inputs, targets) pairs, so pass target_key= (and input_key=) as indices."
                )
            yi = 1
        for name, i in (("input_key", xi), ("target_key", yi)):
            if not isinstance(i, int) or not -n <= i < n:
                raise ValueError(
                    f"{name}={i!r} is not an index of batch {b}, a {type(batch).__name__} of "
                    f"{n} items."
                )
        return batch[xi], batch[yi]
    raise ValueError(
        f"batch {b} is a {type(batch).__name__}; collect needs targets: batches of (inputs, "
        "targets) or mappings such as {'x': inputs, 'y': targets}."
    )


def _find_key(batch: Mapping, key, known: tuple[str, ...], role: str, option: str, b: int):
    if key is not None:
        if key not in batch:
            raise ValueError(
                f"batch {b} has no key {key!r} ({option}); its keys are {_keys(batch)}."
            )
        return key
    found = [k for k in known if k in batch]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValueError(
            f"batch {b} has none of the {role} keys {', '.join(map(repr, known))}; its keys are "
            f"{_keys(batch)}, so name the {role} with {option}=."
        )
    raise ValueError(
        f"batch {b} has several {role} keys ({', '.join(map(repr, found))}); choose one with "
        f"{option}=."
    )


def _keys(batch: Mapping) -> str:
    return ", ".join(repr(k) for k in batch) or "none"


def _to_device(x, device: torch.device):
    if isinstance(x, torch.Tensor):
        return x.to(device)
    if isinstance(x, Mapping):
        return {k: _to_device(v, device) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # namedtuple
        return type(x)(*(_to_device(v, device) for v in x))
    if isinstance(x, (list, tuple)):
        return type(x)(_to_device(v, device) for v in x)
    return x


def _unwrap_output(out, b: int) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, Mapping) and "logits" in out:
        return out["logits"]
    if hasattr(out, "logits") and isinstance(out.logits, torch.Tensor):
        return out.logits
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    raise ValueError(
        f"batch {b}: the model returned a {type(out).__name__}; collect needs a tensor of scores "
        "(or a tuple whose first item, or a mapping / object whose 'logits', is one)."
    )


def _table(scores: np.ndarray, targets: np.ndarray, activation: str, class_names, task, label_base):
    """The DataFrame (in the format loading reads) and its info dict from collected arrays."""
    import pandas as pd  # lazy: serving code that only needs ThresholdHead never loads pandas

    k = 1 if scores.ndim == 1 else scores.shape[1]
    scores = scores.reshape(-1, k)
    task = _decide_task(k, targets, task)
    notes: list[str] = []
    if task == "multiclass" and targets.ndim == 2:
        targets = _from_one_hot(targets, k)
        notes.append("Targets are one-hot rows; each row's 1 gives its class.")
    if task == "binary":
        targets = targets.reshape(-1)

    ids = None
    if task == "multiclass":
        ids, base = _class_ids(targets, k, label_base)
    names = _class_names(class_names, k, task, base if task == "multiclass" else 0)

    if activation == "softmax":
        if task != "multiclass":
            raise ValueError(
                f"activation='softmax' needs a multi-class model with two or more outputs; this is "
                f"{task} data with {k} output column{'s' if k > 1 else ''}, so use 'sigmoid'."
            )
        values, prefix = softmax(scores), "p_"
    elif activation == "sigmoid":
        values, prefix = sigmoid(scores), "p_"
    elif activation == "none":
        values, prefix = scores, "score_"
    else:
        inside = bool(((scores >= 0) & (scores <= 1)).all())
        values, prefix = scores, ("p_" if inside else "logit_")
    if not np.isfinite(values).all():
        row, col = np.argwhere(~np.isfinite(values))[0]
        raise ValueError(
            f"the model output for example {row + 1}, class {names[col]!r}, is "
            f"{values[row, col]!r}; scores must be finite."
        )

    frame = pd.DataFrame({f"{prefix}{name}": values[:, j] for j, name in enumerate(names)})
    mapping: dict[str, str] = {}
    if task == "multiclass":
        frame["label"], mapping, label_notes = _written_labels(targets, ids, names)
        notes += label_notes
    elif task == "binary":
        frame["label"] = _binary_labels(targets)
    else:
        truth = _truth_matrix(targets, names)
        for j, name in enumerate(names):
            frame[f"y_{name}"] = truth[:, j]
    info = {"task": task, "classes": list(names), "label_mapping": mapping, "notes": notes}
    return frame, info


def _decide_task(k: int, targets: np.ndarray, task: str | None) -> str:
    two_d = targets.ndim == 2 and targets.shape[1] > 1
    if task is None:
        if k == 1:
            task = "binary"
        else:
            task = "multilabel" if two_d else "multiclass"
    if task == "binary" and k != 1:
        raise ValueError(
            f"task='binary' needs one output column (the positive class's score); the model has "
            f"{k}, so pass task='multiclass' or select the positive column in the model."
        )
    if task in ("multiclass", "multilabel") and k < 2:
        raise ValueError(
            f"task={task!r} needs one output column per class; the model has one, which is binary."
        )
    if task == "multilabel" and (targets.ndim != 2 or targets.shape[1] != k):
        raise ValueError(
            f"multi-label targets must have shape (batch, {k}), one 0/1 column per output; got "
            f"{tuple(targets.shape)}."
        )
    if task == "multiclass" and two_d and targets.shape[1] != k:
        raise ValueError(
            f"one-hot targets have {targets.shape[1]} columns but the model has {k} outputs."
        )
    if task == "binary" and targets.ndim == 2 and targets.shape[1] != 1:
        raise ValueError(f"binary targets must have shape (batch,) or (batch, 1), got {targets.shape}.")
    return task


def _from_one_hot(targets: np.ndarray, k: int) -> np.ndarray:
    hot = _zero_one(targets, "one-hot targets")
    counts = hot.sum(axis=1)
    bad = np.flatnonzero(counts != 1)
    if bad.size:
        raise ValueError(
            f"one-hot targets need exactly one 1 per row; example {bad[0] + 1} has "
            f"{int(counts[bad[0]])}."
        )
    return np.argmax(hot, axis=1)


def _integers(values: np.ndarray, what: str) -> np.ndarray:
    values = np.asarray(values).reshape(-1)
    if values.dtype == bool:
        return values.astype(np.int64)
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    if np.issubdtype(values.dtype, np.floating):
        bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
        if bad.size:
            raise ValueError(
                f"{what} must be whole numbers; example {bad[0] + 1} has {values[bad[0]]!r}."
            )
        return values.astype(np.int64)
    raise ValueError(f"{what} must be numbers, got dtype {values.dtype}.")


def _zero_one(values: np.ndarray, what: str) -> np.ndarray:
    """bool array of 0/1 targets; ValueError naming the first example that is not 0 or 1."""
    values = np.asarray(values)
    if values.dtype == bool:
        return values
    ok = (values == 0) | (values == 1)
    if not ok.all():
        row, *col = np.argwhere(~ok)[0]
        where = f"example {row + 1}" + (f", column {col[0]}" if col else "")
        raise ValueError(f"{what} must be 0 or 1; {where} has {values[(row, *col)]!r}.")
    return values == 1


def _class_ids(targets: np.ndarray, k: int, label_base: int | None) -> tuple[np.ndarray, int]:
    labels = _integers(targets, "multi-class targets")
    if label_base is None:
        # As loading reads labels: within 1..K with no 0 they are 1-based.
        label_base = 1 if labels.size and labels.min() >= 1 and labels.max() <= k else 0
    ids = labels - label_base
    bad = np.flatnonzero((ids < 0) | (ids >= k))
    if bad.size:
        lo, hi = label_base, label_base + k - 1
        raise ValueError(
            f"target {labels[bad[0]]} of example {bad[0] + 1} is not a class number {lo}..{hi} "
            f"of the model's {k} outputs; labels must count from 0 or from 1 (label_base)."
        )
    return ids, label_base


def _class_names(class_names, k: int, task: str, base: int) -> list[str]:
    if class_names is None:
        if task == "binary":
            return ["positive"]
        return [f"class_{base + j}" for j in range(k)]
    if isinstance(class_names, str):
        raise ValueError("class_names must be a sequence of names, not one string.")
    names = [str(c) for c in class_names]
    if len(names) != k:
        what = "1 name (the positive class)" if task == "binary" else f"{k} names, one per output"
        raise ValueError(f"class_names has {len(names)} names but the model needs {what}.")
    if any(not n for n in names):
        raise ValueError("class_names must not be empty strings.")
    if len(set(names)) != len(names):
        dup = next(n for i, n in enumerate(names) if n in names[:i])
        raise ValueError(f"class_names lists {dup!r} more than once.")
    return names


def _written_labels(labels: np.ndarray, ids: np.ndarray, names: list[str]):
    """(label column, label mapping, notes): the labels as given, unless loading would misread."""
    import pandas as pd

    from thresholdlab.loading import map_labels

    labels = _integers(labels, "multi-class targets")
    try:
        read, mapping, notes = map_labels(pd.Series(labels), names, file="collect", where="label")
        same = np.array_equal(read, ids)
    except DataError:
        same = False
    if same:
        return labels, mapping, list(notes)
    written = np.asarray(names, dtype=object)[ids]
    mapping = {str(v): names[i] for v, i in sorted(set(zip(labels.tolist(), ids.tolist())))}
    shown = ", ".join(f"{a} -> {b}" for a, b in list(mapping.items())[:10])
    note = (
        f"Labels are written as class names ({shown}): as numbers, loading would read them "
        "another way (the loader reads labels 1..K with no 0 as 1-based)."
    )
    return written, mapping, [note]


def _binary_labels(targets: np.ndarray) -> np.ndarray:
    values = _integers(targets, "binary targets")
    present = set(np.unique(values).tolist())
    if present <= {0, 1} or present <= {-1, 1}:
        return values
    bad = np.flatnonzero(~np.isin(values, [0, 1]))[0]
    raise ValueError(
        f"binary targets must be 0/1 (or True/False, or -1/1); example {bad + 1} has {values[bad]}."
    )


def _truth_matrix(targets: np.ndarray, names: list[str]) -> np.ndarray:
    """int8 (n, K) 0/1 multi-label truth; ValueError naming the first example and class that is
    not 0 or 1 (soft or smoothed labels have no place in a validation set's truth)."""
    targets = np.asarray(targets)
    if targets.dtype != bool:
        ok = (targets == 0) | (targets == 1)
        if not ok.all():
            row, col = np.argwhere(~ok)[0]
            raise ValueError(
                f"multi-label targets must be 0 or 1; example {row + 1}, class {names[col]!r}, "
                f"has {targets[row, col]!r}."
            )
    return (targets == 1).astype(np.int8)


def _write(frame, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        # float_format=None: pandas writes repr(float), the shortest text that reads back as
        # the same float64, so thresholds chosen on the file reproduce on the live model.
        frame.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")
