"""PyTorch in and out: collect a model's validation scores, serve chosen thresholds as a module.

Two halves of one loop:

* :func:`collect` runs a model over a ``DataLoader`` and returns its scores and the true labels as
  a table in the format ThresholdLab reads (``logit_<class>`` or ``p_<class>`` score columns, a
  ``label`` column or ``y_<class>`` truth columns), optionally written to CSV or Parquet for
  ``thresholdlab optimize`` or the dashboard.
* :class:`ThresholdHead` is an ``nn.Module`` that applies a threshold config to the
  model's raw outputs, so ``nn.Sequential(model, ThresholdHead(config))`` serves decisions. It
  runs eagerly, under ``torch.jit.script`` and ``torch.export``, on CPU and CUDA.

Only this module imports torch; ``import thresholdlab`` does not.

How exactly ThresholdHead matches :func:`thresholdlab.config.apply`
-------------------------------------------------------------------
``apply`` on numpy arrays is the reference: float64, ``probability >= threshold``, ties to the
lowest class index (``apply`` on tensors runs the eager head itself).
The head computes in float64 too and mirrors numpy step by step (the same max shift, the same
pairwise summation order as ``numpy.sum``, the same sigmoid branches), so:

* probability configs (``activation: none``): identical decisions, always.
* sigmoid configs (binary, multi-label logits): identical threshold decisions, always, on any
  device: each probability threshold is turned, once, into the exact set of float64 logits whose
  numpy sigmoid reaches it (a boundary plus the few logits where float64 sigmoid is not
  monotone), so no ``exp`` is evaluated to decide.
* softmax configs (multi-class logits): ``exp`` differs between numpy and torch (and between
  torch's CPU and CUDA kernels) in the last bit for a few percent of inputs. A row's decision can
  only change where a probability lies within about 1e-15 (relative) of its threshold or of
  another class's probability without being tied with it. The eager head (``exact=True``, the
  default) recomputes exactly those rows with numpy, so it always equals ``apply``; a scripted or
  exported head cannot call numpy and may differ on such rows. Thresholds chosen by ``thresholdlab
  optimize`` are midpoints between distinct scores, never within 1e-15 of one.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import List, Optional

import numpy as np
import torch
from torch import nn

from thresholdlab.config import ThresholdConfig, apply
from thresholdlab.predictions import DataError, sigmoid, softmax

__all__ = ["INPUT_KEYS", "TARGET_KEYS", "ThresholdHead", "collect"]

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


# --------------------------------------------------------------------------------------------
# ThresholdHead
# --------------------------------------------------------------------------------------------

# numpy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src): blocks of at most
# PW_BLOCKSIZE elements are summed with 8 accumulators; longer runs are split in two.
_PW_BLOCKSIZE = 128

# Rows the eager head re-decides with numpy: a probability this close (relative) to its threshold
# or to the row's winner could land on the other side with a last-bit different exp (torch's
# float64 exp differs from numpy's by up to 1 ulp). The slack covers K up to ~10**6 classes.
_REL_SLACK = 1e-9
_ABS_SLACK = 1e-300  # exp underflowing to subnormals loses relative precision

# How many float64 steps either side of a sigmoid boundary are checked for non-monotone spots.
_WINDOW = 512
_MAX_WINDOW = 2**16


class ThresholdHead(nn.Module):
    """Apply a threshold config to a model's raw outputs: decisions as a tensor.

    ``nn.Sequential(model, ThresholdHead(config))`` turns logits into decisions that equal
    ``thresholdlab.apply(config, logits)``.

    Parameters
    ----------
    config : ThresholdConfig or path of a config JSON file
    exact : bool, default True
        Eager mode only: re-decide with numpy the rare rows whose softmax decision hangs on the
        last bit of ``exp`` (see the module docstring), so decisions always equal ``apply``. Costs
        one device-to-host sync per call. Scripted and exported heads never do this.

    Input
    -----
    scores : Tensor, any float dtype, on any device
        The model's outputs in the config's ``score_kind``, columns in ``config.classes`` order:
        (n, K) for multi-class and multi-label, (n,) or (n, 1) for binary. Finite values only:
        the head does not check (a data-dependent check cannot be exported), and the decisions
        of a row holding NaN or infinity are unspecified; ``thresholdlab.apply`` validates.

    Output
    ------
    Tensor on the input's device
        Multi-class: ``torch.long`` (n,), the class index, or -1 for no prediction.
        Binary and multi-label: ``torch.bool`` multi-hot, (n, K) (binary: the input's shape).

    Attributes
    ----------
    classes : list of str
        Class names, in output-column order.
    thresholds : Tensor float64 (K,), buffer
        The config's probability thresholds.
    logit_boundaries : Tensor float64 (K,), buffer
        Sigmoid configs: the smallest float64 logit whose numpy sigmoid reaches the threshold
        (-inf for a threshold of 0). Unused (zeros) otherwise.
    logit_exceptions : Tensor float64 (K, M), buffer
        Sigmoid configs: logits near the boundary whose decision is the opposite of
        ``logit >= boundary`` because float64 sigmoid is not monotone there; NaN padding.

    Notes
    -----
    Calibration: a config's ``calibration`` section runs in :meth:`calibrate` (the submodule
    ``calibrator``, a :class:`~thresholdlab.calibration_torch.CalibrationLayer`) on the raw scores,
    in eager, scripted and exported heads alike; its output goes through the activation the
    calibration implies (``activation`` then names it). The eager re-decision hands the raw rows
    to ``apply``, which calibrates them in numpy.
    """

    def __init__(self, config: ThresholdConfig | str | os.PathLike, *, exact: bool = True):
        super().__init__()
        if not isinstance(config, ThresholdConfig):
            config = ThresholdConfig.load(config)
        from thresholdlab.calibration_torch import CalibrationLayer

        calibration = getattr(config, "calibration", None)
        self.calibrator = CalibrationLayer(calibration, len(config.classes))
        self.task = config.task
        # With a calibration, what turns its output into probabilities (softmax, sigmoid, none).
        self.activation = (
            config.activation if calibration is None else calibration.output_activation
        )
        self.rule = config.decision_rule
        self.no_prediction = config.no_prediction
        self.classes: List[str] = list(config.classes)
        self.n_classes = len(config.classes)
        self.exact = bool(exact)
        # Decisions that read probabilities computed with exp: softmax, and the top label that
        # at_least_one adds from sigmoid probabilities. Only these can need numpy's last bit.
        self._uses_exp = self.activation == "softmax" or self.calibrator.uses_exp or (
            self.activation == "sigmoid" and self.no_prediction == "at_least_one"
        )
        self._config = config  # eager re-decision only; never touched by scripted code
        t = np.array([config.thresholds[c] for c in config.classes], dtype=np.float64)
        self.register_buffer("thresholds", torch.from_numpy(t.copy()))
        if self.activation == "sigmoid":
            boundaries, exceptions = _sigmoid_boundaries(t)
        else:
            boundaries, exceptions = np.zeros_like(t), np.full((len(t), 1), np.nan)
        self.register_buffer("logit_boundaries", torch.from_numpy(boundaries))
        self.register_buffer("logit_exceptions", torch.from_numpy(exceptions))
        self._sum_plan: List[List[int]] = _pairwise_plan(self.n_classes)
        # The cost-matrix rule (multi-class): costs[i, j] of predicting j when the truth is i.
        matrix = getattr(config, "cost_matrix", None)
        k = self.n_classes
        costs = np.zeros((k, k)) if matrix is None else np.asarray(matrix.matrix, dtype=np.float64)
        abstain = math.inf if matrix is None or matrix.abstain_cost is None else matrix.abstain_cost
        self.register_buffer("costs", torch.from_numpy(costs.copy()))
        self.register_buffer("abstain_cost", torch.tensor([abstain], dtype=torch.float64))

    def _apply(self, fn, recurse=True):
        # Thresholds stay float64 whatever the model around the head is cast to: a model-wide
        # .half() or .to(torch.float32) would round them and change decisions. Devices move.
        kept = dict(self.named_buffers(recurse=False))
        super()._apply(fn, recurse)
        for name, old in kept.items():
            new = getattr(self, name)
            if new.dtype != torch.float64:
                setattr(self, name, old.to(device=new.device))
        return self

    def extra_repr(self) -> str:
        shown = ", ".join(self.classes[:5]) + (", ..." if self.n_classes > 5 else "")
        return (
            f"task={self.task}, classes=[{shown}], activation={self.activation}, "
            f"rule={self.rule}, no_prediction={self.no_prediction}, "
            f"calibration={self.calibrator.method}"
        )

    # ---------------------------------------------------------------------------- forward
    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        raw = self._as_matrix(scores)
        x = self.calibrate(raw)
        if self.activation == "none":
            # Probabilities a rounding error outside [0, 1] are clipped, as loading and
            # ``apply`` clip them; in-range scores are unchanged.
            x = x.clamp(0.0, 1.0)
        if self.task == "multiclass":
            # Computed once here: the eager exactness check below needs the same probabilities.
            p = self._softmax(x) if self.activation == "softmax" else x
            out = self._multiclass(x, p)
        else:
            p = x
            out = self._multihot(x)
        if not torch.jit.is_scripting():
            if self.exact and self._uses_exp and not _tracing():
                out = self._redecide_unsure(raw, x, p, out)
        if self.task == "binary":
            out = out.reshape(scores.shape)
        return out

    def calibrate(self, x: torch.Tensor) -> torch.Tensor:
        """The config's calibration of raw scores (identity without one): calibrated logits, or
        probabilities divided by their row sum in numpy's order where the calibration says so."""
        x = self.calibrator(x)
        if self.calibrator.renormalise:
            s = self._numpy_sum(x)
            x = torch.where(s != 0, x / s, torch.full_like(x, 1.0 / self.n_classes))
        return x

    def _as_matrix(self, scores: torch.Tensor) -> torch.Tensor:
        """float64 (n, K) view of the scores; ValueError when the shape does not fit."""
        if self.task == "binary":
            if scores.dim() == 1:
                return scores.to(torch.float64).unsqueeze(1)
            if scores.dim() != 2 or scores.shape[1] != 1:
                raise ValueError(
                    "scores for a binary ThresholdHead must have shape (n,) or (n, 1): pass the "
                    "positive class's column only"
                )
        elif scores.dim() != 2 or scores.shape[1] != self.n_classes:
            raise ValueError(
                "scores must have shape (n, " + str(self.n_classes) + "), one column per class "
                "in the config's order"
            )
        return scores.to(torch.float64)

    def _multiclass(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """Mirror of ``decisions.decide`` for multi-class rules; long (n,). ``p``: probabilities."""
        if self.rule == "cost_matrix":
            return self._least_cost(p)
        passing = p >= self.thresholds.unsqueeze(0)
        top = _first_max(x, p)
        none = torch.full_like(top, -1)
        if self.rule == "argmax":
            chosen = torch.where(passing.gather(1, top.unsqueeze(1)).squeeze(1), top, none)
        else:  # threshold_argmax: the most probable class among those passing their threshold
            low = torch.full_like(p, -math.inf)
            best = _first_max(torch.where(passing, x, low), torch.where(passing, p, low))
            chosen = torch.where(passing.any(dim=1), best, none)
        if self.no_prediction == "fallback_argmax":
            chosen = torch.where(chosen == -1, top, chosen)
        return chosen

    def _expected_costs(self, p: torch.Tensor) -> torch.Tensor:
        """``CostMatrix.expected_costs``: summed over the true class in order, (n, K)."""
        out = p[:, 0:1] * self.costs[0].unsqueeze(0)
        for i in range(1, self.n_classes):
            out = out + p[:, i : i + 1] * self.costs[i].unsqueeze(0)
        return out

    def _least_cost(self, p: torch.Tensor) -> torch.Tensor:
        """``CostMatrix.decide``: least expected cost (first on ties), -1 where abstaining
        costs strictly less."""
        expected = self._expected_costs(p)
        least, best = torch.min(expected, dim=1)
        # torch.min's index on ties is not promised to be the first; argmax of "is the least" is.
        best = torch.argmax((expected == least.unsqueeze(1)).to(torch.int32), dim=1)
        return torch.where(self.abstain_cost < least, torch.full_like(best, -1), best)

    def _multihot(self, x: torch.Tensor) -> torch.Tensor:
        """Mirror of ``decisions.decide`` for binary and multi-label; bool (n, K)."""
        if self.activation == "sigmoid":
            passing = x >= self.logit_boundaries.unsqueeze(0)
            flipped = (x.unsqueeze(2) == self.logit_exceptions.unsqueeze(0)).any(dim=2)
            passing = passing ^ flipped
        else:
            passing = x >= self.thresholds.unsqueeze(0)
        if self.no_prediction == "at_least_one":
            p = _sigmoid(x) if self.activation == "sigmoid" else x
            top = _first_max(x, p)
            classes = torch.arange(self.n_classes, device=x.device).unsqueeze(0)
            empty = ~passing.any(dim=1, keepdim=True)
            passing = passing | (empty & (classes == top.unsqueeze(1)))
        return passing

    def _softmax(self, x: torch.Tensor) -> torch.Tensor:
        """``predictions.softmax`` step by step: max shift, exp, numpy's summation order."""
        z = x - x.max(dim=1, keepdim=True).values
        e = torch.exp(z)
        return e / self._numpy_sum(e)

    def _numpy_sum(self, e: torch.Tensor) -> torch.Tensor:
        """Row sums (n, 1) added in exactly the order ``numpy.sum(axis=1)`` adds them."""
        stack: List[torch.Tensor] = []
        for step in self._sum_plan:
            if step[0] == 0:
                stack.append(_block_sum(e, step[1], step[2]))
            else:
                right = stack.pop()
                left = stack.pop()
                stack.append(left + right)
        return stack[0]

    # ---------------------------------------------------------------- eager exactness
    @torch.jit.unused
    def _redecide_unsure(
        self, raw: torch.Tensor, x: torch.Tensor, p: torch.Tensor, out: torch.Tensor
    ) -> torch.Tensor:
        """Re-decide with ``thresholdlab.apply`` (numpy) the rows a last-bit exp could flip.

        ``raw``: the scores as given; ``x``: after :meth:`calibrate`; ``p``: probabilities."""
        unsure = self._unsure_rows(x, p if self.task == "multiclass" else None)
        if not bool(unsure.any()):
            return out
        rows = torch.nonzero(unsure).squeeze(1)
        exact = apply(self._config, raw.index_select(0, rows).cpu().numpy())
        out = out.clone()
        out[rows] = torch.from_numpy(np.asarray(exact)).to(out.device).reshape(-1, *out.shape[1:])
        return out

    @torch.jit.unused
    def _unsure_rows(self, x: torch.Tensor, p: Optional[torch.Tensor] = None) -> torch.Tensor:
        """bool (n,): rows whose decision could change if a probability moved by a few ulps.

        ``p``: the multi-class probabilities of ``x`` when already computed."""
        t = self.thresholds.unsqueeze(0)
        if self.rule == "cost_matrix":
            if p is None:
                p = self._softmax(x)
            # Rows whose two least costs (abstaining included) lie within a few ulps.
            expected = torch.cat([self._expected_costs(p), self.abstain_cost.expand(p.shape[0], 1)], 1)
            low = torch.topk(expected, 2, dim=1, largest=False).values
            scale = _REL_SLACK * low[:, 1:2].abs() + _ABS_SLACK
            return (low[:, 1:2] - low[:, 0:1] <= 2 * scale).squeeze(1)
        if self.activation == "sigmoid":
            if self.no_prediction != "at_least_one":
                return torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
            p = _sigmoid(x)
            # Threshold decisions are exact (logit boundaries); only the top label of rows with
            # nothing passing uses probabilities.
            nothing = ~self._multihot_plain(x).any(dim=1)
            return nothing & _near_winner(x, p)
        if p is None:
            p = self._softmax(x)
        slack = _REL_SLACK * p + _ABS_SLACK
        near_t = (p - t).abs() <= torch.maximum(slack, _REL_SLACK * t + _ABS_SLACK)
        unsure = near_t.any(dim=1) | _near_winner(x, p)
        if self.rule == "threshold_argmax":
            passing = p >= t
            low = torch.full_like(p, -math.inf)
            unsure |= _near_winner(torch.where(passing, x, low), torch.where(passing, p, low)) & (
                passing.any(dim=1)
            )
        return unsure

    @torch.jit.unused
    def _multihot_plain(self, x: torch.Tensor) -> torch.Tensor:
        passing = x >= self.logit_boundaries.unsqueeze(0)
        return passing ^ (x.unsqueeze(2) == self.logit_exceptions.unsqueeze(0)).any(dim=2)


def _tracing() -> bool:
    """True while torch.export / torch.compile / torch.jit.trace records the forward pass."""
    compiler = getattr(torch, "compiler", None)
    if compiler is not None:
        if compiler.is_compiling():
            return True
        is_exporting = getattr(compiler, "is_exporting", None)
        if is_exporting is not None and is_exporting():
            return True
    return torch.jit.is_tracing()


def _first_max(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """long (n,): the lowest class index with the row's largest probability (``np.argmax``).

    Equal raw scores always tie, even when torch's exp returns different last bits for equal
    inputs (its vectorised body and scalar tail differ); otherwise the largest raw score wins,
    together with any lower class whose probability rounds to the same value.
    """
    i = torch.argmax(x, dim=1, keepdim=True)
    x_top = x.gather(1, i)
    p_top = p.gather(1, i)
    tied = (x == x_top) | (p >= p_top)
    return torch.argmax(tied.to(torch.int32), dim=1)


def _near_winner(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """bool (n,): some class other than an exact tie lies within a few ulps of the top p."""
    i = torch.argmax(p, dim=1, keepdim=True)
    p_top = p.gather(1, i)
    x_top = x.gather(1, i)
    near = (p_top - p <= 2 * (_REL_SLACK * p_top.abs() + _ABS_SLACK)) & (
        (x != x_top) | (p != p_top)
    )
    return near.any(dim=1)


def _sigmoid(x: torch.Tensor) -> torch.Tensor:
    """``predictions.sigmoid`` in torch ops: the branch that cannot overflow for each sign."""
    pos = x >= 0
    ex = torch.exp(torch.where(pos, -x, x))
    return torch.where(pos, 1.0 / (1.0 + ex), ex / (1.0 + ex))


def _block_sum(e: torch.Tensor, start: int, n: int) -> torch.Tensor:
    """numpy's pairwise_sum of columns ``start:start+n`` (n <= 128) of each row; (rows, 1)."""
    if n < 8:
        s = e[:, start : start + 1]
        for i in range(start + 1, start + n):
            s = s + e[:, i : i + 1]
        return s
    r = e[:, start : start + 8]
    i = 8
    while i < n - n % 8:
        r = r + e[:, start + i : start + i + 8]
        i += 8
    s = ((r[:, 0:1] + r[:, 1:2]) + (r[:, 2:3] + r[:, 3:4])) + (
        (r[:, 4:5] + r[:, 5:6]) + (r[:, 6:7] + r[:, 7:8])
    )
    while i < n:
        s = s + e[:, start + i : start + i + 1]
        i += 1
    return s


def _pairwise_plan(n: int, start: int = 0) -> List[List[int]]:
    """Post-order steps of numpy's pairwise sum over n columns: [0, start, n] sums a block,
    [1, 0, 0] adds the two latest results (scripted code cannot recurse, so the tree is flat)."""
    if n <= _PW_BLOCKSIZE:
        return [[0, start, n]]
    half = n // 2
    half -= half % 8
    return _pairwise_plan(half, start) + _pairwise_plan(n - half, start + half) + [[1, 0, 0]]


# ------------------------------------------------------------------- sigmoid boundaries
def _sigmoid_boundaries(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact logit form of ``sigmoid(x) >= t`` for each class, with numpy's own sigmoid.

    Returns ``boundaries`` (K,) and ``exceptions`` (K, M, NaN-padded) such that, for every
    float64 x checked, ``sigmoid(x) >= t[k]`` equals ``(x >= boundaries[k]) != (x in
    exceptions[k])``. float64 sigmoid is monotone except for single-ulp dips (``ex / (1 + ex)``
    rounds its numerator and denominator separately), so a bisection finds the crossing and a
    window around it is scanned for dips; a window is widened until its ends are clean.
    """
    boundaries = np.empty_like(t)
    exceptions: list[np.ndarray] = []
    for k, tk in enumerate(t.tolist()):
        if tk <= 0.0:  # every probability is >= 0
            boundaries[k] = -np.inf
            exceptions.append(np.empty(0))
            continue
        key = _bisect(tk)
        window = _WINDOW
        while True:
            keys = np.arange(key - window, key + window + 1, dtype=np.int64)
            xs = _from_key(keys)
            passes = sigmoid(xs) >= tk
            clean = not passes[:16].any() and passes[-16:].all()
            if clean or window >= _MAX_WINDOW:
                break
            window *= 8
        if not clean:
            warnings.warn(
                f"ThresholdHead: sigmoid is not monotone within {window} float64 steps of the "
                f"logit threshold for class {k}; a logit that far from it could be decided "
                "differently from thresholdlab.apply.",
                RuntimeWarning,
                stacklevel=3,
            )
        fails = np.flatnonzero(~passes)
        first = fails[-1] + 1 if fails.size else 0  # every window point from here passes
        boundaries[k] = xs[first]
        exceptions.append(xs[:first][passes[:first]])
    m = max(1, max(len(e) for e in exceptions))
    table = np.full((len(t), m), np.nan)
    for k, e in enumerate(exceptions):
        table[k, : len(e)] = e
    return boundaries, table


_MAX_FINITE_KEY = int(np.array(np.finfo(np.float64).max).view(np.int64))


def _from_key(keys: np.ndarray) -> np.ndarray:
    """float64 values of order keys: a key is the value's bit pattern, negated for negatives,
    so keys order as the values do and consecutive keys are consecutive floats."""
    keys = np.clip(keys, -_MAX_FINITE_KEY, _MAX_FINITE_KEY)
    magnitude = np.abs(keys).view(np.float64)
    return np.where(keys < 0, -magnitude, magnitude)


def _bisect(t: float) -> int:
    """Key of a float64 x with sigmoid(x) >= t and sigmoid(previous float) < t (0 < t <= 1)."""
    lo, hi = -_MAX_FINITE_KEY, _MAX_FINITE_KEY  # sigmoid: 0 < t at lo, 1 >= t at hi
    while hi - lo > 1:  # Python ints: no overflow
        mid = (lo + hi) // 2
        if sigmoid(_from_key(np.array([mid], dtype=np.int64)))[0] >= t:
            hi = mid
        else:
            lo = mid
    return hi
